"""Figures of the estimators other than the probe (``[[estimators]]`` of a run: ``pid``, ``ksg``, ``neural``).

A results table holds one row per (run, epoch, estimator, term); the capture figures read the probe's rows
(``estimator == "probe"``), this module draws the others: each estimator's estimate of each term in bits
over training, mean over seeds per objective, with the term's true bits as a reference line. No torch.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from interactions.types import PROBE, TERMS

from . import theme


def split_estimators(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(probe rows, other estimators' rows)`` of a results table (without the column: all probe)."""
    if "estimator" not in frame.columns:
        return frame, frame.iloc[0:0]
    is_probe = frame["estimator"] == PROBE
    return frame[is_probe], frame[~is_probe]


def plot_estimates(frame: pd.DataFrame) -> tuple[Any, Any]:
    """Each non-probe estimator's bits per term over epochs: one row of panels per estimator.

    Args:
        frame: rows of a results table whose ``estimator`` is not the probe (``split_estimators``);
            columns ``run_id``, ``objective``, ``epoch``, ``estimator``, ``term``, ``bits``, ``true_bits``.

    Returns:
        ``(figure, axes)`` with axes of shape (number of estimators, 4 terms).

    Raises:
        ValueError: no rows, probe rows, or missing columns (named).
    """
    needed = ["objective", "epoch", "estimator", "term", "bits", "true_bits"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"estimator rows lack columns {missing}")
    frame = frame.dropna(subset=["epoch"])
    if frame.empty:
        raise ValueError("no estimator rows to draw")
    if (frame["estimator"] == PROBE).any():
        raise ValueError(
            "plot_estimates draws the estimators other than the probe; pass split_estimators(...)[1]"
        )
    estimators = list(dict.fromkeys(frame["estimator"]))
    with plt.rc_context(theme.RC):
        fig, axes = plt.subplots(
            len(estimators),
            len(TERMS),
            figsize=(7.0, 1.9 * len(estimators) + 0.4),
            squeeze=False,
            sharex=True,
        )
        for row, estimator in enumerate(estimators):
            rows = frame[frame["estimator"] == estimator]
            for col, term in enumerate(TERMS):
                ax = axes[row, col]
                cell = rows[rows["term"] == term]
                for objective, group in cell.groupby("objective", sort=False):
                    mean = group.groupby("epoch")["bits"].mean()
                    name = str(objective)
                    style = {"color": theme.objective_color(name), "label": theme.objective_name(name)}
                    ax.plot(mean.index.astype(float), mean.to_numpy(), marker="o", markersize=3, **style)
                if not cell.empty:
                    ax.axhline(float(cell["true_bits"].mean()), **theme.TRUTH_STYLE, label="true bits")
                ax.set_title(f"{estimator}: {theme.TERM_NAMES.get(term, term)}")
                if col == 0:
                    ax.set_ylabel("estimate (bits)")
                if row == len(estimators) - 1:
                    ax.set_xlabel("epoch")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        if handles:
            fig.legend(
                handles, labels, loc="upper center", ncol=min(len(labels), 6), bbox_to_anchor=(0.5, 1.02)
            )
        fig.tight_layout()
    return fig, axes
