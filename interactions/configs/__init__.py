"""Configs shipped with the toolkit (TOML package data): ``interactions run <name>`` runs one.

``names()`` lists them; ``path(name)`` gives the file. ``interactions.config.load`` reads them.
"""

from __future__ import annotations

from pathlib import Path

from interactions.registry import suggest

DIRECTORY = Path(__file__).resolve().parent


def names() -> list[str]:
    """The shipped config names (file stems of ``*.toml`` in this package)."""
    return sorted(p.stem for p in DIRECTORY.glob("*.toml"))


def path(name: str) -> Path:
    """The TOML file of shipped config ``name``.

    Raises:
        ValueError: unknown name (with a did-you-mean hint).
    """
    if name not in names():
        raise ValueError(f"unknown config {name!r}{suggest(name, names())}; shipped: {', '.join(names())}")
    return DIRECTORY / f"{name}.toml"


def description(name: str) -> str:
    """The first comment line of the config file (its one-line description)."""
    for line in path(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""
