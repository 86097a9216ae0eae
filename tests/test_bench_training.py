"""``benchmarks/bench_training.py --ensemble``: the vectorised seed ensemble it times computes what the eager
steps compute (so its ratio compares equal work), and the timing runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from interactions import config as config_mod
from interactions.experiment import build

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"
spec = importlib.util.spec_from_file_location("bench_training", SCRIPT)
bench_training = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_training)

TINY = ["objective.name=comm", "train.n_train=64", "train.batch_size=32", "model.width=16", "model.hidden=16"]
TINY += ["model.n_tokens=2", "model.heads=2", "train.device=cpu"]


def test_vmapped_ensemble_gradients_equal_each_members_eager_gradients():
    members = [build(config_mod.resolve("xor", [*TINY, f"seed={s}"]), torch.device("cpu")) for s in (0, 1)]
    batches = [list(m.batches.epoch(1)) for m in members]
    params, buffers, grads_of = bench_training.ensemble_grads(members)
    grads = grads_of(params, buffers, *bench_training.stacked_views(batches, 0))
    for e, member in enumerate(members):
        model, objective = member.model.train(), member.objective.train()
        views, targets = batches[e][0]
        embedded = [objective.embed(model, x1, x2, k, None) for k, (x1, x2) in enumerate(views)]
        objective(embedded, targets).total.backward()
        named = {f"model.{k}": p for k, p in model.named_parameters()}
        named |= {f"objective.{k}": p for k, p in objective.named_parameters()}
        assert set(named) == set(grads)
        for key, p in named.items():
            torch.testing.assert_close(grads[key][e], p.grad, rtol=1e-4, atol=1e-6, msg=key)


def test_ensemble_timing_returns_positive_seconds():
    eager, ensemble = bench_training.time_ensemble(2, steps=1, rounds=1)
    assert eager > 0 and ensemble > 0


#: trifeature_cpu shrunk to a few pairs (the bench's own overrides come after these)
SMALL_TRIFEATURE = ("train.n_train=64", "probe.n_test=8", "train.batch_size=16", "train.device=cpu")


def test_plain_layout_switch_changes_the_layout_not_the_features():
    from interactions.models.encoders import AlexNetFeatures, SmallCNN
    from interactions.training import evaluation_features, to_device

    exp = config_mod.resolve(
        "trifeature_cpu", [*SMALL_TRIFEATURE, "probe.n_train=16", "objective.name=cross"]
    )
    parts = build(exp, torch.device("cpu"))
    sample = parts.eval_samples[0]
    x1, x2 = (to_device(x, torch.device("cpu")) for x in (sample.x1, sample.x2))
    backbones = [m for m in parts.model.modules() if isinstance(m, (SmallCNN, AlexNetFeatures))]
    assert len(backbones) == 2 and all(b.layout == torch.channels_last for b in backbones)
    fast, _ = evaluation_features(parts.model, parts.objective, x1, x2, 8, False)
    bench_training.use_plain_layout(parts.model)
    assert all(b.layout == torch.contiguous_format for b in backbones)
    convs = [m for b in backbones for m in b.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous() for c in convs)
    plain, _ = evaluation_features(parts.model, parts.objective, x1, x2, 8, False)
    torch.testing.assert_close(torch.from_numpy(fast), torch.from_numpy(plain), rtol=1e-4, atol=1e-5)


def test_eval_batch_timing_prints_one_row_per_objective(capsys):
    bench_training.time_eval_features([8, 4], objectives=("cross",), n=16, rounds=1, extra=SMALL_TRIFEATURE)
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("cross")]
    assert len(rows) == 1
    seconds, ratio = [float(v) for v in rows[0][1:3]], rows[0][3]
    assert all(s > 0 for s in seconds) and ratio.endswith("x") and float(ratio[:-1]) > 0
