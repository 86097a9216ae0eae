"""Canonical discrete distributions with their published PID values, the test oracles of ``estimators.pid``.

Values (bits, R / U1 / U2 / S) are those of reference-values.md section C1 (computed with dit 2.3), given
here as exact closed forms where they exist: AND's redundancy is I(X1; Y) = h(1/4) - 1/2 = 0.311278...,
reduced OR's is 1 - (3/4) h(1/3) (the same number), the imperfect redundancy's is
I(X2; Y) = 1 - 0.501 h(0.001 / 0.501).

**Orientation.** X1 is axis 0 and X2 axis 1 of every joint. ``"unique_1"`` is Y = X1 (U1 = 1) and
``"unique_2"`` is Y = X2 (U2 = 1). dit's distribution named "unique 1" (table C1, row "unique 1": Y = X2,
giving U2 = 1) is our ``"unique_2"``.

The Imin values of ``"composite"`` are not in the table; they follow from Williams and Beer's definition (each
source's specific information is 2 bits for every y, so R = 2) and equal the MMI values.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from interactions.registry import suggest
from interactions.types import TERMS


def _h(p: float) -> float:
    """Binary entropy in bits."""
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


_AND_R = _h(0.25) - 0.5
_IMP_R = 1.0 - 0.501 * _h(0.001 / 0.501)


@dataclass(frozen=True)
class Canonical:
    """One catalogue entry.

    Attributes:
        outcomes: ((x1, x2, y), probability) pairs; codes are small non-negative ints.
        values: measure -> (R, U1, U2, S) in bits.
        description: what the distribution demonstrates.
    """

    outcomes: tuple[tuple[tuple[int, int, int], float], ...]
    values: dict[str, tuple[float, float, float, float]]
    description: str


def _uniform(triples: list[tuple[int, int, int]]) -> tuple[tuple[tuple[int, int, int], float], ...]:
    return tuple((t, 1.0 / len(triples)) for t in triples)


def _same(r: float, u1: float, u2: float, s: float) -> dict[str, tuple[float, float, float, float]]:
    return {m: (r, u1, u2, s) for m in ("broja", "imin", "mmi")}


_BITS = (0, 1)

CATALOGUE: dict[str, Canonical] = {
    "redundant": Canonical(
        _uniform([(v, v, v) for v in _BITS]), _same(1, 0, 0, 0), "X1 = X2 = Y, one uniform bit"
    ),
    "unique_1": Canonical(
        _uniform([(a, b, a) for a in _BITS for b in _BITS]),
        _same(0, 1, 0, 0),
        "Y = X1, X2 an independent bit",
    ),
    "unique_2": Canonical(
        _uniform([(a, b, b) for a in _BITS for b in _BITS]),
        _same(0, 0, 1, 0),
        "Y = X2, X1 an independent bit (dit's 'unique 1')",
    ),
    "xor": Canonical(
        _uniform([(a, b, a ^ b) for a in _BITS for b in _BITS]), _same(0, 0, 0, 1), "Y = X1 XOR X2"
    ),
    "and": Canonical(
        _uniform([(a, b, a & b) for a in _BITS for b in _BITS]),
        _same(_AND_R, 0, 0, 0.5),
        "Y = X1 AND X2",
    ),
    "sum": Canonical(
        _uniform([(a, b, a + b) for a in _BITS for b in _BITS]), _same(0.5, 0, 0, 1), "Y = X1 + X2"
    ),
    "cat": Canonical(
        _uniform([(a, b, 2 * a + b) for a in _BITS for b in _BITS]),
        {"broja": (0, 1, 1, 0), "imin": (1, 0, 0, 1), "mmi": (1, 0, 0, 1)},
        "Y = (X1, X2), the copy: BROJA sees two unique bits, Imin and MMI redundancy plus synergy",
    ),
    "rdn_xor": Canonical(
        _uniform([(2 * r + a, 2 * r + b, 2 * r + (a ^ b)) for r in _BITS for a in _BITS for b in _BITS]),
        _same(1, 0, 0, 1),
        "X1 = (r, a), X2 = (r, b), Y = (r, a XOR b): one redundant and one synergistic bit",
    ),
    "reduced_or": Canonical(
        (((0, 0, 0), 0.5), ((0, 1, 1), 0.25), ((1, 0, 1), 0.25)),
        _same(_AND_R, 0, 0, 1 - _AND_R),
        "Y = X1 OR X2 with the outcome (1, 1) removed",
    ),
    "imperfect_rdn": Canonical(
        (((0, 0, 0), 0.499), ((0, 1, 0), 0.001), ((1, 1, 1), 0.5)),
        _same(_IMP_R, 1 - _IMP_R, 0, 0),
        "X1 = Y exactly, X2 = Y except for a 0.001 flip: near-copy redundancy",
    ),
    "composite": Canonical(
        _uniform(
            [
                (4 * r + 2 * u1 + a, 4 * r + 2 * u2 + b, 8 * r + 4 * u1 + 2 * u2 + (a ^ b))
                for r, u1, u2, a, b in itertools.product(_BITS, repeat=5)
            ]
        ),
        {"broja": (1, 1, 1, 1), "imin": (2, 0, 0, 2), "mmi": (2, 0, 0, 2)},
        "X1 = (r, u1, a), X2 = (r, u2, b), Y = (r, u1, u2, a XOR b): one bit of each term under BROJA",
    ),
}


def names() -> list[str]:
    """Catalogue names."""
    return list(CATALOGUE)


def _entry(name: str) -> Canonical:
    if name not in CATALOGUE:
        hint = suggest(name, CATALOGUE)
        raise ValueError(f"unknown canonical distribution {name!r}{hint}; known: {', '.join(CATALOGUE)}")
    return CATALOGUE[name]


def canonical_joint(name: str) -> np.ndarray:
    """The joint P(x1, x2, y) of a catalogue entry, float64 of shape (|X1|, |X2|, |Y|) summing to 1."""
    outcomes = _entry(name).outcomes
    shape = tuple(max(t[i] for t, _ in outcomes) + 1 for i in range(3))
    joint = np.zeros(shape)
    for (x1, x2, y), prob in outcomes:
        joint[x1, x2, y] += prob
    return joint


def expected_pid(name: str) -> dict[str, dict[str, float]]:
    """Published values of a catalogue entry: ``{measure: {term: bits}}`` (terms in ``TERMS`` order)."""
    return {m: dict(zip(TERMS, map(float, v))) for m, v in _entry(name).values.items()}
