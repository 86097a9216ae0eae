"""Generic augmentations, batched in torch on the inputs' device, seeded by an explicit ``torch.Generator``.

Each augmentation is a frozen dataclass called as ``aug(x, generator) -> Tensor`` (same shape and dtype,
except ``ImageAugment(size=...)``). Every sample of the batch gets its own random draw; the same generator
state gives the same output. The generator must live on ``x.device`` (``torch.Generator(device=x.device)``).

- ``VectorAugment`` for vector modalities: random scaling, additive Gaussian noise, feature masking.
  On generator data (``xor``, ``gaussian``) the default views are the generator's exact ``gen.views``
  (fresh nuisance, same latent bits), which are label-preserving by construction; these generic ones are
  an option. They are label-preserving only while they stay small: noise or scaling large enough to move
  a sample across a decision boundary, or masking a feature that alone carries a declared bit, destroys
  information the experiment declares present. Keep ``noise_std`` well below the spacing of the lifted
  codes and ``mask_prob`` small (or 0 when a bit lives in a single feature).
- ``ImageAugment``: the SimCLR v1 recipe of CoMM spec 4.4 for images in [0, 1]: random resized crop, colour
  jitter (brightness, contrast, saturation, hue; applied in a random order per sample) with p = 0.8,
  grayscale p = 0.2, Gaussian blur with per-sample sigma ~ U[0.1, 2] px and p = 0.5, horizontal flip p = 0.5.
  ImageNet normalisation is **not** applied here; the image encoders do it (models/encoders.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_generator(x: Tensor, generator: torch.Generator) -> None:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if generator.device.type != x.device.type:
        raise ValueError(
            f"generator is on {generator.device} but x is on {x.device}; use torch.Generator(device=x.device)"
        )


def _uniform(shape: tuple[int, ...], low: float, high: float, gen: torch.Generator, device) -> Tensor:
    return low + (high - low) * torch.rand(shape, generator=gen, device=device)


def _check_range(name: str, pair: Any, low: float, high: float = math.inf) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {pair!r}") from None
    if not (low <= a <= b <= high):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got {pair!r}")
    return a, b


def _check_prob(name: str, p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


@dataclass(frozen=True)
class VectorAugment:
    """``mask(x * scale + noise)`` per sample: scale ~ U[scale_range] per row, noise ~ N(0, noise_std^2)
    per entry, then each entry set to 0 with probability ``mask_prob``.

    Args:
        mask_prob: probability of zeroing each feature. noise_std: std of the additive noise (>= 0).
        scale_range: (low, high) of the per-sample multiplicative factor (> 0).
    """

    mask_prob: float = 0.0
    noise_std: float = 0.1
    scale_range: tuple[float, float] = (0.9, 1.1)

    def __post_init__(self) -> None:
        _check_prob("mask_prob", self.mask_prob)
        if isinstance(self.noise_std, bool) or not isinstance(self.noise_std, (int, float)):
            raise ValueError(f"noise_std must be a number >= 0, got {self.noise_std!r}")
        if not 0 <= self.noise_std < math.inf:
            raise ValueError(f"noise_std must be a finite number >= 0, got {self.noise_std!r}")
        low, _ = _check_range("scale_range", self.scale_range, 0.0)
        if low <= 0:
            raise ValueError(f"scale_range must be > 0, got {self.scale_range!r}")

    @torch.no_grad()
    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """Shape: (B, d) -> (B, d), same dtype and device."""
        if x.ndim != 2 or not x.is_floating_point():
            raise ValueError(f"VectorAugment needs a float (B, d) tensor, got {x.dtype} {tuple(x.shape)}")
        _check_generator(x, generator)
        low, high = self.scale_range
        scale = _uniform((x.shape[0], 1), low, high, generator, x.device).to(x.dtype)
        out = x * scale
        if self.noise_std:
            out = out + self.noise_std * torch.randn(
                x.shape, generator=generator, device=x.device, dtype=x.dtype
            )
        if self.mask_prob:
            keep = torch.rand(x.shape, generator=generator, device=x.device) >= self.mask_prob
            out = out * keep
        return out


_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2 luma, as PIL's "L" conversion


def grayscale(x: Tensor) -> Tensor:
    """Luma of RGB images. Shape: (B, 3, H, W) -> (B, 1, H, W)."""
    w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def rgb_to_hsv(x: Tensor) -> Tensor:
    """RGB in [0, 1] to HSV in [0, 1] (hue as a fraction of a turn). Shape: (B, 3, H, W)."""
    r, g, b = x.unbind(1)
    maxc, minc = x.max(dim=1).values, x.min(dim=1).values
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    hue = torch.where(maxc == r, bc - gc, torch.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.where(delta > 0, (hue / 6.0) % 1.0, torch.zeros_like(hue))
    sat = torch.where(
        maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), torch.zeros_like(maxc)
    )
    return torch.stack([hue, sat, maxc], dim=1)


def hsv_to_rgb(x: Tensor) -> Tensor:
    """Inverse of ``rgb_to_hsv``. Shape: (B, 3, H, W)."""
    h, s, v = x.unbind(1)
    h6 = h * 6.0
    i = torch.floor(h6)
    f = h6 - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    sector = (i.long() % 6).unsqueeze(0)  # (1, B, H, W)
    r = torch.stack([v, q, p, p, t, v]).gather(0, sector)[0]
    g = torch.stack([t, v, v, q, p, p]).gather(0, sector)[0]
    b = torch.stack([p, p, t, v, v, q]).gather(0, sector)[0]
    return torch.stack([r, g, b], dim=1)


def _per_sample(f: Tensor) -> Tensor:
    return f.view(-1, 1, 1, 1)


def _brightness(x: Tensor, f: Tensor) -> Tensor:
    return (x * _per_sample(f)).clamp(0, 1)


def _contrast(x: Tensor, f: Tensor) -> Tensor:
    mean = grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
    return (_per_sample(f) * x + (1 - _per_sample(f)) * mean).clamp(0, 1)


def _saturation(x: Tensor, f: Tensor) -> Tensor:
    return (_per_sample(f) * x + (1 - _per_sample(f)) * grayscale(x)).clamp(0, 1)


def _hue(x: Tensor, f: Tensor) -> Tensor:
    hsv = rgb_to_hsv(x)
    hue = (hsv[:, :1] + _per_sample(f)) % 1.0
    return hsv_to_rgb(torch.cat([hue, hsv[:, 1:]], dim=1)).clamp(0, 1)


def gaussian_blur(x: Tensor, sigma: Tensor, radius: int) -> Tensor:
    """Separable Gaussian blur with one sigma per image, reflect padding.

    Args:
        x: Shape: (B, C, H, W). sigma: pixels, shape (B,). radius: kernel half-width (kernel 2r + 1).
    """
    n, c, h, w = x.shape
    radius = min(radius, h - 1, w - 1)
    if radius < 1:
        return x
    pos = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(pos**2) / (2 * sigma.to(x.dtype).view(-1, 1) ** 2))  # (B, k)
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # (B*C, k)
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(
        F.pad(flat, (radius, radius, 0, 0), mode="reflect"), kernel.view(n * c, 1, 1, -1), groups=n * c
    )
    flat = F.conv2d(
        F.pad(flat, (0, 0, radius, radius), mode="reflect"), kernel.view(n * c, 1, -1, 1), groups=n * c
    )
    return flat.view(n, c, h, w)


@dataclass(frozen=True)
class ImageAugment:
    """SimCLR v1 augmentation of a batch of RGB images in [0, 1] (CoMM spec 4.4), fully batched.

    Random resized crop and horizontal flip are one affine resampling (``affine_grid`` + bilinear
    ``grid_sample``); flipping commutes with the colour operations and the symmetric blur, so folding it
    into the crop gives the same distribution as flipping last. The crop follows torchvision's sampler:
    10 tries of (area fraction ~ U[crop_scale], log aspect ~ U[log crop_ratio]) in whole pixels, the
    first that fits is used, else the central crop of clamped aspect. The blur is a true Gaussian of
    radius ceil(3 sigma_max) (PIL approximates it with box filters).

    Args:
        size: output side (default: the input's side; needs square inputs when set).
        crop_scale: area fraction range. crop_ratio: aspect-ratio range (w / h).
        jitter: (brightness, contrast, saturation, hue) strengths (0.4, 0.4, 0.4, 0.1).
        jitter_prob, grayscale_prob, blur_prob, flip_prob: per-sample probabilities.
        blur_sigma: (low, high) of sigma in pixels (PIL's radius; (0.1, 2) at 224 px).
    """

    size: int | None = None
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_prob: float = 0.8
    grayscale_prob: float = 0.2
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    flip_prob: float = 0.5

    def __post_init__(self) -> None:
        if self.size is not None and (
            isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1
        ):
            raise ValueError(f"size must be a positive int or None, got {self.size!r}")
        _check_range("crop_scale", self.crop_scale, 0.0, 1.0)
        if self.crop_scale[1] <= 0:
            raise ValueError(f"crop_scale must allow a positive area, got {self.crop_scale!r}")
        lo, _ = _check_range("crop_ratio", self.crop_ratio, 0.0)
        if lo <= 0:
            raise ValueError(f"crop_ratio must be > 0, got {self.crop_ratio!r}")
        if len(self.jitter) != 4 or any(not 0 <= j for j in self.jitter) or self.jitter[3] > 0.5:
            raise ValueError(f"jitter must be 4 strengths >= 0 with hue <= 0.5, got {self.jitter!r}")
        for name in ("jitter_prob", "grayscale_prob", "blur_prob", "flip_prob"):
            _check_prob(name, getattr(self, name))
        lo, _ = _check_range("blur_sigma", self.blur_sigma, 0.0)
        if lo <= 0:
            raise ValueError(f"blur_sigma must be > 0, got {self.blur_sigma!r}")

    @torch.no_grad()
    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """Shape: (B, 3, H, W) -> (B, 3, size, size) (or (B, 3, H, W)), same dtype and device."""
        if x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
            raise ValueError(
                f"ImageAugment needs float RGB images (B, 3, H, W) in [0, 1], got {x.dtype} {tuple(x.shape)}"
            )
        _check_generator(x, generator)
        n, dev = x.shape[0], x.device

        def coin(p: float) -> Tensor:
            return torch.rand(n, generator=generator, device=dev) < p

        out = self._crop_flip(x, generator)
        jitter = coin(self.jitter_prob)
        out = self._jitter(out, jitter, generator)
        gray = coin(self.grayscale_prob)
        out = torch.where(gray.view(-1, 1, 1, 1), grayscale(out).expand_as(out), out)
        blur = coin(self.blur_prob)
        sigma = _uniform((n,), *self.blur_sigma, generator, dev)
        idx = blur.nonzero().squeeze(1)
        if len(idx):
            out = out.clone()
            out[idx] = gaussian_blur(out[idx], sigma[idx], math.ceil(3 * self.blur_sigma[1]))
        return out

    def _crop_flip(self, x: Tensor, gen: torch.Generator) -> Tensor:
        n, _, h, w = x.shape
        dev, attempts = x.device, 10
        area = _uniform((n, attempts), *self.crop_scale, gen, dev) * (h * w)
        log_lo, log_hi = math.log(self.crop_ratio[0]), math.log(self.crop_ratio[1])
        ratio = torch.exp(_uniform((n, attempts), log_lo, log_hi, gen, dev))
        cw, ch = torch.round(torch.sqrt(area * ratio)), torch.round(torch.sqrt(area / ratio))
        fits = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
        first = fits.float().argmax(dim=1, keepdim=True)  # first fitting try, (n, 1)
        cw, ch = cw.gather(1, first)[:, 0], ch.gather(1, first)[:, 0]
        fw, fh = float(w), float(h)  # fallback: central crop with the aspect clamped to crop_ratio
        if w / h < self.crop_ratio[0]:
            fh = float(round(w / self.crop_ratio[0]))
        elif w / h > self.crop_ratio[1]:
            fw = float(round(h * self.crop_ratio[1]))
        ok = fits.any(dim=1)
        cw = torch.where(ok, cw, torch.full_like(cw, fw))
        ch = torch.where(ok, ch, torch.full_like(ch, fh))
        top = torch.floor(torch.rand(n, generator=gen, device=dev) * (h - ch + 1))
        left = torch.floor(torch.rand(n, generator=gen, device=dev) * (w - cw + 1))
        top = torch.where(ok, top, torch.floor((h - ch) / 2))
        left = torch.where(ok, left, torch.floor((w - cw) / 2))
        flip = torch.rand(n, generator=gen, device=dev) < self.flip_prob
        theta = torch.zeros(n, 2, 3, device=dev, dtype=x.dtype)
        theta[:, 0, 0] = (cw / w) * torch.where(flip, -1.0, 1.0)  # normalised half-width, sign = flip
        theta[:, 0, 2] = (2 * left + cw) / w - 1  # crop centre in [-1, 1]
        theta[:, 1, 1] = ch / h
        theta[:, 1, 2] = (2 * top + ch) / h - 1
        side_h, side_w = (h, w) if self.size is None else (self.size, self.size)
        grid = F.affine_grid(theta, [n, 3, side_h, side_w], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _jitter(self, x: Tensor, apply: Tensor, gen: torch.Generator) -> Tensor:
        n, dev = x.shape[0], x.device
        b, c, s, hue = self.jitter
        factors = torch.stack(
            [
                _uniform((n,), max(0.0, 1 - b), 1 + b, gen, dev),
                _uniform((n,), max(0.0, 1 - c), 1 + c, gen, dev),
                _uniform((n,), max(0.0, 1 - s), 1 + s, gen, dev),
                _uniform((n,), -hue, hue, gen, dev),
            ]
        )  # (4, n)
        order = torch.rand(n, 4, generator=gen, device=dev).argsort(dim=1)  # random op order per sample
        ops = (_brightness, _contrast, _saturation, _hue)
        x = x.clone()
        for stage in range(4):
            for j, op in enumerate(ops):
                if self.jitter[j] == 0:
                    continue
                idx = (apply & (order[:, stage] == j)).nonzero().squeeze(1)
                if len(idx):
                    x[idx] = op(x[idx], factors[j, idx].to(x.dtype))
        return x


def make_augment(shape: tuple[int, ...], **params: Any) -> VectorAugment | ImageAugment:
    """``VectorAugment(**params)`` for a ``(d,)`` modality, ``ImageAugment(**params)`` for ``(3, S, S)``."""
    if len(shape) == 1:
        return VectorAugment(**params)
    if len(shape) == 3:
        return ImageAugment(**params)
    raise ValueError(f"no augmentation for modality shape {shape}; expected (d,) or (3, S, S)")


__all__ = [
    "ImageAugment",
    "VectorAugment",
    "gaussian_blur",
    "grayscale",
    "hsv_to_rgb",
    "make_augment",
    "rgb_to_hsv",
]
