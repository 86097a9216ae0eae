"""``interactions bench``: objectives x benchmark tasks x seeds through the sweep machinery; a leaderboard.

Every task (``interactions.tasks``) is one resumable sweep over ``objective.name`` and the seeds, written to
``OUT/tasks/<task>/`` by ``interactions.sweep.sweep`` (atomic tables, progress bar, local or Ray backend),
on the task's own base config (or ``config`` for every task) with the task's generator overrides, then the
user's ``--set`` overrides. Every run's config is resolved before the first one trains, so an unknown name,
a bad key or a model that cannot encode a task's data fails at once.

Outputs in ``OUT``:

* ``leaderboard.csv``: tidy, one row per (task, objective, scored term, seed) at the run's final epoch:
  ``LEADERBOARD_COLUMNS``; ``verdict`` is ``"learned"`` (capture >= ``LEARNED_THRESHOLD``), ``"not
  learned"``, or ``"failed"`` (the run raised; its metrics are NaN); the threshold is
  ``reports.verdicts.DEFAULT_THRESHOLD``;
* ``leaderboard.md``: per term, a table of tasks x objectives whose cells are the median capture over seeds
  and ``k/n`` seeds learned;
* ``bench.json``: what was asked (tasks, objectives, seeds, overrides, config) and each task's
  ``(axis, level)`` points (``grades``);
* ``bench_heatmap.{png,pdf}``, ``bench_curves.{png,pdf}`` and ``report.html``: ``reports.bench``'s figures
  and page, which ``interactions report OUT`` redraws from ``leaderboard.csv`` and ``bench.json`` alone.

A second call with the same arguments plans the same runs, loads their results instead of training, and
rewrites the same tables.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_write_text
from .tasks import Task, parse_tasks, task_config, task_overrides
from .types import FAILED, LEADERBOARD_COLUMNS, LEARNED, NOT_LEARNED, TERMS

if TYPE_CHECKING:  # pandas is imported where it is used, so that the CLI starts fast
    import pandas as pd

#: The label a supervised objective (``needs_target``) is trained on when no parameter says otherwise: the
#: synergy label, whose ceiling the supervised rows show (as in the shipped ``xor`` sweep).
DEFAULT_TARGET = "synergy"


def default_objective_params(objectives: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Parameters only some objectives get: ``{"target": DEFAULT_TARGET}`` for every supervised one
    (``supervised``, ``synib``, a registered objective with ``needs_target``)."""
    from .objectives import get_objective

    params = {}
    for name in objectives:
        try:
            cls = get_objective(name)
        except (KeyError, ValueError, TypeError, ImportError):
            continue  # check_bench names the unknown objective
        if getattr(cls, "needs_target", False):
            params[name] = {"target": DEFAULT_TARGET}
    return params


def learned_threshold() -> float:
    """Capture at or above which a seed counts as having learned a term: ``reports.verdicts``'s
    ``DEFAULT_THRESHOLD`` (0.9), so that the leaderboard and the reports agree.

    Imported when first needed, so that the CLI starts without loading pandas and matplotlib.
    """
    from reports.verdicts import DEFAULT_THRESHOLD

    return float(DEFAULT_THRESHOLD)


