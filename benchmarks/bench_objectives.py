"""Verdicts of the objectives that came after CoMM (InfMasking, COrAL, SynIB) beside CoMM's, on ``xor``.

Every objective is pre-trained on the shipped ``xor`` config (one bit each of redundancy, uniqueness and
synergy; the README main job's settings) under the paper's two pre-training protocols:

* unbiased (``generator.params.bias = 0``): pre-training on the evaluation distribution; judges redundancy
  and uniqueness;
* biased (``generator.params.bias = 0.8``): the synergy protocol.

Probes always see the unbiased generator. SynIB and the ``supervised`` ceiling are trained on the synergy
target. The runs are one sweep (``interactions.sweep``: resumable, one process per run); the verdict table
is the one ``interactions report`` prints (``reports.verdicts.verdict_table``): per objective and term,
"learned in k of n seeds" (capture >= ``--threshold``), the median and its bootstrap interval, synergy from
the biased runs and the other terms from the unbiased ones (``verdicts.csv``). A second table gives every
term under both pre-trainings (``verdicts_by_protocol.csv``): for SynIB and the supervised ceiling, trained
on the synergy label, the unbiased row is the one that judges them (biased pre-training shows them a label
that is 0 in 90 % of the pairs). ``interactions report OUT`` draws the figures.

``--reuse DIR`` copies finished runs of another sweep whose configuration is identical (same run id: the
README main job's CoMM runs, for instance) instead of training them again.

Usage (50 runs, the CoMM ones reusable from the main job)::

    python benchmarks/bench_objectives.py --workers 2 --out results/bench_objectives --reuse results/xor
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interactions.sweep import format_summary, sweep  # noqa: E402
from reports.summary import markdown_table  # noqa: E402
from reports.verdicts import DEFAULT_THRESHOLD, verdict_legend, verdict_table, wide_verdicts  # noqa: E402

OBJECTIVES = ("comm", "infmasking", "coral", "synib", "supervised")
#: supervised objectives and the target they are trained on
TARGETS = {"synib": {"target": "synergy"}, "supervised": {"target": "synergy"}}
#: what a supervised objective trained on synergy is expected to keep
EXPECTATIONS = {name: {"synergy": "keep"} for name in TARGETS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4 (at least 5 for a verdict)")
    parser.add_argument("--bias", type=float, default=0.8, help="pre-training bias of the synergy protocol")
    parser.add_argument("--objectives", default=",".join(OBJECTIVES), help="comma-separated objectives")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="capture counted as learned"
    )
    parser.add_argument("--set", action="append", default=[], help="override for every run (TOML value)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="results/bench_objectives")
    parser.add_argument("--reuse", action="append", default=[], help="sweep dir to copy identical runs from")
    args = parser.parse_args(argv)
    grid = {"objective.name": args.objectives.split(","), "generator.params.bias": [0.0, args.bias]}
    params = {k: v for k, v in TARGETS.items() if k in grid["objective.name"]}
    out = Path(args.out)
    table = sweep("xor", grid, args.seeds, overrides=args.set, objective_params=params, out=out,
                  workers=args.workers, reuse=args.reuse)  # fmt: skip
    summary = table.attrs["summary"]
    print(format_summary(summary))
    verdicts = verdict_table(table, threshold=args.threshold, expectations=EXPECTATIONS)
    verdicts.drop(columns="values").to_csv(out / "verdicts.csv", index=False)
    print("The paper's protocols (synergy from biased pre-training, the other terms from unbiased):\n")
    print(markdown_table(wide_verdicts(verdicts)) + "\n\n" + verdict_legend(verdicts) + "\n")
    # every term under both pre-trainings: the supervised objectives' ceiling is their unbiased training
    both = verdict_table(table, threshold=args.threshold, expectations=EXPECTATIONS, term_filters=None)
    both.drop(columns="values").to_csv(out / "verdicts_by_protocol.csv", index=False)
    print("Every term under both pre-trainings (rows: objective x generator.params.bias):\n")
    print(markdown_table(wide_verdicts(both)))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
