"""Research claims of the CoMM paper, checked on the ``xor`` experiment over several seeds.

Every objective is pre-trained with its default hyper-parameters on the shipped ``xor`` config under two
protocols (as the paper's Trifeature experiments, spec 4.2-4.3, transposed to bits):

* ``unbiased``: pre-training on the evaluation distribution; measures redundancy and uniqueness;
* ``biased``: pre-training with ``generator.params.bias`` (s2 = s1 with that probability), the synergy
  protocol; probes always use the unbiased generator.

The supervised objective is trained on the synergy target (unbiased) as the ceiling. The script prints the
mean (over seeds) capture, floor (epoch-0 capture) and balanced accuracy per protocol, objective and term,
then PASS/FAIL for each claim; the thresholds are fixed here and never tuned:

1. every self-supervised objective keeps redundancy (capture >= 0.9, unbiased);
2. Cross does not learn uniqueness: for U1 and U2 its capture is <= its floor + 0.05 and at least 0.2 below
   Cross+Self's and CoMM's; Cross+Self and CoMM end at least 0.1 above their floors (unbiased);
3. Cross and Cross+Self hold no synergy (capture <= 0.05); CoMM captures it (capture >= 0.15 and balanced
   accuracy >= 65 %, and at least 0.1 more capture than Cross+Self), all in the biased protocol;
4. supervised on the synergy target: synergy capture >= 0.9.

FactorCL and SimCLR are reported as they come. Runs are written under ``--out`` and resumed, so a rerun
only trains what is missing.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/research_claims.py --workers 2 --out runs/research_claims
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

SSL_OBJECTIVES = ("comm", "cross", "cross_self", "simclr", "factorcl")
UNIQUE = ("unique_1", "unique_2")


def plan(seeds: list[int], bias: float) -> list[tuple[str, str, int, list[str]]]:
    """``(protocol, objective, seed, overrides)`` of every run."""
    protocols = {"unbiased": ["generator.params.bias=0.0"], "biased": [f"generator.params.bias={bias}"]}
    jobs = []
    for protocol, extra in protocols.items():
        for objective in SSL_OBJECTIVES:
            jobs += [(protocol, objective, s, [f"objective.name={objective}", *extra]) for s in seeds]
    sup = ["objective.name=supervised", "objective.params.target=synergy", *protocols["unbiased"]]
    jobs += [("unbiased", "supervised", s, sup) for s in seeds]
    return jobs


def _one(job: tuple, config: str, extra: list[str], out: Path, threads: int) -> pd.DataFrame:
    import torch

    from interactions import run

    torch.set_num_threads(threads)
    protocol, objective, seed, overrides = job
    start = time.perf_counter()
    result = run(
        config,
        [*overrides, *extra],
        seed=seed,
        out=out / protocol / objective / f"seed{seed}",
        progress=False,
    )
    cap = result.capture[["term", "capture", "floor", "balanced_accuracy", "bits", "true_bits"]].copy()
    cap.insert(0, "seed", seed)
    cap.insert(0, "objective", objective)
    cap.insert(0, "protocol", protocol)
    print(
        f"  {protocol:<9}{objective:<11}seed {seed}: {time.perf_counter() - start:6.1f} s "
        f"(trained {result.elapsed_s:.1f} s)",
        flush=True,
    )
    return cap


def check_claims(mean: pd.DataFrame) -> list[tuple[str, bool, str]]:
    """``(claim, passed, numbers)`` for each claim, from the per-(protocol, objective, term) means."""

    def get(protocol: str, objective: str, term: str, col: str = "capture") -> float:
        return float(mean.loc[(protocol, objective, term), col])

    out = []
    vals = {o: get("unbiased", o, "redundancy") for o in SSL_OBJECTIVES}
    out.append(
        (
            "every objective keeps redundancy (capture >= 0.9)",
            all(v >= 0.9 for v in vals.values()),
            ", ".join(f"{o} {v:.2f}" for o, v in vals.items()),
        )
    )

    for term in UNIQUE:
        cross, cross_floor = get("unbiased", "cross", term), get("unbiased", "cross", term, "floor")
        cs, comm = get("unbiased", "cross_self", term), get("unbiased", "comm", term)
        ok = cross <= cross_floor + 0.05 and cross <= cs - 0.2 and cross <= comm - 0.2
        out.append(
            (
                f"Cross does not learn {term} (<= floor + 0.05, >= 0.2 below Cross+Self and CoMM)",
                ok,
                f"cross {cross:.2f} (floor {cross_floor:.2f}), cross_self {cs:.2f}, comm {comm:.2f}",
            )
        )
        for o in ("cross_self", "comm"):
            cap, floor = get("unbiased", o, term), get("unbiased", o, term, "floor")
            out.append(
                (
                    f"{o} learns {term} (capture >= floor + 0.1)",
                    cap >= floor + 0.1,
                    f"{cap:.2f} vs floor {floor:.2f}",
                )
            )

    for o in ("cross", "cross_self"):
        cap = get("biased", o, "synergy")
        out.append((f"{o} holds no synergy (capture <= 0.05, biased)", cap <= 0.05, f"{cap:.3f}"))
    comm, acc = get("biased", "comm", "synergy"), get("biased", "comm", "synergy", "balanced_accuracy")
    cs = get("biased", "cross_self", "synergy")
    out.append(
        (
            "CoMM captures synergy (capture >= 0.15, balanced accuracy >= 0.65, biased)",
            comm >= 0.15 and acc >= 0.65,
            f"capture {comm:.2f}, balanced accuracy {acc:.2f}",
        )
    )
    out.append(
        (
            "CoMM synergy >= Cross+Self synergy + 0.1 (biased)",
            comm >= cs + 0.1,
            f"comm {comm:.2f}, cross_self {cs:.2f}",
        )
    )
    sup = get("unbiased", "supervised", "synergy")
    out.append(("supervised on the synergy target: capture >= 0.9", sup >= 0.9, f"{sup:.2f}"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="xor")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--bias", type=float, default=0.8, help="pre-training bias of the synergy protocol")
    parser.add_argument("--set", action="append", default=[], help="extra overrides for every run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="runs/research_claims")
    args = parser.parse_args(argv)

    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    jobs = plan(seeds, args.bias)
    print(
        f"{len(jobs)} runs of config {args.config!r} (seeds {seeds}, bias {args.bias}) into {out}", flush=True
    )
    start = time.perf_counter()
    threads = (
        1 if args.workers > 1 else max(1, int(os.environ.get("OMP_NUM_THREADS", "0")) or os.cpu_count() or 1)
    )
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
            frames = list(pool.map(_one, jobs, *zip(*[(args.config, args.set, out, threads)] * len(jobs))))
    else:
        frames = [_one(job, args.config, args.set, out, threads) for job in jobs]
    table = pd.concat(frames, ignore_index=True)
    print(f"done in {time.perf_counter() - start:.0f} s")

    mean = table.groupby(["protocol", "objective", "term"], sort=False)[
        ["capture", "floor", "balanced_accuracy"]
    ].mean()
    std = table.groupby(["protocol", "objective", "term"], sort=False)["capture"].std()
    shown = mean.assign(capture_sd=std)[["capture", "capture_sd", "floor", "balanced_accuracy"]]
    with pd.option_context("display.width", 140, "display.max_rows", 200):
        print(shown.round(3).to_string())
    claims = check_claims(mean)
    print()
    for claim, passed, numbers in claims:
        print(f"{'PASS' if passed else 'FAIL'}  {claim}: {numbers}")
    failed = sum(not p for _, p, _ in claims)
    print(f"\n{len(claims) - failed}/{len(claims)} claims pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
