"""The loss maths against naive loops written here, closed forms and the formula of CoMM spec 1.4."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from interactions.objectives import functional as LF


def naive_nt_xent(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    """SimCLR NT-Xent by explicit loops over the 2N anchors (positive + 2N - 2 negatives each)."""
    a, b = F.normalize(a, dim=1).double(), F.normalize(b, dim=1).double()
    n, total = a.shape[0], 0.0
    for anchor, other in ((a, b), (b, a)):
        for k in range(n):
            pos = math.exp(float(anchor[k] @ other[k]) / tau)
            neg = sum(math.exp(float(anchor[k] @ other[j]) / tau) for j in range(n) if j != k)
            neg += sum(math.exp(float(anchor[k] @ anchor[j]) / tau) for j in range(n) if j != k)
            total += -math.log(pos / (pos + neg))
    return total / (2 * n)


def naive_clip(u: torch.Tensor, v: torch.Tensor, scale: float) -> float:
    u, v = F.normalize(u, dim=1).double(), F.normalize(v, dim=1).double()
    n, rows, cols = u.shape[0], 0.0, 0.0
    for k in range(n):
        rows += -math.log(
            math.exp(scale * float(u[k] @ v[k])) / sum(math.exp(scale * float(u[k] @ v[j])) for j in range(n))
        )
        cols += -math.log(
            math.exp(scale * float(u[k] @ v[k])) / sum(math.exp(scale * float(u[j] @ v[k])) for j in range(n))
        )
    return (rows + cols) / (2 * n)


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_nt_xent_matches_naive_loops(tau):
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 5, generator=gen), torch.randn(7, 5, generator=gen)
    assert float(LF.nt_xent(a, b, tau)) == pytest.approx(naive_nt_xent(a, b, tau), abs=1e-5)


def test_nt_xent_closed_form_orthogonal_identical_views():
    # a = b = N orthonormal vectors: positives have similarity 1, all 2N - 2 negatives similarity 0
    n, tau = 6, 0.1
    a = torch.eye(n, 8)
    expected = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + (2 * n - 2)))
    assert float(LF.nt_xent(a, a.clone(), tau)) == pytest.approx(expected, abs=1e-5)


def test_nt_xent_constant_embeddings_is_log_2n_minus_1():
    # every similarity equal: uniform over 2N - 1 candidates (lightly's closed form)
    a = torch.ones(5, 3)
    assert float(LF.nt_xent(a, a, 0.1)) == pytest.approx(math.log(2 * 5 - 1), abs=1e-5)


def test_nt_xent_symmetric_and_scale_invariant():
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(9, 4, generator=gen), torch.randn(9, 4, generator=gen)
    assert float(LF.nt_xent(a, b)) == pytest.approx(float(LF.nt_xent(b, a)), abs=1e-6)
    assert float(LF.nt_xent(3 * a, b)) == pytest.approx(float(LF.nt_xent(a, b)), abs=1e-5)


@pytest.mark.parametrize("tau", [0.0, -0.1])
def test_nt_xent_rejects_bad_temperature(tau):
    with pytest.raises(ValueError, match="temperature"):
        LF.nt_xent(torch.randn(3, 2), torch.randn(3, 2), tau)


def test_nt_xent_rejects_unpaired_inputs():
    with pytest.raises(ValueError, match="paired"):
        LF.nt_xent(torch.randn(3, 2), torch.randn(4, 2))


def test_clip_loss_matches_naive_loops():
    gen = torch.Generator().manual_seed(2)
    u, v = torch.randn(6, 4, generator=gen), torch.randn(6, 4, generator=gen)
    scale = torch.tensor(math.log(1 / 0.07))
    assert float(LF.clip_loss(u, v, scale)) == pytest.approx(naive_clip(u, v, 1 / 0.07), abs=1e-5)


def test_clip_loss_has_no_intra_modal_negatives():
    # identical orthonormal u = v: N candidates per row, not 2N - 1
    u = torch.eye(4)
    expected = -math.log(math.e / (math.e + 3))  # scale 1, positive sim 1, negatives 0
    assert float(LF.clip_loss(u, u, torch.tensor(0.0))) == pytest.approx(expected, abs=1e-6)


def _views(n_terms=3, seed=3):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(8, 4, generator=gen) for _ in range(n_terms)], [
        torch.randn(8, 4, generator=gen) for _ in range(n_terms)
    ]


def test_comm_total_is_the_formula_of_spec_1_4():
    (z1a, z2a, za), (z1b, z2b, zb) = _views()
    nt = LF.nt_xent
    by_hand = (nt(za, zb) + 0.5 * (nt(z1a, zb) + nt(z1b, za)) + 0.5 * (nt(z2a, zb) + nt(z2b, za))) / 3
    got = LF.weighted_mean(LF.comm_terms([z1a, z2a, za], [z1b, z2b, zb], 0.1))
    assert float(got) == pytest.approx(float(by_hand), abs=1e-6)
    terms = LF.comm_terms([z1a, z2a, za], [z1b, z2b, zb], 0.1)
    assert float(terms[-1]) == pytest.approx(float(nt(za, zb)), abs=1e-6)


def test_comm_weights_are_divided_by_n_plus_one():
    first, second = _views()
    terms = LF.comm_terms(first, second)
    only_full = LF.weighted_mean(terms, weights=[0, 0, 1])
    assert float(only_full) == pytest.approx(float(terms[-1]) / 3, abs=1e-6)
    weighted = LF.weighted_mean(terms, weights=[2.0, 0.5, 1.0])
    expected = (2 * terms[0] + 0.5 * terms[1] + terms[2]) / 3
    assert float(weighted) == pytest.approx(float(expected), abs=1e-6)
    assert float(LF.weighted_mean(terms, weights=[1, 1, 1])) == pytest.approx(
        float(LF.weighted_mean(terms)), abs=1e-6
    )
    with pytest.raises(ValueError, match="weights"):
        LF.weighted_mean(terms, weights=[1, 1])


def test_nce_and_club_bounds_match_loops():
    gen = torch.Generator().manual_seed(4)
    s = torch.randn(5, 5, generator=gen).double()
    n = 5
    nce = sum(float(s[k, k]) for k in range(n)) / n
    nce -= sum(math.log(sum(math.exp(float(s[j, k])) for j in range(n))) for k in range(n)) / n
    nce += math.log(n)
    club = sum(float(s[k, k]) for k in range(n)) / n - float(s.sum()) / n**2
    assert float(LF.nce_bound(s)) == pytest.approx(nce, abs=1e-9)
    assert float(LF.club_bound(s)) == pytest.approx(club, abs=1e-9)


def test_nce_bound_reaches_log_n_for_a_perfect_critic():
    s = 1e3 * torch.eye(6, dtype=torch.float64)
    assert float(LF.nce_bound(s)) == pytest.approx(math.log(6), abs=1e-9)
    with pytest.raises(ValueError, match="square"):
        LF.nce_bound(torch.zeros(2, 3))


def test_retrieval_accuracy():
    a = torch.eye(4)
    assert float(LF.retrieval_accuracy(a, a)) == 1.0
    assert float(LF.retrieval_accuracy(a, a.roll(1, dims=0))) == 0.0


def test_losses_run_in_float32_under_float16_autocast():
    """AMP: float16 activations under float16 autocast give the float32 loss (before the fix, filling the
    removed self-similarities with -1e8 raised "value cannot be converted to type c10::Half")."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    keys = F.normalize(torch.randn(3, 8, 4, generator=g), dim=-1)
    q = F.normalize(a, dim=1)
    cases = {
        "nt_xent": lambda x, y, k, p: LF.nt_xent(x, y),
        "clip_loss": lambda x, y, k, p: LF.clip_loss(x, y, torch.tensor(2.0)),
        "comm_terms": lambda x, y, k, p: torch.stack(LF.comm_terms([x, y], [y, x])).sum(),
        "infmasking": lambda x, y, k, p: LF.infmasking_mask_loss(p, k, lam=0.5),
    }
    for name, loss in cases.items():
        reference = loss(a, b, keys, q)
        with torch.autocast("cpu", dtype=torch.float16):
            half = loss(a.half(), b.half(), keys.half(), q.half())
        assert half.dtype == torch.float32, name
        # the only difference left is the float16 rounding of the inputs
        assert torch.allclose(half, reference, atol=5e-3, rtol=1e-3), (name, half, reference)
