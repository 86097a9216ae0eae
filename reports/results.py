"""Load and summarise the tidy results table of a sweep (no torch).

The table has one row per (run, evaluation epoch, term) with the columns ``RESULT_COLUMNS`` plus one column
per grid key, named by its dotted config key (``generator.params.synergy``). Epoch 0 is the untrained
network: its value of any metric is that run's **floor**, what a random network already exposes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from interactions.types import METRIC_COLUMNS, PROBE, RESULT_COLUMNS, RESULTS_CSV, RESULTS_PARQUET, TERMS

#: Metrics a report can show.
METRICS: tuple[str, ...] = ("capture", "balanced_accuracy", "bits")
_NUMERIC = METRIC_COLUMNS
#: Grid keys that only repeat the ``generator`` / ``objective`` columns.
_NAME_KEYS = ("generator.name", "objective.name")


def load_results(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a results table from a sweep directory, a ``.parquet`` or a ``.csv`` file.

    A directory is read from ``results.parquet`` when it exists and pyarrow is installed, else from
    ``results.csv``.

    Returns:
        The validated table (see ``validate_results``).

    Raises:
        ValueError: no table at ``path``, an unknown file type, or missing columns (named).
    """
    path = Path(path)
    if path.is_dir():
        candidates = [path / RESULTS_PARQUET, path / RESULTS_CSV]
        if not _has_pyarrow():
            candidates = candidates[1:]
        found = [p for p in candidates if p.is_file()]
        if not found:
            raise ValueError(f"no results.parquet or results.csv in {str(path)!r}")
        path = found[0]
    if not path.is_file():
        raise ValueError(f"results table {str(path)!r} does not exist")
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == ".csv":
        frame = pd.read_csv(path, keep_default_na=True)
    else:
        raise ValueError(f"results table {str(path)!r} must be a directory, .parquet or .csv")
    return validate_results(frame, source=str(path))


def validate_results(frame: pd.DataFrame, source: str = "results table") -> pd.DataFrame:
    """Check the fixed columns and coerce their types (a copy; ``epoch`` becomes nullable ``Int64``).

    Raises:
        TypeError: ``frame`` is not a DataFrame.
        ValueError: missing columns, named, or an unknown term.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if "estimator" not in frame.columns:  # tables written before estimators joined runs: all probe rows
        frame = frame.assign(estimator=PROBE)
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{source} lacks columns {missing}; it has {list(frame.columns)}")
    frame = frame.copy()
    frame["epoch"] = pd.to_numeric(frame["epoch"], errors="coerce").astype("Int64")
    for column in _NUMERIC:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["error"] = frame["error"].astype(object).fillna("").astype(str)
    for column in ("run_id", "status", "generator", "objective", "term"):
        frame[column] = frame[column].astype(str)
    unknown = sorted(set(frame["term"]) - set(TERMS))
    if unknown:
        raise ValueError(f"{source} has unknown terms {unknown}; expected {list(TERMS)}")
    return frame


def grid_keys(frame: pd.DataFrame, varying: bool = False) -> list[str]:
    """The grid-key columns, optionally only those that vary within some objective.

    These are the columns besides the fixed ones, except ``generator.name``/``objective.name`` (copies of
    fixed columns) and derived columns, whose names start with ``_``. With ``varying``, a column must take
    more than one value among the rows of one objective: a per-objective setting of a sweep (e.g.
    ``objective.params.lam`` for Cross+Self only) is a column that is constant within each objective, and
    grouping by ``objective`` already separates its values.
    """
    keys = [
        c for c in frame.columns if c not in RESULT_COLUMNS and c not in _NAME_KEYS and not c.startswith("_")
    ]
    if varying:
        keys = [k for k in keys if varies_within_an_objective(frame, k)]
    return keys


def varies_within_an_objective(frame: pd.DataFrame, key: str) -> bool:
    """True when ``frame[key]`` takes more than one value (NaN counted) among the rows of one objective."""
    if "objective" not in frame.columns:
        return frame[key].nunique(dropna=False) > 1
    counts = frame.groupby("objective", sort=False, dropna=False)[key].nunique(dropna=False)
    return bool((counts > 1).any())


def finished(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of runs that did not fail."""
    return frame[frame["status"] != "failed"]


