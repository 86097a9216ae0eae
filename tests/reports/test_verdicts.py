"""Verdict statistics: k of n seeds, the verdict rule and the bootstrap interval, on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from results_table import PAPER_LIKE_FINAL, paper_like_table, synthetic_table

from interactions.types import TERMS
from reports.verdicts import (
    N_RESAMPLES,
    bootstrap_median_ci,
    count_dropped,
    count_learned,
    expectations_for,
    format_cell,
    verdict,
    verdict_cells,
    verdict_table,
    wide_verdicts,
)

BIMODAL = [0.85, 0.0, 0.79, 0.0, 0.0]  # CoMM's unbiased synergy on five seeds (issue 8)


def _naive_bootstrap(values, confidence=0.95, n_resamples=N_RESAMPLES, seed=0):
    """The same resamples, with the median and the quantile written out by hand."""
    index = np.random.default_rng(seed).integers(0, len(values), size=(n_resamples, len(values)))
    medians = []
    for row in index:
        draw = sorted(values[i] for i in row)
        mid = len(draw) // 2
        medians.append(draw[mid] if len(draw) % 2 else (draw[mid - 1] + draw[mid]) / 2)
    medians.sort()

    def quantile(q):
        position = q * (len(medians) - 1)
        below = int(np.floor(position))
        above = min(below + 1, len(medians) - 1)
        return medians[below] + (position - below) * (medians[above] - medians[below])

    return quantile((1 - confidence) / 2), quantile((1 + confidence) / 2)


def test_bootstrap_interval_matches_a_naive_computation():
    for values in (BIMODAL, [0.14, 0.3, 0.42, 0.2, 0.25], [1.0, 0.99, 0.19, 1.0, 0.995, 0.5]):
        assert bootstrap_median_ci(values) == pytest.approx(_naive_bootstrap(values), abs=1e-12)
    assert bootstrap_median_ci(BIMODAL, 0.8, 500, seed=7) == pytest.approx(
        _naive_bootstrap(BIMODAL, 0.8, 500, seed=7), abs=1e-12
    )


def test_bootstrap_interval_exact_cases():
    assert bootstrap_median_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)
    # two seeds: a resample's median is 0, 0.5 or 1 with probability 1/4, 1/2, 1/4
    assert bootstrap_median_ci([0.0, 1.0]) == (0.0, 1.0)
    # the bimodal column: the median is 0 and the interval runs from 0 to the larger learned seed
    assert bootstrap_median_ci(BIMODAL) == (0.0, 0.85)
    assert bootstrap_median_ci(BIMODAL) == bootstrap_median_ci(BIMODAL)  # seeded: same table, same interval
    low, high = bootstrap_median_ci([0.14, 0.3, 0.42, 0.2, 0.25])
    assert 0.14 <= low <= 0.25 <= high <= 0.42  # within the data, around the median


def test_k_of_n_and_the_verdict_rule_on_a_bimodal_column():
    assert count_learned(BIMODAL, 0.5) == 2 and verdict(2, 5) == "unreliable"
    assert count_learned(BIMODAL) == 0 and verdict(0, 5) == "not learned"  # default threshold 0.9
    assert count_learned(BIMODAL, 0.85) == 1  # at the threshold counts as learned
    assert count_learned([1.0, 0.95, 0.9], 0.9) == 3 and verdict(3, 3) == "learned"
    assert count_dropped([0.3, 0.31, 0.1], [0.25, 0.25, 0.25]) == 2  # 0.3 = floor + 0.05 counts as dropped
    assert verdict(2, 2, "dropped") == "dropped" and verdict(0, 2, "dropped") == "not dropped"
    assert verdict(1, 2, "dropped") == "unreliable"


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5, float("nan")])
def test_threshold_outside_the_unit_interval_is_named(threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        count_learned(BIMODAL, threshold)
    with pytest.raises(ValueError, match="threshold"):
        verdict_table(paper_like_table(), threshold=threshold)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="at least 2 seeds, got 1"):
        bootstrap_median_ci([0.4])
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_median_ci([0.4, float("nan")])
    with pytest.raises(ValueError, match="at least 2 seeds per cell"):
        verdict_table(paper_like_table(seeds=(0,)))
    with pytest.raises(TypeError, match="threshold"):
        count_learned(BIMODAL, "high")
    with pytest.raises(ValueError, match="unknown term 'share'"):
        verdict_table(paper_like_table(), threshold={"share": 0.5})
    with pytest.raises(ValueError, match="'keep' or 'drop'"):
        verdict_table(paper_like_table(), expectations={"comm": {"synergy": "learn"}})
    with pytest.raises(ValueError, match="k <= n"):
        verdict(6, 5)
    with pytest.raises(ValueError, match="pair up"):
        count_dropped([0.1, 0.2], [0.1])


def test_verdict_table_on_a_hand_made_table():
    table = verdict_table(paper_like_table()).set_index(["objective", "term"])
    assert list(table.index.get_level_values("term")[:4]) == list(TERMS)
    comm_syn = table.loc[("comm", "synergy")]
    assert (comm_syn["k"], comm_syn["n"], comm_syn["verdict"]) == (0, 5, "not learned")
    assert comm_syn["expected"] == "keep" and not bool(comm_syn["meets"])
    assert (comm_syn["median"], comm_syn["ci_low"], comm_syn["ci_high"]) == (0.0, 0.0, 0.85)
    comm_u2 = table.loc[("comm", "unique_2")]  # one seed of five lost U2: unreliable
    assert (comm_u2["k"], comm_u2["verdict"]) == (4, "unreliable")
    assert comm_u2["median"] == pytest.approx(np.median(PAPER_LIKE_FINAL["comm"]["unique_2"]))
    cross_u1 = table.loc[("cross", "unique_1")]  # Cross drops U1 below its floor (0.75) in every seed
    assert (cross_u1["criterion"], cross_u1["k"], cross_u1["verdict"]) == ("dropped", 5, "dropped")
    assert bool(cross_u1["meets"]) and cross_u1["floor"] == pytest.approx(0.75)
    assert table.loc[("cross_self", "unique_2"), "verdict"] == "learned"
    assert table.loc[("cross_self", "synergy"), "verdict"] == "dropped"
    assert (table["n"] == 5).all() and set(table["threshold"]) == {0.9}
    # a lower synergy threshold: the bimodal column becomes "unreliable 2/5"
    low = verdict_table(paper_like_table(), threshold={"synergy": 0.5}).set_index(["objective", "term"])
    assert (low.loc[("comm", "synergy"), "k"], low.loc[("comm", "synergy"), "verdict"]) == (2, "unreliable")
    assert low.loc[("comm", "redundancy"), "threshold"] == 0.9


def test_verdict_cells_follow_expectations_and_report_others_as_they_come():
    final = paper_like_table(epochs=(0, 1))
    final = final[final["epoch"] == 1].assign(objective=lambda f: f["objective"].replace({"cross": "simclr"}))
    cells = verdict_cells(final).set_index(["objective", "term"])
    assert cells.loc[("simclr", "unique_1"), "expected"] == ""
    assert cells.loc[("simclr", "unique_1"), "verdict"] == "not learned"  # judged as learned / not
    assert pd.isna(cells.loc[("simclr", "unique_1"), "meets"])
    mine = verdict_cells(final, expectations={"simclr": {"unique_1": "drop"}}).set_index(
        ["objective", "term"]
    )
    assert mine.loc[("simclr", "unique_1"), "verdict"] == "dropped"


def test_supervised_keeps_its_target():
    assert expectations_for("supervised", "synergy") == {"synergy": "keep"}
    assert expectations_for("supervised") == {}
    assert expectations_for("cross")["unique_1"] == "drop" and expectations_for("factorcl") == {}
    final = paper_like_table(epochs=(0, 1), objectives=("comm",))
    final = final[final["epoch"] == 1].assign(
        objective="supervised", **{"objective.params.target": "synergy"}
    )
    cells = verdict_cells(final).set_index("term")
    assert cells.loc["synergy", "expected"] == "keep" and cells.loc["redundancy", "expected"] == ""


def test_paper_protocol_reads_synergy_from_biased_runs():
    unbiased = paper_like_table().assign(**{"generator.params.bias": 0.0})
    biased = paper_like_table().assign(**{"generator.params.bias": 0.8})
    biased["run_id"] += "-b"
    biased.loc[biased["term"] == "synergy", "capture"] = 0.95  # every biased run learns synergy
    table = verdict_table(pd.concat([unbiased, biased], ignore_index=True)).set_index(["objective", "term"])
    assert "generator.params.bias" not in table.reset_index().columns  # one row per objective
    assert table.loc[("comm", "synergy"), "verdict"] == "learned"
    assert table.loc[("comm", "synergy"), "rows_from"] == "bias=0.8"
    assert table.loc[("comm", "unique_2"), "rows_from"] == "bias=0"
    assert table.loc[("comm", "unique_2"), "verdict"] == "unreliable"
    both = verdict_table(pd.concat([unbiased, biased], ignore_index=True), term_filters=None)
    assert set(both["generator.params.bias"]) == {0.0, 0.8}  # without the protocol: one row per bias


def test_wide_table_cells():
    table = verdict_table(paper_like_table())
    wide = wide_verdicts(table, names={"cross_self": "Cross + Self"})
    assert list(wide.columns) == ["objective", "Redundancy", "Uniqueness U₁", "Uniqueness U₂", "Synergy"]
    assert list(wide["objective"]) == ["CoMM", "Cross", "Cross + Self"]
    assert wide.loc[0, "Synergy"] == "not learned 0/5 · 0.00 [0.00, 0.85] ✗ expected keep"
    row = table[(table["objective"] == "cross") & (table["term"] == "unique_1")].iloc[0]
    low, high = bootstrap_median_ci(PAPER_LIKE_FINAL["cross"]["unique_1"])
    assert format_cell(row) == f"dropped 5/5 · 0.25 [{low:.2f}, {high:.2f}] ✓"


def test_grid_keys_that_vary_become_rows():
    df = synthetic_table(grid={"generator.params.synergy": [1, 2]})
    table = verdict_table(df)
    assert len(table) == 2 * 2 * len(TERMS)
    assert set(table["generator.params.synergy"]) == {1, 2}


def test_a_per_objective_setting_is_not_a_grid_key():
    """A column set for one objective only (a sweep's ``[objective_params]``) leaves the verdicts alone."""
    df = paper_like_table()
    own = df.assign(**{"objective.params.lam": np.where(df["objective"] == "cross_self", 8.0, np.nan)})
    pd.testing.assert_frame_equal(verdict_table(own), verdict_table(df))


def test_only_the_probe_rows_are_judged():
    probe = paper_like_table().assign(estimator="probe")
    other = probe.assign(estimator="pid_bits", capture=1.0)  # another estimator's rows in the same table
    both = verdict_table(pd.concat([probe, other], ignore_index=True))
    pd.testing.assert_frame_equal(both, verdict_table(probe))
