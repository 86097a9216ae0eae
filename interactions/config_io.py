"""Config files in and out: find and read a TOML config, apply ``--set`` overrides, write TOML back.

``interactions.config`` re-exports everything here; this module knows nothing of the registries, so
``interactions.sweep`` can parse values without importing the rest of the config machinery.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .registry import suggest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on python 3.10 only
    import tomli as tomllib

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


# ------------------------------------------------------------------------------------- loading, overrides
def shipped_names() -> list[str]:
    """Names of the configs shipped in ``interactions/configs``."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def load(config: Any) -> dict[str, Any]:
    """A deep copy of ``config`` as a dict: a shipped config name, a TOML path or a dict.

    Raises:
        ValueError: unknown shipped name (with a did-you-mean hint), missing file or invalid TOML.
        TypeError: ``config`` is none of the accepted types.
    """
    if isinstance(config, Mapping):
        return copy.deepcopy(dict(config))
    if not isinstance(config, (str, Path)):
        raise TypeError(f"config must be a shipped name, a TOML path or a dict, got {type(config).__name__}")
    text = str(config)
    path = Path(text)
    if not path.suffix and not path.exists():
        if text not in shipped_names():
            raise ValueError(
                f"unknown config {text!r}{suggest(text, shipped_names())}; shipped configs: "
                f"{', '.join(shipped_names())} (or give a path to a .toml file)"
            )
        path = CONFIG_DIR / f"{text}.toml"
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    data.setdefault("name", path.stem)
    return data


class BareWord(str):
    """An override value that is not TOML (``objective.name=cross``): text, accepted only where the key
    expects a string (``registry.check_value_type``)."""

    is_bare_word = True

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (sweep workers) as itself
        return (BareWord, (str(self),))


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys: ``{"train": {"lr": 1e-4}}`` -> ``{"train.lr": 1e-4}`` (an empty table
    stays a value)."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{dotted}."))
        else:
            out[dotted] = value
    return out


def parse_value(text: str) -> Any:
    """A ``--set`` / ``--grid`` value in TOML syntax, as in the config files.

    ``true``, ``1e-3``, ``[32, 64]``, ``"text"``, ``{ noise_std = 0.1 }`` parse as TOML; anything else
    (``cross``, ``my_module:MyObjective``) is kept as a ``BareWord``, a string that the config check
    accepts only where the key expects text (so ``True`` for a bool key is an error that says to write
    ``true``).

    Example:
        >>> parse_value("1e-3"), parse_value("[32, 64]"), parse_value("true"), parse_value("cross")
        (0.001, [32, 64], True, 'cross')
    """
    text = text.strip()
    try:
        data = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return BareWord(text)
    return data["value"] if list(data) == ["value"] else BareWord(text)


def format_value(value: Any) -> str:
    """The TOML text of an override value: the inverse of ``parse_value`` (a ``BareWord`` stays bare)."""
    if isinstance(value, BareWord):
        return str(value)
    return _toml_scalar(value)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``"dotted.key=value"`` into ``(["dotted", "key"], parsed value)``."""
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"override {text!r} must look like 'section.key=value'")
    key, _, raw = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ValueError(f"override {text!r} has an empty key part")
    return parts, parse_value(raw.strip())


def apply_overrides(config: Mapping[str, Any], overrides: Any = None) -> dict[str, Any]:
    """A copy of ``config`` with each ``"dotted.key=value"`` of ``overrides`` set (sections are created)."""
    out = copy.deepcopy(dict(config))
    if overrides is None:
        return out
    if isinstance(overrides, str):
        raise TypeError(f"overrides must be a list of 'key=value' strings, got the string {overrides!r}")
    for item in overrides:
        parts, value = parse_override(item)
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"override {item!r}: {'.'.join(parts[: i + 1])!r} is not a section")
            node = child
        node[parts[-1]] = value
    return out


# ------------------------------------------------------------------------------------------------- TOML out
def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_scalar(key)


def to_toml(config: Mapping[str, Any]) -> str:
    """Serialise a config dict (scalars, lists, nested tables; no None) as TOML text."""
    lines: list[str] = []

    def table(node: Mapping[str, Any], path: list[str]) -> None:
        scalars = [(k, v) for k, v in node.items() if not (isinstance(v, dict) and v)]
        tables = [(k, v) for k, v in node.items() if isinstance(v, dict) and v]
        if path and (scalars or not tables):
            lines.append(f"[{'.'.join(_toml_key(p) for p in path)}]")
        for key, value in scalars:
            lines.append(f"{_toml_key(key)} = {_toml_scalar(value)}")
        if scalars:
            lines.append("")
        for key, value in tables:
            table(value, [*path, key])

    table(config, [])
    return "\n".join(lines).rstrip() + "\n"
