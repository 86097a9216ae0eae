"""A complete report of a results table: figures (PNG + PDF), ``summary.md`` and ``report.html``.

Both documents lead with the **verdict table** (``reports.verdicts``): per objective and term, learned /
dropped in k of n seeds, the verdict and the median [bootstrap interval]. Then come the figures: capture
and balanced-accuracy curves when runs were evaluated at more than one epoch; one ``capture_vs_<key>``
figure per numeric grid key that varies (interaction strength: synergy bits, bias, noise); term bars
(balanced accuracy, with the paper's published values when every run is on the ``trifeature`` generator,
and capture) per setting of the grid keys the bars cannot show; a loss panel when the sweep wrote
``losses.csv``. Mean ± std tables follow as details. ``report.html`` is self-contained (figures as data
URIs, no external reference) and ends with what produced the table (``reports.provenance``).
Every file is written to a temporary name and moved into place with ``os.replace``.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from interactions.atomic import atomic_write_text
from interactions.types import RUNS_DIR, SWEEP_FILE, TERMS

from . import theme
from .estimates import plot_estimates, split_estimators
from .losses import load_losses, plot_losses, validate_losses
from .paper import check_against_paper, paper_trifeature
from .plots import paper_protocol, plot_capture_curves, plot_capture_vs, plot_term_bars
from .provenance import Provenance, collect_provenance, objective_param_names, provenance_rows, read_manifest
from .results import finished, grid_keys, load_results, summarize, validate_results
from .verdicts import (
    DEFAULT_THRESHOLD,
    TooFewSeedsError,
    check_threshold,
    verdict_legend,
    verdict_table,
    wide_verdicts,
)

_DIGITS = {"capture": 2, "balanced_accuracy": 1, "bits": 3}
_MAX_SLICES = 8


def summary_tables(df: pd.DataFrame, names: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Per metric, a wide table: one row per objective (and grid setting), one ``mean ± std`` cell per term.

    Balanced accuracy is in percent. Each term also gets a ``<term> floor`` column (mean epoch-0 value).
    ``names``: objective name -> display name (``theme.objective_name``).
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
        table["objective"] = [theme.objective_name(o, names) for o in table["objective"]]
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
    names: Mapping[str, str] | None = None,
    width: float | str = "double",
    threshold: float | Mapping[str, float] = DEFAULT_THRESHOLD,
    expectations: Mapping[str, Mapping[str, str]] | None = None,
    sweep_dir: str | os.PathLike[str] | None = "auto",
    losses: pd.DataFrame | str | None = "auto",
) -> dict[str, Path]:
    """Write every applicable figure, ``summary.md`` and a self-contained ``report.html`` into ``out_dir``.

    Both documents lead with the verdict table (``reports.verdicts``: objective x term, k/n seeds, verdict,
    median [bootstrap interval]); the HTML embeds its figures as data URIs and lists what produced the
    table (``sweep.json``, the runs' ``env.json`` and one resolved ``config.toml``), so the file alone
    can be sent to co-authors.

    Args:
        results: a results table, or a sweep directory / ``.parquet`` / ``.csv`` (``load_results``).
        out_dir: created if needed; figures go to ``out_dir/figures``.
        formats: figure formats; the first must be a bitmap the HTML can show (``png``).
        reference: published values for the balanced-accuracy bars; ``"auto"`` uses
            ``reports.paper.paper_trifeature()`` when every run is on the ``trifeature`` generator.
        names: objective name -> display name; they win over the names built from ``sweep.json``'s
            per-objective parameters (``"Cross+Self (lam = 8.0)"``, ``provenance.objective_param_names``).
        width: of the figures (``"single"``, ``"double"``, inches).
        threshold, expectations: of the verdicts (``reports.verdicts.verdict_table``).
        sweep_dir: where ``sweep.json`` and ``runs/`` are; ``"auto"``: ``results`` itself when it is a
            directory, else the table's folder; None: no provenance.
        losses: a losses table, a ``losses.csv`` path, ``"auto"`` (``losses.csv`` in ``sweep_dir``) or None;
            drawn as a loss panel when present.

    Returns:
        ``{relative path: Path}`` of every file written.
    """
    frame = validate_results(results) if isinstance(results, pd.DataFrame) else load_results(results)
    frame, estimates = split_estimators(frame)  # the capture figures read the probe's rows only
    if not formats or formats[0] != "png":
        raise ValueError(f"formats must start with 'png' (the HTML shows it), got {list(formats)!r}")
    theme.figure_width(width)
    if sweep_dir == "auto":
        sweep_dir = None if isinstance(results, pd.DataFrame) else _sweep_dir_of(Path(results))
    provenance = collect_provenance(sweep_dir)
    names = {**objective_param_names(provenance.manifest), **(names or {})}  # given names win
    loss_table = _losses(losses, sweep_dir)
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

    style = dict(names=names, width=width)
    if not ok.empty:
        if ok["epoch"].nunique() > 1:
            for where, suffix in _slices(ok, keep_protocol=False):
                for metric in ("capture", "balanced_accuracy"):
                    fig, _ = plot_capture_curves(ok, metric=metric, where=where, **style)
                    label = ", ".join(f"{k}={v}" for k, v in where.items()) or "all runs"
                    save(
                        fig,
                        f"curves_{metric}{suffix}",
                        f"{theme.metric_label(metric)} over training ({label}): median over seeds "
                        "(markers at evaluated epochs), 95% bootstrap interval of the median, thin lines: "
                        "single seeds",
                    )
        for key in grid_keys(ok, varying=True):
            values = ok[key].dropna().unique()
            if all(
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                for v in values
            ):
                fig, _ = plot_capture_vs(ok, x=key, **style)
                save(
                    fig,
                    f"capture_vs_{key.replace('.', '_')}",
                    f"final capture against {key}: seeds (dots), median and its 95% bootstrap interval",
                )
        for where, suffix in _slices(ok):
            for metric, ref in (("balanced_accuracy", reference), ("capture", None)):
                fig, _ = plot_term_bars(
                    ok, reference=ref, metric=metric, where=where, uniqueness="all", **style
                )
                label = ", ".join(f"{k}={v}" for k, v in where.items()) or "all runs"
                save(
                    fig,
                    f"bars_{metric}{suffix}",
                    f"final {theme.metric_label(metric)} per term ({label}): median, 95% bootstrap "
                    "interval, dots: seeds",
                )
    if loss_table is not None and not loss_table.empty:
        fig, _ = plot_losses(loss_table, **style)
        save(fig, "losses", "training losses per objective: median over seeds, thin lines: single seeds")

    if not finished(estimates).dropna(subset=["epoch"]).empty:
        fig, _ = plot_estimates(finished(estimates))
        save(fig, "estimates", "estimators other than the probe over training, bits per term")

    verdicts, verdict_note = _verdicts(ok, threshold, expectations)
    tables = summary_tables(frame, names) if not ok.empty else {}
    comparison = _paper_comparison(ok, names) if reference is not None else None
    failed = frame[frame["status"] == "failed"].drop_duplicates("run_id")
    parts = _Parts(frame, verdicts, verdict_note, tables, comparison, failed, figures, provenance, names)
    written["summary.md"] = _write_text(out / "summary.md", _markdown(parts, formats))
    written["report.html"] = _write_text(out / "report.html", _html(parts, out))
    return written


def verdict_summary(
    results: pd.DataFrame | str | os.PathLike[str],
    *,
    threshold: float | Mapping[str, float] = DEFAULT_THRESHOLD,
    expectations: Mapping[str, Mapping[str, str]] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """The verdict table of a results table as markdown, with the paragraph that says how to read it.

    With fewer than 2 seeds in some cell, a sentence saying so instead of the table. Given a sweep
    directory, objectives with per-objective parameters in its ``sweep.json`` are named with them (as in
    ``write_report``); ``names`` win.
    """
    frame = validate_results(results) if isinstance(results, pd.DataFrame) else load_results(results)
    if not isinstance(results, pd.DataFrame):  # a sweep's per-objective parameters name its objectives
        names = {**objective_param_names(read_manifest(_sweep_dir_of(Path(results)))), **(names or {})}
    verdicts, note = _verdicts(finished(frame), threshold, expectations)
    if verdicts is None:
        return note
    return markdown_table(wide_verdicts(verdicts, names)) + "\n\n" + verdict_legend(verdicts)


def _verdicts(ok: pd.DataFrame, threshold: Any, expectations: Any) -> tuple[pd.DataFrame | None, str]:
    """The verdict table, or None and the reason (no finished run, fewer than 2 seeds)."""
    check_threshold(threshold)
    if ok.empty:
        return None, "No finished runs: no verdicts."
    try:
        return verdict_table(ok, threshold=threshold, expectations=expectations), ""
    except TooFewSeedsError as err:
        return None, f"No verdicts: {err}. Run at least 2 seeds (5 for a verdict worth reporting)."


def _sweep_dir_of(path: Path) -> Path | None:
    if path.is_dir():
        return path
    return path.parent if (path.parent / SWEEP_FILE).is_file() or (path.parent / RUNS_DIR).is_dir() else None


def _losses(losses: Any, sweep_dir: Any) -> pd.DataFrame | None:
    if losses is None:
        return None
    if isinstance(losses, pd.DataFrame):
        return validate_losses(losses)
    if losses == "auto":
        return load_losses(sweep_dir) if sweep_dir is not None else None
    table = load_losses(losses)
    if table is None:
        raise ValueError(f"losses table {str(losses)!r} does not exist")
    return table


def _slices(ok: pd.DataFrame, keep_protocol: bool = True) -> list[tuple[dict[str, Any], str]]:
    """One ``where`` per setting of the grid keys that vary, so that each figure shows one setting.

    With ``keep_protocol`` (bars), the paper's bias key stays inside one figure (synergy from biased runs,
    the rest unbiased); curves get one figure per bias, which keeps them readable at a glance.
    """
    protocol = paper_protocol(ok) if keep_protocol else None
    keys = [k for k in grid_keys(ok, varying=True) if not (protocol and k == "generator.params.bias")]
    if ok["generator"].nunique() > 1:
        keys = ["generator", *keys]
    if not keys:
        return [({}, "")]
    combos = ok[keys].drop_duplicates().to_dict("records")[:_MAX_SLICES]
    return [(c, "_" + "_".join(f"{k.rsplit('.', 1)[-1]}-{v}" for k, v in c.items())) for c in combos]


def _paper_comparison(ok: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame | None:
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
    return table.assign(objective=[theme.objective_name(o, names) for o in table["objective"]])


@dataclass
class _Parts:
    """Everything the two documents show, in order."""

    frame: pd.DataFrame
    verdicts: pd.DataFrame | None
    verdict_note: str
    tables: dict[str, pd.DataFrame]
    comparison: pd.DataFrame | None
    failed: pd.DataFrame
    figures: list[tuple[str, str]]
    provenance: Provenance
    names: Mapping[str, str] | None

    def intro(self) -> str:
        objectives = theme.order_objectives(self.frame["objective"].unique())
        return (
            f"{self.frame['run_id'].nunique()} runs ({len(self.failed)} failed), objectives: "
            + ", ".join(theme.objective_name(o, self.names) for o in objectives)
            + f"; generators: {', '.join(sorted(self.frame['generator'].unique()))}."
        )


_DETAILS_NOTE = (
    "Mean ± std over seeds at each run's final epoch (for reference: a learned/not-learned outcome is "
    "judged by the verdicts above); *floor* is the untrained network (epoch 0). Capture = bits / true bits "
    "(bits: a probe lower bound on I(Z; T)); balanced accuracy in %."
)


def _markdown(parts: _Parts, formats: Sequence[str]) -> str:
    lines = ["# Interaction capture report", "", parts.intro(), "", "## Verdicts", ""]
    if parts.verdicts is not None:
        lines += [markdown_table(wide_verdicts(parts.verdicts, parts.names)), ""]
        lines += [verdict_legend(parts.verdicts)]
    else:
        lines += [parts.verdict_note]
    if parts.tables:
        lines += ["", "## Details", "", _DETAILS_NOTE]
    for metric, table in parts.tables.items():
        lines += ["", f"### {theme.metric_label(metric)}", "", markdown_table(table)]
    if parts.comparison is not None:
        lines += ["", "## Against the paper's acceptance bands (balanced accuracy, %)", ""]
        lines += [markdown_table(parts.comparison.round(2))]
    if len(parts.failed):
        failed = parts.failed[["run_id", "objective", "seed", "error"]]
        lines += ["", "## Failed runs", "", markdown_table(failed)]
    if parts.figures:
        lines += ["", "## Figures", ""]
        for stem, caption in parts.figures:
            links = " ".join(f"[{fmt}](figures/{stem}.{fmt})" for fmt in formats[1:])
            lines += [f"![{caption}](figures/{stem}.png) {links}", ""]
    rows = provenance_rows(parts.provenance)
    if rows:
        lines += [
            "",
            "## How this table was made",
            "",
            markdown_table(pd.DataFrame(rows, columns=["", "value"])),
        ]
    return "\n".join(lines).rstrip() + "\n"


_CSS = (
    "body{font-family:sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0 1.5em}"
    "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}"
    "table.verdicts td,table.verdicts thead th{text-align:left}td.learned,td.dropped{background:#e3f4e1}"
    "td.not-learned,td.not-dropped{background:#f4f4f4}td.unreliable{background:#fdf0d5}"
    "td.fails{outline:2px solid #c0392b;outline-offset:-2px}"
    "table.meta td{text-align:left;font-family:monospace;font-size:0.95em;word-break:break-all}"
    "img{max-width:100%}figcaption{color:#555;font-size:0.9em}pre{background:#f7f7f7;padding:0.8em;"
    "overflow-x:auto;font-size:0.85em}p.note{color:#444;font-size:0.9em}"
)


def _verdict_html(table: pd.DataFrame, names: Mapping[str, str] | None) -> str:
    """The verdict table with one coloured cell per term (class = verdict; outlined when it fails)."""
    wide = wide_verdicts(table, names)
    index = [c for c in wide.columns if c not in {theme.term_name(t) for t in TERMS}]
    keyed = {
        (
            tuple(r[c] for c in index if c != "objective"),
            theme.objective_name(r["objective"], names),
            r["term"],
        ): r
        for r in table.to_dict("records")
    }
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in wide.columns)
    body = []
    for row in wide.to_dict("records"):
        cells = []
        for column in wide.columns:
            value = html.escape(str(row[column]))
            term = next((t for t in TERMS if theme.term_name(t) == column), None)
            if term is None:
                cells.append(f"<th>{value}</th>")
                continue
            key = (tuple(row[c] for c in index if c != "objective"), row["objective"], term)
            record = keyed.get(key)
            classes = []
            if record is not None:
                classes.append(str(record["verdict"]).replace(" ", "-"))
                if record["expected"] and not bool(record["meets"]):
                    classes.append("fails")
            cells.append(f"<td class='{' '.join(classes)}'>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<table class='verdicts'><thead><tr>"
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


def _image_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html(parts: _Parts, out: Path) -> str:
    def table_html(table: pd.DataFrame, classes: str = "results") -> str:
        return table.to_html(index=False, border=0, classes=classes, na_rep="–", escape=True)

    doc = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Interaction capture report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Interaction capture report</h1>",
        f"<p>{html.escape(parts.intro())}</p>",
        "<h2>Verdicts</h2>",
    ]
    if parts.verdicts is not None:
        doc += [_verdict_html(parts.verdicts, parts.names)]
        doc += [f"<p class='note'>{html.escape(verdict_legend(parts.verdicts))}</p>"]
    else:
        doc += [f"<p>{html.escape(parts.verdict_note)}</p>"]
    if parts.failed is not None and len(parts.failed):
        doc += ["<h2>Failed runs</h2>", table_html(parts.failed[["run_id", "objective", "seed", "error"]])]
    for stem, caption in parts.figures:
        doc.append(
            f"<figure><img src='{_image_data_uri(out / 'figures' / f'{stem}.png')}' "
            f"alt='{html.escape(caption)}'><figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    if parts.tables:
        doc += ["<h2>Details</h2>", f"<p class='note'>{html.escape(_DETAILS_NOTE.replace('*', ''))}</p>"]
    for metric, table in parts.tables.items():
        doc += [f"<h3>{html.escape(theme.metric_label(metric))}</h3>", table_html(table)]
    if parts.comparison is not None:
        doc += ["<h2>Against the paper's acceptance bands (balanced accuracy, %)</h2>"]
        doc += [table_html(parts.comparison.round(2))]
    doc += _provenance_html(parts.provenance)
    doc.append("</body></html>")
    return "\n".join(doc) + "\n"


def _provenance_html(found: Provenance) -> list[str]:
    rows = provenance_rows(found)
    if not rows and not found.problems:
        return ["<h2>How this table was made</h2><p>No sweep.json or run directories were found.</p>"]
    doc = ["<h2>How this table was made</h2>"]
    if rows:
        cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        doc.append(f"<table class='meta'>{cells}</table>")
    if found.config_text:
        doc.append(
            f"<details open><summary>Resolved config of run {html.escape(found.config_run)} (the other runs "
            "differ by the grid keys and seed above)</summary>"
            f"<pre>{html.escape(found.config_text)}</pre></details>"
        )
    if found.problems:
        doc.append("<p class='note'>Unreadable: " + html.escape("; ".join(found.problems)) + "</p>")
    return doc


def _write_text(path: Path, text: str) -> Path:
    return atomic_write_text(path, text)
