"""Resumable, crash-safe sweeps: every combination of a grid of config values and seeds, one tidy table.

A sweep runs ``config + overrides + one grid assignment + seed`` for every assignment of the grid's cross
product and every seed, each in its own run directory ``out/runs/<run_id>/``. After every finished run the
tidy results table (one row per run, evaluation epoch and term; columns ``RESULT_COLUMNS`` plus one column
per grid key, named by the dotted key) is rewritten atomically to ``out/results.parquet`` (when pyarrow is
installed) and ``out/results.csv``.

Resuming. Rerunning the same command plans the same ``run_id`` values, so:

* a run whose ``result.json`` exists is finished: it is loaded (the run function, called with
  ``resume=True``, reads the result without training) in the main process and not run again;
* an interrupted run (``checkpoint.pt`` but no ``result.json``) is started again on the same directory with
  ``resume=True`` and the run function continues from its checkpoint;
* a failed run has no ``result.json`` either, so it is retried.

Reusing and extending other sweeps. ``reuse=[DIR]`` copies the finished runs of another sweep directory with
the same run ids (an ``export_sweep`` copy, say) instead of training them; ``extend=DIR`` starts each planned
run from the checkpoint of the run of ``DIR`` that is the same run trained fewer epochs
(``extend_shorter_runs``), which then resumes like an interrupted run.

Failures. Every planned run's config is resolved before the first run starts, so a bad grid value (an
unknown objective, a misspelt key) stops the sweep at once with a ``ValueError`` naming the runs. An
exception inside a run is recorded as **one row per term** of ``TERMS`` with ``status = "failed"``, the
error text (``"TypeName: message"``; the full traceback goes to the run's ``error.txt``), ``epoch``
missing and every metric NaN; the sweep goes on (``fail_fast=True`` stops it instead), and the next call
retries the failed runs. ``KeyboardInterrupt`` is not a failure: the
sweep stops, the table written so far stays intact (every file is written to a temporary name and moved
into place with ``os.replace``) and the interrupt is re-raised for the caller (the CLI exits with 130).

One sweep at a time per directory: ``sweep`` holds an exclusive lock on ``out/.sweep.lock`` while it runs
(``SweepLockedError`` for a second one; ``export_sweep`` takes no lock and may read a running sweep). The
table is rebuilt from the run directories at every call, so a missing or damaged ``results.csv`` comes back
as it was; ``losses.csv`` beside it holds every run's per-epoch loss terms (columns ``run_id, generator,
objective, seed, <grid keys>, epoch, name, value``).

Run ids. ``run_id`` is the first 10 hex digits of the SHA-256 of the canonical JSON of ``{"config":
<config as given: name, path string or dict>, "overrides": [...], "grid": {key: value}, "seed": seed}``. It
depends only on what the command says, so it is stable across reruns and machines, and changes when any of
those does (``True`` and ``1`` hash differently).

Checked before the first run. With the default run function, every planned run's config (base config,
overrides, grid assignment, per-objective overrides, seed) is resolved (``check_configs``) before
anything is trained, so a bad grid value fails at once with an error naming the run and the key.
Objectives registered from Python (``interactions.register_objective``) are re-registered in every
worker process from their ``"module:qualname"``; one that cannot be imported by name is refused up front.

Sweep files (``interactions/configs/sweeps/*.toml`` or any TOML path)::

    description = "XOR: all objectives x seeds 0-2"
    config = "xor"                      # base config: shipped name or path (relative to this file)
    seeds = "0-2"                       # or a list [0, 1, 2]
    overrides = ["train.epochs=10"]     # optional, applied to every run (TOML values)

    [grid]                              # dotted config keys -> lists of values (their cross product)
    "objective.name" = ["comm", "supervised", "factorcl"]

    [objective_params.supervised]       # parameters only runs of one objective get
    target = "synergy"                  #   (= objective.params.target for the supervised runs)

    [objective_overrides.factorcl]      # any config keys only runs of one objective get
    "train.lr" = 1e-4                   #   quoted dotted keys, or nested tables:
    train.weight_decay = 0.0            #   TOML dotted keys give {"train": {"weight_decay": 0.0}}
    train.epochs = 40

Per-objective values are applied after the grid assignment (so they win over it) and are part of the
run's identity (its ``run_id``).

Backends. ``"local"``: one process per run, at most ``workers`` at a time, forked from a fork server that
imported torch once (``sweep_runner.worker_context``; ``workers=1`` runs in this process), each limited to
one torch/BLAS thread so that N workers use N cores. ``"ray"``: the same
runs as Ray tasks (one CPU each, see ``resources``) on the cluster found by ``ray.init(address="auto")``,
or a local Ray instance; ``out`` must then be on a file system that every node sees.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import DamagedFileError
from .config_io import flatten, format_value, load, parse_value, tomllib
from .registry import suggest
from .sweep_runner import (
    PlannedRun,
    ResultTable,
    SweepLockedError,
    column_keys,
    execute_local,
    execute_ray,
    is_finished,
    run_dir,
    run_one,
    sweep_lock,
    write_manifest,
)
from .types import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    RESULT_COLUMNS,
    RESULT_FILE,
    RESULTS_CSV,
    RUNS_DIR,
    SWEEP_FILE,
    SWEEP_TABLES,
)

#: The execution backends of ``sweep``.
_BACKENDS = ("local", "ray")

__all__ = [
    "RESULT_COLUMNS",
    "PlannedRun",
    "SweepLockedError",
    "copy_finished_runs",
    "export_sweep",
    "extend_shorter_runs",
    "load_objective_params",
    "load_objective_settings",
    "load_sweep",
    "objective_settings",
    "parse_grid",
    "parse_seeds",
    "plan_runs",
    "run_id_for",
    "shipped_sweeps",
    "sweep",
]


def copy_finished_runs(
    run_ids: Iterable[str],
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    skip: Sequence[str] = (),
) -> int:
    """Copy the runs ``run_ids`` that ``source`` (a sweep directory) has finished into the sweep ``out``.

    A run id is the hash of a run's whole configuration (``run_id_for``), so a copied run is the run the
    sweep ``out`` would train (e.g. the README main job's CoMM runs inside a benchmark of more objectives).
    Only runs finished as a sweep judges them (sealed result and metrics, ``sweep_runner.is_finished``) are
    copied; a run already present in ``out`` is left alone.

    Args:
        skip: file names left out of every copied run directory, e.g. ``("checkpoint.pt",)``: a finished
            run is loaded from its ``result.json`` alone, so its checkpoint is only needed to re-probe it.

    Returns:
        The number of runs copied.
    """
    src_runs, dst_runs = Path(source) / RUNS_DIR, Path(out) / RUNS_DIR
    ignore = shutil.ignore_patterns(*skip) if skip else None
    copied = 0
    for run_id in run_ids:
        src, dst = src_runs / run_id, dst_runs / run_id
        if dst.exists() or not is_finished(src):
            continue
        dst_runs.mkdir(parents=True, exist_ok=True)
        tmp = dst_runs / f".{run_id}.copy"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp, ignore=ignore)
        os.replace(tmp, dst)  # atomic: a half-copied run is never taken for a finished one
        copied += 1
    return copied


def extend_shorter_runs(
    config: Any,
    runs: Sequence[PlannedRun],
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    write: bool = True,
) -> dict[str, str]:
    """Start the planned runs that ``out`` lacks from the checkpoints of a shorter sweep ``source``.

    A planned run is paired with the run of ``source`` whose resolved config equals its own except for
    ``experiment.EXTENDABLE_KEYS`` (its number of epochs and probing schedule) and which it may continue
    (``experiment.continuable_checkpoint``: constant rate, no progress-following objective, no more epochs
    than planned); of several, the one whose checkpoint holds the most epochs. Its directory in ``out`` then
    receives that checkpoint (``write_continuation``), the sweep resumes it like an interrupted run, and it
    ends with the numbers of a run trained straight through (the run ids differ: a run id hashes the whole
    config, epochs included). A planned run already present in ``out``, without a match, or whose match is
    refused (an exported run has no checkpoint) trains from its own start.

    Args:
        write: False only says which runs would be extended (a dry run).

    Returns:
        Run id -> the directory of the run of ``source`` it continues.

    Raises:
        ValueError: ``source`` is not a sweep directory (no ``runs/``).
    """
    from .config import resolve
    from .experiment import continuable_checkpoint, length_free, write_continuation

    source_runs = Path(source) / RUNS_DIR
    if not source_runs.is_dir():
        raise ValueError(f"extend: {str(source)!r} is not a sweep directory: it has no {RUNS_DIR}/")

    def identity(cfg: dict[str, Any]) -> str:
        return json.dumps(length_free(cfg), sort_keys=True, default=str)

    candidates: dict[str, list[Path]] = {}
    for directory in sorted(source_runs.iterdir()):
        stored = directory / CONFIG_FILE
        if not (directory / CHECKPOINT_FILE).is_file() or not stored.is_file():
            continue
        try:
            cfg = resolve(tomllib.loads(stored.read_text(encoding="utf-8"))).config
        except (ValueError, TypeError, UnicodeDecodeError):
            continue  # not a run this version can continue
        candidates.setdefault(identity(cfg), []).append(directory)
    extended = {}
    for run in runs:
        target = run_dir(Path(out), run)
        if target.exists():
            continue
        exp = resolve(config, list(run.overrides), seed=run.seed)
        accepted = {}
        for directory in candidates.get(identity(exp.config), []):
            try:
                accepted[directory] = continuable_checkpoint(directory, exp)
            except ValueError:
                continue  # a longer run, a schedule, a damaged checkpoint: not this run's start
        if not accepted:
            continue
        match = max(accepted, key=lambda directory: int(accepted[directory]["epoch"]))
        if write:
            target.mkdir(parents=True)
            write_continuation(accepted[match], exp, target)
        extended[run.run_id] = str(match)
    return extended


def export_sweep(source: str | os.PathLike[str], dest: str | os.PathLike[str], *, tries: int = 20) -> int:
    """Copy a sweep's tables and finished runs, without checkpoints, into the new directory ``dest``.

    The copy is small (a few KB per run: ``result.json``, ``metrics.jsonl``, ``config.toml``,
    ``env.json``), so a long sweep's outcome can be committed or shared: ``reports`` and
    ``load_results`` read it like the sweep itself, and ``sweep(..., reuse=[dest])`` (CLI ``--reuse``)
    continues the sweep from it on another machine or in a later session, training only the runs it lacks.
    Unfinished runs (interrupted, failed) are left out, and so is each copied run's ``checkpoint.pt``.

    A sweep may be running in ``source``: the export is a snapshot of the runs its tables list. The sweep
    seals a run before it rewrites its tables (each file replaced atomically), so every run a table lists as
    finished is complete; a run finished after the tables were read is left for the next export. The tables
    are read before and after the runs are copied and the copy starts again if they changed in between, so
    the exported tables and runs always agree.

    Args:
        tries: how many times to start again when the sweep rewrites its tables during the copy.

    Returns:
        The number of runs copied.

    Raises:
        ValueError: ``source`` has no ``sweep.json`` (not a sweep directory), ``dest`` exists and is
            not empty, or ``tries`` is below 1.
        RuntimeError: the tables changed during each of ``tries`` copies.
    """
    source, dest = Path(source), Path(dest)
    if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
        raise ValueError(f"tries must be a positive int, got {tries!r}")
    if not (source / SWEEP_FILE).is_file():
        raise ValueError(f"{str(source)!r} is not a sweep directory: it has no sweep.json")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(f"export destination {str(dest)!r} exists and is not empty; choose a new one")
    tmp = dest.with_name(f".{dest.name}.export")
    for _ in range(tries):
        tables = read_sweep_tables(source)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        copied = copy_finished_runs(listed_runs(tables), source, tmp, skip=(CHECKPOINT_FILE,))
        if read_sweep_tables(source) == tables:
            break
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(
            f"the tables of {str(source)!r} changed during each of {tries} export attempts; try again"
        )
    for name, content in tables.items():
        (tmp / name).write_bytes(content)
    if dest.exists():
        dest.rmdir()  # empty, checked above
    os.replace(tmp, dest)  # atomic: a half-written export never looks finished
    return copied


def read_sweep_tables(source: Path) -> dict[str, bytes]:
    """The bytes of each of a sweep's tables (``SWEEP_TABLES``) that exist, by file name."""
    return {name: (source / name).read_bytes() for name in SWEEP_TABLES if (source / name).is_file()}


def listed_runs(tables: Mapping[str, bytes]) -> list[str]:
    """The run ids of a sweep's tables: those of ``results.csv`` when it exists (a snapshot of the runs
    done), else every run of ``sweep.json``'s plan."""
    if RESULTS_CSV in tables:
        frame = pd.read_csv(io.BytesIO(tables[RESULTS_CSV]), usecols=["run_id"], dtype=str)
        return list(dict.fromkeys(frame["run_id"]))
    return [run["run_id"] for run in json.loads(tables[SWEEP_FILE].decode("utf-8"))["runs"]]


def run_id_for(config: Any, overrides: Sequence[str], assignment: Mapping[str, Any], seed: int) -> str:
    """The short stable hash that names a run (see the module docstring)."""
    identity = config if isinstance(config, Mapping) else str(config)
    payload = {"config": identity, "overrides": list(overrides), "grid": dict(assignment), "seed": int(seed)}
    text = json.dumps(payload, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def plan_runs(
    config: Any,
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    overrides: Sequence[str] = (),
    objective_params: Mapping[str, Mapping[str, Any]] | None = None,
    objective_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[PlannedRun]:
    """Every (grid assignment, seed) as a ``PlannedRun``, grid keys varying slowest, seeds fastest.

    ``objective_params`` maps an objective name to parameters that only runs of that objective get
    (e.g. ``{"supervised": {"target": "synergy"}}``); ``objective_overrides`` maps it to any dotted config
    keys (e.g. ``{"factorcl": {"train.lr": 1e-4}}``, nested tables allowed). Both are applied after the
    grid assignment.
    """
    keys = list(grid)
    per_objective = objective_settings(objective_params, objective_overrides)
    base_generator, base_objective = base_names(config, overrides)
    runs = []
    for values in itertools.product(*(grid[k] for k in keys)):
        assignment = dict(zip(keys, values))
        generator = str(assignment.get("generator.name", base_generator))
        objective = str(assignment.get("objective.name", base_objective))
        extra = tuple(f"{k}={format_value(v)}" for k, v in assignment.items())
        own = tuple(f"{k}={format_value(v)}" for k, v in per_objective.get(objective, {}).items())
        extra += own
        for seed in seeds:
            run_id = run_id_for(config, [*overrides, *own], assignment, seed)
            runs.append(
                PlannedRun(
                    run_id,
                    seed,
                    assignment,
                    tuple(overrides) + extra,
                    generator,
                    objective,
                    dict(per_objective.get(objective, {})),
                )
            )
    return runs


def _check_objective_params(params: Mapping[str, Any], label: str = "objective_params") -> dict[str, dict]:
    if not isinstance(params, Mapping):
        raise ValueError(f"{label} must map objective names to tables, got {params!r}")
    for name, table in params.items():
        if not isinstance(table, Mapping):
            raise ValueError(f"{label}[{name!r}] must be a table of config values, got {table!r}")
    return {str(k): dict(v) for k, v in params.items()}


def objective_settings(
    objective_params: Mapping[str, Mapping[str, Any]] | None = None,
    objective_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Objective name -> ``{dotted config key: value}`` that only runs of that objective get.

    ``objective_params[name][k]`` becomes ``objective.params.k``; ``objective_overrides[name]`` gives any
    keys (dotted, or nested tables that are flattened). An override of ``objective.params.k`` given both
    ways is an error.
    """
    params = _check_objective_params(objective_params or {})
    overrides = _check_objective_params(objective_overrides or {}, "objective_overrides")
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys([*params, *overrides]):
        own = flatten(params.get(name, {}), "objective.params.")
        more = flatten(overrides.get(name, {}))
        both = sorted(set(own) & set(more))
        if both:
            raise ValueError(
                f"objective {name!r}: {both} set in both objective_params and objective_overrides"
            )
        out[name] = {**own, **more}
    return out


def sweep(
    config: Any,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] | str | None = None,
    *,
    overrides: Sequence[str] | None = None,
    workers: int = 1,
    backend: str = "local",
    out: str | os.PathLike[str],
    progress: bool = True,
    run_fn: Callable[..., Any] | None = None,
    resources: Mapping[str, float] | None = None,
    objective_params: Mapping[str, Mapping[str, Any]] | None = None,
    objective_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    fail_fast: bool = False,
    dry_run: bool = False,
    reuse: Sequence[str | os.PathLike[str]] = (),
    extend: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Run every grid assignment x seed, resumably, and return the tidy results table.

    Args:
        config: a base config (shipped name, TOML path or dict) when ``grid`` is given; when ``grid`` is
            None, a sweep definition (name under ``interactions/configs/sweeps`` or a TOML path, see
            ``load_sweep``) whose grid, seeds and overrides are used (``seeds`` and ``overrides`` given
            here replace / extend them).
        grid: dotted config key -> list of values, e.g. ``{"objective.name": ["comm", "cross"]}``.
        seeds: list of ints or a ``parse_seeds`` string such as ``"0-4"``.
        overrides: ``"dotted.key=value"`` strings applied to every run, before the grid assignment.
        workers: local worker processes (1 = in this process); with Ray, the cap on runs in flight
            (1 = no cap, Ray schedules by CPUs).
        backend: ``"local"`` or ``"ray"``.
        out: sweep directory (created); runs go to ``out/runs/<run_id>/``.
        progress: show a tqdm bar (runs done, ETA).
        run_fn: the function that runs one experiment, ``interactions.experiment.run`` by default; must be
            importable by name (module-level) when ``workers > 1`` or with Ray.
        resources: Ray resources per run, default ``{"num_cpus": 1}`` (e.g. add ``"num_gpus": 1``).
        objective_params: objective name -> parameters given only to runs of that objective (see
            ``plan_runs``); a sweep file's ``[objective_params]`` table, extended by this argument.
        objective_overrides: objective name -> any config keys given only to runs of that objective
            (e.g. ``{"factorcl": {"train.lr": 1e-4}}``); a sweep file's ``[objective_overrides]``, extended.
        fail_fast: stop at the first failed run (running ones are terminated and resume on the next call);
            local backend only.
        dry_run: plan only: check that every planned config resolves, then return the planned runs
            (``run_id``, ``seed``, ``generator``, ``objective``, grid columns, per-objective settings and
            ``state``: "finished", "reusable", "interrupted", "failed" or "new") without training or
            writing anything.
        reuse: other sweep directories whose finished runs with the same run ids (the same whole config)
            are copied into ``out`` before any run starts (``copy_finished_runs``); they count as reused.
        extend: a sweep directory holding the same runs trained for fewer epochs (e.g. this sweep at
            ``train.epochs=64`` where this call plans 96): each planned run that ``out`` lacks starts from
            its shorter run's checkpoint there (``extend_shorter_runs``) and ends with the numbers of a
            run trained straight through; the others train from their start.

    Returns:
        The results table of the planned runs done so far (``RESULT_COLUMNS`` + grid-key columns), in plan
        order; ``table.attrs["summary"]`` counts them: ``planned``, ``trained`` (this call; ``extended``
        of them continued shorter runs), ``reused``
        (finished before), ``failed`` (with ``failures``: run id -> first error line), ``not_run`` (after
        a fail-fast stop), ``copied`` (source directory -> runs copied from it) and ``elapsed_s``;
        ``format_summary`` prints it.

    Raises:
        ValueError: bad grid, seeds, workers or backend, or a planned config that does not resolve (named
            in the message), before any run starts.
        SweepLockedError: another sweep is running in ``out``.
        KeyboardInterrupt: re-raised after the table of the finished runs has been written.
    """
    started = time.perf_counter()
    if grid is None:
        sweep_file = config
        config, grid, file_seeds, file_overrides = load_sweep(sweep_file)
        seeds = file_seeds if seeds is None else seeds
        overrides = [*file_overrides, *(overrides or [])]
        objective_params = {**load_objective_params(sweep_file), **(objective_params or {})}
        file_overrides_by_objective = _read_sweep_file(sweep_file)[1].get("objective_overrides", {})
        objective_overrides = {**file_overrides_by_objective, **(objective_overrides or {})}
    grid = _check_grid(grid)
    seeds = parse_seeds(seeds) if isinstance(seeds, str) else _check_seeds(seeds)
    overrides = [str(o) for o in (overrides or [])]
    if backend not in _BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    out = Path(out)
    runs = plan_runs(config, grid, seeds, overrides, objective_params, objective_overrides)
    if run_fn is None:
        check_configs(config, runs)  # a dry run too: a plan whose configs do not resolve is no plan
    if dry_run:
        extendable = extend_shorter_runs(config, runs, extend, out, write=False) if extend else {}
        return plan_table(out, runs, list(grid), reuse, extendable)
    if run_fn is None:
        from .experiment import run as run_fn
    if backend == "ray" or workers > 1:
        run_fn = _with_registrations(run_fn, runs)
    with sweep_lock(out):
        (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        copied = {str(source): copy_finished_runs([r.run_id for r in runs], source, out) for source in reuse}
        extended = extend_shorter_runs(config, runs, extend, out) if extend else {}
        settings = {run.objective: run.settings for run in runs if run.settings}
        write_manifest(out, config, grid, seeds, overrides, runs, settings)
        table = _execute(
            run_fn, config, runs, list(grid), out, workers, backend, progress, resources, fail_fast, started
        )
        table.attrs["summary"]["copied"] = copied
        table.attrs["summary"]["extended"] = len(extended)
        return table


def format_summary(summary: Mapping[str, Any]) -> str:
    """One line for a sweep's ``table.attrs["summary"]``: runs trained, reused (copied), failed, time."""
    copied = sum(summary.get("copied", {}).values())
    reused = f"{summary.get('reused', 0)} reused" + (f" ({copied} copied)" if copied else "")
    extended = summary.get("extended", 0)
    trained = f"{summary.get('trained', 0)} trained" + (f" ({extended} extended)" if extended else "")
    stopped = f", {summary['not_run']} not run (fail-fast)" if summary.get("not_run") else ""
    return (
        f"{summary.get('planned', 0)} runs: {trained}, {reused}, "
        f"{summary.get('failed', 0)} failed{stopped} in {summary.get('elapsed_s', 0.0):.1f} s"
    )


def _execute(run_fn, config, runs, grid_keys, out, workers, backend, progress, resources, fail_fast, started):
    """The body of ``sweep`` once the lock is held: load finished runs, run the others, keep the table."""
    table = ResultTable(out, runs, grid_keys)
    finished = [r for r in runs if is_finished(run_dir(out, r))]
    pending = [r for r in runs if r not in finished]
    counts = {"trained": 0, "reused": 0, "failed": 0}

    def tally(output, loaded: bool) -> None:
        kind = "failed" if output.failed else "reused" if loaded or output.reused else "trained"
        counts[kind] += 1

    for run in finished:  # loaded, not trained: the run function reads result.json
        output = run_one(run_fn, config, run, str(run_dir(out, run)), limit_threads=False)
        table.add(run, output)
        tally(output, loaded=True)
    table.write()

    from tqdm.auto import tqdm

    bar = tqdm(total=len(runs), initial=len(finished), disable=not progress, desc="sweep", unit="run")

    def on_done(run: PlannedRun, output) -> None:
        table.add(run, output)
        table.write()
        tally(output, loaded=False)
        bar.update(1)
        bar.set_postfix(failed=table.n_failed, refresh=False)

    not_run: list[PlannedRun] = []
    try:
        if backend == "ray":
            execute_ray(run_fn, config, pending, out, workers, on_done, resources)
        else:
            not_run = execute_local(run_fn, config, pending, out, workers, on_done, fail_fast=fail_fast)
    finally:
        bar.close()
    frame = table.frame()
    failed = frame[frame["status"] == "failed"].groupby("run_id", sort=False)["error"].first()
    frame.attrs["summary"] = {
        "planned": len(runs),
        **counts,
        "failures": {
            str(run_id): (str(error).strip().splitlines() or [""])[0] for run_id, error in failed.items()
        },
        "not_run": len(not_run),
        "elapsed_s": time.perf_counter() - started,
    }
    return frame


def check_configs(config: Any, runs: Sequence[PlannedRun]) -> None:
    """Resolve every planned run's config (no training) and raise one ``ValueError`` naming each bad run.

    Runs that differ only by seed share one check.
    """
    from .config import resolve

    problems, seen = [], set()
    for run in runs:
        if run.overrides in seen:
            continue
        seen.add(run.overrides)
        try:
            resolve(config, list(run.overrides), seed=run.seed)
        except (ValueError, TypeError) as err:
            where = ", ".join(f"{k}={v!r}" for k, v in run.assignment.items()) or "the base config"
            problems.append(f"{where}: {err}")
    if problems:
        raise ValueError(
            f"{len(problems)} planned config(s) of the sweep do not resolve; " + "; ".join(problems)
        )


def plan_table(
    out: Path,
    runs: Sequence[PlannedRun],
    grid_keys: Sequence[str],
    reuse: Sequence[str | os.PathLike[str]] = (),
    extendable: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The planned runs and the state of their directories: run id, seed, generator, objective, the grid
    keys, the per-objective settings (empty for the other objectives), ``state`` and ``epoch``.

    ``state``: "finished", "running" (a process holds the run directory, ``run_dir_busy``: a sweep is
    training it now), "interrupted" (a checkpoint and no process), "failed", "reusable" (absent from
    ``out`` and finished in one of the ``reuse`` directories, so it would be copied), "extendable" (absent,
    and a run id of ``extendable``, the runs ``extend_shorter_runs`` would start from a shorter run) or
    "new". ``epoch``: the epochs a running or interrupted run's checkpoint holds (missing otherwise, and
    for a damaged checkpoint)."""
    from .experiment import run_dir_busy

    keys = column_keys(list(runs), list(grid_keys))
    rows = []
    for run in runs:
        directory = run_dir(out, run)
        epoch = None
        if (directory / RESULT_FILE).exists():
            state = "finished"
        elif (directory / CHECKPOINT_FILE).exists():
            state = "running" if run_dir_busy(directory) else "interrupted"
            epoch = checkpoint_epoch(directory / CHECKPOINT_FILE)
        elif (directory / "error.txt").exists():
            state = "failed"
        elif not directory.exists() and any(is_finished(Path(s) / RUNS_DIR / run.run_id) for s in reuse):
            state = "reusable"  # copy_finished_runs never copies over a run directory that exists
        elif run.run_id in (extendable or {}):
            state = "extendable"
        else:
            state = "new"
        rows.append(
            {"run_id": run.run_id, "seed": run.seed, "generator": run.generator, "objective": run.objective}
            | {key: run.columns.get(key) for key in keys}
            | {"state": state, "epoch": epoch}
        )
    table = pd.DataFrame(rows)
    if not table.empty:
        table["epoch"] = table["epoch"].astype("Int64")
    return table


def checkpoint_epoch(path: Path) -> int | None:
    """The epochs a run's checkpoint holds; None when it is damaged (or being replaced)."""
    import torch

    from .training import load_checkpoint

    try:
        return int(load_checkpoint(path, torch.device("cpu"))["epoch"])
    except (DamagedFileError, OSError, KeyError):
        return None


class _RegisteredObjectives:
    """A run function that first re-registers this process's Python-registered objectives (picklable).

    Sweep workers did not run this process's registrations (fork-server children, Ray tasks): ``OBJECTIVES``
    there holds only the built-in
    objectives, so the records ``"module:qualname"`` of ``interactions.objectives.registrations()`` are
    replayed before each run.
    """

    def __init__(self, run_fn: Callable[..., Any], records: dict[str, str]) -> None:
        self.run_fn, self.records = run_fn, records

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .objectives import replay_registrations

        replay_registrations(self.records)
        return self.run_fn(*args, **kwargs)


def _with_registrations(run_fn: Callable[..., Any], runs: Sequence[PlannedRun]) -> Callable[..., Any]:
    """``run_fn`` wrapped to replay registered objectives in workers; refuses unimportable ones used."""
    import sys

    if "interactions.objectives" not in sys.modules:  # nothing can have been registered
        return run_fn
    from .objectives import registrations, unimportable_message

    records = registrations()
    if not records:
        return run_fn
    used = {r.objective for r in runs}
    for name, path in records.items():
        if path is None and name in used:
            raise ValueError(unimportable_message(name))
    return _RegisteredObjectives(run_fn, {n: p for n, p in records.items() if p is not None})


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``"1,[2,3],'a,b'"`` -> ``["1", "[2,3]", "'a,b'"]``."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """Parse ``--grid`` items ``"dotted.key=v1,v2,..."`` into ``{key: [values]}``.

    Values follow TOML, as in config files (``1``, ``1e-3``, ``true``, ``[1, 2]``, ``"text"``); a value
    that is not TOML (``comm``) is text, accepted only where the key expects text. Commas inside
    brackets or quotes do not split.

    Example:
        >>> parse_grid(["objective.name=comm,cross", "generator.params.synergy=1,2"])
        {'objective.name': ['comm', 'cross'], 'generator.params.synergy': [1, 2]}

    Raises:
        ValueError: an item without ``=``, an empty key or value, a key given twice or a repeated value.
    """
    if isinstance(items, str):
        items = [items]
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"grid item {item!r} must look like 'dotted.key=v1,v2'")
        if key in grid:
            raise ValueError(f"grid key {key!r} given twice ({item!r})")
        parts = _split_top_level(values)
        if any(not p.strip() for p in parts):
            raise ValueError(f"grid item {item!r} has an empty value")
        grid[key] = [parse_value(p) for p in parts]
    return _check_grid(grid)


def parse_seeds(text: str) -> list[int]:
    """Parse ``"0-4"`` (inclusive), ``"0,2,5"``, ``"7"`` or a mix (``"0-2,9"``) into a list of seeds.

    Raises:
        ValueError: anything else (a negative seed, a reversed range, a repeat), naming the input.
    """
    seeds: list[int] = []
    for part in str(text).split(","):
        first, dash, last = part.strip().partition("-")
        try:
            lo = int(first)
            hi = int(last) if dash else lo
        except ValueError:
            raise ValueError(f"bad seeds {text!r}: {part.strip()!r} is not 'N' or 'A-B'") from None
        if hi < lo:
            raise ValueError(f"bad seeds {text!r}: range {part.strip()!r} is reversed")
        seeds.extend(range(lo, hi + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"bad seeds {text!r}: a seed repeats")
    return seeds


_SWEEPS_DIR = Path(__file__).parent / "configs" / "sweeps"
_SWEEP_KEYS = (
    "config", "grid", "seeds", "overrides", "description", "objective_params", "objective_overrides",
)  # fmt: skip


def load_sweep(
    name_or_path: str | os.PathLike[str],
) -> tuple[Any, dict[str, list[Any]], list[int], list[str]]:
    """Read a sweep definition: a name under ``interactions/configs/sweeps/`` or a TOML path.

    The file has top-level ``config`` (base config name or path; a relative ``.toml`` path is taken
    relative to the sweep file), ``seeds`` (``"42-46"`` or a list), optional ``overrides`` (list of
    ``"key=value"``), ``description`` and ``[objective_params]`` (see ``load_objective_params``), and a
    ``[grid]`` table of quoted dotted keys -> lists.

    Returns:
        ``(config, grid, seeds, overrides)``, ready for ``sweep``.
    """
    path, spec = _read_sweep_file(name_or_path)
    for key in ("config", "grid", "seeds"):
        if key not in spec:
            raise ValueError(f"sweep file {str(path)!r} lacks {key!r}")
    config = spec["config"]
    if isinstance(config, str) and config.endswith(".toml") and not Path(config).is_absolute():
        config = str((path.parent / config).resolve())
    seeds = spec["seeds"]
    seeds = parse_seeds(seeds) if isinstance(seeds, str) else _check_seeds(seeds)
    overrides = spec.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o for o in overrides):
        raise ValueError(
            f"sweep file {str(path)!r}: overrides must be a list of 'key=value', got {overrides!r}"
        )
    return config, _check_grid(spec["grid"]), seeds, overrides


def _read_sweep_file(name_or_path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """Locate (shipped name or path), parse and key-check a sweep file."""
    path = Path(name_or_path)
    if not path.is_file():
        shipped = sorted(p.stem for p in _SWEEPS_DIR.glob("*.toml"))
        path = _SWEEPS_DIR / f"{Path(name_or_path).stem}.toml"
        if not path.is_file():
            raise ValueError(
                f"unknown sweep {str(name_or_path)!r}{suggest(str(name_or_path), shipped)}; "
                f"shipped: {', '.join(shipped)} (or give a TOML path)"
            )
    try:
        with open(path, "rb") as handle:
            spec = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"sweep file {str(path)!r} is not valid TOML: {err}") from None
    unknown = [k for k in spec if k not in _SWEEP_KEYS]
    if unknown:
        raise ValueError(
            f"sweep file {str(path)!r}: unknown key {unknown[0]!r}{suggest(unknown[0], _SWEEP_KEYS)}"
        )
    return path, spec


def shipped_sweeps() -> list[tuple[str, str]]:
    """``(name, description)`` of every sweep definition under ``interactions/configs/sweeps/``."""
    entries = []
    for path in sorted(_SWEEPS_DIR.glob("*.toml")):
        try:
            with open(path, "rb") as handle:
                description = str(tomllib.load(handle).get("description", ""))
        except (OSError, ValueError):
            description = "(unreadable file)"
        entries.append((path.stem, " ".join(description.split())))
    return entries


def load_objective_params(name_or_path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """A sweep file's optional ``[objective_params]`` table: objective name -> its own parameters.

    Example: ``[objective_params.supervised]`` with ``target = "synergy"`` gives the supervised runs of a
    grid over ``objective.name`` their required target without passing it to the other objectives.
    """
    _, spec = _read_sweep_file(name_or_path)
    return _check_objective_params(spec.get("objective_params", {}))


def load_objective_settings(name_or_path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """A sweep file's per-objective settings, ``[objective_params]`` and ``[objective_overrides]`` together:
    objective name -> ``{dotted config key: value}`` (``objective_settings``), as its runs get them."""
    _, spec = _read_sweep_file(name_or_path)
    return objective_settings(spec.get("objective_params", {}), spec.get("objective_overrides", {}))


def base_names(config: Any, overrides: Sequence[str] = ()) -> tuple[str, str]:
    """Best-effort (generator name, objective name) of a config before running it ("" when unknown).

    Used only to label failed runs; successful runs take the names from the resolved config.
    """
    try:
        tree: Mapping[str, Any] = load(config)
    except (ValueError, TypeError, OSError):  # the run itself reports a broken config
        tree = {}
    names = {s: str((tree.get(s) or {}).get("name", "")) for s in ("generator", "objective")}
    for item in overrides:
        key, _, value = item.partition("=")
        if key.strip() in ("generator.name", "objective.name"):
            names[key.strip().split(".")[0]] = str(parse_value(value))
    return names["generator"], names["objective"]


def _check_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a mapping of dotted key -> list of values, got {grid!r}")
    checked = {}
    for key, values in grid.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"grid key must be a non-empty string, got {key!r}")
        if key in RESULT_COLUMNS:
            raise ValueError(f"grid key {key!r} clashes with a results column; seeds go in `seeds`")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"grid values for {key!r} must be a non-empty list, got {values!r}")
        reprs = [repr(v) for v in values]
        if len(set(reprs)) != len(reprs):
            raise ValueError(f"grid values for {key!r} repeat: {list(values)!r}")
        checked[key] = list(values)
    return checked


def _check_seeds(seeds: Iterable[int] | None) -> list[int]:
    if seeds is None:
        raise ValueError("seeds are required, e.g. [0, 1, 2] or '0-2'")
    seeds = list(seeds)
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
    if not seeds or bad:
        raise ValueError(f"seeds must be a non-empty list of ints >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds!r}")
    return [int(s) for s in seeds]
