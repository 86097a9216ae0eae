"""Vectorised numpy renderer of Trifeature images (Hermann & Lampinen 2020, as used by CoMM, spec 4.1).

An image shows one of 10 shapes, filled with one of 10 textures in one of 10 colours, on a grey background.
Every image of a batch is drawn with array operations over the whole pixel grid (no per-pixel Python loop);
the only Python loops run over the 10 shape codes, the 10 texture codes and chunks of images.

Geometry (coordinates in pixels, origin at the image centre, x to the right, y up):

* **Shape.** Each shape (``trifeature_shapes``) lies in a template square [-1, 1]^2 whose side is 128/224
  of the image side (the paper's 128-px template on a 224-px canvas). The template is rotated by an integer
  angle in [-45, 45) degrees and centred uniformly at random so that the rotated template square stays
  inside the image (the paper's expanded canvas pasted at a random offset). The mask is hard (pixel
  centres inside or not): no anti-aliasing, unlike the paper's bilinear rotation (a <= 1-px edge change).
* **Texture.** Evaluated from coordinates rotated by an independent integer angle in [-45, 45) around the
  image centre and shifted by a random phase uniform in [0, period) on each axis. The period is 10 px at
  224 px and scales with the image side, but never falls below ``MIN_PERIOD`` = 5 px (below it the ten
  textures cannot be drawn distinctly); line width 0.3 period (3 px at 224), thin lines 0.2 period (2 px).
  "noise" is Bernoulli(0.5) per texel and "rain" draws vertical 1-texel streaks of 7 texels (at 224) on a
  rotated texel grid (texel = period / 10, at least 1 px).
* **Compositing.** mask = shape AND texture; image = mask * colour + (1 - mask) * grey, in uint8 with
  channel value round(255 * c) (half up), e.g. grey (.5, .5, .5) -> (128, 128, 128).

References:
    K. Hermann, A. Lampinen, "What shapes feature representations? Exploring datasets, architectures, and
    training", NeurIPS 2020. B. Dufumier et al., "What to align in multimodal contrastive learning?",
    ICLR 2025 (arXiv 2409.07402), section 4 of the project's spec.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Union

import numpy as np

from interactions.registry import suggest

from .trifeature_patterns import TEXTURE_FUNCTIONS, texture_geometry
from .trifeature_shapes import SHAPE_FUNCTIONS

#: Shape names; the integer code of a shape is its index here (spec 4.1).
SHAPES: tuple[str, ...] = tuple(SHAPE_FUNCTIONS)
#: Texture names; the integer code of a texture is its index here.
TEXTURES: tuple[str, ...] = tuple(TEXTURE_FUNCTIONS)
#: Colour names and RGB values in [0, 1]; the integer code of a colour is its index here.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "pink": (1.0, 0.4, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "purple": (0.3, 0.0, 0.5),
    "ocean": (0.1, 0.4, 0.5),
    "orange": (1.0, 0.6, 0.0),
    "white": (1.0, 1.0, 1.0),
}
#: Background colour (RGB in [0, 1]).
BACKGROUND: tuple[float, float, float] = (0.5, 0.5, 0.5)

#: Side of the shape template as a fraction of the image side (128 px on the paper's 224-px canvas).
TEMPLATE_FRACTION = 128 / 224
#: Texture period in px at the paper's 224 px (scales linearly with the image side).
PAPER_PERIOD = 10.0
#: Smallest texture period in px at which the ten textures remain distinct.
MIN_PERIOD = 5.0
#: Smallest image side: the shape template must span at least two texture periods.
MIN_IMAGE_SIZE = math.ceil(2 * MIN_PERIOD / TEMPLATE_FRACTION)
#: Angles are integers in [-MAX_ANGLE, MAX_ANGLE) degrees.
MAX_ANGLE = 45
#: Largest default number of rendering threads.
MAX_THREADS = 8
#: Images rendered per chunk are limited to about this many pixels (bounds temporary memory).
_CHUNK_PIXELS = 1 << 18

CodeLike = Union[int, str, Sequence[Union[int, str]], np.ndarray]


def to_uint8(rgb: Sequence[float]) -> np.ndarray:
    """RGB in [0, 1] -> uint8 (3,), rounding half up."""
    return np.floor(np.asarray(rgb, dtype=np.float64) * 255 + 0.5).astype(np.uint8)


COLOUR_TABLE: np.ndarray = np.stack([to_uint8(c) for c in COLOURS.values()])  # (10, 3) uint8
GREY: np.ndarray = to_uint8(BACKGROUND)  # (3,) uint8


def check_image_size(image_size: object) -> int:
    """Validate an image side in px (an int >= ``MIN_IMAGE_SIZE``)."""
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise TypeError(f"image_size must be an int, got {image_size!r}")
    if image_size < MIN_IMAGE_SIZE:
        raise ValueError(
            f"image_size={image_size} is too small to draw a texture: the minimum is {MIN_IMAGE_SIZE} px "
            f"(the shape spans {TEMPLATE_FRACTION:.3f} of the side and must hold two texture periods "
            f"of at least {MIN_PERIOD:g} px)"
        )
    return int(image_size)


def texture_period(image_size: int) -> float:
    """Texture period in px: 10 px at 224 px, scaled with the side, at least ``MIN_PERIOD``."""
    return max(PAPER_PERIOD * check_image_size(image_size) / 224.0, MIN_PERIOD)


def to_codes(values: CodeLike, names: Sequence[str], kind: str) -> np.ndarray:
    """Names or integer codes -> int64 codes (n,); unknown names and out-of-range codes raise ValueError."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.ndim != 1:
        raise ValueError(f"{kind} codes must be a scalar or a 1-D sequence, got shape {arr.shape}")
    if arr.dtype.kind in "iu":  # integer codes: checked in one pass
        bad = arr[(arr < 0) | (arr >= len(names))]
        if len(bad):
            raise ValueError(f"{kind} code must be in [0, {len(names)}), got {bad[0]}")
        return arr.astype(np.int64)
    out = np.empty(len(arr), dtype=np.int64)
    for k, value in enumerate(arr.tolist()):
        if not isinstance(value, str) or isinstance(value, bool):
            raise TypeError(f"{kind} must be a name or an int code, got {value!r}")
        if value not in names:
            raise ValueError(f"unknown {kind} {value!r}{suggest(value, names)}; known: {', '.join(names)}")
        out[k] = names.index(value)
    return out


