"""Cross: CLIP-style cross-modal alignment of the two unimodal encoders (the paper's "Cross" baseline).

Radford et al., "Learning transferable visual models from natural language supervision", arXiv 2103.00020,
as run in CoMM (arXiv 2409.07402; spec 3.1): bias-free linear projections W_1, W_2 (init N(0, d^-1/2)),
a learnable logit scale initialised at log(1/0.07) (``temperature=0.07``) and clamped to [0, log 100]
(temperature in [0.01, 1]) after every optimizer step,
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
        temperature: initial temperature tau (CLIP: 0.07); learned as the log logit scale ``log(1 / tau)``.
        min_temperature: lower clamp of the learned temperature (CLIP: 0.01, i.e. a logit scale of at
            most 100); the upper clamp is 1 (logit scale >= 1).

    Terms logged: ``clip``, ``logit_scale`` (the log scale ``log(1 / tau)``) and ``acc`` (top-1 retrieval of v
    from u).
    """

    name = "cross"
    display_name = "Cross"
    architecture = "late"
    n_views = 1
    subsets = ("1", "2")

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        proj_dim: int | None = None,
        temperature: float = 0.07,
        min_temperature: float = 0.01,
    ) -> None:
        super().__init__(dims)
        out = check_optional_dim("proj_dim", proj_dim, 2 * self.dims["1"])
        if not (isinstance(min_temperature, (int, float)) and math.exp(-20) < min_temperature < 1):
            raise ValueError(f"min_temperature must be in (exp(-20), 1), got {min_temperature!r}")
        if not (isinstance(temperature, (int, float)) and min_temperature <= temperature <= 1):
            raise ValueError(
                f"temperature must be in [min_temperature, 1] = [{min_temperature}, 1], got {temperature!r}"
            )
        self.max_logit_scale = math.log(1 / min_temperature)
        self.proj_1 = linear_projection(self.dims["1"], out)
        self.proj_2 = linear_projection(self.dims["2"], out)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / temperature)))

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
        """Clamp the log logit scale to [0, log(1 / min_temperature)] (CLIP: scale at most 100)."""
        self.logit_scale.clamp_(0.0, self.max_logit_scale)
