"""InfMasking: the mask loss against a naive loop implementation with an explicit covariance matrix, the
total as the mean of five terms, the lambda ramp, validation, and a tiny xor run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from tiny_runs import TINY_RUN

import interactions
from interactions.models import build_model
from interactions.objectives import InfMasking, check_objective
from interactions.objectives import functional as LF
from interactions.objectives.infmasking import MASKED

TINY = ["generator.params.redundancy=1", *TINY_RUN]


def naive_mask_loss(q: torch.Tensor, keys: torch.Tensor, lam: float, tau: float) -> float:
    """Spec 2.2 steps 1-4 with Python loops and the D x D covariance written out (float64)."""
    q, keys = q.double(), keys.double()
    n_draws, batch, dim = keys.shape
    total = 0.0
    for b in range(batch):
        mu = keys[:, b].mean(0)
        sigma = sum(torch.outer(keys[t, b] - mu, keys[t, b] - mu) for t in range(n_draws)) / n_draws
        quad = float(q[b] @ sigma @ q[b])
        positive = (float(q[b] @ mu) + 0.5 * (lam / tau) * quad) / tau
        denominator = math.exp(positive)
        for n in range(batch):
            if n == b:
                continue
            denominator += math.exp(float(q[b] @ q[n]) / tau)
            for t in range(n_draws):
                denominator += math.exp(float(q[b] @ keys[t, n]) / tau)
        ce = -positive + math.log(denominator)
        total += ce + lam * quad / (2 * tau**2)
    return total / batch


def _unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


@pytest.mark.parametrize(("lam", "tau"), [(0.0, 0.1), (1.0, 0.1), (0.5, 0.5)])
def test_mask_loss_equals_a_naive_loop_implementation(lam, tau):
    q, keys = _unit(5, 4, seed=1), _unit(3, 5, 4, seed=2)
    got = float(LF.infmasking_mask_loss(q, keys, lam, tau))
    assert got == pytest.approx(naive_mask_loss(q, keys, lam, tau), rel=1e-5)


def test_identical_draws_give_infonce_with_the_extra_anchor_negatives():
    # Sigma = 0: the loss is -log(e^{p} / (e^{p} + T * sum_{n!=b} e^{q_b.k_n/t} + sum_{n!=b} e^{q_b.q_n/t}))
    q, k = _unit(4, 3, seed=3), _unit(4, 3, seed=4)
    keys = k.expand(5, 4, 3)
    tau = 0.2
    by_hand = 0.0
    for b in range(4):
        pos = math.exp(float(q[b] @ k[b]) / tau)
        neg = sum(
            5 * math.exp(float(q[b] @ k[n]) / tau) + math.exp(float(q[b] @ q[n]) / tau)
            for n in range(4)
            if n != b
        )
        by_hand += -math.log(pos / (pos + neg)) / 4
    for lam in (0.0, 3.0):  # lambda has no effect without variance
        assert float(LF.infmasking_mask_loss(q, keys, lam, tau)) == pytest.approx(by_hand, rel=1e-5)


def test_mask_loss_validates_input():
    with pytest.raises(ValueError, match="keys"):
        LF.infmasking_mask_loss(_unit(4, 3), _unit(4, 3), 1.0)
    with pytest.raises(ValueError, match="lam"):
        LF.infmasking_mask_loss(_unit(4, 3), _unit(2, 4, 3), -1.0)
    with pytest.raises(ValueError, match="temperature"):
        LF.infmasking_mask_loss(_unit(4, 3), _unit(2, 4, 3), 1.0, 0.0)


def _objective(**params):
    torch.manual_seed(0)
    model = build_model("fusion", ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=16)
    return model, InfMasking(model.dims, **params)


def test_total_is_the_mean_of_two_mask_losses_and_three_comm_terms():
    model, objective = _objective(n_masks=3, mask_ratio=0.5, mask_lambda=2.0)
    objective.set_progress(0.25)
    assert objective.lam == pytest.approx(0.5)
    gen = torch.Generator().manual_seed(0)
    views = [
        {
            "1": torch.randn(8, 16, generator=gen),
            "2": torch.randn(8, 16, generator=gen),
            "12": torch.randn(8, 16, generator=gen),
            MASKED: torch.randn(3, 8, 16, generator=gen),
        }
        for _ in range(2)
    ]
    out = objective(views)
    # independent recomputation with the same head (BatchNorm in train mode: per-call statistics)
    h = objective.head
    first, second = [h(views[0][s]) for s in ("1", "2", "12")], [h(views[1][s]) for s in ("1", "2", "12")]
    nt = LF.nt_xent
    comm = [
        (nt(first[0], second[2]) + nt(second[0], first[2])) / 2,
        (nt(first[1], second[2]) + nt(second[1], first[2])) / 2,
        nt(first[2], second[2]),
    ]
    masks = [
        naive_mask_loss(
            F.normalize(full, dim=1).detach(),
            F.normalize(torch.stack([h(z) for z in view[MASKED]]), dim=-1).detach(),
            0.5,
            0.1,
        )
        for view, full in zip(views, (first[2], second[2]))
    ]
    expected = (sum(masks) + sum(float(c.detach()) for c in comm)) / 5
    assert float(out.total.detach()) == pytest.approx(expected, rel=1e-5)
    assert out.terms["mask_1"] == pytest.approx(masks[0], rel=1e-5)
    assert out.terms["loss_12"] == pytest.approx(float(comm[2].detach()), rel=1e-5)
    assert out.terms["lambda"] == pytest.approx(0.5)


def test_lambda_ramp_and_constant_schedule():
    _, linear = _objective(mask_lambda=1.0)
    _, constant = _objective(mask_lambda=1.0, lambda_schedule="constant")
    assert linear.lam == 0.0 and constant.lam == 1.0  # before any set_progress
    for p in (0.0, 0.3, 0.9):
        linear.set_progress(p)
        constant.set_progress(p)
        assert linear.lam == pytest.approx(p) and constant.lam == 1.0
    with pytest.raises(ValueError, match="progress"):
        linear.set_progress(1.5)


def test_token_masks_request_the_official_masking():
    model, objective = _objective(n_masks=4, mask_ratio=0.5)
    mask = objective.token_masks(1)[MASKED]
    assert mask.ratio == (0.5, 0.5) and mask.sampling == "exact" and mask.fill == "token" and mask.draws == 4
    assert mask.token is objective.mask_token and objective.mask_token.abs().max() <= 0.02
    x1, x2 = torch.randn(8, 6), torch.randn(8, 5)
    emb = objective.embed(model, x1, x2, 0, torch.Generator().manual_seed(0))
    assert emb[MASKED].shape == (4, 8, 16)
    objective.eval()
    assert MASKED not in objective.embed(model, x1, x2, 0, torch.Generator())


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(n_masks=1), "n_masks must be >= 2"),
        (dict(n_masks=2.5), "n_masks"),
        (dict(mask_ratio=0.0), "mask_ratio"),
        (dict(mask_ratio=1.0), "mask_ratio"),
        (dict(mask_lambda=-1), "mask_lambda"),
        (dict(lambda_schedule="cosine"), "lambda_schedule"),
        (dict(temperature=0), "temperature"),
    ],
)
def test_bad_hyper_parameters_are_rejected(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _objective(**params)


def test_a_ratio_keeping_no_token_is_rejected_before_training():
    torch.manual_seed(0)
    model = build_model("fusion", ((6,), (5,)), width=16, n_tokens=2, heads=2, hidden=16)
    objective = InfMasking(model.dims, mask_ratio=0.7)
    with pytest.raises(ValueError, match=r"keeps int\(2 \* \(1 - 0.7\)\) = 0 of the 2 tokens of modality 1"):
        objective.check_model(model)
    with pytest.raises(ValueError, match="model.n_tokens"):
        interactions.run(
            "xor", overrides=["objective.name=infmasking", *TINY[:3], "model.n_tokens=2"], progress=False
        )


def test_contract_with_official_trifeature_values():
    check_objective(InfMasking, devices=["cpu"], n_masks=6, mask_ratio=0.7, mask_lambda=1.0)


def test_tiny_xor_run_writes_capture_rows_and_is_reproducible():
    a = interactions.run("xor", overrides=["objective.name=infmasking", *TINY], progress=False)
    b = interactions.run("xor", overrides=["objective.name=infmasking", *TINY], progress=False)
    assert list(a.capture["term"]) == list(interactions.TERMS) and np.isfinite(a.capture["capture"]).all()
    assert {"mask_1", "mask_2", "loss_12", "lambda"} <= set(a.losses["name"])
    lam = a.losses[a.losses["name"] == "lambda"].sort_values("epoch")["value"].tolist()
    assert lam == pytest.approx([0.0, 0.5])  # the ramp: progress 0/2, then 1/2
    pd_equal = a.losses.reset_index(drop=True).equals(b.losses.reset_index(drop=True))
    assert pd_equal and a.capture["capture"].tolist() == b.capture["capture"].tolist()


class _Crash(RuntimeError):
    pass


def test_resumed_run_draws_the_same_masks_and_lambda(tmp_path, monkeypatch):
    """3 epochs straight == 1 epoch, a crash, then a resumed run (masks and ramp depend on the epoch only)."""
    from interactions import experiment, training

    overrides = ["objective.name=infmasking", *TINY, "train.epochs=3", "train.eval_every=3"]

    def tiny(out):
        return interactions.run("xor", overrides=overrides, out=out, progress=False)

    straight = tiny(tmp_path / "straight")
    real_save = training.save_checkpoint

    def crash_after_epoch_1(path, state):
        real_save(path, state)
        if state["epoch"] == 1:
            raise _Crash("simulated crash")

    monkeypatch.setattr(experiment, "save_checkpoint", crash_after_epoch_1)
    with pytest.raises(_Crash):
        tiny(tmp_path / "resumed")
    monkeypatch.setattr(experiment, "save_checkpoint", real_save)
    resumed = tiny(tmp_path / "resumed")
    pd.testing.assert_frame_equal(resumed.losses, straight.losses)
    pd.testing.assert_frame_equal(resumed.capture, straight.capture)
