"""``interactions.run`` end to end on tiny xor configs: result tables, determinism, run directory, resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from interactions import TERMS, experiment, training, types
from interactions.config import TrainSettings

TINY = {
    "name": "tiny",
    "seed": 5,
    "generator": {"name": "xor", "params": {"redundancy": 1, "unique_1": 1, "unique_2": 1, "synergy": 1}},
    "objective": {"name": "comm"},
    "model": {"width": 16, "hidden": 16, "n_tokens": 2, "heads": 2},
    "train": {"n_train": 128, "epochs": 2, "batch_size": 64, "eval_every": 1, "device": "cpu", "lr": 1e-3},
    "probe": {"n_train": 128, "n_test": 128, "Cs": [0.1, 1.0]},
}


def tiny_run(*overrides: str, **kwargs):
    return experiment.run(TINY, list(overrides), progress=False, **kwargs)


def params_of(run_dir) -> dict[str, torch.Tensor]:
    return training.load_checkpoint(run_dir / "checkpoint.pt", torch.device("cpu"))["trainer"]["model"]


@pytest.mark.parametrize(
    ("objective", "extra"),
    [("comm", []), ("cross", []), ("factorcl", []), ("supervised", ["objective.params.target=synergy"])],
)
def test_run_end_to_end(objective, extra):
    result = tiny_run(f"objective.name={objective}", *extra)
    assert result.status == "finished" and result.run_dir is None
    cap = result.capture
    assert list(cap.columns[:8]) == list(types.CAPTURE_COLUMNS)
    assert list(cap["term"]) == list(TERMS)
    assert np.allclose(cap["true_bits"], 1.0)  # one bit per term, from the unbiased generator's spec
    assert np.allclose(cap["capture"], cap["bits"] / cap["true_bits"])
    assert result.feature_dim == cap["feature_dim"].iloc[0] > 0
    hist = result.history
    assert list(hist.columns[:10]) == list(types.HISTORY_COLUMNS)
    assert set(hist["estimator"]) == {types.PROBE}
    assert sorted(hist["epoch"].unique()) == [0, 1, 2]
    epoch0 = hist[hist["epoch"] == 0].set_index("term")
    # the floor is the capture of the untrained model (epoch 0), on every row of the term
    for term in TERMS:
        assert (hist.loc[hist["term"] == term, "floor"] == epoch0.loc[term, "capture"]).all()
    assert (cap.set_index("term")["floor"] == epoch0["capture"]).all()
    assert set(result.losses["epoch"]) == {1, 2} and "loss" in set(result.losses["name"])
    assert np.isfinite(result.losses["value"]).all()


def test_same_seed_same_numbers_and_other_seed_differs():
    a, b = tiny_run(), tiny_run()
    pd.testing.assert_frame_equal(a.history, b.history)
    pd.testing.assert_frame_equal(a.losses, b.losses)
    c = tiny_run("seed=6")
    assert not np.array_equal(a.losses["value"].to_numpy(), c.losses["value"].to_numpy())


def test_run_leaves_global_torch_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tiny_run("train.epochs=1")
    assert torch.equal(torch.rand(3), expected)


def test_run_directory_contents_and_reload(tmp_path):
    out = tmp_path / "run"
    result = tiny_run(out=out)
    assert {p.name for p in out.iterdir()} == {
        "config.toml",
        "env.json",
        "metrics.jsonl",
        "checkpoint.pt",
        "result.json",
    }
    env = json.loads((out / "env.json").read_text())
    assert env["seed"] == 5 and env["device"] == "cpu" and env["torch"] == torch.__version__
    # what decides float rounding across machines: the CPU and the instruction set torch dispatches to
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and env["cpu_capability"]
    assert isinstance(env["cpu_model"], str)
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in lines] == [0, 1, 2]
    assert lines[0]["losses"] == {} and "loss" in lines[2]["losses"]
    assert [row["term"] for row in lines[2]["probe"]] == list(TERMS)
    saved = json.loads((out / "result.json").read_text())
    assert saved["status"] == "finished" and saved["config"] == result.config
    # a finished directory is loaded, not retrained
    again = tiny_run(out=out)
    pd.testing.assert_frame_equal(again.capture, result.capture, check_dtype=False)
    pd.testing.assert_frame_equal(again.history, result.history, check_dtype=False)
    assert again.elapsed_s == pytest.approx(result.elapsed_s)
    with pytest.raises(ValueError, match="different config"):
        tiny_run("train.lr=0.01", out=out)


class _Crash(RuntimeError):
    pass


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_resume_after_crash_gives_identical_results(tmp_path, monkeypatch, schedule):
    """3 epochs straight == 1 epoch, a crash, then a resumed run to 3 epochs (CPU, bit for bit)."""
    sched = f"train.lr_schedule='{schedule}'"
    straight = tiny_run("train.epochs=3", "train.eval_every=2", sched, out=tmp_path / "straight")

    real_save = training.save_checkpoint

    def crash_after_epoch_1(path, state):
        real_save(path, state)
        if state["epoch"] == 1:
            raise _Crash("simulated crash")

    monkeypatch.setattr(experiment, "save_checkpoint", crash_after_epoch_1)
    with pytest.raises(_Crash):
        tiny_run("train.epochs=3", "train.eval_every=2", sched, out=tmp_path / "resumed")
    assert not (tmp_path / "resumed" / "result.json").exists()
    monkeypatch.setattr(experiment, "save_checkpoint", real_save)
    resumed = tiny_run("train.epochs=3", "train.eval_every=2", sched, out=tmp_path / "resumed")

    pd.testing.assert_frame_equal(resumed.capture, straight.capture)
    pd.testing.assert_frame_equal(resumed.history, straight.history)
    pd.testing.assert_frame_equal(resumed.losses, straight.losses)
    a, b = params_of(tmp_path / "straight"), params_of(tmp_path / "resumed")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [0, 2, 3]


def test_scheduled_lr_values():
    lr = 2e-3
    assert [training.scheduled_lr("constant", lr, e, 4) for e in (1, 4)] == [lr, lr]
    cosine = [training.scheduled_lr("cosine", lr, e, 4) for e in range(1, 5)]
    # (1 + cos(pi * k / 4)) / 2 for k = 0..3: 1, (2 + sqrt 2) / 4, 1/2, (2 - sqrt 2) / 4
    expected = [lr, lr * (2 + 2**0.5) / 4, lr / 2, lr * (2 - 2**0.5) / 4]
    assert cosine == pytest.approx(expected, rel=1e-12)
    assert training.scheduled_lr("cosine", lr, 1, 1) == lr
    with pytest.raises(ValueError, match="epoch must be in 1..4, got 5"):
        training.scheduled_lr("cosine", lr, 5, 4)
    with pytest.raises(ValueError, match="'step'"):
        training.scheduled_lr("step", lr, 1, 4)


def test_cosine_schedule_sets_the_optimiser_rate_of_each_epoch(tmp_path):
    cosine = tiny_run("train.epochs=3", "train.lr_schedule='cosine'", out=tmp_path / "cosine")
    constant = tiny_run("train.epochs=3", out=tmp_path / "constant")
    # the first epoch runs at train.lr under both, so its losses agree; the schedule changes the rest
    first = lambda r: r.losses[r.losses.epoch == 1].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(first(cosine), first(constant))
    last = lambda r: r.losses.loc[r.losses.epoch == 3, "value"].to_numpy()  # noqa: E731
    assert not np.array_equal(last(cosine), last(constant))
    for name in ("cosine", "constant"):
        state = training.load_checkpoint(tmp_path / name / "checkpoint.pt", torch.device("cpu"))
        rates = {g["lr"] for g in state["trainer"]["optimizer"]["param_groups"]}
        assert rates == {training.scheduled_lr(name, 1e-3, 3, 3)}, name
    assert training.scheduled_lr("cosine", 1e-3, 3, 3) == pytest.approx(1e-3 * 0.25)


@pytest.mark.parametrize("objective", ["comm", "cross_self"])
def test_a_longer_constant_rate_run_passes_through_the_shorter_one(objective):
    """Under the constant rate (and an objective without a progress schedule) epoch e of an E-epoch run is
    epoch e of any longer run (so a 128-epoch Trifeature run passes through the shipped 64-epoch network)."""
    short = tiny_run(f"objective.name={objective}", "train.epochs=2", "train.eval_every=1")
    long = tiny_run(f"objective.name={objective}", "train.epochs=4", "train.eval_every=1")
    head = lambda r: r.history[r.history.epoch <= 2].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(head(long), head(short))
    cosine = tiny_run(
        f"objective.name={objective}", "train.epochs=4", "train.eval_every=1", "train.lr_schedule='cosine'"
    )
    assert not head(cosine).equals(head(short))  # a schedule ties every epoch to the run's length


def test_restart_ignores_a_finished_directory(tmp_path):
    out = tmp_path / "run"
    tiny_run("train.epochs=1", out=out)
    other = tiny_run("train.epochs=1", "train.lr=0.01", out=out, resume=False)
    assert json.loads((out / "result.json").read_text())["config"]["train"]["lr"] == 0.01
    assert other.config["train"]["lr"] == 0.01


def test_generic_augment_and_per_batch_views_run():
    generic = tiny_run("train.augment=generic", "train.epochs=1")
    per_batch = tiny_run("train.views_per=batch", "train.epochs=1")
    per_epoch = tiny_run("train.epochs=1")
    for r in (generic, per_batch):
        assert np.isfinite(r.losses["value"]).all()
    # epoch-0 evaluation does not depend on how views are drawn
    pd.testing.assert_frame_equal(
        per_batch.history[per_batch.history.epoch == 0], per_epoch.history[per_epoch.history.epoch == 0]
    )


def test_biased_pretraining_probes_the_unbiased_distribution():
    result = tiny_run("generator.params.bias=0.9", "train.epochs=1")
    assert result.config["generator"]["params"]["bias"] == 0.9
    # the probe's true bits come from the unbiased generator: one full bit of synergy
    assert result.capture.set_index("term").loc["synergy", "true_bits"] == pytest.approx(1.0)
    assert result.ground_truth["synergy"] == pytest.approx(1.0)


def test_weight_decay_groups_follow_spec_5():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2))
    groups = training.param_groups({"m": model}, 0.1, exclude={id(model[2].weight)})
    decay, plain = groups
    assert decay["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert [p.shape for p in decay["params"]] == [torch.Size([4, 4])]  # only the first Linear's weight
    assert {id(p) for p in plain["params"]} == {
        id(model[0].bias),
        id(model[1].weight),
        id(model[1].bias),
        id(model[2].bias),
    }


def test_seeds_are_independent_streams():
    s = training.Seeds.from_seed(0)
    values = [s.data, s.init, s.augment, s.order, s.probe]
    assert len(set(values)) == 5 and s == training.Seeds.from_seed(0) and s != training.Seeds.from_seed(1)
    assert training.derive(1, 2, 3) == training.derive(1, 2, 3) != training.derive(1, 3, 2)


def test_batches_are_a_seeded_permutation_without_the_incomplete_last_batch():
    import generators

    gen = generators.make("xor")
    sample = gen.sample(150, seed=0)
    settings = TrainSettings(n_train=150, batch_size=64)
    batches = training.Batches(gen, sample, settings, 2, training.Seeds.from_seed(0), torch.device("cpu"))
    assert batches.steps == 2
    order = batches.order(1)
    assert sorted(order) == list(range(150)) and not np.array_equal(order, batches.order(2))
    steps = list(batches.epoch(1))
    assert len(steps) == 2
    for step, (views, targets) in enumerate(steps):
        idx = order[step * 64 : (step + 1) * 64]
        assert len(views) == 2 and all(v[0].shape == (64, *gen.shapes[0]) for v in views)
        assert torch.equal(targets["synergy"], torch.as_tensor(sample.targets["synergy"][idx]))
        assert not torch.equal(views[0][0], views[1][0])  # two independent views


def test_views_plus_generic_is_the_generic_augmentation_of_each_exact_view():
    import generators
    from interactions.augment import ImageAugment

    gen = generators.make("trifeature", image_size=40)
    sample = gen.sample(16, seed=0)
    seeds, cpu = training.Seeds.from_seed(0), torch.device("cpu")
    params = {"crop_scale": (1.0, 1.0), "crop_ratio": (1.0, 1.0), "blur_prob": 0.0}
    aug = ImageAugment(**params)
    both = TrainSettings(n_train=16, batch_size=8, augment="views+generic", augment_params=params)
    plain = TrainSettings(n_train=16, batch_size=8, augment="views")
    mixed = training.Batches(gen, sample, both, 2, seeds, cpu, (aug, aug))
    exact = training.Batches(gen, sample, plain, 2, seeds, cpu)
    for (views, _), (raw, _) in zip(mixed.epoch(1), exact.epoch(1)):
        torch_gen = torch.Generator().manual_seed(training.derive(seeds.augment, 1))
        expected = [(aug(a, torch_gen), aug(b, torch_gen)) for a, b in raw]
        for (a, b), (ea, eb), (ra, _) in zip(views, expected, raw):
            assert torch.equal(a, ea) and torch.equal(b, eb)
            assert not torch.equal(a, ra)  # the colour jitter did change the exact view
        break  # the torch generator is per epoch: only the first step restarts it


TINY_TRIFEATURE = {
    "name": "tiny-trifeature",
    "seed": 0,
    "generator": {"name": "trifeature"},  # default parameters (32-px images, the paper's split and M)
    "objective": {"name": "cross"},
    "model": {"encoder": "cnn", "width": 8, "cnn_channels": [4, 4, 4], "grid": 2, "heads": 2},
    "train": {"n_train": 16, "epochs": 1, "batch_size": 8, "eval_every": 1, "device": "cpu"},
    "probe": {"n_train": 64, "n_test": 64, "Cs": [1.0]},
}


def test_trifeature_result_stores_the_truth_its_capture_divided_by(tmp_path):
    """``result.json``'s truth is the spec of the probe's test sample, not another split's."""
    import generators

    result = experiment.run(TINY_TRIFEATURE, out=tmp_path / "run", progress=False)
    stored = json.loads((tmp_path / "run" / "result.json").read_text())["ground_truth"]
    truth = generators.make("trifeature").unbiased().ground_truth("test").as_dict()
    train_truth = generators.make("trifeature").unbiased().ground_truth("train").as_dict()
    assert truth != train_truth  # the splits differ, so storing the wrong one would show
    assert stored == pytest.approx(truth, abs=1e-12)
    divided_by = result.capture.set_index("term")["true_bits"].to_dict()
    assert divided_by == pytest.approx(stored, abs=1e-12)
    cap = result.capture.set_index("term")
    assert np.allclose(cap["capture"], cap["bits"] / cap["true_bits"])


