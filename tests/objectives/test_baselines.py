"""Cross, Cross+Self, SimCLR, FactorCL and Supervised: totals from their terms, hooks, validation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from interactions.models import build_model
from interactions.models.heads import ConcatCritic
from interactions.objectives import Cross, CrossSelf, FactorCL, SimCLR, Supervised
from interactions.objectives.functional import clip_loss, nt_xent


def _views(architecture, n_views, seed=0, batch=10):
    torch.manual_seed(seed)
    model = build_model(architecture, ((6,), (5,)), width=8, n_tokens=2, heads=2, hidden=16)
    gen = torch.Generator().manual_seed(seed)
    xs = [
        (torch.randn(batch, 6, generator=gen), torch.randn(batch, 5, generator=gen)) for _ in range(n_views)
    ]
    return model, [model.embed(x1, x2) for x1, x2 in xs]


def test_cross_is_clip_on_linear_projections_and_clamps_scale():
    model, views = _views("late", 1)
    objective = Cross(model.dims)
    assert objective.proj_1.bias is None and objective.proj_1.out_features == 16
    assert objective.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    out = objective(views)
    u, v = objective.proj_1(views[0]["1"]), objective.proj_2(views[0]["2"])
    assert out.total.item() == pytest.approx(clip_loss(u, v, objective.logit_scale).item(), abs=1e-6)
    with torch.no_grad():
        objective.logit_scale.fill_(10.0)
    objective.after_step()
    assert objective.logit_scale.item() == pytest.approx(math.log(100))
    with torch.no_grad():
        objective.logit_scale.fill_(-3.0)
    objective.after_step()
    assert objective.logit_scale.item() == 0.0
    assert objective.represent(views[0]).shape == (10, 32)
    with pytest.raises(ValueError, match="temperature"):
        Cross(model.dims, temperature=0.001)
    with pytest.raises(ValueError, match="temperature"):
        Cross(model.dims, temperature=2.0)
    fresh = Cross(model.dims, temperature=0.2)
    assert fresh.logit_scale.item() == pytest.approx(math.log(1 / 0.2))
    assert Cross(model.dims).logit_scale.item() == pytest.approx(math.log(1 / 0.07))


def test_cross_self_total_and_lambda():
    model, views = _views("late", 2)
    objective = CrossSelf(model.dims, lam=0.0)
    out = objective(views)
    assert out.total.item() == pytest.approx(out.terms["cross"], abs=1e-6)
    h1, h2 = objective.head_1, objective.head_2
    cross = (
        nt_xent(h1(views[0]["1"]), h2(views[0]["2"])) + nt_xent(h1(views[1]["1"]), h2(views[1]["2"]))
    ) / 2
    assert out.terms["cross"] == pytest.approx(cross.item(), abs=1e-5)
    out2 = CrossSelf(model.dims, lam=2.0)(views)
    assert out2.total.item() == pytest.approx(
        out2.terms["cross"] + out2.terms["self_1"] + out2.terms["self_2"], abs=1e-5
    )
    emb = views[0]
    assert torch.equal(objective.represent({"1": emb["1"], "2": emb["2"]}), emb["12"])
    with pytest.raises(ValueError, match="lam"):
        CrossSelf(model.dims, lam=-1.0)


def test_simclr_is_nt_xent_of_fused_views():
    model, views = _views("fusion", 2)
    objective = SimCLR(model.dims, temperature=0.2)
    out = objective(views)
    a, b = objective.head(views[0]["12"]), objective.head(views[1]["12"])
    assert out.total.item() == pytest.approx((nt_xent(a, b, 0.2)).item(), abs=1e-5)


def test_concat_critic_pairwise_matches_pointwise():
    torch.manual_seed(0)
    critic = ConcatCritic(3, 4, hidden=8, layers=2)
    a, b = torch.randn(5, 3), torch.randn(5, 4)
    scores = critic.pairwise(a, b)
    for i in range(5):
        expected = critic(a[i : i + 1].expand(5, 3), b)
        assert torch.allclose(scores[i], expected, atol=1e-6)
    assert torch.allclose(critic.pairwise(a, b, frozen=True), scores)


def test_factorcl_terms_gradients_and_auxiliary_step():
    model, views = _views("late", 2)
    objective = FactorCL(model.dims, critic_hidden=16)
    out = objective(views)
    t = out.terms
    expected = t["club_12"] + t["club_12_cond"] - t["nce_12"] - t["nce_1"] - t["nce_2"] - t["nce_12_cond"]
    assert out.total.item() == pytest.approx(expected, abs=1e-5)
    out.total.backward()
    aux = {id(p) for p in objective.auxiliary_parameters()}
    assert aux == {id(p) for p in [*objective.club_12.parameters(), *objective.club_12_cond.parameters()]}
    assert all(p.grad is None for p in objective.auxiliary_parameters())  # CLUB critics: own step only
    assert objective.heads_1["b"].net[0].weight.grad is not None  # CLUB term still moves its heads
    for p in [*model.parameters(), *objective.parameters()]:
        p.grad = None
    objective.auxiliary_loss(views).backward()
    assert all(p.grad is not None for p in objective.auxiliary_parameters())
    assert all(p.grad is None for p in model.parameters())
    assert objective.represent(views[0]).shape == (10, 5 * 8 + 5 * 8)


def test_supervised_needs_target_and_n_classes():
    dims = {"1": 8, "2": 8, "12": 8}
    with pytest.raises(ValueError, match="target"):
        Supervised(dims, n_classes=2)
    with pytest.raises(ValueError, match="did you mean 'synergy'"):
        Supervised(dims, target="synergie", n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        Supervised(dims, target="synergy")
    with pytest.raises(ValueError, match="n_classes"):
        Supervised(dims, target="synergy", n_classes=1)


def test_supervised_is_cross_entropy_of_the_target():
    model, views = _views("fusion", 1)
    objective = Supervised(model.dims, target="unique_1", n_classes=3)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    targets = {"unique_1": y, "synergy": torch.zeros(10, dtype=torch.long)}
    out = objective(views, targets)
    expected = F.cross_entropy(objective.classifier(views[0]["12"]), y)
    assert out.total.item() == pytest.approx(expected.item(), abs=1e-6)
    with pytest.raises(ValueError, match="unique_1"):
        objective(views, None)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        objective(views, {"unique_1": y + 1})