@dataclass(frozen=True)
class Nuisance:
    """Per-image nuisance of a rendering (everything but the attributes), arrays with first axis n.

    Attributes:
        shape_angle: shape rotation, integer degrees in [-45, 45), shape (n,).
        shape_centre: template centre (x, y) in px from the image centre (y up), shape (n, 2).
        texture_angle: texture rotation, integer degrees in [-45, 45), shape (n,).
        texture_phase: texture offset (u, v) in px, uniform in [0, period), shape (n, 2).
    """

    shape_angle: np.ndarray
    shape_centre: np.ndarray
    texture_angle: np.ndarray
    texture_phase: np.ndarray

    def __len__(self) -> int:
        return len(self.shape_angle)

    def subset(self, index: np.ndarray | slice) -> Nuisance:
        """The rows ``index`` of every array."""
        return Nuisance(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def draw_nuisance(n: int, image_size: int, rng: np.random.Generator) -> Nuisance:
    """Draw the nuisance of ``n`` images: angles, a position keeping the shape inside, a texture phase."""
    size = check_image_size(image_size)
    shape_angle = rng.integers(-MAX_ANGLE, MAX_ANGLE, size=n)
    texture_angle = rng.integers(-MAX_ANGLE, MAX_ANGLE, size=n)
    theta = np.deg2rad(shape_angle)
    half = size * TEMPLATE_FRACTION / 2 * (np.abs(np.cos(theta)) + np.abs(np.sin(theta)))
    limit = (size / 2 - half)[:, None]  # half-width of the rotated template square must stay inside
    centre = (2 * rng.random((n, 2)) - 1) * limit
    phase = rng.random((n, 2)) * texture_period(size)
    return Nuisance(shape_angle, centre, texture_angle, phase)


def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates from the image centre: x (1, 1, S) to the right, y (1, S, 1) up."""
    c = (np.arange(size, dtype=np.float32) + 0.5) - size / 2
    return c[None, None, :], -c[None, :, None]


def _rotated(
    x: np.ndarray,
    y: np.ndarray,
    angle_deg: np.ndarray,
    shift: np.ndarray,
    scale: float,
    offset: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates in a rotated frame: (u, v) = R(-angle) (p - shift) / scale + offset.

    Each output is one broadcast sum of a per-column (k, 1, S) and a per-row (k, S, 1) term, which costs
    one pass over the (k, S, S) grid instead of four.

    Args:
        x, y: pixel-centre coordinates, shapes (1, 1, S) and (1, S, 1).
        angle_deg: rotation of each image's frame in degrees, (k,).
        shift: origin of each frame in px, (k, 2). offset: added after scaling, (k, 2) or None.
    """
    t = np.deg2rad(angle_deg.astype(np.float64))
    cos = (np.cos(t) / scale).astype(np.float32)[:, None, None]
    sin = (np.sin(t) / scale).astype(np.float32)[:, None, None]
    dx = x - shift[:, 0, None, None].astype(np.float32)  # (k, 1, S)
    dy = y - shift[:, 1, None, None].astype(np.float32)  # (k, S, 1)
    if offset is not None:
        off = offset.astype(np.float32)
        return (cos * dx + off[:, 0, None, None]) + sin * dy, (cos * dy + off[:, 1, None, None]) - sin * dx
    return cos * dx + sin * dy, cos * dy - sin * dx


def shape_masks(shapes: CodeLike, nuisance: Nuisance, image_size: int) -> np.ndarray:
    """Boolean masks of the shapes placed by ``nuisance``. Shape: (n, S, S); row 0 is the top."""
    codes = to_codes(shapes, SHAPES, "shape")
    size = check_image_size(image_size)
    _check_len(codes, nuisance)
    x, y = _pixel_grid(size)
    out = np.zeros((len(codes), size, size), dtype=bool)
    for lo, hi in _chunks(len(codes), size):
        part = nuisance.subset(slice(lo, hi))
        u, v = _rotated(x, y, part.shape_angle, part.shape_centre, size * TEMPLATE_FRACTION / 2)
        for code in np.unique(codes[lo:hi]):
            idx = np.flatnonzero(codes[lo:hi] == code)
            out[lo + idx] = SHAPE_FUNCTIONS[SHAPES[code]](u[idx], v[idx])
    return out


def texture_masks(
    textures: CodeLike, nuisance: Nuisance, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Boolean texture patterns over the whole image (``rng`` draws noise and rain). Shape: (n, S, S)."""
    codes = to_codes(textures, TEXTURES, "texture")
    size = check_image_size(image_size)
    _check_len(codes, nuisance)
    geometry = texture_geometry(size, texture_period(size))
    x, y = _pixel_grid(size)
    out = np.zeros((len(codes), size, size), dtype=bool)
    for lo, hi in _chunks(len(codes), size):
        part = nuisance.subset(slice(lo, hi))
        # rotate about the image centre, then shift by the phase
        u, v = _rotated(x, y, part.texture_angle, np.zeros((hi - lo, 2)), 1.0, part.texture_phase)
        for code in np.unique(codes[lo:hi]):
            idx = np.flatnonzero(codes[lo:hi] == code)
            out[lo + idx] = TEXTURE_FUNCTIONS[TEXTURES[code]](u[idx], v[idx], geometry, rng)
    return out


def render(
    shapes: CodeLike,
    textures: CodeLike,
    colours: CodeLike,
    image_size: int,
    rng: np.random.Generator,
    nuisance: Nuisance | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Render Trifeature images.

    Chunks of images are rendered on a thread pool (numpy releases the GIL); each chunk draws from its own
    child of ``rng`` and the chunks depend only on (n, S), so the pixels do not depend on ``threads``.

    Args:
        shapes, textures, colours: names or integer codes (one each, or sequences of equal length n).
        image_size: side S in px (>= ``MIN_IMAGE_SIZE``).
        rng: draws the nuisance (unless given) and the random fields of "noise" and "rain".
        nuisance: explicit per-image nuisance (e.g. to compare two textures at the same placement).
        threads: worker threads (None: the available cores, at most ``MAX_THREADS``).

    Returns:
        uint8 array (n, 3, S, S) in 0..255, channels RGB, row 0 at the top.
    """
    s = to_codes(shapes, SHAPES, "shape")
    t = to_codes(textures, TEXTURES, "texture")
    c = to_codes(colours, tuple(COLOURS), "colour")
    if not len(s) == len(t) == len(c):
        raise ValueError(
            f"shapes, textures and colours must have equal lengths, got {len(s)}, {len(t)}, {len(c)}"
        )
    size = check_image_size(image_size)
    if nuisance is None:
        nuisance = draw_nuisance(len(s), size, rng)
    _check_len(s, nuisance)
    threads = _check_threads(threads)
    out = np.empty((len(s), 3, size, size), dtype=np.uint8)
    chunks = _chunks(len(s), size)
    streams = rng.spawn(len(chunks))

    def work(k: int) -> None:
        lo, hi = chunks[k]
        part = nuisance.subset(slice(lo, hi))
        mask = shape_masks(s[lo:hi], part, size) & texture_masks(t[lo:hi], part, size, streams[k])
        out[lo:hi] = GREY[None, :, None, None]
        for ch in range(3):  # paint the coloured pixels in place, channel by channel
            np.copyto(out[lo:hi, ch], COLOUR_TABLE[c[lo:hi], ch, None, None], where=mask)

    if threads == 1 or len(chunks) == 1:
        for k in range(len(chunks)):
            work(k)
    else:
        with ThreadPoolExecutor(min(threads, len(chunks))) as pool:
            list(pool.map(work, range(len(chunks))))  # list() re-raises a worker's exception
    return out


def _check_threads(threads: int | None) -> int:
    if threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(MAX_THREADS, cores))
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    return int(threads)


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    step = max(1, _CHUNK_PIXELS // (size * size))
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _check_len(codes: np.ndarray, nuisance: Nuisance) -> None:
    if len(nuisance) != len(codes):
        raise ValueError(f"nuisance has {len(nuisance)} rows for {len(codes)} images")
