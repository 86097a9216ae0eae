"""Encoders and build_model: shapes, the AlexNet stack, sin-cos positions, and rejected parameters."""

from __future__ import annotations

import math

import pytest
import torch

from interactions.models import build_model, sincos_2d
from interactions.models.encoders import AlexNetFeatures, MLPTokenizer, SmallCNN, n_params


def test_vector_shapes_fusion_and_late():
    torch.manual_seed(0)
    x1, x2 = torch.randn(4, 6), torch.randn(4, 5)
    fusion = build_model("fusion", ((6,), (5,)), width=32, n_tokens=3, heads=4)
    assert fusion.tokenizer_1(x1).shape == (4, 3, 32)
    assert {s: z.shape for s, z in fusion.embed(x1, x2).items()} == {s: (4, 32) for s in ("1", "2", "12")}
    late = build_model("late", ((6,), (5,)), width=32)
    emb = late.embed(x1, x2)
    assert late.dims == {"1": 32, "2": 32, "12": 64}
    assert torch.equal(emb["12"], torch.cat([emb["1"], emb["2"]], dim=1))


def test_32px_images_tokens_and_vectors():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32)
    fusion = build_model("fusion", ((3, 32, 32), (3, 32, 32)), width=16, heads=2)
    assert fusion.tokenizer_1(x).shape == (2, 16, 16)  # 4x4 grid
    assert fusion.embed(x, x)["12"].shape == (2, 16)
    assert "pos_embed" not in dict(fusion.named_parameters())  # fixed buffer, not learnable
    late = build_model("late", ((3, 32, 32), (7,)), width=16)
    assert late.embed(x, torch.randn(2, 7))["12"].shape == (2, 32)


@pytest.mark.parametrize(
    ("make", "size"), [(lambda **k: SmallCNN((8, 16), 4, **k), 32), (lambda **k: AlexNetFeatures(**k), 80)]
)
def test_channels_last_backbones_compute_the_default_layouts_function(make, size):
    torch.manual_seed(0)
    fast = make()
    torch.manual_seed(0)
    plain = make(channels_last=False)
    convs = [m for m in fast.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    assert all(m.weight.is_contiguous() for m in plain.modules() if isinstance(m, torch.nn.Conv2d))
    x = torch.rand(3, 3, size, size)
    out_fast, out_plain = fast(x), plain(x)
    torch.testing.assert_close(out_fast, out_plain, rtol=1e-4, atol=1e-5)  # same function, other rounding
    out_fast.square().sum().backward()
    out_plain.square().sum().backward()
    for a, b in zip(convs, (m for m in plain.modules() if isinstance(m, torch.nn.Conv2d)), strict=True):
        torch.testing.assert_close(a.weight.grad, b.weight.grad, rtol=1e-3, atol=1e-5)
    with pytest.raises(TypeError, match="channels_last must be a bool"):
        make(channels_last="yes")


def test_alexnet_224_one_forward():
    torch.manual_seed(0)
    features = AlexNetFeatures()
    assert n_params(features) == 2_469_696  # spec 2: 2.47 M per AlexNet conv stack
    assert features.output_shape(224) == (256, 6, 6)
    model = build_model("fusion", ((3, 224, 224), (3, 224, 224)), encoder="alexnet", width=32, heads=4)
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        tokens = model.tokenizer_1(x)
        z = model.embed(x, x, ("12",))["12"]
    assert tokens.shape == (1, 36, 32) and z.shape == (1, 32)
    assert not any(isinstance(m, torch.nn.Linear) for m in model.tokenizer_1.modules())  # no classifier


def test_sincos_2d_values():
    pe = sincos_2d(3, 2, 8)
    assert pe.shape == (6, 8)
    assert torch.allclose(pe[0], torch.tensor([0, 0, 1, 1, 0, 0, 1, 1.0]))
    # row-major: entry 2 is (row 1, col 0); first quarter sin(row * w_k), w = (1, 1e4 ** -0.5) (official)
    assert torch.allclose(pe[2, :2], torch.tensor([math.sin(1.0), math.sin(1e-2)]), atol=1e-6)
    assert torch.allclose(pe[1, 4:6], torch.tensor([math.sin(1.0), math.sin(1e-2)]), atol=1e-6)  # col 1
    assert len({tuple(r.tolist()) for r in pe}) == 6  # every position distinct
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_2d(2, 2, 6)


def test_mlp_tokenizer_bias_is_per_token_offset():
    tok = MLPTokenizer(3, 8, n_tokens=4, width=5)
    torch.nn.init.zeros_(tok.mlp.net[2].weight)
    out = tok(torch.randn(2, 3))
    assert torch.allclose(out[0], tok.mlp.net[2].bias.view(4, 5)) and torch.allclose(out[0], out[1])


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("fusoin", ((6,), (5,))), {}, ValueError, "did you mean 'fusion'"),
        (("fusion", ((6,), (5,))), {"encoder": "mpl"}, ValueError, "did you mean 'mlp'"),
        (("fusion", ((3, 8, 8), (5,))), {"encoder": "mlp"}, ValueError, "needs a vector"),
        (("late", ((6,), (5,))), {"encoder": "cnn"}, ValueError, "needs images"),
        (("fusion", ((6,), (5,))), {"width": 30, "heads": 4}, ValueError, "divisible by heads"),
        (("fusion", ((6,), (5,))), {"width": 0}, ValueError, "width"),
        (("fusion", ((6,), (5,))), {"depth": 1.5}, TypeError, "depth"),
        (("fusion", ((6, 2), (5,))), {}, ValueError, "shape of modality 1"),
        (("fusion", ((6,),)), {}, ValueError, "pair"),
        (("fusion", ((3, 32, 32), (5,))), {"encoder": ("alexnet", "mlp")}, ValueError, "larger images"),
        (("fusion", ((3, 8, 8), (5,))), {"grid": 4}, ValueError, "below grid"),
    ],
)
def test_build_model_rejects_bad_parameters(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        build_model(*args, **kwargs)


def test_auto_encoder_picks_by_shape():
    model = build_model("late", ((3, 16, 16), (5,)), width=8, cnn_channels=(4, 4), grid=2)
    assert type(model.encoder_1.backbone).__name__ == "SmallCNN"
    assert type(model.encoder_2).__name__ == "MLPEncoder"
