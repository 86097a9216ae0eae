"""Execution side of sweeps: run one planned run, collect its rows, keep the results table on disk.

``interactions.sweep`` plans the runs (grid x seeds) and calls ``execute_local`` or ``execute_ray``; every
finished run's rows go through ``ResultTable``, which rewrites ``results.parquet`` / ``results.csv``
atomically (temp file + ``os.replace``), so an interrupted sweep never leaves a half-written table.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_write, atomic_write_text
from .types import HISTORY_COLUMNS, METRIC_COLUMNS, PROBE, RESULT_COLUMNS, TERMS


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: its id, seed, grid assignment and the overrides that realise it."""

    run_id: str
    seed: int
    assignment: dict[str, Any]
    overrides: tuple[str, ...]
    generator: str
    objective: str


def run_dir(out: Path, run: PlannedRun) -> Path:
    return out / "runs" / run.run_id


def limit_threads_to_one() -> None:
    """One compute thread per worker process, so that N workers use N cores."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import sys

    if "torch" in sys.modules:  # otherwise torch reads OMP_NUM_THREADS when the run imports it
        sys.modules["torch"].set_num_threads(1)


def run_one(
    run_fn: Callable[..., Any], config: Any, run: PlannedRun, run_dir: str, limit_threads: bool = True
) -> pd.DataFrame:
    """Run (or load) one run and return its rows; an ``Exception`` becomes failure rows."""
    if limit_threads:
        limit_threads_to_one()
    try:
        result = run_fn(
            config,
            overrides=list(run.overrides),
            seed=run.seed,
            out=Path(run_dir),
            resume=True,
            progress=False,
        )
        return result_rows(run, result)
    except Exception as err:  # recorded and the sweep goes on; KeyboardInterrupt passes through
        atomic_write_text(Path(run_dir) / "error.txt", traceback.format_exc())
        return failed_rows(run, err)


def result_rows(run: PlannedRun, result: Any) -> pd.DataFrame:
    history = result.history
    optional = ("feature_dim", "estimator")  # a history without estimators holds the probe's rows
    missing = [c for c in HISTORY_COLUMNS if c not in optional and c not in history.columns]
    if missing:
        raise ValueError(f"run history lacks columns {missing}; has {list(history.columns)}")
    rows = history.copy()
    if "estimator" not in rows:
        rows["estimator"] = PROBE
    if "feature_dim" not in rows:
        rows["feature_dim"] = np.nan
    resolved = getattr(result, "config", None) or {}
    rows["run_id"] = run.run_id
    rows["status"] = str(getattr(result, "status", "ok"))
    rows["error"] = ""
    rows["generator"] = str(resolved.get("generator", {}).get("name", run.generator))
    rows["objective"] = str(resolved.get("objective", {}).get("name", run.objective))
    rows["seed"] = run.seed
    for key, value in run.assignment.items():
        rows[key] = value
    return rows


def failed_rows(run: PlannedRun, err: BaseException) -> pd.DataFrame:
    rows = pd.DataFrame({"term": list(TERMS)})
    rows["run_id"] = run.run_id
    rows["status"] = "failed"
    rows["error"] = f"{type(err).__name__}: {err}"
    rows["generator"] = run.generator
    rows["objective"] = run.objective
    rows["seed"] = run.seed
    rows["epoch"] = pd.NA
    rows["estimator"] = PROBE
    for column in METRIC_COLUMNS:
        rows[column] = np.nan
    for key, value in run.assignment.items():
        rows[key] = value
    return rows


class ResultTable:
    """Rows of the runs done so far, written in plan order with atomic replaces."""

    def __init__(self, out: Path, runs: list[PlannedRun], grid_keys: list[str]) -> None:
        self.out, self.runs, self.grid_keys = out, runs, grid_keys
        self.rows: dict[str, pd.DataFrame] = {}

    @property
    def n_failed(self) -> int:
        return sum(bool((r["status"] == "failed").any()) for r in self.rows.values())

    def add(self, run: PlannedRun, rows: pd.DataFrame) -> None:
        self.rows[run.run_id] = rows

    def frame(self) -> pd.DataFrame:
        columns = [*RESULT_COLUMNS, *self.grid_keys]
        parts = [self.rows[r.run_id] for r in self.runs if r.run_id in self.rows]
        parts = [p.dropna(axis=1, how="all") for p in parts]  # all-NaN blocks would sway concat dtypes
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        frame = pd.concat(parts, ignore_index=True).reindex(columns=columns)
        frame["epoch"] = frame["epoch"].astype("Int64")
        frame["seed"] = frame["seed"].astype("int64")
        frame["error"] = frame["error"].astype(object).fillna("").astype(str)
        for column in METRIC_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        for key in self.grid_keys:
            frame[key] = _normalise_column(frame[key])
        return frame

    def write(self) -> None:
        frame = self.frame()
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            pass
        else:
            atomic_write(self.out / "results.parquet", lambda p: frame.to_parquet(p, index=False))
        atomic_write(self.out / "results.csv", lambda p: frame.to_csv(p, index=False))


def _normalise_column(values: pd.Series) -> pd.Series:
    """Grid values as one parquet-friendly type: bools, numbers, or text (``repr`` of anything else)."""
    items = list(values)
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        return pd.Series(items, index=values.index, dtype=bool)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in items):
        return pd.to_numeric(values)
    return pd.Series([v if isinstance(v, str) else repr(v) for v in items], index=values.index, dtype=str)


def write_manifest(out: Path, config: Any, grid: dict, seeds: list[int], overrides: list[str], runs) -> None:
    manifest = {
        "config": config if isinstance(config, Mapping) else str(config),
        "grid": grid,
        "seeds": seeds,
        "overrides": overrides,
        "runs": [{"run_id": r.run_id, "seed": r.seed, "grid": r.assignment} for r in runs],
    }
    atomic_write_text(out / "sweep.json", json.dumps(manifest, indent=2, default=repr) + "\n")


def execute_local(run_fn, config, pending: list[PlannedRun], out: Path, workers: int, on_done) -> None:
    if workers == 1 or len(pending) <= 1:
        for run in pending:
            on_done(run, run_one(run_fn, config, run, str(run_dir(out, run)), limit_threads=False))
        return
    import multiprocessing

    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(pending)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=limit_threads_to_one,
    )
    try:
        futures = {pool.submit(run_one, run_fn, config, r, str(run_dir(out, r))): r for r in pending}
        for future in as_completed(futures):
            run = futures[future]
            try:
                rows = future.result()
            except Exception as err:  # the worker itself died (e.g. killed for memory)
                rows = failed_rows(run, err)
            on_done(run, rows)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        # Running workers would otherwise be joined at exit; their runs resume from checkpoints.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        raise
    pool.shutdown(wait=True)


def execute_ray(run_fn, config, pending, out: Path, workers: int, on_done, resources) -> None:
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "backend='ray' needs Ray, an optional extra: pip install 'comm-interactions[ray]'"
        ) from err
    if not ray.is_initialized():
        try:
            ray.init(address="auto")  # an existing cluster
        except (ConnectionError, RuntimeError, ValueError):
            ray.init()  # none there: a local Ray instance
    task = ray.remote(run_one).options(**dict(resources or {"num_cpus": 1}))
    cap = workers if workers > 1 else len(pending)
    queue = list(pending)
    in_flight: dict[Any, PlannedRun] = {}
    try:
        while queue or in_flight:
            while queue and len(in_flight) < cap:
                run = queue.pop(0)
                in_flight[task.remote(run_fn, config, run, str(run_dir(out, run)))] = run
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                run = in_flight.pop(ref)
                try:
                    rows = ray.get(ref)
                except Exception as err:  # task or node lost
                    rows = failed_rows(run, err)
                on_done(run, rows)
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
