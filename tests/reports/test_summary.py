"""Results tables, summaries over seeds, the paper reference and the written report."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from results_table import synthetic_table
from scipy import stats

from interactions.types import TERMS
from reports import load_results, paper_trifeature, summarize, write_report
from reports.paper import check_against_paper
from reports.results import final_epoch, mean_ci


def test_mean_ci_matches_a_naive_t_interval():
    x = [0.2, 0.5, 0.4, 0.9]
    mean, std, low, high = mean_ci(x)
    half = stats.t.ppf(0.975, 3) * np.std(x, ddof=1) / 2.0
    assert (mean, std) == pytest.approx((0.5, np.std(x, ddof=1)))
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half))
    assert np.isnan(mean_ci([0.3])[1]) and np.isnan(mean_ci([])[0])


def test_summarize_final_epoch_over_seeds():
    df = synthetic_table()
    table = summarize(df, metrics=["capture"])
    assert len(table) == 2 * 2 * len(TERMS)  # objectives x biased x terms
    row = table[
        (table["objective"] == "cross") & table["generator.params.biased"] & (table["term"] == "unique_2")
    ]
    assert len(row) == 1
    runs = df[(df["objective"] == "cross") & df["generator.params.biased"] & (df["term"] == "unique_2")]
    final = runs[runs["epoch"] == 3]["capture"].to_numpy()
    assert row["n_seeds"].item() == 3
    assert row["mean"].item() == pytest.approx(final.mean())
    assert row["std"].item() == pytest.approx(final.std(ddof=1))
    assert row["ci_high"].item() - row["mean"].item() == pytest.approx(
        stats.t.ppf(0.975, 2) * final.std(ddof=1) / np.sqrt(3)
    )
    assert row["floor"].item() == pytest.approx(runs[runs["epoch"] == 0]["capture"].mean())
    assert list(table["term"][:4]) == list(TERMS)


def test_final_epoch_is_per_run_and_skips_failures():
    df = synthetic_table(seeds=(0,))
    df = df[~((df["run_id"] == df["run_id"].iloc[0]) & (df["epoch"] == 3))]  # one run stopped at epoch 2
    failed = df.iloc[:4].assign(
        run_id="dead", status="failed", error="RuntimeError: x", epoch=pd.NA, capture=np.nan
    )
    last = final_epoch(pd.concat([df, failed]))
    assert "dead" not in set(last["run_id"])
    assert last.groupby("run_id")["epoch"].max().to_dict()[df["run_id"].iloc[0]] == 2
    assert (last.groupby("run_id").size() == len(TERMS)).all()


def test_load_results_from_dir_parquet_and_csv(tmp_path):
    df = synthetic_table()
    (tmp_path / "runs").mkdir()
    df.to_csv(tmp_path / "results.csv", index=False)
    from_csv = load_results(tmp_path)
    assert str(from_csv["epoch"].dtype) == "Int64" and len(from_csv) == len(df)
    np.testing.assert_allclose(from_csv["capture"], df["capture"])
    df.to_parquet(tmp_path / "results.parquet", index=False)
    pd.testing.assert_frame_equal(load_results(tmp_path), load_results(tmp_path / "results.parquet"))
    df.drop(columns=["run_id"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks columns \['run_id'\]"):
        load_results(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="no results"):
        load_results(tmp_path / "runs")  # a directory without a table
    with pytest.raises(ValueError, match="does not exist"):
        load_results(tmp_path / "nowhere.csv")
    with pytest.raises(ValueError, match="unknown terms"):
        load_results_from(df.assign(term="share"), tmp_path / "terms.csv")


def load_results_from(df, path):
    df.to_csv(path, index=False)
    return load_results(path)


def test_paper_reference_values():
    paper = paper_trifeature()
    comm = paper[paper["objective"] == "comm"].set_index("term")
    assert comm.loc["synergy", "mean"] == 71.9 and comm.loc["uniqueness", "std"] == 1.5
    assert comm.loc["synergy", "chance"] == 50.0 and comm.loc["redundancy", "chance"] == 10.0
    assert len(paper) == 12 and set(paper["source"]) == {"paper_fig"}
    assert paper_trifeature("infmasking_rerun").set_index("term").loc["synergy", "mean"] == 71.4
    with pytest.raises(ValueError, match="unknown source"):
        paper_trifeature("arxiv")
    verdict = check_against_paper(paper).set_index(["objective", "term"])["within"]
    # the paper's own CoMM and Cross numbers sit inside the spec's acceptance bands
    assert verdict.all()


def test_write_report_files_tables_and_links(tmp_path):
    df = synthetic_table(grid={"generator.params.synergy": [1, 2]})
    failed = df.iloc[:4].assign(run_id="dead", status="failed", error="RuntimeError: boom", epoch=pd.NA)
    df = pd.concat(
        [df, failed.assign(capture=np.nan, bits=np.nan, balanced_accuracy=np.nan)], ignore_index=True
    )
    df.to_csv(tmp_path / "results.csv", index=False)
    written = write_report(tmp_path, tmp_path / "report", formats=("png",))  # vectors: test_savefig_*
    assert all(p.is_file() for p in written.values())
    for stem in ("curves_capture", "curves_balanced_accuracy", "capture_vs_generator_params_synergy"):
        assert f"figures/{stem}.png" in written
    assert "figures/bars_balanced_accuracy_synergy-1.png" in written  # one bar figure per synergy value
    html = (tmp_path / "report" / "report.html").read_text()
    sources = re.findall(r"src='([^']+)'", html)
    assert len(sources) == len([k for k in written if k.endswith(".png")])
    assert all((tmp_path / "report" / s).is_file() for s in sources)
    md = (tmp_path / "report" / "summary.md").read_text()
    last = df[(df["epoch"] == 3) & (df["objective"] == "comm") & (df["generator.params.synergy"] == 2)]
    values = last[last["term"] == "synergy"]["capture"]
    cell = f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"
    row = next(line for line in md.splitlines() if line.startswith("| CoMM | 2 |"))
    assert cell in row
    assert "| objective | generator.params.synergy | redundancy |" in md
    assert "RuntimeError: boom" in md and "1 failed" in md
    assert not list((tmp_path / "report").rglob("*.tmp"))
