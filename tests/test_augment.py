"""Augmentations: shapes, determinism under a torch.Generator, and the exact behaviour of each step."""

from __future__ import annotations

import pytest
import torch

from interactions.augment import (
    ImageAugment,
    VectorAugment,
    gaussian_blur,
    grayscale,
    hsv_to_rgb,
    make_augment,
    rgb_to_hsv,
)

NONE = dict(crop_scale=(1, 1), crop_ratio=(1, 1), jitter_prob=0, grayscale_prob=0, blur_prob=0, flip_prob=0)


def _images(n=6, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_image_shapes_dtype_range_and_determinism():
    x, aug = _images(), ImageAugment()
    a, b, c = aug(x, _gen(1)), aug(x, _gen(1)), aug(x, _gen(2))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert ImageAugment(size=8)(x, _gen()).shape == (6, 3, 8, 8)
    assert ImageAugment()(x.double(), _gen()).dtype == torch.float64


def test_identity_settings_and_flip():
    x = _images()
    assert torch.allclose(ImageAugment(**NONE)(x, _gen()), x, atol=1e-6)
    flip = ImageAugment(**{**NONE, "flip_prob": 1.0})
    once = flip(x, _gen())
    assert torch.allclose(once, x.flip(-1), atol=1e-6)
    assert torch.allclose(flip(once, _gen()), x, atol=1e-5)


def test_crop_is_an_upsampled_subregion():
    # a crop of a horizontally constant-gradient image stays monotone and within the original range
    ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(4, 3, 32, 32).contiguous()
    out = ImageAugment(**{**NONE, "crop_scale": (0.1, 0.3), "crop_ratio": (0.75, 1.33)})(ramp, _gen())
    diffs = out[..., 1:] - out[..., :-1]
    assert (diffs >= -1e-6).all()
    assert (out.amax(dim=(1, 2, 3)) - out.amin(dim=(1, 2, 3)) < 0.75).all()  # a sub-range was kept


def test_grayscale_gives_equal_channels():
    out = ImageAugment(**{**NONE, "grayscale_prob": 1.0})(_images(), _gen())
    assert torch.allclose(out[:, 0], out[:, 1]) and torch.allclose(out[:, 1], out[:, 2])
    rgb = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert grayscale(rgb).item() == pytest.approx(0.299)


def test_hsv_round_trip_and_hue_of_primaries():
    x = _images()
    assert torch.allclose(hsv_to_rgb(rgb_to_hsv(x)), x, atol=1e-5)
    prim = torch.eye(3).view(3, 3, 1, 1)  # red, green, blue
    assert torch.allclose(rgb_to_hsv(prim)[:, 0].flatten(), torch.tensor([0.0, 1 / 3, 2 / 3]), atol=1e-6)


def test_jitter_with_zero_strength_is_identity_and_brightness_scales():
    x = 0.2 + 0.4 * _images()  # in [0.2, 0.6]: no clamping even at factor 1.5
    assert torch.allclose(
        ImageAugment(**{**NONE, "jitter_prob": 1.0, "jitter": (0, 0, 0, 0)})(x, _gen()), x, atol=1e-6
    )
    out = ImageAugment(**{**NONE, "jitter_prob": 1.0, "jitter": (0.5, 0, 0, 0)})(x, _gen())
    factor = out[:, 0, 0, 0] / x[:, 0, 0, 0]  # one brightness factor per image, in [0.5, 1.5]
    assert torch.allclose(out, (x * factor.view(-1, 1, 1, 1)).clamp(0, 1), atol=1e-5)
    assert ((factor >= 0.5) & (factor <= 1.5)).all() and factor.std() > 0


def test_blur_keeps_constants_and_smooths():
    const = torch.full((2, 3, 12, 12), 0.3)
    assert torch.allclose(gaussian_blur(const, torch.tensor([0.5, 2.0]), 6), const, atol=1e-6)
    x = _images(2, 12)
    blurred = gaussian_blur(x, torch.tensor([2.0, 2.0]), 6)
    assert blurred.var() < x.var() / 2
    assert torch.allclose(gaussian_blur(x, torch.tensor([1e-3, 1e-3]), 6), x, atol=1e-6)


def test_vector_augment_properties():
    x = torch.randn(200, 8, generator=_gen())
    assert torch.equal(VectorAugment(0.0, 0.0, (1.0, 1.0))(x, _gen()), x)
    assert torch.equal(VectorAugment(1.0, 0.0, (1.0, 1.0))(x, _gen()), torch.zeros_like(x))
    noisy = VectorAugment(0.0, 0.1, (1.0, 1.0))(x, _gen())
    assert (noisy - x).std().item() == pytest.approx(0.1, rel=0.1)  # 1600 draws: rel. error ~2 %
    scaled = VectorAugment(0.0, 0.0, (0.5, 2.0))(x, _gen())
    factors = scaled[:, 0] / x[:, 0]
    assert torch.allclose(scaled, x * factors[:, None], atol=1e-5)
    assert ((factors >= 0.5) & (factors <= 2.0)).all()
    aug = VectorAugment(0.2, 0.1, (0.9, 1.1))
    assert torch.equal(aug(x, _gen(3)), aug(x, _gen(3))) and not torch.equal(aug(x, _gen(3)), aug(x, _gen(4)))
    masked = VectorAugment(0.3, 0.0, (1.0, 1.0))(x, _gen())
    assert (masked == 0).float().mean().item() == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize(
    "factory, kwargs, match",
    [
        (VectorAugment, {"mask_prob": 1.5}, "mask_prob"),
        (VectorAugment, {"noise_std": -0.1}, "noise_std"),
        (VectorAugment, {"scale_range": (0.0, 1.0)}, "scale_range"),
        (ImageAugment, {"crop_scale": (0.5, 0.2)}, "crop_scale"),
        (ImageAugment, {"blur_sigma": (0.0, 1.0)}, "blur_sigma"),
        (ImageAugment, {"flip_prob": -0.1}, "flip_prob"),
        (ImageAugment, {"jitter": (0.4, 0.4, 0.4, 0.7)}, "jitter"),
    ],
)
def test_bad_parameters_rejected(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_bad_inputs_rejected():
    with pytest.raises(ValueError, match="float RGB"):
        ImageAugment()(torch.zeros(2, 1, 8, 8), _gen())
    with pytest.raises(TypeError, match="torch.Generator"):
        VectorAugment()(torch.zeros(2, 3), 0)
    with pytest.raises(ValueError, match="no augmentation"):
        make_augment((2, 3))
    assert isinstance(make_augment((3, 8, 8), flip_prob=0.0), ImageAugment)


@pytest.mark.gpu
def test_image_augment_on_cuda_matches_shapes():
    x = _images().cuda()
    out = ImageAugment()(x, torch.Generator(device="cuda").manual_seed(0))
    assert out.device == x.device and out.shape == x.shape
    with pytest.raises(ValueError, match="generator is on cpu"):
        ImageAugment()(x, _gen())
