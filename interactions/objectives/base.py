"""The ``Objective`` base class and ``LossOutput``: what every training objective looks like.

An objective is an ``nn.Module`` that holds its own heads, critics and loss (solo-learn's split: the maths
lives in ``functional.py``). The trainer builds the model for ``objective.architecture``, draws
``objective.n_views`` augmented views of each batch, embeds each view with
``model.embed(x1_k, x2_k, objective.subsets)`` and calls ``objective(views, targets)``. It optimises
``model.parameters()`` and the objective's parameters minus ``auxiliary_parameters()``, which get their own
optimizer stepped on ``auxiliary_loss(views, targets)``; ``after_step()`` runs after every optimizer step.
The probe sees ``objective.represent(model.embed(x1, x2, objective.subsets))``.

Hooks beyond the loss (contract 4 of the toolkit):

- ``set_progress(progress)``: the trainer calls it at the start of every epoch with
  ``epoch_index / n_epochs`` in [0, 1) (InfMasking's lambda ramp); default no-op.
- ``token_masks(view)``: token-masked passes the objective wants for view ``view`` in training
  (``{key: TokenMask}``); the trainer embeds each view through ``objective.embed(model, x1, x2, view,
  generator)``, which passes them to the model with the trainer's per-epoch seeded ``torch.Generator``.
- ``requires``: the model features the objective needs (``"token_masking"``, ``"dual_path"``);
  ``check_model(model)`` (called when the trainer is built, before any step) fails with a message saying
  what to change when the model lacks one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from interactions.models.bimodal import ARCHITECTURE_FEATURES, ARCHITECTURE_KEYS, FEATURES
from interactions.models.fusion import TokenMask
from interactions.types import TERMS

ARCHITECTURES: tuple[str, ...] = tuple(ARCHITECTURE_KEYS)
#: the embedding keys every architecture returns; an architecture may declare more (``ARCHITECTURE_KEYS``)
SUBSETS: tuple[str, ...] = ("1", "2", "12")

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
    subsets, keys = cls.subsets, ARCHITECTURE_KEYS[cls.architecture]
    if not isinstance(subsets, tuple) or not subsets or any(s not in keys for s in subsets):
        raise ValueError(
            f"{label}.subsets must be a non-empty tuple of the keys of architecture "
            f"{cls.architecture!r}, {keys}; got {subsets!r}"
        )
    if not isinstance(cls.needs_target, bool):
        raise ValueError(f"{label}.needs_target must be a bool, got {cls.needs_target!r}")
    if not isinstance(cls.display_name, str):
        raise ValueError(f"{label}.display_name must be a string, got {cls.display_name!r}")
    requires = cls.requires
    if not isinstance(requires, frozenset) or any(f not in FEATURES for f in requires):
        raise ValueError(f"{label}.requires must be a frozenset of {FEATURES}, got {requires!r}")
    missing = requires - ARCHITECTURE_FEATURES[cls.architecture]
    if missing:
        raise ValueError(_missing_features_message(cls, cls.architecture, missing))


def _missing_features_message(cls: Any, architecture: str, missing: frozenset[str]) -> str:
    having = [a for a, f in ARCHITECTURE_FEATURES.items() if cls.requires <= f]
    fix = (
        f"set {cls.__name__}.architecture = {having[0]!r}"
        + (f" (or one of {having})" if len(having) > 1 else "")
        if having
        else "no architecture provides them"
    )
    return (
        f"objective {cls.name!r} needs model feature(s) {sorted(missing)}, which the {architecture!r} "
        f"model lacks; {fix}"
    )


class Objective(nn.Module):
    """Base class of training objectives.

    Class attributes:
        name: registry key. display_name: the name in tables and figures (e.g. "CoMM"; "" = ``name``).
        architecture: ``"fusion"``, ``"late"`` or ``"dual"`` (which ``build_model`` it needs).
        n_views: augmented views per sample. subsets: which embedding keys it embeds ("1", "2", "12",
        plus the architecture's extra keys, e.g. "u1", "u2" of ``"dual"``).
        needs_target: whether ``forward`` needs ``targets`` (supervised objectives).
        requires: model features it needs (``"token_masking"``, ``"dual_path"``).

    Args:
        dims: ``{subset: width}`` of the model's embeddings (``model.dims``).
    """

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    architecture: ClassVar[str] = "fusion"
    n_views: ClassVar[int] = 2
    subsets: ClassVar[tuple[str, ...]] = ("12",)
    needs_target: ClassVar[bool] = False
    requires: ClassVar[frozenset[str]] = frozenset()

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

    def set_progress(self, progress: float) -> None:
        """Hook run at the start of every training epoch with ``epoch_index / n_epochs`` in [0, 1).

        Default nothing; schedules (e.g. InfMasking's lambda ramp) override it.
        """

    def token_masks(self, view: int) -> dict[str, TokenMask]:
        """Token-masked passes wanted for view ``view`` in training: ``{key: TokenMask}`` (default none).

        Each key then holds a ``(draws, B, W)`` tensor in that view's embedding dict.
        """
        return {}

    def view_subsets(self, view: int) -> tuple[str, ...]:
        """The unmasked keys embedded for view ``view`` in training (default ``subsets``)."""
        return self.subsets

    def embed(
        self,
        model: nn.Module,
        x1: Tensor,
        x2: Tensor,
        view: int = 0,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Embed view ``view`` for this objective: ``model.embed`` of its subsets, plus its token masks in
        training mode (drawn from ``generator``, the trainer's seeded generator). In eval mode it is
        ``model.embed(x1, x2, subsets)``.
        """
        if not self.training:
            return model.embed(x1, x2, self.subsets)
        masks = self.token_masks(view)
        if not masks:
            return model.embed(x1, x2, self.view_subsets(view))
        return model.embed(x1, x2, self.view_subsets(view), token_masks=masks, generator=generator)

    def check_model(self, model: nn.Module) -> None:
        """``ValueError`` before training when ``model`` lacks a feature or key this objective needs.

        Subclasses extend it with their own checks (e.g. a mask ratio that keeps no token).
        """
        features = frozenset(getattr(model, "features", frozenset()))
        missing = self.requires - features
        if missing:
            raise ValueError(
                _missing_features_message(
                    type(self), getattr(model, "architecture", type(model).__name__), missing
                )
            )
        dims = getattr(model, "dims", {})
        absent = [s for s in self.subsets if s not in dims]
        if absent:
            raise ValueError(
                f"objective {self.name!r} embeds {absent}, which the {type(model).__name__} does not "
                f"return (its keys: {sorted(dims)}); set {type(self).__name__}.architecture to one that "
                "declares them"
            )

    def check_views(self, views: Sequence[EmbeddedView]) -> None:
        """``ValueError`` unless ``views`` holds ``n_views`` dicts with every key the objective asked for."""
        if len(views) != self.n_views:
            raise ValueError(f"{self.name} needs {self.n_views} view(s), got {len(views)}")
        for k, view in enumerate(views):
            wanted = [*self.view_subsets(k), *self.token_masks(k)] if self.training else list(self.subsets)
            missing = [s for s in wanted if s not in view]
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
