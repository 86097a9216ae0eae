"""COrAL: its terms against an independent naive computation, the orthogonality terms' closed forms,
asymmetric per-view masking, validation, and a tiny xor run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tiny_runs import TINY_RUN

import interactions
from interactions.models import build_model
from interactions.objectives import COrAL, check_objective
from interactions.objectives.coral import MASKED, coral_terms

TINY = ["objective.name=coral", *TINY_RUN]


def naive_nt_xent(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    """SimCLR's NT-Xent with loops: 2N anchors, 2N - 2 negatives each (float64)."""
    z = [x / x.norm() for x in torch.cat([a, b]).double()]
    n, total = len(a), 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        others = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(2 * n) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[j]) / tau) / others)
    return total / (2 * n)


def naive_sq_cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return sum(float(x @ y) ** 2 / float(x @ x) / float(y @ y) for x, y in zip(a.double(), b.double())) / len(
        a
    )


def test_terms_equal_a_naive_computation():
    gen = torch.Generator().manual_seed(0)
    p, a1, a2 = ([torch.randn(6, 4, generator=gen) for _ in range(2)] for _ in range(3))
    weights = (1.5, 0.5, 2.0)
    got = {k: float(v) for k, v in coral_terms(p, a1, a2, 0.1, weights).items()}
    assert got["loss_fusion"] == pytest.approx(1.5 * naive_nt_xent(p[0], p[1], 0.1), rel=1e-5)
    assert got["loss_u1"] == pytest.approx(0.5 * naive_nt_xent(a1[0], a1[1], 0.1), rel=1e-5)
    assert got["loss_u2"] == pytest.approx(0.5 * naive_nt_xent(a2[0], a2[1], 0.1), rel=1e-5)
    for name, (x, y) in {"ortho_12": (a1, a2), "ortho_1z": (a1, p), "ortho_2z": (a2, p)}.items():
        expected = 2.0 * (naive_sq_cos(x[0], y[0]) + naive_sq_cos(x[1], y[1]))
        assert got[name] == pytest.approx(expected, rel=1e-5)


def test_ortho_terms_are_zero_for_orthogonal_and_two_w_for_identical_inputs():
    eye = torch.eye(3)
    p, a1, a2 = [eye[[0, 0]], eye[[0, 0]]], [eye[[1, 1]], eye[[1, 1]]], [eye[[2, 2]], eye[[2, 2]]]
    terms = coral_terms(p, a1, a2, 0.1, (1.0, 1.0, 3.0))
    for name in ("ortho_12", "ortho_1z", "ortho_2z"):
        assert float(terms[name]) == pytest.approx(0.0, abs=1e-7)
    same = [torch.randn(4, 3)] * 2
    terms = coral_terms(same, same, [2.5 * s for s in same], 0.1, (1.0, 1.0, 3.0))
    for name in ("ortho_12", "ortho_1z", "ortho_2z"):  # summed over both views: 2 * w_o
        assert float(terms[name]) == pytest.approx(6.0, rel=1e-6)


def _objective(**params):
    torch.manual_seed(0)
    model = build_model("dual", ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=16)
    return model, COrAL(model.dims, **params)


def test_forward_total_is_the_plain_sum_of_the_heads_terms():
    model, objective = _objective(ortho_weight=2.0)
    gen = torch.Generator().manual_seed(1)
    views = [
        {
            "u1": torch.randn(8, 8, generator=gen),
            "u2": torch.randn(8, 8, generator=gen),
            MASKED: torch.randn(1, 8, 16, generator=gen),
        }
        for _ in range(2)
    ]
    out = objective(views)
    p = [objective.head(v[MASKED][0]).detach() for v in views]
    a1 = [objective.unique_heads[0](v["u1"]).detach() for v in views]
    a2 = [objective.unique_heads[1](v["u2"]).detach() for v in views]
    expected = (
        naive_nt_xent(p[0], p[1], 0.1) + naive_nt_xent(a1[0], a1[1], 0.1) + naive_nt_xent(a2[0], a2[1], 0.1)
    )
    expected += 2.0 * sum(naive_sq_cos(x[v], y[v]) for x, y in [(a1, a2), (a1, p), (a2, p)] for v in (0, 1))
    assert float(out.total.detach()) == pytest.approx(expected, rel=1e-5)
    assert set(out.terms) == {
        "loss_fusion",
        "loss_u1",
        "loss_u2",
        "ortho_12",
        "ortho_1z",
        "ortho_2z",
        "ssl_acc",
    }


