"""SimCLR on the fused input: NT-Xent between the "12" embeddings of two augmented views.

Chen, Kornblith, Norouzi, Hinton, "A simple framework for contrastive learning of visual
representations", arXiv 2002.05709. In CoMM (arXiv 2409.07402) SimCLR appears on MM-IMDb only; here it
is CoMM's fusion model trained with CoMM's full-mask term alone, which isolates what the unimodal terms
add. Same head as CoMM (Linear-BN-ReLU x 2, Linear; BatchNorm1d), tau = 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor

from interactions.models.heads import ProjectionHead

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_optional_dim, check_positive
from .functional import nt_xent, retrieval_accuracy


class SimCLR(Objective):
    """NT-Xent(g(Z'), g(Z'')) on the fused embeddings of two views.

    Args:
        dims: model widths; uses ``dims["12"]`` (= W).
        temperature: NT-Xent tau (0.1).
        proj_hidden: hidden width of the head (default W). proj_dim: head output (default W // 2).

    Terms logged: ``nt_xent``, ``ssl_acc``.
    """

    name = "simclr"
    display_name = "SimCLR"
    architecture = "fusion"
    n_views = 2
    subsets = ("12",)

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        temperature: float = 0.1,
        proj_hidden: int | None = None,
        proj_dim: int | None = None,
    ) -> None:
        super().__init__(dims)
        width = self.dims["12"]
        self.temperature = float(check_positive("temperature", temperature))
        hidden = check_optional_dim("proj_hidden", proj_hidden, width)
        out = check_optional_dim("proj_dim", proj_dim, max(width // 2, 1))
        self.head = ProjectionHead(width, hidden, out)

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        a, b = self.head(views[0]["12"]), self.head(views[1]["12"])  # (B, proj_dim) each
        loss = nt_xent(a, b, self.temperature)
        return LossOutput(loss, as_terms(nt_xent=loss, ssl_acc=retrieval_accuracy(a, b)))
