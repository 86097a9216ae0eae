"""Per-modality encoders: vectors or images in, tokens (for the fusion transformer) or vectors out.

Three backbones, picked by name (``ENCODERS``):

- ``"mlp"`` for vector modalities (shape ``(d,)``), the CPU default for the ``xor`` and ``gaussian``
  generators;
- ``"cnn"``, a small strided CNN for CPU-sized images (32-64 px), ending in an adaptive average pool to a
  ``grid x grid`` feature map;
- ``"alexnet"``, the convolutional stack of torchvision's AlexNet re-implemented without torchvision and
  **without** the unused classifier layer (CoMM spec section 2 and section 7.8): 3x224x224 -> 256x6x6.

Two ways to use them:

- ``MLPTokenizer`` / ``ImageTokenizer`` produce tokens ``(B, T, width)`` for CoMM's fusion transformer.
  Image feature maps go through a 1x1-conv input adapter to ``width`` and get a **fixed** 2-D sin-cos
  positional embedding (MoCo v3 form, temperature 1e4; spec section 2: no modality/type embedding, both
  modalities share it). Vector tokens are the ``n_tokens`` slices of the tokeniser's last ``Linear``; that
  layer is the input adapter and its bias is, per token, exactly a *learnable* positional embedding, so no
  separate one is added.
- ``MLPEncoder`` / ``ImageEncoder`` produce one vector ``(B, width)`` per sample for the late-fusion
  baselines (spec 3.1: AlexNet features, flatten to 9216, ``Linear -> width``).

Images enter as floats in [0, 1]; image encoders standardise them with the ImageNet mean/std inside the
module (spec 4.4 normalises after ``ToTensor``), so that augmentations stay in [0, 1].

The image backbones keep their convolutions in the channels-last memory layout (weights and activations):
the same function, but oneDNN's fast path on CPUs: 1.13x / 1.19x per whole ``trifeature_cpu`` Cross / CoMM
training step on one core (``benchmarks/bench_training.py --layout``). ``channels_last=False`` gives the
default layout (for that comparison).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

#: backbone names accepted by ``build_model(encoder=...)``; ``"auto"`` picks mlp or cnn from the shape.
ENCODERS: tuple[str, ...] = ("auto", "mlp", "cnn", "alexnet")

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def sincos_2d(height: int, width: int, dim: int, temperature: float = 1e4) -> Tensor:
    """Fixed 2-D sine-cosine positional embedding of a ``height x width`` grid (MoCo v3, Chen et al. 2021).

    The first half of the channels encodes the row, the second half the column, as the official adapter
    (MultiMAE's ``build_2d_sincos_posemb`` used by CoMM: ``meshgrid(arange(w), arange(h))`` in "ij" order
    puts the row index first); each half is ``[sin(p * w_k), cos(p * w_k)]`` with
    ``w_k = temperature ** (-k / (dim / 4))``.

    Args:
        height: grid rows. width: grid columns. dim: embedding size, a multiple of 4.
        temperature: frequency base.

    Returns:
        Shape ``(height * width, dim)``, rows in row-major grid order.
    """
    if dim % 4:
        raise ValueError(f"sin-cos positional embedding needs dim divisible by 4, got dim={dim}")
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64), indexing="ij"
    )
    quarter = dim // 4
    omega = 1.0 / temperature ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    out_c = cols.reshape(-1, 1) * omega  # (h*w, dim/4)
    out_r = rows.reshape(-1, 1) * omega
    emb = torch.cat([out_r.sin(), out_r.cos(), out_c.sin(), out_c.cos()], dim=1)
    return emb.float()


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class MLPEncoder(nn.Module):
    """``Linear(d, hidden) - ReLU - Linear(hidden, out_dim)``: one vector per sample.

    Shape: input ``(B, d)``, output ``(B, out_dim)``.
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class MLPTokenizer(nn.Module):
    """A vector modality as ``n_tokens`` tokens: ``MLPEncoder(d, hidden, n_tokens * width)`` reshaped.

    The last ``Linear`` is the input adapter; its bias gives each token its own learnable offset, which is
    a learnable positional embedding, so none is added on top.

    Shape: input ``(B, d)``, output ``(B, n_tokens, width)``.
    """

    def __init__(self, in_dim: int, hidden: int, n_tokens: int, width: int) -> None:
        super().__init__()
        self.mlp = MLPEncoder(in_dim, hidden, n_tokens * width)
        self.n_tokens, self.width = n_tokens, width

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x).view(x.shape[0], self.n_tokens, self.width)


