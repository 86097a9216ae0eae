"""Check a sweep's results table against the sweep's plan and run directories before reporting on it.

A results table can be cut short (a copy interrupted mid-line), lose a run's rows, hold an unparsable value
or repeat rows; figures drawn from it would look fine and be wrong. ``table_problems`` lists every such
problem in plain words; ``check_results`` raises one ``ValueError`` with all of them. The CLI's ``report``
command calls ``check_results`` before drawing anything.

What is compared (for a sweep directory ``out`` with ``out/sweep.json``):

* the table parses and has the columns ``RESULT_COLUMNS``;
* its run ids are exactly the planned ones of ``sweep.json`` (missing and unplanned runs are named);
* no (run_id, epoch, term) row repeats, and every epoch of a run has a row for every term of ``TERMS``;
* every metric of a finished run parses as a number;
* a finished run's epochs and ``capture`` values equal those of its ``runs/<run_id>/result.json``;
* failed runs are named with their first error line.

Imports neither torch nor ``reports``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .atomic import is_sealed
from .types import (
    PROBE,
    RESULT_COLUMNS,
    RESULT_FILE,
    RESULTS_CSV,
    RESULTS_PARQUET,
    RUNS_DIR,
    SWEEP_FILE,
    TERMS,
)

_METRICS = ("true_bits", "bits", "balanced_accuracy", "capture", "floor", "chance")
#: At most this many items are named per kind of problem (the count is always given).
_SHOWN = 5


def _names(items: list, shown: int = _SHOWN) -> str:
    items = sorted(map(str, items))
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _table_files(results: Path) -> list[Path]:
    if not results.is_dir():
        return [results]
    files = [results / RESULTS_CSV]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        files.insert(0, results / RESULTS_PARQUET)
    return [f for f in files if f.is_file()]


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"error": str}, keep_default_na=True)


def table_problems(results: str | Path) -> list[str]:
    """Every way the results table(s) of ``results`` (a sweep directory or a table file) are not complete.

    Returns:
        One line per problem, each naming the file and the runs, rows or values concerned; empty when the
        table matches the sweep's plan and its run directories (see the module docstring).
    """
    results = Path(results)
    files = _table_files(results)
    if not files:
        return [f"no results.parquet or results.csv in {str(results)!r}"]
    sweep_dir = results if results.is_dir() else results.parent
    plan = _planned(sweep_dir)
    problems: list[str] = []
    if isinstance(plan, str):
        problems.append(plan)
        plan = None
    for path in files:
        try:
            frame = _read(path)
        except Exception as err:  # noqa: BLE001 - any parse error is a damaged file
            problems.append(f"{str(path)!r} cannot be read ({type(err).__name__}: {err})")
            continue
        problems.extend(f"{str(path)!r}: {p}" for p in frame_problems(frame, plan, sweep_dir / RUNS_DIR))
    return problems


def _planned(sweep_dir: Path) -> list[str] | str | None:
    """Planned run ids from ``sweep.json``; None without one; a problem line when it is damaged."""
    path = sweep_dir / SWEEP_FILE
    if not path.exists():
        return None
    try:
        return [str(r["run_id"]) for r in json.loads(path.read_text(encoding="utf-8"))["runs"]]
    except (ValueError, KeyError, TypeError) as err:
        return f"{str(path)!r} is damaged ({type(err).__name__}: {err})"


def frame_problems(frame: pd.DataFrame, planned: list[str] | None, runs_dir: Path | None) -> list[str]:
    """The problems of one results table (see ``table_problems``), without the file name."""
    missing_columns = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing_columns:
        return [f"lacks the columns {_names(missing_columns)}"]
    problems = []
    present = list(dict.fromkeys(frame["run_id"].dropna().astype(str)))
    if planned is not None:
        missing = [r for r in planned if r not in present]
        extra = [r for r in present if r not in planned]
        if missing:
            problems.append(f"{len(missing)} of {len(planned)} planned runs have no rows: {_names(missing)}")
        if extra:
            problems.append(f"{len(extra)} runs are not in the sweep's plan: {_names(extra)}")
    failed = frame[frame["status"] == "failed"]
    for run_id, group in failed.groupby("run_id", sort=False):
        first = str(group["error"].iloc[0]).strip().splitlines()
        problems.append(f"run {run_id} failed: {first[0] if first else 'no error recorded'}")
    ok = frame[frame["status"] != "failed"].copy()
    ok["epoch"] = pd.to_numeric(ok["epoch"], errors="coerce")
    bad_epoch = ok[ok["epoch"].isna()]
    if len(bad_epoch):
        problems.append(
            f"{len(bad_epoch)} rows have no valid epoch (runs {_names(bad_epoch['run_id'].unique())})"
        )
    key = (
        ["run_id", "epoch", "estimator", "term"] if "estimator" in ok.columns else ["run_id", "epoch", "term"]
    )
    repeated = ok[ok.duplicated(key, keep=False)]
    if len(repeated):
        problems.append(
            f"{len(repeated)} rows repeat a (run, epoch, term): runs {_names(repeated['run_id'].unique())}"
        )
    for column in _METRICS:
        raw = ok[column]
        parsed = pd.to_numeric(raw, errors="coerce")
        unparsable = ok[parsed.isna() & raw.notna()]
        if len(unparsable):
            examples = _names(
                [f"{v!r} (run {r})" for v, r in zip(unparsable[column], unparsable["run_id"])], 3
            )
            problems.append(
                f"column {column!r} has {len(unparsable)} values that are not numbers: {examples}"
            )
        ok[column] = parsed
    incomplete = []
    for (run_id, epoch), group in ok.dropna(subset=["epoch"]).groupby(["run_id", "epoch"], sort=False):
        if set(group["term"]) != set(TERMS):
            incomplete.append(f"{run_id} epoch {int(epoch)}")
    if incomplete:
        problems.append(f"{len(incomplete)} evaluations lack some terms: {_names(incomplete)}")
    if runs_dir is not None:
        problems.extend(_compare_with_runs(ok, runs_dir))
    return problems


def _compare_with_runs(ok: pd.DataFrame, runs_dir: Path) -> list[str]:
    """Finished runs whose table rows differ from their run directory's sealed ``result.json``."""
    differ = []
    for run_id, group in ok.groupby("run_id", sort=False):
        path = runs_dir / str(run_id) / RESULT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not is_sealed(data):
            continue
        history = data.get("history", [])
        stored = {
            (int(r["epoch"]), str(r.get("estimator", PROBE)), str(r["term"])): r.get("capture")
            for r in history
        }
        estimators = group["estimator"] if "estimator" in group else [PROBE] * len(group)
        rows = zip(group["epoch"], estimators, group["term"], group["capture"])
        table = {(int(e), str(est), str(t)): c for e, est, t, c in rows if e == e}
        if set(stored) != set(table) or not all(_same(stored[k], table[k]) for k in stored):
            epochs = sorted({e for e, _, _ in stored})
            differ.append(f"{run_id} (its result.json has epochs {epochs})")
    if differ:
        return [f"{len(differ)} runs' rows differ from their run directory: {_names(differ, 3)}"]
    return []


def _same(a: float | None, b: float) -> bool:
    a = math.nan if a is None else float(a)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_results(results: str | Path) -> None:
    """Raise ``ValueError`` listing every problem of ``table_problems(results)``; return when there is none.

    The message ends with the way out: rerunning the sweep command rebuilds the table from the run
    directories and retries failed or missing runs.
    """
    problems = table_problems(results)
    if problems:
        raise ValueError(
            f"the results in {str(results)!r} do not match the sweep: "
            + "; ".join(problems)
            + ". Rerun the same 'interactions sweep' command to rebuild the table and retry missing runs "
            "(or pass --allow-incomplete to report on what is there)"
        )
