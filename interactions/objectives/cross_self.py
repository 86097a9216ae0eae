"""Cross+Self (SLIP-like): cross-modal NT-Xent plus a SimCLR term within each modality.

Mu, Kirillov, Wagner, Xie, "SLIP: self-supervision meets language-image pre-training", arXiv 2112.12750,
as run in CoMM (arXiv 2409.07402; spec 3.2):
``L = NT-Xent(h_1 f_1(x_1), h_2 f_2(x_2)) + lam * (NT-Xent(h_1 f_1(x_1'), h_1 f_1(x_1''))
+ NT-Xent(h_2 f_2(x_2'), h_2 f_2(x_2''))) / 2`` with two *separate* heads h_1, h_2
(Linear-BN-ReLU x 2, Linear; BatchNorm1d) and tau = 0.1 for every term.

Choice: the official code draws a third, weakly augmented view for the cross term. The trainer gives two
views per sample, so the cross term is the mean of the cross NT-Xent on view 1 and on view 2 (strongly
augmented views, so its expected value differs from the official weak-view term; lower variance). Each
head call has its own BatchNorm statistics. The probe sees ``cat[f_1(x_1), f_2(x_2)]``, the encoder
features *before* the heads (spec 3.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from interactions.models.heads import ProjectionHead

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_optional_dim, check_positive
from .functional import nt_xent


class CrossSelf(Objective):
    """Cross-modal plus per-modality SimCLR loss on a late-fusion model.

    Args:
        dims: model widths; uses ``dims["1"]`` and ``dims["2"]`` (d_m).
        temperature: NT-Xent tau (0.1).
        lam: weight of the self terms (``ssl_scale`` = 1 in the code); >= 0.
        proj_hidden: hidden width of each head (default 4 d_m, the paper's 256 -> 1024).
        proj_dim: output width of each head (default d_1, the paper's 256).

    Terms logged: ``cross``, ``self_1``, ``self_2``.
    """

    name = "cross_self"
    display_name = "Cross+Self"
    architecture = "late"
    n_views = 2
    subsets = ("1", "2")

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        temperature: float = 0.1,
        lam: float = 1.0,
        proj_hidden: int | None = None,
        proj_dim: int | None = None,
    ) -> None:
        super().__init__(dims)
        self.temperature = float(check_positive("temperature", temperature))
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not 0 <= lam < float("inf"):
            raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
        self.lam = float(lam)
        d1, d2 = self.dims["1"], self.dims["2"]
        out = check_optional_dim("proj_dim", proj_dim, d1)
        self.head_1 = ProjectionHead(d1, check_optional_dim("proj_hidden", proj_hidden, 4 * d1), out)
        self.head_2 = ProjectionHead(d2, check_optional_dim("proj_hidden", proj_hidden, 4 * d2), out)

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        p1 = [self.head_1(v["1"]) for v in views]  # h_1 f_1(x_1'), h_1 f_1(x_1''), (B, proj_dim) each
        p2 = [self.head_2(v["2"]) for v in views]
        t = self.temperature
        cross = (nt_xent(p1[0], p2[0], t) + nt_xent(p1[1], p2[1], t)) / 2
        self_1, self_2 = nt_xent(p1[0], p1[1], t), nt_xent(p2[0], p2[1], t)
        total = cross + self.lam * (self_1 + self_2) / 2
        return LossOutput(total, as_terms(cross=cross, self_1=self_1, self_2=self_2))

    def represent(self, emb: EmbeddedView) -> Tensor:
        """``cat[f_1(x_1), f_2(x_2)]``, before the heads. Shape: (B, d_1 + d_2)."""
        return emb["12"] if "12" in emb else torch.cat([emb["1"], emb["2"]], dim=1)
