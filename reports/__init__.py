"""Verdicts, figures and a self-contained report from the tidy results table of a sweep (never imports torch).

* ``reports.verdicts``: per objective and term, learned / dropped in k of n seeds, the median and a
  bootstrap interval of the median; the verdict table every report leads with.
* ``reports.plots``: capture curves, capture against a grid key, paper-style bars; every seed shown with
  the median and its interval, at a single- or double-column width.
* ``reports.summary``: ``write_report`` (figures, ``summary.md``, a self-contained ``report.html``).
* ``reports.losses``, ``reports.provenance``: the loss panel from ``losses.csv``; what produced the table.

Example:
    >>> import reports
    >>> df = reports.load_results("sweeps/xor")  # doctest: +SKIP
    >>> reports.verdict_table(df)  # doctest: +SKIP
    >>> fig, axes = reports.plot_capture_curves(df, metric="capture", width="single")  # doctest: +SKIP
    >>> reports.write_report(df, "sweeps/xor/report")  # doctest: +SKIP
"""

from __future__ import annotations

from .paper import paper_trifeature
from .plots import plot_capture_curves, plot_capture_vs, plot_term_bars
from .results import RESULT_COLUMNS, load_results, summarize, validate_results
from .summary import summary_tables, write_report
from .theme import figure_width, objective_color, objective_name, savefig
from .verdicts import (
    bootstrap_median_ci,
    count_dropped,
    count_learned,
    verdict,
    verdict_cells,
    verdict_table,
    wide_verdicts,
)

__all__ = [
    "RESULT_COLUMNS",
    "bootstrap_median_ci",
    "count_dropped",
    "count_learned",
    "figure_width",
    "load_results",
    "objective_color",
    "objective_name",
    "paper_trifeature",
    "plot_capture_curves",
    "plot_capture_vs",
    "plot_term_bars",
    "savefig",
    "summarize",
    "summary_tables",
    "validate_results",
    "verdict",
    "verdict_cells",
    "verdict_table",
    "wide_verdicts",
    "write_report",
]
