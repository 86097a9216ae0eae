"""Research claims of the CoMM paper, checked on the ``xor`` experiment as verdicts over seeds.

Every objective is pre-trained with its default hyper-parameters on the shipped ``xor`` config (the README
main job's settings) under the paper's two protocols (its Trifeature experiments, spec 4.2-4.3, transposed to
bits):

* ``unbiased``: pre-training on the evaluation distribution; measures redundancy and uniqueness;
* ``biased``: pre-training with ``generator.params.bias`` (s2 = s1 with that probability, 0.8 by default),
  the synergy protocol; probes always use the unbiased generator.

The supervised objective is trained on the synergy target as the ceiling. The runs are one sweep
(``interactions.sweep``: resumable, atomic, one process per run); each run's final capture and its floor
(epoch-0 capture) go through ``reports.verdicts``: per protocol, objective and term, "learned in k of n seeds"
(capture >= 0.9), "dropped" for a term the objective should lose (capture <= its floor + 0.05), the median and
a bootstrap 95 % interval. The script prints that table, then PASS/FAIL for each claim, and **exits 1 when a
claim fails or a run failed** (0 otherwise). A claim holds only when it holds in every seed (k = n); the
thresholds are the verdict code's defaults and are never tuned here:

1. every self-supervised objective learns redundancy (unbiased);
2. Cross drops U1 and U2 (unbiased);
3. Cross+Self and CoMM learn U1 and U2 (unbiased);
4. Cross and Cross+Self drop synergy (biased);
5. CoMM learns synergy (biased);
6. supervised training on the synergy target learns it (unbiased).

SimCLR, FactorCL and the supervised objective's other cells are reported as they come. The per-run final
values go to ``--out/final.csv`` and the verdicts to ``--out/verdicts.csv``. ``--reuse DIR`` copies the
finished runs of another sweep with the identical configuration (the README main job's CoMM, Cross and
Cross+Self runs) instead of training them again. Compare two disjoint seed sets with ``--seeds 0-4`` and
``--seeds 100-104``.

Usage (60 runs per seed set, 30 of them reusable from the main job)::

    python benchmarks/research_claims.py --workers 2 --out results/research_claims --reuse results/xor
    python benchmarks/research_claims.py --seeds 100-104 --workers 2 --out results/research_claims_100 \
        --reuse results/xor_100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interactions.sweep import format_summary, parse_seeds, sweep  # noqa: E402
from reports.verdicts import (  # noqa: E402
    BIAS_KEY,
    DEFAULT_THRESHOLD,
    final_values,
    verdict_cells,
    verdict_legend,
    wide_verdicts,
)

SSL_OBJECTIVES = ("comm", "cross", "cross_self", "simclr", "factorcl")
OBJECTIVES = (*SSL_OBJECTIVES, "supervised")
#: objectives trained on a label, and the label
TARGETS = {"supervised": {"target": "synergy"}}
UNIQUE = ("unique_1", "unique_2")
#: The supervised ceiling is trained on this target, so it is expected to keep it.
EXPECTATIONS = {"supervised": {"synergy": "keep"}}
FINAL_COLUMNS = ("protocol", "objective", "seed", "term", "capture", "floor", "balanced_accuracy")


def protocol_table(results: pd.DataFrame) -> pd.DataFrame:
    """The final-epoch values of a results table with a ``protocol`` column (bias 0: "unbiased", else
    "biased"). Columns: ``FINAL_COLUMNS``."""
    final = final_values(results)
    protocol = np.where(final[BIAS_KEY].astype(float) == 0.0, "unbiased", "biased")
    return final.assign(protocol=protocol)[list(FINAL_COLUMNS)].reset_index(drop=True)


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
    row = cell("biased", "comm", "synergy")
    out.append(("CoMM learns synergy (biased)", row["verdict"] == "learned", show(row)))
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="xor", help="a shipped config name or a TOML path")
    parser.add_argument("--seeds", default="0-4", help="'0-4', '100-104' or '0,1,2' (at least 2 seeds)")
    parser.add_argument("--bias", type=float, default=0.8, help="pre-training bias of the synergy protocol")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="capture that counts as learned"
    )
    parser.add_argument("--set", action="append", default=[], help="extra overrides for every run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="results/research_claims")
    parser.add_argument("--reuse", action="append", default=[], help="sweep dir to copy identical runs from")
    args = parser.parse_args(argv)

    seeds = parse_seeds(args.seeds)
    if len(seeds) < 2:
        parser.error(f"--seeds needs at least 2 seeds for a verdict, got {seeds}")
    if not 0.0 < args.bias <= 1.0:
        parser.error(f"--bias must be in (0, 1], got {args.bias}")
    out = Path(args.out)
    grid = {"objective.name": list(OBJECTIVES), BIAS_KEY: [0.0, args.bias]}
    print(f"config {args.config!r}, seeds {seeds}, bias {args.bias}, into {out}")
    table = sweep(args.config, grid, seeds, overrides=args.set, objective_params=TARGETS, out=out,
                  workers=args.workers, reuse=args.reuse)  # fmt: skip
    summary = table.attrs["summary"]
    print(format_summary(summary) + "\n")
    final = protocol_table(table)
    cells, claims = report(final, args.threshold)
    final.to_csv(out / "final.csv", index=False)
    cells.assign(values=[" ".join(f"{v:.4f}" for v in vs) for vs in cells["values"]]).to_csv(
        out / "verdicts.csv", index=False
    )
    failed = sum(not p for _, p, _ in claims)
    print(f"\n{len(claims) - failed}/{len(claims)} claims pass")
    return 1 if summary["failed"] else exit_code(claims)


if __name__ == "__main__":
    sys.exit(main())