class SmallCNN(nn.Module):
    """Strided 3x3 convolutions with ReLU, then an adaptive average pool to ``grid x grid``.

    For 32-64 px images: each entry of ``channels`` adds one ``Conv(3x3, stride 2, pad 1) - ReLU``.

    Shape: input ``(B, 3, S, S)``, output ``(B, channels[-1], grid, grid)``.
    """

    def __init__(
        self, channels: tuple[int, ...] = (32, 64, 64), grid: int = 4, *, channels_last: bool = True
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 3
        for c in channels:
            layers += [nn.Conv2d(previous, c, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
            previous = c
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.channels, self.grid = channels, grid
        set_layout(self, channels_last)

    def output_shape(self, size: int) -> tuple[int, int, int]:
        """``(C, h, w)`` for a ``size x size`` input; ``ValueError`` if the convs shrink it below ``grid``."""
        side = size
        for _ in self.channels:
            side = _conv_out(side, 3, 2, 1)
        if side < self.grid:
            raise ValueError(
                f"cnn encoder: {size}px images shrink to {side}x{side} after {len(self.channels)} strided "
                f"convs, below grid={self.grid}; use fewer cnn_channels or a smaller grid"
            )
        return self.channels[-1], self.grid, self.grid

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.features(x.contiguous(memory_format=self.layout)))


class AlexNetFeatures(nn.Module):
    """The conv stack of AlexNet (Krizhevsky et al. 2012, torchvision layout), no classifier.

    conv 11x11/4 (64) - pool - conv 5x5 (192) - pool - conv 3x3 (384) - conv 3x3 (256) - conv 3x3 (256) -
    pool, ReLU after each conv, 3x3/2 max pools. About 2.47 M parameters.

    Shape: input ``(B, 3, 224, 224)``, output ``(B, 256, 6, 6)``.
    """

    _LAYERS = ((64, 11, 4, 2, True), (192, 5, 1, 2, True), (384, 3, 1, 1, False), (256, 3, 1, 1, False))

    def __init__(self, *, channels_last: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 3
        for c, k, s, p, pool in self._LAYERS + ((256, 3, 1, 1, True),):
            layers += [nn.Conv2d(previous, c, k, stride=s, padding=p), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(3, stride=2))
            previous = c
        self.features = nn.Sequential(*layers)
        set_layout(self, channels_last)

    def output_shape(self, size: int) -> tuple[int, int, int]:
        """``(256, h, w)`` for a ``size x size`` input; ``ValueError`` if the stack cannot process it."""
        side = size
        for _, k, s, p, pool in self._LAYERS + ((256, 3, 1, 1, True),):
            side = _conv_out(side, k, s, p)
            if pool:
                side = _conv_out(side, 3, 2, 0)
            if side < 1:
                raise ValueError(f"alexnet encoder needs larger images (224 px in the paper), got {size} px")
        return 256, side, side

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x.contiguous(memory_format=self.layout))


def set_layout(backbone: nn.Module, channels_last: bool) -> None:
    """Put an image backbone's weights in the chosen memory layout, in place, and record it as
    ``backbone.layout``, the layout its ``forward`` converts inputs to."""
    if not isinstance(channels_last, bool):
        raise TypeError(f"channels_last must be a bool, got {channels_last!r}")
    backbone.layout = torch.channels_last if channels_last else torch.contiguous_format
    backbone.to(memory_format=backbone.layout)


def image_backbone(name: str, cnn_channels: tuple[int, ...], grid: int) -> nn.Module:
    """``SmallCNN`` for ``"cnn"``, ``AlexNetFeatures`` for ``"alexnet"``."""
    if name == "cnn":
        return SmallCNN(cnn_channels, grid)
    if name == "alexnet":
        return AlexNetFeatures()
    raise ValueError(f"unknown image backbone {name!r}; expected 'cnn' or 'alexnet'")


class _Standardize(nn.Module):
    """``(x - ImageNet mean) / ImageNet std`` per channel; fixed buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class ImageTokenizer(nn.Module):
    """Backbone feature map -> 1x1-conv adapter to ``width`` -> tokens + fixed 2-D sin-cos positions.

    Spec section 2 ("PatchedInputAdapter", patch 1): 256x6x6 AlexNet features become 36 tokens of 512.

    Shape: input ``(B, 3, S, S)`` floats in [0, 1], output ``(B, h * w, width)``.
    """

    def __init__(self, backbone: nn.Module, size: int, width: int, normalize: bool = True) -> None:
        super().__init__()
        channels, h, w = backbone.output_shape(size)
        self.standardize = _Standardize() if normalize else nn.Identity()
        self.backbone = backbone
        self.adapter = nn.Conv2d(channels, width, kernel_size=1)
        self.register_buffer("pos_embed", sincos_2d(h, w, width), persistent=False)
        self.n_tokens, self.width = h * w, width

    def forward(self, x: Tensor) -> Tensor:
        fmap = self.adapter(self.backbone(self.standardize(x)))  # (B, width, h, w)
        return fmap.flatten(2).transpose(1, 2) + self.pos_embed  # (B, h*w, width)


class ImageEncoder(nn.Module):
    """Backbone feature map -> flatten -> ``Linear`` to ``out_dim`` (spec 3.1, 9216 -> 256 for AlexNet).

    Shape: input ``(B, 3, S, S)`` floats in [0, 1], output ``(B, out_dim)``.
    """

    def __init__(self, backbone: nn.Module, size: int, out_dim: int, normalize: bool = True) -> None:
        super().__init__()
        channels, h, w = backbone.output_shape(size)
        self.standardize = _Standardize() if normalize else nn.Identity()
        self.backbone = backbone
        self.fc = nn.Linear(channels * h * w, out_dim)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.backbone(self.standardize(x)).flatten(1))


def n_params(module: nn.Module) -> int:
    """Number of scalar parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


def resolve_encoder(name: str, shape: tuple[int, ...], modality: int) -> str:
    """The backbone name for one modality: ``"auto"`` -> ``"mlp"`` for ``(d,)``, ``"cnn"`` for images.

    Raises:
        ValueError: if the name is unknown or does not fit the shape.
    """
    from interactions.registry import suggest

    if name not in ENCODERS:
        raise ValueError(
            f"unknown encoder {name!r}{suggest(name, ENCODERS)} for modality {modality}; "
            f"known: {', '.join(ENCODERS)}"
        )
    is_image = len(shape) == 3
    if name == "auto":
        return "cnn" if is_image else "mlp"
    if name == "mlp" and is_image:
        raise ValueError(f"encoder 'mlp' needs a vector modality, modality {modality} has shape {shape}")
    if name in ("cnn", "alexnet") and not is_image:
        raise ValueError(f"encoder {name!r} needs images (3, S, S), modality {modality} has shape {shape}")
    return name


def image_size(shape: tuple[int, ...]) -> int:
    """Side ``S`` of a ``(3, S, S)`` image shape; ``ValueError`` for other shapes."""
    if len(shape) != 3 or shape[0] != 3 or shape[1] != shape[2] or shape[1] < 1:
        raise ValueError(f"image modalities must have shape (3, S, S), got {shape}")
    return shape[1]


__all__ = [
    "ENCODERS",
    "AlexNetFeatures",
    "ImageEncoder",
    "ImageTokenizer",
    "MLPEncoder",
    "MLPTokenizer",
    "SmallCNN",
    "image_backbone",
    "image_size",
    "n_params",
    "resolve_encoder",
    "sincos_2d",
]