def select(frame: pd.DataFrame, where: Mapping[str, Any] | None) -> pd.DataFrame:
    """Rows where every ``column == value`` of ``where`` holds (a value may be a list of allowed values)."""
    for column, value in (where or {}).items():
        if column not in frame.columns:
            raise ValueError(f"cannot select on {column!r}: no such column; columns: {list(frame.columns)}")
        allowed = value if isinstance(value, (list, tuple, set)) else [value]
        frame = frame[frame[column].isin(allowed)]
    if frame.empty:
        raise ValueError(f"no rows left after selecting {dict(where or {})}")
    return frame


def final_epoch(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of each run's last evaluated epoch (finished runs only)."""
    frame = finished(frame).dropna(subset=["epoch"])
    last = frame.groupby("run_id")["epoch"].transform("max")
    return frame[frame["epoch"] == last]


def with_floor(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Add ``_floor``: the run's epoch-0 (untrained) value of ``metric`` for that term.

    For ``capture`` a run without an epoch-0 row falls back to its ``floor`` column.
    """
    _check_metric(metric)
    frame = frame.copy()
    start = frame[frame["epoch"] == 0].set_index(["run_id", "term"])[metric]
    keys = pd.MultiIndex.from_frame(frame[["run_id", "term"]])
    frame["_floor"] = start.reindex(keys).to_numpy()
    if metric == "capture":
        frame["_floor"] = frame["_floor"].fillna(frame["floor"])
    return frame


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, sample std (ddof 1), and the Student-t confidence interval of the mean over seeds.

    Returns:
        ``(mean, std, low, high)``; std and the interval are NaN for fewer than two finite values.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan,) * 4
    mean = float(x.mean())
    if x.size < 2:
        return mean, np.nan, np.nan, np.nan
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1)) * std / np.sqrt(x.size)
    return mean, std, mean - half, mean + half


def summarize(
    frame: pd.DataFrame,
    metrics: Sequence[str] = METRICS,
    *,
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean, std and CI over seeds of each metric at each run's final epoch.

    Args:
        frame: a results table.
        metrics: columns to summarise (``capture``, ``balanced_accuracy``, ``bits``).
        by: grouping columns besides ``term``; default ``generator``, ``objective`` and every grid key.
        confidence: level of the Student-t interval.

    Returns:
        One row per group, term and metric: the group columns, ``term``, ``metric``, ``n_seeds``, ``mean``,
        ``std``, ``ci_low``, ``ci_high``, ``floor`` (mean epoch-0 value), ``true_bits`` and ``chance``
        (mean balanced-accuracy chance level); terms in ``TERMS`` order.
    """
    frame = probe_only(validate_results(frame))
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    by = list(by) if by is not None else ["generator", "objective", *grid_keys(frame)]
    for column in by:
        if column not in frame.columns:
            raise ValueError(f"cannot group by {column!r}: no such column")
    rows = []
    for metric in metrics:
        last = final_epoch(with_floor(frame, metric))
        for key, group in last.groupby([*by, "term"], sort=False, dropna=False):
            mean, std, low, high = mean_ci(group[metric], confidence)
            labels = dict(zip([*by, "term"], key))
            rows.append(
                labels
                | dict(metric=metric, n_seeds=int(group[metric].notna().sum()), mean=mean, std=std)
                | dict(ci_low=low, ci_high=high, floor=float(group["_floor"].mean()))
                | dict(true_bits=float(group["true_bits"].mean()), chance=float(group["chance"].mean()))
            )
    # groups keep their order of first appearance, and runs list terms in TERMS order
    return pd.DataFrame(rows)


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


#: The estimator whose rows hold the probe capture that verdicts and figures show.
PROBE_ESTIMATOR = "probe"


def probe_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The probe's rows: tables with an ``estimator`` column also hold other estimators' rows (contract 1)."""
    if "estimator" not in frame.columns:
        return frame
    return frame[frame["estimator"].astype(str) == PROBE_ESTIMATOR]
