"""Sweeps: grid parsing, the results table, resuming after an interrupt, failures, parallel workers."""

from __future__ import annotations

import functools
import importlib
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from interactions.sweep import (
    RESULT_COLUMNS,
    export_sweep,
    extend_shorter_runs,
    format_summary,
    load_sweep,
    parse_grid,
    parse_seeds,
    plan_runs,
    read_sweep,
    run_id_for,
    sweep,
)
from interactions.training import load_checkpoint
from interactions.types import TERMS

EPOCHS = 2  # evaluations at epochs 0, 1, 2


def _overrides_dict(overrides):
    from interactions.config_io import parse_value

    return {k: parse_value(v) for k, v in (o.split("=", 1) for o in overrides)}


def fake_run(
    config,
    overrides=None,
    *,
    seed=None,
    device=None,
    out=None,
    resume=True,
    progress=True,
    fail_objective=None,
    interrupt_on=None,
    log=None,
):
    """A fast stand-in for ``interactions.experiment.run`` with the same run-directory contract."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = _overrides_dict(overrides or [])
    objective = params.get("objective.name", "comm")
    resolved = {"generator": {"name": "xor"}, "objective": {"name": objective}, "seed": seed}
    if resume and (out / "result.json").exists():
        history = pd.DataFrame(json.loads((out / "result.json").read_text())["history"])
        return SimpleNamespace(config=resolved, history=history, status="ok", run_dir=out)
    resumed = resume and (out / "checkpoint.json").exists()
    lines = []
    if log is not None:
        with open(log, "a") as handle:
            handle.write(f"{'resume' if resumed else 'train'} {out.name}\n")
        lines = Path(log).read_text().splitlines()
    if objective == fail_objective:
        raise RuntimeError(f"boom in {objective}")
    if interrupt_on is not None and len(lines) == interrupt_on:
        (out / "checkpoint.json").write_text("{}")
        raise KeyboardInterrupt
    synergy = params.get("generator.params.synergy", 1)
    rows = []
    for epoch in range(EPOCHS + 1):
        for k, term in enumerate(TERMS):
            capture = 0.1 * epoch + 0.01 * k + 0.001 * seed + 0.1 * len(objective) / 10 + 0.05 * synergy
            rows.append(
                dict(epoch=epoch, term=term, balanced_accuracy=0.5 + capture / 4, bits=capture * synergy)
                | dict(true_bits=float(synergy), capture=capture, floor=0.05 * synergy, chance=0.5)
                | dict(feature_dim=8)
            )
    history = pd.DataFrame(rows)
    (out / "result.json").write_text(json.dumps({"history": rows}))
    return SimpleNamespace(config=resolved, history=history, status="ok", run_dir=out)


GRID = {"objective.name": ["comm", "cross"], "generator.params.synergy": [1, 2]}
SEEDS = [0, 1]


def _sweep(out, **kwargs):
    return sweep("xor", GRID, SEEDS, out=out, progress=False, **kwargs)


def test_parse_grid_values_and_errors():
    grid = parse_grid(
        ["objective.name=comm,cross", "generator.params.synergy=1,2", "x=[1, 2],'a,b',true,1e-3"]
    )
    assert grid == {
        "objective.name": ["comm", "cross"],
        "generator.params.synergy": [1, 2],
        "x": [[1, 2], "a,b", True, 1e-3],
    }
    for bad in (["objective.name"], ["=1,2"], ["a=1,,2"], ["a=1,1"], ["a=1", "a=2"]):
        with pytest.raises(ValueError, match="a|objective|="):
            parse_grid(bad)


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("42-46") == [42, 43, 44, 45, 46]
    assert parse_seeds("0,2,5") == [0, 2, 5]
    assert parse_seeds("0-1,7") == [0, 1, 7]
    for bad in ("4-0", "a", "1,1", "", "-3"):
        with pytest.raises(ValueError, match="bad seeds"):
            parse_seeds(bad)


def test_run_ids_are_stable_and_distinct():
    runs = plan_runs("xor", GRID, SEEDS)
    assert len(runs) == 8 and len({r.run_id for r in runs}) == 8
    assert [r.run_id for r in plan_runs("xor", GRID, SEEDS)] == [r.run_id for r in runs]
    assert run_id_for("xor", [], {"a": True}, 0) != run_id_for("xor", [], {"a": 1}, 0)
    assert run_id_for("xor", [], {"a": 1}, 0) != run_id_for("xor", ["train.epochs=1"], {"a": 1}, 0)
    assert runs[0].overrides == ('objective.name="comm"', "generator.params.synergy=1")  # TOML text


def test_sweep_writes_tidy_table(tmp_path):
    table = _sweep(tmp_path, run_fn=fake_run)
    assert list(table.columns) == [*RESULT_COLUMNS, *GRID]
    assert len(table) == 8 * (EPOCHS + 1) * len(TERMS)
    assert (table["status"] == "ok").all() and (table["error"] == "").all()
    assert not table.duplicated(["run_id", "epoch", "term"]).any()
    counts = table.groupby(["objective", "generator.params.synergy", "seed"]).size()
    assert (counts == (EPOCHS + 1) * len(TERMS)).all() and len(counts) == 8
    # grid columns carry each run's assignment, and the metrics are the run's own
    row = table[(table["objective"] == "cross") & (table["generator.params.synergy"] == 2)]
    row = row[(row["seed"] == 1) & (row["epoch"] == 2) & (row["term"] == "synergy")].iloc[0]
    assert row["capture"] == pytest.approx(0.2 + 0.03 + 0.001 + 0.05 + 0.1)
    assert row["objective.name"] == "cross"
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert len(on_disk) == len(table)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), table)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(table["run_id"].unique())
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_reuse_copies_the_same_runs_from_another_sweep_and_the_summary_says_so(tmp_path):
    first = _sweep(tmp_path / "a", run_fn=fake_run)
    assert format_summary(first.attrs["summary"]).startswith("8 runs: 8 trained, 0 reused, 0 failed in ")
    (tmp_path / "a" / "runs" / first["run_id"].iloc[0] / "result.json").unlink()  # one run not finished
    second = _sweep(tmp_path / "b", run_fn=fake_run, reuse=[tmp_path / "a"])
    summary = second.attrs["summary"]
    assert summary["copied"] == {str(tmp_path / "a"): 7}
    assert (summary["trained"], summary["reused"]) == (1, 7)
    assert format_summary(summary).startswith("8 runs: 1 trained, 7 reused (7 copied), 0 failed in ")
    keys = ["run_id", "epoch", "term"]
    pd.testing.assert_frame_equal(
        second.sort_values(keys).reset_index(drop=True), first.sort_values(keys).reset_index(drop=True)
    )
    dry = _sweep(tmp_path / "c", run_fn=fake_run, reuse=[tmp_path / "a"], dry_run=True)
    assert not (tmp_path / "c").exists()  # a dry run copies nothing, but says what it would copy
    assert dry["state"].tolist() == ["new"] + ["reusable"] * 7
    # a run already begun in the sweep's own directory resumes there: it is not copied over
    begun = tmp_path / "c" / "runs" / first["run_id"].unique()[1]
    begun.mkdir(parents=True)
    (begun / "checkpoint.pt").write_bytes(b"")
    dry = _sweep(tmp_path / "c", run_fn=fake_run, reuse=[tmp_path / "a"], dry_run=True)
    assert dry["state"].tolist() == ["new", "interrupted"] + ["reusable"] * 6


def test_dry_run_tells_running_from_interrupted_runs_and_gives_their_checkpoint_epoch(tmp_path):
    from interactions.run_directory import run_dir_lock
    from interactions.training import save_checkpoint

    ids = _sweep(tmp_path, run_fn=fake_run, dry_run=True)["run_id"].tolist()
    for run_id, epoch in zip(ids[:2], (5, 2)):
        (tmp_path / "runs" / run_id).mkdir(parents=True)
        save_checkpoint(tmp_path / "runs" / run_id / "checkpoint.pt", {"epoch": epoch})
    (tmp_path / "runs" / ids[2]).mkdir()
    (tmp_path / "runs" / ids[2] / "checkpoint.pt").write_bytes(b"half")  # damaged: no epoch
    with run_dir_lock(tmp_path / "runs" / ids[1]):  # a worker is training it
        dry = _sweep(tmp_path, run_fn=fake_run, dry_run=True)
    assert dry["state"].tolist() == ["interrupted", "running", "interrupted"] + ["new"] * 5
    assert dry["epoch"].tolist()[:3] == [5, 2, pd.NA] and dry["epoch"].isna().sum() == 6
    assert _sweep(tmp_path, run_fn=fake_run, dry_run=True)["state"].tolist()[1] == "interrupted"


def test_export_copies_tables_and_finished_runs_without_checkpoints(tmp_path):
    first = _sweep(tmp_path / "a", run_fn=fake_run)
    ids = first["run_id"].unique().tolist()
    (tmp_path / "a" / "runs" / ids[0] / "checkpoint.pt").write_bytes(b"weights")
    (tmp_path / "a" / "runs" / ids[1] / "result.json").unlink()  # no longer finished: not exported
    assert export_sweep(tmp_path / "a", tmp_path / "x") == 7
    exported = tmp_path / "x"
    assert sorted(p.name for p in (exported / "runs").iterdir()) == sorted(ids[:1] + ids[2:])
    assert not (exported / "runs" / ids[0] / "checkpoint.pt").exists()
    assert (exported / "runs" / ids[0] / "result.json").exists()
    for name in ("sweep.json", "results.csv", "losses.csv"):
        assert (exported / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    assert not (exported / ".sweep.lock").exists() and not list(tmp_path.glob(".*export"))
    # a sweep continued from the export trains only the run it lacks
    again = _sweep(tmp_path / "b", run_fn=fake_run, reuse=[exported])
    assert (again.attrs["summary"]["trained"], again.attrs["summary"]["reused"]) == (1, 7)
    with pytest.raises(ValueError, match="is not empty"):
        export_sweep(tmp_path / "a", exported)
    with pytest.raises(ValueError, match="no sweep.json"):
        export_sweep(tmp_path / "a" / "runs", tmp_path / "y")
    assert not (tmp_path / "y").exists()


def test_export_reads_a_running_sweep_as_the_snapshot_its_tables_list(tmp_path, monkeypatch):
    import interactions.sweep_share as sweep_share
    from interactions.sweep_runner import sweep_lock

    first = _sweep(tmp_path / "a", run_fn=fake_run)
    ids = first["run_id"].unique().tolist()
    source = tmp_path / "a"
    # the last run finished after the tables were written: sealed, but not yet listed
    for name in ("results.csv", "losses.csv"):
        table = pd.read_csv(source / name)
        table[table["run_id"] != ids[-1]].to_csv(source / name, index=False)
    (source / "results.parquet").unlink(missing_ok=True)
    with sweep_lock(source):  # a sweep holds the directory: the export still reads it
        assert export_sweep(source, tmp_path / "x") == len(ids) - 1
    assert sorted(p.name for p in (tmp_path / "x" / "runs").iterdir()) == sorted(ids[:-1])
    assert (tmp_path / "x" / "results.csv").read_bytes() == (source / "results.csv").read_bytes()

    # the sweep rewrites a table while the runs are copied: the export starts again and takes the new one
    copy = sweep_share.copy_finished_runs
    calls = []

    def copy_while_the_sweep_writes(run_ids, src, out, **kwargs):
        calls.append(list(run_ids))
        if len(calls) == 1:
            first.to_csv(source / "results.csv", index=False)  # now listing every run
        return copy(run_ids, src, out, **kwargs)

    monkeypatch.setattr(sweep_share, "copy_finished_runs", copy_while_the_sweep_writes)
    assert export_sweep(source, tmp_path / "y") == len(ids)
    assert len(calls) == 2 and calls[1] == ids
    assert (tmp_path / "y" / "results.csv").read_bytes() == (source / "results.csv").read_bytes()

    def copy_while_the_sweep_always_writes(run_ids, src, out, **kwargs):
        with open(source / "losses.csv", "a") as handle:
            handle.write("\n")
        return copy(run_ids, src, out, **kwargs)

    monkeypatch.setattr(sweep_share, "copy_finished_runs", copy_while_the_sweep_always_writes)
    with pytest.raises(RuntimeError, match="changed during each of 3 export attempts"):
        export_sweep(source, tmp_path / "z", tries=3)
    assert not (tmp_path / "z").exists() and not list(tmp_path.glob(".*export"))
    with pytest.raises(ValueError, match="tries must be a positive int, got 0"):
        export_sweep(source, tmp_path / "z", tries=0)


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path):
    reference = _sweep(tmp_path / "ref", run_fn=fake_run)
    log = tmp_path / "log.txt"
    interrupted = functools.partial(fake_run, interrupt_on=3, log=str(log))
    with pytest.raises(KeyboardInterrupt):
        _sweep(tmp_path / "s", run_fn=interrupted)
    partial = pd.read_csv(tmp_path / "s" / "results.csv")
    assert partial["run_id"].nunique() == 2  # the two finished runs, intact
    resumed = _sweep(tmp_path / "s", run_fn=functools.partial(fake_run, log=str(log)))
    pd.testing.assert_frame_equal(resumed, reference)
    assert not resumed.duplicated(["run_id", "epoch", "term"]).any()
    events = log.read_text().split()[0::2]
    # runs 1-2 trained once and not again, run 3 interrupted then resumed from its checkpoint, 4-8 trained
    assert events == ["train"] * 3 + ["resume"] + ["train"] * 5
    again = _sweep(tmp_path / "s", run_fn=functools.partial(fake_run, log=str(log)))
    pd.testing.assert_frame_equal(again, reference)
    assert len(log.read_text().splitlines()) == 9  # a third call trains nothing


def test_failed_run_is_recorded_and_others_finish(tmp_path):
    table = _sweep(tmp_path, run_fn=functools.partial(fake_run, fail_objective="cross"))
    failed = table[table["objective"] == "cross"]
    assert (failed["status"] == "failed").all() and failed["run_id"].nunique() == 4
    assert len(failed) == 4 * len(TERMS)  # one row per term, no epochs
    assert failed["error"].str.contains("RuntimeError: boom in cross").all()
    assert (
        failed["epoch"].isna().all() and failed[["capture", "bits", "balanced_accuracy"]].isna().all().all()
    )
    ok = table[table["objective"] == "comm"]
    assert (ok["status"] == "ok").all() and len(ok) == 4 * (EPOCHS + 1) * len(TERMS)
    run_dir = tmp_path / "runs" / failed["run_id"].iloc[0]
    assert "boom in cross" in (run_dir / "error.txt").read_text()
    # a rerun retries the failed runs
    retried = _sweep(tmp_path, run_fn=fake_run)
    assert (retried["status"] == "ok").all()


def _importable_fake_run(monkeypatch):
    """``fake_run`` from a module that spawned workers can import by name (pytest's importlib mode
    gives this file a name they cannot import); workers inherit ``sys.path`` from this process."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    return importlib.import_module("test_sweep").fake_run


