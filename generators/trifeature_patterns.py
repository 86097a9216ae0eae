"""The ten Trifeature textures as boolean functions of rotated, phase-shifted pixel coordinates.

Each function takes texture coordinates ``u, v`` in px (float32, shape (k, S, S); the caller has rotated the
pixel grid and added the phase) and returns the boolean pattern (k, S, S). Periodic textures depend on
``a = u / period`` and ``b = v / period`` only; "noise" and "rain" read random fields drawn from ``rng`` on a
grid of texels (period / 10 px, at least 1 px) in the same rotated frame, like the paper's textures drawn at
448 px and rotated with nearest-neighbour sampling (spec 4.1). Proportions, in periods (paper: period 10 px,
line 3 px, thin line 2 px): stripes 0.3 wide; grid and hexgrid lines 0.2; dots of radius 0.3; triangles with
a 0.7-period base; zigzag lines 0.35 high with slope 1; pluses 0.7 long with 0.2-wide arms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LINE = 0.3  # line width in periods (3 px at 224)
THIN = 0.2  # thin line width in periods (2 px at 224)
RAIN_PROB = 0.05  # probability that a streak starts at a texel (paper, at 224 px)
RAIN_LENGTH = 7  # streak length in texels at 224 px
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class TextureGeometry:
    """Sizes in px of the textures of one image side.

    Attributes:
        period: texture period in px.
        texel: side of a random-field cell in px (period / 10, at least 1).
        reach: the texture coordinates |u|, |v| of any pixel stay below ``reach`` px.
        rain_length: streak length in texels (7 at 224 px, shorter when the period is floored).
        rain_prob: start probability per texel, chosen so that the rain covers the same fraction of the
            plane as at 224 px (1 - 0.95**7 = 30 %).
    """

    period: float
    texel: float
    reach: float
    rain_length: int
    rain_prob: float


def texture_geometry(image_size: int, period: float) -> TextureGeometry:
    """Texture sizes for an image side (px) and a period (px)."""
    texel = max(period / 10.0, 1.0)
    length = max(3, round(RAIN_LENGTH * period / 10.0 / texel))
    prob = 1.0 - (1.0 - RAIN_PROB) ** (RAIN_LENGTH / length)
    reach = image_size / 2 * math.sqrt(2.0) + period + 1.0
    return TextureGeometry(period, texel, reach, length, prob)


def _frac(x: np.ndarray) -> np.ndarray:
    return x - np.floor(x)


def solid(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Everything on."""
    return np.ones(u.shape, dtype=bool)


