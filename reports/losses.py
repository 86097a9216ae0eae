"""Per-epoch training losses of a sweep (``losses.csv`` beside ``results.csv``) and their figure (no torch).

The table is tidy, one row per run, epoch and loss term: ``run_id, generator, objective, seed, <grid
columns>, epoch, name, value``, where ``value`` is the epoch mean of the term ``name`` (``loss`` is the
total an objective minimises; others such as ``nce_12`` are its named parts, in the objective's own units,
nats for InfoNCE terms).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from interactions.types import LOSS_COLUMNS as EPOCH_LOSS_COLUMNS
from interactions.types import LOSS_RUN_COLUMNS, LOSSES_CSV

from . import theme
from .results import varies_within_an_objective

#: Fixed columns of a losses table (contract 8, declared in ``interactions.types``); grid columns follow.
LOSS_TABLE_COLUMNS: tuple[str, ...] = (*LOSS_RUN_COLUMNS, *EPOCH_LOSS_COLUMNS)
#: Name of the total loss; drawn in black, the other terms in ``TERM_COLORS`` order.
TOTAL = "loss"
TERM_COLORS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999")
_MAX_PANELS = 12


def validate_losses(frame: pd.DataFrame, source: str = "losses table") -> pd.DataFrame:
    """Check the fixed columns and make ``epoch`` an int and ``value`` a float (a copy).

    Raises:
        TypeError: not a DataFrame. ValueError: missing columns (named) or unparsable epochs/values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in LOSS_TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{source} lacks columns {missing}; it has {list(frame.columns)}")
    frame = frame.copy()
    for column in ("epoch", "value"):
        parsed = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.loc[parsed.isna() & frame[column].notna(), column]
        if len(bad):
            raise ValueError(f"{source}: column {column!r} holds non-numbers, e.g. {bad.iloc[0]!r}")
        frame[column] = parsed
    frame["epoch"] = frame["epoch"].astype("Int64")
    frame["value"] = frame["value"].astype(float)
    for column in ("run_id", "generator", "objective", "name"):
        frame[column] = frame[column].astype(str)
    return frame


def load_losses(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The losses table of a sweep directory (``losses.csv``) or of a ``.csv`` file; None when absent."""
    path = Path(path)
    if path.is_dir():
        path = path / LOSSES_CSV
    if not path.is_file():
        return None
    return validate_losses(pd.read_csv(path), source=str(path))


def _loss_grid_keys(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if c not in LOSS_TABLE_COLUMNS
        and not c.startswith("_")
        and varies_within_an_objective(frame, c)
        and c not in ("generator.name", "objective.name")
    ]


def plot_losses(
    losses: pd.DataFrame,
    *,
    width: float | str = "double",
    names: Mapping[str, str] | None = None,
    where: Mapping[str, Any] | None = None,
) -> tuple[Any, list[Any]]:
    """Training losses over epochs: one panel per objective (and setting of other varying grid keys).

    In each panel, one line per loss term: the median over seeds with a marker at every epoch, thin lines
    for the single seeds; the total ``loss`` is black. Loss terms of different objectives are on different
    scales, hence one panel (and y axis) each.

    Args:
        losses: a losses table (``load_losses``). width: ``"single"``, ``"double"`` or inches.
        names: objective name -> display name. where: ``{column: value or list}`` row filter.

    Returns:
        ``(fig, axes)``; lines carry ``gid`` ``median:<panel>:<term>`` and ``seeds:<panel>:<term>``.

    Raises:
        ValueError: missing columns, no rows, or more than 12 panels (select a slice with ``where``).
    """
    frame = validate_losses(losses)
    for column, value in (where or {}).items():
        if column not in frame.columns:
            raise ValueError(f"cannot select on {column!r}: no such column")
        frame = frame[frame[column].isin(value if isinstance(value, (list, tuple, set)) else [value])]
    frame = frame.dropna(subset=["epoch", "value"])
    if frame.empty:
        raise ValueError("no loss rows to draw")
    keys = _loss_grid_keys(frame)
    panels = []
    for objective in theme.order_objectives(frame["objective"].unique()):
        rows_o = frame[frame["objective"] == objective]
        combos = rows_o[keys].drop_duplicates().to_dict("records") if keys else [{}]
        for combo in combos:
            rows = rows_o
            for key, value in combo.items():
                rows = rows[rows[key] == value]
            title = theme.objective_name(objective, names) + "".join(
                f"\n{theme.key_label(k)}={v}" for k, v in combo.items()
            )
            panel_id = objective + "".join(f"|{k}={v}" for k, v in combo.items())
            panels.append((panel_id, title, rows))
    if len(panels) > _MAX_PANELS:
        raise ValueError(f"{len(panels)} loss panels; pick a slice with where= (at most {_MAX_PANELS})")
    width_in = theme.figure_width(width)
    ncols = min(len(panels), 4 if width_in >= 5 else 2)
    nrows = math.ceil(len(panels) / ncols)
    with plt.rc_context(theme.RC):
        fig = plt.figure(figsize=(width_in, 1.9 * nrows + 0.3), layout="constrained")
        axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
        for extra in axes[len(panels) :]:
            extra.remove()
        axes = axes[: len(panels)]
        for (panel_id, title, rows), ax in zip(panels, axes):
            terms = sorted(rows["name"].unique(), key=lambda n: (n != TOTAL, n))
            for i, term in enumerate(terms):
                color = "k" if term == TOTAL else TERM_COLORS[(i - (TOTAL in terms)) % len(TERM_COLORS)]
                cell = rows[rows["name"] == term].sort_values("epoch")
                for j, (_, run) in enumerate(cell.groupby("run_id", sort=False)):
                    ax.plot(
                        run["epoch"].to_numpy(float),
                        run["value"].to_numpy(float),
                        color=color,
                        lw=0.5,
                        alpha=0.3,
                        gid=f"seeds:{panel_id}:{term}" + (f"#{j}" if j else ""),
                    )
                median = cell.groupby("epoch")["value"].median()
                ax.plot(
                    median.index.to_numpy(float),
                    median.to_numpy(float),
                    color=color,
                    marker="o",
                    ms=2.5,
                    lw=1.3 if term == TOTAL else 1.0,
                    label=term,
                    gid=f"median:{panel_id}:{term}",
                )
            n_seeds = rows.groupby("name")["run_id"].nunique().max()
            ax.set_title(f"{title} (n = {n_seeds})", fontsize=theme.RC["axes.titlesize"])
            ax.set_xlabel("epoch")
            ax.legend(frameon=False, fontsize=7, handlelength=1.2)
        axes[0].set_ylabel("loss (epoch mean)")
        fig.suptitle("Training losses: median over seeds (markers), single seeds (thin)", fontsize=9)
    return fig, axes
