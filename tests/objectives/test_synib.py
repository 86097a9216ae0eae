"""SynIB: the penalty's closed forms, the loss against a hand computation, lam = 0 equals Supervised,
validation, and tiny xor runs beside supervised on the same target."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tiny_runs import TINY_RUN

import interactions
from interactions.models import build_model
from interactions.objectives import Supervised, SynIB, check_objective
from interactions.objectives import functional as LF

TINY = ["objective.params.target='synergy'", *TINY_RUN]


def test_gaussian_kl_closed_forms():
    zeros = torch.zeros(4, 3)
    assert float(LF.gaussian_confidence_kl(zeros, zeros)) == 0.0  # uniform logits, unit variance
    o = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    assert float(LF.gaussian_confidence_kl(o, torch.zeros(2, 2))) == pytest.approx((5.0 + 0.25) / 2 / 2)
    s = torch.tensor([[1.0, -1.0]])
    by_hand = 0.5 * ((math.e + 0 - 1 - 1) + (math.exp(-1) + 0 - 1 + 1))
    assert float(LF.gaussian_confidence_kl(torch.zeros(1, 2), s)) == pytest.approx(by_hand)
    # the gradient w.r.t. the logits at s = 0 is o / B (spec 7, step 2)
    logits = o.clone().requires_grad_(True)
    LF.gaussian_confidence_kl(logits, torch.zeros(2, 2)).backward()
    assert torch.allclose(logits.grad, o / 2)


def test_uniform_kl_closed_forms():
    assert float(LF.uniform_kl(torch.zeros(3, 4))) == pytest.approx(0.0, abs=1e-7)
    confident = torch.tensor([[100.0, 0.0, 0.0, 0.0]])
    assert float(LF.uniform_kl(confident)) == pytest.approx(math.log(4), rel=1e-5)
    p = torch.tensor([0.7, 0.2, 0.1])
    assert float(LF.uniform_kl(p.log()[None])) == pytest.approx(float((p * (p * 3).log()).sum()), rel=1e-6)


def _pair(lam=1.0, penalty="gaussian", detach_masked=False):
    torch.manual_seed(0)
    model = build_model("fusion", ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=16)
    synib = SynIB(
        model.dims, target="synergy", n_classes=3, lam=lam, penalty=penalty, detach_masked=detach_masked
    )
    return model, synib


def _views(seed=0):
    gen = torch.Generator().manual_seed(seed)
    view = {s: torch.randn(6, 16, generator=gen) for s in ("1", "2", "12")}
    return [view], {"synergy": torch.randint(0, 3, (6,), generator=gen)}


def test_loss_equals_a_hand_computation():
    _, objective = _pair(lam=0.7)
    views, targets = _views()
    out = objective(views, targets)
    W, b = objective.classifier.weight.detach().double(), objective.classifier.bias.detach().double()
    V, c = objective.log_variance.weight.detach().double(), objective.log_variance.bias.detach().double()
    y = targets["synergy"]
    ce, kl = 0.0, {"1": 0.0, "2": 0.0}
    for i in range(6):
        o = W @ views[0]["12"][i].double() + b
        ce += (-o[y[i]] + torch.logsumexp(o, 0)).item() / 6
        for s in ("1", "2"):
            z = views[0][s][i].double()
            om, sm = W @ z + b, V @ z + c
            kl[s] += 0.5 * float((sm.exp() + om**2 - 1 - sm).sum()) / 6
    assert float(out.total.detach()) == pytest.approx(ce + 0.7 * (kl["1"] + kl["2"]), rel=1e-5)
    assert out.terms["kl_1"] == pytest.approx(kl["1"], rel=1e-5) and out.terms["ce"] == pytest.approx(
        ce, rel=1e-5
    )
    assert 1 / 3 <= out.terms["conf_1"] <= 1


def test_lam_zero_is_supervised_on_the_same_target():
    model, synib = _pair(lam=0.0)
    supervised = Supervised(model.dims, target="synergy", n_classes=3)
    supervised.classifier.load_state_dict(synib.classifier.state_dict())
    views, targets = _views(1)
    got, expected = synib(views, targets).total.detach(), supervised(views, targets).total.detach()
    assert float(got) == pytest.approx(float(expected), rel=1e-6)


def test_uniform_penalty_has_no_log_variance_head_and_detach_stops_gradients():
    _, objective = _pair(penalty="uniform")
    assert objective.log_variance is None
    views, targets = _views()
    views[0]["1"].requires_grad_(True)
    objective(views, targets).total.backward()
    assert views[0]["1"].grad is not None and views[0]["1"].grad.abs().sum() > 0
    _, detached = _pair(detach_masked=True)
    views, targets = _views()
    views[0]["1"].requires_grad_(True)
    detached(views, targets).total.backward()
    assert views[0]["1"].grad is None


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(lam=-1.0), "lam"),
        (dict(lam=float("nan")), "lam"),
        (dict(penalty="dirichlet"), "penalty"),
        (dict(detach_masked=1), "detach_masked"),
    ],
)
def test_bad_hyper_parameters_are_rejected(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _pair(**params)
    model = build_model("fusion", ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=16)
    with pytest.raises(ValueError, match="target"):
        SynIB(model.dims, n_classes=2)


def test_contract_with_both_penalties():
    check_objective(SynIB, devices=["cpu"], target="synergy", n_classes=2)
    check_objective(
        SynIB, devices=["cpu"], target="synergy", n_classes=2, penalty="uniform", detach_masked=True
    )


def test_tiny_xor_runs_beside_supervised_on_the_same_target():
    results = {
        name: interactions.run("xor", overrides=[f"objective.name={name}", *TINY], progress=False)
        for name in ("synib", "supervised")
    }
    for result in results.values():
        assert list(result.capture["term"]) == list(interactions.TERMS)
        assert np.isfinite(result.capture["capture"]).all()
    assert {"ce", "kl_1", "kl_2", "conf_1"} <= set(results["synib"].losses["name"])
    assert results["synib"].config["objective"]["params"]["n_classes"] == 2  # filled from the generator
