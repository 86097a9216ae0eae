"""Execution side of sweeps: run one planned run, collect its rows, keep the results table on disk.

``interactions.sweep`` plans the runs (grid x seeds) and calls ``execute_local`` or ``execute_ray``; every
finished run's rows go through ``ResultTable``, which rewrites ``results.parquet`` / ``results.csv`` and the
per-epoch loss table ``losses.csv`` atomically (temp file + ``os.replace``), so an interrupted sweep never
leaves a half-written table.

Faults. Local workers are one process per run (at most ``workers`` at a time), forked from a fork server that
has imported torch once: a worker that dies (killed, out of memory) costs only its own run, recorded as a
failure and retried by the next call. A worker stops by itself as soon as the sweep's process disappears
(even after ``kill -9``: a pipe only the sweep writes to reports end-of-file), and
ignores Ctrl-C, which the sweep's process handles by terminating its workers (their runs resume from their
checkpoints). ``sweep_lock`` keeps a second sweep out of a directory that one is using.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import DirectoryBusyError, atomic_write, atomic_write_text, exclusive_lock, is_sealed
from .types import (
    HISTORY_COLUMNS,
    LOSS_COLUMNS,
    LOSS_RUN_COLUMNS,
    LOSSES_CSV,
    METRIC_COLUMNS,
    METRICS_FILE,
    PROBE,
    RESULT_COLUMNS,
    RESULT_FILE,
    RESULTS_CSV,
    RESULTS_PARQUET,
    RUNS_DIR,
    SWEEP_FILE,
    TERMS,
)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: its id, seed, grid assignment and the overrides that realise it.

    ``settings`` are the per-objective settings this run got on top of the grid (a sweep's
    ``[objective_params]`` / ``[objective_overrides]`` for its objective, as dotted config keys); they become
    columns of the results and loss tables, empty for the runs of other objectives.
    """

    run_id: str
    seed: int
    assignment: dict[str, Any]
    overrides: tuple[str, ...]
    generator: str
    objective: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, Any]:
        """Its values of the grid and setting columns; a setting wins over the grid, as in the run."""
        return {**self.assignment, **self.settings}


def run_dir(out: Path, run: PlannedRun) -> Path:
    return out / RUNS_DIR / run.run_id


#: environment variables that set the thread count of OpenMP and the BLAS libraries
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: modules the fork server of local workers imports once (``worker_context``): torch, the toolkit, and
#: ``torch._dynamo``, which the first optimiser a process builds imports (about 1 s); with these a run's
#: process imports nothing heavy (measured: its first run is as fast as its second)
PRELOAD = (
    "torch",
    "torch._dynamo",
    "interactions.experiment",
    "interactions.models",
    "interactions.objectives",
    "estimators",
    "generators",
)


def limit_threads_to_one() -> None:
    """One compute thread per worker process, so that N workers use N cores."""
    for var in THREAD_VARS:
        os.environ[var] = "1"

    if "torch" in sys.modules:  # otherwise torch reads OMP_NUM_THREADS when the run imports it
        sys.modules["torch"].set_num_threads(1)


@dataclass
class RunOutput:
    """What one run gives the sweep: its rows of the results table and of the loss table.

    Attributes:
        rows: ``RESULT_COLUMNS`` + grid columns, one row per evaluation epoch and term (or failure rows).
        losses: ``LOSS_RUN_COLUMNS`` + grid columns + ``LOSS_COLUMNS``, one row per epoch and loss term
            (empty for a failure).
        reused: the run was finished before this call and only loaded.
    """

    rows: pd.DataFrame
    losses: pd.DataFrame = field(default_factory=pd.DataFrame)
    reused: bool = False

    @property
    def failed(self) -> bool:
        return bool((self.rows["status"] == "failed").any())


class WorkerDied(RuntimeError):
    """A sweep worker process ended without returning its run's rows (killed, out of memory, ...)."""


