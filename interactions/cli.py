"""Command line: ``interactions run | list | sweep | report`` (also ``python -m interactions``).

Examples::

    interactions list objectives
    interactions run xor --set objective.name=cross --set train.epochs=5 --out runs/xor-cross
    interactions sweep xor --grid objective.name=comm,cross --seeds 0-2 --out runs/sweep
    interactions report runs/sweep --out figures/
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LIST_KINDS: tuple[str, ...] = ("generators", "objectives", "configs", "estimators")


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
    if kind == "estimators":
        import estimators

        registry = getattr(estimators, "ESTIMATORS", None)
        if isinstance(registry, dict):
            return [(name, _first_line(obj)) for name, obj in registry.items()]
        public = getattr(estimators, "__all__", [n for n in dir(estimators) if not n.startswith("_")])
        return [(n, _first_line(getattr(estimators, n))) for n in public if callable(getattr(estimators, n))]
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
    )
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
    from .sweep import parse_grid, parse_seeds, sweep

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
    )
    print(f"{len(table)} rows written to {args.out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from reports import write_report

    results = Path(args.results)
    out = args.out if args.out is not None else (results if results.is_dir() else results.parent) / "report"
    paths = write_report(args.results, out)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``interactions`` command."""
    parser = argparse.ArgumentParser(prog="interactions", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run_p = sub.add_parser("run", help="train one config and print its capture table")
    run_p.add_argument(
        "config", help="a shipped config name (see 'interactions list configs') or a TOML path"
    )
    run_p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. objective.name=cross (repeatable)",
    )
    run_p.add_argument("--seed", type=int, default=None, help="replace the config's seed")
    run_p.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:1 ...")
    run_p.add_argument("--out", default=None, help="run directory (resumed if it exists)")
    run_p.add_argument("--restart", action="store_true", help="ignore what --out holds and start over")
    run_p.add_argument("--quiet", action="store_true", help="no progress bar")
    run_p.set_defaults(func=_cmd_run)

    list_p = sub.add_parser("list", help="list generators, objectives, configs or estimators")
    list_p.add_argument("kind", nargs="?", choices=LIST_KINDS, default=None)
    list_p.set_defaults(func=_cmd_list)

    sweep_p = sub.add_parser("sweep", help="run a grid of configs over seeds into one results table")
    sweep_p.add_argument("config", help="a base config with --grid, or a sweep definition without")
    sweep_p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a swept key and its values (repeatable)",
    )
    sweep_p.add_argument(
        "--seeds", default=None, help="'0-4' or '0,2,5' (default: the sweep file's seeds, else 0)"
    )
    sweep_p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    sweep_p.add_argument("--workers", type=int, default=1)
    sweep_p.add_argument("--backend", choices=("local", "ray"), default="local")
    sweep_p.add_argument("--out", required=True, help="results directory")
    sweep_p.add_argument("--quiet", action="store_true")
    sweep_p.set_defaults(func=_cmd_sweep)

    report_p = sub.add_parser("report", help="figures and a summary from a results directory")
    report_p.add_argument("results", help="a sweep's results directory (or results table)")
    report_p.add_argument("--out", default=None, help="where to write the report (default: RESULTS/report)")
    report_p.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``interactions`` script; returns the exit status.

    Configuration errors (``ValueError``/``TypeError`` raised before training) are printed as one line
    on stderr with exit status 2 instead of a traceback.

    The current directory is put on ``sys.path`` (as ``python -m`` does), so that a user's objective or
    generator named ``"module:Class"`` in a config or ``--set``/``--grid`` is found next to where the
    command runs; sweep worker processes inherit that path.
    """
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as err:
        print(f"interactions {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