def __getattr__(name: str) -> Any:
    """``LEARNED_THRESHOLD``: ``learned_threshold()``, read lazily (PEP 562)."""
    if name == "LEARNED_THRESHOLD":
        return learned_threshold()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_objectives(spec: str | Iterable[str]) -> list[str]:
    """Objective names from ``"all"`` (every registered objective), ``"comm,cross"`` or a list.

    Raises:
        ValueError: an unknown name (with the closest registered name suggested), an empty list or a repeat.
    """
    from .objectives import OBJECTIVES, get_objective

    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s).strip() for s in spec]
    if items == ["all"]:
        return list(OBJECTIVES)
    if not items or not all(items):
        raise ValueError(f"objectives must be 'all' or a comma-separated list of names, got {spec!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"an objective is named twice in {spec!r}")
    for name in items:
        get_objective(name)  # unknown name -> ValueError with a suggestion
    return items


def _objective_overrides(objective: str, objective_params: Mapping[str, Mapping[str, Any]]) -> list[str]:
    own = objective_params.get(objective, {})
    from .config_io import format_value

    return [
        f"objective.name={format_value(objective)}",
        *(f"objective.params.{k}={format_value(v)}" for k, v in own.items()),
    ]


def check_bench(
    tasks: Sequence[Task],
    objectives: Sequence[str],
    config: Any = None,
    overrides: Sequence[str] = (),
    objective_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Resolve the config of every task x objective (no training); raise one error naming each bad pair.

    ``objective_params``: objective name -> its own parameters (default: ``default_objective_params``).

    Raises:
        ValueError: ``"task 'T' x objective 'O': <reason>"`` for every pair that does not resolve.
    """
    if objective_params is None:
        objective_params = default_objective_params(objectives)
    problems = []
    for task in tasks:
        for objective in objectives:
            extra = [*_objective_overrides(objective, objective_params), *overrides]
            try:
                task_config(task, config, extra)
            except (ValueError, TypeError) as err:
                problems.append(f"task {task.name!r} x objective {objective!r}: {err}")
    if problems:
        raise ValueError("; ".join(problems))


def leaderboard(results: Mapping[str, pd.DataFrame], tasks: Sequence[Task]) -> pd.DataFrame:
    """The tidy leaderboard from each task's sweep table (``RESULT_COLUMNS`` rows of all epochs).

    Keeps each run's final epoch and the task's scored terms; a failed run gives ``verdict = "failed"``
    and NaN metrics for each of its seeds.

    Returns:
        ``LEADERBOARD_COLUMNS``, sorted by task (in ``tasks`` order), objective (first appearance), term
        (``TERMS`` order) and seed.
    """
    import numpy as np
    import pandas as pd

    parts = []
    threshold = learned_threshold()
    for task in tasks:
        table = results[task.name]
        rows = table[table["term"].isin(task.terms)].copy()
        ok = rows["status"] != FAILED
        last = rows[ok].groupby("run_id")["epoch"].transform("max")
        rows = pd.concat([rows[ok][rows[ok]["epoch"] == last], rows[~ok]])
        rows["task"], rows["axis"], rows["level"] = task.name, task.axis, task.level
        learned = rows["capture"] >= threshold
        rows["verdict"] = np.where(rows["status"] == FAILED, FAILED, np.where(learned, LEARNED, NOT_LEARNED))
        objective_order = {name: i for i, name in enumerate(dict.fromkeys(table["objective"]))}
        rows["_objective"] = rows["objective"].map(objective_order)
        rows["_term"] = rows["term"].map(TERMS.index)
        parts.append(rows.sort_values(["_objective", "_term", "seed"]))
    if not parts:
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(LEADERBOARD_COLUMNS)]


def leaderboard_markdown(board: pd.DataFrame) -> str:
    """``leaderboard.md``: per term, tasks x objectives, cell = median capture and k/n seeds learned.

    A cell whose runs all failed reads ``failed``; one with some failed seeds counts them in n.
    """
    lines = [
        "# Leaderboard",
        "",
        "Cell: median capture over seeds at the final epoch "
        f"(k/n: seeds with capture >= {learned_threshold():g}).",
    ]
    objectives = list(dict.fromkeys(board["objective"]))
    for term in TERMS:
        rows = board[board["term"] == term]
        if rows.empty:
            continue
        lines += ["", f"## {term}", "", "| task | true bits | " + " | ".join(objectives) + " |"]
        lines.append("|---|---:|" + "---:|" * len(objectives))
        for task, task_rows in rows.groupby("task", sort=False):
            cells = []
            for objective in objectives:
                cell = task_rows[task_rows["objective"] == objective]
                done = cell[cell["verdict"] != FAILED]
                if cell.empty:
                    cells.append("")
                elif done.empty:
                    cells.append(FAILED)
                else:
                    k = int((done["verdict"] == LEARNED).sum())
                    cells.append(f"{done['capture'].median():.2f} ({k}/{len(cell)})")
            bits = task_rows["true_bits"].dropna()
            truth = f"{bits.iloc[0]:.3f}" if len(bits) else ""
            lines.append(f"| {task} | {truth} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def bench(
    tasks: str | Iterable[str] = "all",
    objectives: str | Iterable[str] = "all",
    seeds: Sequence[int] | str = "0-4",
    *,
    out: str | os.PathLike[str],
    config: Any = None,
    overrides: Sequence[str] = (),
    workers: int = 1,
    backend: str = "local",
    progress: bool = True,
    run_fn: Callable[..., Any] | None = None,
    objective_params: Mapping[str, Mapping[str, Any]] | None = None,
    figures: bool = True,
    dry_run: bool = False,
) -> pd.DataFrame:
    """Run objectives x tasks x seeds (one resumable sweep per task) and write the leaderboard.

    Args:
        tasks: ``"all"`` (every task that scores a term), ``"capacity_1bit,bias_1"`` or a list of names.
        objectives: ``"all"``, ``"comm,cross"`` or a list of objective names.
        seeds: list of ints or a string such as ``"0-4"``.
        out: bench directory; task ``T``'s sweep goes to ``out/tasks/T``.
        config: one base config for every task; None (default) = each task's own (``Task.config``).
        overrides: ``"key=value"`` overrides of every run, applied after the task's (``--set``).
        workers, backend, progress, run_fn: as ``interactions.sweep.sweep``.
        objective_params: objective name -> its own parameters (default: ``default_objective_params``: the
            supervised objectives are trained on the synergy label).
        figures: also draw the heatmap and curves and write ``report.html`` (``reports.bench``).
        dry_run: plan only: return every task's planned runs (``task`` plus the columns of
            ``sweep(..., dry_run=True)``, ``state`` among them) without training or writing anything.

    Returns:
        The leaderboard (``LEADERBOARD_COLUMNS``), also written to ``out/leaderboard.csv`` and ``.md``; with
        ``dry_run``, the planned runs.

    Raises:
        ValueError: an unknown task or objective (with a suggestion), or any run config that does not
            resolve, before any training.
    """
    import pandas as pd

    from .sweep import parse_seeds, sweep

    task_list = parse_tasks(tasks)
    if isinstance(tasks, str) and tasks.strip() == "all":
        task_list = [t for t in task_list if t.terms]
    unscored = [t.name for t in task_list if not t.terms]
    if unscored:
        raise ValueError(
            f"task {unscored[0]!r} scores no term with a probe (see its Task.terms); it serves the "
            "continuous estimators: leave it out of --tasks"
        )
    objective_list = parse_objectives(objectives)
    seed_list = parse_seeds(seeds) if isinstance(seeds, str) else list(seeds)
    params = {
        k: dict(v)
        for k, v in (
            default_objective_params(objective_list) if objective_params is None else objective_params
        ).items()
    }
    overrides = [str(o) for o in overrides]
    check_bench(task_list, objective_list, config, overrides, params)

    out = Path(out)

    def task_sweep(task: Task, **how: Any) -> pd.DataFrame:
        """Task ``task``'s sweep of every objective x seed, into ``out/tasks/<name>``."""
        return sweep(
            task.config if config is None else config,
            {"objective.name": objective_list},
            seed_list,
            overrides=[*task_overrides(task), *overrides],
            out=out / "tasks" / task.name,
            objective_params=params,
            **how,
        )

    if dry_run:
        planned = [task_sweep(task, dry_run=True).assign(task=task.name) for task in task_list]
        table = pd.concat(planned, ignore_index=True)
        return table[["task", *(c for c in table.columns if c != "task")]]
    manifest = {
        "tasks": [t.name for t in task_list],
        "objectives": objective_list,
        "seeds": seed_list,
        "overrides": overrides,
        "config": config if config is None or isinstance(config, (str, dict)) else str(config),
        "objective_params": params,
        # every (axis, level) point each task stands for, so that reports can draw curves from the table
        "grades": {t.name: [list(point) for point in t.grades()] for t in task_list},
    }
    atomic_write_text(out / "bench.json", json.dumps(manifest, indent=2, default=str) + "\n")
    results = {
        task.name: task_sweep(task, workers=workers, backend=backend, progress=progress, run_fn=run_fn)
        for task in task_list
    }
    board = leaderboard(results, task_list)
    atomic_write_text(out / "leaderboard.csv", board.to_csv(index=False))
    atomic_write_text(out / "leaderboard.md", leaderboard_markdown(board))
    if figures:
        from reports.bench import write_bench_report

        write_bench_report(out, board, manifest)
    return board


def redraw(directory: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> list[Path]:
    """Rewrite ``leaderboard.md``, the figures and ``report.html`` of a bench directory from its table alone.

    Reads ``directory/leaderboard.csv`` (and ``bench.json`` when present); trains and imports nothing else.

    Args:
        directory: a bench directory (``interactions bench --out DIR``).
        out: where to write (default: ``directory`` itself, where ``interactions bench`` wrote them).

    Returns:
        The paths written.

    Raises:
        FileNotFoundError: no ``leaderboard.csv`` in ``directory``.
    """
    from reports.bench import read_leaderboard, write_bench_report

    directory = Path(directory)
    table = directory / "leaderboard.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} does not exist: is {directory} a bench directory?")
    out = directory if out is None else Path(out)
    board = read_leaderboard(table)
    atomic_write_text(out / "leaderboard.md", leaderboard_markdown(board))
    return [out / "leaderboard.md", *write_bench_report(directory, board, out=out)]


def connect_ray(address: str, backend: str = "ray") -> None:
    """Connect this process to the Ray cluster at ``address`` (``ray.init(address=...)``) before a bench.

    The sweep's Ray backend then uses this connection (it calls ``ray.init`` only when none is open).

    Raises:
        ValueError: ``backend`` is not ``"ray"`` (an address means nothing to the local backend).
        ImportError: Ray is not installed.
    """
    if backend != "ray":
        raise ValueError(f"--address {address!r} needs --backend ray, got --backend {backend}")
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "--address needs Ray, an optional extra: pip install 'comm-interactions[ray]'"
        ) from err
    if not ray.is_initialized():
        ray.init(address=address)