def test_parallel_workers_give_the_same_table(tmp_path, monkeypatch):
    serial = _sweep(tmp_path / "a", run_fn=fake_run)
    parallel = _sweep(tmp_path / "b", run_fn=_importable_fake_run(monkeypatch), workers=2)
    pd.testing.assert_frame_equal(parallel, serial)


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="backend"):
        _sweep(tmp_path, run_fn=fake_run, backend="slurm")
    with pytest.raises(ValueError, match="workers"):
        _sweep(tmp_path, run_fn=fake_run, workers=0)
    with pytest.raises(ValueError, match="seed"):
        sweep("xor", {"seed": [1, 2]}, [0], out=tmp_path, run_fn=fake_run)
    with pytest.raises(ValueError, match="non-empty list"):
        sweep("xor", {"objective.name": "comm"}, [0], out=tmp_path, run_fn=fake_run)


def test_shipped_sweep_files_load():
    config, grid, seeds, overrides = load_sweep("trifeature_paper")
    assert config == "trifeature_paper" and seeds == [42, 43, 44, 45, 46] and overrides == []
    assert grid == {
        "objective.name": ["cross", "cross_self", "factorcl", "comm"],
        "generator.params.bias": [0.0, 1.0],  # contract 2: bias is a float
    }
    config, _, seeds, overrides = load_sweep("trifeature_cpu")  # 4 convs, jittered views, 96 epochs
    assert config == "trifeature_cpu" and seeds == [42, 43, 44]
    assert overrides[:3] == ["model.cnn_channels=[32, 64, 64, 128]", "train.epochs=96", "train.eval_every=16"]
    assert overrides[3] == 'train.augment="views+generic"' and "blur_prob=0.0" in overrides[4]
    config, _, seeds, overrides = load_sweep("trifeature_cpu_exact")  # the former one: exact views, 64 epochs
    assert config == "trifeature_cpu" and seeds == [42, 43, 44]
    assert overrides == ["model.cnn_channels=[32, 64, 64, 128]", "train.epochs=64"]
    assert load_sweep("trifeature_cpu_fast")[3] == []  # the base config as it is
    with pytest.raises(ValueError, match="did you mean 'xor'"):
        load_sweep("xorr")


