"""Fault injection: runs and sweeps interrupted anywhere, damaged files, concurrent sweeps, dead workers.

Every interrupted or damaged case is compared with an uninterrupted run of the same tiny config and must
give exactly its numbers (``assert_frame_equal``, no tolerance) with no repeated epoch.
"""

from __future__ import annotations

import functools
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

# pytest's importlib mode gives this file a name sweep workers cannot import; the stand-in run functions
# live in tests/fault_runs.py, on sys.path through conftest.py (workers inherit sys.path)
from fault_runs import fake_run

from interactions import TERMS, cli, experiment, load_run, run_directory, training
from interactions.sweep import sweep
from interactions.sweep_check import check_results, table_problems
from interactions.sweep_runner import SweepLockedError, sweep_lock

TINY = {
    "name": "tiny",
    "seed": 3,
    "generator": {"name": "xor", "params": {"redundancy": 1, "unique_1": 1, "unique_2": 1, "synergy": 1}},
    "objective": {"name": "cross"},
    "model": {"width": 16, "hidden": 16, "n_tokens": 2, "heads": 2},
    "train": {"n_train": 128, "epochs": 2, "batch_size": 64, "eval_every": 1, "device": "cpu", "lr": 1e-3},
    "probe": {"n_train": 128, "n_test": 128, "Cs": [1.0]},
}
RUN_FILES = ("result.json", "metrics.jsonl", "checkpoint.pt", "config.toml")


def tiny_run(out=None, **kwargs):
    return experiment.run(TINY, [], out=out, progress=False, **kwargs)


