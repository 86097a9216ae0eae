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

Sweep files (``interactions/configs/sweeps/*.toml`` or any TOML path) and command-line grids are read
in ``sweep_files``; per-objective values are applied after the grid assignment (so they win over it) and
are part of the run's identity (its ``run_id``). Copying finished runs between sweep directories (reuse,
export, extend) is ``sweep_share``.

Backends. ``"local"``: one process per run, at most ``workers`` at a time, forked from a fork server that
imported torch once (``sweep_runner.worker_context``; ``workers=1`` runs in this process), each limited to
one torch/BLAS thread so that N workers use N cores. ``"ray"``: the same
runs as Ray tasks (one CPU each, see ``resources``) on the cluster found by ``ray.init(address="auto")``,
or a local Ray instance; ``out`` must then be on a file system that every node sees.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .config_io import format_value, load, parse_value
from .sweep_files import (
    check_grid,
    check_seeds,
    load_objective_overrides,
    load_objective_params,
    load_objective_settings,
    load_sweep,
    objective_settings,
    parse_grid,
    parse_seeds,
    read_sweep,
    shipped_sweeps,
)
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
from .sweep_share import copy_finished_runs, export_sweep, extend_shorter_runs
from .types import (
    CHECKPOINT_FILE,
    RESULT_COLUMNS,
    RESULT_FILE,
    RUNS_DIR,
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
    "load_objective_overrides",
    "load_objective_params",
    "load_objective_settings",
    "load_sweep",
    "read_sweep",
    "objective_settings",
    "parse_grid",
    "parse_seeds",
    "plan_runs",
    "run_id_for",
    "shipped_sweeps",
    "sweep",
]


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
            ``read_sweep``) whose grid, seeds, overrides and per-objective tables are used (``seeds`` and
            ``overrides`` given here replace / extend them; per-objective tables given here win).
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
        spec = read_sweep(config)
        config, grid = spec.config, spec.grid
        seeds = spec.seeds if seeds is None else seeds
        overrides = [*spec.overrides, *(overrides or [])]
        objective_params = {**spec.objective_params, **(objective_params or {})}
        objective_overrides = {**spec.objective_overrides, **(objective_overrides or {})}
    grid = check_grid(grid)
    seeds = parse_seeds(seeds) if isinstance(seeds, str) else check_seeds(seeds)
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
    from .run_directory import checkpoint_epoch, run_dir_busy

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