def run_one(
    run_fn: Callable[..., Any], config: Any, run: PlannedRun, run_dir: str, limit_threads: bool = True
) -> RunOutput:
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
        return RunOutput(
            result_rows(run, result), loss_rows(run, result), bool(getattr(result, "reused", False))
        )
    except Exception as err:  # recorded and the sweep goes on; KeyboardInterrupt passes through
        atomic_write_text(Path(run_dir) / "error.txt", traceback.format_exc())
        return RunOutput(failed_rows(run, err))


#: Fixed columns of ``losses.csv``; grid-key columns follow ``seed``.


def loss_rows(run: PlannedRun, result: Any) -> pd.DataFrame:
    """The run's per-epoch loss terms (epoch means) with its identity columns, or an empty frame."""
    losses = getattr(result, "losses", None)
    if not isinstance(losses, pd.DataFrame) or losses.empty:
        return pd.DataFrame()
    return _with_identity(losses[["epoch", "name", "value"]].copy(), run, result)


def _with_identity(rows: pd.DataFrame, run: PlannedRun, result: Any = None) -> pd.DataFrame:
    """``rows`` with the run's identity columns: run_id, generator and objective (as the run's resolved
    config names them, else as planned), seed, one column per grid key and one per per-objective setting."""
    resolved = getattr(result, "config", None) or {}
    rows["run_id"] = run.run_id
    rows["generator"] = str(resolved.get("generator", {}).get("name", run.generator))
    rows["objective"] = str(resolved.get("objective", {}).get("name", run.objective))
    rows["seed"] = run.seed
    for key, value in run.columns.items():
        rows[key] = value
    return rows


def column_keys(runs: list[PlannedRun], grid_keys: list[str]) -> list[str]:
    """The tables' run columns: the grid keys, then the per-objective setting keys of ``runs`` that are not
    grid keys (in order of first appearance; empty for the other objectives' rows)."""
    settings = dict.fromkeys(k for run in runs for k in run.settings)
    return [*grid_keys, *(k for k in settings if k not in grid_keys)]


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
    rows["status"] = str(getattr(result, "status", "ok"))
    rows["error"] = ""
    return _with_identity(rows, run, result)


def failed_rows(run: PlannedRun, err: BaseException) -> pd.DataFrame:
    rows = pd.DataFrame({"term": list(TERMS)})
    rows["status"] = "failed"
    rows["error"] = f"{type(err).__name__}: {err}"
    rows["epoch"] = pd.NA
    rows["estimator"] = PROBE
    for column in METRIC_COLUMNS:
        rows[column] = np.nan
    return _with_identity(rows, run)


class ResultTable:
    """Rows of the runs done so far, written in plan order with atomic replaces."""

    def __init__(self, out: Path, runs: list[PlannedRun], grid_keys: list[str]) -> None:
        self.out, self.runs = out, runs
        self.grid_keys = column_keys(runs, grid_keys)
        self.rows: dict[str, pd.DataFrame] = {}
        self.losses: dict[str, pd.DataFrame] = {}

    @property
    def n_failed(self) -> int:
        return sum(bool((r["status"] == "failed").any()) for r in self.rows.values())

    def add(self, run: PlannedRun, rows: pd.DataFrame | RunOutput) -> None:
        if isinstance(rows, RunOutput):
            self.losses[run.run_id] = rows.losses
            rows = rows.rows
        self.rows[run.run_id] = rows

    def loss_frame(self) -> pd.DataFrame:
        """The tidy loss table (contract 8): run_id, generator, objective, seed, <grid>, epoch, name, value"""
        columns = [*LOSS_RUN_COLUMNS, *self.grid_keys, *LOSS_COLUMNS]
        parts = [
            self.losses[r.run_id] for r in self.runs if not self.losses.get(r.run_id, pd.DataFrame()).empty
        ]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        frame = pd.concat(parts, ignore_index=True).reindex(columns=columns)
        for key in self.grid_keys:
            frame[key] = _normalise_column(frame[key])
        return frame

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
            atomic_write(self.out / RESULTS_PARQUET, lambda p: frame.to_parquet(p, index=False))
        atomic_write(self.out / RESULTS_CSV, lambda p: frame.to_csv(p, index=False))
        losses = self.loss_frame()
        atomic_write(self.out / LOSSES_CSV, lambda p: losses.to_csv(p, index=False))