def assert_same_run(result, reference, run_dir: Path, reference_dir: Path) -> None:
    """Exactly the reference's tables, and a metrics log with each evaluation once, equal to its log."""
    pd.testing.assert_frame_equal(result.history, reference.history)
    pd.testing.assert_frame_equal(result.losses, reference.losses)
    epochs = [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [0, 1, 2]
    assert (run_dir / "metrics.jsonl").read_text() == (reference_dir / "metrics.jsonl").read_text()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "run"
    return tiny_run(out), out


class Interrupt(KeyboardInterrupt):
    """The injected fault (a KeyboardInterrupt, as Ctrl-C raises)."""


def fail_on_call(function, call: int, before: bool = True):
    """``function`` that raises ``Interrupt`` on its ``call``-th call (1-based), before or after running."""
    calls = {"n": 0}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if before and calls["n"] == call:
            raise Interrupt(f"injected before call {call} of {function.__name__}")
        out = function(*args, **kwargs)
        if not before and calls["n"] == call:
            raise Interrupt(f"injected after call {call} of {function.__name__}")
        return out

    return wrapper


# (where, the patched attribute, call number, before/after): 128 samples / 64 = 2 steps per epoch
FAULTS = {
    "epoch 1, step 1 (epoch-0 checkpoint only)": (training.Trainer, "step", 1, True),
    "epoch 1, step 2": (training.Trainer, "step", 2, True),
    "epoch 2, step 1": (training.Trainer, "step", 3, True),
    "evaluation of epoch 0": (experiment, "_evaluate", 1, True),
    "evaluation of epoch 1": (experiment, "_evaluate", 2, True),
    "after evaluation 1, before its checkpoint": (experiment, "_evaluate", 2, False),
    "epoch boundary after checkpoint 1": (experiment, "save_checkpoint", 2, False),
    "epoch boundary after the last checkpoint": (experiment, "save_checkpoint", 3, False),
    "while writing result.json": (experiment, "seal", 1, True),
}


@pytest.mark.parametrize("where", list(FAULTS))
def test_interrupted_run_resumes_to_the_uninterrupted_numbers(tmp_path, monkeypatch, reference, where):
    owner, name, call, before = FAULTS[where]
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(owner, name, fail_on_call(getattr(owner, name), call, before))
        with pytest.raises(Interrupt):
            tiny_run(out)
    assert not (out / "result.json").exists()
    resumed = tiny_run(out)
    assert not resumed.reused
    assert_same_run(resumed, reference[0], out, reference[1])
    again = tiny_run(out)  # a third call reuses the finished run
    assert again.reused
    pd.testing.assert_frame_equal(again.history, reference[0].history)
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_middle(path: Path) -> None:
    """Change bytes in the middle of the file (plausible content for a checkpoint's tensor payload)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes((b + 1) % 256 for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", [_truncate, _flip_middle, Path.unlink], ids=["truncated", "altered", "deleted"]
)
@pytest.mark.parametrize("name", RUN_FILES)
def test_damaged_run_file_is_never_reused(tmp_path, reference, name, damage):
    out = tmp_path / "run"
    tiny_run(out)
    damage(out / name)
    rerun = tiny_run(out)
    assert_same_run(rerun, reference[0], out, reference[1])
    if name in ("result.json", "metrics.jsonl") or (name == "checkpoint.pt" and damage is not Path.unlink):
        assert not rerun.reused  # rebuilt (from the checkpoint) or retrained, never read as it was
    if name == "checkpoint.pt" and damage is not Path.unlink:
        training.load_checkpoint(out / "checkpoint.pt", torch.device("cpu"))  # rewritten, verifies
    assert tiny_run(out).reused
    assert (out / "config.toml").read_text() == (reference[1] / "config.toml").read_text()


def test_checkpoint_is_verified_before_loading(tmp_path):
    path = tmp_path / "checkpoint.pt"
    training.save_checkpoint(path, {"w": torch.arange(1000, dtype=torch.float32)})
    assert torch.equal(training.load_checkpoint(path, torch.device("cpu"))["w"], torch.arange(1000.0))
    _flip_middle(path)
    with pytest.raises(training.DamagedFileError, match="SHA-256"):
        training.load_checkpoint(path, torch.device("cpu"))
    torch.save({"w": 1}, path)  # a plain torch file is not taken for a checkpoint
    with pytest.raises(training.DamagedFileError, match="header"):
        training.load_checkpoint(path, torch.device("cpu"))


def test_another_config_cannot_reuse_a_run_even_without_config_toml(tmp_path):
    out = tmp_path / "run"
    tiny_run(out)
    (out / "config.toml").unlink()
    with pytest.raises(ValueError, match="different config"):
        experiment.run(TINY, ["train.lr=0.002"], out=out, progress=False)


def test_two_runs_cannot_share_a_directory(tmp_path, monkeypatch):
    import threading

    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.setattr(run_directory, "LOCK_WAIT_S", 0.3)
    with run_directory.run_dir_lock(out):
        assert run_directory.run_dir_busy(out)
        with pytest.raises(run_directory.RunDirectoryBusyError, match="another process is running"):
            tiny_run(out)
    assert not run_directory.run_dir_busy(out)
    # a lock held for less than LOCK_WAIT_S (a status probe, say) is waited for, not an error
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with run_directory.run_dir_lock(out):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    threading.Timer(0.1, release.set).start()
    with run_directory.run_dir_lock(out):
        assert release.is_set()  # taken once the holder let go, 0.1 s later
    holder.join(5)
    (out / ".result.json.abc.tmp").write_text("{half")  # left by a process killed while writing
    tiny_run(out)
    assert not list(out.glob(".*.tmp"))


def test_damaged_sweep_file_is_named(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_bytes(b'config = "xor\n\xff')
    with pytest.raises(ValueError, match="mine.toml"):
        sweep(str(spec), out=tmp_path / "out", progress=False, run_fn=fake_run)


def test_run_files_are_readable_by_others_under_umask_022(tmp_path):
    previous = os.umask(0o022)
    try:
        tiny_run(tmp_path / "run")
    finally:
        os.umask(previous)
    for name in ("result.json", "checkpoint.pt", "config.toml", "env.json"):
        assert stat.S_IMODE((tmp_path / "run" / name).stat().st_mode) == 0o644, name


def test_nan_loss_stops_the_run_naming_epoch_and_step(monkeypatch):
    real_step = training.Trainer.step
    calls = {"n": 0}

    def step(self, views, targets):
        terms = real_step(self, views, targets)
        calls["n"] += 1
        if calls["n"] == 4:  # epoch 2, step 2
            terms["loss"] = torch.tensor(float("nan"))
        return terms

    monkeypatch.setattr(training.Trainer, "step", step)
    with pytest.raises(FloatingPointError, match=r"nan at epoch 2, step 2 of 2"):
        tiny_run()
    training.check_finite_losses([torch.tensor(1.0), torch.tensor(2.0)], epoch=1)  # finite: no error
    with pytest.raises(FloatingPointError, match=r"inf at epoch 7, step 1 of 1"):
        training.check_finite_losses([torch.tensor(float("inf"))], epoch=7)


def test_callback_gets_epoch_losses_and_probe_rows(reference):
    calls = []
    result = tiny_run(callback=lambda epoch, losses, probe: calls.append((epoch, losses, probe)))
    assert [c[0] for c in calls] == [0, 1, 2]
    assert calls[0][1] == {}
    for epoch, losses, _ in calls[1:]:
        expected = result.losses[result.losses["epoch"] == epoch].set_index("name")["value"].to_dict()
        assert losses == expected and "loss" in losses
    for epoch, _, probe in calls:
        assert list(probe["term"]) == list(TERMS) and "epoch" not in probe
        hist = result.history[result.history["epoch"] == epoch]
        np.testing.assert_array_equal(probe["capture"].to_numpy(), hist["capture"].to_numpy())


def test_tensorboard_is_imported_only_when_asked(tmp_path):
    code = "import interactions.experiment, sys; print('torch.utils.tensorboard' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_tensorboard_writer_logs_every_evaluation(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = tiny_run(tensorboard=tmp_path / "tb")
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [e.step for e in events.Scalars("capture/synergy")] == [0, 1, 2]
    assert [e.step for e in events.Scalars("loss/loss")] == [1, 2]
    last = result.capture.set_index("term")["capture"]["synergy"]
    assert events.Scalars("capture/synergy")[-1].value == pytest.approx(last, rel=1e-6)  # float32 on disk


def test_load_run_embeds_the_probe_data_as_the_run_probed_it(reference):
    from estimators import capture

    result, out = reference
    loaded = load_run(out)
    assert loaded.config == result.config and not loaded.model.training
    exp = experiment.config_mod.resolve(loaded.config)
    parts = experiment.build(exp, torch.device("cpu"))
    (train, test), probe = parts.eval_samples, exp.probe
    z_train, z_test = loaded.embed(train.x1, train.x2), loaded.embed(test.x1, test.x2)
    assert z_train.shape == (len(train), result.feature_dim) and z_train.dtype == np.float32
    again = capture(z_train, train, z_test=z_test, sample_test=test, seed=parts.seeds.probe, **probe.options)
    pd.testing.assert_frame_equal(
        again[["term", "bits", "capture"]].reset_index(drop=True),
        result.capture[["term", "bits", "capture"]].reset_index(drop=True),
    )
    # another batch size changes only float rounding (matrix products summed in another order)
    np.testing.assert_allclose(loaded.embed(train.x1[:5], train.x2[:5]), z_train[:5], rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="no finished run"):
        load_run(out.parent / "nothing")


def test_sizes_that_cannot_fit_are_refused_before_allocation():
    import generators

    with pytest.raises(ValueError, match=r"sample\(n=1000000000\) needs about \d+\.\d GB"):
        generators.make("xor").sample(10**9)
    with pytest.raises(ValueError, match=r"train\.n_train=1000000000 needs about"):
        experiment.run(TINY, ["train.n_train=1000000000"], progress=False)


# ---------------------------------------------------------------------------------------------- sweeps
def _sweep(out, objectives=("comm", "cross"), **kwargs):
    kwargs.setdefault("run_fn", fake_run)
    return sweep("xor", {"objective.name": list(objectives)}, [0, 1], out=out, progress=False, **kwargs)


def test_sweep_writes_losses_and_a_summary(tmp_path):
    table = _sweep(tmp_path)
    losses = pd.read_csv(tmp_path / "losses.csv")
    assert list(losses.columns) == [
        "run_id",
        "generator",
        "objective",
        "seed",
        "objective.name",
        "epoch",
        "name",
        "value",
    ]
    assert len(losses) == 4 * 2 and set(losses["run_id"]) == set(table["run_id"])
    assert table.attrs["summary"] | {"elapsed_s": 0} == {
        "planned": 4,
        "trained": 4,
        "reused": 0,
        "failed": 0,
        "failures": {},
        "not_run": 0,
        "elapsed_s": 0,
        "copied": {},
        "extended": 0,
    }
    again = _sweep(tmp_path)
    assert again.attrs["summary"]["reused"] == 4 and again.attrs["summary"]["trained"] == 0
    assert stat.S_IMODE((tmp_path / "results.csv").stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_dead_worker_costs_only_its_own_run(tmp_path):
    table = _sweep(
        tmp_path,
        objectives=("comm", "cross", "cross_self"),
        workers=2,
        run_fn=functools.partial(fake_run, die_on="cross"),
    )
    failed = table[table["status"] == "failed"]
    assert set(failed["objective"]) == {"cross"} and failed["error"].str.contains("WorkerDied").all()
    assert (table[table["objective"] != "cross"]["status"] == "ok").all()
    assert table.attrs["summary"]["failed"] == 2
    retried = _sweep(tmp_path, objectives=("comm", "cross", "cross_self"), workers=2)
    assert (retried["status"] == "ok").all() and retried.attrs["summary"]["trained"] == 2


def test_fail_fast_stops_at_the_first_failure(tmp_path):
    table = _sweep(tmp_path, objectives=("simclr", "comm"), fail_fast=True)
    summary = table.attrs["summary"]
    assert summary["failed"] == 1 and summary["not_run"] == 3 and set(table["objective"]) == {"simclr"}
    assert list(summary["failures"].values())[0].startswith("FloatingPointError: training loss became nan")


def test_second_sweep_on_the_same_directory_is_refused(tmp_path, capsys):
    with sweep_lock(tmp_path):
        with pytest.raises(SweepLockedError, match=f"pid {os.getpid()}"):
            _sweep(tmp_path)
        code = cli.main(["sweep", "xor", "--grid", "objective.name=comm", "--out", str(tmp_path), "-q"])
    assert code == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another sweep is running" in err[0]
    _sweep(tmp_path)  # the lock is gone with its holder


def test_damaged_or_incomplete_table_is_refused_then_rebuilt(tmp_path):
    reference = _sweep(tmp_path / "ref")
    out = tmp_path / "s"
    _sweep(out)
    (out / "results.parquet").unlink(missing_ok=True)
    assert table_problems(out) == []
    csv = out / "results.csv"
    text = csv.read_text()
    csv.write_text(text[: int(len(text) * 0.6)])  # cut mid-line
    problems = " ".join(table_problems(out))
    assert "planned runs have no rows" in problems
    assert "lack some terms" in problems or "no valid epoch" in problems
    frame = pd.read_csv(io.StringIO(text)).astype({"capture": object})
    frame.loc[5, "capture"] = "0.3x"  # one unparsable value
    frame.to_csv(csv, index=False)
    with pytest.raises(ValueError, match="not numbers"):
        check_results(out)
    first = reference["run_id"].iloc[0]
    csv.write_text(text.replace(f"\n{first},", "\n#gone,"))
    assert any("not in the sweep's plan" in p for p in table_problems(out))
    rebuilt = _sweep(out)
    pd.testing.assert_frame_equal(rebuilt, reference.assign(run_id=rebuilt["run_id"]))
    assert table_problems(out) == []


def test_table_rows_are_compared_with_the_sealed_run_result(tmp_path):
    from interactions.atomic import seal
    from interactions.sweep_check import frame_problems

    _sweep(tmp_path)
    table = pd.read_csv(tmp_path / "results.csv")
    run_id = table["run_id"].iloc[0]
    history = [
        {"epoch": int(r.epoch), "term": r.term, "capture": float(r.capture)}
        for r in table[table["run_id"] == run_id].itertuples()
    ]
    (tmp_path / "runs" / run_id / "result.json").write_text(json.dumps(seal({"history": history})))
    planned = list(dict.fromkeys(table["run_id"]))
    assert frame_problems(table, planned, tmp_path / "runs") == []
    stale = table.copy()
    stale.loc[0, "capture"] += 0.01  # row 0 belongs to run_id
    problems = frame_problems(stale, planned, tmp_path / "runs")
    assert len(problems) == 1 and f"{run_id} (its result.json has epochs [0, 1, 2])" in problems[0]


@pytest.mark.parametrize("name", ["result.json", "metrics.jsonl", "results.csv"])
def test_real_sweep_rebuilds_a_damaged_run_or_table(tmp_path, name):
    def real_sweep():
        return sweep(TINY, {"objective.name": ["cross"]}, [3], out=tmp_path, progress=False)

    reference = real_sweep()
    run_id = reference["run_id"].iloc[0]
    path = tmp_path / name if name == "results.csv" else tmp_path / "runs" / run_id / name
    _truncate(path)
    again = real_sweep()
    pd.testing.assert_frame_equal(again, reference)
    reused = name == "results.csv"  # a damaged table is rebuilt from the intact run directory
    assert again.attrs["summary"]["reused"] == int(reused) and again.attrs["summary"]["trained"] == int(
        not reused
    )
    assert table_problems(tmp_path) == []


def test_cli_exit_codes_and_messages(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "s")
    monkeypatch.setattr(experiment, "run", fake_run)  # what sweep() runs when given no run_fn
    assert cli.main(["sweep", "xor", "--grid", "objective.name=comm,simclr", "--out", out, "-q"]) == 1
    err = capsys.readouterr().err
    assert "failed run" in err and "FloatingPointError: training loss became nan" in err
    assert cli.main(["sweep", "xor", "--grid", "objective.name=comm,crosss", "--out", out, "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "crosss" in err[0] and "did you mean 'cross'" in err[0]
    assert cli.main(["sweep", "xor", "--grid", "objective.name=comm,simclr", "--out", out, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "finished" in printed and "failed" in printed and "2 runs planned" in printed
    assert cli.main(["report", out]) == 2
    assert "failed: FloatingPointError" in capsys.readouterr().err
    with pytest.raises(SystemExit) as version:
        cli.main(["--version"])
    assert version.value.code == 0 and capsys.readouterr().out.startswith("interactions ")


def test_cli_reuse_message_and_one_line_errors(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(experiment.config_mod.to_toml(TINY))
    out = str(tmp_path / "run")
    assert cli.main(["run", str(config), "--out", out, "-q"]) == 0
    assert cli.main(["run", str(config), "--out", out]) == 0
    assert "reusing the finished run" in capsys.readouterr().err
    assert cli.main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml" in capsys.readouterr().err
    config.write_bytes(b"\xff\xfe not toml")
    assert cli.main(["run", str(config)]) in (1, 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tiny.toml" in err[0]


def test_help_texts_are_plain_words():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in subparsers.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
            assert "``" not in action.help and "`" not in action.help


# ----------------------------------------------------------------------------- real processes (slow)
SWEEP_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import interactions.experiment, fault_runs
interactions.experiment.run = fault_runs.slow_run
from interactions import cli
argv = ["sweep", "xor", "--grid", "objective.name=comm,cross", "--out", {out!r}, "--workers", "2", "-q"]
sys.exit(cli.main(argv))
"""


def _start_sweep(tmp_path) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "s"
    script = SWEEP_SCRIPT.format(tests=str(Path(__file__).parent), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob("runs/*/pid"))) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
        time.sleep(0.2)
    return proc, out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _workers_end(out: Path, within_s: float = 10.0) -> bool:
    pids = [int(p.read_text()) for p in out.glob("runs/*/pid")]
    deadline = time.monotonic() + within_s
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not any(_alive(p) for p in pids)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "int"])
def test_killing_the_sweep_stops_its_workers(tmp_path, sig):
    proc, out = _start_sweep(tmp_path)
    proc.send_signal(sig)
    code = proc.wait(timeout=60)
    assert _workers_end(out), "workers outlived their sweep"
    if sig == signal.SIGINT:
        err = proc.stderr.read().strip().splitlines()
        assert code == 130 and len(err) == 1 and "interrupted" in err[0], err
    elif sig == signal.SIGTERM:
        assert code == 143
    with sweep_lock(out):  # the lock died with the sweep
        pass


@pytest.mark.slow
def test_a_second_sweep_process_gets_the_lock_message(tmp_path):
    proc, out = _start_sweep(tmp_path)
    try:
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "interactions",
                "sweep",
                "xor",
                "--grid",
                "objective.name=comm",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 3 and "another sweep is running" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


@pytest.mark.slow
def test_results_do_not_depend_on_workers(tmp_path):
    overrides = [
        "model.width=16",
        "model.hidden=16",
        "model.n_tokens=2",
        "model.heads=2",
        "train.n_train=128",
    ]
    overrides += [
        "train.batch_size=64",
        "train.epochs=2",
        "probe.n_train=128",
        "probe.n_test=128",
        "probe.Cs=[1.0]",
    ]
    grid = {"objective.name": ["comm", "cross"]}
    one = sweep("xor", grid, [0], overrides=overrides, out=tmp_path / "one", progress=False)
    two = sweep("xor", grid, [0], overrides=overrides, out=tmp_path / "two", progress=False, workers=2)
    pd.testing.assert_frame_equal(one, two)
    envs = [json.loads(p.read_text()) for p in tmp_path.glob("*/runs/*/env.json")]
    assert [e["num_threads"] for e in envs] == [1] * 4
