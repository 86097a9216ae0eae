"""``benchmarks/verdict_agreement.py``: which cells of two verdict tables disagree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "verdict_agreement.py"
spec = importlib.util.spec_from_file_location("verdict_agreement", SCRIPT)
agreement = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agreement)


def _table(rows):
    return pd.DataFrame(rows, columns=["objective", "term", "verdict", "k", "n"])


def test_same_verdicts_with_different_k_agree_and_differences_are_listed():
    a = _table([("comm", "synergy", "learned", 5, 5), ("comm", "unique_2", "unreliable", 4, 5),
                ("cross", "unique_1", "dropped", 5, 5)])  # fmt: skip
    b = _table([("comm", "synergy", "learned", 5, 5), ("comm", "unique_2", "learned", 5, 5),
                ("cross", "unique_1", "dropped", 5, 5)])  # fmt: skip
    assert agreement.disagreements({"a": a, "a2": a.assign(k=[5, 3, 5])}).empty  # unreliable 4/5 vs 3/5
    differ = agreement.disagreements({"a": a, "b": b})
    assert differ[["objective", "term"]].values.tolist() == [["comm", "unique_2"]]
    assert differ[["a", "b"]].values.tolist() == [["unreliable 4 5", "learned 5 5"]]


def test_a_cell_missing_from_one_table_is_a_disagreement():
    a = _table([("comm", "synergy", "learned", 5, 5), ("cross", "synergy", "dropped", 5, 5)])
    b = _table([("comm", "synergy", "learned", 5, 5)])
    differ = agreement.disagreements({"a": a, "b": b})
    assert differ[["objective", "term", "b"]].values.tolist() == [["cross", "synergy", "missing"]]


def test_unreadable_results_exit_2_with_a_message(tmp_path, capsys):
    assert agreement.main([str(tmp_path / "missing_a.csv"), str(tmp_path / "missing_b.csv")]) == 2
    assert "verdict_agreement:" in capsys.readouterr().err
