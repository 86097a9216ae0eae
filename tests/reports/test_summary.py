"""Results tables, summaries over seeds, the paper reference and the written report."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from results_table import paper_like_table, synthetic_table
from scipy import stats

from interactions.types import TERMS
from reports import load_results, paper_trifeature, summarize, write_report
from reports.losses import load_losses, plot_losses
from reports.paper import check_against_paper
from reports.results import final_epoch, mean_ci
from reports.summary import verdict_summary


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
        (table["objective"] == "cross")
        & (table["generator.params.bias"] == 0.8)
        & (table["term"] == "unique_2")
    ]
    assert len(row) == 1
    runs = df[
        (df["objective"] == "cross") & (df["generator.params.bias"] == 0.8) & (df["term"] == "unique_2")
    ]
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
    for stem in ("curves_capture_synergy-1", "curves_balanced_accuracy_synergy-2"):  # one per setting
        assert f"figures/{stem}.png" in written
    assert "figures/capture_vs_generator_params_synergy.png" in written
    assert "figures/bars_balanced_accuracy_synergy-1.png" in written  # one bar figure per synergy value
    html = (tmp_path / "report" / "report.html").read_text()
    sources = re.findall(r"src='([^']+)'", html)
    assert len(sources) == len([k for k in written if k.endswith(".png")])
    assert all(s.startswith("data:image/png;base64,") for s in sources)  # images travel inside the file
    md = (tmp_path / "report" / "summary.md").read_text()
    last = df[(df["epoch"] == 3) & (df["objective"] == "comm") & (df["generator.params.synergy"] == 2)]
    values = last[last["term"] == "synergy"]["capture"]
    cell = f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"
    details = md[md.index("## Details") :]
    row = next(line for line in details.splitlines() if line.startswith("| CoMM | 2 |"))
    assert cell in row
    assert "| objective | generator.params.synergy | redundancy |" in md
    assert md.index("## Verdicts") < md.index("## Details")  # the verdict table leads
    assert "RuntimeError: boom" in md and "1 failed" in md
    assert not list((tmp_path / "report").rglob("*.tmp"))


def _external_references(html: str) -> list[str]:
    """Every src/href/url() target that is not a data URI or an in-page anchor."""
    targets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.I)
    targets += re.findall(r"""url\(\s*["']?([^"')]*)""", html, flags=re.I)
    targets += re.findall(r"<link\b[^>]*>", html, flags=re.I) + re.findall(r"@import", html)
    return [t for t in targets if not t.startswith(("data:", "#"))]


def _sweep_dir(tmp_path, table):
    """A sweep directory as ``interactions sweep`` writes it: results.csv, sweep.json, runs/<id>/..."""
    table.to_csv(tmp_path / "results.csv", index=False)
    runs = list(dict.fromkeys(table["run_id"]))
    manifest = {
        "config": "xor",
        "grid": {"objective.name": ["comm", "cross", "cross_self"]},
        "seeds": [0, 1, 2, 3, 4],
        "overrides": ["train.epochs=30"],
        "runs": [{"run_id": r, "seed": int(r[-1]), "grid": {}} for r in runs],
    }
    (tmp_path / "sweep.json").write_text(json.dumps(manifest))
    for i, run in enumerate(runs):
        (tmp_path / "runs" / run).mkdir(parents=True)
        env = {
            "python": "3.11.7",
            "torch": "2.13.0",
            "numpy": "2.1.0",
            "git_commit": "abc1234",
            "num_threads": 1 if i else 2,
        }
        (tmp_path / "runs" / run / "env.json").write_text(json.dumps(env))
        (tmp_path / "runs" / run / "config.toml").write_text(
            f'name = "xor"\nseed = {i}\n[train]\nepochs = 30\n'
        )
    return tmp_path


def test_report_names_an_objective_by_its_sweep_parameters(tmp_path):
    sweep = _sweep_dir(tmp_path, paper_like_table())
    manifest = json.loads((sweep / "sweep.json").read_text())
    manifest["objective_settings"] = {"cross_self": {"objective.params.lam": 8.0, "train.lr": 1e-4}}
    (sweep / "sweep.json").write_text(json.dumps(manifest))
    written = write_report(sweep, tmp_path / "report", formats=("png",))
    summary = written["summary.md"].read_text()
    assert "| Cross+Self (lam = 8.0) |" in summary and "| Cross+Self |" not in summary
    assert "| CoMM |" in summary  # objectives without parameters keep their names
    html = written["report.html"].read_text()
    assert "per-objective settings" in html and "train.lr" in html  # training keys: provenance only
    given = write_report(sweep, tmp_path / "named", formats=("png",), names={"cross_self": "SLIP"})
    assert "| SLIP |" in given["summary.md"].read_text()
    assert "| Cross+Self (lam = 8.0) |" in verdict_summary(sweep)  # what `interactions report` prints
    assert "| Cross+Self (lam = 8.0) |" not in verdict_summary(load_results(sweep))  # a bare table


def test_report_leads_with_verdicts_travels_alone_and_says_how_it_was_made(tmp_path):
    sweep = _sweep_dir(tmp_path, paper_like_table())
    written = write_report(sweep, tmp_path / "report", formats=("png",))
    html = written["report.html"].read_text()
    assert _external_references(html) == []
    assert html.index("<h2>Verdicts</h2>") < html.index("<figure>")
    assert "not learned 0/5 · 0.00 [0.00, 0.85] ✗ expected keep" in html
    assert "<td class='unreliable fails'>unreliable 4/5" in html  # CoMM U2: one seed of five lost it
    assert "class='not-learned fails'" in html
    for needle in ("abc1234", "2.13.0", "train.epochs=30", "[0, 1, 2, 3, 4]", "epochs = 30", "1 (14 runs)"):
        assert needle in html, needle
    md = written["summary.md"].read_text()
    assert md.index("## Verdicts") < md.index("## Details")
    assert "| CoMM | learned 5/5 · 1.00" in md
    assert "95% percentile-bootstrap interval of the median, 10,000 resamples" in md


def test_report_without_enough_seeds_says_so(tmp_path):
    written = write_report(paper_like_table(seeds=(0,)), tmp_path, formats=("png",))
    md = written["summary.md"].read_text()
    assert "No verdicts: verdicts need at least 2 seeds per cell" in md
    with pytest.raises(ValueError, match="threshold"):
        write_report(paper_like_table(), tmp_path, formats=("png",), threshold=1.2)


def test_verdict_summary_text(tmp_path):
    text = verdict_summary(paper_like_table(), names={"comm": "CoMM (ours)"})
    assert text.splitlines()[0] == "| objective | Redundancy | Uniqueness U₁ | Uniqueness U₂ | Synergy |"
    assert "| CoMM (ours) |" in text and "learned = capture >= 0.9 in every seed" in text


def test_loss_panel_from_a_hand_made_losses_table(tmp_path):
    sweep = _sweep_dir(tmp_path, paper_like_table())
    rows = []
    for run in ("comm-s0", "comm-s1", "cross-s0", "cross-s1"):
        objective, seed = run.split("-s")
        for epoch in range(3):
            rows.append(
                dict(
                    run_id=run,
                    generator="xor",
                    objective=objective,
                    seed=int(seed),
                    epoch=epoch,
                    name="loss",
                    value=4.0 - epoch - 0.5 * int(seed),
                )
            )
            rows.append(
                dict(
                    run_id=run,
                    generator="xor",
                    objective=objective,
                    seed=int(seed),
                    epoch=epoch,
                    name="nce_12",
                    value=2.0 - 0.5 * epoch,
                )
            )
    pd.DataFrame(rows).to_csv(sweep / "losses.csv", index=False)
    fig, axes = plot_losses(load_losses(sweep))
    assert [ax.get_title() for ax in axes] == ["CoMM (n = 2)", "Cross (n = 2)"]
    median = next(line for line in axes[0].get_lines() if line.get_gid() == "median:comm:loss")
    np.testing.assert_allclose(median.get_ydata(), [3.75, 2.75, 1.75])  # median of seeds 0 and 1
    assert median.get_color() == "k" and median.get_marker() == "o"
    written = write_report(sweep, tmp_path / "report", formats=("png",))
    assert "figures/losses.png" in written
    assert "training losses" in written["report.html"].read_text()
    pd.DataFrame(rows).drop(columns="value").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks columns \['value'\]"):
        load_losses(tmp_path / "bad.csv")
    assert load_losses(tmp_path / "nowhere") is None


def test_cli_report_prints_the_verdict_table_first(tmp_path, capsys):
    from interactions import cli

    sweep = _sweep_dir(tmp_path, paper_like_table())
    assert cli.main(["report", str(sweep), "--threshold", "0.5", "--width", "single"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "| objective | Redundancy | Uniqueness U₁ | Uniqueness U₂ | Synergy |"
    assert "unreliable 2/5 · 0.00 [0.00, 0.85]" in out  # CoMM synergy at threshold 0.5
    assert out.index("Synergy") < out.index("summary.md")
    with open(sweep / "report" / "figures" / "curves_capture.png", "rb") as handle:
        assert int.from_bytes(handle.read(24)[16:20], "big") == 700  # 3.5 in at 200 dpi
    assert cli.main(["report", str(sweep), "--threshold", "1.5"]) == 2
    assert "threshold must be in (0, 1], got 1.5" in capsys.readouterr().err
