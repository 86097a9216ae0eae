"""A complete report of a results table: figures (PNG + PDF), ``summary.md`` and ``report.html``.

Which figures are drawn depends on the table: capture and balanced-accuracy curves when runs were
evaluated at more than one epoch; one ``capture_vs_<key>`` figure per numeric grid key that varies
(interaction strength: synergy bits, bias, noise); term bars (balanced accuracy, with the paper's
published values when every run is on the ``trifeature`` generator, and capture) when each bar group
holds a single setting per objective, otherwise one bar figure per setting of the other grid keys.
Every file is written to a temporary name and moved into place with ``os.replace``.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from interactions.atomic import atomic_write_text

from . import theme
from .estimates import plot_estimates, split_estimators
from .paper import check_against_paper, paper_trifeature
from .plots import paper_protocol, plot_capture_curves, plot_capture_vs, plot_term_bars
from .results import finished, grid_keys, load_results, summarize, validate_results

_DIGITS = {"capture": 2, "balanced_accuracy": 1, "bits": 3}
_MAX_SLICES = 8


def summary_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per metric, a wide table: one row per objective (and grid setting), one ``mean ± std`` cell per term.

    Balanced accuracy is in percent. Each term also gets a ``<term> floor`` column (mean epoch-0 value).
    """
    summary = summarize(df)
    tables = {}
    for metric, rows in summary.groupby("metric", sort=False):
        scale, digits = theme.metric_scale(metric), _DIGITS[metric]
        shown = ("objective", *grid_keys(df, varying=True)) + (
            ("generator",) if df["generator"].nunique() > 1 else ()
        )
        index = [c for c in rows.columns if c in shown]
        cells = rows.assign(
            cell=[
                _fmt(m * scale, s * scale, digits) + ("" if n > 1 else " (1 seed)")
                for m, s, n in zip(rows["mean"], rows["std"], rows["n_seeds"])
            ],
            floor_cell=[f"{f * scale:.{digits}f}" if np.isfinite(f) else "–" for f in rows["floor"]],
        )
        wide = cells.pivot_table(index=index, columns="term", values="cell", aggfunc="first", sort=False)
        floors = cells.pivot_table(
            index=index, columns="term", values="floor_cell", aggfunc="first", sort=False
        )
        floors.columns = [f"{t} floor" for t in floors.columns]
        table = pd.concat([wide, floors], axis=1).reset_index()
        table["objective"] = table["objective"].map(theme.objective_name)
        tables[metric] = table
    return tables


