"""Tests of ``interactions bench``: files written, resuming without training, the leaderboard, errors."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from tiny_runs import TINY_BENCH

from interactions import cli
from interactions.bench import (
    LEADERBOARD_COLUMNS,
    LEARNED_THRESHOLD,
    bench,
    leaderboard_markdown,
    parse_objectives,
)
from interactions.config_io import parse_value
from interactions.tasks import TASKS
from interactions.types import TERMS

TWO_TASKS = "capacity_2bit,gaussian_unique"
THREE_OBJECTIVES = "comm,cross,supervised"
EPOCHS = 2


def capture_of(objective: str, term: str, seed: int, epoch: int, bits: float) -> float:
    """The fake run's capture: a known function of everything, crossing the 0.9 threshold for some cells."""
    return round(0.3 * epoch + 0.1 * TERMS.index(term) + 0.01 * seed + 0.05 * len(objective) - 0.02 * bits, 6)


def fake_run(
    config,
    overrides=None,
    *,
    seed=None,
    device=None,
    out=None,
    resume=True,
    progress=True,
    log=None,
    fail=False,
):
    """A fast stand-in for ``interactions.experiment.run`` with its run-directory contract.

    Appends a line to ``log`` for every training; with ``fail``, cross on gaussian seed 1 raises.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = dict(o.split("=", 1) for o in overrides or [])
    objective = parse_value(params["objective.name"])
    generator = parse_value(params["generator.name"])
    resolved = {"generator": {"name": generator}, "objective": {"name": objective}, "seed": seed}
    if resume and (out / "result.json").exists():
        history = pd.DataFrame(json.loads((out / "result.json").read_text())["history"])
        return SimpleNamespace(config=resolved, history=history, status="ok", run_dir=out)
    if log is not None:
        with open(log, "a") as handle:
            handle.write(f"train {out.name}\n")
    if fail and objective == "cross" and generator == "gaussian" and seed == 1:
        raise RuntimeError("boom")
    bits = float(parse_value(params["generator.params"]).get("redundancy", 0))
    rows = [
        dict(epoch=epoch, term=term, balanced_accuracy=0.6, bits=0.5, true_bits=1.0, chance=0.5)
        | dict(capture=capture_of(objective, term, seed, epoch, bits), floor=0.01 * epoch, feature_dim=8)
        for epoch in range(EPOCHS + 1)
        for term in TERMS
    ]
    (out / "result.json").write_text(json.dumps({"history": rows}))
    (out / "overrides.json").write_text(json.dumps(list(overrides)))
    return SimpleNamespace(config=resolved, history=pd.DataFrame(rows), status="ok", run_dir=out)


def _bench(out, log, fail=False, **kwargs):
    run_fn = functools.partial(fake_run, log=str(log), fail=fail)
    return bench(TWO_TASKS, THREE_OBJECTIVES, "0-1", out=out, progress=False, run_fn=run_fn, **kwargs)


def test_bench_writes_the_leaderboard_and_a_second_call_trains_nothing(tmp_path):
    log = tmp_path / "log.txt"
    board = _bench(tmp_path / "b", log)
    out = tmp_path / "b"
    for name in ("leaderboard.csv", "leaderboard.md", "bench.json"):
        assert (out / name).is_file()
    for task in TWO_TASKS.split(","):
        assert (out / "tasks" / task / "results.csv").is_file()
    assert len(log.read_text().splitlines()) == 2 * 3 * 2
    assert list(board.columns) == list(LEADERBOARD_COLUMNS)
    read = pd.read_csv(out / "leaderboard.csv")
    pd.testing.assert_frame_equal(read.drop(columns="level"), board.drop(columns="level"), check_dtype=False)
    assert read["level"].astype(str).tolist() == board["level"].astype(str).tolist()
    files = {name: (out / name).read_bytes() for name in ("leaderboard.csv", "leaderboard.md", "bench.json")}

    again = _bench(tmp_path / "b", log)
    assert len(log.read_text().splitlines()) == 12  # every finished run was loaded, none trained
    pd.testing.assert_frame_equal(again, board)
    for name, content in files.items():
        assert (out / name).read_bytes() == content, name


def test_leaderboard_rows_are_the_final_epoch_of_the_scored_terms(tmp_path):
    board = _bench(tmp_path / "b", tmp_path / "log.txt", fail=True)
    # capacity_2bit scores all four terms, gaussian_unique only unique_1: (4 + 1) x 3 objectives x 2 seeds
    assert len(board) == (4 + 1) * 3 * 2
    assert set(board[board["task"] == "gaussian_unique"]["term"]) == {"unique_1"}
    assert list(dict.fromkeys(board["task"])) == ["capacity_2bit", "gaussian_unique"]
    assert list(dict.fromkeys(board["objective"])) == ["comm", "cross", "supervised"]
    ok = board[board["verdict"] != "failed"]
    for row in ok.itertuples(index=False):
        bits = 2.0 if row.task == "capacity_2bit" else 0.0
        assert row.capture == pytest.approx(capture_of(row.objective, row.term, row.seed, EPOCHS, bits))
        assert row.verdict == ("learned" if row.capture >= LEARNED_THRESHOLD else "not learned")
        assert row.floor == pytest.approx(0.01 * EPOCHS)
    assert {"learned", "not learned"} <= set(ok["verdict"])
    failed = board[board["verdict"] == "failed"]
    assert failed[["task", "objective", "seed"]].drop_duplicates().values.tolist() == [
        ["gaussian_unique", "cross", 1]
    ]
    assert failed["capture"].isna().all()
    assert (board[board["task"] == "bias_1"]).empty
    grades = board.drop_duplicates("task").set_index("task")[["axis", "level"]]
    assert grades.loc["capacity_2bit"].tolist() == ["capacity", 2]
    assert grades.loc["gaussian_unique"].tolist() == ["gaussian", "unique"]


def test_supervised_runs_get_their_target_and_user_overrides_reach_every_run(tmp_path):
    _bench(tmp_path / "b", tmp_path / "log.txt", overrides=["train.epochs=3"])
    runs = sorted((tmp_path / "b" / "tasks").glob("*/runs/*/overrides.json"))
    assert len(runs) == 12
    for path in runs:
        given = json.loads(path.read_text())
        objective = next(o for o in given if o.startswith("objective.name="))
        assert given.index("train.epochs=3") > given.index(
            next(o for o in given if o.startswith("generator."))
        )
        assert ("objective.params.target='synergy'" in given) == (objective == "objective.name='supervised'")
    bench_json = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert bench_json["tasks"] == TWO_TASKS.split(",") and bench_json["seeds"] == [0, 1]


def test_leaderboard_markdown_cells():
    board = pd.DataFrame(
        [
            ("t", "capacity", 1, "comm", "synergy", seed, 1.0, capture, 0.0, 0.7, verdict)
            for seed, capture, verdict in [
                (0, 0.95, "learned"),
                (1, 0.2, "not learned"),
                (2, 0.91, "learned"),
            ]
        ]
        + [("t", "capacity", 1, "cross", "synergy", 0, 1.0, np.nan, np.nan, np.nan, "failed")],
        columns=LEADERBOARD_COLUMNS,
    )
    md = leaderboard_markdown(board)
    assert "| task | true bits | comm | cross |" in md
    assert "| t | 1.000 | 0.91 (2/3) | failed |" in md
    assert "## synergy" in md and "## redundancy" not in md


def test_unknown_names_get_suggestions_and_bad_configs_fail_before_training(tmp_path):
    log = tmp_path / "log.txt"
    run_fn = functools.partial(fake_run, log=str(log))
    with pytest.raises(ValueError, match="did you mean 'cross_self'"):
        bench("capacity_1bit", "cross_slef", [0], out=tmp_path / "x", run_fn=run_fn)
    with pytest.raises(ValueError, match="did you mean 'capacity_1bit'"):
        bench("capacity_1bits", "cross", [0], out=tmp_path / "x", run_fn=run_fn)
    with pytest.raises(ValueError, match=r"task 'trifeature_cpu' x objective 'cross'.*model.encoder = 'cnn'"):
        bench("capacity_1bit,trifeature_cpu", "cross", [0], out=tmp_path / "x", config="xor",
              overrides=["model.encoder='mlp'"], run_fn=run_fn)  # fmt: skip
    with pytest.raises(ValueError, match="unknown key 'train.epoch'"):
        bench("capacity_1bit", "cross", [0], out=tmp_path / "x", overrides=["train.epoch=1"], run_fn=run_fn)
    with pytest.raises(ValueError, match="gaussian_mixed.*scores no term"):
        bench("gaussian_mixed", "cross", [0], out=tmp_path / "x", run_fn=run_fn)
    assert not log.exists() and not (tmp_path / "x" / "tasks").exists()
    assert parse_objectives("all")[:2] == ["comm", "cross"] and parse_objectives(["cross"]) == ["cross"]
    for bad in ("", "cross,,comm", "cross,cross"):
        with pytest.raises(ValueError, match="objective"):
            parse_objectives(bad)


def test_all_tasks_leave_out_the_ones_without_a_scored_term(tmp_path):
    with pytest.raises(ValueError, match="unknown key"):  # fails in the pre-check, after task selection
        bench("all", "cross", [0], out=tmp_path, overrides=["train.nope=1"], run_fn=fake_run)
    assert [t for t in TASKS.values() if not t.terms] == [TASKS["gaussian_mixed"]]


#: Small enough that one real run trains and probes in a few seconds on one CPU core.
TINY = TINY_BENCH


def test_bench_command_runs_a_real_tiny_bench(tmp_path, capsys):
    argv = ["bench", "--tasks", "capacity_1bit", "--objectives", "cross", "--seeds", "0", "--quiet"]
    argv += [item for o in TINY for item in ("--set", o)] + ["--out", str(tmp_path)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| capacity_1bit | 1.000 |" in printed and "leaderboard.csv" in printed
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert len(board) == 4 and set(board["verdict"]) <= {"learned", "not learned"}
    assert np.isfinite(board["capture"]).all() and (board["true_bits"] == 1.0).all()


@pytest.mark.slow
def test_real_two_task_three_objective_two_seed_bench_resumes_without_training(tmp_path):
    kwargs = dict(out=tmp_path, overrides=TINY, progress=False)
    board = bench("capacity_1bit,gaussian_unique", "comm,cross,supervised", [0, 1], **kwargs)
    assert len(board) == (4 + 1) * 3 * 2 and (board["verdict"] != "failed").all()
    stamps = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.glob("tasks/*/runs/*/result.json"))
    assert len(stamps) == 12
    again = bench("capacity_1bit,gaussian_unique", "comm,cross,supervised", [0, 1], **kwargs)
    pd.testing.assert_frame_equal(again, board)
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.glob("tasks/*/runs/*/result.json")) == stamps


def test_an_address_needs_the_ray_backend(tmp_path, capsys):
    argv = ["bench", "--tasks", "capacity_1bit", "--objectives", "cross", "--seeds", "0", "--quiet"]
    argv += ["--address", "ray://head:10001", "--out", str(tmp_path)]
    assert cli.main(argv) != 0
    assert "--address 'ray://head:10001' needs --backend ray" in capsys.readouterr().err
    assert not (tmp_path / "bench.json").exists()  # nothing ran


def test_every_shipped_objective_resolves_on_a_task_supervised_ones_on_the_synergy_label():
    from interactions.bench import check_bench, default_objective_params, parse_objectives
    from interactions.tasks import TASKS

    everything = parse_objectives("all")
    assert default_objective_params(everything) == {
        "supervised": {"target": "synergy"},
        "synib": {"target": "synergy"},
    }
    check_bench([TASKS["capacity_1bit"]], everything)  # before: synib had no target and was refused


def test_dry_run_counts_planned_runs_by_state_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["bench", "--tasks", TWO_TASKS, "--objectives", THREE_OBJECTIVES, "--seeds", "0-1"]
    assert cli.main([*argv, "--out", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "12 runs planned" in printed and "0 finished" in printed and not out.exists()
    _bench(out, tmp_path / "log.txt")
    planned = bench(TWO_TASKS, THREE_OBJECTIVES, "0-1", out=out, dry_run=True)
    assert len(planned) == 12 and set(planned["state"]) == {"finished"}
    assert planned.groupby("task").size().to_dict() == {"capacity_2bit": 6, "gaussian_unique": 6}
