"""``benchmarks/trifeature_cpu_targets.py``: issue 11's CPU contrasts judged on a results table (fabricated
values with known medians, so every pass and fail is decided by the numbers written here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interactions.types import RESULT_COLUMNS

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "trifeature_cpu_targets.py"
spec = importlib.util.spec_from_file_location("trifeature_cpu_targets", SCRIPT)
targets = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = targets  # its dataclass looks its module up
spec.loader.exec_module(targets)

#: Final-epoch balanced accuracies (%) per (objective, bias): shape, texture_1, texture_2, synergy.
PASSING = {
    ("cross", 0.0): (99.0, 20.0, 22.0, 50.0),
    ("cross", 1.0): (99.0, 90.0, 20.0, 50.5),
    ("cross_self", 0.0): (98.0, 61.0, 63.0, 50.0),
    ("cross_self", 1.0): (98.0, 92.0, 40.0, 51.0),
    ("comm", 0.0): (99.0, 70.0, 66.0, 50.0),
    ("comm", 1.0): (99.0, 93.0, 70.0, 68.0),
}
FLOOR = (30.0, 18.0, 17.0, 50.0)  # epoch 0 of every run


def _table(values: dict, seeds=(42, 43, 44), jitter=(0.0, 1.0, -1.0)) -> pd.DataFrame:
    rows = []
    for (objective, bias), accs in values.items():
        for seed, shift in zip(seeds, jitter):
            run_id = f"{objective}-{bias}-{seed}"
            for epoch, row in ((0, FLOOR), (16, tuple(a + shift for a in accs))):
                for term, acc in zip(("redundancy", "unique_1", "unique_2", "synergy"), row):
                    rows.append({c: np.nan for c in RESULT_COLUMNS} | dict(
                        run_id=run_id, status="finished", error="", generator="trifeature",
                        objective=objective, seed=seed, epoch=epoch, term=term, estimator="probe",
                        balanced_accuracy=acc / 100, **{"generator.params.bias": bias}))  # fmt: skip
    return pd.DataFrame(rows)


def test_every_target_met_on_a_table_that_meets_them(tmp_path, capsys):
    table = _table(PASSING)
    judged = targets.check_targets(targets.seed_values(table))
    assert len(judged) == 9 and judged["met"].all()
    comm_syn = judged[(judged["objective"] == "comm") & (judged["target"] == "synergy >= 65")].iloc[0]
    assert comm_syn["median"] == pytest.approx(68.0) and comm_syn["seeds"] == "68.0 69.0 67.0"
    # 3 seeds: a resample's median is the lowest value with probability 7/27 > 2.5 %, so the interval is
    # exactly [min, max]
    assert comm_syn["ci95"] == "[67.0, 69.0]"
    cross_tex = judged[judged["target"] == "texture <= floor + 5"].iloc[0]
    assert cross_tex["median"] == pytest.approx(21.0) and cross_tex["floor"] == pytest.approx(17.5)
    assert cross_tex["excess"] == pytest.approx(3.5) and cross_tex["holds_in"] == "3/3"
    table.to_csv(tmp_path / "results.csv", index=False)
    assert targets.main([str(tmp_path)]) == 0
    assert "9 of 9 targets met" in capsys.readouterr().out


def test_a_missed_target_and_a_missing_run_fail(tmp_path, capsys):
    low = dict(PASSING)
    low[("cross_self", 0.0)] = (98.0, 40.0, 41.0, 50.0)  # texture 40.5 < 60
    low[("cross", 0.0)] = (99.0, 24.0, 22.0, 50.0)  # texture 23 > floor 17.5 + 5
    judged = targets.check_targets(targets.seed_values(_table(low))).set_index(["objective", "target"])
    assert not judged.loc[("cross_self", "texture >= 60"), "met"]
    assert not judged.loc[("cross", "texture <= floor + 5"), "met"]
    assert judged.loc[("cross", "texture <= floor + 5"), "holds_in"] == "1/3"  # only the -1 seed: 22 <= 22.5
    # the floor target is judged on each seed's own excess (5.4, 4.6, 7.6 here), not on median - median
    floors = pd.DataFrame({"objective": "cross", "bias": 0.0, "seed": [1, 2, 3], "quantity": "texture",
                           "value": [26.7, 26.75, 29.55], "floor": [21.3, 22.15, 21.95]})  # fmt: skip
    one = targets.check_targets(floors, (targets.Target("cross", "texture", 0.0, "<= floor +", 5.0),)).iloc[0]
    assert one["median"] - one["floor"] == pytest.approx(4.8)  # would pass on medians alone
    assert one["excess"] == pytest.approx(5.4) and not one["met"] and one["holds_in"] == "1/3"
    assert judged["met"].sum() == 7
    missing = {k: v for k, v in PASSING.items() if k != ("comm", 1.0)}
    table = _table(missing)
    judged = targets.check_targets(targets.seed_values(table)).set_index(["objective", "target"])
    comm_syn = judged.loc[("comm", "synergy >= 65")]
    assert not comm_syn["met"] and comm_syn["holds_in"] == "0/0" and comm_syn["ci95"] == ""
    table.to_csv(tmp_path / "results.csv", index=False)
    assert targets.main([str(tmp_path)]) == 1
    assert "8 of 9 targets met" in capsys.readouterr().out


def test_a_table_without_the_bias_column_is_refused():
    with pytest.raises(ValueError, match="generator.params.bias"):
        targets.seed_values(_table(PASSING).drop(columns="generator.params.bias"))


def test_extra_seeds_from_another_directory_join_and_a_shared_run_counts_once(tmp_path, capsys):
    shipped, extra = tmp_path / "shipped", tmp_path / "extra"
    shipped.mkdir(), extra.mkdir()
    _table(PASSING).to_csv(shipped / "results.csv", index=False)
    more = {("cross", 0.0): PASSING[("cross", 0.0)]}  # seed 44 again (same run id) and two new seeds
    _table(more, seeds=(44, 45, 46), jitter=(-1.0, 3.0, 2.0)).to_csv(extra / "results.csv", index=False)
    tables = [targets.load_results(shipped), targets.load_results(extra)]
    values = targets.seed_values(targets.combine_results(tables))
    judged = targets.check_targets(values).set_index(["objective", "target"])
    cross_tex = judged.loc[("cross", "texture <= floor + 5")]
    assert cross_tex["seeds"] == "21.0 22.0 20.0 24.0 23.0" and cross_tex["holds_in"] == "3/5"
    assert cross_tex["excess"] == pytest.approx(4.5) and cross_tex["met"]  # excesses 3.5 4.5 2.5 6.5 5.5
    # the interval is of the bounded statistic (the excess), and agrees with a naive percentile bootstrap
    excess = np.array([3.5, 4.5, 2.5, 6.5, 5.5])
    draws = np.random.default_rng(0).integers(0, 5, size=(10_000, 5))
    low, high = np.quantile(np.median(excess[draws], axis=1), [0.025, 0.975])
    assert cross_tex["ci95"] == f"[{low:.1f}, {high:.1f}]" and 2.5 <= low <= 4.5 <= high <= 6.5
    assert judged.loc[("comm", "texture >= 60"), "holds_in"] == "3/3"
    assert targets.main([str(shipped), str(extra)]) == 0
    assert "9 of 9 targets met" in capsys.readouterr().out
    with pytest.raises(ValueError, match="at least one"):
        targets.combine_results([])


def test_an_earlier_epoch_is_judged_on_request_and_the_frontier_shows_every_epoch(tmp_path, capsys):
    early = dict(PASSING)
    early[("cross_self", 0.0)] = (98.0, 50.0, 52.0, 50.0)  # texture 51 +- 1 at epoch 8: below 60
    at_8 = _table(early)
    both = pd.concat([_table(PASSING), at_8[at_8["epoch"] == 16].assign(epoch=8)], ignore_index=True)
    judged = targets.check_targets(targets.seed_values(both, 8)).set_index(["objective", "target"])
    assert not judged.loc[("cross_self", "texture >= 60"), "met"] and judged["met"].sum() == 8
    assert targets.check_targets(targets.seed_values(both))["met"].all()  # by default the last, 16
    front = targets.frontier(both)
    assert list(front.columns) == ["8", "16"]
    assert front.loc[("", "", "met")].tolist() == ["8/9", "9/9"]
    assert front.loc[("cross_self", "0", "texture >= 60"), "8"] == "51.0 (0/3)"
    assert front.loc[("cross", "0", "texture <= floor + 5"), "16"] == "3.5 (3/3)"  # the median excess
    both.to_csv(tmp_path / "results.csv", index=False)
    assert targets.main([str(tmp_path), "--epoch", "8", "--frontier"]) == 1
    assert "8 of 9 targets met" in capsys.readouterr().out
    assert targets.main([str(tmp_path), "--epoch", "12"]) == 2
    assert "no evaluation at epoch 12; its epochs: 0, 8, 16" in capsys.readouterr().err
    # an epoch that one run lacks is not on the frontier
    fewer = both[~((both["run_id"] == "comm-1.0-42") & (both["epoch"] == 8))]
    assert list(targets.frontier(fewer).columns) == ["16"]
    # an objective none of whose runs finished is shown as such, not as a number
    partial = targets.frontier(both[both["objective"] != "comm"])
    assert partial.loc[("comm", "1", "synergy >= 65"), "16"] == "no runs"
    assert partial.loc[("", "", "met")].tolist() == ["5/9", "6/9"]


def test_the_frontier_estimates_the_sweep_hours_from_each_runs_measured_time(tmp_path, capsys):
    import json

    table = _table(PASSING)
    table.to_csv(tmp_path / "results.csv", index=False)
    ids = sorted(table["run_id"].unique())  # 18 runs of 16 epochs
    for i, run_id in enumerate(ids[:-1]):  # the last has no result.json: not timed, not counted
        (tmp_path / "runs" / run_id).mkdir(parents=True)
        hours = 1 + i % 2
        result = {"status": "finished", "elapsed_s": 3600.0 * hours, "config": {"train": {"epochs": 16}}}
        (tmp_path / "runs" / run_id / "result.json").write_text(json.dumps(result))
    times = targets.run_times([str(tmp_path), str(tmp_path)])  # a run found twice counts once
    assert len(times) == 17 and times["elapsed_s"].sum() == pytest.approx(3600.0 * (9 * 1 + 8 * 2))
    # 9 runs of 1 h and 8 of 2 h to epoch 16 on 2 workers: 12.5 h; to epoch 8: half
    assert targets.sweep_hours(times, set(ids), 16, 2) == pytest.approx(12.5)
    assert targets.sweep_hours(times, set(ids), 8, 2) == pytest.approx(6.25)
    assert targets.sweep_hours(times, set(ids[:2]), 16, 1) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        targets.sweep_hours(times, set(ids), 16, 0)
    front = targets.frontier(table, times=times, workers=2)
    assert front.loc[("", "", "h, 2 workers (17 runs)"), "16"] == "12.50"
    assert ("", "", "h, 2 workers (17 runs)") not in targets.frontier(table).index
    assert targets.main([str(tmp_path), "--frontier", "--workers", "4"]) == 0
    hours_line = next(line for line in capsys.readouterr().out.splitlines() if "4 workers" in line)
    assert hours_line.split()[-1] == "6.25" and "h, 4 workers (17 runs)" in hours_line