def _fmt(mean: float, std: float, digits: int) -> str:
    if not np.isfinite(mean):
        return "–"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if np.isfinite(std) else "")


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub pipe table (no extra dependency)."""
    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in table.itertuples(False)
    ]
    return "\n".join([header, rule, *body])


def write_report(
    results: pd.DataFrame | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("png", "pdf"),
    reference: pd.DataFrame | str | None = "auto",
) -> dict[str, Path]:
    """Write every applicable figure, ``summary.md`` and ``report.html`` into ``out_dir``.

    Args:
        results: a results table, or a sweep directory / ``.parquet`` / ``.csv`` (``load_results``).
        out_dir: created if needed; figures go to ``out_dir/figures``.
        formats: figure formats; the first must be a bitmap the HTML can show (``png``).
        reference: published values for the balanced-accuracy bars; ``"auto"`` uses
            ``reports.paper.paper_trifeature()`` when every run is on the ``trifeature`` generator.

    Returns:
        ``{relative path: Path}`` of every file written.
    """
    frame = validate_results(results) if isinstance(results, pd.DataFrame) else load_results(results)
    frame, estimates = split_estimators(frame)  # the capture figures read the probe's rows only
    if not formats or formats[0] != "png":
        raise ValueError(f"formats must start with 'png' (the HTML shows it), got {list(formats)!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ok = finished(frame)
    if reference == "auto":
        reference = paper_trifeature() if set(ok["generator"]) == {"trifeature"} else None
    elif isinstance(reference, str):
        raise ValueError(f"reference must be a DataFrame, None or 'auto', got {reference!r}")
    figures: list[tuple[str, str]] = []  # (stem, caption)
    written: dict[str, Path] = {}

    def save(fig: Any, stem: str, caption: str) -> None:
        for path in theme.savefig(fig, out / "figures" / stem, formats):
            written[str(path.relative_to(out))] = path
        plt.close(fig)
        figures.append((stem, caption))

    if not ok.empty:
        if ok["epoch"].nunique() > 1:
            for metric in ("capture", "balanced_accuracy"):
                fig, _ = plot_capture_curves(ok, metric=metric)
                save(fig, f"curves_{metric}", f"{theme.metric_label(metric)} over training, mean and 95% CI")
        for key in grid_keys(ok, varying=True):
            values = ok[key].dropna().unique()
            if all(
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                for v in values
            ):
                fig, _ = plot_capture_vs(ok, x=key)
                save(fig, f"capture_vs_{key.replace('.', '_')}", f"final capture against {key}")
        for where, suffix in _bar_slices(ok):
            for metric, ref in (("balanced_accuracy", reference), ("capture", None)):
                fig, _ = plot_term_bars(ok, reference=ref, metric=metric, where=where, uniqueness="all")
                label = ", ".join(f"{k}={v}" for k, v in where.items()) or "all runs"
                save(fig, f"bars_{metric}{suffix}", f"final {theme.metric_label(metric)} per term ({label})")

    if not finished(estimates).dropna(subset=["epoch"]).empty:
        fig, _ = plot_estimates(finished(estimates))
        save(fig, "estimates", "estimators other than the probe over training, bits per term")

    tables = summary_tables(frame) if not ok.empty else {}
    comparison = _paper_comparison(ok) if reference is not None else None
    failed = frame[frame["status"] == "failed"].drop_duplicates("run_id")
    md = _markdown(frame, tables, comparison, failed, figures, formats)
    written["summary.md"] = _write_text(out / "summary.md", md)
    written["report.html"] = _write_text(
        out / "report.html", _html(frame, tables, comparison, failed, figures)
    )
    return written


def _bar_slices(ok: pd.DataFrame) -> list[tuple[dict[str, Any], str]]:
    """One ``where`` per setting of the grid keys that bars cannot show (the paper's bias key excepted)."""
    protocol = paper_protocol(ok)
    keys = [k for k in grid_keys(ok, varying=True) if not (protocol and k == "generator.params.biased")]
    if ok["generator"].nunique() > 1:
        keys = ["generator", *keys]
    if not keys:
        return [({}, "")]
    combos = ok[keys].drop_duplicates().to_dict("records")[:_MAX_SLICES]
    return [(c, "_" + "_".join(f"{k.rsplit('.', 1)[-1]}-{v}" for k, v in c.items())) for c in combos]


def _paper_comparison(ok: pd.DataFrame) -> pd.DataFrame | None:
    """Measured balanced accuracy (%) next to the spec's acceptance bands, paper protocol applied."""
    protocol = paper_protocol(ok) or {}
    rows = []
    for term, terms in (
        ("redundancy", ["redundancy"]),
        ("uniqueness", ["unique_1"]),
        ("synergy", ["synergy"]),
    ):
        sub = ok[ok["term"].isin(terms)]
        for key, value in protocol.get(term, protocol.get("*", {})).items():
            sub = sub[sub[key] == value]
        last = sub[sub["epoch"] == sub.groupby("run_id")["epoch"].transform("max")]
        for objective, group in last.groupby("objective"):
            rows.append(dict(objective=objective, term=term, mean=100 * group["balanced_accuracy"].mean()))
    if not rows:
        return None
    table = check_against_paper(pd.DataFrame(rows))
    return table.assign(objective=table["objective"].map(theme.objective_name))


def _markdown(frame, tables, comparison, failed, figures, formats) -> str:
    n_runs = frame["run_id"].nunique()
    lines = [
        "# Interaction capture report",
        "",
        f"{n_runs} runs ({len(failed)} failed), objectives: "
        + ", ".join(theme.objective_name(o) for o in theme.order_objectives(frame["objective"].unique()))
        + f"; generators: {', '.join(sorted(frame['generator'].unique()))}.",
        "",
        "Values are mean ± std over seeds at each run's final epoch; *floor* is the untrained network "
        "(epoch 0).",
        "Capture = bits / true bits (bits: a probe lower bound on I(Z; T)); balanced accuracy in %.",
    ]
    for metric, table in tables.items():
        lines += ["", f"## {theme.metric_label(metric)}", "", markdown_table(table)]
    if comparison is not None:
        lines += ["", "## Against the paper's acceptance bands (balanced accuracy, %)", ""]
        lines += [markdown_table(comparison.round(2))]
    if len(failed):
        lines += ["", "## Failed runs", "", markdown_table(failed[["run_id", "objective", "seed", "error"]])]
    if figures:
        lines += ["", "## Figures", ""]
        for stem, caption in figures:
            links = " ".join(f"[{fmt}](figures/{stem}.{fmt})" for fmt in formats[1:])
            lines += [f"![{caption}](figures/{stem}.png) {links}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _html(frame, tables, comparison, failed, figures) -> str:
    def table_html(table: pd.DataFrame) -> str:
        return table.to_html(index=False, border=0, classes="results", na_rep="–", escape=True)

    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Interaction capture report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table.results{border-collapse:collapse;font-size:0.9em;margin:0.5em 0 1.5em}"
        "table.results td,table.results th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "img{max-width:100%}figcaption{color:#555;font-size:0.9em}</style></head><body>",
        "<h1>Interaction capture report</h1>",
        f"<p>{frame['run_id'].nunique()} runs ({len(failed)} failed). Mean ± std over seeds at the final "
        "epoch; <em>floor</em> = untrained network (epoch 0). Capture = bits / true bits.</p>",
    ]
    for metric, table in tables.items():
        parts += [f"<h2>{html.escape(theme.metric_label(metric))}</h2>", table_html(table)]
    if comparison is not None:
        parts += ["<h2>Against the paper's acceptance bands (balanced accuracy, %)</h2>"]
        parts += [table_html(comparison.round(2))]
    if len(failed):
        parts += ["<h2>Failed runs</h2>", table_html(failed[["run_id", "objective", "seed", "error"]])]
    for stem, caption in figures:
        parts.append(
            f"<figure><img src='figures/{stem}.png' alt='{html.escape(caption)}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _write_text(path: Path, text: str) -> Path:
    return atomic_write_text(path, text)
