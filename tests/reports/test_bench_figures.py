"""Tests of ``reports.bench``: heatmap cells and their k/n text, curve points, files, a self-contained page,
and ``interactions report`` redrawing a bench directory from its table alone."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from interactions import cli  # noqa: E402
from interactions.bench import LEADERBOARD_COLUMNS, bench, leaderboard_markdown  # noqa: E402
from interactions.types import TERMS  # noqa: E402
from reports.bench import (  # noqa: E402
    cell_summary,
    curve_points,
    plot_curves,
    plot_heatmap,
    read_leaderboard,
    write_bench_report,
)

#: (task, axis, level, terms scored): two levels of capacity, a biased task, a task scoring one term.
TASKS = [
    ("capacity_1bit", "capacity", 1, TERMS),
    ("capacity_2bit", "capacity", 2, TERMS),
    ("bias_1", "bias", 1.0, TERMS),
    ("gaussian_unique", "gaussian", "unique", ("unique_1",)),
]
GRADES = {
    "capacity_1bit": [["capacity", 1], ["bias", 0.0]],
    "capacity_2bit": [["capacity", 2]],
    "bias_1": [["bias", 1.0]],
    "gaussian_unique": [["gaussian", "unique"]],
}


def hand_board() -> pd.DataFrame:
    """3 seeds of comm and cross on ``TASKS``; captures chosen so each cell's median and k are known.

    comm: captures 0.95, 0.5, 0.92 (median 0.92, 2/3 learned); cross: 0.1 * (seed + 1) (median 0.20, 0/3),
    except that cross on bias_1 failed in every seed.
    """
    rows = []
    for task, axis, level, terms in TASKS:
        for objective in ("comm", "cross"):
            for term in terms:
                for seed in range(3):
                    if objective == "cross" and task == "bias_1":
                        capture, verdict = np.nan, "failed"
                    else:
                        capture = (0.95, 0.5, 0.92)[seed] if objective == "comm" else 0.1 * (seed + 1)
                        verdict = "learned" if capture >= 0.9 else "not learned"
                    rows.append((task, axis, level, objective, term, seed, 1.0, capture, 0.0, 0.7, verdict))
    return pd.DataFrame(rows, columns=list(LEADERBOARD_COLUMNS))


def test_cell_summary_medians_and_counts():
    cells = cell_summary(hand_board(), "synergy").set_index(["task", "objective"])
    assert cells.loc[("capacity_1bit", "comm"), ["median", "k", "n"]].tolist() == [0.92, 2, 3]
    assert cells.loc[("capacity_2bit", "cross"), "median"] == pytest.approx(0.2)
    assert cells.loc[("capacity_2bit", "cross"), "k"] == 0
    assert cells.loc[("bias_1", "cross"), "all_failed"] and cells.loc[("bias_1", "cross"), "n"] == 3
    assert "gaussian_unique" not in cells.index.get_level_values("task")  # does not score synergy


def test_heatmap_annotates_median_and_k_of_n_and_leaves_unscored_cells_blank():
    fig = plot_heatmap(hand_board())
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    assert set(panels) == {"Redundancy", "Uniqueness U₁", "Uniqueness U₂", "Synergy"}
    synergy = [t.get_text() for t in panels["Synergy"].texts]
    # 3 tasks score synergy x 2 objectives; gaussian_unique's row stays blank
    assert len(synergy) == 6
    assert synergy.count("0.92\n2/3") == 3 and synergy.count("0.20\n0/3") == 2
    assert synergy.count("failed\n0/3") == 1
    assert len(panels["Uniqueness U₁"].texts) == 8  # every task scores unique_1
    assert [t.get_text() for t in panels["Redundancy"].get_yticklabels()] == [t[0] for t in TASKS]
    image = panels["Synergy"].get_images()[0].get_array()
    assert np.ma.is_masked(image[3, 0]) and np.ma.is_masked(image[2, 1])  # not scored; all failed
    assert image[0, 0] == pytest.approx(0.92)


def test_curve_points_use_the_grades_and_drop_axes_without_two_numeric_levels():
    points = curve_points(hand_board(), GRADES)
    assert set(points["axis"]) == {"capacity", "bias"}  # gaussian is categorical
    bias = points[points["axis"] == "bias"]
    assert sorted(bias[bias["objective"] == "comm"]["x"].unique()) == [0.0, 1.0]
    assert sorted(bias[bias["objective"] == "cross"]["x"].unique()) == [0.0]  # cross failed at bias 1
    assert set(bias[bias["x"] == 0.0]["task"]) == {"capacity_1bit"}  # the 1-bit task is bias 0
    assert len(points[points["axis"] == "capacity"]) == 2 * 2 * 4 * 3  # tasks x objectives x terms x seeds
    assert (points["verdict"] != "failed").all()
    # without grades the bias axis has one level only (bias_1), so it has no curve
    assert set(curve_points(hand_board())["axis"]) == {"capacity"}
    fig = plot_curves(hand_board(), GRADES)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2 * 4
    assert plot_curves(hand_board()[hand_board()["task"] == "gaussian_unique"]) is None


def test_report_files_pdf_fonts_and_a_self_contained_page(tmp_path):
    board = hand_board()
    paths = write_bench_report(tmp_path, board, {"tasks": [t[0] for t in TASKS], "grades": GRADES})
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["bench_heatmap.png", "bench_heatmap.pdf", "bench_curves.png", "bench_curves.pdf", "report.html"]
    )
    for path in paths:
        assert path.is_file() and path.stat().st_size > 1000
    pdf = (tmp_path / "bench_heatmap.pdf").read_bytes()
    assert b"/Type3" not in pdf and b"/FontFile2" in pdf  # pdf.fonttype 42: TrueType glyphs, editable text
    page = (tmp_path / "report.html").read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*['"](?!data:|#)""", page)
    assert "<link" not in page and "<script" not in page and "url(" not in page and "@import" not in page
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "0.92 (2/3)" in page and "failed (0/3)" in page