def _normalise_column(values: pd.Series) -> pd.Series:
    """Grid values as one parquet-friendly type: bools, numbers, or text (``repr`` of anything else)."""
    items = list(values)
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        return pd.Series(items, index=values.index, dtype=bool)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in items):
        return pd.to_numeric(values)
    return pd.Series([v if isinstance(v, str) else repr(v) for v in items], index=values.index, dtype=str)


def write_manifest(
    out: Path,
    config: Any,
    grid: dict,
    seeds: list[int],
    overrides: list[str],
    runs,
    objective_settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Write ``out/sweep.json``: the plan (config, grid, seeds, overrides, runs) and the per-objective
    settings (objective name -> {dotted config key: value}, from a sweep's ``[objective_params]`` and
    ``[objective_overrides]``; empty when none)."""
    manifest = {
        "config": config if isinstance(config, Mapping) else str(config),
        "grid": grid,
        "seeds": seeds,
        "overrides": overrides,
        "objective_settings": {k: dict(v) for k, v in (objective_settings or {}).items()},
        "runs": [{"run_id": r.run_id, "seed": r.seed, "grid": r.assignment} for r in runs],
    }
    atomic_write_text(out / SWEEP_FILE, json.dumps(manifest, indent=2, default=repr) + "\n")


def is_finished(run_dir: Path) -> bool:
    """True when ``run_dir/result.json`` exists and, if it carries a ``sha256`` seal, passes it (and its
    ``metrics_sha256`` matches ``metrics.jsonl``).

    (A damaged run is then not counted as finished: its run goes to a worker, which rebuilds it.)
    """
    path = Path(run_dir) / RESULT_FILE
    if not path.exists():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError):
        return False
    if not isinstance(data, dict) or "sha256" not in data:
        return True  # a run function of the caller's own, without seals
    if not is_sealed(data):
        return False
    if "metrics_sha256" in data:
        metrics = Path(run_dir) / METRICS_FILE
        text = metrics.read_bytes() if metrics.exists() else b""
        return hashlib.sha256(text).hexdigest() == data["metrics_sha256"]
    return True


# ---------------------------------------------------------------------------------------------- the lock
class SweepLockedError(DirectoryBusyError):
    """Another sweep holds the lock of the results directory."""


LOCK_NAME = ".sweep.lock"


def sweep_lock(out: Path) -> contextlib.AbstractContextManager:
    """Hold an exclusive lock on ``out/.sweep.lock`` for the duration of the block (``exclusive_lock``).

    Raises:
        SweepLockedError: another sweep holds it (the message names its pid, host and start time).
    """
    return exclusive_lock(
        out / LOCK_NAME,
        lambda holder: SweepLockedError(
            f"another sweep is running in {str(out)!r} ({holder}); wait for it to finish or use another --out"
        ),
    )


# --------------------------------------------------------------------------------------------- local runs
def _exit_with_parent(alive: Any) -> None:
    """Start a daemon thread that ends this process (SIGTERM to itself) when the sweep's process is gone.

    ``alive`` is the read end of a pipe whose only write end the sweep's process holds: the read end
    reports end-of-file as soon as that process ends, however it ends (``kill -9`` included), whichever
    process is this worker's parent (the sweep itself, or the fork server).
    """

    def watch() -> None:
        try:
            alive.recv()  # nothing is ever sent: returns only by EOFError when the writer is gone
        except (EOFError, OSError):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds: atomic writes remove their temporary files


def _worker_main(conn: Any, alive: Any, run_fn, config, run: PlannedRun, directory: str) -> None:
    """Body of a worker process: one run, its ``RunOutput`` sent back through ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the sweep, which terminates us
    signal.signal(signal.SIGTERM, _terminated)
    _exit_with_parent(alive)
    output = run_one(run_fn, config, run, directory)
    conn.send(output)
    conn.close()


def _stop(processes: list[Any], grace_s: float = 10.0) -> None:
    """Terminate worker processes, then kill those that do not end within ``grace_s``."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def worker_context() -> Any:
    """The multiprocessing context of local sweep workers.

    A fork server that has imported torch and the toolkit once (``PRELOAD``): each run's process is a fork
    of it, so a run does not pay for importing torch (about 3 s on a small CPU). The server is started with
    one OpenMP/BLAS thread in its environment, the setting of every worker (``limit_threads_to_one``), so
    no thread pool exists when it forks. Where the platform has no fork server (Windows), ``spawn``.
    """
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    saved = {var: os.environ.get(var) for var in THREAD_VARS}
    os.environ.update({var: "1" for var in THREAD_VARS})
    try:
        forkserver.ensure_running()
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    return context


def execute_local(
    run_fn, config, pending: list[PlannedRun], out: Path, workers: int, on_done, fail_fast: bool = False
) -> list[PlannedRun]:
    """Run ``pending``: in this process when ``workers == 1``, else one process per run (``worker_context``).

    ``on_done(run, RunOutput)`` is called in this process as each run ends. With ``fail_fast``, the first
    failure stops the sweep: no further run starts and running ones are terminated (they resume later).

    Returns:
        The runs that were not run (non-empty only after a fail-fast stop).
    """
    if workers == 1:
        for i, run in enumerate(pending):
            output = run_one(run_fn, config, run, str(run_dir(out, run)), limit_threads=False)
            on_done(run, output)
            if fail_fast and output.failed:
                return pending[i + 1 :]
        return []
    from multiprocessing.connection import wait

    context = worker_context()
    queue = list(pending)
    # receiving end of the result pipe -> (process, run, write end of its parent-alive pipe)
    running: dict[Any, tuple[Any, PlannedRun, Any]] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                run = queue.pop(0)
                receive, send = context.Pipe(duplex=False)
                alive_r, alive_w = context.Pipe(duplex=False)
                process = context.Process(
                    target=_worker_main,
                    args=(send, alive_r, run_fn, config, run, str(run_dir(out, run))),
                    name=f"sweep-run-{run.run_id}",
                    daemon=True,
                )
                process.start()
                send.close()
                alive_r.close()
                running[receive] = (process, run, alive_w)
            for receive in wait(list(running)):
                process, run, alive_w = running.pop(receive)
                try:
                    output = receive.recv()
                except EOFError:  # the worker died before sending anything
                    output = None
                receive.close()
                process.join()
                alive_w.close()
                if output is None:
                    err = WorkerDied(
                        f"worker process of run {run.run_id} died (exit code {process.exitcode})"
                    )
                    output = RunOutput(failed_rows(run, err))
                on_done(run, output)
                if fail_fast and output.failed:
                    left = [r for _, r, _ in running.values()] + queue
                    _stop([p for p, _, _ in running.values()])
                    return left  # their parent-alive pipes are closed below
    except BaseException:
        _stop([p for p, _, _ in running.values()])
        raise
    finally:
        for _, _, alive_w in running.values():
            alive_w.close()
    return []


def execute_ray(run_fn, config, pending, out: Path, workers: int, on_done, resources) -> None:
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "backend='ray' needs Ray, an optional extra: pip install 'comm-interactions[ray]'"
        ) from err
    if not ray.is_initialized():
        try:
            ray.init(address="auto")  # an existing cluster (RAY_ADDRESS, or one started on this node)
        except (ConnectionError, RuntimeError, ValueError):
            print(
                "interactions: no running Ray cluster found; starting a local Ray instance on this machine "
                "(give --address, or set RAY_ADDRESS, to use a cluster)",
                file=sys.stderr,
            )
            ray.init()
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
                    output = ray.get(ref)
                except Exception as err:  # task or node lost
                    output = RunOutput(failed_rows(run, err))
                on_done(run, output)
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
