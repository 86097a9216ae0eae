"""InfMasking: CoMM plus alignment of the full input with many token-masked copies of itself.

Wen et al., "InfMasking: Unleashing synergistic information by contrastive multimodal interactions",
NeurIPS 2025, arXiv 2509.25270. Implemented as the official code (``brightest66/InfMasking`` at 6773ed7,
``InfMaskingLoss`` + ``InfFusion``; newer-objectives spec section 2). Paper bodies were not readable: every
formula comes from the code.

Per view v (two augmented views): the CoMM embeddings Z^v_1, Z^v_2, Z^v_12 and T token-masked full-input
passes Z~^{v,(t)}, each keeping ``int(T_m (1 - r))`` random tokens of every modality and replacing the others
by one learnable mask token. The mask loss ``M_v`` (``functional.infmasking_mask_loss``) aligns
``q = n(h(Z^v_12))`` with the mean of ``k_t = n(h(Z~^{v,(t)}))`` through a Gaussian moment term of weight
``lambda_e``. Total: ``(M' + M'' + L_1 + L_2 + L_12) / 5`` with CoMM's terms ``L_S``.

Official defaults and the values used here (spec 2.3):

==================  =============================  ====================  ===============
parameter           class default (code)           Trifeature script     here
==================  =============================  ====================  ===============
temperature         0.1                            0.1                   0.1
mask_lambda         0.25 (loss) / 1 (yaml)         1                     1.0
mask_ratio          0.5                            0.7                   0.7
n_masks             5                              6                     6
lambda schedule     linear (e + 1) / E             linear                linear
cross               False (same-view draws)        False                 same view only
==================  =============================  ====================  ===============

Choices where the code or the toolkit leaves one:

- lambda ramp: the trainer's ``set_progress`` gives ``p = e / E`` (e = 0-based epoch), so
  ``lambda = mask_lambda * p``: the official ramp ``(e + 1) / E`` shifted by one epoch (0 in the first
  epoch, ``mask_lambda (E - 1) / E`` in the last). ``lambda_schedule="constant"`` uses ``mask_lambda``.
  Outside a trainer (no ``set_progress`` call) the progress is 0.
- The learnable mask token (shape (W,), truncated normal std 0.02 clipped to +-0.02, weight-decayed as in
  the code) belongs to the objective and is handed to the fusion model's token-mask option; models of
  other objectives carry no unused parameter.
- Masked tokens are replaced after tokenisation, so they also lose their positional information (as in
  the code). Both modalities are masked at the same ratio in each draw, independently per sample.
- The head is called separately for every embedding type (3 + T per view), so each gets its own
  BatchNorm statistics (the code's per-type SyncBN). Only the full-input masked passes are computed (the
  code also computes, then discards, masked unimodal passes).
- The code's ``script`` bug (R/U runs may have used r = 0.5, T = 5) is noted in the docs; the optional
  entropy ``penalty`` (off in every shipped config) is not implemented.
- A mask ratio that would keep no token of a modality is rejected before training (``check_model``); the
  code would silently keep none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from interactions.models.fusion import TokenMask
from interactions.models.heads import ProjectionHead

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_optional_dim, check_positive
from .functional import comm_terms, infmasking_mask_loss, retrieval_accuracy, weighted_mean

#: lambda schedules: "linear" ramps lambda with the training progress, "constant" keeps mask_lambda
SCHEDULES: tuple[str, ...] = ("linear", "constant")
#: the embedding key of the token-masked draws, shape (n_masks, B, W)
MASKED = "12~"


class InfMasking(Objective):
    """CoMM's three terms plus the InfMasking mask loss of each view; the total is their mean over 5.

    Args:
        dims: model widths; uses ``dims["12"]`` (W, one width for every subset of the fusion model).
        temperature: tau of every contrastive term (0.1).
        n_masks: masked draws T per view and step (int >= 2: the covariance needs two draws).
        mask_ratio: fraction r of each modality's tokens replaced by the mask token, in (0, 1).
        mask_lambda: final weight of the Gaussian moment term (>= 0).
        lambda_schedule: ``"linear"`` (``mask_lambda * progress``) or ``"constant"``.
        proj_hidden: hidden width of the head (default W). proj_dim: output width (default W // 2).

    Terms logged: ``mask_1``, ``mask_2`` (M', M''), ``loss_1``, ``loss_2``, ``loss_12`` (CoMM's terms),
    ``lambda`` and ``ssl_acc`` (top-1 retrieval of Z'' from Z').
    """

    name = "infmasking"
    display_name = "InfMasking"
    architecture = "fusion"
    n_views = 2
    subsets = ("1", "2", "12")
    requires = frozenset({"token_masking"})

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        temperature: float = 0.1,
        n_masks: int = 6,
        mask_ratio: float = 0.7,
        mask_lambda: float = 1.0,
        lambda_schedule: str = "linear",
        proj_hidden: int | None = None,
        proj_dim: int | None = None,
    ) -> None:
        super().__init__(dims)
        width = self.dims["12"]
        if len({self.dims[s] for s in self.subsets}) != 1:
            raise ValueError(f"InfMasking needs one width for subsets 1, 2, 12 (a fusion model), got {dims}")
        self.temperature = float(check_positive("temperature", temperature))
        check_positive("n_masks", n_masks, integer=True)
        if n_masks < 2:
            raise ValueError(f"n_masks must be >= 2 (the covariance of the draws needs two), got {n_masks}")
        if isinstance(mask_ratio, bool) or not isinstance(mask_ratio, (int, float)) or not 0 < mask_ratio < 1:
            raise ValueError(f"mask_ratio must be a number in (0, 1), got {mask_ratio!r}")
        if isinstance(mask_lambda, bool) or not isinstance(mask_lambda, (int, float)) or not mask_lambda >= 0:
            raise ValueError(f"mask_lambda must be a number >= 0, got {mask_lambda!r}")
        if lambda_schedule not in SCHEDULES:
            raise ValueError(f"lambda_schedule must be one of {SCHEDULES}, got {lambda_schedule!r}")
        self.n_masks, self.mask_ratio = int(n_masks), float(mask_ratio)
        self.mask_lambda, self.lambda_schedule = float(mask_lambda), lambda_schedule
        self.progress = 0.0
        hidden = check_optional_dim("proj_hidden", proj_hidden, width)
        out = check_optional_dim("proj_dim", proj_dim, max(width // 2, 1))
        self.head = ProjectionHead(width, hidden, out)
        self.mask_token = nn.Parameter(torch.empty(width))
        nn.init.trunc_normal_(self.mask_token, std=0.02, a=-0.02, b=0.02)

    @property
    def lam(self) -> float:
        """The current lambda: ``mask_lambda * progress`` (linear) or ``mask_lambda`` (constant)."""
        return self.mask_lambda * (self.progress if self.lambda_schedule == "linear" else 1.0)

    def set_progress(self, progress: float) -> None:
        if not 0 <= progress <= 1:
            raise ValueError(f"progress must be in [0, 1], got {progress!r}")
        self.progress = float(progress)

    def _mask(self) -> TokenMask:
        ratio = (self.mask_ratio, self.mask_ratio)
        return TokenMask(
            ratio=ratio, sampling="exact", fill="token", draws=self.n_masks, token=self.mask_token
        )

    def token_masks(self, view: int) -> dict[str, TokenMask]:
        """Both views: ``n_masks`` full-input passes with a fraction ``mask_ratio`` of tokens masked."""
        return {MASKED: self._mask()}

    def check_model(self, model: nn.Module) -> None:
        """Also rejects a ``mask_ratio`` that keeps no token of a modality of ``model``."""
        super().check_model(model)
        self._mask().check_lengths(model.n_tokens)  # type: ignore[attr-defined]

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        # one head call per embedding type: own BatchNorm statistics (spec 2.6)
        first = [self.head(views[0][s]) for s in self.subsets]  # [Z'_1, Z'_2, Z'], (B, proj_dim) each
        second = [self.head(views[1][s]) for s in self.subsets]
        comm = comm_terms(first, second, self.temperature)
        lam = self.lam
        masks = []
        for view, full in zip(views, (first[-1], second[-1])):
            keys = torch.stack([self.head(z) for z in view[MASKED]])  # (T, B, proj_dim)
            masks.append(
                infmasking_mask_loss(
                    F.normalize(full, dim=1), F.normalize(keys, dim=-1), lam, self.temperature
                )
            )
        total = weighted_mean([*masks, *comm])
        named = {f"loss_{s}": t for s, t in zip(self.subsets, comm)}
        acc = retrieval_accuracy(first[-1], second[-1])
        return LossOutput(
            total, as_terms(mask_1=masks[0], mask_2=masks[1], **named, **{"lambda": lam}, ssl_acc=acc)
        )
