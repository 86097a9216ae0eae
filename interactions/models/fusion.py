"""CoMM's fusion transformer: [CLS] + the kept modalities' tokens -> pre-LN blocks -> LayerNorm -> CLS.

CoMM spec section 2 (``FusionTransformer``, fusion "concat", pool "cls"): residual pre-LayerNorm
self-attention blocks with an MLP of ratio 4 and QuickGELU, CLIP-style initialisation, a learnable CLS
token initialised N(0, 1), a final LayerNorm; the CLS output is Z. A modality is *masked* by **dropping**
its tokens from the sequence (no [MASK] token).

Two code paths compute the same numbers:

- ``batched=True`` (default): all masks of a batch in **one** computation. Every mask's sequence is the
  full ``[CLS, tokens_1, tokens_2]`` with the dropped modality's tokens excluded by a key-padding mask, and
  the ``M`` masks are stacked along the batch axis (``B * M`` rows, sample-major). Two exact savings on top:
  the first block's LayerNorm, QKV projection and attention scores depend only on the shared input tokens,
  so they are computed once and only the masked softmax differs per mask; and only the CLS token is read
  out, so the last block computes its query, output projection and MLP for the CLS position only.
- ``batched=False``: one full transformer pass per mask, as in the official code (``MMFusion.forward``).
  It is the reference for the equivalence test and the benchmark baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)``, CLIP's GELU approximation (Radford et al. 2021)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``, MLP ``width -> ratio*width -> width``.

    Attention uses ``F.scaled_dot_product_attention`` with an optional boolean key mask (True = attend).
    """

    def __init__(self, width: int, heads: int, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.width, self.heads = width, heads
        self.ln_1 = nn.LayerNorm(width)
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, mlp_ratio * width)
        self.act = QuickGELU()
        self.c_proj = nn.Linear(mlp_ratio * width, width)

    def qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Token-wise ``in_proj(LN(x))`` split into heads. Shape: (N, L, W) -> 3 x (N, H, L, W / H)."""
        n, length, _ = x.shape
        qkv = self.in_proj(self.ln_1(x)).view(n, length, 3, self.heads, self.width // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def finish(self, x: Tensor, attn: Tensor) -> Tensor:
        """Residual output projection and MLP. Shapes: x (N, Lq, W), attn (N, H, Lq, W / H) -> (N, Lq, W)."""
        n, _, lq, _ = attn.shape
        x = x + self.out_proj(attn.transpose(1, 2).reshape(n, lq, self.width))
        return x + self.c_proj(self.act(self.c_fc(self.ln_2(x))))

    def forward(self, x: Tensor, valid: Tensor | None = None, cls_only: bool = False) -> Tensor:
        """One block.

        Args:
            x: Shape: (N, L, W).
            valid: key mask, True where a token takes part. Shape: (N, L), or None (all tokens).
            cls_only: compute the output of position 0 only.

        Returns:
            Shape: (N, L, W), or (N, 1, W) with ``cls_only``.
        """
        q, k, v = self.qkv(x)
        if cls_only:
            q, x = q[:, :, :1], x[:, :1]
        mask = None if valid is None else valid[:, None, None, :]  # (N, 1, 1, L), broadcast over heads
        return self.finish(x, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def masks_for(subsets: Sequence[str]) -> list[tuple[bool, bool]]:
    """Modality masks of the subsets ``"1"``, ``"2"``, ``"12"`` (True = the modality is kept)."""
    table = {"1": (True, False), "2": (False, True), "12": (True, True)}
    out = []
    for s in subsets:
        if s not in table:
            raise ValueError(f"unknown subset {s!r}; expected one of {tuple(table)}")
        out.append(table[s])
    return out


class TransformerFusion(nn.Module):
    """Fusion of modality token lists into one vector per (sample, mask).

    Args:
        width: token and output size W. depth: number of blocks. heads: attention heads (divide W).
        mlp_ratio: MLP hidden size / W (4 in CoMM).
        batched: default code path of ``forward`` (see the module docstring).
    """

    def __init__(self, width: int, depth: int = 1, heads: int = 4, mlp_ratio: int = 4, batched: bool = True):
        super().__init__()
        if width % heads:
            raise ValueError(f"width={width} must be divisible by heads={heads}")
        self.width, self.depth, self.batched = width, depth, batched
        self.cls_token = nn.Parameter(torch.randn(1, 1, width))  # N(0, 1) as in the spec
        self.blocks = nn.ModuleList(ResidualAttentionBlock(width, heads, mlp_ratio) for _ in range(depth))
        self.ln_post = nn.LayerNorm(width)
        self._clip_init()

    def _clip_init(self) -> None:
        """CLIP init: in_proj std W^-1/2; out_proj, c_proj std W^-1/2 (2L)^-1/2; c_fc std (2W)^-1/2."""
        attn_std = self.width**-0.5
        proj_std = attn_std * (2 * self.depth) ** -0.5
        fc_std = (2 * self.width) ** -0.5
        for block in self.blocks:
            nn.init.normal_(block.in_proj.weight, std=attn_std)
            nn.init.zeros_(block.in_proj.bias)
            nn.init.normal_(block.out_proj.weight, std=proj_std)
            nn.init.zeros_(block.out_proj.bias)
            nn.init.normal_(block.c_fc.weight, std=fc_std)
            nn.init.normal_(block.c_proj.weight, std=proj_std)

    def forward(
        self, tokens: Sequence[Tensor], masks: Sequence[Sequence[bool]], batched: bool | None = None
    ) -> list[Tensor]:
        """Fuse ``tokens`` once per mask.

        Args:
            tokens: one tensor per modality. Shape: (B, T_m, W) each.
            masks: one boolean tuple per output, ``masks[j][m]`` True when modality m is kept.
            batched: override ``self.batched``.

        Returns:
            One CLS embedding per mask, after the final LayerNorm. Shape: (B, W) each.
        """
        for j, mask in enumerate(masks):
            if len(mask) != len(tokens) or not any(mask):
                raise ValueError(
                    f"mask {j} = {tuple(mask)} must have {len(tokens)} entries, at least one True"
                )
        if not masks:
            return []
        use_batched = self.batched if batched is None else batched
        return self._batched(tokens, masks) if use_batched else self._per_mask(tokens, masks)

    def _per_mask(self, tokens: Sequence[Tensor], masks: Sequence[Sequence[bool]]) -> list[Tensor]:
        batch = tokens[0].shape[0]
        cls = self.cls_token.expand(batch, 1, self.width)
        out = []
        for mask in masks:
            x = torch.cat([cls] + [t for t, keep in zip(tokens, mask) if keep], dim=1)
            for block in self.blocks:
                x = block(x)
            out.append(self.ln_post(x[:, 0]))
        return out

    def _batched(self, tokens: Sequence[Tensor], masks: Sequence[Sequence[bool]]) -> list[Tensor]:
        batch = tokens[0].shape[0]
        n_masks = len(masks)
        base = torch.cat([self.cls_token.expand(batch, 1, self.width), *tokens], dim=1)  # (B, P, W)
        length = base.shape[1]
        valid = _key_masks([t.shape[1] for t in tokens], masks, base.device)  # (M, P)
        # first block: LN and QKV are token-wise and the input tokens are the same for every mask, so
        # the scores are computed once; each mask only changes which keys the softmax sees.
        first = self.blocks[0]
        q, k, v = first.qkv(base)  # (B, H, P, hd) each
        n_queries = 1 if self.depth == 1 else length
        hidden = ~valid[None, :, None, None, :]  # (1, M, 1, 1, P)
        if n_queries == 1:  # CLS query only: broadcast products beat many tiny bmm calls on CPU
            scores = (q[:, :, :1] * k).sum(-1, keepdim=True).transpose(-2, -1)  # (B, H, 1, P)
            weights = (
                (scores * q.shape[-1] ** -0.5).unsqueeze(1).masked_fill(hidden, float("-inf")).softmax(-1)
            )
            attn = (weights.transpose(-2, -1) * v.unsqueeze(1)).sum(-2, keepdim=True)  # (B, M, H, 1, hd)
        else:
            scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5  # (B, H, P, P)
            attn = scores.unsqueeze(1).masked_fill(hidden, float("-inf")).softmax(-1) @ v.unsqueeze(1)
        x = base[:, None, :n_queries].expand(batch, n_masks, n_queries, self.width)
        x = first.finish(x.reshape(batch * n_masks, n_queries, self.width), attn.flatten(0, 1))
        key_valid = valid.repeat(batch, 1)  # (B*M, P); row b*M + j = sample b, mask j
        for i in range(1, self.depth):
            x = self.blocks[i](x, key_valid, cls_only=i == self.depth - 1)
        z = self.ln_post(x[:, 0])  # (B*M, W)
        return list(z.view(batch, n_masks, self.width).unbind(1))


def _key_masks(lengths: Sequence[int], masks: Sequence[Sequence[bool]], device: torch.device) -> Tensor:
    """Which positions of ``[CLS, tokens_1, tokens_2, ...]`` each mask keeps. Shape: (M, 1 + sum T_m)."""
    rows = [[True] + [keep for n, keep in zip(lengths, mask) for _ in range(n)] for mask in masks]
    return torch.tensor(rows, dtype=torch.bool, device=device)


# ------------------------------------------------------------------------------------ token-level masks
#: how a token mask chooses the kept tokens of a modality
SAMPLINGS: tuple[str, ...] = ("exact", "bernoulli")
#: what replaces a masked token
FILLS: tuple[str, ...] = ("token", "zero")


@dataclass(frozen=True, eq=False)
class TokenMask:
    """A request for ``draws`` token-masked passes of the full input (both modalities, subset ``"12"``).

    Masking happens after tokenisation, so a masked token also loses its positional information (as in
    InfMasking's and COrAL's official code). Masked tokens are *replaced*, never dropped: every sequence
    keeps its length and no key-padding mask is needed.

    Attributes:
        ratio: ``(r_1, r_2)``, the masked fraction of each modality's tokens, each in [0, 1); 0 leaves that
            modality untouched.
        sampling: ``"exact"`` keeps exactly ``int(T_m * (1 - r_m))`` tokens of modality m, chosen by a random
            permutation per (draw, sample, modality) (InfMasking); ``"bernoulli"`` keeps each token
            independently with probability ``1 - r_m``, so the count varies (COrAL).
        fill: ``"token"`` replaces masked tokens by ``token`` (a learnable mask token the caller owns);
            ``"zero"`` multiplies them by 0 (COrAL).
        draws: independent masked passes per sample (InfMasking's ``num_mask``).
        token: the mask token, shape ``(W,)``, when ``fill == "token"``.
    """

    ratio: tuple[float, float]
    sampling: str = "exact"
    fill: str = "zero"
    draws: int = 1
    token: Tensor | None = None

    def __post_init__(self) -> None:
        ratio = self.ratio
        if isinstance(ratio, (str, bytes)) or not isinstance(ratio, Sequence) or len(ratio) != 2:
            raise ValueError(f"TokenMask.ratio must be a pair (r_1, r_2), got {ratio!r}")
        for r in ratio:
            if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r < 1:
                raise ValueError(f"TokenMask.ratio entries must be numbers in [0, 1), got {ratio!r}")
        object.__setattr__(self, "ratio", (float(ratio[0]), float(ratio[1])))
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"TokenMask.sampling must be one of {SAMPLINGS}, got {self.sampling!r}")
        if self.fill not in FILLS:
            raise ValueError(f"TokenMask.fill must be one of {FILLS}, got {self.fill!r}")
        if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
            raise ValueError(f"TokenMask.draws must be an int >= 1, got {self.draws!r}")
        if (self.fill == "token") != (self.token is not None):
            raise ValueError("TokenMask.token must be given exactly when fill == 'token'")

    def kept(self, n_tokens: int, modality: int) -> int:
        """Tokens of modality ``modality`` (0 or 1) kept by ``"exact"`` sampling: ``int(T (1 - r))``."""
        return int(n_tokens * (1 - self.ratio[modality]))

    def check_lengths(self, lengths: Sequence[int]) -> None:
        """``ValueError`` when ``"exact"`` sampling would keep no token of a masked modality."""
        if self.sampling != "exact":
            return
        for m, n in enumerate(lengths):
            if self.ratio[m] > 0 and self.kept(n, m) < 1:
                raise ValueError(
                    f"mask ratio {self.ratio[m]} keeps int({n} * (1 - {self.ratio[m]})) = 0 of the {n} "
                    f"tokens of modality {m + 1}; lower the ratio below {1 - 1 / n:.3g} or use more tokens "
                    "(model.n_tokens)"
                )


def draw_keep(
    mask: TokenMask, batch: int, lengths: Sequence[int], generator: torch.Generator
) -> list[Tensor]:
    """Which tokens each masked pass keeps, drawn from ``generator`` only.

    Args:
        mask: the request. batch: B. lengths: ``(T_1, T_2)``.
        generator: the source of randomness (the Trainer's per-epoch seeded generator).

    Returns:
        One boolean tensor per modality, True = kept. Shape: (draws, B, T_m) each, on the generator's
        device.
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"token masks need a torch.Generator (the Trainer's), got {generator!r}")
    mask.check_lengths(lengths)
    keep = []
    for m, n in enumerate(lengths):
        u = torch.rand(mask.draws, batch, n, generator=generator, device=generator.device)
        if mask.ratio[m] == 0:
            keep.append(torch.ones_like(u, dtype=torch.bool))
        elif mask.sampling == "bernoulli":
            keep.append(u > mask.ratio[m])
        else:  # the ranks of i.i.d. uniforms are a uniform random permutation
            keep.append(u.argsort(dim=-1).argsort(dim=-1) < mask.kept(n, m))
    return keep


def apply_keep(tokens: Tensor, keep: Tensor, fill: Tensor | None) -> Tensor:
    """Replace the tokens that ``keep`` drops by ``fill`` (a ``(W,)`` token) or by 0 (``fill=None``).

    Shapes: tokens (B, T, W), keep (n, B, T) -> (n * B, T, W), draw-major (row ``t * B + b``).
    """
    keep = keep.to(tokens.device)[..., None]  # (n, B, T, 1)
    other = torch.zeros((), dtype=tokens.dtype, device=tokens.device) if fill is None else fill.to(tokens)
    return torch.where(keep, tokens.unsqueeze(0), other).flatten(0, 1)


__all__ = [
    "FILLS",
    "SAMPLINGS",
    "QuickGELU",
    "ResidualAttentionBlock",
    "TokenMask",
    "TransformerFusion",
    "apply_keep",
    "draw_keep",
    "masks_for",
]
