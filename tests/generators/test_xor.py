"""Tests of the ``xor`` generator and its lifts: information content, learnability, views, seeds, errors."""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import math
import pathlib
import random

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.neural_network import MLPClassifier

from generators.lifts import leaky_tanh, leaky_tanh_inverse, make_lift, parity_couple
from generators.xor import XORGenerator, biased_xor_entropy, grouped_parity

LATENT_BITS = ("r", "u1", "u2", "s1", "s2")


# ---------------------------------------------------------------- naive references written for the tests


def plugin_mi(a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Plug-in I(A; B) in bits from paired integer codes, optionally weighted (an exact distribution)."""
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    joint: dict[tuple[int, int], float] = {}
    pa: dict[int, float] = {}
    pb: dict[int, float] = {}
    for ai, bi, wi in zip(a.tolist(), b.tolist(), w.tolist()):
        joint[(ai, bi)] = joint.get((ai, bi), 0.0) + wi
        pa[ai] = pa.get(ai, 0.0) + wi
        pb[bi] = pb.get(bi, 0.0) + wi
    total = w.sum()
    return sum(p / total * math.log2(p * total / (pa[ai] * pb[bi])) for (ai, bi), p in joint.items() if p > 0)


def code(*columns: np.ndarray) -> np.ndarray:
    """One integer code for tuples of integer codes (mixed radix 2**12, codes < 4096)."""
    out = np.zeros(len(columns[0]), dtype=np.int64)
    for c in columns:
        out = out * 4096 + c.astype(np.int64)
    return out


def enumerate_latents(kr: int, ku1: int, ku2: int, ks: int, bias: float) -> tuple[dict, np.ndarray]:
    """Every latent configuration (codes r, u1, u2, s1, s2) with its exact probability."""
    rows = list(itertools.product(range(2**kr), range(2**ku1), range(2**ku2), range(2**ks), range(2**ks)))
    arr = np.array(rows, dtype=np.int64)
    p_rest = 1.0 / 2 ** (kr + ku1 + ku2)
    p_s = bias * (arr[:, 3] == arr[:, 4]) / 2**ks + (1 - bias) / 4**ks  # matched w.p. bias, else uniform
    return dict(zip(LATENT_BITS, arr.T)), p_rest * p_s


def info_of_codes(c: dict, weights: np.ndarray | None = None) -> dict[str, float]:
    """I(X1;Y), I(X2;Y), I(X1X2;Y), I(X1;T), I(X2;T), H(T) for X1 = (r,u1,s1), X2 = (r,u2,s2)."""
    t = c["s1"] ^ c["s2"]
    y = code(c["r"], c["u1"], c["u2"], t)
    x1, x2 = code(c["r"], c["u1"], c["s1"]), code(c["r"], c["u2"], c["s2"])
    x12 = code(c["r"], c["u1"], c["u2"], c["s1"], c["s2"])
    return {
        "I1": plugin_mi(x1, y, weights),
        "I2": plugin_mi(x2, y, weights),
        "I12": plugin_mi(x12, y, weights),
        "I1T": plugin_mi(c["s1"], t, weights),
        "I2T": plugin_mi(c["s2"], t, weights),
        "HT": plugin_mi(t, t, weights),
    }


def bit_codes(sample) -> dict:
    weights = {k: 1 << np.arange(sample.latents[k].shape[1]) for k in LATENT_BITS}
    return {k: sample.latents[k].astype(np.int64) @ weights[k] for k in LATENT_BITS}


# ---------------------------------------------------------------- ground truth


@pytest.mark.parametrize("counts", [(1, 1, 1, 1), (2, 0, 1, 3), (0, 0, 0, 0), (12, 0, 0, 0)])
def test_unbiased_spec_is_the_bit_counts(counts):
    kr, ku1, ku2, ks = counts
    gen = XORGenerator(*counts)
    spec = gen.ground_truth()
    assert spec.as_dict() == {"redundancy": kr, "unique_1": ku1, "unique_2": ku2, "synergy": ks}
    assert spec.measure == "broja" and "s1 XOR s2" in spec.note
    assert gen.n_classes == {"redundancy": 2**kr, "unique_1": 2**ku1, "unique_2": 2**ku2, "synergy": 2**ks}
    widest = kr + max(ku1, ku2) + ks  # automatic sizes: 1 nuisance sign per bit + 1 free, 3 spare dims
    assert gen.n_nuisance == widest + 1 and gen.width == max(16, 2 * widest + 4)
    assert gen.sample(3, seed=0).x1.shape == (3, gen.width)


@pytest.mark.parametrize(
    "counts, bias", [((1, 1, 1, 1), 0.0), ((1, 1, 1, 1), 0.5), ((1, 2, 0, 2), 0.3), ((0, 1, 1, 1), 1.0)]
)
def test_spec_equals_exact_information_of_the_enumerated_latents(counts, bias):
    spec = XORGenerator(*counts, bias=bias).ground_truth()
    c, p = enumerate_latents(*counts, bias)
    info = info_of_codes(c, p)
    assert info["I1"] == pytest.approx(spec.redundancy + spec.unique_1, abs=1e-9)
    assert info["I2"] == pytest.approx(spec.redundancy + spec.unique_2, abs=1e-9)
    assert info["I12"] == pytest.approx(spec.total, abs=1e-9)
    assert info["HT"] == pytest.approx(spec.synergy, abs=1e-9)
    assert info["I1T"] == pytest.approx(0.0, abs=1e-9) and info["I2T"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_plugin_information_of_sampled_latents_matches_spec(bias):
    gen = XORGenerator(bias=bias)
    spec = gen.ground_truth()
    info = info_of_codes(bit_codes(gen.sample(20000, seed=3)))
    # plug-in bias <= (32 * 16) / (2 n ln 2) ~ 0.018 bits for the largest table; sampling error is smaller
    tol = 0.03
    assert info["I1"] == pytest.approx(spec.redundancy + spec.unique_1, abs=tol)
    assert info["I2"] == pytest.approx(spec.redundancy + spec.unique_2, abs=tol)
    assert info["I12"] == pytest.approx(spec.total, abs=tol)
    assert info["I1T"] < tol and info["I2T"] < tol


def test_biased_xor_entropy_closed_form():
    assert biased_xor_entropy(1, 0.0) == pytest.approx(1.0)
    assert biased_xor_entropy(3, 1.0) == 0.0
    assert biased_xor_entropy(0, 0.4) == 0.0
    p0 = 0.5 + 0.5 / 4
    expected = -(p0 * math.log2(p0) + 3 * (0.125 * math.log2(0.125)))
    assert biased_xor_entropy(2, 0.5) == pytest.approx(expected)


@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_broja_with_dit_matches_spec(bias):
    dit = pytest.importorskip("dit")
    from dit.pid import PID_BROJA

    c, p = enumerate_latents(1, 1, 1, 1, bias)
    outcomes = [
        (f"{r}{u1}{s1}", f"{r}{u2}{s2}", f"{r}{u1}{u2}{s1 ^ s2}")
        for r, u1, u2, s1, s2 in zip(*(c[k].tolist() for k in LATENT_BITS))
    ]
    keep = p > 0
    dist = dit.Distribution([o for o, k in zip(outcomes, keep) if k], p[keep].tolist())
    pid = PID_BROJA(dist, [[0], [1]], [2])
    spec = XORGenerator(bias=bias).ground_truth()
    got = [pid.get_pi(((0,), (1,))), pid.get_pi(((0,),)), pid.get_pi(((1,),)), pid.get_pi(((0, 1),))]
    assert got == pytest.approx(list(spec.as_dict().values()), abs=1e-4)


def test_noise_keeps_the_latent_level_spec_which_observations_reach_as_noise_vanishes():
    clean = XORGenerator()
    assert XORGenerator(noise=0.3).ground_truth().as_dict() == clean.ground_truth().as_dict()
    assert "noise -> 0" in XORGenerator(noise=0.3).ground_truth().note
    truth = np.concatenate([clean.sample(2000, seed=1).latents[k] for k in ("r", "u1", "s1")], axis=1)
    errors = {}
    for noise in (1e-6, 0.3):
        s = XORGenerator(noise=noise).sample(2000, seed=1)
        errors[noise] = float(np.mean(clean.recover_bits(s.x1, 1) != truth))
    assert errors[1e-6] < 0.005 < errors[0.3]


def test_bias_draws_matched_pairs_and_unbiased_removes_them():
    gen = XORGenerator(synergy=2, bias=0.6, lift_seed=5)
    s = gen.sample(20000, seed=0)
    p_zero = 0.6 + 0.4 / 4
    assert np.mean(s.targets["synergy"] == 0) == pytest.approx(p_zero, abs=0.015)  # 5 sd at n = 20000
    assert gen.unbiased() == dataclasses.replace(gen, bias=0.0)
    assert gen.unbiased().ground_truth().synergy == 2.0
    assert np.mean(gen.unbiased().sample(20000, seed=0).targets["synergy"] == 0) == pytest.approx(
        0.25, abs=0.015
    )


# ---------------------------------------------------------------- higher-order synergy, distractors


def enumerate_order_latents(kr: int, ks: int, order: int, bias: float) -> tuple[dict, np.ndarray]:
    """Every (r, s1, s2) with its exact probability; s1, s2 have ks * order bits (codes), u1 = u2 = 0 bits."""
    m = ks * order
    rows = np.array(list(itertools.product(range(2**kr), range(2**m), range(2**m))), dtype=np.int64)
    p_s = bias * (rows[:, 1] == rows[:, 2]) / 2**m + (1 - bias) / 4**m
    return {"r": rows[:, 0], "s1": rows[:, 1], "s2": rows[:, 2]}, p_s / 2**kr


def naive_parity_target(s1: np.ndarray, s2: np.ndarray, ks: int, order: int) -> np.ndarray:
    """Synergy code: bit j = popcount of bits j*order .. (j+1)*order - 1 of s1 XOR s2, mod 2 (int loops)."""
    out = []
    for a, b in zip(s1.tolist(), s2.tolist()):
        both = a ^ b
        code_ = 0
        for j in range(ks):
            group = sum((both >> (j * order + i)) & 1 for i in range(order))
            code_ |= (group % 2) << j
        out.append(code_)
    return np.array(out, dtype=np.int64)


def test_grouped_parity_matches_a_loop():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(50, 12), dtype=np.uint8)
    for order in (1, 2, 3, 4, 6):
        expected = [
            [int(row[j * order : (j + 1) * order].sum() % 2) for j in range(12 // order)] for row in bits
        ]
        np.testing.assert_array_equal(grouped_parity(bits, order), np.array(expected, dtype=np.uint8))
    with pytest.raises(ValueError, match="order"):
        grouped_parity(bits, 5)


@pytest.mark.parametrize(
    "kr, ks, order, bias", [(1, 1, 2, 0.0), (0, 1, 3, 0.0), (1, 1, 2, 0.6), (0, 2, 2, 0.0)]
)
def test_higher_order_synergy_spec_equals_exact_pid_of_the_enumerated_joint(kr, ks, order, bias):
    from estimators.pid import pid

    gen = XORGenerator(redundancy=kr, unique_1=0, unique_2=0, synergy=ks, synergy_order=order, bias=bias)
    spec = gen.ground_truth()
    c, p = enumerate_order_latents(kr, ks, order, bias)
    t = naive_parity_target(c["s1"], c["s2"], ks, order)
    x1 = c["r"] * 2 ** (ks * order) + c["s1"]
    x2 = c["r"] * 2 ** (ks * order) + c["s2"]
    y = c["r"] * 2**ks + t
    joint = np.zeros((x1.max() + 1, x2.max() + 1, y.max() + 1))
    np.add.at(joint, (x1, x2, y), p)
    exact = pid(joint, "broja")
    assert list(spec.as_dict().values()) == pytest.approx(list(exact.as_dict().values()), abs=1e-5)
    assert spec.synergy == pytest.approx(biased_xor_entropy(ks, bias)) and spec.redundancy == kr
    assert plugin_mi(t, t, p) == pytest.approx(spec.synergy, abs=1e-9)


@pytest.mark.parametrize("order", [2, 3])
def test_every_strict_subset_of_the_parity_bits_is_independent_of_the_synergy_label(order):
    c, p = enumerate_order_latents(0, 1, order, 0.0)
    bits = {f"s{i}_{b}": (c[f"s{i}"] >> b) & 1 for i in (1, 2) for b in range(order)}
    t = naive_parity_target(c["s1"], c["s2"], 1, order)
    names = list(bits)
    for size in range(1, 2 * order + 1):
        for subset in itertools.combinations(names, size):
            mi = plugin_mi(code(*(bits[k] for k in subset)), t, p)
            assert mi == pytest.approx(1.0 if size == 2 * order else 0.0, abs=1e-9), subset


def test_higher_order_samples_carry_the_grouped_parity_and_keep_it_in_views():
    gen = XORGenerator(synergy=2, synergy_order=3, lift_seed=2)
    s = gen.sample(400, seed=0)
    assert s.latents["s1"].shape == (400, 6) and s.latents["s2"].shape == (400, 6)
    assert gen.n_classes["synergy"] == 4 and gen.ground_truth().synergy == 2.0
    codes = bit_codes(s)
    np.testing.assert_array_equal(s.targets["synergy"], naive_parity_target(codes["s1"], codes["s2"], 2, 3))
    assert gen.n_nuisance == (1 + 1 + 6) + 1  # coupling 1 x (r + u1 + 6 synergy bits) + 1 distractor
    v = gen.views(s, seed=1)
    np.testing.assert_array_equal(v.targets["synergy"], s.targets["synergy"])
    for i in (1, 2):
        bits = np.concatenate([s.latents[k] for k in ("r", f"u{i}", f"s{i}")], axis=1)
        np.testing.assert_array_equal(gen.recover_bits(getattr(s, f"x{i}"), i), bits)
    biased = XORGenerator(synergy=1, synergy_order=2, bias=1.0).sample(300, seed=0)
    assert not biased.targets["synergy"].any()
    np.testing.assert_array_equal(biased.latents["s1"], biased.latents["s2"])


def test_defaults_are_unchanged_by_the_new_knobs():
    gen = XORGenerator()
    assert gen.synergy_order == 1 and gen.n_distractors == 1 and gen.width == 16 and gen.n_nuisance == 4
    a, b = gen.sample(64, seed=0), XORGenerator(synergy_order=1).sample(64, seed=0)
    np.testing.assert_array_equal(a.x1, b.x1)
    np.testing.assert_array_equal(a.targets["synergy"], bit_codes(a)["s1"] ^ bit_codes(a)["s2"])


@pytest.mark.parametrize(
    "kwargs, distractors",
    [({}, 1), ({"nuisance": 19}, 16), ({"coupling": 2}, 1), ({"coupling": 0}, 1), ({"redundancy": 4}, 1)],
)
def test_distractors_are_the_uncoupled_nuisance_coordinates(kwargs, distractors):
    gen = XORGenerator(**kwargs)
    widest = gen.redundancy + max(gen.unique_1, gen.unique_2) + gen.synergy
    assert gen.n_distractors == distractors == gen.n_nuisance - gen.coupling * widest
    assert gen.width >= widest + gen.n_nuisance


# ---------------------------------------------------------------- learnability from observations


_MLP_WARNINGS = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted_readers():
    """Multi-label MLPs reading every latent bit (and the XOR) from x1 alone and from x2 alone."""
    gen = XORGenerator()
    train, test = gen.sample(2000, seed=0), gen.sample(1000, seed=0, split="test")

    def labels(s):
        cols = [s.latents[k][:, 0] for k in LATENT_BITS] + [s.targets["synergy"]]
        return np.stack(cols, axis=1)

    preds = {}
    for m in ("x1", "x2"):
        clf = MLPClassifier((64, 64), max_iter=150, batch_size=200, learning_rate_init=1e-2, random_state=0)
        clf.fit(getattr(train, m), labels(train))
        preds[m] = clf.predict(getattr(test, m))
    return dict(zip((*LATENT_BITS, "T"), labels(test).T)), preds


@_MLP_WARNINGS
@pytest.mark.parametrize(
    "bit, modality, carried",
    [
        ("r", "x1", True),
        ("r", "x2", True),
        ("u1", "x1", True),
        ("u1", "x2", False),
        ("u2", "x2", True),
        ("u2", "x1", False),
        ("T", "x1", False),
        ("T", "x2", False),
    ],
)
def test_flexible_classifier_reads_a_term_only_from_the_modality_that_carries_it(
    fitted_readers, bit, modality, carried
):
    truth, preds = fitted_readers
    col = (*LATENT_BITS, "T").index(bit)
    score = balanced_accuracy_score(truth[bit], preds[modality][:, col])
    if carried:
        assert score > 0.88  # the multi-label MLP reaches 0.92-0.95 here (single-label MLPs ~0.97)
    else:
        assert score < 0.56  # chance 0.5; sd ~0.016 at 1000 test rows


@_MLP_WARNINGS
def test_synergy_is_read_from_both_modalities_together(fitted_readers):
    truth, preds = fitted_readers
    s1_hat, s2_hat = preds["x1"][:, LATENT_BITS.index("s1")], preds["x2"][:, LATENT_BITS.index("s2")]
    assert balanced_accuracy_score(truth["T"], s1_hat ^ s2_hat) > 0.8  # product of two ~0.92 readers
    # without nuisance coupling a single classifier on the concatenation learns the XOR directly
    gen = XORGenerator(coupling=0, nuisance=4, dim=8)
    train, test = gen.sample(2000, seed=0), gen.sample(1000, seed=0, split="test")
    clf = MLPClassifier((64, 64), max_iter=300, random_state=0)
    clf.fit(np.hstack([train.x1, train.x2]), train.targets["synergy"])
    pred = clf.predict(np.hstack([test.x1, test.x2]))
    assert balanced_accuracy_score(test.targets["synergy"], pred) > 0.95


# ---------------------------------------------------------------- views, seeds, shapes


def test_views_keep_bits_and_targets_and_change_nuisance_and_x():
    gen = XORGenerator()
    s = gen.sample(256, seed=0)
    v = gen.views(s, seed=1)
    for key in LATENT_BITS:
        np.testing.assert_array_equal(v.latents[key], s.latents[key])
    for term in s.targets:
        np.testing.assert_array_equal(v.targets[term], s.targets[term])
    pairs = [(s.latents[k], v.latents[k]) for k in ("nuisance_1", "nuisance_2")] + [
        (s.x1, v.x1),
        (s.x2, v.x2),
    ]
    for before, after in pairs:
        assert (before != after).any(axis=1).all()  # every row re-drawn
    np.testing.assert_array_equal(gen.views(s, seed=1).x1, v.x1)
    assert not np.array_equal(gen.views(s, seed=2).x1, v.x1)


def test_views_reject_a_sample_of_another_shape():
    s = XORGenerator(synergy=2, dim=20).sample(8)
    with pytest.raises(ValueError, match="latents"):
        XORGenerator().views(s)


def test_seeds_are_reproducible_and_global_state_untouched():
    gen = XORGenerator(noise=0.1, bias=0.3)
    state, py_state = np.random.get_state(), random.getstate()
    a, b, c = gen.sample(64, seed=7), gen.sample(64, seed=7), gen.sample(64, seed=8)
    t = gen.sample(64, seed=7, split="test")
    gen.views(a, seed=0)
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(state[1:3], after[1:3])) and random.getstate() == py_state
    for key in ("x1", "x2"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        assert not np.array_equal(getattr(a, key), getattr(c, key))
        assert not np.array_equal(getattr(a, key), getattr(t, key))
    for k in a.latents:
        np.testing.assert_array_equal(a.latents[k], b.latents[k])
    rng = np.random.default_rng(0)
    assert gen.sample(4, seed=rng).x1.shape == (4, 16)


def test_dtypes_shapes_and_zero_bit_terms():
    gen = XORGenerator(redundancy=2, unique_1=0, unique_2=1, synergy=3, dim=24, nuisance=12)
    s = gen.sample(50, seed=0)
    assert gen.shapes == ((24,), (24,))
    assert s.x1.dtype == np.float32 and s.x1.shape == (50, 24) and s.x2.shape == (50, 24)
    for term, y in s.targets.items():
        assert y.dtype == np.int64 and y.shape == (50,) and y.max() < gen.n_classes[term]
    assert not s.targets["unique_1"].any() and gen.n_classes["unique_1"] == 1
    for key, k in zip(LATENT_BITS, (2, 0, 1, 3, 3)):
        assert s.latents[key].dtype == np.uint8 and s.latents[key].shape == (50, k)
    assert s.latents["nuisance_1"].dtype == np.float32 and s.latents["nuisance_2"].shape == (50, 12)
    assert np.abs(s.latents["nuisance_1"]).min() >= gen.margin
    np.testing.assert_array_equal(s.targets["synergy"], bit_codes(s)["s1"] ^ bit_codes(s)["s2"])
    assert s.meta["generator"] == "xor" and s.meta["params"]["synergy"] == 3 and s.spec == gen.ground_truth()


# ---------------------------------------------------------------- injectivity of the lift


def test_lift_has_an_exact_left_inverse_and_bits_are_recovered():
    gen = XORGenerator(redundancy=2, synergy=2, lift_seed=3, depth=3, gain=2.0)
    s = gen.sample(500, seed=0)
    for i in (1, 2):
        bits = np.concatenate([s.latents[k] for k in ("r", f"u{i}", f"s{i}")], axis=1)
        np.testing.assert_array_equal(gen.recover_bits(getattr(s, f"x{i}"), i), bits)
        h = gen.lifts[i - 1].inverse(getattr(s, f"x{i}"))
        np.testing.assert_allclose(h[:, bits.shape[1] :], s.latents[f"nuisance_{i}"], atol=1e-3)


def test_distinct_bits_with_the_same_nuisance_give_distinct_observations():
    gen = XORGenerator(redundancy=2, unique_1=2, synergy=1)
    all_bits = np.array(list(itertools.product([0, 1], repeat=5)), dtype=np.uint8)  # 32 configurations
    nuisance = np.repeat(gen.sample(1, seed=0).latents["nuisance_1"], 32, axis=0)
    x = gen.lift_latents(all_bits, nuisance, modality=1)
    gaps = np.linalg.norm(x[:, None] - x[None], axis=-1)[~np.eye(32, dtype=bool)]
    assert gaps.min() > 1e-3


def test_lift_building_blocks():
    t = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(leaky_tanh_inverse(leaky_tanh(t, 0.1), 0.1), t, atol=1e-9)
    rng = np.random.default_rng(0)
    bits, z = rng.choice([-1.0, 1.0], size=(10, 3)), rng.standard_normal((10, 6))
    coupled = parity_couple(bits, z, 2)
    np.testing.assert_array_equal(parity_couple(coupled, z, 2), bits)
    np.testing.assert_array_equal(coupled[:, 0], bits[:, 0] * np.sign(z[:, 0]) * np.sign(z[:, 1]))
    lift = make_lift(5, 9, depth=2, gain=1.5, slope=0.1, seed=4)
    h = rng.standard_normal((20, 5))
    np.testing.assert_allclose(lift.inverse(lift(h)), h, atol=1e-8)
    with pytest.raises(ValueError, match="in_dim <= out_dim"):
        make_lift(10, 9, depth=1, gain=1.0, slope=0.1, seed=0)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"redundancy": -1}, "redundancy"),
        ({"synergy": 13}, "synergy"),
        ({"redundancy": 12, "unique_1": 12, "synergy": 1, "dim": 64, "nuisance": 0, "coupling": 0}, "total"),
        ({"unique_2": 1.5}, "unique_2"),
        ({"bias": 1.5}, "bias"),
        ({"bias": -0.1}, "bias"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"dim": 6}, "dim"),
        ({"nuisance": 2}, "nuisance"),
        ({"gain": 0.0}, "gain"),
        ({"margin": -1.0}, "margin"),
        ({"depth": 0}, "depth"),
        ({"synergy_order": 0}, "synergy_order"),
        ({"synergy_order": 2.0}, "synergy_order"),
        ({"synergy": 4, "synergy_order": 4}, "synergy_order"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        XORGenerator(**kwargs)


@pytest.mark.parametrize("n, err", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bad_sample_sizes_are_rejected(n, err):
    with pytest.raises(err, match="n must be"):
        XORGenerator().sample(n)


def test_bad_split_and_seed_are_rejected():
    with pytest.raises(ValueError, match="split"):
        XORGenerator().sample(4, split="validation")
    with pytest.raises(ValueError, match="seed"):
        XORGenerator().sample(4, seed=-1)


# ---------------------------------------------------------------- research check: the untrained floor


@pytest.mark.slow
def test_order_three_coupling_hides_unique_and_synergy_from_an_untrained_pooled_mlp():
    # coupling=2 (a parity of order 3 per bit) with 4 distractors: even a pooled random MLP, whose features
    # expose a coupling-1 bit almost fully, reads little. The defaults use coupling=1 because with order-3
    # parities no objective escaped its initial plateau within the CPU budget (see the module docstring).
    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_generators.py"
    spec = importlib.util.spec_from_file_location("bench_generators", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = bench.untrained_floor(XORGenerator(coupling=2, nuisance=10), n_train=3000, n_test=2000, seed=0)
    bits = dict(zip(table["term"], table["bits"]))
    assert bits["unique_1"] < 0.3 and bits["unique_2"] < 0.3 and bits["synergy"] < 0.1
