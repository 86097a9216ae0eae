"""The ten Trifeature shapes as boolean functions of template coordinates.

Each function takes template coordinates ``u, v`` (float32, shape (k, S, S); x to the right, y up, the
template square is [-1, 1]^2 after undoing the shape's rotation and position) and returns the mask
(k, S, S). Every shape fits inside the template square and is written with a handful of array operations
(absolute values for symmetric shapes, half-planes for polygons). Outlines (vertices, y up):

* triangle: equilateral, circumradius 0.95, apex up. square: side 1.5. circle: radius 0.85.
* plus: two 0.6 x 1.8 bars. tee: bar [-0.9, 0.9] x [0.35, 0.9] over a stem [-0.275, 0.275] x [-0.9, 0.35].
* rhombus: (0, +-0.95), (+-0.6, 0) (never a rotated square). pentagon: regular, circumradius 0.9.
* star: regular pentagram, tips at radius 0.95 (notches at 0.95 * 0.382).
* fivesquare: the five 0.6-squares of a 3 x 3 board over [-0.9, 0.9]^2 whose row + column is even
  (the four corners and the centre, as on a die).
* trapezoid: (-0.9, -0.6), (0.9, -0.6), (0.45, 0.6), (-0.45, 0.6).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

#: Inner / outer radius of a regular pentagram: sin(18 deg) / sin(126 deg) = 1 / phi^2.
PENTAGRAM_RATIO = math.sin(math.radians(18)) / math.sin(math.radians(126))


def _normals(k: int, start_deg: float) -> list[tuple[float, float]]:
    return [(math.cos(a), math.sin(a)) for a in np.deg2rad(start_deg + 360.0 * np.arange(k) / k)]


def _regular_polygon(u: np.ndarray, v: np.ndarray, k: int, radius: float, vertex_deg: float = 90.0):
    """Inside the regular k-gon with circumradius ``radius`` and a vertex at ``vertex_deg``."""
    apothem = np.float32(radius * math.cos(math.pi / k))
    inside = np.ones(u.shape, dtype=bool)
    for a, b in _normals(k, vertex_deg + 180.0 / k):  # edge normals lie between the vertices
        inside &= np.float32(a) * u + np.float32(b) * v <= apothem
    return inside


def triangle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _regular_polygon(u, v, 3, 0.95)


def square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(u), np.abs(v)) <= 0.75


def plus(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    au, av = np.abs(u), np.abs(v)
    return ((au <= 0.3) & (av <= 0.9)) | ((av <= 0.3) & (au <= 0.9))


def circle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u * u + v * v <= np.float32(0.85**2)


def tee(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    au = np.abs(u)
    bar = (au <= 0.9) & (v >= 0.35) & (v <= 0.9)
    stem = (au <= 0.275) & (v >= -0.9) & (v < 0.35)
    return bar | stem


def rhombus(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.abs(u) / np.float32(0.6) + np.abs(v) / np.float32(0.95) <= 1.0


def pentagon(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _regular_polygon(u, v, 5, 0.9)


def star(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A regular pentagram is the set of points on the inner side of at least 4 of its 5 lines."""
    outer = 0.95
    # each line joins tips k and k + 2; its distance to the centre is outer * cos(72 deg)
    offset = np.float32(outer * math.cos(math.radians(72)))
    count = np.zeros(u.shape, dtype=np.uint8)
    for a, b in _normals(5, 90.0):  # the line through tips at 90 and 234 deg has its normal at 162 deg
        count += np.float32(a) * u + np.float32(b) * v <= offset
    return count >= 4


def fivesquare(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    inside = (np.abs(u) <= 0.9) & (np.abs(v) <= 0.9)
    col = np.floor((u + np.float32(0.9)) / np.float32(0.6)).astype(np.int8)
    row = np.floor((v + np.float32(0.9)) / np.float32(0.6)).astype(np.int8)
    return inside & ((col + row) % 2 == 0)


def trapezoid(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return (np.abs(v) <= 0.6) & (np.abs(u) <= np.float32(0.675) - np.float32(0.375) * v)


#: Shape name -> mask function, in code order (spec 4.1).
SHAPE_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "triangle": triangle,
    "square": square,
    "plus": plus,
    "circle": circle,
    "tee": tee,
    "rhombus": rhombus,
    "pentagon": pentagon,
    "star": star,
    "fivesquare": fivesquare,
    "trapezoid": trapezoid,
}
