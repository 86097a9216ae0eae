"""The ten official Trifeature shape templates (``trifeature-official.md`` section 2).

Each shape is a fixed 128 x 128 float32 template of exact 0/1 values, built by the per-pixel integer or
float rules of the official code (Hermann & Lampinen 2020, as used by CoMM's ``dataset/trifeatures.py``).
``i`` is the row (0 at the top) and ``j`` the column, both 0..127. Areas in px (for checking):
triangle 8192, square 16384, plus 9159, circle 12892, tee 9074, rhombus 8064, pentagon 11248, star 4273,
fivesquare 9074, trapezoid 11144.

* triangle: ``|j - 64| <= i // 2`` (isosceles, apex up, 127-px base, 128 rows).
* square: every pixel. plus: ``43 <= j <= 85 or 43 <= i <= 85``.
* circle: ``(i + 0.5 - 64)^2 + (j + 0.5 - 64)^2 < 64^2``.
* tee: ``43 <= j <= 85 or i <= 41`` (crossbar at the top).
* rhombus: ``0 < j - 64 + i // 2 < 64`` (a parallelogram leaning "/").
* pentagon: rows 0-50 ``|j - 64| - 1.25 i < 1``; rows 51-127 ``k < j < 128 - k``, ``k = (i - 51) // 3.1``.
* star: spike (rows 0-50, ``|j - 64| <= i // 4``), arm band (rows 51-75), two legs (rows 70-127).
* fivesquare: the four corner cells and the centre cell of the bands 0-41, 42-84, 85-127.
* trapezoid: ``k < j < 128 - k`` with ``k = i // 3.1`` (wide at the top).

``// 3.1`` is Python's floor division (``np.floor_divide``), which differs from ``floor(x / 3.1)`` at
multiples of 31 (the float 3.1 is slightly above 3.1); the official templates depend on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

#: Side of every template in px (the official 128-px box on the 224-px canvas).
TEMPLATE_SIZE = 128


def _triangle(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.abs(j - 64) <= i // 2


def _square(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.ones(np.broadcast_shapes(i.shape, j.shape), dtype=bool)


def _plus(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return ((43 <= j) & (j <= 85)) | ((43 <= i) & (i <= 85))


def _circle(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return (i + 0.5 - 64) ** 2 + (j + 0.5 - 64) ** 2 < 64**2


def _tee(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return ((43 <= j) & (j <= 85)) | (i <= 41)


def _rhombus(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    d = j - 64 + i // 2
    return (0 < d) & (d < 64)


def _pentagon(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    k = np.floor_divide(i - 51, 3.1)
    top = (i <= 50) & (np.abs(j - 64) - 1.25 * i < 1)
    bottom = (i >= 51) & (k < j) & (j < 128 - k)
    return top | bottom


def _star(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    spike = (i <= 50) & (np.abs(j - 64) <= i // 4)
    band = (i >= 51) & (i <= 75) & ((i - 51) * 2.4 < j) & (j < 128 - (i - 51) * 2.4)
    u = i - 70
    a, b = 128 * 0.33 - 0.43 * u, 128 * 0.62 - 1.05 * u
    legs = (i >= 70) & (((a < j) & (j < b)) | ((a < 128 - j) & (128 - j < b)))
    return spike | band | legs


def _fivesquare(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    row, col = np.digitize(i, (42, 85)), np.digitize(j, (42, 85))  # band 0, 1 or 2
    return ((row != 1) & (col != 1)) | ((row == 1) & (col == 1))


def _trapezoid(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    k = np.floor_divide(i, 3.1)
    return (k < j) & (j < 128 - k)


#: Official shape order (the integer code of a shape is its index) and each template's rule.
SHAPE_RULES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "triangle": _triangle,
    "square": _square,
    "plus": _plus,
    "circle": _circle,
    "tee": _tee,
    "rhombus": _rhombus,
    "pentagon": _pentagon,
    "star": _star,
    "fivesquare": _fivesquare,
    "trapezoid": _trapezoid,
}


@functools.lru_cache(maxsize=1)
def shape_templates() -> np.ndarray:
    """The ten templates, float32 (10, 128, 128) of exact 0/1 values, read-only; row 0 is the top."""
    i, j = np.indices((TEMPLATE_SIZE, TEMPLATE_SIZE), dtype=np.int64)
    out = np.stack([rule(i, j) for rule in SHAPE_RULES.values()]).astype(np.float32)
    out.flags.writeable = False
    return out
