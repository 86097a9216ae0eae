"""``benchmarks/bench_objectives.py``: one sweep of the newer objectives beside CoMM, its verdict table, and
the reuse of identical runs from another sweep (tiny settings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from interactions.sweep import copy_finished_runs

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_objectives.py"
spec = importlib.util.spec_from_file_location("bench_objectives", SCRIPT)
bench_objectives = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_objectives)

TINY = ["train.epochs=1", "train.n_train=128", "train.batch_size=64", "probe.n_train=128", "probe.n_test=128"]


def _args(out: Path, *more: str) -> list[str]:
    sets = [f"--set={s}" for s in TINY]
    return ["--objectives", "comm,synib", "--seeds", "0-1", *sets, "--out", str(out), *more]


def test_verdicts_of_both_protocols_and_reuse_of_identical_runs(tmp_path, capsys):
    assert bench_objectives.main(_args(tmp_path / "a")) == 0
    first = capsys.readouterr().out
    assert "8 runs: 8 trained, 0 reused, 0 failed" in first
    verdicts = pd.read_csv(tmp_path / "a" / "verdicts.csv")
    assert set(verdicts["objective"]) == {"comm", "synib"} and set(verdicts["n"]) == {2}
    # synergy is read from the biased runs, the other terms from the unbiased ones (the paper's protocols)
    rows_from = verdicts.set_index(["objective", "term"])["rows_from"]
    assert rows_from["comm", "synergy"].endswith("0.8") and rows_from["comm", "unique_2"].endswith("0")
    # SynIB is trained on the synergy target and expected to keep it
    assert verdicts.set_index(["objective", "term"]).loc[("synib", "synergy"), "expected"] == "keep"

    assert bench_objectives.main(_args(tmp_path / "b", "--reuse", str(tmp_path / "a"))) == 0
    second = capsys.readouterr().out
    assert "8 runs: 0 trained, 8 reused (8 copied), 0 failed" in second
    same = pd.read_csv(tmp_path / "b" / "verdicts.csv")
    pd.testing.assert_frame_equal(same, verdicts)

    # copy_finished_runs copies finished runs only, never over a present one, and leaves no partial copy
    ids = sorted(p.name for p in (tmp_path / "a" / "runs").iterdir())
    (tmp_path / "a" / "runs" / ids[0] / "result.json").unlink()  # that run is no longer finished
    assert copy_finished_runs(ids, tmp_path / "a", tmp_path / "c") == len(ids) - 1
    assert copy_finished_runs(ids, tmp_path / "a", tmp_path / "c") == 0
    assert sorted(p.name for p in (tmp_path / "c" / "runs").iterdir()) == ids[1:]
