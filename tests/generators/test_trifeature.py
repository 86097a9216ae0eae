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
from matplotlib.path import Path as MplPath

import generators
import generators.trifeature as trifeature_module
from generators.trifeature import TrifeatureGenerator
from generators.trifeature_render import (
    COLOUR_TABLE,
    COLOURS,
    GREY,
    MIN_IMAGE_SIZE,
    SHAPES,
    TEMPLATE_FRACTION,
    TEXTURES,
    Nuisance,
    draw_nuisance,
    render,
    shape_masks,
    texture_masks,
    texture_period,
)
from generators.trifeature_shapes import PENTAGRAM_RATIO
from generators.trifeature_split import pair_blocks, split_table, texture_to_colour

SIZE = 32  # CPU size used throughout
SPEC_M = {  # spec 4.2, [SIM]
    "solid": "cyan", "stripes": "purple", "grid": "red", "hexgrid": "ocean", "dots": "yellow",
    "noise": "blue", "triangles": "pink", "zigzags": "white", "rain": "green", "pluses": "orange",
}  # fmt: skip


@pytest.fixture(scope="module")
def gen() -> TrifeatureGenerator:
    return TrifeatureGenerator(image_size=SIZE)


@pytest.fixture(scope="module")
def biased(gen) -> TrifeatureGenerator:
    return TrifeatureGenerator(image_size=SIZE, biased=True)


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
    g = TrifeatureGenerator(image_size=SIZE, biased=is_biased)
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
    b = TrifeatureGenerator(image_size=SIZE, biased=True)
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
    g = TrifeatureGenerator(image_size=SIZE, biased=is_biased)
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
def _outlines(name: str) -> list[list[tuple[float, float]]]:
    """Reference outlines of the shapes, written independently of the renderer (template coords, y up)."""

    def regular(k, r, start=90.0, rotation=0.0):
        return [(r * math.cos(math.radians(start + rotation + 360 * i / k)),
                 r * math.sin(math.radians(start + rotation + 360 * i / k))) for i in range(k)]  # fmt: skip

    def rect(x0, x1, y0, y1):
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    if name == "star":
        tips, notches = regular(5, 0.95), regular(5, 0.95 * PENTAGRAM_RATIO, 90 + 36)
        return [[p for k in range(5) for p in (tips[k], notches[k])]]
    return {
        "triangle": [regular(3, 0.95)],
        "square": [rect(-0.75, 0.75, -0.75, 0.75)],
        "plus": [[(-0.3, -0.9), (0.3, -0.9), (0.3, -0.3), (0.9, -0.3), (0.9, 0.3), (0.3, 0.3), (0.3, 0.9),
                  (-0.3, 0.9), (-0.3, 0.3), (-0.9, 0.3), (-0.9, -0.3), (-0.3, -0.3)]],
        "circle": [regular(720, 0.85)],
        "tee": [[(-0.275, -0.9), (0.275, -0.9), (0.275, 0.35), (0.9, 0.35), (0.9, 0.9), (-0.9, 0.9),
                 (-0.9, 0.35), (-0.275, 0.35)]],
        "rhombus": [[(0, -0.95), (0.6, 0), (0, 0.95), (-0.6, 0)]],
        "pentagon": [regular(5, 0.9)],
        "fivesquare": [rect(x - 0.3, x + 0.3, y - 0.3, y + 0.3)
                       for x, y in [(0, 0), (-0.6, -0.6), (0.6, -0.6), (-0.6, 0.6), (0.6, 0.6)]],
        "trapezoid": [[(-0.9, -0.6), (0.9, -0.6), (0.45, 0.6), (-0.45, 0.6)]],
    }[name]  # fmt: skip


def _reference_mask(name: str, angle: float, centre: np.ndarray, size: int) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size]
    x, y = cols + 0.5 - size / 2 - centre[0], size / 2 - rows - 0.5 - centre[1]
    t = math.radians(angle)
    h = size * TEMPLATE_FRACTION / 2
    u, v = (math.cos(t) * x + math.sin(t) * y) / h, (-math.sin(t) * x + math.cos(t) * y) / h
    points = np.stack([u.ravel(), v.ravel()], axis=1)
    inside = np.zeros(len(points), dtype=bool)
    for outline in _outlines(name):
        inside |= MplPath(outline).contains_points(points)
    return inside.reshape(size, size)


def test_solid_renders_match_reference_shape_masks_and_colours():
    size, rng = 64, np.random.default_rng(0)
    n = 30  # three placements of each shape
    shapes, colours = np.arange(n) % 10, rng.integers(0, 10, n)
    nuisance = draw_nuisance(n, size, rng)
    images = render(shapes, np.zeros(n, int), colours, size, rng, nuisance=nuisance)
    for k in range(n):
        ref = _reference_mask(SHAPES[shapes[k]], nuisance.shape_angle[k], nuisance.shape_centre[k], size)
        img = images[k].transpose(1, 2, 0)
        coloured = (img == COLOUR_TABLE[colours[k]]).all(-1)
        assert ((img == GREY).all(-1) | coloured).all()
        assert coloured.sum() > 0.08 * size * size  # the shape is drawn at its paper scale
        assert (coloured != ref).sum() <= 3, SHAPES[shapes[k]]  # only pixel centres on an outline may differ
        assert not ref[[0, -1], :].any() and not ref[:, [0, -1]].any()  # kept inside the image


