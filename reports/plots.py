"""Figures of a results table: capture over training, capture against interaction strength, term bars.

Every function takes the tidy results table (``reports.load_results``), draws on the given axes or on a
new figure, returns ``(fig, axes)`` and never calls ``plt.show``. Each drawn artist carries a ``gid`` so
that tests and scripts can find it: ``mean:<line>``, ``band:<line>``, ``floor:<line>``, ``chance``,
``truth`` for the line plots (``<line>`` is the objective name, followed by ``|key=value`` for every
other grid key that varies), and ``bar:<objective>:<group>``, ``ref:<objective>:<group>``,
``floor:<objective>:<group>``, ``chance:<group>`` for the bars.

The **floor** of a run is its value at epoch 0, the untrained network; it is drawn dotted in the
objective's colour so that what a representation learned reads as the gap above it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from interactions.types import TERMS

from . import theme
from .results import final_epoch, finished, grid_keys, mean_ci, select, validate_results, with_floor

BIASED_KEY = "generator.params.biased"


def _themed(function: Callable[..., Any]) -> Callable[..., Any]:
    """Draw inside ``theme.RC`` so that every text and line of the figure gets the house look."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plt.rc_context(theme.RC):
            return function(*args, **kwargs)

    return wrapper


def _prepare(df: pd.DataFrame, metric: str, where: Mapping[str, Any] | None) -> pd.DataFrame:
    frame = with_floor(finished(validate_results(df)), metric)
    frame = select(frame, where)
    scale = theme.metric_scale(metric)
    frame["_value"] = frame[metric] * scale
    frame["_floor_value"] = frame["_floor"] * scale
    frame["_chance_value"] = frame["chance"] * scale if metric == "balanced_accuracy" else 0.0
    return frame


