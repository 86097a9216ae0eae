"""Verdicts of the objectives that came after CoMM (InfMasking, COrAL, SynIB) beside CoMM's, on ``xor``.

Every objective is pre-trained on the shipped ``xor`` config (one bit each of redundancy, uniqueness and
synergy) under the two pre-training protocols of ``research_claims.py``:

* ``unbiased`` (``generator.params.bias=0.0``): pre-training on the evaluation distribution; judges
  redundancy and uniqueness;
* ``biased`` (``generator.params.bias=0.8`` by default): the synergy protocol.

Probes always use the unbiased generator. SynIB and the ``supervised`` ceiling are trained on the synergy
target. For each (protocol, objective, term) the script prints the verdict "learned in k of n seeds"
(a seed has learned the term when its capture is >= ``--threshold``, 0.9) and the median capture over
seeds. The verdict maths is the small function ``learned_k_of_n`` below (``reports/verdicts.py`` does not
exist on main yet). Runs are written under ``--out`` and resumed, so a rerun only trains what is missing.

Usage (about 50 runs; each takes 20-60 s on one idle core, longer under load)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_objectives.py --seeds 5 --workers 2 \\
        --out runs/bench_objectives

Smaller: ``--seeds 2 --epochs 10`` (shorter training than the shipped config's 30 epochs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

OBJECTIVES = ("comm", "infmasking", "coral", "synib", "supervised")
SUPERVISED = ("synib", "supervised")  # trained on the synergy target
#: the terms each protocol judges (the other terms are printed too)
JUDGED = {"unbiased": ("redundancy", "unique_1", "unique_2"), "biased": ("synergy",)}


def learned_k_of_n(captures: pd.Series, threshold: float = 0.9) -> tuple[int, int]:
    """``(k, n)``: how many of the ``n`` seeds' captures reach ``threshold`` (NaN counts as not learned)."""
    values = np.asarray(captures, dtype=float)
    return int(np.sum(values >= threshold)), len(values)


def verdicts(table: pd.DataFrame, threshold: float = 0.9) -> pd.DataFrame:
    """One row per (protocol, objective, term): ``learned`` "k/n", ``median`` capture, ``floor`` median."""
    rows = []
    for (protocol, objective, term), group in table.groupby(["protocol", "objective", "term"], sort=False):
        k, n = learned_k_of_n(group["capture"], threshold)
        rows.append(
            {
                "protocol": protocol,
                "objective": objective,
                "term": term,
                "judged": term in JUDGED[protocol],
                "learned": f"{k}/{n}",
                "median": float(group["capture"].median()),
                "floor": float(group["floor"].median()),
            }
        )
    return pd.DataFrame(rows)


def plan(objectives: list[str], seeds: list[int], bias: float) -> list[tuple[str, str, int, list[str]]]:
    """``(protocol, objective, seed, overrides)`` of every run."""
    protocols = {"unbiased": "generator.params.bias=0.0", "biased": f"generator.params.bias={bias}"}
    jobs = []
    for protocol, bias_override in protocols.items():
        for objective in objectives:
            overrides = [f"objective.name={objective}", bias_override]
            if objective in SUPERVISED:
                overrides.append("objective.params.target=synergy")
            jobs += [(protocol, objective, seed, overrides) for seed in seeds]
    return jobs


def _one(job: tuple, extra: list[str], out: Path, threads: int) -> pd.DataFrame:
    import torch

    from interactions import run

    torch.set_num_threads(threads)
    protocol, objective, seed, overrides = job
    start = time.perf_counter()
    result = run(
        "xor", [*overrides, *extra], seed=seed, out=out / protocol / objective / f"seed{seed}", progress=False
    )
    cap = result.capture[["term", "capture", "floor"]].copy()
    cap.insert(0, "seed", seed)
    cap.insert(0, "objective", objective)
    cap.insert(0, "protocol", protocol)
    print(f"  {protocol:<9}{objective:<11}seed {seed}: {time.perf_counter() - start:6.1f} s", flush=True)
    return cap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0 .. seeds - 1)")
    parser.add_argument("--epochs", type=int, default=None, help="train.epochs (default: the config's 30)")
    parser.add_argument("--bias", type=float, default=0.8, help="pre-training bias of the synergy protocol")
    parser.add_argument("--objectives", default=",".join(OBJECTIVES), help="comma-separated objectives")
    parser.add_argument("--threshold", type=float, default=0.9, help="capture at which a term is learned")
    parser.add_argument("--set", action="append", default=[], help="extra overrides for every run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="runs/bench_objectives")
    args = parser.parse_args(argv)
    if args.seeds < 1 or (args.epochs is not None and args.epochs < 1):
        parser.error("--seeds and --epochs must be >= 1")

    extra = list(args.set) + ([f"train.epochs={args.epochs}"] if args.epochs else [])
    jobs = plan(args.objectives.split(","), list(range(args.seeds)), args.bias)
    out = Path(args.out)
    print(f"{len(jobs)} runs on xor (seeds 0-{args.seeds - 1}, bias {args.bias}, extra {extra}) into {out}")
    start = time.perf_counter()
    threads = 1 if args.workers > 1 else max(1, int(os.environ.get("OMP_NUM_THREADS", "0")) or 1)
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
            frames = list(pool.map(_one, jobs, *zip(*[(extra, out, threads)] * len(jobs))))
    else:
        frames = [_one(job, extra, out, threads) for job in jobs]
    table = pd.concat(frames, ignore_index=True)
    print(f"done in {time.perf_counter() - start:.0f} s\n")

    result = verdicts(table, args.threshold)
    for protocol in ("unbiased", "biased"):
        part = result[result["protocol"] == protocol]
        learned = part.pivot(index="objective", columns="term", values="learned")
        median = part.pivot(index="objective", columns="term", values="median")
        order = [o for o in args.objectives.split(",") if o in learned.index]
        judged = ", ".join(JUDGED[protocol])
        print(f"{protocol} protocol (judges {judged}): learned in k of n seeds (capture >= {args.threshold})")
        print(learned.loc[order].to_string())
        print("median capture")
        print(median.loc[order].round(3).to_string(), "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
