"""Tests of the ``trifeature`` generator: the paper's split and pairs, M, the exact ground truth, the
renderer against naive references, determinism, the on-disk cache and bad input."""

from __future__ import annotations

import json
import math
import os
import pickle
from collections import Counter

import numpy as np
import pytest
from scipy import ndimage

import generators
import generators.trifeature as trifeature_module
from generators.trifeature import TrifeatureGenerator
from generators.trifeature_render import (
    COLOUR_TABLE,
    COLOURS,
    GREY,
    MIN_IMAGE_SIZE,
    MIN_PERIOD,
    SHAPES,
    TEXTURES,
    Nuisance,
    box_side,
    composite,
    draw_nuisance,
    draw_official_nuisance,
    render,
    rotated_templates,
    shape_masks,
    texel_indices,
    texture_masks,
    texture_period,
)
from generators.trifeature_shapes import shape_templates
from generators.trifeature_split import pair_blocks, split_table, texture_to_colour

SIZE = 40  # a small size used throughout (>= MIN_IMAGE_SIZE)
SPEC_M = {  # spec 4.2, [SIM]
    "solid": "cyan", "stripes": "purple", "grid": "red", "hexgrid": "ocean", "dots": "yellow",
    "noise": "blue", "triangles": "pink", "zigzags": "white", "rain": "green", "pluses": "orange",
}  # fmt: skip


@pytest.fixture(scope="module")
def gen() -> TrifeatureGenerator:
    return TrifeatureGenerator(image_size=SIZE)


@pytest.fixture(scope="module")
def biased(gen) -> TrifeatureGenerator:
    return TrifeatureGenerator(image_size=SIZE, bias=1.0)


def _naive_pairs(attrs: np.ndarray, mapping: np.ndarray | None) -> np.ndarray:
    """All allowed (i, j) by brute force over the N x N grid. Shape (pairs, 2)."""
    ok = attrs[:, None, 0] == attrs[None, :, 0]
    if mapping is not None:
        ok &= attrs[None, :, 2] == mapping[attrs[:, None, 1]]
    return np.argwhere(ok)


def _plugin_entropy(*columns: np.ndarray) -> float:
    counts = np.array(list(Counter(zip(*columns)).values()), dtype=float)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


# ------------------------------------------------------------------------------------- split and pairs
def test_split_replays_the_reference_split(gen):
    test = split_table(42)
    assert test.sum() == 200
    assert test.sum(axis=(1, 2)).tolist() == [19, 26, 20, 19, 25, 15, 19, 18, 19, 20]  # spec 4.2
    train_attrs, test_attrs = gen.image_attributes("train"), gen.image_attributes("test")
    assert train_attrs.shape == (2400, 3) and test_attrs.shape == (200, 3)
    train_combos = Counter(map(tuple, train_attrs.tolist()))
    assert len(train_combos) == 800 and set(train_combos.values()) == {3}
    assert not set(train_combos) & set(map(tuple, test_attrs.tolist()))  # disjoint combinations
    for k in range(3):  # every single attribute value occurs in both splits
        assert set(train_attrs[:, k]) == set(test_attrs[:, k]) == set(range(10))


@pytest.mark.parametrize(
    "is_biased, split, expected",
    [(False, "train", 576_846), (False, "test", 4_094), (True, "train", 57_636), (True, "test", 404)],
)
def test_allowed_pair_counts_match_the_spec_and_brute_force(is_biased, split, expected):
    g = TrifeatureGenerator(image_size=SIZE, bias=float(is_biased))
    assert g.allowed_pairs(split) == expected
    mapping = g.mapping if is_biased else None
    assert len(_naive_pairs(g.image_attributes(split), mapping)) == expected


@pytest.mark.parametrize("is_biased", [False, True])
def test_pair_decoding_enumerates_exactly_the_allowed_pairs(gen, is_biased):
    attrs = gen.image_attributes("test")
    mapping = gen.mapping if is_biased else None
    blocks = pair_blocks(attrs, mapping)
    i, j = blocks.decode(np.arange(blocks.total))
    decoded = set(zip(i.tolist(), j.tolist()))
    assert len(decoded) == blocks.total  # a bijection onto ...
    assert decoded == set(map(tuple, _naive_pairs(attrs, mapping).tolist()))  # ... the allowed pairs


def test_sampled_pairs_share_their_shape_and_carry_consistent_targets(gen):
    s = gen.sample(300, seed=3)
    attrs = gen.image_attributes("train")
    i, j = s.latents["image_1"], s.latents["image_2"]
    assert len(set(zip(i.tolist(), j.tolist()))) == 300  # without replacement
    assert np.array_equal(attrs[i, 0], attrs[j, 0])  # same shape
    assert np.array_equal(s.targets["redundancy"], attrs[i, 0])
    assert np.array_equal(s.targets["unique_1"], attrs[i, 1])
    assert np.array_equal(s.targets["unique_2"], attrs[j, 1])
    m = np.array([list(COLOURS).index(SPEC_M[t]) for t in TEXTURES])  # M from the spec's names
    assert np.array_equal(s.targets["synergy"], (attrs[j, 2] == m[attrs[i, 1]]).astype(int))
    assert 0.05 < s.targets["synergy"].mean() < 0.16  # about 10 % positive on unbiased pairs


