"""Figures and a self-contained HTML page for a benchmark directory (``interactions bench --out DIR``).

Everything here is drawn from the tidy leaderboard alone (``leaderboard.csv``: one row per task, objective,
scored term and seed, with ``capture`` in [0, 1] = captured bits / true bits and a ``verdict`` of
``"learned"``, ``"not learned"`` or ``"failed"``) plus the optional ``bench.json`` manifest, so that
``interactions report DIR`` can redraw a bench without training or importing torch.

* ``bench_heatmap.{png,pdf}``: one panel per term; rows are tasks, columns objectives; a cell is the median
  capture over seeds, annotated with ``k/n`` (seeds whose verdict is learned / seeds run). A task that does
  not score the term is left blank; a cell whose runs all failed reads "failed".
* ``bench_curves.{png,pdf}``: capture against interaction strength along each graded axis with at least two
  numeric levels (pre-training bias, bits of each term, synergy order, ...): one row per axis, one panel per
  term, each seed a point and the median over seeds a line per objective. A task stands for further points
  on other axes (the 1-bit task is also bias 0, synergy order 1, ...): ``bench.json``'s ``grades`` lists them.
* ``report.html``: both figures (PNG embedded as base64 data URIs), the per-term tables and the tidy table;
  no external reference, so the file can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interactions.atomic import atomic_write_text
from interactions.types import FAILED, LEARNED, TERMS

from .theme import RC, objective_color, objective_name, savefig, term_name

#: Columns a leaderboard must have for the figures (``interactions.types.LEADERBOARD_COLUMNS`` has more).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "task",
    "axis",
    "level",
    "objective",
    "term",
    "seed",
    "capture",
    "verdict",
)
#: x-axis labels of the graded axes of ``interactions.tasks``; other axes are labelled by their name.
AXIS_LABELS: dict[str, str] = {
    "capacity": "bits of each term",
    "bias": "pre-training bias",
    "synergy_order": "synergy order (bits/modality)",
    "distractors": "distractors per modality",
    "coupling": "coupling (signs per bit)",
    "noise": "observation noise std",
    "imbalance": "redundant bits",
}
HEATMAP_STEM, CURVES_STEM, HTML_NAME = "bench_heatmap", "bench_curves", "report.html"


# ---------------------------------------------------------------------------------------------- tables
def read_leaderboard(path: str | os.PathLike[str]) -> pd.DataFrame:
    """``leaderboard.csv`` as written by ``interactions bench``.

    Raises:
        ValueError: a column of ``REQUIRED_COLUMNS`` is missing.
    """
    board = pd.read_csv(path)
    check_leaderboard(board)
    return board


def check_leaderboard(board: pd.DataFrame) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``board`` is a leaderboard with ``REQUIRED_COLUMNS``."""
    if not isinstance(board, pd.DataFrame):
        raise TypeError(f"a leaderboard must be a pandas DataFrame, got {type(board).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in board.columns]
    if missing:
        raise ValueError(f"the leaderboard lacks column(s) {missing}; it has {list(board.columns)}")


def cell_summary(board: pd.DataFrame, term: str) -> pd.DataFrame:
    """Per (task, objective) cell of one term: median capture over finished seeds, k learned, n seeds.

    Returns:
        Columns ``task, objective, median, k, n, all_failed``; tasks and objectives in order of first
        appearance in ``board``; only cells that have rows (a task that does not score ``term`` has none).
    """
    rows = board[board["term"] == term]
    out = []
    for (task, objective), cell in rows.groupby(["task", "objective"], sort=False):
        done = cell[cell["verdict"] != FAILED]
        out.append(
            {
                "task": task,
                "objective": objective,
                "median": float(done["capture"].median()) if len(done) else np.nan,
                "k": int((done["verdict"] == LEARNED).sum()),
                "n": int(len(cell)),
                "all_failed": done.empty,
            }
        )
    return pd.DataFrame(out, columns=["task", "objective", "median", "k", "n", "all_failed"])


def cell_label(median: float, k: int, n: int, all_failed: bool) -> str:
    """The text of a heatmap / table cell: ``"0.97\\n3/5"`` (median capture, seeds learned / seeds)."""
    if all_failed:
        return f"{FAILED}\n0/{n}"
    return f"{median:.2f}\n{k}/{n}"


def _order(values: pd.Series) -> list[Any]:
    return list(dict.fromkeys(values))


# --------------------------------------------------------------------------------------------- heatmap
def plot_heatmap(board: pd.DataFrame, terms: Sequence[str] | None = None) -> Any:
    """Objectives x tasks heatmap, one panel per term: median capture, annotated ``k/n`` seeds learned.

    Args:
        board: the leaderboard (``REQUIRED_COLUMNS``).
        terms: terms to draw (default: those in ``board``, in ``TERMS`` order).

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib import colors

    check_leaderboard(board)
    terms = [t for t in TERMS if t in set(board["term"])] if terms is None else list(terms)
    if not terms:
        raise ValueError("the leaderboard has no rows: nothing to draw")
    tasks, objectives = _order(board["task"]), _order(board["objective"])
    ncols = len(terms) if len(objectives) <= 3 else min(len(terms), 2)
    nrows = -(-len(terms) // ncols)
    width = 1.6 + 0.62 * len(objectives)
    height = 0.9 + 0.36 * len(tasks)
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    norm = colors.Normalize(vmin=0.0, vmax=1.0, clip=True)
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            nrows,
            ncols,
            figsize=(width * ncols + 1.0, height * nrows),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        for ax in axes.flat[len(terms) :]:
            ax.set_visible(False)
        image = None
        for ax, term in zip(axes.flat, terms):
            cells = cell_summary(board, term)
            values = np.full((len(tasks), len(objectives)), np.nan)
            for c in cells.itertuples(index=False):
                i, j = tasks.index(c.task), objectives.index(c.objective)
                values[i, j] = c.median
                if c.all_failed:
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color="0.8", hatch="///", lw=0))
                rgba = cmap(norm(c.median)) if np.isfinite(c.median) else (1, 1, 1, 1)
                dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.55
                ax.text(
                    j,
                    i,
                    cell_label(c.median, c.k, c.n, c.all_failed),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    linespacing=1.1,
                    color="white" if dark and not c.all_failed else "black",
                )
            image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
            ax.set_title(term_name(term))
            ax.set_xticks(
                range(len(objectives)), [objective_name(o) for o in objectives], rotation=35, ha="right"
            )
            ax.set_yticks(range(len(tasks)), tasks)
            ax.set_xticks(np.arange(len(objectives) + 1) - 0.5, minor=True)
            ax.set_yticks(np.arange(len(tasks) + 1) - 0.5, minor=True)
            ax.grid(False)
            ax.grid(which="minor", color="0.85", linewidth=0.5)
            ax.tick_params(which="minor", length=0)
            for side in ("top", "right"):
                ax.spines[side].set_visible(True)
        fig.colorbar(
            image,
            ax=axes.ravel().tolist(),
            shrink=0.6 if nrows > 1 else 0.95,
            aspect=25 if nrows > 1 else 12,
            label="median capture\n(bits / true bits)",
        )
        fig.suptitle(
            "Benchmark: median capture over seeds (k/n = seeds learned / seeds run; blank = not scored)"
        )
    return fig


# ---------------------------------------------------------------------------------------------- curves
def curve_points(
    board: pd.DataFrame, grades: Mapping[str, Sequence[Sequence[Any]]] | None = None
) -> pd.DataFrame:
    """Leaderboard rows placed on each graded axis: one row per (axis point of a task) x leaderboard row.

    Args:
        board: the leaderboard.
        grades: task -> ``[(axis, level), ...]`` (``bench.json``'s ``grades``, from ``Task.grades()``); a task
            not in it stands at its own ``axis``/``level`` only.

    Returns:
        The rows of ``board`` (failed runs left out) with ``axis`` and a numeric ``x``; only axes with at
        least two distinct numeric levels (a categorical axis, such as the Gaussian presets, has no curve).
    """
    check_leaderboard(board)
    done = board[board["verdict"] != FAILED]
    parts = []
    for task, rows in done.groupby("task", sort=False):
        points = (grades or {}).get(task) or [(rows["axis"].iloc[0], rows["level"].iloc[0])]
        for axis, level in points:
            x = pd.to_numeric(pd.Series([level]), errors="coerce").iloc[0]
            if pd.notna(x):
                parts.append(rows.assign(axis=str(axis), x=float(x)))
    if not parts:
        return pd.DataFrame(columns=[*board.columns, "x"])
    points = pd.concat(parts, ignore_index=True)
    levels = points.groupby("axis")["x"].nunique()
    return points[points["axis"].isin(levels[levels >= 2].index)].reset_index(drop=True)


def plot_curves(
    board: pd.DataFrame, grades: Mapping[str, Sequence[Sequence[Any]]] | None = None
) -> Any | None:
    """Capture against interaction strength: a row per graded axis, a panel per term; seeds and medians.

    Returns:
        The matplotlib figure, or None when no axis has two numeric levels in ``board``.
    """
    import matplotlib.pyplot as plt

    points = curve_points(board, grades)
    if points.empty:
        return None
    axes_names = _order(points["axis"])
    terms = [t for t in TERMS if t in set(points["term"])]
    objectives = _order(board["objective"])
    offsets = dict(zip(objectives, np.linspace(-0.5, 0.5, len(objectives)) if len(objectives) > 1 else [0.0]))
    low = min(-0.05, float(points["capture"].min()) - 0.05)  # capture can dip below 0 (estimation noise)
    high = max(1.12, float(points["capture"].max()) + 0.05)
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            len(axes_names),
            len(terms),
            figsize=(2.5 * len(terms) + 0.4, 2.1 * len(axes_names) + 0.6),
            squeeze=False,
            sharey=True,
        )
        for r, axis in enumerate(axes_names):
            on_axis = points[points["axis"] == axis]
            levels = np.sort(on_axis["x"].unique())
            step = np.min(np.diff(levels)) if len(levels) > 1 else 1.0
            for c, term in enumerate(terms):
                ax = axes[r, c]
                rows = on_axis[on_axis["term"] == term]
                for objective in objectives:
                    mine = rows[rows["objective"] == objective]
                    if mine.empty:
                        continue
                    color = objective_color(objective)
                    jitter = offsets[objective] * 0.12 * step
                    ax.scatter(mine["x"] + jitter, mine["capture"], s=9, color=color, alpha=0.45, lw=0)
                    median = mine.groupby("x")["capture"].median()
                    ax.plot(
                        median.index + jitter,
                        median.values,
                        "-o",
                        ms=3,
                        color=color,
                        label=objective_name(objective),
                    )
                ax.axhline(1.0, color="0.6", lw=0.7)
                ax.set_xticks(levels, [f"{v:g}" for v in levels])
                ax.set_ylim(low, high)
                if rows.empty:
                    ax.text(0.5, 0.5, "not scored", transform=ax.transAxes, ha="center", color="0.5")
                if r == 0:
                    ax.set_title(term_name(term))
                if c == 0:
                    ax.set_ylabel("capture")
                ax.set_xlabel(AXIS_LABELS.get(axis, axis.replace("_", " ")), fontsize=7.5)
        handles, labels = [], []
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(
            handles,
            labels,
            loc="upper center",
            ncol=min(len(labels), 6),
            frameon=False,
            bbox_to_anchor=(0.5, 1.0),
        )
        fig.suptitle("Capture against interaction strength (points: seeds; lines: median)", y=1.03)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------ HTML
def _table_html(board: pd.DataFrame, term: str) -> str:
    cells = cell_summary(board, term)
    tasks, objectives = _order(cells["task"]), _order(board["objective"])
    bits = (
        board[board["term"] == term].groupby("task", sort=False)["true_bits"].first()
        if "true_bits" in board.columns
        else pd.Series(dtype=float)
    )
    head = "".join(f"<th>{html.escape(objective_name(o))}</th>" for o in objectives)
    lines = [f"<table><thead><tr><th>task</th><th>true bits</th>{head}</tr></thead><tbody>"]
    for task in tasks:
        mine = cells[cells["task"] == task].set_index("objective")
        row = []
        for objective in objectives:
            if objective not in mine.index:
                row.append("<td></td>")
                continue
            c = mine.loc[objective]
            text = cell_label(c["median"], int(c["k"]), int(c["n"]), bool(c["all_failed"])).replace(
                "\n", " ("
            )
            row.append(f"<td>{html.escape(text)})</td>")
        truth = bits.get(task, np.nan)
        truth = f"{truth:.3f}" if pd.notna(truth) else ""
        lines.append(f"<tr><th>{html.escape(str(task))}</th><td>{truth}</td>{''.join(row)}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f4f4f4}"
    "img{max-width:100%}code,pre{background:#f6f6f6;padding:1px 3px}"
)


def bench_html(board: pd.DataFrame, images: Mapping[str, Path], manifest: Mapping[str, Any] | None) -> str:
    """The self-contained page: what was run, the figures (base64 PNG), per-term tables, the tidy table."""
    manifest = dict(manifest or {})
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Benchmark leaderboard</title>",
        f"<style>{_CSS}</style></head><body><h1>Benchmark leaderboard</h1>",
        "<p>Cell: median capture (captured bits / true bits) over seeds at the final epoch, and k/n = seeds "
        "whose verdict is <em>learned</em> / seeds run. A blank cell: the task does not score the term.</p>",
    ]
    if manifest:
        shown = {
            k: manifest[k] for k in ("tasks", "objectives", "seeds", "overrides", "config") if k in manifest
        }
        parts.append("<h2>Run</h2><pre>" + html.escape(json.dumps(shown, indent=1, default=str)) + "</pre>")
    for title, path in images.items():
        parts.append(
            f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='{_png_data_uri(path)}'>"
        )
    for term in TERMS:
        if (board["term"] == term).any():
            parts.append(f"<h2>{html.escape(term_name(term))}</h2>{_table_html(board, term)}")
    parts.append("<h2>All rows</h2><details><summary>leaderboard.csv</summary>")
    parts.append(board.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4f}", border=0))
    parts.append("</details></body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------------ entry point
def write_bench_report(
    directory: str | os.PathLike[str],
    board: pd.DataFrame | None = None,
    manifest: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Draw the heatmap and curves (PNG + PDF) and ``report.html`` for a bench directory.

    Args:
        directory: the bench directory (``leaderboard.csv`` and, if present, ``bench.json``).
        board: the leaderboard (default: read ``directory/leaderboard.csv``).
        manifest: ``bench.json``'s content (default: read it when present).
        out: where to write (default: ``directory``).

    Returns:
        The paths written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    directory = Path(directory)
    out = directory if out is None else Path(out)
    if board is None:
        board = read_leaderboard(directory / "leaderboard.csv")
    check_leaderboard(board)
    if manifest is None and (directory / "bench.json").is_file():
        manifest = json.loads((directory / "bench.json").read_text())
    grades = (manifest or {}).get("grades")
    written: list[Path] = []
    images: dict[str, Path] = {}
    figures = [("Median capture per task and objective", HEATMAP_STEM, plot_heatmap(board))]
    figures.append(("Capture against interaction strength", CURVES_STEM, plot_curves(board, grades)))
    for title, stem, fig in figures:
        if fig is None:
            continue
        paths = savefig(fig, out / stem, tight=True)  # the titles and legend sit above the axes
        plt.close(fig)
        written += paths
        images[title] = paths[0]
    atomic_write_text(out / HTML_NAME, bench_html(board, images, manifest))
    written.append(out / HTML_NAME)
    return written


__all__ = [
    "AXIS_LABELS",
    "REQUIRED_COLUMNS",
    "bench_html",
    "cell_label",
    "cell_summary",
    "check_leaderboard",
    "curve_points",
    "plot_curves",
    "plot_heatmap",
    "read_leaderboard",
    "write_bench_report",
]
