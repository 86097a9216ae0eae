"""CoMM: align the fused representations of two augmented views, and each masked one with the other full one.

Dufumier, Castillo-Navarro, Tuia, Thiran, "What to align in multimodal contrastive learning?", ICLR 2025,
arXiv 2409.07402. Implemented as the official code's ``CoMMLoss`` (CoMM spec sections 1.3-1.4).

Choices where the paper and the code differ (spec 7.10); we follow the **code** throughout:

- The unimodal embeddings Z'_i, Z''_i are computed from the *augmented* views (the paper's figure draws
  raw inputs).
- Z'_i is paired with Z'' only and Z''_i with Z' only (not with both Z' and Z'' of its own view).
- The total is the **mean** over the n + 1 terms (the paper sums); with ``weights`` it is
  ``sum_i w_i L_i / (n + 1)``, still divided by n + 1 and not by ``sum(w)``.
- No DDP all-gather: negatives are the other samples of the local batch (single-process training).
- Head: one shared ``ProjectionHead`` (Linear-BN-ReLU x 2, then Linear; BatchNorm1d, not SyncBN, spec 7.1)
  called once per embedding type, so each of the 6 embedding types has its own batch statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor

from interactions.models.heads import ProjectionHead

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_optional_dim, check_positive
from .functional import comm_terms, retrieval_accuracy, weighted_mean


class CoMM(Objective):
    """CoMM loss over the masks {1}, {2}, {1, 2} of two augmented views.

    Args:
        dims: model embedding widths; uses ``dims["12"]`` (= W, the same for every subset of the fusion
            model).
        temperature: NT-Xent tau (0.1 in the paper).
        proj_hidden: hidden width of the head (default W; paper 512 at W = 512).
        proj_dim: output width of the head (default W // 2; paper 256 at W = 512).
        weights: per-term weights ``(w_1, w_2, w_full)`` (the paper's ablation uses (0, 0, 1)); None = all 1.

    Terms logged: ``loss_1``, ``loss_2``, ``loss_12`` (the per-term losses L_i, unweighted) and ``ssl_acc``
    (top-1 retrieval of Z'' from Z').
    """

    name = "comm"
    display_name = "CoMM"
    architecture = "fusion"
    n_views = 2
    subsets = ("1", "2", "12")

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        temperature: float = 0.1,
        proj_hidden: int | None = None,
        proj_dim: int | None = None,
        weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__(dims)
        width = self.dims["12"]
        if len({self.dims[s] for s in self.subsets}) != 1:
            raise ValueError(f"CoMM needs one width for subsets 1, 2, 12 (a fusion model), got dims={dims}")
        self.temperature = float(check_positive("temperature", temperature))
        hidden = check_optional_dim("proj_hidden", proj_hidden, width)
        out = check_optional_dim("proj_dim", proj_dim, max(width // 2, 1))
        self.weights = _check_weights(weights, len(self.subsets))
        self.head = ProjectionHead(width, hidden, out)

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        # one head call per embedding type: own BatchNorm statistics (spec 1.3 step 4)
        first = [self.head(views[0][s]) for s in self.subsets]  # [Z'_1, Z'_2, Z'], (B, proj_dim) each
        second = [self.head(views[1][s]) for s in self.subsets]  # [Z''_1, Z''_2, Z'']
        terms = comm_terms(first, second, self.temperature)
        total = weighted_mean(terms, self.weights)
        named = {f"loss_{s}": t for s, t in zip(self.subsets, terms)}
        return LossOutput(total, as_terms(**named, ssl_acc=retrieval_accuracy(first[-1], second[-1])))


def _check_weights(weights: Sequence[float] | None, n: int) -> tuple[float, ...] | None:
    if weights is None:
        return None
    if isinstance(weights, (str, bytes)) or len(weights) != n:
        raise ValueError(f"weights must list {n} numbers (w_1, w_2, w_full), got {weights!r}")
    out = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w >= 0 or w == float("inf"):
            raise ValueError(f"weights must be finite numbers >= 0, got {weights!r}")
        out.append(float(w))
    if not any(out):
        raise ValueError(f"weights must not all be 0 (the loss would be constant), got {weights!r}")
    return tuple(out)
