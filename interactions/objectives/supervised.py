"""Supervised upper bound: cross-entropy of a linear classifier on the fused Z for one interaction target.

Trains CoMM's fusion model end to end on the label of one term (``target``, one of ``TERMS``), so the probe
on Z can read that term off as well as this architecture allows. Not part of CoMM's Trifeature figure;
it is the reference ceiling of this toolkit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from interactions.registry import suggest
from interactions.types import TERMS

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_positive


class Supervised(Objective):
    """``CE(Linear(Z), y_target)`` on the "12" embedding of one view.

    Args:
        dims: model widths; uses ``dims["12"]``.
        target: the term whose label is trained, one of ``TERMS`` (required).
        n_classes: number of classes of that label (required; the trainer passes
            ``generator.n_classes[target]``).

    Terms logged: ``ce``, ``acc`` (training accuracy of the batch).
    """

    name = "supervised"
    display_name = "Supervised"
    architecture = "fusion"
    n_views = 1
    subsets = ("12",)
    needs_target = True

    def __init__(self, dims: Mapping[str, int], *, target: str | None = None, n_classes: int | None = None):
        super().__init__(dims)
        if target is None:
            raise ValueError(f"supervised objective needs target=<one of {TERMS}>")
        if target not in TERMS:
            raise ValueError(
                f"unknown target {target!r}{suggest(str(target), TERMS)}; expected one of {TERMS}"
            )
        if n_classes is None:
            raise ValueError(f"supervised objective needs n_classes (the number of classes of {target!r})")
        check_positive("n_classes", n_classes, integer=True)
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.target_term, self.n_classes = target, int(n_classes)
        self.classifier = nn.Linear(self.dims["12"], self.n_classes)

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        y = self.labels(targets, len(views[0]["12"]))
        logits = self.classifier(views[0]["12"])  # (B, n_classes)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(dim=1) == y).float().mean()
        return LossOutput(loss, as_terms(ce=loss, acc=acc))

    def labels(self, targets: Mapping[str, Tensor] | None, batch: int) -> Tensor:
        """``targets[target]`` as int64 labels, checked: shape ``(batch,)``, values in ``[0, n_classes)``."""
        y = self.target(targets, self.target_term).long()
        if y.ndim != 1 or len(y) != batch:
            raise ValueError(f"targets[{self.target_term!r}] must have shape (B,), got {tuple(y.shape)}")
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= self.n_classes):
            raise ValueError(
                f"targets[{self.target_term!r}] must lie in [0, {self.n_classes}), got {y.unique()}"
            )
        return y