def test_bad_leaderboards_are_rejected(tmp_path, capsys):
    with pytest.raises(ValueError, match="lacks column.*verdict"):
        plot_heatmap(hand_board().drop(columns="verdict"))
    with pytest.raises(TypeError, match="DataFrame"):
        plot_heatmap(hand_board().to_dict())
    with pytest.raises(ValueError, match="no rows"):
        plot_heatmap(hand_board().iloc[:0])
    assert cli.main(["report", str(_empty_bench_dir(tmp_path))]) != 0
    assert "leaderboard.csv does not exist: is" in capsys.readouterr().err


def _empty_bench_dir(tmp_path: Path) -> Path:
    (tmp_path / "bench.json").write_text("{}")
    return tmp_path


def _fake_run(config, overrides=None, *, seed=None, device=None, out=None, resume=True, progress=True):
    """Stand-in for ``interactions.experiment.run``: capture a fixed function of seed, term and epoch."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        dict(epoch=e, term=t, balanced_accuracy=0.8, bits=0.5, true_bits=1.0, chance=0.5, feature_dim=8)
        | dict(capture=round(0.45 * e + 0.013 * seed + 0.01 * TERMS.index(t), 6), floor=0.0)
        for e in range(3)
        for t in TERMS
    ]
    return SimpleNamespace(config={}, history=pd.DataFrame(rows), status="ok", run_dir=out)


def test_bench_writes_figures_and_report_redraws_them_from_the_table_alone(tmp_path, capsys):
    out = tmp_path / "b"
    board = bench(
        "capacity_1bit,capacity_2bit", "comm,cross", "0-1", out=out, progress=False, run_fn=_fake_run
    )
    written = {p: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {p.name for p in written} >= {
        "leaderboard.md",
        "bench_heatmap.png",
        "bench_curves.pdf",
        "report.html",
    }
    assert json.loads((out / "bench.json").read_text())["grades"]["capacity_1bit"][1] == ["bias", 0.0]
    md = (out / "leaderboard.md").read_bytes()
    for name in ("leaderboard.md", "bench_heatmap.png", "bench_curves.png", "report.html"):
        (out / name).unlink()
    assert cli.main(["report", str(out)]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (out / "leaderboard.md").read_bytes() == md  # identical from leaderboard.csv alone
    assert (out / "report.html").read_text() == written[out / "report.html"].decode()
    for name in ("bench_heatmap.png", "bench_curves.png"):
        assert (out / name).is_file()
    pd.testing.assert_frame_equal(
        read_leaderboard(out / "leaderboard.csv").drop(columns="level"), board.drop(columns="level")
    )
    assert leaderboard_markdown(read_leaderboard(out / "leaderboard.csv")).encode() == md
    elsewhere = tmp_path / "figs"
    assert cli.main(["report", str(out), "--out", str(elsewhere)]) == 0
    assert (elsewhere / "leaderboard.md").read_bytes() == md and (elsewhere / "bench_heatmap.pdf").is_file()
