"""Cross: CLIP-style cross-modal alignment of the two unimodal encoders (the paper's "Cross" baseline).

Radford et al., "Learning transferable visual models from natural language supervision", arXiv 2103.00020,
as run in CoMM (arXiv 2409.07402; spec 3.1): bias-free linear projections W_1, W_2 (init N(0, d^-1/2)),
a learnable logit scale initialised at log(1/0.07) and clamped to [0, log 100] after every optimizer step,
symmetric cross-entropy, no intra-modal negatives.

Choices: one view per sample (the code's weak ``img_transform`` views are whatever the trainer draws);
the probe sees ``cat[u, v]``, the projections *before* l2-normalisation (spec: "concat[u, v] after
projection").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from interactions.models.heads import linear_projection

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_optional_dim
from .functional import clip_loss, retrieval_accuracy


class Cross(Objective):
    """CLIP loss between ``W_1 f_1(x_1)`` and ``W_2 f_2(x_2)``.

    Args:
        dims: model widths; uses ``dims["1"]`` and ``dims["2"]``.
        proj_dim: projection width (default ``2 * dims["1"]``, the paper's 256 -> 512).
        logit_scale_init: initial log inverse temperature (log(1/0.07)).
        max_logit_scale: upper clamp of the log scale (log 100); the lower clamp is 0.

    Terms logged: ``clip``, ``logit_scale`` (the log scale) and ``acc`` (top-1 retrieval of v from u).
    """

    name = "cross"
    architecture = "late"
    n_views = 1
    subsets = ("1", "2")

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        proj_dim: int | None = None,
        logit_scale_init: float = math.log(1 / 0.07),
        max_logit_scale: float = math.log(100),
    ) -> None:
        super().__init__(dims)
        out = check_optional_dim("proj_dim", proj_dim, 2 * self.dims["1"])
        if not (isinstance(max_logit_scale, (int, float)) and 0 < max_logit_scale < 20):
            raise ValueError(f"max_logit_scale must be in (0, 20) (a log scale), got {max_logit_scale!r}")
        if not (isinstance(logit_scale_init, (int, float)) and 0 <= logit_scale_init <= max_logit_scale):
            raise ValueError(f"logit_scale_init must be in [0, max_logit_scale], got {logit_scale_init!r}")
        self.max_logit_scale = float(max_logit_scale)
        self.proj_1 = linear_projection(self.dims["1"], out)
        self.proj_2 = linear_projection(self.dims["2"], out)
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale_init)))

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        u, v = self.proj_1(views[0]["1"]), self.proj_2(views[0]["2"])  # (B, proj_dim) each
        loss = clip_loss(u, v, self.logit_scale)
        return LossOutput(
            loss, as_terms(clip=loss, logit_scale=self.logit_scale, acc=retrieval_accuracy(u, v))
        )

    def represent(self, emb: EmbeddedView) -> Tensor:
        """``cat[W_1 f_1(x_1), W_2 f_2(x_2)]``. Shape: (B, 2 * proj_dim)."""
        return torch.cat([self.proj_1(emb["1"]), self.proj_2(emb["2"])], dim=1)

    @torch.no_grad()
    def after_step(self) -> None:
        """Clamp the log logit scale to [0, max_logit_scale] (CLIP: scale at most 100)."""
        self.logit_scale.clamp_(0.0, self.max_logit_scale)
