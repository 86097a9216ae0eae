"""The ``Objective`` base class and ``LossOutput``: what every training objective looks like.

An objective is an ``nn.Module`` that holds its own heads, critics and loss (solo-learn's split: the maths
lives in ``functional.py``). The trainer builds the model for ``objective.architecture``, draws
``objective.n_views`` augmented views of each batch, embeds each view with
``model.embed(x1_k, x2_k, objective.subsets)`` and calls ``objective(views, targets)``. It optimises
``model.parameters()`` and the objective's parameters minus ``auxiliary_parameters()``, which get their own
optimizer stepped on ``auxiliary_loss(views, targets)``; ``after_step()`` runs after every optimizer step.
The probe sees ``objective.represent(model.embed(x1, x2, objective.subsets))``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from torch import Tensor, nn

from interactions.types import SUBSETS, TERMS

ARCHITECTURES: tuple[str, ...] = ("fusion", "late")

#: An embedded view: ``{subset: Tensor (B, dims[subset])}``.
EmbeddedView = Mapping[str, Tensor]


@dataclass
class LossOutput:
    """The scalar to back-propagate and its named, detached parts (for logging).

    Attributes:
        total: scalar tensor with grad.
        terms: ``{name: float}``; the same names at every call.
    """

    total: Tensor
    terms: dict[str, float] = field(default_factory=dict)


def as_terms(**values: Tensor | float) -> dict[str, float]:
    """Detach tensors to Python floats for ``LossOutput.terms``."""
    return {k: float(v.detach()) if isinstance(v, Tensor) else float(v) for k, v in values.items()}


def check_positive(name: str, value: Any, *, integer: bool = False) -> Any:
    """``value`` if it is a finite number > 0 (an int when ``integer``), else ``TypeError``/``ValueError``."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be {'an int' if integer else 'a number'} > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_optional_dim(name: str, value: Any, default: int) -> int:
    """``default`` when ``value`` is None, else ``value`` checked as a positive int."""
    return default if value is None else check_positive(name, value, integer=True)


def validate_objective_class(cls: Any) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``cls`` is an ``Objective`` subclass with valid attrs."""
    if not isinstance(cls, type) or not issubclass(cls, Objective):
        raise TypeError(f"an objective must be a subclass of interactions.objectives.Objective, got {cls!r}")
    label = cls.__name__
    if not isinstance(cls.name, str) or not cls.name:
        raise ValueError(f"{label}.name must be a non-empty string, got {cls.name!r}")
    if cls.architecture not in ARCHITECTURES:
        raise ValueError(f"{label}.architecture must be one of {ARCHITECTURES}, got {cls.architecture!r}")
    if isinstance(cls.n_views, bool) or not isinstance(cls.n_views, int) or cls.n_views < 1:
        raise ValueError(f"{label}.n_views must be an int >= 1, got {cls.n_views!r}")
    subsets = cls.subsets
    if not isinstance(subsets, tuple) or not subsets or any(s not in SUBSETS for s in subsets):
        raise ValueError(f"{label}.subsets must be a non-empty tuple of {SUBSETS}, got {subsets!r}")
    if not isinstance(cls.needs_target, bool):
        raise ValueError(f"{label}.needs_target must be a bool, got {cls.needs_target!r}")


class Objective(nn.Module):
    """Base class of training objectives.

    Class attributes:
        name: registry key. architecture: ``"fusion"`` or ``"late"`` (which ``build_model`` it needs).
        n_views: augmented views per sample. subsets: which of "1", "2", "12" it embeds.
        needs_target: whether ``forward`` needs ``targets`` (supervised objectives).

    Args:
        dims: ``{subset: width}`` of the model's embeddings (``model.dims``).
    """

    name: ClassVar[str] = ""
    architecture: ClassVar[str] = "fusion"
    n_views: ClassVar[int] = 2
    subsets: ClassVar[tuple[str, ...]] = ("12",)
    needs_target: ClassVar[bool] = False

    def __init__(self, dims: Mapping[str, int]) -> None:
        super().__init__()
        if not isinstance(dims, Mapping):
            raise TypeError(f"dims must be a mapping {{subset: width}}, got {dims!r}")
        for s in self.subsets:
            if s not in dims:
                raise ValueError(
                    f"dims has no width for subset {s!r} needed by {type(self).__name__}: {dims}"
                )
            check_positive(f"dims[{s!r}]", dims[s], integer=True)
        self.dims = dict(dims)

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        """The loss of one batch.

        Args:
            views: ``n_views`` dicts ``{subset: Tensor (B, dims[subset])}``, one per augmented view.
            targets: ``{term: LongTensor (B,)}`` when ``needs_target``.
        """
        raise NotImplementedError

    def represent(self, emb: EmbeddedView) -> Tensor:
        """Features the probe sees, from one un-augmented embedding dict. Default ``emb["12"]``."""
        return emb["12"]

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by their own optimizer on ``auxiliary_loss`` (default none)."""
        return []

    def auxiliary_loss(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> Tensor | None:
        """Loss of the auxiliary parameters (default None). It must not back-propagate into the model."""
        return None

    def after_step(self) -> None:
        """Hook run after every optimizer step (default nothing)."""

    def main_parameters(self) -> list[nn.Parameter]:
        """``parameters()`` minus ``auxiliary_parameters()`` (what the main optimizer steps)."""
        aux = {id(p) for p in self.auxiliary_parameters()}
        return [p for p in self.parameters() if id(p) not in aux]

    def check_views(self, views: Sequence[EmbeddedView]) -> None:
        """``ValueError`` unless ``views`` holds ``n_views`` dicts with every subset of ``subsets``."""
        if len(views) != self.n_views:
            raise ValueError(f"{self.name} needs {self.n_views} view(s), got {len(views)}")
        for k, view in enumerate(views):
            missing = [s for s in self.subsets if s not in view]
            if missing:
                raise ValueError(f"view {k} lacks subsets {missing} needed by {self.name}")

    def target(self, targets: Mapping[str, Tensor] | None, term: str) -> Tensor:
        """``targets[term]`` or a ``ValueError`` saying it is missing."""
        if term not in TERMS:
            raise ValueError(f"unknown target term {term!r}; expected one of {TERMS}")
        if targets is None or term not in targets:
            raise ValueError(
                f"{self.name} needs targets[{term!r}], got {None if targets is None else list(targets)}"
            )
        return targets[term]


__all__ = [
    "ARCHITECTURES",
    "SUBSETS",
    "EmbeddedView",
    "LossOutput",
    "Objective",
    "as_terms",
    "check_optional_dim",
    "check_positive",
    "validate_objective_class",
]
