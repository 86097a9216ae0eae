"""CoMM fusion: batched masks equal per-mask passes, masking drops tokens, CLIP-style block."""

from __future__ import annotations

import pytest
import torch

from interactions.models import TransformerFusion, build_model
from interactions.models.fusion import QuickGELU, masks_for


def _tokens(batch=5, lengths=(3, 4), width=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, n, width, generator=gen) for n in lengths]


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("lengths", [(3, 4), (2, 2)])
def test_batched_equals_per_mask(depth, lengths):
    torch.manual_seed(depth)
    fusion = TransformerFusion(16, depth=depth, heads=4)
    tokens = _tokens(lengths=lengths)
    masks = masks_for(("1", "2", "12"))
    batched = fusion(tokens, masks, batched=True)
    reference = fusion(tokens, masks, batched=False)
    for z, ref in zip(batched, reference):
        assert z.shape == (5, 16)
        assert torch.allclose(z, ref, atol=1e-5)


def test_batched_gradients_equal_per_mask():
    torch.manual_seed(0)
    fusion = TransformerFusion(16, depth=2, heads=2)
    tokens = _tokens()
    masks = masks_for(("1", "2", "12"))
    grads = []
    for batched in (True, False):
        fusion.zero_grad()
        sum(z.pow(2).sum() for z in fusion(tokens, masks, batched=batched)).backward()
        grads.append([p.grad.clone() for p in fusion.parameters()])
    for g_b, g_p in zip(*grads):
        assert torch.allclose(g_b, g_p, atol=1e-4)


def test_mask_drops_tokens_instead_of_replacing_them():
    torch.manual_seed(0)
    fusion = TransformerFusion(16, depth=2, heads=4)
    t1, t2 = _tokens()
    z1, z2, z12 = fusion([t1, t2], masks_for(("1", "2", "12")))
    alone = fusion([t1], [(True,)], batched=False)[0]  # modality 2 absent altogether
    assert torch.allclose(z1, alone, atol=1e-5)
    z1b, z2b, z12b = fusion([t1, torch.randn_like(t2)], masks_for(("1", "2", "12")))
    assert torch.equal(z1, z1b)
    assert not torch.allclose(z2, z2b) and not torch.allclose(z12, z12b)


def test_model_masking_changing_x2_leaves_z1_unchanged():
    torch.manual_seed(0)
    model = build_model("fusion", ((6,), (5,)), width=16, n_tokens=3, heads=2)
    x1, x2 = torch.randn(4, 6), torch.randn(4, 5)
    a, b = model.embed(x1, x2), model.embed(x1, torch.randn(4, 5))
    assert torch.equal(a["1"], b["1"])
    assert not torch.allclose(a["2"], b["2"])
    assert set(a) == {"1", "2", "12"} and model.dims == {"1": 16, "2": 16, "12": 16}
    assert torch.equal(model.represent(x1, x2), model.embed(x1, x2, ("12",))["12"])


def test_image_model_batched_equals_per_mask():
    torch.manual_seed(0)
    model = build_model("fusion", ((3, 32, 32), (3, 32, 32)), width=16, heads=2, cnn_channels=(8, 8, 8))
    x1, x2 = torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)
    batched = model.embed(x1, x2)
    model.fusion.batched = False
    reference = model.embed(x1, x2)
    assert all(torch.allclose(batched[s], reference[s], atol=1e-5) for s in batched)


def test_clip_initialisation_and_quickgelu():
    torch.manual_seed(0)
    width, depth = 64, 2
    fusion = TransformerFusion(width, depth=depth, heads=4)
    block = fusion.blocks[0]
    # std of 4096+ Gaussian weights: relative error ~1/sqrt(2n) < 2 %, tolerance 10 %
    assert block.in_proj.weight.std().item() == pytest.approx(width**-0.5, rel=0.1)
    assert block.out_proj.weight.std().item() == pytest.approx(width**-0.5 * (2 * depth) ** -0.5, rel=0.1)
    assert block.c_fc.weight.std().item() == pytest.approx((2 * width) ** -0.5, rel=0.1)
    assert fusion.cls_token.std().item() == pytest.approx(1.0, rel=0.35)  # N(0, 1), 64 draws
    x = torch.linspace(-3, 3, 7)
    assert torch.allclose(QuickGELU()(x), x * torch.sigmoid(1.702 * x))


def test_bad_masks_and_widths_rejected():
    fusion = TransformerFusion(16, heads=4)
    with pytest.raises(ValueError, match="mask 0"):
        fusion(_tokens(), [(False, False)])
    with pytest.raises(ValueError, match="divisible"):
        TransformerFusion(15, heads=4)
    with pytest.raises(ValueError, match="unknown subset '21'"):
        build_model("fusion", ((6,), (5,)), width=16, heads=2).embed(
            torch.randn(2, 6), torch.randn(2, 5), ("21",)
        )


@pytest.mark.slow
def test_batched_masks_are_faster_than_per_mask_passes():
    import time

    torch.manual_seed(0)
    model = build_model("fusion", ((16,), (16,)), width=64, n_tokens=8, heads=4)
    x1, x2 = torch.randn(256, 16), torch.randn(256, 16)

    def seconds(batched: bool) -> float:
        model.fusion.batched = batched
        for _ in range(3):
            model.embed(x1, x2)["12"].sum().backward()
        start = time.perf_counter()
        for _ in range(20):
            sum(z.sum() for z in model.embed(x1, x2).values()).backward()
        return time.perf_counter() - start

    per_mask, batched = seconds(False), seconds(True)
    assert per_mask / batched > 1.5, f"batched {batched:.3f}s vs per-mask {per_mask:.3f}s"


def test_unimodal_transformer_baseline_never_mixes_modalities():
    from interactions.models import build_model

    torch.manual_seed(0)
    model = build_model("late", ((6,), (5,)), late_encoder="transformer", width=16, n_tokens=2, heads=2)
    assert model.dims == {"1": 16, "2": 16, "12": 32}
    x1, x2 = torch.randn(4, 6), torch.randn(4, 5)
    a = model.embed(x1, x2)
    b = model.embed(x1, torch.randn(4, 5))
    assert torch.equal(a["1"], b["1"]) and not torch.allclose(a["2"], b["2"])
    assert torch.equal(a["12"], torch.cat([a["1"], a["2"]], 1))
    with pytest.raises(ValueError, match="late_encoder"):
        build_model("late", ((6,), (5,)), late_encoder="transformr")
