"""Sharing finished work between sweep directories: reuse, export, extend.

``copy_finished_runs`` copies another sweep's finished runs with the same run ids (``sweep(...,
reuse=[DIR])``, CLI ``--reuse``); ``export_sweep`` writes a small copy of a sweep (tables and finished runs,
no checkpoints) to commit or share, and may read a sweep that is still running; ``extend_shorter_runs``
starts each planned run from the checkpoint of the same run trained fewer epochs (``sweep(...,
extend=DIR)``, CLI ``--extend``). A run id hashes a run's whole configuration (``sweep.run_id_for``), so
a copied run is exactly the run the receiving sweep would train.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .config_io import tomllib
from .sweep_runner import PlannedRun, is_finished, run_dir
from .types import CHECKPOINT_FILE, CONFIG_FILE, RESULTS_CSV, RUNS_DIR, SWEEP_FILE, SWEEP_TABLES


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
    ``run_directory.EXTENDABLE_KEYS`` (its number of epochs and probing schedule) and which it may continue
    (``run_directory.continuable_checkpoint``: constant rate, no progress-following objective, no more epochs
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
    from .run_directory import continuable_checkpoint, length_free, write_continuation

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
