"""Research claims of the CoMM paper, checked on the ``xor`` experiment as verdicts over seeds.

Every objective is pre-trained with its default hyper-parameters on the shipped ``xor`` config under the
paper's two protocols (its Trifeature experiments, spec 4.2-4.3, transposed to bits):

* ``unbiased``: pre-training on the evaluation distribution; measures redundancy and uniqueness;
* ``biased``: pre-training with ``generator.params.bias`` (s2 = s1 with that probability, 0.8 by default),
  the synergy protocol; probes always use the unbiased generator.

The supervised objective is trained on the synergy target (unbiased) as the ceiling. Each run's final
capture and its floor (epoch-0 capture) go through ``reports.verdicts``: per protocol, objective and term,
"learned in k of n seeds" (capture >= 0.9), "dropped" for a term the objective should lose (capture <=
its floor + 0.05), the median and a bootstrap 95 % interval. The script prints that table, then PASS/FAIL
for each claim, and **exits 1 when a claim fails** (0 otherwise). A claim holds only when it holds in every
seed (k = n); the thresholds are fixed here and never tuned:

1. every self-supervised objective learns redundancy (unbiased);
2. Cross drops U1 and U2 (unbiased);
3. Cross+Self and CoMM learn U1 and U2 (unbiased);
4. Cross and Cross+Self drop synergy (biased);
5. CoMM captures synergy in every seed: capture >= 0.15 and balanced accuracy >= 0.65, and its median
   capture is at least 0.1 above Cross+Self's (biased);
6. supervised training on the synergy target learns it (unbiased).

FactorCL and SimCLR are reported as they come. Runs are written under ``--out`` and resumed, so a rerun
only trains what is missing; the per-run final values go to ``--out/final.csv`` and the verdicts to
``--out/verdicts.csv``. Compare two disjoint seed sets with ``--seeds 0-4`` and ``--seeds 100-104``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/research_claims.py --workers 2 --out runs/research_claims
    python benchmarks/research_claims.py --seeds 100-104 --workers 2 --out runs/research_claims
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

from reports.verdicts import DEFAULT_THRESHOLD, verdict_cells, verdict_legend, wide_verdicts

SSL_OBJECTIVES = ("comm", "cross", "cross_self", "simclr", "factorcl")
UNIQUE = ("unique_1", "unique_2")
#: The supervised ceiling is trained on this target, so it is expected to keep it.
EXPECTATIONS = {"supervised": {"synergy": "keep"}}
#: Claim 5's fixed thresholds (CoMM synergy in the biased protocol).
SYNERGY_CAPTURE, SYNERGY_ACCURACY, SYNERGY_MARGIN = 0.15, 0.65, 0.1
FINAL_COLUMNS = ("protocol", "objective", "seed", "term", "capture", "floor", "balanced_accuracy")


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
    cap = result.capture[["term", "capture", "floor", "balanced_accuracy"]].copy()
    cap.insert(0, "seed", seed)
    cap.insert(0, "objective", objective)
    cap.insert(0, "protocol", protocol)
    print(
        f"  {protocol:<9}{objective:<11}seed {seed}: {time.perf_counter() - start:6.1f} s "
        f"(trained {result.elapsed_s:.1f} s)",
        flush=True,
    )
    return cap


def judge(final: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The verdict table (``reports.verdicts.verdict_cells``) per protocol, objective and term."""
    return verdict_cells(final, by=["protocol", "objective"], threshold=threshold, expectations=EXPECTATIONS)


