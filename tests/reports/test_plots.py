"""Report figures: assert on the plotted data (lines, bars, reference levels), never on pixels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from results_table import N_CLASSES, synthetic_table

from interactions.types import TERMS
from reports import paper_trifeature, plot_capture_curves, plot_capture_vs, plot_term_bars
from reports.theme import FALLBACK_COLORS, OBJECTIVE_COLORS, objective_color, objective_name, savefig

ROOT = Path(__file__).resolve().parents[2]


def _by_gid(ax, prefix):
    return {line.get_gid(): line for line in ax.get_lines() if str(line.get_gid()).startswith(prefix)}


def test_capture_curves_plot_seed_means_floors_and_chance():
    df = synthetic_table()
    fig, axes = plot_capture_curves(df, metric="capture", where={"generator.params.biased": False})
    assert len(axes) == len(TERMS)
    sub = df[~df["generator.params.biased"]]
    for term, ax in zip(TERMS, axes):
        means = _by_gid(ax, "mean:")
        assert sorted(means) == ["mean:comm", "mean:cross"]
        assert [m.get_label() for m in means.values()] == ["CoMM", "Cross"]
        for objective in ("comm", "cross"):
            rows = sub[(sub["objective"] == objective) & (sub["term"] == term)]
            expected = rows.groupby("epoch")["capture"].mean()
            line = means[f"mean:{objective}"]
            np.testing.assert_allclose(line.get_xdata(), expected.index.to_numpy(dtype=float))
            np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
            floor = _by_gid(ax, f"floor:{objective}")[f"floor:{objective}"]
            assert floor.get_ydata()[0] == pytest.approx(rows[rows["epoch"] == 0]["capture"].mean())
            assert floor.get_linestyle() == ":"
        assert _by_gid(ax, "chance")["chance"].get_ydata()[0] == 0.0
        assert _by_gid(ax, "truth")["truth"].get_ydata()[0] == 1.0
        assert len([c for c in ax.collections if str(c.get_gid()).startswith("band:")]) == 2
    assert axes[0].get_ylabel() == "capture (bits / true bits)"


def test_accuracy_curves_in_percent_with_chance_per_term_and_split_by_grid_key():
    df = synthetic_table()
    _, axes = plot_capture_curves(df, metric="balanced_accuracy")
    for term, ax in zip(TERMS, axes):
        means = _by_gid(ax, "mean:")
        assert len(means) == 4  # 2 objectives x biased in {False, True}
        line = means["mean:comm|generator.params.biased=True"]
        assert line.get_label() == "CoMM, biased=True"
        rows = df[(df["objective"] == "comm") & df["generator.params.biased"] & (df["term"] == term)]
        np.testing.assert_allclose(line.get_ydata(), 100 * rows.groupby("epoch")["balanced_accuracy"].mean())
        assert _by_gid(ax, "chance")["chance"].get_ydata()[0] == pytest.approx(100 / N_CLASSES[term])
    assert axes[0].get_ylabel() == "balanced accuracy (%)"


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
    _, axes = plot_capture_vs(df, x="generator.params.synergy")
    last = df[df["epoch"] == 3]
    for term, ax in zip(TERMS, axes):
        means = _by_gid(ax, "mean:")
        assert sorted(means) == ["mean:comm", "mean:cross"]
        rows = last[(last["objective"] == "cross") & (last["term"] == term)]
        expected = rows.groupby("generator.params.synergy")["capture"].mean()
        np.testing.assert_allclose(means["mean:cross"].get_xdata(), [1, 2, 3])
        np.testing.assert_allclose(means["mean:cross"].get_ydata(), expected.to_numpy())
        floor = _by_gid(ax, "floor:cross")["floor:cross"]
        start = df[(df["objective"] == "cross") & (df["term"] == term) & (df["epoch"] == 0)]
        np.testing.assert_allclose(
            floor.get_ydata(), start.groupby("generator.params.synergy")["capture"].mean()
        )
    assert axes[0].get_xlabel() == "synergy"
    assert [t.get_text() for t in axes[-1].get_legend().get_texts()][:2] == ["CoMM", "Cross"]
    with pytest.raises(ValueError, match="not a grid column"):
        plot_capture_vs(df, x="generator.params.noise")


def _bars(ax, prefix):
    return {p.get_gid(): p for p in ax.patches if str(p.get_gid()).startswith(prefix)}


def test_term_bars_follow_the_paper_protocol():
    df = synthetic_table()
    _, ax = plot_term_bars(df, metric="balanced_accuracy")
    bars = _bars(ax, "bar:")
    assert sorted(bars) == sorted(
        f"bar:{o}:{g}" for o in ("comm", "cross") for g in ("redundancy", "uniqueness", "synergy")
    )
    last = df[df["epoch"] == 3]
    for objective in ("comm", "cross"):
        unbiased = last[(last["objective"] == objective) & ~last["generator.params.biased"]]
        biased = last[(last["objective"] == objective) & last["generator.params.biased"]]
        red = 100 * unbiased[unbiased["term"] == "redundancy"]["balanced_accuracy"].mean()
        uniq = 100 * unbiased[unbiased["term"].isin(["unique_1", "unique_2"])]["balanced_accuracy"].mean()
        syn = 100 * biased[biased["term"] == "synergy"]["balanced_accuracy"].mean()
        for group, value in (("redundancy", red), ("uniqueness", uniq), ("synergy", syn)):
            assert bars[f"bar:{objective}:{group}"].get_height() == pytest.approx(value)
        start = df[(df["objective"] == objective) & df["generator.params.biased"] & (df["epoch"] == 0)]
        floor = _by_gid(ax, f"floor:{objective}:synergy")[f"floor:{objective}:synergy"]
        assert floor.get_ydata()[0] == pytest.approx(
            100 * start[start["term"] == "synergy"]["balanced_accuracy"].mean()
        )
    chance = _by_gid(ax, "chance:")
    assert chance["chance:synergy"].get_ydata()[0] == pytest.approx(50.0)
    assert chance["chance:redundancy"].get_ydata()[0] == pytest.approx(25.0)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "Redundancy" and labels[2] == "Synergy"


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