def test_biased_pairs_satisfy_the_bias_and_the_test_split_is_exhausted(biased):
    s = biased.sample(404, seed=0, split="test")  # every allowed biased test pair
    assert np.array_equal(s.latents["colour_2"], biased.mapping[s.latents["texture_1"]])
    assert (s.targets["synergy"] == 1).all()
    assert len(set(zip(s.latents["image_1"].tolist(), s.latents["image_2"].tolist()))) == 404
    with pytest.raises(ValueError, match="n=405 exceeds the 404 allowed biased pairs of the test split"):
        biased.sample(405, split="test")


# ------------------------------------------------------------------------------------------- mapping M
def test_mapping_is_the_spec_bijection_however_data_is_produced():
    a = TrifeatureGenerator(image_size=SIZE)
    b = TrifeatureGenerator(image_size=SIZE, bias=1.0)
    a.sample(50, seed=1, split="test")  # test first, then train
    a.sample(20, seed=2)
    b.sample(7, seed=9)  # train first, different n and seed
    b.sample(3, seed=4, split="test")
    for g in (a, b, TrifeatureGenerator(image_size=SIZE, render_seed=5)):
        assert g.mapping_names == SPEC_M
        assert sorted(g.mapping.tolist()) == list(range(10))  # a bijection
    assert np.array_equal(a.mapping, texture_to_colour(42))
    assert not np.array_equal(TrifeatureGenerator(mapping_seed=1).mapping, a.mapping)
    with pytest.raises(ValueError):
        a.mapping[0] = 1  # read-only


# --------------------------------------------------------------------------------------- ground truth
@pytest.mark.parametrize("is_biased", [False, True])
def test_ground_truth_equals_plugin_values_on_the_full_pair_enumeration(is_biased):
    """The law is uniform over the allowed pairs, so plug-in entropies over all of them are exact."""
    g = TrifeatureGenerator(image_size=SIZE, bias=float(is_biased))
    attrs = g.image_attributes("test")
    pairs = _naive_pairs(attrs, g.mapping if is_biased else None)
    s, t1, c1 = attrs[pairs[:, 0]].T
    t2, c2 = attrs[pairs[:, 1], 1], attrs[pairs[:, 1], 2]
    y = (c2 == g.mapping[t1]).astype(int)
    h = _plugin_entropy
    i1 = h(s, t1, c1) + h(y) - h(s, t1, c1, y)
    i2 = h(s, t2, c2) + h(y) - h(s, t2, c2, y)
    spec = g.ground_truth("test")
    assert spec.redundancy == pytest.approx(h(s), abs=1e-9)
    assert spec.unique_1 == pytest.approx(h(t1, s, t2, c2) - h(s, t2, c2), abs=1e-9)
    assert spec.unique_2 == pytest.approx(h(t2, s, t1, c1) - h(s, t1, c1), abs=1e-9)
    assert spec.synergy == pytest.approx(max(h(y) - max(i1, i2), 0.0), abs=1e-9)
    assert spec.measure == "mmi"
    if is_biased:  # colour_2 = M(texture_1): texture_1 is readable from image 2 and y is constant
        assert spec.unique_1 == 0.0 and spec.synergy == 0.0 and spec.unique_2 > 0
    else:  # unbiased: texture_1 and image 2 are independent given the shape
        assert spec.unique_1 == pytest.approx(h(t1, s) - h(s), abs=1e-9)
        assert spec.synergy > 0.35
    info = g.target_information("test")
    assert info["unique_1"] == pytest.approx(h(t1), abs=1e-9)
    assert info["synergy"] == pytest.approx(h(y), abs=1e-9)


