"""Heads and critics that objectives put on top of a model's embeddings.

- ``ProjectionHead``: ``[Linear - BatchNorm1d - ReLU] x n_hidden - Linear`` (SimCLR / CoMM ``_build_mlp``).
  Plain ``BatchNorm1d``, not SyncBatchNorm (CoMM spec 7.1: SyncBN fails under CPU DDP); an objective
  that wants per-view batch statistics calls the head once per embedding type.
- ``linear_projection``: a bias-free ``Linear`` with N(0, d^-1/2) weights (CLIP's text/image projections).
- ``ConcatCritic``: FactorCL's critic ``T(a, b) = MLP([a; b])``, evaluated on all pairs at once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ProjectionHead(nn.Module):
    """``[Linear - BatchNorm1d - ReLU] x n_hidden`` then ``Linear(hidden, out_dim)``.

    CoMM's head is ``ProjectionHead(512, 512, 256)``; Cross+Self's is ``ProjectionHead(256, 1024, 256)``.
    With ``batch_norm=False`` it is ``Linear - ReLU - ... - Linear`` (FactorCL's per-term heads).

    Shape: input ``(B, in_dim)``, output ``(B, out_dim)``.
    """

    def __init__(
        self, in_dim: int, hidden_dim: int, out_dim: int, n_hidden: int = 2, batch_norm: bool = True
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_dim
        for _ in range(n_hidden):
            layers.append(nn.Linear(previous, hidden_dim, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_dim))
            layers.append(nn.ReLU(inplace=True))
            previous = hidden_dim
        layers.append(nn.Linear(previous, out_dim))
        self.net = nn.Sequential(*layers)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def linear_projection(in_dim: int, out_dim: int) -> nn.Linear:
    """``Linear(in_dim, out_dim, bias=False)`` with weights N(0, in_dim^-1/2) (CoMM spec 3.1)."""
    layer = nn.Linear(in_dim, out_dim, bias=False)
    nn.init.normal_(layer.weight, std=in_dim**-0.5)
    return layer


class ConcatCritic(nn.Module):
    """FactorCL's concat critic ``T(a, b) = MLP([a; b])``: ``(d_a + d_b) -> hidden x layers -> 1``, ReLU.

    ``pairwise`` scores every pair ``(a_i, b_j)`` without building the ``(N, N, d_a + d_b)`` input: the
    first ``Linear`` of a concatenation splits as ``W_a a + W_b b + c``.

    Args:
        dim_a, dim_b: input sizes. hidden: hidden width (512 in FactorCL). layers: hidden layers (2).
    """

    def __init__(self, dim_a: int, dim_b: int, hidden: int = 512, layers: int = 2) -> None:
        super().__init__()
        self.dim_a = dim_a
        self.first = nn.Linear(dim_a + dim_b, hidden)
        self.rest = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, 1)

    def pairwise(self, a: Tensor, b: Tensor, frozen: bool = False) -> Tensor:
        """Scores of all pairs.

        Args:
            a: Shape: (N, d_a). b: Shape: (N, d_b).
            frozen: use detached copies of the critic's parameters, so that gradients reach ``a`` and
                ``b`` but not the critic (FactorCL's CLUB critic is trained by its own step).

        Returns:
            ``scores[i, j] = T(a_i, b_j)``. Shape: (N, N).
        """

        def p(t: Tensor) -> Tensor:
            return t.detach() if frozen else t

        w = p(self.first.weight)
        ha = F.linear(a, w[:, : self.dim_a])  # (N, H)
        hb = F.linear(b, w[:, self.dim_a :], p(self.first.bias))  # (N, H)
        h = torch.relu(ha[:, None, :] + hb[None, :, :])  # (N, N, H)
        for layer in self.rest:
            h = torch.relu(F.linear(h, p(layer.weight), p(layer.bias)))
        return F.linear(h, p(self.out.weight), p(self.out.bias)).squeeze(-1)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Scores of the aligned pairs ``T(a_i, b_i)``. Shape: (N,)."""
        h = torch.relu(self.first(torch.cat([a, b], dim=1)))
        for layer in self.rest:
            h = torch.relu(layer(h))
        return self.out(h).squeeze(-1)


__all__ = ["ConcatCritic", "ProjectionHead", "linear_projection"]
