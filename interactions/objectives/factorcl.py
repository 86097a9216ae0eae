"""FactorCL (self-supervised): factorised shared and unique information via NCE lower and CLUB upper bounds.

Liang, Deng, Ma, Zou, Morency, Salakhutdinov, "Factorized contrastive learning: going beyond multi-view
redundancy", NeurIPS 2023, arXiv 2306.04539; the SSL variant as run by the CoMM author on Trifeature
(CoMM spec 3.3). With encoders f_1, f_2 (late fusion), view 1 ``(x_1, x_2)`` and view 2 ``(x_1', x_2')``,
z_m = f_m(x_m), z_m' = f_m(x_m'), the encoders and heads minimise

    - I_NCE(h_a z_1, h_a' z_2) + I_CLUB(h_b z_1, h_b' z_2)
    - I_NCE(h_c z_1, h_c z_1') - I_NCE(h_d z_2, h_d z_2')
    - I_NCE([h_e z_1; h_e z_1'], [h_e' z_2; h_e' z_2']) + I_CLUB([h_f z_1; h_f z_1'], [h_f' z_2; h_f' z_2'])

with one head ``Linear(d, d) - ReLU - Linear(d, d)`` per term and side (10 heads) and concat critics
``MLP([a; b])`` (6 critics). The two CLUB critics are trained only by their own step (``auxiliary_loss``:
maximise their InfoNCE bound on detached head outputs, one step per batch); in the main loss they are
applied with detached weights, so the main loss moves the encoders and heads, never the CLUB critics.

Choices:
- The per-term augmentations of the fork (crop 0.5-1 for x, full SimCLR for x_1', SimCLR without crop for
  x_2') are replaced by the trainer's two views; view 1 plays (x_1, x_2), view 2 plays (x_1', x_2').
- ``critic_hidden`` defaults to 16, not FactorCL's 512: the pairwise critics cost O(N^2 * hidden^2) and the
  CPU experiments would be dominated by them. Set ``critic_hidden=512`` for paper fidelity.
- The probe sees the concatenation of the 10 head outputs on (z_1, z_2) (spec 3.3: 5 per modality),
  ``10 * d`` features: h_a, h_b, h_c, h_e, h_f on z_1 and h_a', h_b', h_d, h_e', h_f' on z_2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from interactions.models.heads import ConcatCritic, ProjectionHead

from .base import EmbeddedView, LossOutput, Objective, as_terms, check_positive
from .functional import club_bound, nce_bound

_HEADS_1 = ("a", "b", "c", "e", "f")  # heads applied to modality 1
_HEADS_2 = ("a", "b", "d", "e", "f")  # heads applied to modality 2


class FactorCL(Objective):
    """FactorCL-SSL on a late-fusion model.

    Args:
        dims: model widths; uses ``dims["1"]`` (d_1) and ``dims["2"]`` (d_2).
        critic_hidden: hidden width of every concat critic (FactorCL: 512).
        critic_layers: hidden layers of every concat critic (FactorCL: 2).

    Terms logged (bounds in nats): ``nce_12``, ``club_12``, ``nce_1``, ``nce_2``, ``nce_12_cond``,
    ``club_12_cond``.
    """

    name = "factorcl"
    display_name = "FactorCL"
    architecture = "late"
    n_views = 2
    subsets = ("1", "2")

    def __init__(self, dims: Mapping[str, int], *, critic_hidden: int = 16, critic_layers: int = 2) -> None:
        super().__init__(dims)
        check_positive("critic_hidden", critic_hidden, integer=True)
        check_positive("critic_layers", critic_layers, integer=True)
        d1, d2 = self.dims["1"], self.dims["2"]
        self.heads_1 = nn.ModuleDict(
            {k: ProjectionHead(d1, d1, d1, n_hidden=1, batch_norm=False) for k in _HEADS_1}
        )
        self.heads_2 = nn.ModuleDict(
            {k: ProjectionHead(d2, d2, d2, n_hidden=1, batch_norm=False) for k in _HEADS_2}
        )

        def critic(da: int, db: int) -> ConcatCritic:
            return ConcatCritic(da, db, critic_hidden, critic_layers)

        self.nce_12 = critic(d1, d2)
        self.nce_1 = critic(d1, d1)
        self.nce_2 = critic(d2, d2)
        self.nce_12_cond = critic(2 * d1, 2 * d2)
        self.club_12 = critic(d1, d2)
        self.club_12_cond = critic(2 * d1, 2 * d2)

    def _pairs(self, views: Sequence[EmbeddedView]) -> dict[str, tuple[Tensor, Tensor]]:
        """The (a, b) inputs of each critic term. Shapes: (B, d) or (B, 2d)."""
        z1, z2 = views[0]["1"], views[0]["2"]  # (B, d_1), (B, d_2)
        z1p, z2p = views[1]["1"], views[1]["2"]
        h1, h2 = self.heads_1, self.heads_2
        return {
            "nce_12": (h1["a"](z1), h2["a"](z2)),
            "club_12": (h1["b"](z1), h2["b"](z2)),
            "nce_1": (h1["c"](z1), h1["c"](z1p)),
            "nce_2": (h2["d"](z2), h2["d"](z2p)),
            "nce_12_cond": (
                torch.cat([h1["e"](z1), h1["e"](z1p)], 1),
                torch.cat([h2["e"](z2), h2["e"](z2p)], 1),
            ),
            "club_12_cond": (
                torch.cat([h1["f"](z1), h1["f"](z1p)], 1),
                torch.cat([h2["f"](z2), h2["f"](z2p)], 1),
            ),
        }

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        bounds = {}
        for key, (a, b) in self._pairs(views).items():
            critic: ConcatCritic = getattr(self, key)
            if key.startswith("club"):
                bounds[key] = club_bound(critic.pairwise(a, b, frozen=True))
            else:
                bounds[key] = nce_bound(critic.pairwise(a, b))
        total = bounds["club_12"] + bounds["club_12_cond"] - bounds["nce_12"] - bounds["nce_1"]
        total = total - bounds["nce_2"] - bounds["nce_12_cond"]
        return LossOutput(total, as_terms(**bounds))

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """The two CLUB critics."""
        return [*self.club_12.parameters(), *self.club_12_cond.parameters()]

    def auxiliary_loss(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """``-(I_NCE of the CLUB critics)`` on detached inputs: trains the CLUB critics only."""
        self.check_views(views)
        detached = [{s: v[s].detach() for s in self.subsets} for v in views]
        with torch.no_grad():
            pairs = self._pairs(detached)
        loss = -nce_bound(self.club_12.pairwise(*pairs["club_12"]))
        return loss - nce_bound(self.club_12_cond.pairwise(*pairs["club_12_cond"]))

    def represent(self, emb: EmbeddedView) -> Tensor:
        """The 10 head outputs on (z_1, z_2), concatenated. Shape: (B, 5 d_1 + 5 d_2)."""
        z1, z2 = emb["1"], emb["2"]
        return torch.cat([self.heads_1[k](z1) for k in _HEADS_1] + [self.heads_2[k](z2) for k in _HEADS_2], 1)