def test_extend_continues_a_shorter_run_to_the_numbers_of_one_trained_straight_through(tmp_path):
    """``extend``: a 4-epoch run started from a 2-epoch run's checkpoint is the 4-epoch run, to the last
    digit, also when it is probed on another schedule (evaluations draw no training randomness)."""
    tiny_run("train.epochs=2", out=tmp_path / "short")
    straight = tiny_run("train.epochs=4", out=tmp_path / "straight")
    evaluated = []
    extended = tiny_run(
        "train.epochs=4",
        out=tmp_path / "long",
        extend=tmp_path / "short",
        callback=lambda epoch, losses, probe: evaluated.append(epoch),
    )
    assert evaluated == [3, 4]  # it trained epochs 3 and 4 only
    pd.testing.assert_frame_equal(extended.history, straight.history)
    pd.testing.assert_frame_equal(extended.losses, straight.losses)
    for name, value in params_of(tmp_path / "straight").items():
        assert torch.equal(params_of(tmp_path / "long")[name], value), name
    sparse = tiny_run(
        "train.epochs=4", "train.eval_every=4", out=tmp_path / "sparse", extend=tmp_path / "short"
    )
    assert sorted(sparse.history["epoch"].unique()) == [0, 1, 2, 4]  # the short run's evaluations are kept
    last = lambda r: r.history[r.history.epoch == 4].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(last(sparse), last(straight))
    # a directory that already holds the longer run is reused; the source is not read again
    again = tiny_run("train.epochs=4", out=tmp_path / "long", extend=tmp_path / "nowhere")
    assert again.reused


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.lr=0.01"], r"differs .* in train.lr \(0.001 -> 0.01\)"),
        (["train.lr_schedule='cosine'"], "differs .* train.lr_schedule"),
        (["train.epochs=1"], "train.epochs=1 is fewer than the 2 epochs"),
        (["objective.name=infmasking"], "differs .* objective.name"),
    ],
)
def test_extend_refuses_what_would_not_continue_the_same_run(tmp_path, overrides, message):
    tiny_run("train.epochs=2", out=tmp_path / "short")
    with pytest.raises(ValueError, match=message):
        tiny_run(*overrides, out=tmp_path / "long", extend=tmp_path / "short")
    assert not (tmp_path / "long" / "checkpoint.pt").exists()