def test_mixture_bias_truth_is_the_information_of_the_mixed_pair_law():
    """0 < bias < 1: pairs are biased with probability bias; the exact law weights each enumerated pair."""
    g = TrifeatureGenerator(image_size=SIZE, bias=0.3)
    attrs = g.image_attributes("test")
    plain, biased = _naive_pairs(attrs, None), _naive_pairs(attrs, g.mapping)
    pairs = np.concatenate([plain, biased])
    weights = np.r_[np.full(len(plain), 0.7 / len(plain)), np.full(len(biased), 0.3 / len(biased))]

    def h(*cols):
        table: dict = {}
        for key, w in zip(zip(*cols), weights):
            table[key] = table.get(key, 0.0) + w
        p = np.array(list(table.values()))
        return float(-(p * np.log2(p)).sum())

    s, t1, c1 = attrs[pairs[:, 0]].T
    t2, c2 = attrs[pairs[:, 1], 1], attrs[pairs[:, 1], 2]
    y = (c2 == g.mapping[t1]).astype(int)
    spec = g.ground_truth("test")
    assert spec.unique_1 == pytest.approx(h(t1, s, t2, c2) - h(s, t2, c2), abs=1e-9)
    i1, i2 = h(s, t1, c1) + h(y) - h(s, t1, c1, y), h(s, t2, c2) + h(y) - h(s, t2, c2, y)
    assert spec.synergy == pytest.approx(h(y) - max(i1, i2), abs=1e-9)
    ends = [TrifeatureGenerator(image_size=SIZE, bias=b).ground_truth("test") for b in (0.0, 1.0)]
    assert ends[1].unique_1 < spec.unique_1 < ends[0].unique_1
    sample = g.sample(4000, seed=0)
    assert np.mean(sample.targets["synergy"]) == pytest.approx(0.3 + 0.7 * 0.1, abs=0.03)
    assert g.unbiased().bias == 0.0 and TrifeatureGenerator(bias=1).bias == 1.0


def test_ground_truth_train_matches_closed_forms(gen):
    counts = 3 * (100 - split_table(42).sum(axis=(1, 2)))  # train images per shape
    p = counts**2 / (counts**2).sum()  # P(shape) over pairs is proportional to n_s^2
    spec = gen.ground_truth()
    assert spec.redundancy == pytest.approx(-(p * np.log2(p)).sum(), abs=1e-12)
    assert spec.unique_1 == pytest.approx(spec.unique_2, abs=1e-12)  # symmetric unbiased law
    assert math.log2(10) - 0.03 < spec.unique_1 < math.log2(10)
    assert spec.synergy < gen.target_information()["synergy"] < spec.synergy + 0.01
    sample = gen.sample(5, seed=0, split="test")
    assert sample.spec == gen.ground_truth("test")


# -------------------------------------------------------------------------------------------- rendering
# Every expected value below is read from trifeature-official.md (sections 1-4), not from the renderer.
OFFICIAL_AREAS = {
    "triangle": 8192, "square": 16384, "plus": 9159, "circle": 12892, "tee": 9074, "rhombus": 8064,
    "pentagon": 11248, "star": 4273, "fivesquare": 9074, "trapezoid": 11144,
}  # fmt: skip
OFFICIAL_COLOURS = {
    "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
    "pink": (255, 102, 255), "cyan": (0, 255, 255), "purple": (76, 0, 127), "ocean": (25, 102, 127),
    "orange": (255, 153, 0), "white": (255, 255, 255),
}  # fmt: skip


def _spans(row: np.ndarray) -> str:
    """Runs of ones in a template row as 'a..b c..d'."""
    on = np.flatnonzero(row)
    breaks = np.flatnonzero(np.diff(on) > 1)
    starts, ends = np.r_[on[0], on[breaks + 1]], np.r_[on[breaks], on[-1]]
    return " ".join(f"{a}..{b}" for a, b in zip(starts, ends))


def test_templates_have_the_official_areas_boxes_and_rows():
    t = shape_templates()
    assert t.shape == (10, 128, 128) and t.dtype == np.float32 and set(np.unique(t)) == {0.0, 1.0}
    assert {name: int(t[k].sum()) for k, name in enumerate(SHAPES)} == OFFICIAL_AREAS
    for k, name in enumerate(SHAPES):
        rows, cols = np.flatnonzero(t[k].any(1)), np.flatnonzero(t[k].any(0))
        assert 126 <= rows[-1] - rows[0] + 1 <= 128 and 126 <= cols[-1] - cols[0] + 1 <= 128, name
    shape = dict(zip(SHAPES, t))
    assert _spans(shape["star"][85]) == "36..63 65..92"
    assert _spans(shape["pentagon"][127]) == "25..103"
    assert _spans(shape["rhombus"][0]) == "65..127" and all(
        shape["rhombus"][i].sum() == 63 for i in range(128)
    )
    assert _spans(shape["triangle"][127]) == "1..127" and _spans(shape["triangle"][0]) == "64..64"
    assert _spans(shape["trapezoid"][0]) == "1..127" and _spans(shape["trapezoid"][127]) == "41..87"
    assert _spans(shape["trapezoid"][31]) == "10..118"  # k = 31 // 3.1 = 9 (floor division), not 10
    assert _spans(shape["trapezoid"][32]) == "11..117"
    assert _spans(shape["tee"][41]) == "0..127" and _spans(shape["tee"][42]) == "43..85"
    assert _spans(shape["plus"][0]) == "43..85" and _spans(shape["plus"][64]) == "0..127"


