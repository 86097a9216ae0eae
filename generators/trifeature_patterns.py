"""The ten official Trifeature textures as rules on integer texel coordinates (``trifeature-official.md`` 3).

Every texture is a binary pattern on a 448 x 448 texel frame indexed (I, J) (row, column). The eight
deterministic textures are functions of ``X = J + ox`` and ``Y = I + oy`` (integer phases ox, oy in 0..9),
with period ``PERIOD`` = 10 texels, line width 3 (``PERIOD // 3``) and thin line width 2 (``PERIOD // 5``);
``x' = X mod 10``, ``y' = Y mod 10`` (non-negative modulo). At angle 0 and 224 px one texel is one pixel.

* solid: always on. stripes: ``y' < 3`` (horizontal lines). grid: ``y' < 3 or x' < 3``.
* hexgrid: ``(X + floor(1.73 Y)) mod 10 < 2 or (X - floor(1.73 Y)) mod 10 < 2 or Y mod 10 < 2``.
* dots: ``(x' - 5)^2 + (y' - 5)^2 < 16``. triangles: ``y' // 2 - |x' - 5| > 0``.
* zigzags: band ``b = (Y // 10) mod 2``, ``x'' = x'`` (b = 0) or ``9 - x'`` (b = 1);
  on iff ``y' // 2 < x'' < y' // 2 + 5`` (vertical zigzag lines).
* pluses: even bands ``x' in {4,5,6} or y' in {4,5,6}``; odd bands ``x' in {9,0,1} or
  (y' in {4,5,6} and x' not in {4,5,6})`` (connected, brick-like crosses).
* noise: i.i.d. Bernoulli(0.5) per texel. rain: a streak start at each texel with probability 0.05, each
  start switching on 7 texels downwards in its column (clipped at the bottom). Both ignore ox, oy.

The random fields (noise, rain) are drawn over the whole 448 x 448 frame, by ``official_field`` exactly as
the official code consumes its generator (one ``binomial`` call), or by ``fast_field`` from random bits
(same law, about 20x faster; rain starts with probability 3277 / 65536 = 0.05000).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Side of the texture frame in texels (2 x 224).
FRAME = 448
#: Texture period in texels; the phases ox, oy are drawn in 0..PERIOD-1.
PERIOD = 10
LINE = PERIOD // 3  # 3 texels
THIN = PERIOD // 5  # 2 texels
RAIN_PROB = 0.05
RAIN_LENGTH = 7
#: Textures drawn from a random field instead of a rule of (X, Y).
RANDOM_TEXTURES = ("noise", "rain")

Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _solid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.ones(np.broadcast_shapes(x.shape, y.shape), dtype=bool)


def _stripes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return y % PERIOD < LINE


def _grid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (y % PERIOD < LINE) | (x % PERIOD < LINE)


def _hexgrid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    slant = np.floor(1.73 * y.astype(np.float64)).astype(x.dtype)
    return ((x + slant) % PERIOD < THIN) | ((x - slant) % PERIOD < THIN) | (y % PERIOD < THIN)


def _dots(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x % PERIOD - 5) ** 2 + (y % PERIOD - 5) ** 2 < 16


def _triangles(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (y % PERIOD) // 2 - np.abs(x % PERIOD - 5) > 0


def _zigzags(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xm, half = x % PERIOD, (y % PERIOD) // 2
    odd = (y // PERIOD) % 2 == 1
    xx = np.where(odd, PERIOD - 1 - xm, xm)
    return (half < xx) & (xx < half + 5)


def _pluses(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xm, ym = x % PERIOD, y % PERIOD
    odd = (y // PERIOD) % 2 == 1
    centre_x = (4 <= xm) & (xm <= 6)
    centre_y = (4 <= ym) & (ym <= 6)
    edge_x = (xm == 9) | (xm <= 1)
    return np.where(odd, edge_x | (centre_y & ~centre_x), centre_x | centre_y)


def _random(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    raise ValueError("noise and rain are drawn from a random field (official_field / fast_field)")


#: Official texture order (the integer code of a texture is its index) and each deterministic rule.
TEXTURE_RULES: dict[str, Rule] = {
    "solid": _solid,
    "stripes": _stripes,
    "grid": _grid,
    "hexgrid": _hexgrid,
    "dots": _dots,
    "noise": _random,
    "triangles": _triangles,
    "zigzags": _zigzags,
    "rain": _random,
    "pluses": _pluses,
}


def rain_streaks(starts: np.ndarray) -> np.ndarray:
    """Boolean (448, 448): each start switches on itself and the 6 texels below it (clipped at the bottom)."""
    out = starts.astype(bool).copy()
    for k in range(1, RAIN_LENGTH):
        out[k:] |= starts[:-k].astype(bool)
    return out


def official_field(name: str, rng: np.random.Generator) -> np.ndarray:
    """The official draw of a random texture, bool (448, 448), consuming ``rng`` as the official code does.

    noise: ``binomial(1, 0.5, (448, 448))``. rain: one unused ``integers(0, 10)``, then 448^2 Bernoulli(0.05)
    starts in row-major order (the same stream as one ``binomial(1, 0.05, (448, 448))``).
    """
    if name == "noise":
        return rng.binomial(1, 0.5, size=(FRAME, FRAME)).astype(bool)
    if name == "rain":
        rng.integers(0, 10)  # drawn and not used by the official code
        return rain_streaks(rng.binomial(1, RAIN_PROB, size=(FRAME, FRAME)))
    raise ValueError(f"{name!r} has no random field; random textures: {RANDOM_TEXTURES}")


def fast_field(name: str, rng: np.random.Generator, rows: int = FRAME, cols: int = FRAME) -> np.ndarray:
    """A ``rows x cols`` window of a random texture field with the official law, from random bits (bool; not
    the official stream). A rain window is drawn with the ``RAIN_LENGTH - 1`` rows above it, whose streaks
    reach into it, so any window has exactly the law of the same window of a full field."""
    if name == "noise":
        bits = rng.integers(0, 256, size=-(-rows * cols // 8), dtype=np.uint8)
        return np.unpackbits(bits)[: rows * cols].reshape(rows, cols).astype(bool)
    if name == "rain":
        starts = rng.integers(0, 1 << 16, size=(rows + RAIN_LENGTH - 1, cols), dtype=np.uint16) < 3277
        return rain_streaks(starts)[RAIN_LENGTH - 1 :]
    raise ValueError(f"{name!r} has no random field; random textures: {RANDOM_TEXTURES}")
