"""Token-level masks of the fusion model and the dual-path model: shapes, kept-token counts, seeded
reproducibility, masked tokens really replaced, bad ratios rejected."""

from __future__ import annotations

import pytest
import torch

from interactions.models import DualPathModel, FusionModel, TokenMask, build_model
from interactions.models.fusion import apply_keep, draw_keep


def _fusion(arch: str = "fusion", n_tokens: int = 10, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(arch, ((6,), (5,)), width=16, n_tokens=n_tokens, heads=2, hidden=16)


def _inputs(batch: int = 7, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 6, generator=gen), torch.randn(batch, 5, generator=gen)


@pytest.mark.parametrize(
    ("length", "ratio", "kept"), [(10, 0.7, 3), (36, 0.7, 10), (36, 0.5, 18), (8, 0.75, 2)]
)
def test_exact_sampling_keeps_int_length_times_one_minus_ratio(length, ratio, kept):
    mask = TokenMask(ratio=(ratio, ratio), sampling="exact", draws=4)
    keep = draw_keep(mask, 5, (length, length), torch.Generator().manual_seed(1))
    for k in keep:
        assert k.shape == (4, 5, length)
        assert (k.sum(-1) == kept).all()  # every draw of every sample keeps exactly `kept` tokens
    # the official counts: r=0.7 keeps 10 of AlexNet's 36 tokens, r=0.5 keeps 18 (spec 2.1)


def test_draws_differ_across_samples_and_draws_and_follow_the_generator():
    mask = TokenMask(ratio=(0.5, 0.5), draws=3)
    a = draw_keep(mask, 6, (10, 10), torch.Generator().manual_seed(3))
    b = draw_keep(mask, 6, (10, 10), torch.Generator().manual_seed(3))
    c = draw_keep(mask, 6, (10, 10), torch.Generator().manual_seed(4))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    first = a[0]
    assert not torch.equal(first[0], first[1])  # two draws of the same sample differ
    assert not torch.equal(first[:, 0], first[:, 1])  # two samples of the same draw differ


def test_bernoulli_keeps_each_token_with_probability_one_minus_ratio():
    mask = TokenMask(ratio=(0.75, 0.0), sampling="bernoulli")
    keep_1, keep_2 = draw_keep(mask, 4000, (8, 8), torch.Generator().manual_seed(0))
    assert keep_1.float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert keep_2.all()  # ratio 0: the other modality is untouched
    assert keep_1.sum(-1).unique().numel() > 3  # the count varies across samples


def test_apply_keep_replaces_exactly_the_masked_tokens():
    tokens = torch.randn(2, 3, 4)
    keep = torch.tensor([[[True, False, True], [False, False, True]]])  # (1, 2, 3)
    token = torch.full((4,), 7.0)
    out = apply_keep(tokens, keep, token)
    assert out.shape == (2, 3, 4)
    assert torch.equal(out[0, 0], tokens[0, 0]) and torch.equal(out[0, 2], tokens[0, 2])
    assert torch.equal(out[0, 1], token) and torch.equal(out[1, 0], token) and torch.equal(out[1, 1], token)
    zero = apply_keep(tokens, keep, None)
    assert torch.equal(zero[1, 1], torch.zeros(4)) and torch.equal(zero[1, 2], tokens[1, 2])


def test_masked_pass_shapes_and_ratio_zero_equals_the_unmasked_full_input():
    model = _fusion()
    x1, x2 = _inputs()
    gen = torch.Generator().manual_seed(0)
    out = model.embed(
        x1, x2, ("1", "12"), token_masks={"m": TokenMask(ratio=(0.0, 0.0), draws=3)}, generator=gen
    )
    assert set(out) == {"1", "12", "m"}
    assert out["m"].shape == (3, 7, 16)
    for t in range(3):
        assert torch.allclose(out["m"][t], out["12"], atol=1e-5)


def test_masked_pass_equals_a_naive_pass_on_the_replaced_tokens():
    model = _fusion()
    x1, x2 = _inputs()
    token = torch.randn(16)
    mask = TokenMask(ratio=(0.7, 0.5), fill="token", token=token, draws=2)
    out = model.embed(x1, x2, (), token_masks={"m": mask}, generator=torch.Generator().manual_seed(5))
    keep = draw_keep(mask, 7, (10, 10), torch.Generator().manual_seed(5))
    tokens = [model.tokenizer_1(x1), model.tokenizer_2(x2)]
    for t in range(2):
        replaced = [torch.where(k[t][..., None], tok, token) for tok, k in zip(tokens, keep)]
        (naive,) = model.fusion(replaced, [(True, True)], batched=False)
        assert torch.allclose(out["m"][t], naive, atol=1e-5)
    # a masked token's value does not matter: changing the masked inputs leaves the output unchanged
    assert not torch.allclose(out["m"][0], model.embed(x1, x2, ("12",))["12"], atol=1e-3)


def test_masked_token_values_do_not_reach_the_output():
    model = _fusion()
    x1, x2 = _inputs()
    mask = TokenMask(ratio=(0.5, 0.5), draws=1)
    keep = draw_keep(mask, 7, (10, 10), torch.Generator().manual_seed(2))
    base = [model.tokenizer_1(x1), model.tokenizer_2(x2)]
    noisy = [torch.where(k[0][..., None], t, t + 100 * torch.randn_like(t)) for t, k in zip(base, keep)]
    masked = [apply_keep(t, k, None) for t, k in zip(base, keep)]
    masked_noisy = [apply_keep(t, k, None) for t, k in zip(noisy, keep)]
    assert torch.allclose(
        model.fusion(masked, [(True, True)])[0], model.fusion(masked_noisy, [(True, True)])[0]
    )


def test_bad_masks_are_rejected_with_clear_errors():
    model = _fusion(n_tokens=2)
    x1, x2 = _inputs()
    with pytest.raises(ValueError, match="keeps int"):
        model.embed(x1, x2, (), token_masks={"m": TokenMask(ratio=(0.7, 0.0))}, generator=torch.Generator())
    with pytest.raises(TypeError, match="torch.Generator"):
        model.embed(x1, x2, (), token_masks={"m": TokenMask(ratio=(0.5, 0.0))})
    with pytest.raises(ValueError, match="collides"):
        model.embed(x1, x2, (), token_masks={"12": TokenMask(ratio=(0.5, 0.0))}, generator=torch.Generator())
    for bad in [
        dict(ratio=(1.0, 0.0)),
        dict(ratio=(-0.1, 0.0)),
        dict(ratio=0.5),
        dict(ratio=(0.5, 0.5), draws=0),
    ]:
        with pytest.raises(ValueError, match="TokenMask"):
            TokenMask(**bad)
    with pytest.raises(ValueError, match="sampling"):
        TokenMask(ratio=(0.5, 0.5), sampling="uniform")
    with pytest.raises(ValueError, match="token"):
        TokenMask(ratio=(0.5, 0.5), fill="token")


def test_dual_path_model_keys_shapes_and_copied_tokenisers():
    model = _fusion("dual", n_tokens=4)
    assert isinstance(model, DualPathModel) and isinstance(model, FusionModel)
    assert model.dims == {"1": 16, "2": 16, "12": 16, "u1": 8, "u2": 8}
    assert model.features == {"token_masking", "dual_path"}
    x1, x2 = _inputs()
    out = model.embed(x1, x2, ("12", "u1", "u2"))
    assert out["12"].shape == (7, 16) and out["u1"].shape == (7, 8) and out["u2"].shape == (7, 8)
    # the unique tokenisers start as copies of the fusion ones, with their own parameters
    for shared, unique in [
        (model.tokenizer_1, model.unique[0].tokenizer),
        (model.tokenizer_2, model.unique[1].tokenizer),
    ]:
        for p, q in zip(shared.parameters(), unique.parameters()):
            assert torch.equal(p, q) and p is not q
    # the fusion path is the plain fusion model: same numbers as a FusionModel with the same weights
    fusion = FusionModel(model.tokenizer_1, model.tokenizer_2, model.fusion)
    assert torch.allclose(fusion.embed(x1, x2, ("12",))["12"], out["12"])
    # unique paths never see the other modality
    other = model.embed(x1, torch.randn_like(x2), ("u1",))["u1"]
    assert torch.allclose(other, out["u1"])
    masked = model.embed(
        x1, x2, ("u1",), token_masks={"m": TokenMask(ratio=(0.5, 0.0))}, generator=torch.Generator()
    )
    assert set(masked) == {"u1", "m"} and masked["m"].shape == (1, 7, 16)


def test_attention_pool_is_a_softmax_weighted_mean():
    model = _fusion("dual", n_tokens=4)
    pool = model.unique[0].pool
    tokens = torch.randn(3, 5, 8)
    weights = torch.softmax(tokens @ pool.query, dim=1)
    assert torch.allclose(pool(tokens), (weights[..., None] * tokens).sum(1))
    with torch.no_grad():
        pool.query.zero_()
    assert torch.allclose(pool(tokens), tokens.mean(1), atol=1e-6)


def test_late_models_declare_no_features():
    assert build_model("late", ((6,), (5,)), width=16).features == frozenset()
    assert (
        build_model("late", ((6,), (5,)), width=16, late_encoder="transformer", heads=2).features
        == frozenset()
    )
    assert _fusion().features == {"token_masking"}
