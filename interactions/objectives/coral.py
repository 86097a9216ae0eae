"""COrAL: a fusion path trained on asymmetrically masked views, unique paths per modality, orthogonality.

Cissee, Younis, Ahmadi, "COrAL" (arXiv 2602.14983, 2026). Implemented as the official code
(``Caro-Ci/COrAL`` at 0aeaf24: ``CoralLoss``, ``coral.py``, ``mmfusion.py``; newer-objectives spec section 4).
The paper body was not readable: every formula comes from the code.

Model: the ``"dual"`` architecture (``DualPathModel``): CoMM's fusion path Z plus one unique path per
modality (a copy of its tokeniser, a per-token MLP, attention pooling) giving U_1, U_2. In training, view 1
(the first augmented pair) masks modality 1's tokens of the fusion path, view 2 masks modality 2's: each
token is kept with probability ``1 - mask_ratio`` and masked tokens are multiplied by 0. The unique paths are
never masked.

Loss, with ``p^v = n(h(Z^v_masked))``, ``a^v_m = n(g_m(U^v_m))`` and CoMM's NT-Xent (tau = 0.1):

``L = w_s NT(p', p'') + w_u [NT(a'_1, a''_1) + NT(a'_2, a''_2)]
      + w_o sum_v [cos^2(a^v_1, a^v_2) + cos^2(a^v_1, p^v) + cos^2(a^v_2, p^v)]``

a plain sum; each orthogonality pair is summed (not averaged) over the two views.

Official defaults and the values used here (spec 4.3):

=====================  =====================  ==================  ========================
parameter              class default (code)   Trifeature script   here
=====================  =====================  ==================  ========================
temperature            0.1                    0.1                 0.1
ortho weight w_o       10                     1                   1.0 (MultiBench uses 10)
shared / unique w      1 / 1                  1 / 1               1 / 1
mask ratio rho         0.75 (hard-coded)      0.75                0.75, no schedule
masked modality        view 1 -> modality 1   same                ``first_masked_modality=1``
=====================  =====================  ==================  ========================

Choices:

- Zero fill (the code's ``tokens * mask``), Bernoulli keep per token, as in the code; a masked token keeps
  taking part in attention as a zero vector.
- The unique paths' output width is W // 2 (official 256 at W = 512); heads ``h: W -> W -> W -> W/2`` and
  ``g_m: W/2 -> W -> W -> W/2`` with BatchNorm (the code's SyncBN); ``g_2`` starts as a copy of ``g_1``.
  Each head is called once per embedding type and view (own BatchNorm statistics).
- The attention-pooling query is initialised N(0, 1/d) (the spec does not give the official init).
- The probe sees ``cat(Z, U_1, U_2)``, unmasked and pre-head: 2W features, against CoMM's W.
- In training only the masked fusion pass and the unique paths are computed (no unmasked Z: the loss never
  uses it, as in the code).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from interactions.models.bimodal import UNIQUE_KEYS
from interactions.models.fusion import TokenMask
from interactions.models.heads import ProjectionHead

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_positive
from .functional import nt_xent, retrieval_accuracy, squared_cosine

#: the embedding key of the masked fusion pass (one draw), shape (1, B, W)
MASKED = "12~"


def coral_terms(
    p: Sequence[Tensor],
    a1: Sequence[Tensor],
    a2: Sequence[Tensor],
    temperature: float = 0.1,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> dict[str, Tensor]:
    """COrAL's six weighted loss terms (official ``CoralLoss``), from projected embeddings of two views.

    Args:
        p: ``[p', p'']``, the projected masked fusion embeddings. Shape: (B, D) each.
        a1, a2: ``[a'_m, a''_m]``, the projected unique embeddings of modality m. Shape: (B, D) each.
        temperature: NT-Xent tau.
        weights: ``(w_s, w_u, w_o)``: shared (fusion), unique and orthogonality weights.

    Returns:
        ``{"loss_fusion", "loss_u1", "loss_u2", "ortho_12", "ortho_1z", "ortho_2z"}`` scalars (nats for
        the NT-Xent terms; the orthogonality terms are in [0, 2 w_o]). The total is their plain sum.
    """
    w_s, w_u, w_o = weights
    return {
        "loss_fusion": w_s * nt_xent(p[0], p[1], temperature),
        "loss_u1": w_u * nt_xent(a1[0], a1[1], temperature),
        "loss_u2": w_u * nt_xent(a2[0], a2[1], temperature),
        "ortho_12": w_o * (squared_cosine(a1[0], a2[0]) + squared_cosine(a1[1], a2[1])),
        "ortho_1z": w_o * (squared_cosine(a1[0], p[0]) + squared_cosine(a1[1], p[1])),
        "ortho_2z": w_o * (squared_cosine(a2[0], p[0]) + squared_cosine(a2[1], p[1])),
    }


def _check_weight(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class COrAL(Objective):
    """COrAL on the dual-path model (fusion path + unique paths).

    Args:
        dims: model widths; uses ``dims["12"]`` (W) and ``dims["u1"]``, ``dims["u2"]`` (W // 2).
        temperature: NT-Xent tau (0.1).
        mask_ratio: rho, the probability that a token of the masked modality is zeroed, in [0, 1) (0.75).
        ortho_weight: w_o (1.0, the Trifeature script; the class default and MultiBench use 10).
        shared_weight: w_s of the fusion term (1.0). unique_weight: w_u of the unique terms (1.0).
        first_masked_modality: the modality masked in view 1 (1); view 2 masks the other one.

    Terms logged: ``loss_fusion``, ``loss_u1``, ``loss_u2``, ``ortho_12``, ``ortho_1z``, ``ortho_2z``
    (weighted, as summed into the total) and ``ssl_acc`` (top-1 retrieval of p'' from p').
    """

    name = "coral"
    display_name = "COrAL"
    architecture = "dual"
    n_views = 2
    subsets = ("12", *UNIQUE_KEYS)
    requires = frozenset({"token_masking", "dual_path"})

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        temperature: float = 0.1,
        mask_ratio: float = 0.75,
        ortho_weight: float = 1.0,
        shared_weight: float = 1.0,
        unique_weight: float = 1.0,
        first_masked_modality: int = 1,
    ) -> None:
        super().__init__(dims)
        self.temperature = float(check_positive("temperature", temperature))
        if (
            isinstance(mask_ratio, bool)
            or not isinstance(mask_ratio, (int, float))
            or not 0 <= mask_ratio < 1
        ):
            raise ValueError(f"mask_ratio must be a number in [0, 1), got {mask_ratio!r}")
        if first_masked_modality not in (1, 2) or isinstance(first_masked_modality, bool):
            raise ValueError(f"first_masked_modality must be 1 or 2, got {first_masked_modality!r}")
        self.mask_ratio, self.first_masked_modality = float(mask_ratio), int(first_masked_modality)
        self.weights = (
            _check_weight("shared_weight", shared_weight),
            _check_weight("unique_weight", unique_weight),
            _check_weight("ortho_weight", ortho_weight),
        )
        width, unique = self.dims["12"], self.dims["u1"]
        if self.dims["u2"] != unique:
            raise ValueError(f"COrAL needs one width for u1 and u2, got dims={dims}")
        out = unique  # the official heads project both paths to the unique width (256 at W = 512)
        self.head = ProjectionHead(width, width, out)
        self.unique_heads = nn.ModuleList([ProjectionHead(unique, width, out)])
        self.unique_heads.append(copy.deepcopy(self.unique_heads[0]))

    def masked_modality(self, view: int) -> int:
        """The modality (1 or 2) whose fusion-path tokens view ``view`` masks."""
        return self.first_masked_modality if view == 0 else 3 - self.first_masked_modality

    def token_masks(self, view: int) -> dict[str, TokenMask]:
        ratio = (self.mask_ratio, 0.0) if self.masked_modality(view) == 1 else (0.0, self.mask_ratio)
        return {MASKED: TokenMask(ratio=ratio, sampling="bernoulli", fill="zero", draws=1)}

    def view_subsets(self, view: int) -> tuple[str, ...]:
        """Training needs only the unique paths besides the masked fusion pass."""
        return UNIQUE_KEYS

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        p = [self.head(view[MASKED][0]) for view in views]  # (B, D) each, one head call per view
        a1 = [self.unique_heads[0](view["u1"]) for view in views]
        a2 = [self.unique_heads[1](view["u2"]) for view in views]
        terms = coral_terms(p, a1, a2, self.temperature, self.weights)
        total = torch.stack(list(terms.values())).sum()
        return LossOutput(total, as_terms(**terms, ssl_acc=retrieval_accuracy(p[0], p[1])))

    def represent(self, emb: EmbeddedView) -> Tensor:
        """``cat(Z, U_1, U_2)``, unmasked, before the heads. Shape: (B, W + 2 * dims["u1"])."""
        return torch.cat([emb["12"], emb["u1"], emb["u2"]], dim=1)