def stripes(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Parallel lines of width ``LINE`` periods, one per period along u."""
    return _frac(u / g.period) < LINE


def grid(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Square grid of thin lines."""
    return (_frac(u / g.period) < THIN) | (_frac(v / g.period) < THIN)


def hexgrid(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Honeycomb: edges of the Voronoi hexagons of a triangular lattice of spacing one period.

    Read from a precomputed tile of one rectangular period (1 x sqrt3 periods, ``_HEX_RES`` samples per
    period; boundary error <= 1 / (2 * _HEX_RES) period), 3x cheaper than evaluating ``_hexgrid_exact``.
    """
    tile = _hex_tile()
    a, b = u / np.float32(g.period), v / np.float32(g.period * _SQRT3)
    ia = ((a - np.floor(a)) * np.float32(tile.shape[0])).astype(np.int32)
    ib = ((b - np.floor(b)) * np.float32(tile.shape[1])).astype(np.int32)
    return np.take(
        tile.reshape(-1),
        np.minimum(ia, tile.shape[0] - 1) * tile.shape[1] + np.minimum(ib, tile.shape[1] - 1),
    )


_HEX_RES = 64


def _hexgrid_exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Honeycomb at coordinates in periods: hexagonal norm to the nearest lattice point > 1/2 - THIN/2."""
    # the lattice is the union of two rectangular lattices (1 x sqrt3), offset by (1/2, sqrt3/2)
    da0, db0 = a - np.round(a), b - _SQRT3 * np.round(b / _SQRT3)
    a1, b1 = a - 0.5, b - _SQRT3 / 2
    da1, db1 = a1 - np.round(a1), b1 - _SQRT3 * np.round(b1 / _SQRT3)
    nearer0 = da0 * da0 + db0 * db0 <= da1 * da1 + db1 * db1
    da, db = np.where(nearer0, da0, da1), np.where(nearer0, db0, db1)
    # largest projection on the three neighbour directions (0, 60, 120 degrees)
    proj = np.maximum(np.abs(0.5 * da + _SQRT3 / 2 * db), np.abs(0.5 * da - _SQRT3 / 2 * db))
    return np.maximum(np.abs(da), proj) > 0.5 - THIN / 2


@functools.lru_cache(maxsize=1)
def _hex_tile() -> np.ndarray:
    rows, cols = _HEX_RES, round(_HEX_RES * _SQRT3)
    a = (np.arange(rows)[:, None] + 0.5) / rows
    b = (np.arange(cols)[None, :] + 0.5) / cols * _SQRT3
    return _hexgrid_exact(a, b)


def dots(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Discs of radius 0.3 periods on a square lattice."""
    da, db = _frac(u / g.period) - 0.5, _frac(v / g.period) - 0.5
    return da * da + db * db < 0.3**2


def noise(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli(0.5) per texel."""
    shape = (len(u), *_field_shape(g))
    bits = np.unpackbits(np.frombuffer(rng.bytes(-(-math.prod(shape) // 8)), dtype=np.uint8))
    return _lookup(bits[: math.prod(shape)].reshape(shape).astype(bool), u, v, g)


def triangles(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Filled upward triangles (base 0.7, height 0.7 periods) on a square lattice."""
    da, fb = _frac(u / g.period) - 0.5, _frac(v / g.period)
    return (fb > 0.15) & (np.abs(da) < 0.5 * (0.85 - fb))


def zigzags(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Horizontal zigzag lines (slope +-1, one tooth per period), 0.35 periods high."""
    a, b = u / g.period, v / g.period
    return _frac(b - 0.5 * np.abs(2 * _frac(a) - 1)) < 0.35


def rain(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Vertical streaks one texel wide and ``rain_length`` texels long, starting at random texels."""
    cols, rows = _field_shape(g)
    starts = rng.random((len(u), cols, rows + g.rain_length), dtype=np.float32) < g.rain_prob
    # texel row r is wet if a streak starts at one of the rows r .. r + length - 1 (the streak runs down)
    field = starts[:, :, :rows].copy()
    for shift in range(1, g.rain_length):
        field |= starts[:, :, shift : shift + rows]
    return _lookup(field, u, v, g)


def pluses(u: np.ndarray, v: np.ndarray, g: TextureGeometry, rng: np.random.Generator) -> np.ndarray:
    """Plus signs 0.7 periods across with arms 0.2 periods wide, on a square lattice."""
    da, db = np.abs(_frac(u / g.period) - 0.5), np.abs(_frac(v / g.period) - 0.5)
    return ((da < THIN / 2) & (db < 0.35)) | ((db < THIN / 2) & (da < 0.35))


def _field_shape(g: TextureGeometry) -> tuple[int, int]:
    k = math.ceil(2 * g.reach / g.texel) + 1
    return k, k


def _lookup(field: np.ndarray, u: np.ndarray, v: np.ndarray, g: TextureGeometry) -> np.ndarray:
    """``field[image, column(u), row(v)]`` for a texel field (k, cols, rows) covering [-reach, reach]^2."""
    cols, rows = field.shape[1:]
    # reach bounds |u|, |v|, so both indices are in range; np.take still raises if that were ever wrong
    iu = ((u + np.float32(g.reach)) / np.float32(g.texel)).astype(np.int32)
    iv = ((np.float32(g.reach) - v) / np.float32(g.texel)).astype(np.int32)  # row index grows downwards
    flat = (np.arange(len(u), dtype=np.int32)[:, None, None] * (cols * rows) + iu * rows) + iv
    return np.take(field.reshape(-1), flat)


#: Texture name -> pattern function, in code order (spec 4.1).
TEXTURE_FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "solid": solid,
    "stripes": stripes,
    "grid": grid,
    "hexgrid": hexgrid,
    "dots": dots,
    "noise": noise,
    "triangles": triangles,
    "zigzags": zigzags,
    "rain": rain,
    "pluses": pluses,
}