@pytest.mark.parametrize("angle", [-45, -30, -1, 0, 10, 20, 30, 44])
def test_shape_rotation_is_scipy_bilinear_rotate(angle):
    boxes, sides = rotated_templates(np.arange(10), np.full(10, angle))
    expected_side = {-45: 181, -30: 175, -1: 130, 0: 128, 10: 148, 20: 164, 30: 175, 44: 181}[angle]
    assert (sides == expected_side).all()  # section 1: h = floor(128 (|cos| + |sin|) + 0.5)
    for k in range(10):
        ref = ndimage.rotate(shape_templates()[k], angle, order=1)
        assert ref.shape == (sides[k], sides[k])
        np.testing.assert_allclose(boxes[k, : sides[k], : sides[k]], ref, rtol=0, atol=1e-12)
    if angle == 0:
        assert np.array_equal(boxes[:, :128, :128], shape_templates())  # every edge hard at 0 degrees
    if angle == 20:  # fractional edge pixels per shape at 20 degrees (section 1)
        frac = ((boxes > 0) & (boxes < 1)).sum(axis=(1, 2))
        assert dict(zip(SHAPES, frac.tolist())) == {
            "square": 0, "tee": 250, "trapezoid": 326, "plus": 334, "triangle": 374, "rhombus": 380,
            "pentagon": 419, "circle": 440, "fivesquare": 498, "star": 687,
        }  # fmt: skip


@pytest.mark.parametrize("angle", [-45, -31, 0, 7, 30, 44])
def test_texture_rotation_is_scipy_nearest_rotate_then_central_crop(angle):
    ids = np.arange(448 * 448, dtype=np.float64).reshape(448, 448)
    ref = ndimage.rotate(ids, angle, order=0, reshape=False)[112:336, 112:336].astype(np.int64)
    rows, cols = texel_indices(np.array([angle]), 224)
    assert np.array_equal(rows[0].astype(np.int64) * 448 + cols[0], ref)


