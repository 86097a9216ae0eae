"""Report figures: assert on the plotted data (lines, bars, reference levels), never on pixels."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from results_table import N_CLASSES, PAPER_LIKE_FINAL, paper_like_table, synthetic_table

from interactions.types import TERMS
from reports import (
    bootstrap_median_ci,
    paper_trifeature,
    plot_capture_curves,
    plot_capture_vs,
    plot_term_bars,
)
from reports.plots import SHARED_FLOOR_COLOR
from reports.theme import FALLBACK_COLORS, OBJECTIVE_COLORS, objective_color, objective_name, savefig

ROOT = Path(__file__).resolve().parents[2]


def _by_gid(ax, prefix):
    return {line.get_gid(): line for line in ax.get_lines() if str(line.get_gid()).startswith(prefix)}


def _median(values):
    return float(np.median(np.asarray(values, dtype=float)))


def test_capture_curves_plot_seed_medians_floors_and_chance():
    df = synthetic_table()
    fig, axes = plot_capture_curves(df, metric="capture", where={"generator.params.bias": 0.0})
    assert len(axes) == len(TERMS)
    sub = df[df["generator.params.bias"] == 0.0]
    for term, ax in zip(TERMS, axes):
        medians = _by_gid(ax, "median:")
        assert sorted(medians) == ["median:comm", "median:cross"]
        assert [m.get_label() for m in medians.values()] == ["CoMM", "Cross"]
        for objective in ("comm", "cross"):
            rows = sub[(sub["objective"] == objective) & (sub["term"] == term)]
            expected = rows.groupby("epoch")["capture"].median()
            line = medians[f"median:{objective}"]
            np.testing.assert_allclose(line.get_xdata(), expected.index.to_numpy(dtype=float))
            np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
            assert line.get_marker() == "o"  # a marker at every evaluated epoch
            floor = _by_gid(ax, f"floor:{objective}")[f"floor:{objective}"]
            assert floor.get_ydata()[0] == pytest.approx(_median(rows[rows["epoch"] == 0]["capture"]))
            assert floor.get_linestyle() == ":"
            seeds = [line for gid, line in _by_gid(ax, f"seeds:{objective}").items()]
            assert len(seeds) == 3  # one thin line per seed
        assert _by_gid(ax, "chance")["chance"].get_ydata()[0] == 0.0
        assert _by_gid(ax, "truth")["truth"].get_ydata()[0] == 1.0
        bands = [c for c in ax.collections if str(c.get_gid()).startswith("band:")]
        assert len(bands) == 2
        low, high = ax.get_ylim()
        for band in bands:  # bootstrap intervals of the median stay within the seeds' range: on the axes
            ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
            assert low <= ys.min() and ys.max() <= high
    assert axes[0].get_ylabel() == "capture (bits / true bits)"
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "median, 95% bootstrap CI\n(n = 3 seeds)" in texts and "one seed" in texts


def test_accuracy_curves_in_percent_with_chance_per_term_and_split_by_grid_key():
    df = synthetic_table()
    _, axes = plot_capture_curves(df, metric="balanced_accuracy")
    for term, ax in zip(TERMS, axes):
        medians = _by_gid(ax, "median:")
        assert len(medians) == 4  # 2 objectives x bias in {0, 0.8}
        line = medians["median:comm|generator.params.bias=0.8"]
        assert line.get_label() == "CoMM, bias=0.8"
        rows = df[(df["objective"] == "comm") & (df["generator.params.bias"] == 0.8) & (df["term"] == term)]
        np.testing.assert_allclose(
            line.get_ydata(), 100 * rows.groupby("epoch")["balanced_accuracy"].median()
        )
        assert _by_gid(ax, "chance")["chance"].get_ydata()[0] == pytest.approx(100 / N_CLASSES[term])
    assert axes[0].get_ylabel() == "balanced accuracy (%)"


def test_identical_floors_are_drawn_once_and_named_once():
    df = paper_like_table(objectives=("comm", "cross", "cross_self"))
    fig, axes = plot_capture_curves(df)
    redundancy = axes[0]
    floors = _by_gid(redundancy, "floor:")
    # Cross and Cross+Self share one untrained network: one grey line; CoMM keeps its own colour
    assert sorted(floors) == ["floor:comm", "floor:cross+cross_self"]
    assert floors["floor:cross+cross_self"].get_color() == SHARED_FLOOR_COLOR
    assert floors["floor:cross+cross_self"].get_ydata()[0] == pytest.approx(0.85)
    synergy = axes[3]
    assert list(_by_gid(synergy, "floor:")) == ["floor:comm+cross+cross_self"]  # all three floors are 0
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts.count("untrained: Cross, Cross+Self") == 1
    assert "untrained: CoMM, Cross, Cross+Self" in texts and "untrained (epoch 0)" in texts


def test_display_names_from_an_argument_or_the_class_path():
    df = synthetic_table(objectives=("comm", "my_objectives:FusedOnly"))
    fig, axes = plot_capture_curves(df, where={"generator.params.bias": 0.0})
    labels = [line.get_label() for line in _by_gid(axes[0], "median:").values()]
    assert labels == ["CoMM", "FusedOnly"]
    fig, axes = plot_capture_curves(
        df, where={"generator.params.bias": 0.0}, names={"my_objectives:FusedOnly": "Fused only"}
    )
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["CoMM", "Fused only"]
    _, ax = plot_term_bars(
        df, metric="capture", names={"comm": "Ours"}, term_filters=None, where={"generator.params.bias": 0.0}
    )
    assert [t.get_text() for t in ax.figure.legends[0].get_texts()][:2] == ["Ours", "FusedOnly"]


def test_curves_draw_on_given_axes_and_reject_wrong_count():
    df = synthetic_table()
    fig, given = plt.subplots(1, 2)
    out_fig, axes = plot_capture_curves(
        df, axes=given, terms=["redundancy", "synergy"], where={"seed": [0, 1]}
    )
    assert out_fig is fig and list(axes) == list(given)
    with pytest.raises(ValueError, match="need 4 axes"):
        plot_capture_curves(df, axes=given)
    with pytest.raises(ValueError, match="unknown metric"):
        plot_capture_curves(df, metric="accuracy")


def test_capture_vs_interaction_strength():
    df = synthetic_table(grid={"generator.params.synergy": [1, 2, 3]})
    fig, axes = plot_capture_vs(df, x="generator.params.synergy")
    last = df[df["epoch"] == 3]
    for term, ax in zip(TERMS, axes):
        medians = _by_gid(ax, "median:")
        assert sorted(medians) == ["median:comm", "median:cross"]
        rows = last[(last["objective"] == "cross") & (last["term"] == term)]
        expected = rows.groupby("generator.params.synergy")["capture"].median()
        xs = medians["median:cross"].get_xdata()
        np.testing.assert_allclose(xs - xs.round(), xs[0] - 1)  # set apart from CoMM by one fixed offset
        np.testing.assert_allclose(xs.round(), [1, 2, 3])
        np.testing.assert_allclose(medians["median:cross"].get_ydata(), expected.to_numpy())
        seeds = _by_gid(ax, "seeds:cross")["seeds:cross"]
        np.testing.assert_allclose(sorted(seeds.get_ydata()), sorted(rows["capture"]))
        floor = _by_gid(ax, "floor:cross")["floor:cross"]
        start = df[(df["objective"] == "cross") & (df["term"] == term) & (df["epoch"] == 0)]
        np.testing.assert_allclose(
            floor.get_ydata(), start.groupby("generator.params.synergy")["capture"].median()
        )
    assert axes[0].get_xlabel() == "synergy"
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["CoMM", "Cross"]
    with pytest.raises(ValueError, match="not a grid column"):
        plot_capture_vs(df, x="generator.params.noise")


def _bars(ax, prefix):
    return {p.get_gid(): p for p in ax.patches if str(p.get_gid()).startswith(prefix)}


def test_term_bars_follow_the_paper_protocol():
    df = synthetic_table()
    _, ax = plot_term_bars(df, metric="balanced_accuracy", statistic="mean")
    bars = _bars(ax, "bar:")
    assert sorted(bars) == sorted(
        f"bar:{o}:{g}" for o in ("comm", "cross") for g in ("redundancy", "uniqueness", "synergy")
    )
    last = df[df["epoch"] == 3]
    for objective in ("comm", "cross"):
        unbiased = last[(last["objective"] == objective) & (last["generator.params.bias"] == 0.0)]
        biased = last[(last["objective"] == objective) & (last["generator.params.bias"] == 0.8)]
        red = 100 * unbiased[unbiased["term"] == "redundancy"]["balanced_accuracy"].mean()
        uniq = 100 * unbiased[unbiased["term"].isin(["unique_1", "unique_2"])]["balanced_accuracy"].mean()
        syn = 100 * biased[biased["term"] == "synergy"]["balanced_accuracy"].mean()
        for group, value in (("redundancy", red), ("uniqueness", uniq), ("synergy", syn)):
            assert bars[f"bar:{objective}:{group}"].get_height() == pytest.approx(value)
        start = df[(df["objective"] == objective) & (df["generator.params.bias"] == 0.8) & (df["epoch"] == 0)]
        floor = _by_gid(ax, f"floor:{objective}:synergy")[f"floor:{objective}:synergy"]
        assert floor.get_ydata()[0] == pytest.approx(
            100 * start[start["term"] == "synergy"]["balanced_accuracy"].median()
        )
    chance = _by_gid(ax, "chance:")
    assert chance["chance:synergy"].get_ydata()[0] == pytest.approx(50.0)
    assert chance["chance:redundancy"].get_ydata()[0] == pytest.approx(25.0)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["Redundancy", "Uniqueness\n(mean U₁, U₂)", "Synergy"]  # two-word names on two lines


def test_term_bars_show_median_seeds_and_bootstrap_interval():
    df = paper_like_table()
    _, ax = plot_term_bars(df, metric="capture", uniqueness="both")
    synergy = PAPER_LIKE_FINAL["comm"]["synergy"]  # bimodal: 0.85 / 0 / 0.79 / 0 / 0
    assert _bars(ax, "bar:")["bar:comm:synergy"].get_height() == pytest.approx(0.0)
    dots = _by_gid(ax, "seeds:comm:synergy")["seeds:comm:synergy"]
    assert sorted(dots.get_ydata()) == pytest.approx(sorted(synergy))
    low, high = bootstrap_median_ci(synergy)
    segments = next(c for c in ax.collections if c.get_gid() == "ci:comm:synergy").get_segments()
    assert (segments[0][0][1], segments[0][1][1]) == pytest.approx((low, high))
    texts = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "median, 95% bootstrap CI\n(n = 5 seeds; dots: seeds)" in texts
    with pytest.raises(ValueError, match="statistic"):
        plot_term_bars(df, statistic="mode")


def test_term_bars_with_published_reference_and_both_uniqueness_terms():
    df = synthetic_table(objectives=("comm", "cross", "my_objective"))
    paper = paper_trifeature()
    _, ax = plot_term_bars(df, reference=paper, uniqueness="both")
    refs = _bars(ax, "ref:")
    assert refs["ref:comm:synergy"].get_height() == pytest.approx(71.9)
    assert refs["ref:cross:unique_1"].get_height() == pytest.approx(11.6)  # the paper's uniqueness probe
    assert "ref:comm:unique_2" not in refs and not any(":my_objective:" in k for k in refs)
    assert refs["ref:comm:synergy"].get_hatch() == "////"
    assert len(_bars(ax, "bar:")) == 3 * 4
    assert _bars(ax, "bar:my_objective")["bar:my_objective:synergy"].get_facecolor()[:3] == pytest.approx(
        plt.matplotlib.colors.to_rgb(objective_color("my_objective"))
    )


def test_term_bars_reject_ambiguous_or_bad_requests():
    df = synthetic_table(grid={"generator.params.synergy": [1, 2]})
    with pytest.raises(ValueError, match="vary within bar group"):
        plot_term_bars(df)
    fig, ax = plot_term_bars(df, metric="capture", where={"generator.params.synergy": 2})
    assert _bars(ax, "bar:")["bar:comm:redundancy"].get_height() > 0
    with pytest.raises(ValueError, match="balanced accuracy"):
        plot_term_bars(
            df, reference=paper_trifeature(), metric="capture", where={"generator.params.synergy": 2}
        )
    with pytest.raises(ValueError, match="uniqueness"):
        plot_term_bars(df, uniqueness="first", where={"generator.params.synergy": 2})
    with pytest.raises(ValueError, match="no rows"):
        plot_term_bars(df, where={"generator.params.synergy": 7})


def test_missing_columns_are_named():
    df = synthetic_table().drop(columns=["capture", "floor"])
    with pytest.raises(ValueError, match=r"lacks columns \['capture', 'floor'\]"):
        plot_capture_curves(df)


def test_savefig_writes_bitmap_and_vector_atomically(tmp_path):
    fig, _ = plt.subplots(figsize=(1, 1))
    paths = savefig(fig, tmp_path / "sub" / "tiny", ("png", "pdf", "svg"))
    assert [p.name for p in paths] == ["tiny.png", "tiny.pdf", "tiny.svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["tiny.pdf", "tiny.png", "tiny.svg"]


def test_theme_colours_and_names_are_fixed():
    assert objective_color("comm") == OBJECTIVE_COLORS["comm"] and len(set(OBJECTIVE_COLORS.values())) == 6
    assert objective_color("my_objective") in FALLBACK_COLORS
    assert objective_color("my_objective") == objective_color("my_objective")
    assert objective_name("cross_self") == "Cross+Self" and objective_name("mine") == "mine"


def test_reports_never_import_torch(tmp_path):
    code = (
        "import sys, matplotlib; matplotlib.use('Agg')\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import reports\n"
        "from results_table import synthetic_table\n"
        "df = synthetic_table()\n"
        "fig, _ = reports.plot_capture_curves(df, metric='balanced_accuracy')\n"
        "reports.plot_term_bars(df, reference=reports.paper_trifeature())\n"
        "reports.summarize(df)\n"
        "reports.verdict_table(df)\n"
        "reports.write_report(df, sys.argv[2], formats=('png', 'pdf'))\n"
        "assert 'torch' not in sys.modules, 'reports imported torch'\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def _pdf_media_box(data: bytes) -> list[float]:
    match = re.search(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)
    assert match, "no MediaBox in the PDF"
    return [float(v) for v in match.group(1).split()]


@pytest.mark.parametrize("width, inches", [("single", 3.5), ("double", 7.0), (5.0, 5.0)])
def test_saved_figures_have_the_requested_width_and_type42_fonts(tmp_path, width, inches):
    df = paper_like_table()
    for name, (fig, _) in {
        "curves": plot_capture_curves(df, width=width),
        "bars": plot_term_bars(df, metric="capture", width=width),
    }.items():
        pdf, png = savefig(fig, tmp_path / name, ("pdf", "png"))
        data = pdf.read_bytes()
        box = _pdf_media_box(data)
        assert box[2] - box[0] == pytest.approx(72 * inches)  # points: the page is exactly the width asked
        assert b"/FontType 3" not in data and b"/Type3" not in data
        assert b"/TrueType" in data or b"/CIDFontType2" in data  # Type 42 = TrueType outlines
        with open(png, "rb") as handle:
            head = handle.read(24)
        assert int.from_bytes(head[16:20], "big") == round(inches * 200)  # 200 dpi
        for text in fig.findobj(plt.matplotlib.text.Text):
            if text.get_text():
                assert text.get_fontsize() >= 8  # 8-9 pt text at the printed size
        plt.close(fig)


def test_figure_width_rejects_unknown_widths():
    with pytest.raises(ValueError, match="width"):
        plot_capture_curves(synthetic_table(), width="triple")
    with pytest.raises(ValueError, match="width"):
        plot_term_bars(paper_like_table(), width=0.5)