def test_patterned_pixels_are_colour_or_grey_and_lie_inside_the_shape():
    size, rng = 48, np.random.default_rng(1)
    n = 40
    shapes, textures, colours = rng.integers(0, 10, n), np.arange(n) % 10, rng.integers(0, 10, n)
    nuisance = draw_nuisance(n, size, rng)
    images = render(shapes, textures, colours, size, rng, nuisance=nuisance)
    masks = shape_masks(shapes, nuisance, size)
    for k in range(n):
        img = images[k].transpose(1, 2, 0)
        coloured = (img == COLOUR_TABLE[colours[k]]).all(-1)
        assert (coloured | (img == GREY).all(-1)).all()
        assert not (coloured & ~masks[k]).any()
        fraction = coloured.sum() / masks[k].sum()
        if TEXTURES[textures[k]] == "solid":
            assert fraction == 1.0
        else:
            assert 0.05 < fraction < 0.8, (TEXTURES[textures[k]], fraction)


def test_textures_differ_from_each_other_under_the_same_placement():
    size, n = 64, 10
    nuisance = draw_nuisance(1, size, np.random.default_rng(2))
    same = Nuisance(*(np.repeat(getattr(nuisance, f), n, axis=0) for f in nuisance.__dataclass_fields__))
    masks = texture_masks(np.arange(n), same, size, np.random.default_rng(3))
    for a in range(n):
        for b in range(a + 1, n):
            assert (masks[a] != masks[b]).mean() > 0.1, (TEXTURES[a], TEXTURES[b])


def test_texture_period_follows_the_paper_at_224_px():
    assert texture_period(224) == 10.0 and texture_period(448) == 20.0
    assert texture_period(32) == 5.0  # floored at MIN_PERIOD
    zero = Nuisance(np.zeros(1, int), np.zeros((1, 2)), np.zeros(1, int), np.zeros((1, 2)))
    stripes = texture_masks([1], zero, 224, np.random.default_rng(0))[0]
    assert (stripes == stripes[:1]).all()  # unrotated stripes are vertical
    row = stripes[0]
    assert np.array_equal(row[:-10], row[10:])  # period 10 px
    assert row[:10].sum() == 3  # line width 3 px


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
    n, size = 700, 20  # several chunks
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
        assert (coloured | (pixels == GREY).all(-1)).all()  # each image carries its own colour only
        assert coloured.any(axis=(1, 2)).all()


def test_types_shapes_and_registry(gen):
    s = gen.sample(6, seed=0, split="test")
    assert s.x1.dtype == np.uint8 and s.x1.shape == (6, 3, SIZE, SIZE) == (6, *gen.shapes[0])
    assert all(y.dtype == np.int64 for y in s.targets.values())
    assert gen.n_classes == {"redundancy": 10, "unique_1": 10, "unique_2": 10, "synergy": 2}
    made = generators.make("trifeature", image_size=SIZE)
    assert made == gen and generators.make("trifeature", **json.loads(json.dumps(gen.params()))) == gen
    b = TrifeatureGenerator(image_size=SIZE, biased=True)
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
    with pytest.raises(ValueError, match="n=576847 exceeds the 576846 allowed unbiased pairs"):
        fresh.sample(576_847)
    with pytest.raises(ValueError, match="renders_per_combination"):
        TrifeatureGenerator(renders_per_combination=0)
    with pytest.raises(TypeError, match="biased"):
        TrifeatureGenerator(biased="yes")


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
def test_disk_cache_hits_on_equal_pixel_parameters_and_misses_on_any_change(tmp_path, monkeypatch):
    base = TrifeatureGenerator(image_size=20, cache_dir=str(tmp_path))
    first = base.sample(10, seed=0, split="test")
    path = base.cache_path("test")
    assert path.exists() and not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

    calls = []
    real_render = trifeature_module.render

    def counting(*args, **kwargs):
        calls.append(1)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(trifeature_module, "render", counting)
    again = TrifeatureGenerator(image_size=20, cache_dir=str(tmp_path)).sample(10, seed=0, split="test")
    assert not calls and np.array_equal(again.x1, first.x1)  # served from disk
    for non_pixel in ({"biased": True}, {"mapping_seed": 3}):  # same pixels: same file
        assert (
            TrifeatureGenerator(image_size=20, cache_dir=str(tmp_path), **non_pixel).cache_path("test")
            == path
        )
    for change in ({"image_size": 21}, {"split_seed": 1}, {"render_seed": 1}, {"renders_per_combination": 2}):
        other = TrifeatureGenerator(**{"image_size": 20, "cache_dir": str(tmp_path), **change})
        assert other.cache_path("test") != path
        calls.clear()
        other.sample(3, seed=0, split="test")
        assert calls, f"{change} must miss the cache"
    assert base.cache_path("train") != path


def test_disk_cache_never_serves_corrupt_or_foreign_files(tmp_path):
    g = TrifeatureGenerator(image_size=20, cache_dir=str(tmp_path))
    expected = TrifeatureGenerator(image_size=20).sample(8, seed=1, split="test").x1
    path = g.cache_path("test")
    path.write_bytes(b"half-written garbage")
    assert np.array_equal(g.sample(8, seed=1, split="test").x1, expected)  # re-rendered and rewritten
    with np.load(path) as data:
        assert json.loads(str(data["key"])) == g.cache_key("test")
    foreign = dict(g.cache_key("test"), render_seed=99)
    np.savez(path, images=np.zeros((200, 3, 20, 20), np.uint8), key=np.array(json.dumps(foreign)))
    fresh = TrifeatureGenerator(image_size=20, cache_dir=str(tmp_path))
    assert np.array_equal(fresh.sample(8, seed=1, split="test").x1, expected)
