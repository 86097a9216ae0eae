"""Variational MI bounds: closed forms of the bound formulas, Gaussians with known MI, the log K cap."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from estimators.neural import bound_nats, infonce_mi_bits, neural_mi_bits  # noqa: E402


def gaussian_pairs(n: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Scalar x, y with correlation rho and the true MI -1/2 log2(1 - rho^2) = -1/2 log2 det(corr)."""
    corr = np.array([[1.0, rho], [rho, 1.0]])
    xy = np.random.default_rng(seed).multivariate_normal(np.zeros(2), corr, size=n)
    return xy[:, :1], xy[:, 1:], -0.5 * math.log2(np.linalg.det(corr))


def test_bound_formulas_on_constant_critics():
    k, a, b = 8, 2.0, -1.0
    scores = torch.full((k, k), b, dtype=torch.float64)
    scores.fill_diagonal_(a)
    infonce = a - math.log(math.exp(a) + (k - 1) * math.exp(b)) + math.log(k)
    assert float(bound_nats(scores, "infonce")) == pytest.approx(infonce)
    assert float(bound_nats(scores, "nwj")) == pytest.approx(a - math.exp(b - 1))
    assert float(bound_nats(scores, "smile", clip=5.0)) == pytest.approx(a - b)
    assert float(bound_nats(scores, "smile", clip=0.5)) == pytest.approx(a - (-0.5))  # negatives clipped
    high = scores.clone()
    high.fill_diagonal_(50.0)  # positives are never clipped
    assert float(bound_nats(high, "smile", clip=5.0)) == pytest.approx(51.0)


def test_infonce_never_exceeds_log_k_for_any_scores():
    gen = torch.Generator().manual_seed(0)
    for k in (2, 16, 128):
        scores = 5 * torch.randn(k, k, generator=gen, dtype=torch.float64)
        scores.diagonal().add_(100.0)
        value = float(bound_nats(scores, "infonce"))
        assert value <= math.log(k) + 1e-12
        assert value == pytest.approx(math.log(k), abs=1e-6)  # a near-perfect critic reaches the cap


@pytest.mark.parametrize(("bound", "rho"), [("infonce", 0.5), ("infonce", 0.8), ("nwj", 0.5), ("smile", 0.8)])
def test_bounds_recover_low_gaussian_mi(bound, rho):
    # n = 4000 (2000 train / 2000 held-out), K = 64, 300 Adam steps of a 64-wide separable critic. The
    # held-out average over 31 batches has a standard deviation of ~0.02 bit, so a lower bound may read up
    # to 0.05 bit above the truth; below, a tiny critic trained briefly lands within 0.1 bit at 0.2-0.7 bit.
    x, y, truth = gaussian_pairs(4000, rho, seed=1)
    value = neural_mi_bits(x, y, bound=bound, batch_size=64, seed=0)
    assert truth - 0.1 <= value <= truth + 0.05


def test_independent_variables_give_about_zero():
    rng = np.random.default_rng(2)
    value = infonce_mi_bits(rng.normal(size=(2000, 2)), rng.normal(size=(2000, 1)), batch_size=64)
    assert abs(value) < 0.03


def test_infonce_saturates_at_log2_k():
    # rho = 0.999: I = 4.48 bits > log2(16) = 4 bits, so InfoNCE with K = 16 must stay below 4 bits.
    x, y, truth = gaussian_pairs(2000, 0.999, seed=3)
    value = infonce_mi_bits(x, y, batch_size=16, critic="concat", seed=0)
    assert truth > 4.0
    assert value <= 4.0
    assert value > 2.5


def test_same_seed_same_number_and_tensor_input():
    x, y, _ = gaussian_pairs(600, 0.6, seed=4)
    kwargs = dict(steps=50, batch_size=32)
    first = infonce_mi_bits(x, y, seed=5, **kwargs)
    assert infonce_mi_bits(x, y, seed=5, **kwargs) == first
    assert infonce_mi_bits(torch.tensor(x), torch.tensor(y), seed=5, **kwargs) == pytest.approx(
        first, abs=1e-6
    )
    assert infonce_mi_bits(x, y, seed=6, **kwargs) != first


def test_bad_input_is_rejected():
    x, y, _ = gaussian_pairs(300, 0.5, seed=6)
    with pytest.raises(ValueError, match="unknown bound 'mine'"):
        neural_mi_bits(x, y, bound="mine")
    with pytest.raises(ValueError, match="unknown critic"):
        neural_mi_bits(x, y, critic="bilinear")
    with pytest.raises(ValueError, match="same number of rows"):
        neural_mi_bits(x[:-1], y, batch_size=32)
    with pytest.raises(ValueError, match="batch_size"):
        neural_mi_bits(x, y, batch_size=256)
    with pytest.raises(ValueError, match="finite"):
        neural_mi_bits(np.full_like(x, np.nan), y, batch_size=32)
