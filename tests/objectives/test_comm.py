"""CoMM objective: the total is the spec 1.4 formula on the head outputs; weights and validation."""

from __future__ import annotations

import pytest
import torch

from interactions.models import build_model
from interactions.objectives import CoMM
from interactions.objectives.functional import nt_xent


@pytest.fixture
def setup():
    torch.manual_seed(0)
    model = build_model("fusion", ((6,), (5,)), width=16, n_tokens=2, heads=2, hidden=16)
    gen = torch.Generator().manual_seed(0)
    views = [
        model.embed(torch.randn(10, 6, generator=gen), torch.randn(10, 5, generator=gen)) for _ in range(2)
    ]
    return model, views


def test_total_is_spec_formula_on_projected_embeddings(setup):
    model, views = setup
    objective = CoMM(model.dims)
    out = objective(views)
    g = objective.head  # BatchNorm in train mode: the same input gives the same output
    z1a, z2a, za = (g(views[0][s]) for s in ("1", "2", "12"))
    z1b, z2b, zb = (g(views[1][s]) for s in ("1", "2", "12"))
    by_hand = (
        nt_xent(za, zb)
        + (nt_xent(z1a, zb) + nt_xent(z1b, za)) / 2
        + (nt_xent(z2a, zb) + nt_xent(z2b, za)) / 2
    ) / 3
    assert out.total.item() == pytest.approx(by_hand.item(), abs=1e-5)
    assert set(out.terms) == {"loss_1", "loss_2", "loss_12", "ssl_acc"}
    assert out.terms["loss_12"] == pytest.approx((nt_xent(za, zb)).item(), abs=1e-5)


def test_weights_ablation_only_full_term(setup):
    model, views = setup
    torch.manual_seed(1)
    full = CoMM(model.dims, weights=(0, 0, 1))
    out = full(views)
    assert out.total.item() == pytest.approx(out.terms["loss_12"] / 3, abs=1e-5)


def test_head_defaults_follow_paper_ratios():
    objective = CoMM({"1": 64, "2": 64, "12": 64})
    linears = [m for m in objective.head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 64), (64, 64), (64, 32)]
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in objective.head.modules())


@pytest.mark.parametrize(
    "params, match",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"weights": (1, 1)}, "weights"),
        ({"weights": (0, 0, 0)}, "weights"),
        ({"weights": (1, -1, 1)}, "weights"),
        ({"proj_dim": 0}, "proj_dim"),
    ],
)
def test_rejects_impossible_hyper_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        CoMM({"1": 8, "2": 8, "12": 8}, **params)


def test_rejects_late_fusion_dims_and_wrong_views(setup):
    with pytest.raises(ValueError, match="one width"):
        CoMM({"1": 8, "2": 8, "12": 16})
    model, views = setup
    with pytest.raises(ValueError, match="2 view"):
        CoMM(model.dims)(views[:1])
