"""Bimodal models: two per-modality encoders and a way to combine them, nothing else.

- ``FusionModel`` (architecture ``"fusion"``, CoMM spec section 2): both modalities become tokens, a
  transformer fuses the tokens of the kept modalities into Z. ``"1"`` and ``"2"`` are Z with the other
  modality's tokens dropped; ``"12"`` is Z with both. All requested subsets run as one batched pass.
- ``LateFusionModel`` (architecture ``"late"``, the baselines of spec section 3): each modality becomes one
  vector; ``"12"`` is their concatenation.
- ``UnimodalTransformerModel`` (architecture ``"late"``, ``late_encoder="transformer"``): the CoMM network
  itself run on one modality at a time (``"1"`` and ``"2"`` are CoMM's masked passes, never a fused one);
  ``"12"`` is their concatenation. Baselines built this way have exactly CoMM's encoders and capacity, so
  their untrained floors are comparable with CoMM's (a pooled MLP's random features expose far more of a
  nuisance-coupled bit to a linear probe than the transformer's CLS output does).

- ``DualPathModel`` (architecture ``"dual"``, COrAL): the fusion model plus one *unique path* per modality
  (its own copy of that modality's tokeniser, a per-token MLP and attention pooling), under the extra keys
  ``"u1"`` and ``"u2"``.

Every model declares the embedding keys it can return (``keys``) and the ``features`` it supports
(``"token_masking"``: ``embed(..., token_masks=..., generator=...)`` returns token-masked passes;
``"dual_path"``: separate unique paths); objectives declare what they require (``Objective.requires``).

All expose ``dims``, ``embed(x1, x2, subsets)`` and ``represent(x1, x2)``. Inputs are float tensors on the
model's device: vectors ``(B, d)`` or images ``(B, 3, S, S)`` in [0, 1]. Train/eval mode and ``no_grad`` are
the caller's business.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from interactions.registry import suggest

from .encoders import (
    ImageEncoder,
    ImageTokenizer,
    MLPEncoder,
    MLPTokenizer,
    image_backbone,
    image_size,
    resolve_encoder,
)
from .fusion import TokenMask, TransformerFusion, apply_keep, draw_keep, masks_for

SUBSETS: tuple[str, ...] = ("1", "2", "12")
#: keys of the dual-path model's unique embeddings, one per modality
UNIQUE_KEYS: tuple[str, ...] = ("u1", "u2")
#: the features a model may declare
FEATURES: tuple[str, ...] = ("token_masking", "dual_path")


class BimodalModel(nn.Module):
    """Base class: ``dims[subset]`` is the width of ``embed(...)[subset]`` for subsets "1", "2", "12"."""

    architecture: str = ""
    #: the embedding keys ``embed`` can return (``dims`` has one width per key)
    keys: tuple[str, ...] = SUBSETS
    #: the optional features this model supports (a subset of ``FEATURES``)
    features: frozenset[str] = frozenset()
    dims: dict[str, int]

    def embed(self, x1: Tensor, x2: Tensor, subsets: Sequence[str] = SUBSETS) -> dict[str, Tensor]:
        """Embeddings of the requested subsets.

        Args:
            x1: Shape: (B, *shape_1). x2: Shape: (B, *shape_2).
            subsets: any of ``keys`` ("1", "2", "12", and the architecture's extra keys).

        Returns:
            ``{subset: Tensor (B, dims[subset])}``.
        """
        raise NotImplementedError

    def represent(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The ``"12"`` features. Shape: (B, dims["12"])."""
        return self.embed(x1, x2, ("12",))["12"]

    def forward(self, x1: Tensor, x2: Tensor, subsets: Sequence[str] = SUBSETS) -> dict[str, Tensor]:
        return self.embed(x1, x2, subsets)


def _check_subsets(subsets: Sequence[str], keys: tuple[str, ...] = SUBSETS) -> tuple[str, ...]:
    if isinstance(subsets, str):
        subsets = (subsets,)
    for s in subsets:
        if s not in keys:
            raise ValueError(f"unknown subset {s!r}{suggest(str(s), keys)}; expected one of {keys}")
    return tuple(dict.fromkeys(subsets))


class FusionModel(BimodalModel):
    """Two tokenisers and a ``TransformerFusion``; every subset's embedding has width ``width``."""

    architecture = "fusion"
    features = frozenset({"token_masking"})

    def __init__(self, tokenizer_1: nn.Module, tokenizer_2: nn.Module, fusion: TransformerFusion) -> None:
        super().__init__()
        self.tokenizer_1, self.tokenizer_2, self.fusion = tokenizer_1, tokenizer_2, fusion
        self.dims = dict.fromkeys(SUBSETS, fusion.width)

    @property
    def n_tokens(self) -> tuple[int, int]:
        """Tokens per modality ``(T_1, T_2)`` (what a token mask's ratio applies to)."""
        return int(self.tokenizer_1.n_tokens), int(self.tokenizer_2.n_tokens)

    def embed(
        self,
        x1: Tensor,
        x2: Tensor,
        subsets: Sequence[str] = SUBSETS,
        token_masks: Mapping[str, TokenMask] | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Embeddings of the requested subsets, plus token-masked passes of the full input.

        Args:
            x1, x2: the modalities. subsets: any of "1", "2", "12".
            token_masks: ``{key: TokenMask}``; each adds ``key`` (not one of ``keys``) to the output with
                the ``draws`` masked full-input embeddings. Shape: (draws, B, W).
            generator: the source of the masks' randomness (required with ``token_masks``).
        """
        subsets = _check_subsets(subsets, SUBSETS)
        tokens = [self.tokenizer_1(x1), self.tokenizer_2(x2)]  # (B, T_m, W) each, computed once
        out = dict(zip(subsets, self.fusion(tokens, masks_for(subsets))))
        return out | self._masked(tokens, token_masks or {}, generator)

    def _masked(
        self, tokens: list[Tensor], token_masks: Mapping[str, TokenMask], generator: torch.Generator | None
    ) -> dict[str, Tensor]:
        out = {}
        batch, lengths = tokens[0].shape[0], [t.shape[1] for t in tokens]
        for key, mask in token_masks.items():
            if key in self.keys:
                raise ValueError(f"token mask key {key!r} collides with an embedding key of {self.keys}")
            if not isinstance(mask, TokenMask):
                raise TypeError(f"token_masks[{key!r}] must be a TokenMask, got {mask!r}")
            keep = draw_keep(mask, batch, lengths, generator)  # type: ignore[arg-type]
            fill = None if mask.fill == "zero" else mask.token
            masked = [apply_keep(t, k, fill) for t, k in zip(tokens, keep)]  # (draws * B, T_m, W) each
            (z,) = self.fusion(masked, [(True, True)])
            out[key] = z.view(mask.draws, batch, -1)
        return out


class LateFusionModel(BimodalModel):
    """Two vector encoders; ``"12"`` is ``cat([f_1(x_1), f_2(x_2)])``."""

    architecture = "late"

    def __init__(self, encoder_1: nn.Module, encoder_2: nn.Module) -> None:
        super().__init__()
        self.encoder_1, self.encoder_2 = encoder_1, encoder_2
        d1, d2 = encoder_1.out_dim, encoder_2.out_dim
        self.dims = {"1": d1, "2": d2, "12": d1 + d2}

    def embed(self, x1: Tensor, x2: Tensor, subsets: Sequence[str] = SUBSETS) -> dict[str, Tensor]:
        subsets = _check_subsets(subsets)
        f1, f2 = self.encoder_1(x1), self.encoder_2(x2)
        full = {"1": f1, "2": f2}
        if "12" in subsets:
            full["12"] = torch.cat([f1, f2], dim=1)
        return {s: full[s] for s in subsets}


class UnimodalTransformerModel(BimodalModel):
    """Late fusion through a ``FusionModel`` that only ever sees one modality per pass.

    ``"1"`` and ``"2"`` are the fusion model's masked embeddings (one batched pass for both); ``"12"`` is
    ``cat([Z_1, Z_2])``: no token of one modality ever attends to the other's.
    """

    architecture = "late"

    def __init__(self, fusion_model: FusionModel) -> None:
        super().__init__()
        self.unimodal = fusion_model
        width = fusion_model.dims["1"]
        self.dims = {"1": width, "2": width, "12": 2 * width}

    def embed(self, x1: Tensor, x2: Tensor, subsets: Sequence[str] = SUBSETS) -> dict[str, Tensor]:
        subsets = _check_subsets(subsets)
        full = self.unimodal.embed(x1, x2, ("1", "2"))
        if "12" in subsets:
            full["12"] = torch.cat([full["1"], full["2"]], dim=1)
        return {s: full[s] for s in subsets}


class AttentionPool(nn.Module):
    """Attention pooling with one learnable query (COrAL's unique path).

    ``weights = softmax_i <t_i, q>`` (unscaled, as in the official code), output ``sum_i weights_i t_i``.
    The query is initialised N(0, 1/d) (a choice: the spec does not give the official init).

    Shape: input ``(B, T, d)``, output ``(B, d)``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query = nn.Parameter(torch.randn(dim) * dim**-0.5)

    def forward(self, tokens: Tensor) -> Tensor:
        weights = (tokens @ self.query).softmax(dim=1)  # (B, T)
        return (weights.unsqueeze(-1) * tokens).sum(dim=1)


class UniquePath(nn.Module):
    """One modality's unique path: its own tokeniser, a per-token MLP, attention pooling (COrAL).

    The per-token MLP is ``Linear(W, W) - LayerNorm - GELU - Linear(W, out_dim)`` (official: 512 -> 256).

    Args:
        tokenizer: this path's tokeniser (a copy of the fusion model's, trained separately).
        width: token width W. out_dim: output width (W // 2 in the official code).
    """

    def __init__(self, tokenizer: nn.Module, width: int, out_dim: int) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.mlp = nn.Sequential(
            nn.Linear(width, width), nn.LayerNorm(width), nn.GELU(), nn.Linear(width, out_dim)
        )
        self.pool = AttentionPool(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Shape: (B, *shape) -> (B, out_dim)."""
        return self.pool(self.mlp(self.tokenizer(x)))


class DualPathModel(FusionModel):
    """COrAL's dual path: the fusion model (keys "1", "2", "12") plus unique paths (keys "u1", "u2").

    The unique paths start as exact copies of the fusion tokenisers (the official code deep-copies the
    encoder and adapter) and are trained separately; they are never token-masked. ``dims["u1"]`` and
    ``dims["u2"]`` are ``W // 2`` (official 256 at W = 512).
    """

    architecture = "dual"
    keys = SUBSETS + UNIQUE_KEYS
    features = frozenset({"token_masking", "dual_path"})

    def __init__(self, tokenizer_1: nn.Module, tokenizer_2: nn.Module, fusion: TransformerFusion) -> None:
        super().__init__(tokenizer_1, tokenizer_2, fusion)
        unique_dim = max(fusion.width // 2, 1)
        self.unique = nn.ModuleList(
            UniquePath(copy.deepcopy(t), fusion.width, unique_dim) for t in (tokenizer_1, tokenizer_2)
        )
        self.dims.update(dict.fromkeys(UNIQUE_KEYS, unique_dim))

    def embed(
        self,
        x1: Tensor,
        x2: Tensor,
        subsets: Sequence[str] = SUBSETS,
        token_masks: Mapping[str, TokenMask] | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """As ``FusionModel.embed``; subsets may also name "u1" and "u2" (Shape: (B, W // 2) each)."""
        subsets = _check_subsets(subsets, self.keys)
        shared = tuple(s for s in subsets if s in SUBSETS)
        out = {}
        if shared or token_masks:
            out = super().embed(x1, x2, shared, token_masks, generator)
        for key, path, x in zip(UNIQUE_KEYS, self.unique, (x1, x2)):
            if key in subsets:
                out[key] = path(x)
        return out


LATE_ENCODERS: tuple[str, ...] = ("pooled", "transformer")
#: architecture -> the embedding keys its models return
ARCHITECTURE_KEYS: dict[str, tuple[str, ...]] = {
    "fusion": FusionModel.keys,
    "late": LateFusionModel.keys,
    "dual": DualPathModel.keys,
}
#: architecture -> the features every model built for it supports
ARCHITECTURE_FEATURES: dict[str, frozenset[str]] = {
    "fusion": FusionModel.features,
    "late": LateFusionModel.features & UnimodalTransformerModel.features,
    "dual": DualPathModel.features,
}
ARCHITECTURES: tuple[str, ...] = tuple(ARCHITECTURE_KEYS)


def _check_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"model parameter {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"model parameter {name} must be >= {minimum}, got {value}")
    return value


def _check_shape(shape: Any, modality: int) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape of modality {modality} must be a tuple of ints, got {shape!r}") from None
    if len(shape) == 1 and shape[0] >= 1:
        return shape
    if len(shape) == 3:
        image_size(shape)
        return shape
    raise ValueError(f"shape of modality {modality} must be (d,) or (3, S, S), got {shape}")


def build_model(
    architecture: str,
    shapes: Sequence[Sequence[int]],
    *,
    encoder: str | Sequence[str] = "auto",
    width: int = 64,
    n_tokens: int = 8,
    depth: int = 1,
    heads: int = 4,
    mlp_ratio: int = 4,
    hidden: int = 128,
    cnn_channels: Sequence[int] = (32, 64, 64),
    grid: int = 4,
    normalize_images: bool = True,
    batched: bool = True,
    late_encoder: str = "pooled",
) -> BimodalModel:
    """Build a bimodal model for inputs of ``shapes``.

    Args:
        architecture: ``"fusion"`` (CoMM), ``"late"`` (baselines) or ``"dual"`` (COrAL: fusion + unique
            paths; takes the fusion model's parameters).
        shapes: ``(shape_1, shape_2)``, each ``(d,)`` for vectors or ``(3, S, S)`` for images.
        encoder: ``"auto"`` (mlp for vectors, cnn for images), ``"mlp"``, ``"cnn"``, ``"alexnet"``, or a
            pair of these, one per modality.
        width: token width and embedding size (fusion), or each modality's vector size (late).
        n_tokens: tokens per vector modality (fusion; images give ``grid**2`` or 36 AlexNet tokens).
        depth, heads, mlp_ratio: fusion transformer (CoMM: 1, 8, 4 at width 512).
        hidden: hidden width of the MLP encoders.
        cnn_channels: output channels of the strided convs of the ``"cnn"`` backbone.
        grid: side of the ``"cnn"`` feature map after adaptive pooling.
        normalize_images: standardise images with the ImageNet mean/std inside the encoder.
        batched: run all masks in one batched pass (fusion); False = one pass per mask (reference).
        late_encoder: for ``architecture="late"``: ``"pooled"`` (each modality pooled into one vector by an
            MLP or a CNN with a linear head, as the paper's AlexNet baselines) or ``"transformer"`` (CoMM's
            own tokenisers and fusion transformer run on one modality at a time, see
            ``UnimodalTransformerModel``). Ignored for ``"fusion"``.

    Returns:
        A ``FusionModel``, ``DualPathModel``, ``LateFusionModel`` or ``UnimodalTransformerModel``.

    Raises:
        ValueError / TypeError: naming the offending parameter.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}{suggest(str(architecture), ARCHITECTURES)}; "
            f"expected one of {ARCHITECTURES}"
        )
    if isinstance(shapes, (str, bytes)) or len(shapes) != 2:
        raise ValueError(f"shapes must be a pair (shape_1, shape_2), got {shapes!r}")
    if late_encoder not in LATE_ENCODERS:
        raise ValueError(
            f"unknown late_encoder {late_encoder!r}{suggest(str(late_encoder), LATE_ENCODERS)}; "
            f"expected one of {LATE_ENCODERS}"
        )
    shapes = [_check_shape(s, m + 1) for m, s in enumerate(shapes)]
    if architecture == "late" and late_encoder == "transformer":
        params = dict(encoder=encoder, width=width, n_tokens=n_tokens, depth=depth, heads=heads)
        params.update(mlp_ratio=mlp_ratio, hidden=hidden, cnn_channels=cnn_channels, grid=grid)
        params.update(normalize_images=normalize_images, batched=batched)
        fusion_model = build_model("fusion", shapes, **params)
        assert isinstance(fusion_model, FusionModel)
        return UnimodalTransformerModel(fusion_model)
    encoders = [encoder, encoder] if isinstance(encoder, str) else list(encoder)
    if len(encoders) != 2 or not all(isinstance(e, str) for e in encoders):
        raise ValueError(f"encoder must be a name or a pair of names, got {encoder!r}")
    names = [resolve_encoder(e, s, m + 1) for m, (e, s) in enumerate(zip(encoders, shapes))]
    for key, value in dict(width=width, n_tokens=n_tokens, depth=depth, heads=heads).items():
        _check_int(key, value)
    _check_int("mlp_ratio", mlp_ratio)
    _check_int("hidden", hidden)
    _check_int("grid", grid)
    channels = tuple(_check_int("cnn_channels", c) for c in cnn_channels)
    if not channels:
        raise ValueError("model parameter cnn_channels must list at least one channel count")
    tokens = architecture in ("fusion", "dual")
    if tokens and width % heads:
        raise ValueError(f"model parameter width={width} must be divisible by heads={heads}")
    if tokens and any(len(s) == 3 for s in shapes) and width % 4:
        raise ValueError(f"model parameter width={width} must be divisible by 4 (2-D sin-cos positions)")

    modules = []
    for name, shape in zip(names, shapes):
        if name == "mlp":
            modules.append(
                MLPTokenizer(shape[0], hidden, n_tokens, width)
                if tokens
                else MLPEncoder(shape[0], hidden, width)
            )
        else:
            backbone = image_backbone(name, channels, grid)
            cls = ImageTokenizer if tokens else ImageEncoder
            modules.append(cls(backbone, image_size(shape), width, normalize=normalize_images))
    if tokens:
        fusion = TransformerFusion(width, depth, heads, mlp_ratio, batched=bool(batched))
        model_cls = FusionModel if architecture == "fusion" else DualPathModel
        return model_cls(modules[0], modules[1], fusion)
    return LateFusionModel(modules[0], modules[1])


__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_FEATURES",
    "ARCHITECTURE_KEYS",
    "FEATURES",
    "LATE_ENCODERS",
    "SUBSETS",
    "UNIQUE_KEYS",
    "AttentionPool",
    "BimodalModel",
    "DualPathModel",
    "FusionModel",
    "LateFusionModel",
    "UniquePath",
    "UnimodalTransformerModel",
    "build_model",
]
