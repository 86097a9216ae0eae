"""Registry-wide contract: every shipped objective passes check_objective and learns on a tiny batch;
check_objective, register_objective and get_objective reject broken input with clear messages."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from interactions.models import build_model
from interactions.objectives import (
    OBJECTIVES,
    LossOutput,
    Objective,
    ObjectiveContractError,
    check_objective,
    get_objective,
    register_objective,
)
from interactions.objectives.functional import nt_xent

PARAMS = {"supervised": {"target": "synergy", "n_classes": 2}, "synib": {"target": "synergy", "n_classes": 2}}


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_shipped_objective_passes_contract(name):
    results = check_objective(OBJECTIVES[name], devices=["cpu"], **PARAMS.get(name, {}))
    assert set(results) == {"cpu"}


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_shipped_objective_passes_contract_on_cuda(name):
    check_objective(OBJECTIVES[name], devices=["cuda"], **PARAMS.get(name, {}))


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_loss_decreases_on_a_fixed_batch(name):
    cls = OBJECTIVES[name]
    torch.manual_seed(0)
    model = build_model(cls.architecture, ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=32)
    objective = cls(model.dims, **PARAMS.get(name, {}))
    gen = torch.Generator().manual_seed(0)
    xs = [(torch.randn(32, 6, generator=gen), torch.randn(32, 5, generator=gen)) for _ in range(cls.n_views)]
    targets = {"synergy": torch.randint(0, 2, (32,), generator=gen)}
    aux = objective.auxiliary_parameters()
    main = [p for p in objective.parameters() if all(p is not a for a in aux)]
    optim = torch.optim.Adam([*model.parameters(), *main], lr=3e-3)
    aux_optim = torch.optim.Adam(aux, lr=3e-3) if aux else None

    def embed() -> list:  # the same token masks at every call: a fixed batch
        mask_gen = torch.Generator().manual_seed(0)
        return [objective.embed(model, x1, x2, k, mask_gen) for k, (x1, x2) in enumerate(xs)]

    def loss() -> torch.Tensor:
        return objective(embed(), targets).total

    first = loss().item()
    for _ in range(20):
        views = embed()
        optim.zero_grad()
        objective(views, targets).total.backward()
        optim.step()
        objective.after_step()
        if aux_optim is not None:
            aux_optim.zero_grad()
            objective.auxiliary_loss(views, targets).backward()
            aux_optim.step()
    assert loss().item() < first - 0.05 * abs(first) - 1e-3


class _Good(Objective):
    name, architecture, n_views, subsets = "good_user", "fusion", 2, ("12",)

    def __init__(self, dims, *, temperature: float = 0.5):
        super().__init__(dims)
        self.temperature = temperature

    def forward(self, views, targets=None):
        loss = nt_xent(views[0]["12"], views[1]["12"], self.temperature)
        return LossOutput(loss, {"nt_xent": float(loss.detach())})


class _UnusedParameter(_Good):
    def __init__(self, dims, **kw):
        super().__init__(dims, **kw)
        self.forgotten = nn.Linear(3, 3)


class _NotFinite(_Good):
    def forward(self, views, targets=None):
        out = super().forward(views, targets)
        return LossOutput(out.total * float("nan"), out.terms)


class _ChangingTerms(_Good):
    calls = 0

    def forward(self, views, targets=None):
        out = super().forward(views, targets)
        type(self).calls += 1
        return LossOutput(out.total, {f"t{type(self).calls}": 0.0})


class _Detached(_Good):
    def forward(self, views, targets=None):
        out = super().forward(views, targets)
        return LossOutput(out.total.detach(), out.terms)


class _BadAttributes(_Good):
    architecture = "early"


def test_user_objective_passes():
    check_objective(_Good, devices=["cpu"], temperature=0.2)


@pytest.mark.parametrize(
    "cls, params, match",
    [
        (_UnusedParameter, {}, "objective.forgotten.weight"),
        (_NotFinite, {}, "not finite"),
        (_ChangingTerms, {}, "terms names change"),
        (_Detached, {}, "no graph"),
        (_BadAttributes, {}, "architecture"),
        (_Good, {"tau": 0.1}, "tau"),
    ],
)
def test_check_objective_reports_what_failed(cls, params, match):
    with pytest.raises(ObjectiveContractError, match=match):
        check_objective(cls, devices=["cpu"], **params)


def test_register_and_get_objective():
    try:
        register_objective("good_user", _Good)
        assert get_objective("good_user") is _Good
        register_objective("good_user", _Good)  # same class again: fine
        with pytest.raises(ValueError, match="already taken"):
            register_objective("good_user", _UnusedParameter)
    finally:
        OBJECTIVES.pop("good_user", None)
    with pytest.raises(TypeError, match="subclass"):
        register_objective("x", nn.Linear)
    with pytest.raises(ValueError, match="architecture"):
        register_objective("x", _BadAttributes)
    assert "x" not in OBJECTIVES


def test_get_objective_names_and_imports():
    assert get_objective("interactions.objectives.comm:CoMM") is OBJECTIVES["comm"]
    with pytest.raises(ValueError, match="did you mean 'comm'"):
        get_objective("com")
    with pytest.raises(ValueError, match="did you mean 'CoMM'"):
        get_objective("interactions.objectives.comm:COMM")
    with pytest.raises(TypeError, match="subclass"):
        get_objective("torch.nn:Linear")