# ---------------------------------------------------------------------------------------------------- CLI
def add_parser(sub: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Register ``interactions bench`` on the CLI's subparsers.

    ``parents``: parsers of flags shared by every subcommand; without any, ``bench`` gets its own ``--quiet``.
    """
    p = sub.add_parser(
        "bench", parents=list(parents), help="objectives x benchmark tasks x seeds, and a leaderboard"
    )
    p.add_argument(
        "--tasks", default="all", help="'all' or comma-separated names (see 'interactions list tasks')"
    )
    p.add_argument("--objectives", default="all", help="'all' or comma-separated objective names")
    p.add_argument("--seeds", default="0-4", help="'0-4' or '0,2,5' (default 0-4)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override every run's config"
    )
    p.add_argument("--config", default=None, help="one base config for every task (default: each task's own)")
    p.add_argument(
        "--workers", type=int, default=1, help="runs in parallel, one process each (default 1: in this one)"
    )
    p.add_argument(
        "--backend", choices=("local", "ray"), default="local", help="local processes or a Ray cluster"
    )
    p.add_argument(
        "--address",
        default=None,
        help="with --backend ray: the Ray cluster to use, e.g. ray://head:10001 (default: $RAY_ADDRESS, "
        "else a running local cluster, else a new local instance); see docs/ray.md",
    )
    p.add_argument("--out", required=True, help="bench directory (rerun the same command to resume)")
    p.add_argument(
        "--dry-run", action="store_true", help="count the planned runs of each task by state; train nothing"
    )
    if not parents:
        p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """``interactions bench``: run, print the leaderboard's markdown; exit 1 when a run failed."""
    if args.dry_run:
        import pandas as pd

        planned = bench(
            args.tasks, args.objectives, args.seeds, out=args.out, config=args.config, overrides=args.set,
            dry_run=True,
        )  # fmt: skip
        counts = pd.crosstab(planned["task"], planned["state"]).reindex(planned["task"].unique())
        print(counts.to_string())
        done = int((planned["state"] == "finished").sum())
        print(f"{len(planned)} runs planned in {args.out}, {done} finished (dry run: nothing trained)")
        return 0
    if getattr(args, "address", None) is not None:
        connect_ray(args.address, args.backend)
    board = bench(
        args.tasks,
        args.objectives,
        args.seeds,
        out=args.out,
        config=args.config,
        overrides=args.set,
        workers=args.workers,
        backend=args.backend,
        progress=not getattr(args, "quiet", False),
    )
    print(leaderboard_markdown(board), end="")
    print(f"leaderboard: {Path(args.out) / 'leaderboard.csv'}")
    failed = board[board["verdict"] == FAILED][["task", "objective", "seed"]].drop_duplicates()
    for row in failed.itertuples(index=False):
        print(f"failed: task {row.task}, objective {row.objective}, seed {row.seed}")
    return 1 if len(failed) else 0


__all__ = [
    "DEFAULT_TARGET",
    "default_objective_params",
    "LEADERBOARD_COLUMNS",
    "learned_threshold",
    "add_parser",
    "bench",
    "check_bench",
    "connect_ray",
    "leaderboard",
    "leaderboard_markdown",
    "parse_objectives",
    "redraw",
]
