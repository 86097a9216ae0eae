"""Vectorised numpy renderer of the official Trifeature images (``trifeature-official.md``, spec 4.1).

An image shows one of 10 shapes, filled with one of 10 textures in one of 10 colours, on a grey background.
At 224 px the images are the official ones, pixel for pixel (for the same nuisance; ``draw_official_nuisance``
also replays the official random stream):

* **Shape** (section 1). The 128 x 128 template (``trifeature_shapes``) is rotated by an integer angle
  a_s in [-45, 44] as ``scipy.ndimage.rotate(template, a_s, order=1)`` does (bilinear, the box grows to
  h x h, h = ``box_side(a_s)``), and the whole h x h box is pasted at the whole-pixel offset (r0, c0), each
  uniform in 0..223-h. Edges inside the template box are blended by the bilinear resampling.
* **Texture** (section 3). A 448 x 448 binary pattern (``trifeature_patterns``) with integer phases
  ox, oy in 0..9, rotated nearest-neighbour about its centre by an independent integer angle a_t in
  [-45, 44], and cropped to its central 224 x 224.
* **Compositing** (section 4). V = mask * texture; pixel = V * colour + (1 - V) * 0.5 in float32 (float64
  for noise, as the official int64 texture promotes it), stored as ``uint8(pixel * 255)`` (truncation:
  grey is 127, purple (76, 0, 127), ocean (25, 102, 127)).

The rotations are evaluated directly at the output pixels with the exact formulas of sections 1 and 3
(the mapping of ``scipy.ndimage.rotate``), over all images of a chunk at once; the only Python loops run
over the 10 texture codes, the chunks and the per-image paste of the shape box.

**Below (or above) 224 px: the official geometry, scaled, with a floored texture period.** Image side S:

* the shape is the official 224-px mask (same template, angle, whole-pixel position, bilinear edges)
  resampled to S x S by exact area averaging (each output pixel is the mean of the 224-px mask over its
  footprint), so edge pixels are fractional and blend colour with grey;
* the texture is evaluated at the S-px pixel centres with a period of ``texture_period(S)`` =
  max(10 S / 224, ``MIN_PERIOD``) px: one official texel is period / 10 px, the rules, phases, rotation
  (nearest texel) and random fields are the official ones. Above 10 S / 224 = ``MIN_PERIOD`` (S < 112) the
  texture is coarser than the official one relative to the shape, so that every texture stays
  distinguishable: with 5-px periods the thinnest official line (2 texels) is 1 px wide;
* images smaller than ``MIN_IMAGE_SIZE`` are rejected: the 128/224 template must hold two vertical periods
  of the zigzags and pluses (2 x 2 periods of at least ``MIN_PERIOD`` px), the largest texture repeat.

The alternative (the official 224-px image resized) was rejected: at 64 px its 10-px period becomes
2.9 px, which averages the thin lines of grid, hexgrid, triangles and pluses into similar grey-blends.

References:
    K. Hermann, A. Lampinen, "What shapes feature representations? Exploring datasets, architectures, and
    training", NeurIPS 2020. B. Dufumier et al., "What to align in multimodal contrastive learning?",
    ICLR 2025 (arXiv 2409.07402); CoMM's ``dataset/trifeatures.py``.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Union

import numpy as np
from scipy.special import cosdg, sindg

from interactions.registry import suggest

from .trifeature_patterns import (
    FRAME,
    PERIOD,
    RANDOM_TEXTURES,
    TEXTURE_RULES,
    fast_field,
    official_field,
)
from .trifeature_shapes import SHAPE_RULES, TEMPLATE_SIZE, shape_templates

#: Shape names; the integer code of a shape is its index here (official order).
SHAPES: tuple[str, ...] = tuple(SHAPE_RULES)
#: Texture names; the integer code of a texture is its index here.
TEXTURES: tuple[str, ...] = tuple(TEXTURE_RULES)
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

#: The official canvas side in px.
CANVAS = 224
#: Official texture period in px at 224 px (one texel per px).
PAPER_PERIOD = float(PERIOD)
#: Smallest texture period in px: the 2-texel lines of hexgrid stay 1 px wide.
MIN_PERIOD = 5.0
#: Smallest image side: the 128/224 template holds 2 vertical periods of zigzags / pluses (4 MIN_PERIOD px).
MIN_IMAGE_SIZE = math.ceil(4 * MIN_PERIOD * CANVAS / TEMPLATE_SIZE)
#: Angles are integers in [-MAX_ANGLE, MAX_ANGLE) degrees.
MAX_ANGLE = 45
#: Largest default number of rendering threads.
MAX_THREADS = 8
#: Images rendered per chunk are limited to about this many canvas pixels (bounds temporary memory).
_CHUNK_PIXELS = 1 << 20

CodeLike = Union[int, str, Sequence[Union[int, str]], np.ndarray]


def to_uint8(rgb: Sequence[float]) -> np.ndarray:
    """RGB in [0, 1] -> uint8 (3,) as the official code stores it: ``uint8(float32(c) * 255)`` (truncated)."""
    return (np.asarray(rgb, dtype=np.float32) * np.float32(255)).astype(np.uint8)


_COLOUR_FLOAT: np.ndarray = np.array(list(COLOURS.values()), dtype=np.float32)  # (10, 3)
COLOUR_TABLE: np.ndarray = np.stack([to_uint8(c) for c in COLOURS.values()])  # (10, 3) uint8
GREY: np.ndarray = to_uint8(BACKGROUND)  # (3,) uint8: (127, 127, 127)


def check_image_size(image_size: object) -> int:
    """Validate an image side in px (an int >= ``MIN_IMAGE_SIZE``)."""
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise TypeError(f"image_size must be an int, got {image_size!r}")
    if image_size < MIN_IMAGE_SIZE:
        raise ValueError(
            f"image_size={image_size} is too small to show every texture: the minimum is {MIN_IMAGE_SIZE} px "
            f"(the shape template spans {TEMPLATE_SIZE}/{CANVAS} of the side and must hold two vertical "
            f"repeats of zigzags and pluses, 4 periods of at least {MIN_PERIOD:g} px)"
        )
    return int(image_size)


def texture_period(image_size: int) -> float:
    """Texture period in px at side S: 10 S / 224 (10 px at 224), at least ``MIN_PERIOD``."""
    return max(PAPER_PERIOD * check_image_size(image_size) / CANVAS, MIN_PERIOD)


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


# ------------------------------------------------------------------------------------------- rotation
def rotation(angle_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact-degree (cos, sin) of integer angles, float64 (as ``scipy.ndimage.rotate``)."""
    a = np.asarray(angle_deg, dtype=np.float64)
    return cosdg(a), sindg(a)