def _line_keys(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    keys = [k for k in grid_keys(frame, varying=True) if k not in exclude]
    return (["generator"] if frame["generator"].nunique() > 1 else []) + keys


def _lines(frame: pd.DataFrame, keys: list[str]):
    """Yield (line id, label, colour, linestyle, rows) per objective x other varying keys."""
    combos = frame[keys].drop_duplicates().to_dict("records") if keys else [{}]
    for objective in theme.order_objectives(frame["objective"].unique()):
        rows_o = frame[frame["objective"] == objective]
        for i, combo in enumerate(combos):
            rows = rows_o
            for key, value in combo.items():
                rows = rows[rows[key] == value]
            if rows.empty:
                continue
            suffix = "".join(f"|{k}={v}" for k, v in combo.items())
            label = theme.objective_name(objective) + "".join(
                f", {theme.key_label(k)}={v}" for k, v in combo.items()
            )
            style = theme.LINESTYLES[i % len(theme.LINESTYLES)]
            yield objective + suffix, label, theme.objective_color(objective), style, rows


def _terms(frame: pd.DataFrame, terms: Sequence[str] | None) -> list[str]:
    if terms is None:
        present = frame.loc[np.isfinite(frame["_value"]), "term"].unique()
        return [t for t in TERMS if t in present]
    unknown = [t for t in terms if t not in TERMS]
    if unknown:
        raise ValueError(f"unknown terms {unknown}; choose from {list(TERMS)}")
    return list(terms)


def _panels(n: int, axes: Any, sharey: bool) -> tuple[Any, list[Any]]:
    if axes is None:
        fig, axes = plt.subplots(1, n, figsize=(1.4 + 1.55 * n, 2.5), sharey=sharey, squeeze=False)
        return fig, list(axes[0])
    axes = list(np.atleast_1d(axes).ravel())
    if len(axes) != n:
        raise ValueError(f"need {n} axes (one per term), got {len(axes)}")
    return axes[0].figure, axes


def _reference_lines(ax: Any, rows: pd.DataFrame, metric: str) -> None:
    ax.axhline(float(rows["_chance_value"].mean()), gid="chance", **theme.CHANCE_STYLE)
    if metric == "capture":
        ax.axhline(1.0, gid="truth", **theme.TRUTH_STYLE)
    elif metric == "bits":
        ax.axhline(float(rows["true_bits"].mean()), gid="truth", **theme.TRUTH_STYLE)


def _legend(ax: Any, handles: list[Any], metric: str) -> None:
    extra = [
        Line2D(
            [], [], color="0.2", **{k: v for k, v in theme.FLOOR_STYLE.items()}, label="untrained (epoch 0)"
        ),
        Line2D([], [], **theme.CHANCE_STYLE, label="chance"),
    ]
    if metric != "balanced_accuracy":
        extra.append(Line2D([], [], **theme.TRUTH_STYLE, label="true bits"))
    ax.legend(handles=handles + extra, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)


@_themed
def plot_capture_curves(
    df: pd.DataFrame,
    metric: str = "capture",
    *,
    axes: Any = None,
    ax: Any = None,
    where: Mapping[str, Any] | None = None,
    terms: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> tuple[Any, list[Any]]:
    """Each term's ``metric`` over training epochs: one panel per term, one line per objective.

    Lines are means over seeds with a Student-t ``confidence`` band; each line's untrained floor (mean
    epoch-0 value) is dotted in its colour; chance (0 for capture and bits, 1/n_classes for accuracy, in %)
    is dashed grey and the true information (capture 1, or the true bits) a thin grey line. Grid keys
    other than the objective that vary get their own lines (label ``key=value``, other line style); pick a
    slice with ``where={"generator.params.biased": False}``.

    Args:
        df: results table. metric: ``"capture"``, ``"balanced_accuracy"`` or ``"bits"``.
        axes: one Axes per term (``ax`` is an alias for a single term); None makes a figure.
        where: ``{column: value or list of values}`` row filter. terms: panels to draw (default: every
            term with data). confidence: level of the band.

    Returns:
        ``(fig, axes)`` with ``axes`` a list, one per term.
    """
    frame = _prepare(df, metric, where).dropna(subset=["epoch"])
    terms = _terms(frame, terms)
    fig, axes = _panels(len(terms), axes if axes is not None else ax, sharey=metric != "bits")
    keys = _line_keys(frame)
    handles: dict[str, Any] = {}
    for term, axis in zip(terms, axes):
        rows_t = frame[frame["term"] == term]
        for line_id, label, color, style, rows in _lines(rows_t, keys):
            by_epoch = rows.groupby("epoch")["_value"]
            epochs = np.array(sorted(by_epoch.groups), dtype=float)
            stats = np.array([mean_ci(by_epoch.get_group(e), confidence) for e in epochs])
            (line,) = axis.plot(
                epochs, stats[:, 0], color=color, ls=style, label=label, gid=f"mean:{line_id}"
            )
            axis.fill_between(
                epochs, stats[:, 2], stats[:, 3], color=color, alpha=0.18, lw=0, gid=f"band:{line_id}"
            )
            floor = float(rows.drop_duplicates("run_id")["_floor_value"].mean())
            axis.axhline(floor, color=color, gid=f"floor:{line_id}", **theme.FLOOR_STYLE)
            handles.setdefault(label, line)
        _reference_lines(axis, rows_t, metric)
        true_bits = rows_t["true_bits"].mean()
        unit = "bit" if true_bits == 1 else "bits"
        axis.set_title(f"{theme.term_name(term)}\n({true_bits:.3g} {unit})")
        axis.set_xlabel("epoch")
    axes[0].set_ylabel(theme.metric_label(metric))
    if metric == "capture":  # keep the readable range when a few-seed t-band is wide (bands are clipped)
        low, high = axes[0].get_ylim()
        axes[0].set_ylim(max(low, -0.25), min(high, 1.25))
    _legend(axes[-1], list(handles.values()), metric)
    return fig, axes


@_themed
def plot_capture_vs(
    df: pd.DataFrame,
    x: str,
    metric: str = "capture",
    *,
    axes: Any = None,
    ax: Any = None,
    where: Mapping[str, Any] | None = None,
    terms: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> tuple[Any, list[Any]]:
    """Final-epoch ``metric`` against a grid key ``x`` (synergy bits, bias, noise), one line per objective.

    Points are means over seeds with Student-t ``confidence`` error bars; the floor (epoch-0 mean at each
    ``x``) is a dotted line in the objective's colour. Numeric ``x`` keeps its values; booleans and text
    are placed at 0, 1, ... with their values as tick labels. Arguments as ``plot_capture_curves``.
    """
    frame = final_epoch(_prepare(df, metric, where))
    if x not in grid_keys(frame):
        raise ValueError(f"x={x!r} is not a grid column; grid columns: {grid_keys(frame)}")
    values = sorted(frame[x].unique(), key=lambda v: (str(type(v)), v))
    numeric = all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values
    )
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    terms = _terms(frame, terms)
    fig, axes = _panels(len(terms), axes if axes is not None else ax, sharey=metric != "bits")
    keys = _line_keys(frame, exclude=[x])
    handles: dict[str, Any] = {}
    for term, axis in zip(terms, axes):
        rows_t = frame[frame["term"] == term]
        for line_id, label, color, style, rows in _lines(rows_t, keys):
            groups = rows.groupby(x)
            xs = [v for v in values if v in groups.groups]
            stats = np.array([mean_ci(groups.get_group(v)["_value"], confidence) for v in xs])
            pos = np.array([position[v] for v in xs])
            err = np.abs(stats[:, [2, 3]].T - stats[:, 0])
            container = axis.errorbar(
                pos,
                stats[:, 0],
                yerr=np.nan_to_num(err),
                color=color,
                ls=style,
                marker="o",
                ms=4,
                capsize=2,
                label=label,
            )
            container.lines[0].set_gid(f"mean:{line_id}")
            floors = [groups.get_group(v)["_floor_value"].mean() for v in xs]
            axis.plot(pos, floors, color=color, gid=f"floor:{line_id}", **theme.FLOOR_STYLE)
            handles.setdefault(label, Line2D([], [], color=color, ls=style, marker="o", ms=4, label=label))
        _reference_lines(axis, rows_t, metric)
        axis.set_title(theme.term_name(term))
        axis.set_xlabel(theme.key_label(x))
        if not numeric:
            axis.set_xticks([position[v] for v in values], [str(v) for v in values])
    axes[0].set_ylabel(theme.metric_label(metric))
    _legend(axes[-1], list(handles.values()), metric)
    return fig, axes


_GROUPS = {
    "mean": ("redundancy", "uniqueness", "synergy"),
    "both": ("redundancy", "unique_1", "unique_2", "synergy"),
    "all": ("redundancy", "unique_1", "unique_2", "uniqueness", "synergy"),
}


def paper_protocol(df: pd.DataFrame) -> dict[str, dict[str, Any]] | None:
    """The paper's row choice per bar group, when the table has both biased and unbiased pre-training.

    Synergy is read from runs pre-trained on biased pairs, every other group from unbiased ones (spec 4.2);
    None when ``generator.params.biased`` is absent or takes one value.
    """
    if BIASED_KEY not in df.columns or set(df[BIASED_KEY].dropna().astype(bool)) != {False, True}:
        return None
    return {"synergy": {BIASED_KEY: True}, "*": {BIASED_KEY: False}}


def _group_values(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per run: value, floor and chance of one bar group (``uniqueness`` = mean of U1 and U2 per run)."""
    terms = ("unique_1", "unique_2") if group == "uniqueness" else (group,)
    rows = frame[frame["term"].isin(terms)]
    return rows.groupby(["objective", "run_id"], sort=False)[
        ["_value", "_floor_value", "_chance_value"]
    ].mean()


@_themed
def plot_term_bars(
    df: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    metric: str = "balanced_accuracy",
    *,
    ax: Any = None,
    where: Mapping[str, Any] | None = None,
    uniqueness: str = "mean",
    term_filters: Mapping[str, Mapping[str, Any]] | str | None = "auto",
) -> tuple[Any, Any]:
    """Paper-style grouped bars: final ``metric`` per term group (x) and objective (bars).

    Bar height is the mean over seeds at the final epoch, the error bar one standard deviation over seeds
    (the paper's ± convention; ``summarize`` gives confidence intervals). A black dotted tick across each
    bar marks its untrained floor; a dashed grey segment across each group marks chance (balanced accuracy
    only). ``reference`` (e.g. ``reports.paper.paper_trifeature()``, percent) adds a hatched bar with its
    own error bar right of each measured one; its ``uniqueness`` row is drawn on the ``uniqueness`` and
    ``unique_1`` groups (the paper's uniqueness probe is image 1's texture).

    Args:
        df: results table. metric: ``"balanced_accuracy"`` (%), ``"capture"`` or ``"bits"``.
        reference: columns ``objective, term, mean, std``; only with ``metric="balanced_accuracy"``.
        ax: Axes to draw on (None: a new figure). where: row filter as in ``plot_capture_curves``.
        uniqueness: ``"mean"`` (one group, mean of U1 and U2 per run), ``"both"`` (U1 and U2) or
            ``"all"`` (U1, U2 and their mean).
        term_filters: ``{group or "*": where}`` rows used per group; ``"auto"`` applies the paper's
            protocol (``paper_protocol``) when the table has biased and unbiased pre-training.

    Raises:
        ValueError: an unknown option, a reference with another metric, or grid keys other than the
            objective that still vary (select a slice with ``where``).
    """
    if uniqueness not in _GROUPS:
        raise ValueError(f"uniqueness must be one of {list(_GROUPS)}, got {uniqueness!r}")
    if reference is not None and metric != "balanced_accuracy":
        raise ValueError(f"a published reference is in balanced accuracy (%), not {metric!r}")
    frame = final_epoch(_prepare(df, metric, where))
    filters = paper_protocol(frame) if term_filters == "auto" else term_filters
    if isinstance(filters, str):
        raise ValueError(f"term_filters must be a mapping, None or 'auto', got {filters!r}")
    present = set(frame.loc[np.isfinite(frame["_value"]), "term"])
    groups = [
        g for g in _GROUPS[uniqueness] if present & ({"unique_1", "unique_2"} if g == "uniqueness" else {g})
    ]
    per_group = {}
    for group in groups:
        rows = select(frame, (filters or {}).get(group, (filters or {}).get("*")))
        varying = _line_keys(rows)
        if varying:
            raise ValueError(f"grid keys {varying} vary within bar group {group!r}; pick one with where=")
        per_group[group] = _group_values(rows, group)
    objectives = theme.order_objectives(frame["objective"].unique())
    fig, ax = plt.subplots(figsize=(1.4 + 1.3 * len(groups), 2.5)) if ax is None else (ax.figure, ax)
    slot = 0.8 / len(objectives)
    width = slot / 2 if reference is not None else slot
    for g, group in enumerate(groups):
        values = per_group[group]
        for o, objective in enumerate(objectives):
            left = g - 0.4 + o * slot
            color = theme.objective_color(objective)
            if objective in values.index.get_level_values(0):
                runs = values.loc[objective]
                mean, std, _, _ = mean_ci(runs["_value"])
                x = left + width / 2
                ax.bar(x, mean, width, color=color, gid=f"bar:{objective}:{group}")
                ax.errorbar(x, mean, yerr=0 if np.isnan(std) else std, color="0.15", capsize=2, lw=1)
                floor = float(runs["_floor_value"].mean())
                ax.plot(
                    [x - width / 2, x + width / 2],
                    [floor, floor],
                    color="k",
                    gid=f"floor:{objective}:{group}",
                    **{k: v for k, v in theme.FLOOR_STYLE.items() if k != "alpha"},
                )
            ref = _reference_value(reference, objective, group)
            if ref is not None:
                x = left + 1.5 * width
                ax.bar(
                    x,
                    ref[0],
                    width,
                    facecolor="white",
                    edgecolor=color,
                    hatch="////",
                    gid=f"ref:{objective}:{group}",
                )
                if np.isfinite(ref[1]):
                    ax.errorbar(x, ref[0], yerr=ref[1], color="0.45", capsize=2, lw=1)
        if metric == "balanced_accuracy":
            chance = float(values["_chance_value"].mean())
            ax.plot([g - 0.45, g + 0.45], [chance, chance], gid=f"chance:{group}", **theme.CHANCE_STYLE)
    ax.set_xticks(range(len(groups)), [theme.term_name(g).replace(" (", "\n(") for g in groups])
    ax.set_ylabel(theme.metric_label(metric))
    handles = [Patch(color=theme.objective_color(o), label=theme.objective_name(o)) for o in objectives]
    if reference is not None:
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="////", label="published"))
    handles.append(
        Line2D(
            [],
            [],
            color="k",
            **{k: v for k, v in theme.FLOOR_STYLE.items() if k != "alpha"},
            label="untrained (epoch 0)",
        )
    )
    if metric == "balanced_accuracy":
        handles.append(Line2D([], [], **theme.CHANCE_STYLE, label="chance"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig, ax


def _reference_value(
    reference: pd.DataFrame | None, objective: str, group: str
) -> tuple[float, float] | None:
    if reference is None:
        return None
    term = "uniqueness" if group in ("uniqueness", "unique_1") else group
    hit = reference[(reference["objective"] == objective) & (reference["term"] == term)]
    if hit.empty:
        return None
    return float(hit["mean"].iloc[0]), float(hit["std"].iloc[0]) if "std" in hit else np.nan