def check_claims(cells: pd.DataFrame, final: pd.DataFrame) -> list[tuple[str, bool, str]]:
    """``(claim, passed, numbers)`` for each claim, from the verdict table and the per-seed final values.

    Raises:
        ValueError: a protocol/objective/term the claims need is missing from ``cells``.
    """
    table = cells.set_index(["protocol", "objective", "term"])

    def cell(protocol: str, objective: str, term: str) -> pd.Series:
        key = (protocol, objective, term)
        if key not in table.index:
            raise ValueError(f"no verdict for {key}; the claims need every objective in both protocols")
        return table.loc[key]

    def show(row: pd.Series) -> str:
        return f"{row['verdict']} {row['k']}/{row['n']} (median {row['median']:.2f})"

    out = []
    rows = {o: cell("unbiased", o, "redundancy") for o in SSL_OBJECTIVES}
    out.append(
        (
            "every self-supervised objective learns redundancy (unbiased)",
            all(r["k"] == r["n"] for r in rows.values()),
            ", ".join(f"{o} {show(r)}" for o, r in rows.items()),
        )
    )
    rows = {t: cell("unbiased", "cross", t) for t in UNIQUE}
    out.append(
        (
            "Cross drops U1 and U2: capture <= its floor + 0.05 (unbiased)",
            all(r["criterion"] == "dropped" and r["k"] == r["n"] for r in rows.values()),
            ", ".join(f"{t} {show(r)}, floor {r['floor']:.2f}" for t, r in rows.items()),
        )
    )
    for objective in ("cross_self", "comm"):
        rows = {t: cell("unbiased", objective, t) for t in UNIQUE}
        out.append(
            (
                f"{objective} learns U1 and U2 (unbiased)",
                all(r["verdict"] == "learned" for r in rows.values()),
                ", ".join(f"{t} {show(r)}" for t, r in rows.items()),
            )
        )
    rows = {o: cell("biased", o, "synergy") for o in ("cross", "cross_self")}
    out.append(
        (
            "Cross and Cross+Self drop synergy (biased)",
            all(r["criterion"] == "dropped" and r["k"] == r["n"] for r in rows.values()),
            ", ".join(f"{o} {show(r)}" for o, r in rows.items()),
        )
    )
    comm = final[
        (final["protocol"] == "biased") & (final["objective"] == "comm") & (final["term"] == "synergy")
    ]
    hits = int(((comm["capture"] >= SYNERGY_CAPTURE) & (comm["balanced_accuracy"] >= SYNERGY_ACCURACY)).sum())
    comm_median = float(cell("biased", "comm", "synergy")["median"])
    cs_median = float(cell("biased", "cross_self", "synergy")["median"])
    out.append(
        (
            f"CoMM captures synergy in every seed (capture >= {SYNERGY_CAPTURE}, balanced accuracy >= "
            f"{SYNERGY_ACCURACY}) and its median is >= Cross+Self's + {SYNERGY_MARGIN} (biased)",
            len(comm) > 0 and hits == len(comm) and comm_median >= cs_median + SYNERGY_MARGIN,
            f"{hits}/{len(comm)} seeds, median {comm_median:.2f} vs Cross+Self {cs_median:.2f}",
        )
    )
    row = cell("unbiased", "supervised", "synergy")
    out.append(
        ("supervised on the synergy target learns it (unbiased)", row["verdict"] == "learned", show(row))
    )
    return out


def report(final: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> tuple[pd.DataFrame, list]:
    """Print the verdict table and the claims; return them."""
    cells = judge(final, threshold)
    wide = wide_verdicts(cells)
    with pd.option_context("display.width", 250, "display.max_colwidth", 60, "display.max_rows", 100):
        print(wide.to_string(index=False))
    print("\n" + verdict_legend(cells))
    claims = check_claims(cells, final)
    print()
    for claim, passed, numbers in claims:
        print(f"{'PASS' if passed else 'FAIL'}  {claim}: {numbers}")
    return cells, claims


def exit_code(claims: list[tuple[str, bool, str]]) -> int:
    """1 when any claim fails, else 0."""
    return 1 if any(not passed for _, passed, _ in claims) else 0


def main(argv: list[str] | None = None) -> int:
    from interactions.sweep import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="xor", help="a shipped config name or a TOML path")
    parser.add_argument("--seeds", default="0-4", help="'0-4', '100-104' or '0,1,2' (at least 2 seeds)")
    parser.add_argument("--bias", type=float, default=0.8, help="pre-training bias of the synergy protocol")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="capture that counts as learned"
    )
    parser.add_argument("--set", action="append", default=[], help="extra overrides for every run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="runs/research_claims")
    args = parser.parse_args(argv)

    seeds = parse_seeds(args.seeds)
    if len(seeds) < 2:
        parser.error(f"--seeds needs at least 2 seeds for a verdict, got {seeds}")
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
    final = pd.concat(frames, ignore_index=True)[list(FINAL_COLUMNS)]
    print(f"done in {time.perf_counter() - start:.0f} s\n")
    cells, claims = report(final, args.threshold)
    out.mkdir(parents=True, exist_ok=True)
    final.to_csv(out / "final.csv", index=False)
    cells.assign(values=[" ".join(f"{v:.4f}" for v in vs) for vs in cells["values"]]).to_csv(
        out / "verdicts.csv", index=False
    )
    failed = sum(not p for _, p, _ in claims)
    print(f"\n{len(claims) - failed}/{len(claims)} claims pass")
    return exit_code(claims)


if __name__ == "__main__":
    sys.exit(main())