def test_view_one_masks_modality_one_and_view_two_modality_two():
    model, objective = _objective(mask_ratio=0.5)
    m1, m2 = objective.token_masks(0)[MASKED], objective.token_masks(1)[MASKED]
    assert m1.ratio == (0.5, 0.0) and m2.ratio == (0.0, 0.5)
    assert m1.sampling == "bernoulli" and m1.fill == "zero" and m1.draws == 1
    _, swapped = _objective(first_masked_modality=2)
    assert swapped.token_masks(0)[MASKED].ratio == (0.0, 0.75)
    x1, x2 = torch.randn(8, 6), torch.randn(8, 5)
    emb = objective.embed(model, x1, x2, 0, torch.Generator().manual_seed(0))
    assert set(emb) == {"u1", "u2", MASKED} and emb[MASKED].shape == (1, 8, 16)
    objective.eval()
    assert set(objective.embed(model, x1, x2, 0, None)) == {"12", "u1", "u2"}
    features = objective.represent(model.embed(x1, x2, objective.subsets))
    assert features.shape == (8, 16 + 8 + 8)


def test_view_two_zeroes_a_bernoulli_draw_of_modality_two_only():
    model, objective = _objective(mask_ratio=0.5)
    x1, x2 = torch.randn(8, 6), torch.randn(8, 5)
    emb = objective.embed(model, x1, x2, 1, torch.Generator().manual_seed(3))  # view 2: masks modality 2
    # independent replay of the draws: one uniform per token, modality 1 first, keep where u > ratio
    u = torch.Generator().manual_seed(3)
    torch.rand(1, 8, 4, generator=u)  # modality 1 (ratio 0: all kept)
    keep_2 = torch.rand(1, 8, 4, generator=u)[0] > 0.5
    assert 0 < keep_2.float().mean() < 1
    t1, t2 = model.tokenizer_1(x1), model.tokenizer_2(x2)
    (naive,) = model.fusion([t1, t2 * keep_2[..., None]], [(True, True)], batched=False)
    assert torch.allclose(emb[MASKED][0], naive, atol=1e-5)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(mask_ratio=1.0), "mask_ratio"),
        (dict(mask_ratio=-0.1), "mask_ratio"),
        (dict(ortho_weight=-1), "ortho_weight"),
        (dict(unique_weight=float("inf")), "unique_weight"),
        (dict(first_masked_modality=3), "first_masked_modality"),
        (dict(temperature=-0.1), "temperature"),
    ],
)
def test_bad_hyper_parameters_are_rejected(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _objective(**params)


def test_contract_and_feature_check():
    check_objective(COrAL, devices=["cpu"])
    torch.manual_seed(0)
    fusion = build_model("fusion", ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=16)
    _, objective = _objective()
    with pytest.raises(ValueError, match=r"needs model feature\(s\) \['dual_path'\].*architecture = 'dual'"):
        objective.check_model(fusion)


def test_tiny_xor_run_writes_capture_rows():
    result = interactions.run("xor", overrides=TINY, progress=False)
    assert list(result.capture["term"]) == list(interactions.TERMS)
    assert np.isfinite(result.capture["capture"]).all() and result.feature_dim == 32
    assert {"loss_fusion", "ortho_12"} <= set(result.losses["name"])