def test_extend_refuses_schedules_that_depend_on_the_run_length_and_bad_sources(tmp_path):
    tiny_run("train.epochs=1", "train.lr_schedule='cosine'", out=tmp_path / "cosine")
    with pytest.raises(ValueError, match="lr_schedule='cosine' ties every epoch"):
        tiny_run(
            "train.epochs=2", "train.lr_schedule='cosine'", out=tmp_path / "a", extend=tmp_path / "cosine"
        )
    infmasking = ("objective.name=infmasking", "model.n_tokens=4")
    tiny_run("train.epochs=1", *infmasking, out=tmp_path / "inf")
    with pytest.raises(ValueError, match="'infmasking' follows the training progress"):
        tiny_run("train.epochs=2", *infmasking, out=tmp_path / "b", extend=tmp_path / "inf")
    with pytest.raises(ValueError, match="holds no checkpoint.pt"):
        tiny_run("train.epochs=2", out=tmp_path / "c", extend=tmp_path / "empty")
    tiny_run("train.epochs=1", out=tmp_path / "edited")
    (tmp_path / "edited" / "config.toml").write_text('name = "tiny"\n')
    with pytest.raises(ValueError, match="not the config .* was trained with"):
        tiny_run("train.epochs=2", out=tmp_path / "d", extend=tmp_path / "edited")
    with pytest.raises(ValueError, match="needs a run directory"):
        tiny_run("train.epochs=2", extend=tmp_path / "edited")
    with pytest.raises(ValueError, match="the same directory"):
        tiny_run("train.epochs=2", out=tmp_path / "edited", extend=tmp_path / "edited")
