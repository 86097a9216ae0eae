"""Do disjoint seed sets give the same verdict table? (issue 8: verdicts that hold on any seeds).

Reads two or more sweep results (directories holding ``results.csv``, or the tables themselves), builds each
one's verdict table exactly as ``interactions report`` does (``reports.verdicts.verdict_table``: the
paper's protocols, "learned in k of n seeds" at the threshold, "dropped" at or below the floor + 0.05),
prints them side by side, and lists every cell whose verdict differs.

Exit code: 0 when every verdict agrees, 1 when some differ (or a cell is missing from one table), 2 when
the inputs are unusable (overlapping seed sets, fewer than 2 seeds in a cell, no finished run).
``--same-seeds`` compares results of the same seeds from different machines instead (another CPU, another
torch build: the promise is the same verdicts, not the same digits).

Usage (the README's main job and its disjoint seed set)::

    interactions sweep xor --workers 2 --out results/xor
    interactions sweep xor --seeds 100-104 --workers 2 --out results/xor_100
    python benchmarks/verdict_agreement.py results/xor results/xor_100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.results import finished, load_results  # noqa: E402
from reports.summary import markdown_table  # noqa: E402
from reports.verdicts import DEFAULT_THRESHOLD, TooFewSeedsError, verdict_table, wide_verdicts  # noqa: E402

KEY = ("objective", "term")


def table_of(source: str, threshold: float) -> tuple[pd.DataFrame, set[int]]:
    """The verdict table of one results table and its seeds."""
    path = Path(source)
    frame = finished(load_results(path / "results.csv" if path.is_dir() else path))
    if frame.empty:
        raise ValueError(f"{source}: no finished runs")
    return verdict_table(frame, threshold=threshold), {int(s) for s in frame["seed"].unique()}


def disagreements(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (objective, term) whose verdict is not the same in every table (missing counts)."""
    by_cell = {
        name: table.set_index(list(KEY))[["verdict", "k", "n"]].astype(str).agg(" ".join, axis=1)
        for name, table in tables.items()
    }
    wide = pd.DataFrame(by_cell)
    verdicts = pd.DataFrame({n: t.set_index(list(KEY))["verdict"] for n, t in tables.items()})
    differs = verdicts.isna().any(axis=1) | (verdicts.nunique(axis=1, dropna=False) > 1)
    return wide[differs].fillna("missing").reset_index()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="sweep directories or results tables (two or more)")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="capture counted as learned"
    )
    parser.add_argument(
        "--same-seeds",
        action="store_true",
        help="allow shared seeds: the same seed sets trained on other machines (different float rounding)",
    )
    args = parser.parse_args(argv)
    if len(args.results) < 2:
        parser.error("give at least two results (e.g. the seed sets 0-4 and 100-104)")
    tables, seen = {}, {}
    try:
        for source in args.results:
            tables[source], seeds = table_of(source, args.threshold)
            for other, other_seeds in seen.items():
                if seeds & other_seeds and not args.same_seeds:
                    raise ValueError(f"{source} and {other} share seeds {sorted(seeds & other_seeds)}")
            seen[source] = seeds
    except (ValueError, TooFewSeedsError, OSError) as err:
        print(f"verdict_agreement: {err}", file=sys.stderr)
        return 2
    for source, table in tables.items():
        print(f"## {source} (seeds {', '.join(map(str, sorted(seen[source])))})\n")
        print(markdown_table(wide_verdicts(table)) + "\n")
    differ = disagreements(tables)
    cells = len(set().union(*(set(map(tuple, t[list(KEY)].values)) for t in tables.values())))
    if differ.empty:
        kind = "results" if args.same_seeds else "disjoint seed sets"
        print(f"verdicts agree in all {cells} cells across {len(tables)} {kind}")
        return 0
    print(f"verdicts differ in {len(differ)} of {cells} cells:\n")
    print(markdown_table(differ))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