def test_sweep_definition_file_drives_a_sweep(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text('config = "xor"\nseeds = "3-4"\n[grid]\n"objective.name" = ["comm"]\n')
    table = sweep(str(spec), out=tmp_path / "out", progress=False, run_fn=fake_run)
    assert sorted(table["seed"].unique()) == [3, 4] and set(table["objective"]) == {"comm"}
    spec.write_text('config = "xor"\nseed = 1\n[grid]\n"objective.name" = ["comm"]\n')
    with pytest.raises(ValueError, match="did you mean 'seeds'"):
        load_sweep(spec)


@pytest.mark.slow
def test_ray_backend_matches_local(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    # Ray's workers do not inherit sys.path: give them this directory through their environment
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    local = _sweep(tmp_path / "a", run_fn=fake_run)
    remote = _sweep(tmp_path / "b", run_fn=_importable_fake_run(monkeypatch), backend="ray", workers=2)
    ray.shutdown()
    pd.testing.assert_frame_equal(remote, local)


def test_real_run_on_tiny_xor(tmp_path):
    experiment = pytest.importorskip(
        "interactions.experiment", reason="interactions.experiment not written yet"
    )
    del experiment
    table = sweep(
        "xor",
        {"objective.name": ["cross"]},
        [0],
        overrides=TINY_XOR,
        out=tmp_path,
        progress=False,
    )
    assert (table["status"] != "failed").all(), table["error"].iloc[0]
    assert set(table["term"]) == set(TERMS) and list(table["epoch"].unique()) == [0, 1]
    assert (table["generator"] == "xor").all() and (table["objective"] == "cross").all()
    assert np.isfinite(table["capture"].where(table["true_bits"] > 0, 0)).all()
    before = os.path.getmtime(tmp_path / "runs" / table["run_id"].iloc[0] / "result.json")
    again = sweep("xor", {"objective.name": ["cross"]}, [0], overrides=TINY_XOR, out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(again, table)
    assert os.path.getmtime(tmp_path / "runs" / table["run_id"].iloc[0] / "result.json") == before


#: Small enough that one run trains and probes in a few seconds on one CPU core.
TINY_XOR: list[str] = [
    "train.epochs=1",
    "train.n_train=256",
    "train.eval_every=1",
    "train.device='cpu'",
    "probe.n_train=256",
    "probe.n_test=128",
    "model.width=16",
    "model.hidden=32",
]


def test_objective_params_reach_only_their_objective():
    runs = plan_runs(
        "xor", {"objective.name": ["comm", "supervised"]}, [0], (), {"supervised": {"target": "synergy"}}
    )
    by_objective = {r.objective: r.overrides for r in runs}
    assert 'objective.params.target="synergy"' in by_objective["supervised"]
    assert not any(o.startswith("objective.params.") for o in by_objective["comm"])
    plain = plan_runs("xor", {"objective.name": ["comm", "supervised"]}, [0])
    assert plain[0].run_id == runs[0].run_id and plain[1].run_id != runs[1].run_id
    with pytest.raises(ValueError, match="objective_params"):
        plan_runs("xor", {"objective.name": ["comm"]}, [0], (), {"supervised": "synergy"})


def test_sweep_json_records_the_per_objective_settings(tmp_path):
    _sweep(tmp_path / "plain", run_fn=fake_run)
    assert json.loads((tmp_path / "plain" / "sweep.json").read_text())["objective_settings"] == {}
    _sweep(tmp_path / "own", run_fn=fake_run, objective_params={"cross": {"temperature": 0.2}},
           objective_overrides={"cross": {"train.lr": 1e-4}})  # fmt: skip
    manifest = json.loads((tmp_path / "own" / "sweep.json").read_text())
    own = {"cross": {"objective.params.temperature": 0.2, "train.lr": 1e-4}}
    assert manifest["objective_settings"] == own


def test_per_objective_settings_are_columns_of_the_tables(tmp_path):
    """A setting only Cross gets is a column of results.csv, losses.csv and the dry-run plan: its value on
    Cross's rows, empty on the others; the reports do not take it for a grid key."""
    from reports.results import grid_keys, load_results

    own = dict(
        objective_params={"cross": {"temperature": 0.2}}, objective_overrides={"cross": {"train.lr": 1e-4}}
    )
    plan = sweep("xor", GRID, SEEDS, out=tmp_path / "out", progress=False, dry_run=True, **own)
    assert list(plan.columns[-4:]) == ["objective.params.temperature", "train.lr", "state", "epoch"]
    _sweep(tmp_path / "out", run_fn=fake_run, **own)
    table = load_results(tmp_path / "out")
    cross, comm = table[table["objective"] == "cross"], table[table["objective"] == "comm"]
    assert (cross["objective.params.temperature"] == 0.2).all() and (cross["train.lr"] == 1e-4).all()
    assert comm["objective.params.temperature"].isna().all() and comm["train.lr"].isna().all()
    assert grid_keys(table, varying=True) == ["generator.params.synergy"]
    assert {r.objective: r.settings for r in plan_runs("xor", GRID, [0], (), **own)} == {
        "comm": {},
        "cross": {"objective.params.temperature": 0.2, "train.lr": 1e-4},
    }


def test_a_per_objective_setting_of_a_grid_key_shows_the_value_the_run_got(tmp_path):
    """When a per-objective setting overrides a grid key, that objective's rows show the setting."""
    _sweep(tmp_path, run_fn=fake_run, objective_overrides={"cross": {"generator.params.synergy": 3}})
    table = pd.read_csv(tmp_path / "results.csv")
    assert set(table.loc[table["objective"] == "cross", "generator.params.synergy"]) == {3}
    assert set(table.loc[table["objective"] == "comm", "generator.params.synergy"]) == {1, 2}


def test_every_shipped_sweep_plans_configs_that_resolve(tmp_path):
    """``--dry-run`` resolves every planned config: each shipped sweep passes, a bad one is refused."""
    from interactions.sweep import shipped_sweeps

    for name, _ in shipped_sweeps():
        plan = sweep(name, out=tmp_path / name, progress=False, dry_run=True)
        assert len(plan) >= 18 and set(plan["state"]) == {"new"}, name
        if name.startswith("trifeature_cpu"):  # Cross+Self's CPU-budget self weight only
            lam = plan.groupby("objective")["objective.params.lam"].unique().to_dict()
            want = 8.0 if name == "trifeature_cpu_fast" else 16.0
            assert lam["cross_self"].tolist() == [want] and np.isnan(lam["comm"]).all()
    bad = tmp_path / "bad.toml"
    bad.write_text('config = "xor"\nseeds = [0]\n[grid]\n"train.lr" = [1e-3, -1.0]\n')
    with pytest.raises(ValueError, match="train.lr=-1.0"):
        sweep(str(bad), out=tmp_path / "bad", progress=False, dry_run=True)
    assert not (tmp_path / "bad").exists()


def test_shipped_xor_sweep_runs_both_protocols_over_five_seeds():
    config, grid, seeds, overrides = load_sweep("xor")
    assert config == "xor" and seeds == [0, 1, 2, 3, 4] and overrides == []
    assert grid == {"objective.name": ["comm", "cross", "cross_self"], "generator.params.bias": [0.0, 0.8]}
    assert len(plan_runs(config, grid, seeds)) == 30


def test_single_run_reproduces_its_sweep_row_bit_for_bit(tmp_path):
    """``interactions.run`` with a sweep run's overrides and seed gives exactly that run's rows."""
    from interactions import run

    table = sweep("xor", {"objective.name": ["comm"]}, [3], overrides=TINY_XOR, out=tmp_path, progress=False)
    single = run("xor", overrides=[*TINY_XOR, "objective.name=comm", "seed=3"])
    rows = table.set_index(["epoch", "term"]).sort_index()
    history = single.history.set_index(["epoch", "term"]).sort_index()
    for column in ("bits", "balanced_accuracy", "capture", "floor"):
        np.testing.assert_array_equal(rows[column].to_numpy(), history[column].to_numpy(), err_msg=column)


# ------------------------------------------------------------------- checked before the first run starts
TINY_CONFIG = {
    "name": "tiny",
    "seed": 0,
    "generator": {"name": "xor"},
    "objective": {"name": "comm"},
    "model": {"width": 16, "hidden": 16, "n_tokens": 2, "heads": 2},
    "train": {"n_train": 128, "epochs": 1, "batch_size": 64, "eval_every": 1, "device": "cpu"},
    "probe": {"n_train": 128, "n_test": 128, "Cs": [1.0]},
}


def test_bad_grid_value_fails_before_any_training(tmp_path):
    grid = {"objective.name": ["comm", "cross"], "train.lr": [1e-3, -1.0]}
    with pytest.raises(ValueError) as err:
        sweep(TINY_CONFIG, grid, [0, 1], out=tmp_path / "out", progress=False)
    message = str(err.value)
    # two configs (comm and cross with lr = -1) fail, each named once for both seeds
    assert (
        "2 planned config(s) of the sweep do not resolve" in message
        and "train.lr must be a positive" in message
    )
    assert "train.lr=-1.0" in message
    assert not (tmp_path / "out").exists()  # nothing was started, not even the directory


def test_objective_overrides_reach_only_their_objective(tmp_path):
    runs = plan_runs(
        "xor",
        {"objective.name": ["comm", "factorcl"]},
        [0],
        (),
        {"factorcl": {"lam": 0.5}},
        {"factorcl": {"train": {"lr": 1e-4, "epochs": 3}, "train.weight_decay": 0.0}},
    )
    by_objective = {r.objective: r.overrides for r in runs}
    assert by_objective["comm"] == ('objective.name="comm"',)
    assert set(by_objective["factorcl"][1:]) == {
        "objective.params.lam=0.5",
        "train.lr=0.0001",
        "train.epochs=3",
        "train.weight_decay=0.0",
    }
    with pytest.raises(ValueError, match="both objective_params and objective_overrides"):
        plan_runs(
            "xor", {}, [0], (), {"comm": {"temperature": 0.2}}, {"comm": {"objective.params.temperature": 1}}
        )
    spec = tmp_path / "mine.toml"
    spec.write_text(
        'config = "xor"\nseeds = [0]\n[grid]\n"objective.name" = ["comm", "factorcl"]\n'
        '[objective_overrides.factorcl]\n"train.lr" = 1e-4\ntrain.epochs = 3\n'
    )
    table = sweep(str(spec), out=tmp_path / "out", progress=False, run_fn=fake_run)
    assert set(table["objective"]) == {"comm", "factorcl"}
    manifest = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert len({r["run_id"] for r in manifest["runs"]}) == 2


def test_read_sweep_gives_every_table_of_one_read(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text(
        'description = """two\n   lines"""\nconfig = "base.toml"\nseeds = "5-6"\n'
        'overrides = ["train.epochs=3"]\n'
        '[grid]\n"objective.name" = ["comm", "cross"]\n[objective_params.cross]\ntemperature = 0.2\n'
        '[objective_overrides.comm]\n"train.lr" = 1e-4\n'
    )
    got = read_sweep(spec)
    assert got.path == spec and got.config == str((tmp_path / "base.toml").resolve())  # relative to the file
    assert got.grid == {"objective.name": ["comm", "cross"]} and got.seeds == [5, 6]
    assert got.overrides == ["train.epochs=3"] and got.description == "two lines"
    assert got.objective_params == {"cross": {"temperature": 0.2}}
    assert got.objective_overrides == {"comm": {"train.lr": 1e-4}}
    settings = {"cross": {"objective.params.temperature": 0.2}, "comm": {"train.lr": 1e-4}}
    assert got.objective_settings() == settings  # the dotted keys each objective's runs get
    assert load_sweep(spec) == (got.config, got.grid, got.seeds, got.overrides)  # the tuple view agrees
    grid = '[grid]\n"objective.name" = ["comm"]\n'
    spec.write_text('config = "xor"\nseeds = [0]\nobjective_params = 3\n' + grid)
    with pytest.raises(ValueError, match="objective_params must map"):
        read_sweep(spec)
    spec.write_text('config = "xor"\nseeds = [0]\noverrides = ["train.epochs"]\n' + grid)
    with pytest.raises(ValueError, match="mine.toml.*overrides must be a list of 'key=value'"):
        read_sweep(spec)


def test_temperature_grid_over_comm_and_cross(tmp_path):
    from interactions.cli import main

    args = ["sweep", "tiny.toml", "--grid", "objective.name=comm,cross"]
    args += ["--grid", "objective.params.temperature=0.1,0.2", "--out", str(tmp_path / "out"), "--quiet"]
    from interactions.config_io import to_toml

    (tmp_path / "tiny.toml").write_text(to_toml(TINY_CONFIG))
    args[1] = str(tmp_path / "tiny.toml")
    assert main(args) == 0
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert (table["status"] != "failed").all(), table["error"].iloc[0]
    assert table.groupby(["objective", "objective.params.temperature"]).ngroups == 4


# ------------------------------------------------------------------ objectives registered from Python
from interactions.objectives import CoMM  # noqa: E402


class SweepCoMM(CoMM):
    """CoMM under another name: an objective a user registers from Python (importable by name)."""


def test_registered_objective_runs_in_a_two_worker_sweep(tmp_path):
    import interactions
    from interactions import objectives

    interactions.register_objective("sweep_comm", SweepCoMM)
    try:
        assert objectives.registrations()["sweep_comm"] == f"{__name__}:SweepCoMM"
        table = sweep(
            TINY_CONFIG,
            {"objective.name": ["sweep_comm", "comm"]},
            [0],
            workers=2,
            out=tmp_path,
            progress=False,
        )
        assert (table["status"] != "failed").all(), table["error"].iloc[0]
        assert set(table["objective"]) == {"sweep_comm", "comm"}
        assert np.isfinite(table.loc[table["objective"] == "sweep_comm", "bits"]).all()
    finally:
        objectives.OBJECTIVES.pop("sweep_comm", None)
        objectives._REGISTERED.pop("sweep_comm", None)


def test_unimportable_registered_objective_is_refused_with_a_remedy(tmp_path):
    import interactions
    from interactions import objectives

    class LocalCoMM(CoMM):
        """Defined inside a function: no worker can import it."""

    interactions.register_objective("local_comm", LocalCoMM)
    try:
        with pytest.raises(ValueError, match=r"cannot be imported by name.*top level.*workers=1"):
            sweep(
                TINY_CONFIG,
                {"objective.name": ["local_comm"]},
                [0, 1],
                workers=2,
                out=tmp_path,
                progress=False,
            )
        assert not (tmp_path / "runs").exists()
    finally:
        objectives.OBJECTIVES.pop("local_comm", None)
        objectives._REGISTERED.pop("local_comm", None)


def test_local_workers_fork_from_a_server_that_imported_torch():
    """Sweep workers start from a fork server whose preload holds torch (no per-run import of torch),
    where the platform has one; elsewhere from spawn."""
    import multiprocessing

    from interactions.sweep_runner import PRELOAD, worker_context

    before = os.environ.get("OMP_NUM_THREADS")
    context = worker_context()
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert context.get_start_method() == "forkserver" and "torch" in PRELOAD
    else:
        assert context.get_start_method() == "spawn"
    # the thread-count variables are put back after the server starts with one thread
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_extend_continues_a_shorter_sweep_to_the_table_of_one_trained_straight_through(tmp_path):
    """``extend``: every run of a 2-epoch sweep that has a 1-epoch run of the same config in another sweep
    starts from its checkpoint and ends with the straight 2-epoch numbers; InfMasking (its masking follows
    the training progress) and a seed the short sweep lacks train from their start."""
    grid = {"objective.name": ["cross", "infmasking"]}
    tiny = dict(
        TINY_CONFIG,
        model={**TINY_CONFIG["model"], "n_tokens": 4},  # InfMasking keeps 30 % of each modality's tokens
        train={**TINY_CONFIG["train"], "epochs": 1},
    )
    short = sweep(tiny, grid, [0], out=tmp_path / "short", progress=False)
    assert (short["status"] == "finished").all()
    longer = ["train.epochs=2"]
    straight = sweep(tiny, grid, [0, 1], overrides=longer, out=tmp_path / "straight", progress=False)
    cross_0 = straight.loc[(straight["objective"] == "cross") & (straight["seed"] == 0), "run_id"].iloc[0]
    dry = sweep(
        tiny, grid, [0, 1], overrides=longer, out=tmp_path / "long", extend=tmp_path / "short", dry_run=True
    )
    assert not (tmp_path / "long").exists()
    assert dry.set_index("run_id")["state"].to_dict() == {
        run_id: "extendable" if run_id == cross_0 else "new" for run_id in dry["run_id"]
    }
    extended = sweep(
        tiny, grid, [0, 1], overrides=longer, out=tmp_path / "long", extend=tmp_path / "short", progress=False
    )
    summary = extended.attrs["summary"]
    assert (summary["trained"], summary["extended"]) == (4, 1)
    assert format_summary(summary).startswith("4 runs: 4 trained (1 extended), 0 reused, 0 failed in ")
    pd.testing.assert_frame_equal(extended, straight)
    # what the sweep trains from: the short run's epoch-1 checkpoint in the run's directory, nothing else
    runs = plan_runs(tiny, grid, [0, 1], longer)
    seeded = extend_shorter_runs(tiny, runs, tmp_path / "short", tmp_path / "seeded")
    source = short.loc[short["objective"] == "cross", "run_id"].iloc[0]
    assert seeded == {cross_0: str(tmp_path / "short" / "runs" / source)}
    assert [p.name for p in (tmp_path / "seeded" / "runs").iterdir()] == [cross_0]
    checkpoint = tmp_path / "seeded" / "runs" / cross_0 / "checkpoint.pt"
    assert load_checkpoint(checkpoint, torch.device("cpu"))["epoch"] == 1
    # of two shorter runs of the same config, the one with more epochs: a 3-epoch run starts from epoch 2
    both = tmp_path / "both" / "runs"
    both.mkdir(parents=True)
    for directory in (tmp_path / "short" / "runs" / source, tmp_path / "long" / "runs" / cross_0):
        shutil.copytree(directory, both / directory.name)
    runs = plan_runs(tiny, grid, [0], ["train.epochs=3"])
    seeded = extend_shorter_runs(tiny, runs, tmp_path / "both", tmp_path / "three")
    assert list(seeded.values()) == [str(both / cross_0)]
    three = next((tmp_path / "three" / "runs").iterdir()) / "checkpoint.pt"
    assert load_checkpoint(three, torch.device("cpu"))["epoch"] == 2
    # a run the sweep already holds is never seeded again; a source that is no sweep is refused
    again = sweep(tiny, grid, [0, 1], overrides=longer, out=tmp_path / "long", extend=tmp_path / "short")
    assert (again.attrs["summary"]["reused"], again.attrs["summary"]["extended"]) == (4, 0)
    with pytest.raises(ValueError, match="is not a sweep directory"):
        sweep(tiny, grid, [0], overrides=longer, out=tmp_path / "other", extend=tmp_path / "nowhere")
