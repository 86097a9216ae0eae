"""Command line: ``interactions run | list | sweep | export | report | bench`` (``python -m interactions``).

Examples::

    interactions list objectives
    interactions run xor --set objective.name=cross --set train.epochs=5 --out runs/xor-cross
    interactions sweep xor --grid objective.name=comm,cross --seeds 0-2 --out runs/sweep
    interactions report runs/sweep --out figures/
    interactions export runs/sweep shared/sweep     # tables and finished runs, no checkpoints
    interactions sweep xor --grid objective.name=comm,cross --seeds 0-4 --out runs/more --reuse shared/sweep
    interactions sweep xor --grid objective.name=comm,cross --seeds 0-2 --set train.epochs=80 \
        --out runs/longer --extend runs/sweep       # runs/sweep's runs continued from 50 to 80 epochs

Exit status: 0 success; 1 a run of the sweep failed, or an unexpected error; 2 bad input (a config, a
value, a damaged or incomplete results table), named in one line on stderr; 3 another sweep or run is using
the same --out; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Errors are one line; -v adds the
traceback.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LIST_KINDS: tuple[str, ...] = ("generators", "objectives", "configs", "sweeps", "estimators", "tasks")


def _first_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def list_entries(kind: str) -> list[tuple[str, str]]:
    """``(name, first docstring line)`` of every registered entry of ``kind`` (one of ``LIST_KINDS``)."""
    if kind == "generators":
        import generators

        return [(name, _first_line(cls)) for name, cls in generators.GENERATORS.items()]
    if kind == "objectives":
        from .objectives import OBJECTIVES

        return [(name, _first_line(cls)) for name, cls in OBJECTIVES.items()]
    if kind == "configs":
        from . import configs

        return [(name, configs.description(name)) for name in configs.names()]
    if kind == "sweeps":
        from .sweep import shipped_sweeps

        return shipped_sweeps()
    if kind == "estimators":
        import estimators

        registry = getattr(estimators, "ESTIMATORS", None)
        if isinstance(registry, dict):
            return [(name, _first_line(obj)) for name, obj in registry.items()]
        public = getattr(estimators, "__all__", [n for n in dir(estimators) if not n.startswith("_")])
        return [(n, _first_line(getattr(estimators, n))) for n in public if callable(getattr(estimators, n))]
    if kind == "tasks":  # benchmark tasks with their true bits R, U1, U2, S
        from .tasks import list_entries as task_entries

        return task_entries()
    raise ValueError(f"unknown list kind {kind!r}; expected one of {LIST_KINDS}")


def _seed_everything(seed: int) -> None:
    """Backstop for third-party code that uses global random state (house style 3.5; CLI only)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def format_capture(df: Any) -> str:
    """The capture table as aligned text (term, accuracy, bits, true bits, capture, floor, ...)."""
    from .types import CAPTURE_COLUMNS

    cols = [c for c in CAPTURE_COLUMNS if c in df.columns]
    return df[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")


def _say(args: argparse.Namespace, message: str) -> None:
    """A status line on stderr, unless -q."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from .experiment import run

    _seed_everything(args.seed if args.seed is not None else 0)
    result = run(
        args.config,
        overrides=args.set,
        seed=args.seed,
        device=args.device,
        out=args.out,
        resume=not args.restart,
        progress=not args.quiet,
        extend=args.extend,
    )
    if result.reused:
        _say(args, f"reusing the finished run in {args.out} (nothing trained; --restart trains it again)")
    cfg = result.config
    print(
        f"{cfg['name']}: objective {cfg['objective']['name']!r} on generator {cfg['generator']['name']!r}, "
        f"seed {cfg['seed']}, feature dim {result.feature_dim}, {result.elapsed_s:.1f} s"
    )
    print(format_capture(result.capture))
    if result.run_dir is not None:
        print(f"run directory: {result.run_dir}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(LIST_KINDS)
    for kind in kinds:
        entries = list_entries(kind)
        print(f"{kind}:")
        width = max((len(n) for n, _ in entries), default=0)
        for name, line in entries:
            print(f"  {name.ljust(width)}  {line}".rstrip())
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import format_summary, parse_grid, parse_seeds, sweep

    # without --grid, CONFIG is a sweep definition (interactions/configs/sweeps or a TOML path)
    grid = parse_grid(args.grid) if args.grid else None
    seeds = parse_seeds(args.seeds) if args.seeds is not None else (None if grid is None else [0])
    table = sweep(
        args.config,
        grid,
        seeds,
        overrides=args.set,
        workers=args.workers,
        backend=args.backend,
        out=args.out,
        progress=not args.quiet,
        fail_fast=args.fail_fast,
        dry_run=args.dry_run,
        reuse=args.reuse,
        extend=args.extend,
    )
    if args.dry_run:
        print(table.to_string(index=False) if len(table) else "no runs planned")
        print(f"{len(table)} runs planned in {args.out} (dry run: nothing trained)")
        return 0
    summary = table.attrs.get("summary", {})
    failures = summary.get("failures", {})
    for run_id, line in failures.items():
        print(
            f"failed run {run_id}: {line} (traceback in {Path(args.out) / 'runs' / run_id / 'error.txt'})",
            file=sys.stderr,
        )
    _say(args, f"sweep: {format_summary(summary)}")
    print(f"{len(table)} rows written to {args.out}")
    return 1 if failures or summary.get("not_run") else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .sweep import export_sweep

    copied = export_sweep(args.sweep, args.dest)
    print(f"{copied} finished runs and the sweep's tables exported to {args.dest} (no checkpoints)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from reports import write_report
    from reports.summary import verdict_summary

    from .sweep_check import check_results, table_problems

    if (Path(args.results) / "bench.json").is_file():  # a bench directory: redraw from its leaderboard
        from .bench import redraw

        for path in redraw(args.results, args.out):
            print(f"{path.stem}: {path}")
        return 0
    if args.allow_incomplete:
        for problem in table_problems(args.results):
            print(f"warning: {problem}", file=sys.stderr)
    else:
        check_results(args.results)
    results = Path(args.results)
    out = args.out if args.out is not None else (results if results.is_dir() else results.parent) / "report"
    print(verdict_summary(args.results, threshold=args.threshold) + "\n")
    paths = write_report(args.results, out, threshold=args.threshold, width=args.width)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _width(text: str) -> str | float:
    return text if text in ("single", "double") else float(text)


def _common_flags() -> argparse.ArgumentParser:
    """-q and -v, accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars and no status lines; results and errors are still printed",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the full traceback of an error",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``interactions`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="interactions",
        description=__doc__.splitlines()[0],
        epilog="Exit status: 0 ok, 1 a run failed, 2 bad input, 3 output directory busy, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars and no status lines")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the full traceback of an error")
    common = _common_flags()
    sub = parser.add_subparsers(dest="command", required=True)

    run_p = sub.add_parser("run", parents=[common], help="train one config and print its capture table")
    run_p.add_argument(
        "config", help="a shipped config name (see 'interactions list configs') or a TOML path"
    )
    run_p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (TOML value), e.g. train.lr=1e-3 or train.amp=false (repeatable)",
    )
    run_p.add_argument("--seed", type=int, default=None, help="replace the config's seed")
    run_p.add_argument("--device", default=None, help="where to train: auto, cpu, cuda, cuda:1 ...")
    run_p.add_argument(
        "--out",
        default=None,
        help="run directory; a finished run there is reused, an interrupted one resumed",
    )
    run_p.add_argument("--restart", action="store_true", help="ignore what --out holds and start over")
    run_p.add_argument(
        "--extend",
        default=None,
        metavar="RUN_DIR",
        help="start a fresh --out from RUN_DIR's checkpoint: the same config trained fewer epochs (only "
        "train.epochs and train.eval_every may differ; constant learning rate); same numbers as training "
        "straight through",
    )
    run_p.set_defaults(func=_cmd_run)

    list_p = sub.add_parser(
        "list", parents=[common], help="list generators, objectives, configs, sweeps, estimators or tasks"
    )
    list_p.add_argument(
        "kind", nargs="?", choices=LIST_KINDS, default=None, help="what to list (default: all)"
    )
    list_p.set_defaults(func=_cmd_list)

    sweep_p = sub.add_parser(
        "sweep", parents=[common], help="run a grid of configs over seeds into one results table"
    )
    sweep_p.add_argument(
        "config",
        help="a base config with --grid, or a sweep definition without it (see 'interactions list sweeps')",
    )
    sweep_p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a config key to vary and its values, e.g. objective.name=comm,cross (repeatable)",
    )
    sweep_p.add_argument(
        "--seeds", default=None, help="seeds as 0-4 or 0,2,5 (default: the sweep file's seeds, else 0)"
    )
    sweep_p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key in every run (TOML value), e.g. train.epochs=5 (repeatable)",
    )
    sweep_p.add_argument(
        "--workers", type=int, default=1, help="runs trained at the same time, one process each (default 1)"
    )
    sweep_p.add_argument(
        "--backend", choices=("local", "ray"), default="local", help="local processes or a Ray cluster"
    )
    sweep_p.add_argument(
        "--out", required=True, help="results directory: results.csv, losses.csv, sweep.json and runs/"
    )
    sweep_p.add_argument(
        "--dry-run", action="store_true", help="print the planned runs and their state; train nothing"
    )
    sweep_p.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first failed run instead of finishing the others",
    )
    sweep_p.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="DIR",
        help="another sweep directory (e.g. an 'interactions export'); its finished runs with the same run "
        "ids are copied into --out instead of trained (repeatable)",
    )
    sweep_p.add_argument(
        "--extend",
        metavar="DIR",
        help="a sweep directory with checkpoints of the same runs trained fewer epochs (e.g. train.epochs=64 "
        "where this sweep has 96): each run continues from its shorter run there and ends with the numbers "
        "of one trained straight through (constant rate only); runs without one train from the start",
    )
    sweep_p.set_defaults(func=_cmd_sweep)

    export_p = sub.add_parser(
        "export",
        parents=[common],
        help="copy a sweep's tables and finished runs without checkpoints (to commit or share; a running "
        "sweep gives a snapshot of the runs done)",
    )
    export_p.add_argument("sweep", help="a sweep's results directory")
    export_p.add_argument(
        "dest", help="a new directory; 'interactions sweep ... --reuse DEST' continues from it"
    )
    export_p.set_defaults(func=_cmd_export)

    report_p = sub.add_parser(
        "report", parents=[common], help="figures and a summary from a results directory"
    )
    report_p.add_argument(
        "results", help="a sweep's results directory (or results table), or a bench directory"
    )
    report_p.add_argument("--out", default=None, help="where to write the report (default: RESULTS/report)")
    report_p.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="report even when runs are missing or failed (the problems are printed as warnings)",
    )
    report_p.add_argument(
        "--threshold", type=float, default=0.9, help="capture at which a seed counts as learned, in (0, 1]"
    )
    report_p.add_argument(
        "--width", default="double", type=_width, help="figure width: single (3.5 in), double (7 in), inches"
    )
    report_p.set_defaults(func=_cmd_report)
    from .bench import add_parser as add_bench_parser  # interactions bench (interactions/bench.py)

    add_bench_parser(sub, parents=[common])
    return parser


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: workers are stopped, files stay whole


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``interactions`` script; returns the exit status (see the module docstring).

    Every error is printed as one line on stderr naming the file or value (the traceback with -v):
    ``ValueError``/``TypeError`` (bad input, damaged files) exit 2, a busy sweep directory 3, anything else
    1; Ctrl-C exits 130 and SIGTERM 143 after stopping sweep workers.

    The current directory is put on ``sys.path`` (as ``python -m`` does), so that a user's objective or
    generator named ``"module:Class"`` in a config or ``--set``/``--grid`` is found next to where the
    command runs; sweep worker processes inherit that path.
    """
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if hasattr(signal, "SIGTERM") and _in_main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    name = f"interactions {args.command}"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        where = (
            f"; finished work is saved in {args.out}, rerun the same command to resume"
            if getattr(args, "out", None)
            else ""
        )
        print(f"{name}: interrupted{where}", file=sys.stderr)
        return 130
    except SystemExit as exit_:
        if exit_.code == 128 + getattr(signal, "SIGTERM", 15):
            print(f"{name}: terminated", file=sys.stderr)
        raise
    except Exception as err:  # noqa: BLE001 - every error reaches the user as one line
        from .atomic import DirectoryBusyError

        if args.verbose:
            traceback.print_exc()
        print(f"{name}: error: {_one_line(err)}", file=sys.stderr)
        if isinstance(err, DirectoryBusyError):
            return 3
        return 2 if isinstance(err, (ValueError, TypeError)) else 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _one_line(err: BaseException) -> str:
    """``err`` as one line: its message (with the type for errors whose message alone is unclear)."""
    text = " ".join(str(err).split()) or "no message"
    if isinstance(err, (ValueError, TypeError)):
        return text
    if isinstance(err, MemoryError):
        return f"out of memory ({text}); use smaller sizes (train.n_train, probe.n_train, batch sizes)"
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.strerror or type(err).__name__}: {err.filename!r}"
    return f"{type(err).__name__}: {text}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