def box_side(angle_deg: np.ndarray) -> np.ndarray:
    """Side h of the rotated 128-px template box, int64: ``int(ptp(R @ corners) + 0.5)`` as scipy computes it
    (= floor(128 (|cos a| + |sin a|) + 0.5): 128 at 0, 148 at +-10, 181 at -45 degrees)."""
    cos, sin = rotation(angle_deg)
    n = float(TEMPLATE_SIZE)
    corners = np.stack([np.zeros_like(cos), sin * n, cos * n, cos * n + sin * n])  # first row of R @ corners
    return (np.ptp(corners, axis=0) + 0.5).astype(np.int64)


def _source_offset(cos: np.ndarray, sin: np.ndarray, out_side: np.ndarray, in_side: float):
    """scipy's ``offset = in_centre - R @ out_centre`` (row, column), float64 each."""
    m = (np.asarray(out_side, dtype=np.float64) - 1) / 2
    centre = (in_side - 1) / 2
    return centre - (cos * m + sin * m), centre - (-sin * m + cos * m)


# ---------------------------------------------------------------------------------------------- nuisance
@dataclass(frozen=True)
class Nuisance:
    """Per-image nuisance of a rendering (everything but the attributes), first axis n.

    Attributes:
        shape_angle: shape rotation a_s, integer degrees in [-45, 44], int64 (n,).
        offset: top-left corner (r0, c0) of the rotated h x h shape box on the 224-px canvas, int64 (n, 2),
            each in 0..223-h.
        phase: texture phases (ox, oy) in texels, int64 (n, 2), each in 0..9.
        texture_angle: texture rotation a_t, integer degrees in [-45, 44], int64 (n,).
        fields: per image, None (deterministic texture), a bit-packed official random field (uint8
            (448 * 448 / 8,)) or an int seed of ``fast_field`` (noise and rain).
    """

    shape_angle: np.ndarray
    offset: np.ndarray
    phase: np.ndarray
    texture_angle: np.ndarray
    fields: tuple[Union[np.ndarray, int, None], ...]

    def __len__(self) -> int:
        return len(self.shape_angle)

    def subset(self, index: Union[np.ndarray, slice]) -> Nuisance:
        """The rows ``index`` of every array."""
        rows = np.arange(len(self))[index]
        return Nuisance(
            self.shape_angle[rows],
            self.offset[rows],
            self.phase[rows],
            self.texture_angle[rows],
            tuple(self.fields[k] for k in rows.tolist()),
        )

    def field(self, k: int, texture: str, window: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """The random field of image k, bool (448, 448), or its ``window`` (row0, row1, col0, col1).

        A seeded (fast) field is drawn for the window only (the texels the image reads), which has the
        same law as that window of a full field.
        """
        value = self.fields[k]
        if value is None:
            raise ValueError(f"image {k} has no random field for texture {texture!r}")
        r0, r1, c0, c1 = window if window is not None else (0, FRAME, 0, FRAME)
        if isinstance(value, np.ndarray):
            return np.unpackbits(value).reshape(FRAME, FRAME).astype(bool)[r0:r1, c0:c1]
        return fast_field(texture, np.random.default_rng(value), r1 - r0, c1 - c0)


def draw_official_nuisance(textures: CodeLike, rng: np.random.Generator) -> Nuisance:
    """Draw the nuisance of images one after the other exactly as the official code consumes ``rng``.

    Per image (section 5): a_s, r0, c0, ox, oy, the random field (noise / rain only), a_t. With
    ``default_rng(42)`` after the split's shuffle and the images in loop order this replays the official
    data set. About 50 ms per noise image (the official ``binomial`` call); use ``draw_nuisance`` for views.
    """
    codes = to_codes(textures, TEXTURES, "texture")
    n = len(codes)
    shape_angle, texture_angle = np.empty(n, np.int64), np.empty(n, np.int64)
    offset, phase = np.empty((n, 2), np.int64), np.empty((n, 2), np.int64)
    fields: list[Union[np.ndarray, None]] = []
    for k, code in enumerate(codes.tolist()):
        shape_angle[k] = rng.integers(-MAX_ANGLE, MAX_ANGLE)
        h = int(box_side(shape_angle[k]))
        offset[k, 0] = rng.integers(0, CANVAS - h)
        offset[k, 1] = rng.integers(0, CANVAS - h)
        phase[k, 0] = rng.integers(0, PERIOD)
        phase[k, 1] = rng.integers(0, PERIOD)
        name = TEXTURES[code]
        fields.append(np.packbits(official_field(name, rng)) if name in RANDOM_TEXTURES else None)
        texture_angle[k] = rng.integers(-MAX_ANGLE, MAX_ANGLE)
    return Nuisance(shape_angle, offset, phase, texture_angle, tuple(fields))


def draw_nuisance(textures: CodeLike, rng: np.random.Generator) -> Nuisance:
    """Draw the nuisance of images with the official law, vectorised (not the official stream).

    Angles, offsets and phases are drawn as arrays; a noise / rain image gets a seed of its random field.
    """
    codes = to_codes(textures, TEXTURES, "texture")
    n = len(codes)
    shape_angle = rng.integers(-MAX_ANGLE, MAX_ANGLE, size=n)
    room = CANVAS - box_side(shape_angle)  # offsets are uniform in 0..room-1
    offset = np.floor(rng.random((n, 2)) * room[:, None]).astype(np.int64)
    phase = rng.integers(0, PERIOD, size=(n, 2))
    texture_angle = rng.integers(-MAX_ANGLE, MAX_ANGLE, size=n)
    seeds = rng.integers(0, 2**63, size=n)
    random = np.isin(codes, [TEXTURES.index(t) for t in RANDOM_TEXTURES])
    fields = tuple(int(s) if r else None for s, r in zip(seeds.tolist(), random.tolist()))
    return Nuisance(shape_angle, offset, phase, texture_angle, fields)


# ------------------------------------------------------------------------------------------ shape masks
def rotated_templates(shapes: np.ndarray, shape_angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear rotation of the templates as ``scipy.ndimage.rotate(t, a, order=1)`` (reshape, cval 0).

    Output pixel (r, c) of the h x h box samples the template at ``((off_r + cos r) + sin c,
    (off_c - sin r) + cos c)``; bilinear if both lie in [0, 127], else 0.

    Returns:
        boxes float32 (k, H, H) with H the largest h (each image's box in its top-left h x h corner, zero
        elsewhere) and the sides h, int64 (k,).
    """
    templates = shape_templates().reshape(-1)
    sides = box_side(shape_angle)
    side = int(sides.max()) if len(sides) else 0
    cos, sin = rotation(shape_angle)
    off_r, off_c = _source_offset(cos, sin, sides, TEMPLATE_SIZE)
    cos, sin = cos[:, None, None], sin[:, None, None]
    r = np.arange(side, dtype=np.float64)[None, :, None]
    c = np.arange(side, dtype=np.float64)[None, None, :]
    src_r = (off_r[:, None, None] + cos * r) + sin * c
    src_c = (off_c[:, None, None] - sin * r) + cos * c
    last = TEMPLATE_SIZE - 1
    inside = (src_r >= 0) & (src_r <= last) & (src_c >= 0) & (src_c <= last)
    inside &= (r < sides[:, None, None]) & (c < sides[:, None, None])
    src_r = np.where(inside, src_r, 0.0)
    src_c = np.where(inside, src_c, 0.0)
    i0, j0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - i0, src_c - j0
    i0, j0 = i0.astype(np.int64), j0.astype(np.int64)
    i1, j1 = np.minimum(i0 + 1, last), np.minimum(j0 + 1, last)
    base = shapes[:, None, None] * TEMPLATE_SIZE**2
    t00 = templates[base + i0 * TEMPLATE_SIZE + j0]
    t01 = templates[base + i0 * TEMPLATE_SIZE + j1]
    t10 = templates[base + i1 * TEMPLATE_SIZE + j0]
    t11 = templates[base + i1 * TEMPLATE_SIZE + j1]
    wr0, wc0 = 1.0 - fr, 1.0 - fc
    value = t00 * wr0 * wc0 + t01 * wr0 * fc + t10 * fr * wc0 + t11 * fr * fc
    return np.where(inside, value, 0.0).astype(np.float32), sides


@functools.lru_cache(maxsize=len(SHAPES) * 2 * MAX_ANGLE)
def _box_parts(shape: int, angle: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One rotated template, stored compactly: (pixels equal to 1, bool (h, h); flat indices, int32, and
    values, float32, of the fractional edge pixels). At most about 25 MB for all 900 (shape, angle)."""
    box = rotated_templates(np.array([shape]), np.array([angle]))[0][0]
    frac = np.flatnonzero((box > 0) & (box < 1)).astype(np.int32)
    return box == 1, frac, box.reshape(-1)[frac]


def rotated_box(shape: int, angle: int) -> np.ndarray:
    """The rotated template of ``shape`` at ``angle`` degrees, float32 (h, h) (cached per pair)."""
    ones, frac, values = _box_parts(int(shape), int(angle))
    box = ones.astype(np.float32)
    box.reshape(-1)[frac] = values
    return box


@functools.lru_cache(maxsize=16)
def area_edges(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel edges of a ``size``-px image on the 224-px canvas: integer part (int64 (size + 1,), clipped so
    that part + 1 <= 224) and fractional part (float64); edge e = part + frac = e_index * 224 / size."""
    edges = np.arange(size + 1, dtype=np.float64) * CANVAS / size
    part = np.minimum(np.floor(edges).astype(np.int64), CANVAS - 1)
    return part, edges - part


def area_resample(canvas: np.ndarray, size: int) -> np.ndarray:
    """Exact area average of 224-px canvases onto ``size`` px, float32 (k, size, size).

    Output pixel (s, t) is the mean of the canvas over its footprint [s, s+1] x [t, t+1] * 224 / size: the
    difference of the canvas's integral image at the footprint's corners, the integral being linear between
    canvas pixel edges (so exact for fractional footprints).
    """
    k = len(canvas)
    part, frac = area_edges(size)
    down = np.zeros((k, CANVAS + 1, CANVAS), dtype=np.float64)  # integral over rows, then over columns
    np.cumsum(canvas, axis=1, dtype=np.float64, out=down[:, 1:])
    rows = down[:, part] * (1 - frac)[None, :, None] + down[:, part + 1] * frac[None, :, None]
    across = np.zeros((k, size + 1, CANVAS + 1), dtype=np.float64)
    np.cumsum(rows, axis=2, out=across[:, :, 1:])
    both = across[:, :, part] * (1 - frac) + across[:, :, part + 1] * frac  # (k, size + 1, size + 1)
    area = np.diff(np.diff(both, axis=1), axis=2)
    return (area * (size / CANVAS) ** 2).astype(np.float32)


@functools.lru_cache(maxsize=len(SHAPES) * 2 * MAX_ANGLE)
def _box_integral(shape: int, angle: int) -> np.ndarray:
    """Integral image of a rotated template, float64 (h + 1, h + 1): ``I[a, b]`` = sum of ``box[:a, :b]``."""
    box = rotated_box(shape, angle)
    out = np.zeros((len(box) + 1, len(box) + 1), dtype=np.float64)
    np.cumsum(np.cumsum(box, axis=0, dtype=np.float64), axis=1, out=out[1:, 1:])
    out.flags.writeable = False
    return out


def _interpolate_edges(edges: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Edge positions clipped to [0, side] -> (integer part in 0..side-1, fraction)."""
    x = np.clip(edges, 0.0, side)
    part = np.minimum(np.floor(x).astype(np.int64), side - 1)
    return part, x - part


def shape_masks(shapes: CodeLike, nuisance: Nuisance, image_size: int) -> np.ndarray:
    """Shape masks in [0, 1], float32 (n, S, S): the official 224-px mask, area-resampled when S != 224.

    At S != 224 each output pixel is the mean of the 224-px mask over its footprint, read from the rotated
    box's integral image (linear between pixel edges, so exact for fractional footprints); equal to
    ``area_resample`` of the pasted 224-px canvas, without building it.
    """
    codes = to_codes(shapes, SHAPES, "shape")
    size = check_image_size(image_size)
    _check_len(codes, nuisance)
    rows = zip(codes.tolist(), nuisance.shape_angle.tolist(), nuisance.offset.tolist())
    if size == CANVAS:
        canvas = np.zeros((len(codes), CANVAS, CANVAS), dtype=np.float32)
        for k, (code, angle, (r0, c0)) in enumerate(rows):
            box = rotated_box(code, angle)
            canvas[k, r0 : r0 + len(box), c0 : c0 + len(box)] = box
        return canvas
    edges = np.arange(size + 1, dtype=np.float64) * CANVAS / size
    out = np.empty((len(codes), size, size), dtype=np.float32)
    for k, (code, angle, (r0, c0)) in enumerate(rows):
        integral = _box_integral(code, angle)
        h = len(integral) - 1
        ir, fr = _interpolate_edges(edges - r0, h)
        ic, fc = _interpolate_edges(edges - c0, h)
        by_row = integral[ir] * (1 - fr)[:, None] + integral[ir + 1] * fr[:, None]  # (S + 1, h + 1)
        both = by_row[:, ic] * (1 - fc) + by_row[:, ic + 1] * fc  # (S + 1, S + 1)
        out[k] = np.diff(np.diff(both, axis=0), axis=1) * (size / CANVAS) ** 2
    return out


# ------------------------------------------------------------------------------------------- textures
def texel_indices(texture_angle: np.ndarray, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Texel (I, J) of the 448-frame read by each pixel, int16 (k, S, S) each.

    Pixel (r, c) sits at frame position v(r) = (r + 0.5 - S/2) * 10 / period + 223.5 (exactly r + 112 at
    224 px), which the nearest-neighbour rotation reads at ``floor(src + 0.5)`` with ``src = (off + cos v_r)
    + sin v_c`` (rows) and ``(off - sin v_r) + cos v_c`` (columns), as ``scipy.ndimage.rotate(order=0,
    reshape=False)`` does. Each (angle, S) is computed once and cached (int16).
    """
    size = check_image_size(image_size)
    angles = np.asarray(texture_angle, dtype=np.int64)
    rows = np.empty((len(angles), size, size), dtype=np.int16)
    cols = np.empty((len(angles), size, size), dtype=np.int16)
    for angle in np.unique(angles).tolist():
        idx = np.flatnonzero(angles == angle)
        r, c = _texel_indices(angle, size)
        rows[idx], cols[idx] = r, c
    return rows, cols


@functools.lru_cache(maxsize=4 * 2 * MAX_ANGLE)
def _texel_indices(angle: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    scale = PAPER_PERIOD / texture_period(size)
    v = (np.arange(size, dtype=np.float64) + 0.5 - size / 2) * scale + (FRAME - 1) / 2
    cos, sin = rotation(np.array(angle))
    off_r, off_c = _source_offset(cos, sin, FRAME, FRAME)
    vr, vc = v[:, None], v[None, :]
    rows = np.floor(((off_r + cos * vr) + sin * vc) + 0.5).astype(np.int16)
    cols = np.floor(((off_c - sin * vr) + cos * vc) + 0.5).astype(np.int16)
    if min(rows.min(), cols.min()) < 0 or max(rows.max(), cols.max()) >= FRAME:
        raise AssertionError(f"texture angle {angle} reads outside the {FRAME}-texel frame")
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


def texture_masks(textures: CodeLike, nuisance: Nuisance, image_size: int) -> np.ndarray:
    """Binary texture patterns over the whole image, bool (n, S, S)."""
    codes = to_codes(textures, TEXTURES, "texture")
    size = check_image_size(image_size)
    _check_len(codes, nuisance)
    rows, cols = texel_indices(nuisance.texture_angle, size)
    out = np.empty((len(codes), size, size), dtype=bool)
    for code in np.unique(codes).tolist():
        idx = np.flatnonzero(codes == code)
        name = TEXTURES[code]
        if name in RANDOM_TEXTURES:
            for k in idx.tolist():
                r, c = rows[k], cols[k]
                r0, c0 = int(r.min()), int(c.min())
                patch = nuisance.field(k, name, (r0, int(r.max()) + 1, c0, int(c.max()) + 1))
                out[k] = patch[r - r0, c - c0]
            continue
        x = cols[idx] + nuisance.phase[idx, 0, None, None].astype(np.int16)
        y = rows[idx] + nuisance.phase[idx, 1, None, None].astype(np.int16)
        out[idx] = TEXTURE_RULES[name](x, y)
    return out


# ------------------------------------------------------------------------------------------- rendering
def composite(
    mask: np.ndarray,
    texture: np.ndarray,
    colours: np.ndarray,
    exact64: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Official compositing: V = mask * texture; ``uint8((V colour + (1 - V) 0.5) * 255)``.

    Args:
        mask: float32 (k, S, S) in [0, 1]. texture: bool (k, S, S). colours: int64 codes (k,).
        exact64: bool (k,): compute in float64 (the official noise texture is int64).
        out: uint8 (k, 3, S, S) to write into, or None.

    Returns:
        uint8 (k, 3, S, S).
    """
    if out is None:
        out = np.empty((len(mask), 3, *mask.shape[1:]), dtype=np.uint8)
    v = mask * texture  # float32 (k, S, S)
    full = v == 1  # exact colour; v == 0 is exact grey; only edge pixels need the float formula
    for ch in range(3):
        np.copyto(out[:, ch], GREY[ch])
        np.copyto(out[:, ch], COLOUR_TABLE[colours, ch, None, None], where=full)
    k, r, c = np.nonzero((v > 0) & (v < 1))
    if len(k):
        for dtype in (np.float32, np.float64):
            sel = exact64[k] if dtype is np.float64 else ~exact64[k]
            vv = v[k[sel], r[sel], c[sel]].astype(dtype)
            rest = (1 - vv) * dtype(0.5)
            for ch in range(3):
                col = _COLOUR_FLOAT[colours[k[sel]], ch].astype(dtype)
                out[k[sel], ch, r[sel], c[sel]] = ((vv * col + rest) * dtype(255)).astype(np.uint8)
    return out


def render(
    shapes: CodeLike,
    textures: CodeLike,
    colours: CodeLike,
    image_size: int,
    rng: np.random.Generator | None = None,
    nuisance: Nuisance | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Render Trifeature images.

    Args:
        shapes, textures, colours: names or integer codes (one each, or sequences of equal length n).
        image_size: side S in px (>= ``MIN_IMAGE_SIZE``; 224 gives the official images).
        rng: draws the nuisance with ``draw_nuisance`` when ``nuisance`` is not given.
        nuisance: explicit per-image nuisance (e.g. ``draw_official_nuisance``, or one placement for many
            textures).
        threads: worker threads over chunks of images (None: the available cores, at most ``MAX_THREADS``);
            the pixels do not depend on it.

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
        if rng is None:
            raise ValueError("render needs an rng or an explicit nuisance")
        nuisance = draw_nuisance(t, rng)
    _check_len(s, nuisance)
    threads = _check_threads(threads)
    out = np.empty((len(s), 3, size, size), dtype=np.uint8)
    chunks = _chunks(len(s))
    noise = TEXTURES.index("noise")

    def work(lo: int, hi: int) -> None:
        part = nuisance.subset(slice(lo, hi))
        mask = shape_masks(s[lo:hi], part, size)
        texture = texture_masks(t[lo:hi], part, size)
        composite(mask, texture, c[lo:hi], t[lo:hi] == noise, out=out[lo:hi])

    if threads == 1 or len(chunks) == 1:
        for lo, hi in chunks:
            work(lo, hi)
    else:
        with ThreadPoolExecutor(min(threads, len(chunks))) as pool:
            list(pool.map(lambda b: work(*b), chunks))  # list() re-raises a worker's exception
    return out


def _check_threads(threads: int | None) -> int:
    if threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(MAX_THREADS, cores))
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    return int(threads)


def _chunks(n: int) -> list[tuple[int, int]]:
    step = max(1, _CHUNK_PIXELS // (CANVAS * CANVAS))  # the shape box is computed on the canvas scale
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _check_len(codes: np.ndarray, nuisance: Nuisance) -> None:
    if len(nuisance) != len(codes):
        raise ValueError(f"nuisance has {len(nuisance)} rows for {len(codes)} images")
