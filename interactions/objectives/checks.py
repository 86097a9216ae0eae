"""``check_objective``: the public contract check of an objective class (sklearn's ``check_estimator`` idea).

Run it on your own ``Objective`` subclass before training with it::

    from interactions.objectives import check_objective
    check_objective(MyObjective, temperature=0.2)

It builds the model the class asks for with tiny dimensions, runs a tiny random batch and raises
``ObjectiveContractError`` (an ``AssertionError``) naming what failed. Library randomness only: the
global torch RNG state is restored afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from interactions.types import TERMS

from .base import LossOutput, Objective, validate_objective_class

_SHAPES = ((6,), (5,))
_MODEL = dict(width=16, n_tokens=4, depth=1, heads=2, hidden=16)


class ObjectiveContractError(AssertionError):
    """An objective class breaks the ``Objective`` contract; the message says how."""


def check_objective(
    cls: type[Objective], *, devices: Sequence[str] | None = None, batch_size: int = 8, **params: Any
) -> dict[str, dict[str, float]]:
    """Check that ``cls(dims, **params)`` honours the ``Objective`` contract.

    Checks, on CPU and (by default) on CUDA when available, with inputs on that device:
    the class attributes are valid; it builds from ``model.dims`` and ``params``; ``forward`` returns a
    ``LossOutput`` whose ``total`` is a finite scalar on the inputs' device with a graph and whose ``terms``
    are finite floats with the same names on a second call; gradients reach every parameter of the model
    and of the objective (except ``auxiliary_parameters()``); ``auxiliary_loss`` (if any) is finite, reaches
    every auxiliary parameter and does not back-propagate into the model; ``after_step`` runs;
    ``represent`` returns finite ``(B, D)`` features. Views are embedded through ``objective.embed`` (so
    token masks are drawn, from a seeded generator) and ``objective.check_model`` must accept the model.

    Args:
        cls: the objective class.
        devices: devices to run on; default ``["cpu"]`` plus ``"cuda"`` when available.
        batch_size: rows of the random batch (>= 4: heads use BatchNorm).
        **params: hyper-parameters passed to ``cls`` (e.g. ``target="synergy", n_classes=2``).

    Returns:
        ``{device: terms of the first forward}``.

    Raises:
        ObjectiveContractError: naming the failed check.
    """
    from interactions.models import build_model

    def fail(message: str) -> ObjectiveContractError:
        return ObjectiveContractError(f"check_objective({getattr(cls, '__name__', cls)!r}): {message}")

    try:
        validate_objective_class(cls)
    except (TypeError, ValueError) as err:
        raise fail(str(err)) from err
    if devices is None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = {}
    for device in devices:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = build_model(cls.architecture, _SHAPES, **_MODEL)
            try:
                objective = cls(model.dims, **params)
            except Exception as err:  # report any construction failure with the params used
                raise fail(f"cls(dims={model.dims}, **{params}) raised {type(err).__name__}: {err}") from err
            try:
                objective.check_model(model)
            except ValueError as err:
                raise fail(f"check_model: {err}") from err
        model, objective = model.to(device).train(), objective.to(device).train()
        results[str(device)] = _check_on(model, objective, torch.device(device), batch_size, params, fail)
    return results


def _batch(
    model: nn.Module, objective: Objective, device: torch.device, batch: int, seed: int, n_classes: int
):
    cls = type(objective)
    gen = torch.Generator().manual_seed(seed)
    mask_gen = torch.Generator(device=device).manual_seed(seed)
    xs = [[torch.randn(batch, *s, generator=gen).to(device) for s in _SHAPES] for _ in range(cls.n_views)]
    views = [objective.embed(model, x1, x2, k, mask_gen) for k, (x1, x2) in enumerate(xs)]
    targets = {t: torch.randint(0, n_classes, (batch,), generator=gen).to(device) for t in TERMS}
    return xs, views, targets


def _check_on(model, objective, device, batch, params, fail) -> dict[str, float]:
    cls = type(objective)
    n_classes = int(params.get("n_classes", 2))
    aux = list(objective.auxiliary_parameters())
    own = {id(p) for p in objective.parameters()}
    if any(id(p) not in own for p in aux):
        raise fail("auxiliary_parameters() returns parameters that are not the objective's own")
    aux_ids = {id(p) for p in aux}
    where = f"on {device}"

    xs, views, targets = _batch(model, objective, device, batch, 0, n_classes)
    out = objective(views, targets if cls.needs_target else None)
    if not isinstance(out, LossOutput):
        raise fail(f"forward must return a LossOutput, got {type(out).__name__} {where}")
    total = out.total
    if not isinstance(total, Tensor) or total.ndim != 0:
        raise fail(
            f"LossOutput.total must be a scalar tensor, got {getattr(total, 'shape', total)!r} {where}"
        )
    if total.device.type != device.type:
        raise fail(f"LossOutput.total is on {total.device}, inputs are {where}")
    if not torch.isfinite(total):
        raise fail(f"loss is not finite ({total.item()}) {where}")
    if not total.requires_grad:
        raise fail(f"LossOutput.total has no graph (requires_grad=False) {where}")
    _check_terms(out.terms, fail, where)

    for p in [*model.parameters(), *objective.parameters()]:
        p.grad = None
    total.backward()
    named = [(f"model.{n}", p) for n, p in model.named_parameters()]
    named += [(f"objective.{n}", p) for n, p in objective.named_parameters() if id(p) not in aux_ids]
    missing = [n for n, p in named if p.requires_grad and p.grad is None]
    if missing:
        raise fail(f"no gradient reaches {missing} {where}")
    bad = [n for n, p in named if p.grad is not None and not torch.isfinite(p.grad).all()]
    if bad:
        raise fail(f"non-finite gradients in {bad} {where}")

    _check_auxiliary(model, objective, aux, device, batch, n_classes, fail, where)

    _, views2, targets2 = _batch(model, objective, device, batch, 1, n_classes)
    out2 = objective(views2, targets2 if cls.needs_target else None)
    if set(out2.terms) != set(out.terms):
        raise fail(f"terms names change between calls: {sorted(out.terms)} then {sorted(out2.terms)}")
    objective.after_step()
    if not all(torch.isfinite(p).all() for p in objective.parameters()):
        raise fail(f"after_step() left non-finite parameters {where}")

    model.eval(), objective.eval()
    with torch.no_grad():
        features = objective.represent(model.embed(xs[0][0], xs[0][1], cls.subsets))
    model.train(), objective.train()
    if not isinstance(features, Tensor) or features.ndim != 2 or features.shape[0] != batch:
        raise fail(
            f"represent must return a ({batch}, D) tensor, got {getattr(features, 'shape', features)!r}"
        )
    if not torch.isfinite(features).all():
        raise fail(f"represent returned non-finite features {where}")
    return dict(out.terms)


def _check_terms(terms: Any, fail, where: str) -> None:
    if not isinstance(terms, dict):
        raise fail(f"LossOutput.terms must be a dict, got {type(terms).__name__}")
    for key, value in terms.items():
        if not isinstance(key, str):
            raise fail(f"LossOutput.terms keys must be strings, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise fail(f"LossOutput.terms[{key!r}] must be a finite float, got {value!r} {where}")


def _check_auxiliary(model, objective, aux, device, batch, n_classes, fail, where) -> None:
    cls = type(objective)
    _, views, targets = _batch(model, objective, device, batch, 2, n_classes)
    loss = objective.auxiliary_loss(views, targets if cls.needs_target else None)
    if not aux:
        if loss is not None:
            raise fail("auxiliary_loss returns a loss but auxiliary_parameters() is empty")
        return
    if not isinstance(loss, Tensor) or loss.ndim != 0 or not torch.isfinite(loss):
        raise fail(f"auxiliary_loss must return a finite scalar tensor, got {loss!r} {where}")
    for p in [*model.parameters(), *objective.parameters()]:
        p.grad = None
    loss.backward()
    missing = [n for n, p in objective.named_parameters() if any(p is a for a in aux) and p.grad is None]
    if missing:
        raise fail(f"auxiliary_loss gives no gradient to auxiliary parameters {missing} {where}")
    leaked = [n for n, p in model.named_parameters() if p.grad is not None and bool(p.grad.any())]
    if leaked:
        raise fail(f"auxiliary_loss back-propagates into the model ({leaked[:3]}...); detach its inputs")
