"""Sweep definitions: sweep files, command-line grids and seeds, per-objective settings.

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

``parse_grid`` and ``parse_seeds`` read the command line's ``--grid key=v1,v2`` and ``--seeds 0-4``;
``objective_settings`` turns ``[objective_params]`` and ``[objective_overrides]`` into the dotted config
keys each objective's runs get. Everything here is checked on reading, with a ``ValueError`` naming the
file and key. Imports neither torch nor the rest of the sweep machinery.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config_io import flatten, parse_value, tomllib
from .registry import suggest
from .types import RESULT_COLUMNS

_SWEEPS_DIR = Path(__file__).parent / "configs" / "sweeps"

_SWEEP_KEYS = (
    "config", "grid", "seeds", "overrides", "description", "objective_params", "objective_overrides",
)  # fmt: skip


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
    return check_grid(grid)


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


@dataclass(frozen=True)
class SweepDefinition:
    """A sweep file as read and checked once (``read_sweep``).

    Attributes:
        path: the file read. config: base config name, or an absolute ``.toml`` path.
        grid: dotted config key -> values. seeds: the seeds, in order. overrides: ``"key=value"`` strings.
        objective_params / objective_overrides: objective name -> its own table (may be empty).
        description: one line (may be empty).
    """

    path: Path
    config: Any
    grid: dict[str, list[Any]]
    seeds: list[int]
    overrides: list[str]
    objective_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    objective_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""

    def objective_settings(self) -> dict[str, dict[str, Any]]:
        """Objective name -> ``{dotted config key: value}`` its runs get (module ``objective_settings``)."""
        return objective_settings(self.objective_params, self.objective_overrides)


def read_sweep(name_or_path: str | os.PathLike[str]) -> SweepDefinition:
    """Read a sweep definition: a name under ``interactions/configs/sweeps/`` or a TOML path.

    The file has top-level ``config`` (base config name or path; a relative ``.toml`` path is taken
    relative to the sweep file), ``seeds`` (``"42-46"`` or a list), optional ``overrides`` (list of
    ``"key=value"``), ``description``, ``[objective_params]`` and ``[objective_overrides]`` (see the module
    docstring), and a ``[grid]`` table of quoted dotted keys -> lists.

    Raises:
        ValueError: an unknown sweep name, a file that is not TOML, an unknown or missing key, or a bad
            value, naming the file and the key.
    """
    path, spec = _read_sweep_file(name_or_path)
    for key in ("config", "grid", "seeds"):
        if key not in spec:
            raise ValueError(f"sweep file {str(path)!r} lacks {key!r}")
    config = spec["config"]
    if isinstance(config, str) and config.endswith(".toml") and not Path(config).is_absolute():
        config = str((path.parent / config).resolve())
    seeds = spec["seeds"]
    seeds = parse_seeds(seeds) if isinstance(seeds, str) else check_seeds(seeds)
    overrides = spec.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o for o in overrides):
        raise ValueError(
            f"sweep file {str(path)!r}: overrides must be a list of 'key=value', got {overrides!r}"
        )
    return SweepDefinition(
        path=path,
        config=config,
        grid=check_grid(spec["grid"]),
        seeds=seeds,
        overrides=list(overrides),
        objective_params=_check_objective_params(spec.get("objective_params", {})),
        objective_overrides=_check_objective_params(
            spec.get("objective_overrides", {}), "objective_overrides"
        ),
        description=" ".join(str(spec.get("description", "")).split()),
    )


def load_sweep(
    name_or_path: str | os.PathLike[str],
) -> tuple[Any, dict[str, list[Any]], list[int], list[str]]:
    """``(config, grid, seeds, overrides)`` of a sweep file (``read_sweep``), ready for ``sweep``."""
    spec = read_sweep(name_or_path)
    return spec.config, spec.grid, spec.seeds, spec.overrides


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
    return read_sweep(name_or_path).objective_params


def load_objective_overrides(name_or_path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """A sweep file's optional ``[objective_overrides]`` table: objective name -> config keys only its runs
    get (dotted, or nested tables)."""
    return read_sweep(name_or_path).objective_overrides


def load_objective_settings(name_or_path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """A sweep file's per-objective settings, ``[objective_params]`` and ``[objective_overrides]`` together:
    objective name -> ``{dotted config key: value}`` (``objective_settings``), as its runs get them."""
    return read_sweep(name_or_path).objective_settings()


def check_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """A grid of dotted config keys -> non-empty lists of distinct values, as plain lists.

    Raises:
        TypeError: not a mapping. ValueError: an empty or results-column key, or empty or repeated values.
    """
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


def check_seeds(seeds: Iterable[int] | None) -> list[int]:
    """Seeds as a non-empty list of distinct ints >= 0.

    Raises:
        ValueError: None, empty, negative, non-int or repeated seeds.
    """
    if seeds is None:
        raise ValueError("seeds are required, e.g. [0, 1, 2] or '0-2'")
    seeds = list(seeds)
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
    if not seeds or bad:
        raise ValueError(f"seeds must be a non-empty list of ints >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds!r}")
    return [int(s) for s in seeds]
