"""Tests of the Gaussian closed forms (interactions.gaussian_info) and the ``gaussian`` generator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generators.gaussian import PRESETS, GaussianGenerator
from interactions.gaussian_info import (
    check_covariance,
    gaussian_conditional,
    gaussian_mi_bits,
    gaussian_mmi_pid,
)

HALF_LOG2_3 = 0.5 * math.log2(3)  # 0.7925
HALF_LOG2_1_5 = 0.5 * math.log2(1.5)  # 0.2925

# reference-values.md C2 (gpid mmi_pid), ordered (X1, X2, T); values R / U1 / U2 / S in bits
C2_CASES = {
    "sum": ([[1, 0, 1], [0, 1, 1], [1, 1, 3]], (0.2925, 0, 0, 0.5)),  # T = X1 + X2 + N(0,1)
    "noisy copies": ([[2, 1, 1], [1, 2, 1], [1, 1, 1]], (0.5, 0, 0, 0.2925)),  # X_i = T + n_i
    "unique": ([[2, 0, 1], [0, 1, 0], [1, 0, 1]], (0, 0.5, 0, 0)),  # X1 = T + n, X2 independent
    # X1 = X2 = T + n is singular; X2 = X1 + 1e-5 N(0, 1) gives the limit
    "same noise": ([[2, 2, 1], [2, 2 + 1e-10, 1], [1, 1, 1]], (0.5, 0, 0, 0)),
}


@pytest.mark.parametrize("case", list(C2_CASES))
def test_mmi_pid_reproduces_published_gaussian_values(case):
    cov, expected = C2_CASES[case]
    spec = gaussian_mmi_pid(cov, 0, 1, 2)
    assert list(spec.as_dict().values()) == pytest.approx(expected, abs=1e-4)
    assert spec.measure == "mmi"


def test_sum_and_noisy_copies_totals_are_half_log2_3():
    assert gaussian_mi_bits(C2_CASES["sum"][0], [0, 1], 2) == pytest.approx(HALF_LOG2_3, abs=1e-12)
    assert gaussian_mi_bits(C2_CASES["noisy copies"][0], [0, 1], [2]) == pytest.approx(HALF_LOG2_3, abs=1e-12)
    assert gaussian_mi_bits(C2_CASES["sum"][0], 0, 2) == pytest.approx(HALF_LOG2_1_5, abs=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.3, -0.8, 0.99])
def test_bivariate_mi_is_minus_half_log2_one_minus_rho_squared(rho):
    scale = np.diag([2.0, 0.5])  # MI is invariant to rescaling each coordinate
    cov = scale @ np.array([[1.0, rho], [rho, 1.0]]) @ scale
    expected = -0.5 * math.log2(1 - rho**2)
    assert gaussian_mi_bits(cov, 0, 1) == pytest.approx(expected, abs=1e-12)
    assert gaussian_mi_bits(cov, 1, 0) == pytest.approx(expected, abs=1e-12)


def test_mi_matches_a_naive_entropy_formula_on_a_random_block_covariance():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    cov = a @ a.T + 0.5 * np.eye(5)

    def h(idx):  # differential entropy in bits, up to the constant that cancels
        return 0.5 * math.log2(np.linalg.det(cov[np.ix_(idx, idx)]))

    expected = h([0, 3]) + h([1, 2, 4]) - h([0, 1, 2, 3, 4])
    assert gaussian_mi_bits(cov, [0, 3], [1, 2, 4]) == pytest.approx(expected, abs=1e-10)


def test_mmi_pid_identities_and_swap():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 4))
    cov = a @ a.T + 0.2 * np.eye(4)
    spec = gaussian_mmi_pid(cov, [0, 1], 2, 3)
    assert spec.redundancy + spec.unique_1 == pytest.approx(gaussian_mi_bits(cov, [0, 1], 3))
    assert spec.redundancy + spec.unique_2 == pytest.approx(gaussian_mi_bits(cov, 2, 3))
    assert spec.total == pytest.approx(gaussian_mi_bits(cov, [0, 1, 2], 3))
    assert min(spec.unique_1, spec.unique_2) == 0.0
    swapped = gaussian_mmi_pid(cov, 2, [0, 1], 3)
    assert swapped.as_dict() == pytest.approx(spec.swapped().as_dict())


def test_conditional_matches_the_schur_complement():
    cov = np.array([[2.0, 0.5, 1.0], [0.5, 1.0, 0.3], [1.0, 0.3, 1.5]])
    coef, cond = gaussian_conditional(cov, [2], [0, 1])
    np.testing.assert_allclose(coef, cov[:2, 2:] / 1.5)
    np.testing.assert_allclose(cond, cov[:2, :2] - np.outer(cov[:2, 2], cov[2, :2]) / 1.5)


@pytest.mark.parametrize(
    "cov, match",
    [
        ([[1.0, 0.5], [0.4, 1.0]], "symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),
        ([[1.0, 0.0, 0.0]], "square"),
        ([[1.0, float("nan")], [float("nan"), 1.0]], "finite"),
        ("abc", "square matrix"),
    ],
)
def test_bad_covariances_are_rejected(cov, match):
    with pytest.raises(ValueError, match=match):
        check_covariance(cov)


def test_bad_indices_are_rejected():
    cov = C2_CASES["sum"][0]
    with pytest.raises(ValueError, match="disjoint"):
        gaussian_mi_bits(cov, [0, 1], [1, 2])
    with pytest.raises(ValueError, match="b_idx"):
        gaussian_mi_bits(cov, 0, 3)
    with pytest.raises(ValueError, match="disjoint"):
        gaussian_mmi_pid(cov, 0, 1, 1)
    with pytest.raises(ValueError, match="at least one"):
        gaussian_mi_bits(cov, [], 1)


# ---------------------------------------------------------------- the generator


@pytest.mark.parametrize(
    "preset, expected",
    [
        ("redundant", (0.891, 0, 0, 0.032)),
        ("unique", (0, 1.058, 0, 0)),
        ("synergistic", (0.060, 0, 0, 1.101)),
        ("mixed", (0.270, 0.477, 0, 0.271)),
    ],
)
def test_presets_have_their_documented_values_and_padding_changes_nothing(preset, expected):
    spec = GaussianGenerator(preset=preset).ground_truth()
    assert list(spec.as_dict().values()) == pytest.approx(expected, abs=1e-3)
    wide = GaussianGenerator(preset=preset, dim_1=3, dim_2=2).ground_truth()
    assert wide.as_dict() == pytest.approx(spec.as_dict(), abs=1e-12)
    dominant = {"redundant": "redundancy", "unique": "unique_1", "synergistic": "synergy"}.get(preset)
    if dominant:
        assert getattr(spec, dominant) > 0.9 * spec.total
    else:
        assert min(spec.redundancy, spec.unique_1, spec.synergy) > 0.2


def test_default_is_mixed_and_user_cov_gives_its_closed_form():
    assert GaussianGenerator().ground_truth() == GaussianGenerator(preset="mixed").ground_truth()
    gen = GaussianGenerator(cov=C2_CASES["sum"][0])
    assert list(gen.ground_truth().as_dict().values()) == pytest.approx([0.2925, 0, 0, 0.5], abs=1e-4)
    assert "continuous y" in gen.ground_truth().note and gen.ground_truth().measure == "mmi"
    assert gen.params()["cov"] == ((1.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 1.0, 3.0))
    hash(gen)  # frozen and hashable even when built from a nested list


def test_sample_covariance_and_equiprobable_bins():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 4))
    cov = (a @ a.T + np.eye(4)).tolist()
    gen = GaussianGenerator(cov=cov, dim_1=2, dim_2=1, n_bins=5)
    s = gen.sample(40000, seed=0)
    assert s.x1.shape == (40000, 2) and s.x2.shape == (40000, 1) and s.x1.dtype == np.float32
    v = np.hstack([s.x1, s.x2, s.latents["y"][:, None]])
    # sd of a sample covariance entry is sqrt((s_ii s_jj + s_ij^2) / n) <= ~0.05 here; 0.2 is > 4 sd
    np.testing.assert_allclose(np.cov(v.T), cov, atol=0.2, rtol=0.03)
    counts = np.bincount(s.targets["synergy"], minlength=5) / len(s)
    np.testing.assert_allclose(counts, 0.2, atol=0.01)  # sd 0.002
    for term in ("redundancy", "unique_1", "unique_2"):
        np.testing.assert_array_equal(s.targets[term], s.targets["synergy"])
    np.testing.assert_array_equal(s.targets["redundancy"], np.searchsorted(gen.bin_edges(), s.latents["y"]))
    assert gen.n_classes == {t: 5 for t in s.targets} and gen.shapes == ((2,), (1,))


def test_views_keep_y_and_redraw_x_from_the_conditional():
    gen = GaussianGenerator(preset="synergistic")
    s = gen.sample(40000, seed=0)
    v = gen.views(s, seed=1)
    np.testing.assert_array_equal(v.latents["y"], s.latents["y"])
    for term in s.targets:
        np.testing.assert_array_equal(v.targets[term], s.targets[term])
    assert not np.allclose(v.x1, s.x1)
    joint = np.hstack([v.x1, v.x2, v.latents["y"][:, None]])
    np.testing.assert_allclose(np.cov(joint.T), gen.covariance, atol=0.04)  # sd ~0.01
    # two views of one y are conditionally independent: their residuals given y are uncorrelated
    w = gen.views(s, seed=2)
    coef, _ = gaussian_conditional(gen.covariance, [2], [0, 1])
    mean = s.latents["y"][:, None] @ coef.T
    res_v, res_w = np.hstack([v.x1, v.x2]) - mean, np.hstack([w.x1, w.x2]) - mean
    assert abs(np.corrcoef(res_v[:, 0], res_w[:, 0])[0, 1]) < 0.03  # sd 0.005
    assert abs(np.corrcoef(res_v[:, 0], v.latents["y"])[0, 1]) < 0.03


def test_seeds_and_global_state():
    gen = GaussianGenerator(preset="redundant")
    state = np.random.get_state()
    a, b, c = gen.sample(32, seed=4), gen.sample(32, seed=4), gen.sample(32, seed=5)
    gen.views(a, seed=0)
    assert np.array_equal(state[1], np.random.get_state()[1])
    np.testing.assert_array_equal(a.x1, b.x1)
    assert not np.array_equal(a.x1, c.x1)
    assert not np.array_equal(a.x1, gen.sample(32, seed=4, split="test").x1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"preset": "synergy"}, "did you mean 'synergistic'"),
        ({"preset": "mixed", "cov": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, "either preset or cov"),
        ({"cov": [[1, 0], [0, 1]]}, "shape"),
        ({"cov": [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]}, "positive definite"),
        ({"dim_1": 0}, "dim_1"),
        ({"n_bins": 1}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GaussianGenerator(**kwargs)


def test_bad_sample_and_view_inputs_are_rejected():
    gen = GaussianGenerator()
    with pytest.raises(ValueError, match="n must be"):
        gen.sample(0)
    other = GaussianGenerator(preset="unique").sample(4)
    broken = type(other)(other.x1, other.x2, other.targets, {}, other.spec)
    with pytest.raises(ValueError, match="latents"):
        gen.views(broken)


def test_presets_are_positive_definite():
    for name, cov in PRESETS.items():
        check_covariance(cov, name)
