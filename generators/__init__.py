"""Controlled bimodal datasets whose redundant, unique and synergistic information is known exactly.

Use ``names()`` to list them and ``make(name, **params)`` to build one; every generator draws
``BimodalSample``s with ``sample(n, seed=...)``, re-observes them with ``views(sample, seed=...)`` and
returns its analytic ``ground_truth()`` in bits.

Adding a generator is one file (a frozen dataclass subclassing ``generators.base.Generator``) plus one
line in ``GENERATORS``.
"""

from __future__ import annotations

from typing import Any

from interactions.registry import build

from .base import Generator
from .gaussian import GaussianGenerator
from .trifeature import TrifeatureGenerator
from .xor import XORGenerator

#: name -> generator class; the order is the order of listings.
GENERATORS: dict[str, type[Generator]] = {
    "xor": XORGenerator,
    "gaussian": GaussianGenerator,
    "trifeature": TrifeatureGenerator,
}


def names() -> list[str]:
    """The registered generator names."""
    return list(GENERATORS)


def make(name: str, **params: Any) -> Generator:
    """Build generator ``name`` with ``params``; unknown names or parameters raise ``ValueError``."""
    return build(GENERATORS, name, "generator", params)


__all__ = ["GENERATORS", "Generator", "make", "names"]