def _naive_texture(name: str, ox: int, oy: int, field: np.ndarray | None) -> np.ndarray:
    """The 448 x 448 official texture written from the table of section 3 (independently of the renderer)."""
    big_i, big_j = np.indices((448, 448))
    x, y = big_j + ox, big_i + oy
    xp, yp = np.mod(x, 10), np.mod(y, 10)
    band = np.mod(y // 10, 2)
    if name in ("noise", "rain"):
        return field
    if name == "solid":
        return np.ones((448, 448), bool)
    if name == "stripes":
        return yp < 3
    if name == "grid":
        return (yp < 3) | (xp < 3)
    if name == "hexgrid":
        f = np.floor(1.73 * y).astype(int)
        return (np.mod(x + f, 10) < 2) | (np.mod(x - f, 10) < 2) | (np.mod(y, 10) < 2)
    if name == "dots":
        return (xp - 5) ** 2 + (yp - 5) ** 2 < 16
    if name == "triangles":
        return yp // 2 - np.abs(xp - 5) > 0
    if name == "zigzags":
        xx = np.where(band == 0, xp, 9 - xp)
        return (yp // 2 < xx) & (xx < yp // 2 + 5)
    assert name == "pluses"
    even = np.isin(xp, [4, 5, 6]) | np.isin(yp, [4, 5, 6])
    odd = np.isin(xp, [9, 0, 1]) | (np.isin(yp, [4, 5, 6]) & ~np.isin(xp, [4, 5, 6]))
    return np.where(band == 0, even, odd)


def _naive_official_image(shape: int, texture: int, colour: int, nu: Nuisance, k: int) -> np.ndarray:
    """The official pipeline with scipy (sections 1-4): rotate, paste, rotate texture, crop, composite."""
    box = ndimage.rotate(shape_templates()[shape], int(nu.shape_angle[k]), order=1)
    mask = np.zeros((224, 224), np.float32)
    r0, c0 = nu.offset[k]
    mask[r0 : r0 + len(box), c0 : c0 + len(box)] = box
    name = TEXTURES[texture]
    field = nu.field(k, name) if name in ("noise", "rain") else None
    tex = _naive_texture(name, int(nu.phase[k, 0]), int(nu.phase[k, 1]), field).astype(np.float32)
    tex = ndimage.rotate(tex, int(nu.texture_angle[k]), order=0, reshape=False)[112:336, 112:336]
    if name == "noise":  # int64 texture: float64 arithmetic
        v = mask.astype(np.float64) * tex.astype(np.int64)
        col = np.array(list(COLOURS.values())[colour], dtype=np.float32).astype(np.float64)
    else:
        v = mask * tex
        col = np.array(list(COLOURS.values())[colour], dtype=np.float32)
    pixel = v[..., None] * col + (1 - v[..., None]) * v.dtype.type(0.5)
    return (pixel * v.dtype.type(255)).astype(np.uint8).transpose(2, 0, 1)


def test_224_px_images_equal_the_official_pipeline_pixel_for_pixel():
    rng = np.random.default_rng(123)
    n = 30
    shapes, textures, colours = rng.integers(0, 10, n), np.arange(n) % 10, rng.integers(0, 10, n)
    nu = draw_official_nuisance(textures, rng)
    images = render(shapes, textures, colours, 224, nuisance=nu)
    for k in range(n):
        ref = _naive_official_image(shapes[k], textures[k], colours[k], nu, k)
        assert np.array_equal(images[k], ref), (SHAPES[shapes[k]], TEXTURES[textures[k]])
    assert len({(int(a), tuple(o)) for a, o in zip(nu.shape_angle, nu.offset.tolist())}) > 25


def test_official_nuisance_consumes_the_stream_in_the_official_order():
    textures = [TEXTURES.index(t) for t in ("dots", "noise", "rain", "solid")]
    nu = draw_official_nuisance(textures, np.random.default_rng(7))
    rng = np.random.default_rng(7)  # replay section 5 by hand
    for k, name in enumerate(("dots", "noise", "rain", "solid")):
        a = rng.integers(-45, 45)
        h = int(np.floor(128 * (abs(np.cos(np.radians(a))) + abs(np.sin(np.radians(a)))) + 0.5))
        assert nu.shape_angle[k] == a
        assert tuple(nu.offset[k]) == (rng.integers(0, 224 - h), rng.integers(0, 224 - h))
        assert tuple(nu.phase[k]) == (rng.integers(0, 10), rng.integers(0, 10))
        if name == "noise":
            assert np.array_equal(nu.field(k, name), rng.binomial(1, 0.5, (448, 448)).astype(bool))
        if name == "rain":
            rng.integers(0, 10)
            starts = rng.binomial(1, 0.05, (448, 448))
            streaks = np.zeros((448, 448), bool)
            for i, j in np.argwhere(starts):
                streaks[i : i + 7, j] = True
            assert np.array_equal(nu.field(k, name), streaks)
        assert nu.texture_angle[k] == rng.integers(-45, 45)
    assert nu.offset.min() >= 0 and (nu.offset.max(axis=1) <= 223 - box_side(nu.shape_angle)).all()


def _at_angle_zero(n: int, phase=(0, 0)) -> Nuisance:
    return Nuisance(
        np.zeros(n, np.int64), np.full((n, 2), 48, np.int64), np.tile(np.array(phase), (n, 1)),
        np.zeros(n, np.int64), tuple(range(n)),
    )  # fmt: skip


def test_textures_at_angle_zero_have_the_official_periods_widths_and_orientations():
    """Section 3 at 224 px: pixel (r, c) reads texel (r + 112, c + 112), phase ((c + 2), (r + 2)) mod 10."""
    tex = dict(zip(TEXTURES, texture_masks(np.arange(10), _at_angle_zero(10), 224)))
    rows = (np.arange(224) + 2) % 10  # y' of each image row (ox = oy = 0)
    assert tex["solid"].all()
    stripes = tex["stripes"]
    assert (stripes == stripes[:, :1]).all() and np.array_equal(stripes[:, 0], rows < 3)  # horizontal, 3 px
    grid = tex["grid"]
    assert np.array_equal(grid[rows >= 3][0], (np.arange(224) + 2) % 10 < 3)  # 3-px vertical lines
    assert grid[:200, :200].mean() == pytest.approx(0.51) and stripes[:200].mean() == pytest.approx(0.3)
    dots = tex["dots"][:200, :200]
    assert dots.mean() == pytest.approx(0.45)  # 45 px per 10 x 10 cell
    assert tex["dots"][rows == 5][0].reshape(-1)[8:18].sum() == 7  # 7 px across
    assert tex["triangles"][:200, :200].mean() == pytest.approx(0.32)
    zig = tex["zigzags"]
    assert zig[:200, :200].mean() == pytest.approx(0.40)
    assert np.array_equal(zig[:-20], zig[20:]) and not np.array_equal(
        zig[:-10], zig[10:]
    )  # vertical period 20
    assert np.array_equal(zig[:, :-10], zig[:, 10:])  # one line every 10 columns ...
    for row in zig[:20]:
        runs = [len(r) for r in "".join("1" if b else "0" for b in row).split("0") if r]
        assert set(runs[1:-1]) == {4}  # runs inside the image are 4 px wide
    hexgrid = tex["hexgrid"]
    assert 0.45 < hexgrid[:200, :200].mean() < 0.53 and hexgrid[rows < 2].all()  # 2-px horizontal lines
    pluses = tex["pluses"]
    assert pluses[:200, :200].mean() == pytest.approx(0.47, abs=0.01)
    even = ((np.arange(224) + 112) // 10) % 2 == 0  # band of texel row Y = r + 112
    assert pluses[even & (rows == 5)].all()  # continuous bars in even bands, broken in odd ones
    assert not pluses[~even & (rows == 5)].all()
    assert 0.45 < tex["noise"].mean() < 0.55 and 0.25 < tex["rain"].mean() < 0.35
    for name in ("stripes", "grid", "dots", "triangles", "pluses"):
        assert np.array_equal(tex[name][:-20], tex[name][20:]) and np.array_equal(
            tex[name][:, :-10], tex[name][:, 10:]
        )
    shifted = texture_masks([1], _at_angle_zero(1, phase=(0, 3)), 224)[0]
    assert np.array_equal(shifted[:-3], stripes[3:])  # oy = 3 moves the pattern up by 3 rows


def test_colours_and_background_are_the_official_truncated_values():
    assert {name: tuple(COLOUR_TABLE[k].tolist()) for k, name in enumerate(COLOURS)} == OFFICIAL_COLOURS
    assert GREY.tolist() == [127, 127, 127]
    image = render(["square"], ["solid"], ["white"], 224, nuisance=_at_angle_zero(1))[0]
    assert (image[:, :48] == 127).all() and (image[:, 48:176, 48:176] == 255).all()
    assert (image[:, 176:] == 127).all() and (image[:, :, :48] == 127).all()
    half = composite(
        np.full((1, 1, 1), 0.5, np.float32), np.ones((1, 1, 1), bool), np.array([9]), np.zeros(1, bool)
    )
    assert half.reshape(-1).tolist() == [191, 191, 191]  # V = 0.5 on white


def test_below_224_px_the_geometry_is_scaled_and_textures_keep_a_5_px_period():
    assert texture_period(224) == 10.0 and texture_period(448) == 20.0
    assert texture_period(64) == MIN_PERIOD == 5.0 and texture_period(160) == pytest.approx(10 * 160 / 224)
    nu = _at_angle_zero(10)
    masks_224, masks_56 = shape_masks(np.arange(10), nu, 224), shape_masks(np.arange(10), nu, 56)
    block_means = masks_224.reshape(10, 56, 4, 56, 4).mean(axis=(2, 4))  # exact 4 x 4 area averages
    np.testing.assert_allclose(masks_56, block_means, atol=1e-6)
    np.testing.assert_allclose(shape_masks(np.arange(10), nu, 64).sum(axis=(1, 2)) * (224 / 64) ** 2,
                               list(OFFICIAL_AREAS.values()), rtol=1e-5)  # fmt: skip
    stripes = texture_masks([1], nu.subset([0]), 64)[0]
    assert (stripes == stripes[:, :1]).all() and np.array_equal(stripes[:-5], stripes[5:])  # period 5 px
    assert MIN_IMAGE_SIZE == 35  # 4 periods of 5 px inside the 128/224 template
    with pytest.raises(ValueError, match="too small to show every texture: the minimum is 35 px"):
        render([0], [0], [0], 34, np.random.default_rng(0))


def test_patterned_pixels_are_colour_grey_or_edge_blends_inside_the_shape():
    size, rng = 48, np.random.default_rng(1)
    n = 40
    shapes, textures, colours = rng.integers(0, 10, n), np.arange(n) % 10, rng.integers(0, 10, n)
    nuisance = draw_nuisance(textures, rng)
    images = render(shapes, textures, colours, size, nuisance=nuisance)
    masks = shape_masks(shapes, nuisance, size)
    for k in range(n):
        img = images[k].transpose(1, 2, 0).astype(int)
        coloured = (img == COLOUR_TABLE[colours[k]]).all(-1)
        grey = (img == GREY).all(-1)
        assert not (coloured & (masks[k] == 0)).any() and grey[masks[k] == 0].all()
        between = ~(coloured | grey)  # blends lie on the segment between grey and the colour
        lo, hi = np.minimum(GREY, COLOUR_TABLE[colours[k]]), np.maximum(GREY, COLOUR_TABLE[colours[k]])
        assert ((img[between] >= lo) & (img[between] <= hi)).all()
        fraction = coloured.sum() / (masks[k] == 1).sum()
        if TEXTURES[textures[k]] == "solid":
            assert fraction == 1.0
        else:
            assert 0.05 < fraction < 0.8, (TEXTURES[textures[k]], fraction)


def test_textures_differ_from_each_other_under_the_same_placement():
    size, n = 64, 10
    one = draw_nuisance([0], np.random.default_rng(2))
    fields = ("shape_angle", "offset", "phase", "texture_angle")
    same = Nuisance(*(np.repeat(getattr(one, f), n, axis=0) for f in fields),
                    tuple(range(n)))  # fmt: skip
    masks = texture_masks(np.arange(n), same, size)
    for a in range(n):
        for b in range(a + 1, n):
            assert (masks[a] != masks[b]).mean() > 0.1, (TEXTURES[a], TEXTURES[b])


# ---------------------------------------------------------------------------- determinism and views
def test_same_seed_same_data_and_different_seed_different_data(gen):
    a, b, c = gen.sample(40, seed=7), gen.sample(40, seed=7), gen.sample(40, seed=8)
    assert np.array_equal(a.x1, b.x1) and np.array_equal(a.x2, b.x2)
    assert all(np.array_equal(a.targets[t], b.targets[t]) for t in a.targets)
    assert not np.array_equal(a.latents["image_1"], c.latents["image_1"])
    fresh = TrifeatureGenerator(image_size=SIZE).sample(40, seed=7)  # banks re-rendered identically
    assert np.array_equal(fresh.x1, a.x1)
    v1, v2, v3 = gen.views(a, seed=1), gen.views(a, seed=1), gen.views(a, seed=2)
    assert np.array_equal(v1.x1, v2.x1) and not np.array_equal(v1.x1, v3.x1)


def test_pixels_do_not_depend_on_the_number_of_threads():
    n, size = 300, 36  # several chunks
    codes = [np.arange(n) % 10, (np.arange(n) // 10) % 10, (np.arange(n) // 100) % 10]
    one = render(*codes, size, np.random.default_rng(5), threads=1)
    three = render(*codes, size, np.random.default_rng(5), threads=3)
    assert np.array_equal(one, three)
    with pytest.raises(ValueError, match="threads"):
        render(*codes, size, np.random.default_rng(5), threads=0)


def test_views_rerender_the_same_attributes_with_fresh_nuisance(gen):
    s = gen.sample(60, seed=0)
    v = gen.views(s, seed=5)
    assert v.x1.shape == s.x1.shape and v.x1.dtype == np.uint8
    assert all(np.array_equal(v.targets[t], s.targets[t]) for t in s.targets) and v.spec == s.spec
    assert (v.x1 != s.x1).any(axis=(1, 2, 3)).mean() > 0.9  # new placements
    for x, colour in ((v.x1, s.latents["colour_1"]), (v.x2, s.latents["colour_2"])):
        pixels = x.transpose(0, 2, 3, 1)
        coloured = (pixels == COLOUR_TABLE[colour][:, None, None, :]).all(-1)
        lo = np.minimum(GREY, COLOUR_TABLE[colour])[:, None, None, :]
        hi = np.maximum(GREY, COLOUR_TABLE[colour])[:, None, None, :]
        assert ((pixels >= lo) & (pixels <= hi)).all()  # own colour, grey, or an edge blend of the two
        assert coloured.any(axis=(1, 2)).all()


def test_types_shapes_and_registry(gen):
    s = gen.sample(6, seed=0, split="test")
    assert s.x1.dtype == np.uint8 and s.x1.shape == (6, 3, SIZE, SIZE) == (6, *gen.shapes[0])
    assert all(y.dtype == np.int64 for y in s.targets.values())
    assert gen.n_classes == {"redundancy": 10, "unique_1": 10, "unique_2": 10, "synergy": 2}
    made = generators.make("trifeature", image_size=SIZE)
    assert made == gen and generators.make("trifeature", **json.loads(json.dumps(gen.params()))) == gen
    b = TrifeatureGenerator(image_size=SIZE, bias=1.0)
    assert b.unbiased() == gen and gen.unbiased() is gen
    copy = pickle.loads(pickle.dumps(gen))  # parameters only, not the rendered banks
    assert copy == gen and len(pickle.dumps(gen)) < 10_000
    assert np.array_equal(copy.sample(5, seed=2).x1, gen.sample(5, seed=2).x1)


# ------------------------------------------------------------------------------------------ bad input
def test_bad_input_raises_before_any_rendering(gen, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("rendered before validating")

    monkeypatch.setattr(trifeature_module, "render", forbidden)
    fresh = TrifeatureGenerator(image_size=SIZE, render_seed=1)
    with pytest.raises(ValueError, match=f"minimum is {MIN_IMAGE_SIZE} px"):
        TrifeatureGenerator(image_size=MIN_IMAGE_SIZE - 1)
    with pytest.raises(TypeError, match="image_size"):
        TrifeatureGenerator(image_size="32")
    with pytest.raises(ValueError, match="did you mean 'image_size'"):
        generators.make("trifeature", imgae_size=32)
    for n in (0, -3):
        with pytest.raises(ValueError, match="n must be > 0"):
            fresh.sample(n)
    with pytest.raises(ValueError, match="split"):
        fresh.sample(5, split="val")
    with pytest.raises(ValueError, match="n=4095 exceeds the 4094 allowed unbiased pairs of the test split"):
        fresh.sample(4095, split="test")
    with pytest.raises(ValueError, match="renders_per_combination"):
        TrifeatureGenerator(renders_per_combination=0)
    for bad in ("yes", True, None):
        with pytest.raises(TypeError, match="bias must be a float"):
            TrifeatureGenerator(bias=bad)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="bias must be in \\[0, 1\\]"):
            TrifeatureGenerator(bias=bad)
    with pytest.raises(ValueError, match="renders_per_combination=300 exceeds what the train split allows"):
        TrifeatureGenerator(image_size=224, renders_per_combination=300)
    one = TrifeatureGenerator(image_size=SIZE, renders_per_combination=1, render_seed=3)
    allowed = len(_naive_pairs(one.image_attributes("train"), None))
    with pytest.raises(
        ValueError, match=f"n={allowed + 1} exceeds the {allowed} allowed unbiased pairs .*=1"
    ):
        one.sample(allowed + 1)


def test_unknown_names_and_codes_are_rejected(gen):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown shape 'triangel' \\(did you mean 'triangle'\\?\\)"):
        render(["triangel"], ["solid"], ["red"], SIZE, rng)
    with pytest.raises(ValueError, match="unknown colour 'purpel'.*did you mean 'purple'"):
        render(["star"], ["dots"], ["purpel"], SIZE, rng)
    with pytest.raises(ValueError, match=r"texture code must be in \[0, 10\), got 10"):
        render([0], [10], [0], SIZE, rng)
    with pytest.raises(ValueError, match="equal lengths"):
        render([0, 1], [0], [0], SIZE, rng)
    by_name = render(["star"], ["dots"], ["purple"], SIZE, np.random.default_rng(4))
    assert np.array_equal(by_name, render([7], [4], [6], SIZE, np.random.default_rng(4)))
    s = gen.sample(3, seed=0)
    broken = s.subset(slice(None))
    del broken.latents["texture_2"]
    with pytest.raises(ValueError, match="texture_2"):
        gen.views(broken)


# ----------------------------------------------------------------------------------------------- cache
@pytest.fixture
def no_shared_banks(monkeypatch):
    """Banks rendered earlier in this process must not hide the disk cache."""
    monkeypatch.setattr(trifeature_module, "_BANKS", {})


def test_cache_dir_that_is_not_writable_is_rejected_before_any_work(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    real_access = os.access
    try:
        if real_access(locked, os.W_OK):  # root writes anywhere: let the check see the permission bits
            monkeypatch.setattr(os, "access", lambda path, mode: not str(path).startswith(str(locked)))
        with pytest.raises(ValueError, match="cache_dir .*locked.* is not writable"):
            TrifeatureGenerator(cache_dir=str(locked))
        with pytest.raises(ValueError, match="cannot be created"):
            TrifeatureGenerator(cache_dir=str(locked / "sub" / "dir"))
    finally:
        locked.chmod(0o700)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        TrifeatureGenerator(cache_dir=str(tmp_path / "file" / "sub"))
    TrifeatureGenerator(cache_dir=str(tmp_path / "new" / "dir"))  # creatable: accepted


def test_disk_cache_hits_on_equal_pixel_parameters_and_misses_on_any_change(
    tmp_path, monkeypatch, no_shared_banks
):
    base = TrifeatureGenerator(image_size=36, cache_dir=str(tmp_path))
    first = base.sample(10, seed=0, split="test")
    path = base.cache_path("test")
    assert path.exists() and not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

    calls = []
    real_render = trifeature_module.render

    def counting(*args, **kwargs):
        calls.append(1)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(trifeature_module, "render", counting)
    monkeypatch.setattr(trifeature_module, "_BANKS", {})
    again = TrifeatureGenerator(image_size=36, cache_dir=str(tmp_path)).sample(10, seed=0, split="test")
    assert not calls and np.array_equal(again.x1, first.x1)  # served from disk
    for non_pixel in ({"bias": 1.0}, {"mapping_seed": 3}):  # same pixels: same file
        assert (
            TrifeatureGenerator(image_size=36, cache_dir=str(tmp_path), **non_pixel).cache_path("test")
            == path
        )
    for change in ({"image_size": 37}, {"split_seed": 1}, {"render_seed": 1}, {"renders_per_combination": 2}):
        other = TrifeatureGenerator(**{"image_size": 36, "cache_dir": str(tmp_path), **change})
        assert other.cache_path("test") != path
        calls.clear()
        other.sample(3, seed=0, split="test")
        assert calls, f"{change} must miss the cache"
    assert base.cache_path("train") != path


def test_disk_cache_never_serves_corrupt_or_foreign_files(tmp_path, monkeypatch, no_shared_banks):
    g = TrifeatureGenerator(image_size=36, cache_dir=str(tmp_path))
    expected = TrifeatureGenerator(image_size=36).sample(8, seed=1, split="test").x1
    monkeypatch.setattr(trifeature_module, "_BANKS", {})
    path = g.cache_path("test")
    path.write_bytes(b"half-written garbage")
    assert np.array_equal(g.sample(8, seed=1, split="test").x1, expected)  # re-rendered and rewritten
    with np.load(path) as data:
        assert json.loads(str(data["key"])) == g.cache_key("test")
    foreign = dict(g.cache_key("test"), render_seed=99)
    np.savez(path, images=np.zeros((200, 3, 36, 36), np.uint8), key=np.array(json.dumps(foreign)))
    monkeypatch.setattr(trifeature_module, "_BANKS", {})
    fresh = TrifeatureGenerator(image_size=36, cache_dir=str(tmp_path))
    assert np.array_equal(fresh.sample(8, seed=1, split="test").x1, expected)
