"""The command line, in-process through ``interactions.cli.main(argv)``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from interactions import cli

TINY_SET = [
    "--set",
    "model.width=16",
    "--set",
    "model.hidden=16",
    "--set",
    "model.n_tokens=2",
    "--set",
    "model.heads=2",
    "--set",
    "train.n_train=128",
    "--set",
    "train.batch_size=64",
    "--set",
    "train.epochs=1",
    "--set",
    "probe.n_train=128",
    "--set",
    "probe.n_test=128",
    "--set",
    "probe.Cs=[1.0]",
]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("generators", {"xor", "trifeature"}),
        ("objectives", {"comm", "cross", "cross_self", "simclr", "factorcl", "supervised"}),
        ("configs", {"xor", "trifeature_cpu", "trifeature_paper"}),
    ],
)
def test_list(capsys, kind, expected):
    assert cli.main(["list", kind]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{kind}:"
    rows = {line.split()[0]: line for line in lines[1:]}
    assert expected <= set(rows)
    assert all(len(line.split()) > 1 for line in rows.values())  # every entry has a description


def test_list_everything_and_estimators(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for kind in cli.LIST_KINDS:
        assert f"{kind}:" in out
    assert cli.list_entries("estimators")


def test_run_prints_the_capture_table_and_writes_the_run_dir(capsys, tmp_path):
    out = tmp_path / "run"
    code = cli.main(["run", "xor", *TINY_SET, "--seed", "3", "--device", "cpu", "--out", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "objective 'comm' on generator 'xor', seed 3" in text
    header = next(line for line in text.splitlines() if line.split()[:1] == ["term"])
    assert header.split() == [
        "term",
        "balanced_accuracy",
        "bits",
        "true_bits",
        "capture",
        "floor",
        "chance",
        "feature_dim",
    ]
    for term in ("redundancy", "unique_1", "unique_2", "synergy"):
        assert any(line.split()[:1] == [term] for line in text.splitlines())
    saved = json.loads((out / "result.json").read_text())
    assert saved["config"]["seed"] == 3 and saved["config"]["train"]["epochs"] == 1


def test_run_extend_continues_a_shorter_run_and_refuses_another_config(capsys, tmp_path):
    base = ["run", "xor", *TINY_SET, "--seed", "3", "--device", "cpu", "--quiet"]
    assert cli.main([*base, "--out", str(tmp_path / "short")]) == 0
    longer = [*base, "--set", "train.epochs=2", "--extend", str(tmp_path / "short")]
    assert cli.main([*longer, "--out", str(tmp_path / "long")]) == 0
    metrics = (tmp_path / "long" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in metrics] == [0, 1, 2]
    capsys.readouterr()
    assert cli.main([*longer, "--set", "train.lr=0.5", "--out", str(tmp_path / "other")]) == 2
    assert "train.lr" in capsys.readouterr().err


def test_config_errors_exit_2_with_the_key(capsys):
    assert cli.main(["run", "xor", "--set", "train.epochz=1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "train.epochz" in err and "did you mean 'epochs'" in err


def test_bad_subcommand_is_an_argparse_error():
    with pytest.raises(SystemExit) as exc:
        cli.main(["fly"])
    assert exc.value.code == 2


def test_python_dash_m_lists_objectives():
    out = subprocess.run(
        [sys.executable, "-m", "interactions", "list", "objectives"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "comm" in out.stdout and out.stdout.startswith("objectives:")


def test_sweep_then_report(capsys, tmp_path):
    out = tmp_path / "sweep"
    argv = [
        "sweep",
        "xor",
        "--grid",
        "objective.name=comm,cross",
        "--seeds",
        "0",
        "--out",
        str(out),
        "--quiet",
    ]
    assert cli.main([*argv, *TINY_SET, "--set", "train.device=cpu"]) == 0
    assert "rows written" in capsys.readouterr().out
    assert (out / "results.csv").exists() and len(list((out / "runs").iterdir())) == 2
    assert cli.main(["report", str(out)]) == 0
    assert (out / "report" / "summary.md").exists()
    # export: the tables and finished runs without checkpoints; a sweep with --reuse trains nothing
    shared = tmp_path / "shared"
    assert cli.main(["export", str(out), str(shared)]) == 0
    assert "2 finished runs" in capsys.readouterr().out
    assert list(out.rglob("checkpoint.pt")) and not list(shared.rglob("checkpoint.pt"))
    assert cli.main(["report", str(shared), "--out", str(tmp_path / "r2")]) == 0
    capsys.readouterr()
    more = [*argv[:-3], "--out", str(tmp_path / "more"), "--reuse", str(shared), *TINY_SET]
    more += ["--set", "train.device=cpu"]
    assert cli.main([*more, "--dry-run"]) == 0
    assert capsys.readouterr().out.count("reusable") == 2
    assert cli.main(more) == 0
    assert "0 trained, 2 reused (2 copied)" in capsys.readouterr().err
    assert (tmp_path / "more" / "results.csv").read_text() == (out / "results.csv").read_text()
    assert cli.main(["export", str(out), str(shared)]) == 2  # not a new directory
    assert "is not empty" in capsys.readouterr().err
    # --extend: the same runs one epoch longer continue from the sweep's checkpoints (an export has none)
    longer = [*argv[:-3], "--out", str(tmp_path / "longer"), *TINY_SET, "--set", "train.device=cpu"]
    longer += ["--set", "train.epochs=2"]
    assert cli.main([*longer, "--extend", str(shared), "--dry-run"]) == 0
    assert capsys.readouterr().out.count(" new") == 2
    assert cli.main([*longer, "--extend", str(out), "--dry-run"]) == 0
    assert capsys.readouterr().out.count("extendable") == 2
    assert cli.main([*longer, "--extend", str(out)]) == 0
    assert "2 trained (2 extended), 0 reused" in capsys.readouterr().err


def test_user_objective_next_to_the_command_is_found(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_objective_mod.py").write_text(
        "from interactions.objectives.simclr import SimCLR\n\nclass Mine(SimCLR):\n    name = 'mine'\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    argv = ["run", "xor", "--set", "objective.name=user_objective_mod:Mine", "--set", "train.epochs=1"]
    argv += ["--set", "train.n_train=256", "--set", "probe.n_train=128", "--set", "probe.n_test=128"]
    try:
        assert cli.main(argv) == 0
    finally:
        sys.modules.pop("user_objective_mod", None)
    assert "objective 'user_objective_mod:Mine'" in capsys.readouterr().out
