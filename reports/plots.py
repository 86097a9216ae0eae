"""Figures of a results table: capture over training, capture against interaction strength, term bars.

Every function takes the tidy results table (``reports.load_results``), draws on the given axes or on a
new figure of the requested ``width`` (``"single"`` column 3.5 in, ``"double"`` 7 in, or inches; text
stays at its point size because ``theme.savefig`` keeps that size), returns ``(fig, axes)`` and never calls
``plt.show``.

What is drawn is what a verdict over seeds needs (``reports.verdicts``): every seed (thin lines or dots),
the **median** over seeds with markers at the evaluated points, and a percentile-bootstrap 95 % interval of
the median, which is made of seed values and so never leaves the data's range. The legend says which
interval is shown and over how many seeds.

Each drawn artist carries a ``gid`` so that tests and scripts can find it: ``median:<line>``,
``band:<line>`` (curves) or ``ci:<line>`` (error bars), ``seeds:<line>``, ``floor:<line>[+<line>...]``,
``chance``, ``truth`` for the line plots (``<line>`` is the objective name, followed by ``|key=value`` for
every other grid key that varies), and ``bar:<objective>:<group>``, ``seeds:<objective>:<group>``,
``ci:<objective>:<group>``, ``ref:<objective>:<group>``, ``floor:<objective>:<group>``, ``chance:<group>``
for the bars.

The **floor** of a run is its value at epoch 0, the untrained network; it is drawn dotted in the
objective's colour so that what a representation learned reads as the gap above it. Objectives that share
an untrained network have identical floors: such a floor is drawn once, in grey, and named once in the
legend ("untrained: Cross, Cross+Self").
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from interactions.types import TERMS

from . import theme
from .results import (
    final_epoch,
    finished,
    grid_keys,
    mean_ci,
    probe_only,
    select,
    validate_results,
    with_floor,
)
from .verdicts import bootstrap_median_ci, paper_protocol_filters

#: Colour of a floor shared by several objectives.
SHARED_FLOOR_COLOR = "0.35"


def _themed(function: Callable[..., Any]) -> Callable[..., Any]:
    """Draw inside ``theme.RC`` so that every text and line of the figure gets the house look."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plt.rc_context(theme.RC):
            return function(*args, **kwargs)

    return wrapper


def median_interval(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """``(median, low, high)`` of the finite ``values``: a bootstrap interval, NaN for fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan,) * 3
    if x.size < 2:
        return float(x[0]), np.nan, np.nan
    low, high = bootstrap_median_ci(x, confidence)
    return float(np.median(x)), low, high


def _prepare(df: pd.DataFrame, metric: str, where: Mapping[str, Any] | None) -> pd.DataFrame:
    frame = with_floor(probe_only(finished(validate_results(df))), metric)
    frame = select(frame, where)
    scale = theme.metric_scale(metric)
    frame["_value"] = frame[metric] * scale
    frame["_floor_value"] = frame["_floor"] * scale
    frame["_chance_value"] = frame["chance"] * scale if metric == "balanced_accuracy" else 0.0
    return frame


def _line_keys(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    keys = [k for k in grid_keys(frame, varying=True) if k not in exclude]
    return (["generator"] if frame["generator"].nunique() > 1 else []) + keys


def _lines(
    frame: pd.DataFrame, keys: list[str], names: Mapping[str, str] | None
) -> Iterator[tuple[str, str, str, Any, pd.DataFrame]]:
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
            label = theme.objective_name(objective, names) + "".join(
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


def _is_wide(width_in: float) -> bool:
    return width_in >= 5.0


def _panels(n: int, axes: Any, sharey: bool, width: float | str) -> tuple[Any, list[Any], bool]:
    """``(fig, axes, own)``: ``n`` panels on a new figure of ``width`` (one row when wide, two columns when
    narrow), or the given ``axes``; ``own`` says whether the figure is ours (then the legend goes beside
    the panels, outside them, with constrained layout)."""
    if axes is None:
        width_in = theme.figure_width(width)
        ncols = n if _is_wide(width_in) else min(n, 2)
        nrows = math.ceil(n / ncols)
        height = 2.2 * nrows if _is_wide(width_in) else 1.75 * nrows
        fig = plt.figure(figsize=(width_in, height), layout="constrained")
        grid = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False).ravel()
        for extra in grid[n:]:
            extra.remove()
        return fig, list(grid[:n]), True
    axes = list(np.atleast_1d(axes).ravel())
    if len(axes) != n:
        raise ValueError(f"need {n} axes (one per term), got {len(axes)}")
    return axes[0].figure, axes, False


def _reference_lines(ax: Any, rows: pd.DataFrame, metric: str) -> None:
    ax.axhline(float(rows["_chance_value"].mean()), gid="chance", **theme.CHANCE_STYLE)
    if metric == "capture":
        ax.axhline(1.0, gid="truth", **theme.TRUTH_STYLE)
    elif metric == "bits":
        ax.axhline(float(rows["true_bits"].mean()), gid="truth", **theme.TRUTH_STYLE)


def _seed_count(counts: Sequence[int]) -> str:
    counts = sorted(set(int(c) for c in counts))
    if not counts:
        return "n = 0 seeds"
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"n = {n} seed" + ("" if counts == [1] else "s")


def _legend(
    fig: Any,
    axes: list[Any],
    own: bool,
    handles: list[Any],
    metric: str,
    *,
    seed_handle: Any,
    interval_handle: Any,
    shared_floors: Sequence[str],
    singles: bool,
) -> None:
    """Objectives, then how to read the figure: seeds, the interval and n, floors, chance, truth."""
    extra = [seed_handle, interval_handle]
    if singles:
        extra.append(Line2D([], [], color="0.2", **theme.FLOOR_STYLE, label="untrained (epoch 0)"))
    for names in shared_floors:
        extra.append(
            Line2D(
                [],
                [],
                color=SHARED_FLOOR_COLOR,
                **theme.FLOOR_STYLE,
                label=textwrap.fill(f"untrained: {names}", 36, subsequent_indent="  "),
            )
        )
    extra.append(Line2D([], [], **theme.CHANCE_STYLE, label="chance"))
    if metric != "balanced_accuracy":
        extra.append(Line2D([], [], **theme.TRUTH_STYLE, label="true bits"))
    _place_legend(fig, axes[-1], own, handles + extra)


def _place_legend(fig: Any, ax: Any, own: bool, handles: list[Any], beside: bool = False) -> None:
    """Place the legend outside the panels of a figure of ours, growing the figure to make room.

    ``beside``: to the right of a wide figure (one panel); otherwise below the panels, in three columns
    on a wide figure and one on a narrow one, so that the panels keep the full width. On given axes the
    legend goes to the right of the last one.
    """
    if not own:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        return
    wide = _is_wide(fig.get_figwidth())
    if wide and beside:
        fig.legend(handles=handles, loc="outside right upper", frameon=False)
        return
    ncols = 3 if wide else 1
    heights = [1 + str(h.get_label()).count("\n") for h in handles]
    rows = math.ceil(len(handles) / ncols)  # matplotlib fills the columns one after the other
    tallest = max(sum(heights[i : i + rows]) for i in range(0, len(handles), rows))
    fig.set_figheight(fig.get_figheight() + 0.165 * tallest + 0.15)
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)


def _draw_floors(
    ax: Any, floors: dict[str, tuple[np.ndarray, np.ndarray, str, str]], shared: dict[str, None]
) -> bool:
    """Draw one dotted line per distinct floor of this panel; return whether any floor is a line's own.

    ``floors`` maps line id -> (x, y, colour, label); lines whose floors are equal everywhere in the panel
    share one grey line (its ``gid`` joins their ids with ``+``), and their labels go into ``shared``.
    """
    groups: dict[tuple, list[str]] = {}
    for line_id, (x, y, _, _) in floors.items():
        key = (tuple(np.round(x, 9)), tuple(np.round(y, 9)))
        groups.setdefault(key, []).append(line_id)
    single = False
    for ids in groups.values():
        x, y, color, _ = floors[ids[0]]
        if len(ids) > 1:
            color = SHARED_FLOOR_COLOR
            shared[", ".join(floors[i][3] for i in ids)] = None
        else:
            single = True
        gid = "floor:" + "+".join(ids)
        if len(x) == 1:
            ax.axhline(float(y[0]), color=color, gid=gid, **theme.FLOOR_STYLE)
        else:
            ax.plot(x, y, color=color, gid=gid, **theme.FLOOR_STYLE)
    return single


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
    width: float | str = "double",
    names: Mapping[str, str] | None = None,
    seeds: bool = True,
) -> tuple[Any, list[Any]]:
    """Each term's ``metric`` over training epochs: one panel per term, one line per objective.

    A line is the median over seeds with a marker at each evaluated epoch, its band the percentile-bootstrap
    ``confidence`` interval of the median, and thin lines of the same colour are the single seeds. Each
    line's untrained floor (median epoch-0 value) is dotted in its colour (once, in grey, when several
    objectives share it); chance (0 for capture and bits, 1/n_classes for accuracy, in %) is dashed grey
    and the true information (capture 1, or the true bits) a thin grey line. Grid keys other than the
    objective that vary get their own lines (label ``key=value``, other line style); pick a slice with
    ``where={"generator.params.bias": 0.0}``.

    Args:
        df: results table. metric: ``"capture"``, ``"balanced_accuracy"`` or ``"bits"``.
        axes: one Axes per term (``ax`` is an alias for a single term); None makes a figure.
        where: ``{column: value or list of values}`` row filter. terms: panels to draw (default: every
            term with data). confidence: level of the band.
        width: of a new figure: ``"single"`` (3.5 in), ``"double"`` (7 in) or inches.
        names: objective name -> display name (``theme.objective_name``). seeds: draw each seed's line.

    Returns:
        ``(fig, axes)`` with ``axes`` a list, one per term.
    """
    frame = _prepare(df, metric, where).dropna(subset=["epoch"])
    terms = _terms(frame, terms)
    fig, axes, own = _panels(len(terms), axes if axes is not None else ax, metric != "bits", width)
    keys = _line_keys(frame)
    handles: dict[str, Any] = {}
    counts: list[int] = []
    shared: dict[str, None] = {}
    singles = False
    for term, axis in zip(terms, axes):
        rows_t = frame[frame["term"] == term]
        floors = {}
        for line_id, label, color, style, rows in _lines(rows_t, keys, names):
            if seeds:
                for i, (_, run) in enumerate(rows.sort_values("epoch").groupby("run_id", sort=False)):
                    axis.plot(
                        run["epoch"].to_numpy(float),
                        run["_value"].to_numpy(float),
                        color=color,
                        ls=style,
                        lw=0.55,
                        alpha=0.35,
                        gid=f"seeds:{line_id}" if i == 0 else f"seeds:{line_id}#{i}",
                    )
            by_epoch = rows.groupby("epoch")["_value"]
            epochs = np.array(sorted(by_epoch.groups), dtype=float)
            stats = np.array([median_interval(by_epoch.get_group(e), confidence) for e in epochs])
            counts += [int(by_epoch.get_group(e).notna().sum()) for e in epochs]
            (line,) = axis.plot(
                epochs,
                stats[:, 0],
                color=color,
                ls=style,
                marker="o",
                ms=3,
                label=label,
                gid=f"median:{line_id}",
            )
            axis.fill_between(
                epochs, stats[:, 1], stats[:, 2], color=color, alpha=0.18, lw=0, gid=f"band:{line_id}"
            )
            floor = float(np.nanmedian(rows.drop_duplicates("run_id")["_floor_value"]))
            floors[line_id] = (np.array([0.0]), np.array([floor]), color, label)
            handles.setdefault(label, Line2D([], [], color=color, ls=style, marker="o", ms=3, label=label))
        singles |= _draw_floors(axis, floors, shared)
        _reference_lines(axis, rows_t, metric)
        true_bits = rows_t["true_bits"].mean()
        unit = "bit" if true_bits == 1 else "bits"
        axis.set_title(f"{theme.term_name(term)}\n({true_bits:.3g} {unit})")
        axis.set_xlabel("epoch")
        axis.set_xticks(sorted(frame["epoch"].dropna().unique().astype(float)))
    axes[0].set_ylabel(theme.metric_label(metric))
    _legend(
        fig,
        axes,
        own,
        list(handles.values()),
        metric,
        seed_handle=Line2D([], [], color="0.3", lw=0.55, alpha=0.5, label="one seed"),
        interval_handle=Patch(
            color="0.3", alpha=0.25, label=f"median, {confidence:.0%} bootstrap CI\n({_seed_count(counts)})"
        ),
        shared_floors=list(shared),
        singles=singles,
    )
    return fig, axes


def _dodge(n_lines: int, span: float) -> np.ndarray:
    """Horizontal offsets that set ``n_lines`` lines side by side within ``span``."""
    if n_lines <= 1:
        return np.zeros(max(n_lines, 1))
    return np.linspace(-span / 2, span / 2, n_lines)


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
    width: float | str = "double",
    names: Mapping[str, str] | None = None,
) -> tuple[Any, list[Any]]:
    """Final-epoch ``metric`` against a grid key ``x`` (synergy bits, bias, noise), one line per objective.

    Each seed is a small dot; the median over seeds is a larger marker on the line, with its
    percentile-bootstrap ``confidence`` interval as an error bar; lines are set slightly apart at each
    ``x`` so that their dots do not overlap. The floor (median epoch-0 value at each ``x``) is a dotted line
    in the objective's colour (grey when shared). Numeric ``x`` keeps its values; booleans and text are
    placed at 0, 1, ... with their values as tick labels. Other arguments as ``plot_capture_curves``.
    """
    frame = final_epoch(_prepare(df, metric, where))
    if x not in grid_keys(frame):
        raise ValueError(f"x={x!r} is not a grid column; grid columns: {grid_keys(frame)}")
    values = sorted(frame[x].unique(), key=lambda v: (str(type(v)), v))
    numeric = all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values
    )
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    positions = np.array(sorted(position.values()))
    step = float(np.min(np.diff(positions))) if positions.size > 1 else 1.0
    terms = _terms(frame, terms)
    fig, axes, own = _panels(len(terms), axes if axes is not None else ax, metric != "bits", width)
    keys = _line_keys(frame, exclude=[x])
    handles: dict[str, Any] = {}
    counts: list[int] = []
    shared: dict[str, None] = {}
    singles = False
    for term, axis in zip(terms, axes):
        rows_t = frame[frame["term"] == term]
        lines = list(_lines(rows_t, keys, names))
        offsets = _dodge(len(lines), 0.35 * step)
        floors = {}
        for offset, (line_id, label, color, style, rows) in zip(offsets, lines):
            groups = rows.groupby(x)
            xs = [v for v in values if v in groups.groups]
            pos = np.array([position[v] for v in xs]) + offset
            stats = np.array([median_interval(groups.get_group(v)["_value"], confidence) for v in xs])
            seed_x, seed_y = [], []
            for p, v in zip(pos, xs):
                ys = groups.get_group(v)["_value"].dropna().to_numpy(float)
                counts.append(ys.size)
                seed_x += list(p + _dodge(ys.size, 0.06 * step)[: ys.size])
                seed_y += list(ys)
            axis.plot(
                seed_x, seed_y, ls="none", marker="o", ms=2.2, color=color, alpha=0.45, gid=f"seeds:{line_id}"
            )
            err = np.abs(stats[:, [1, 2]].T - stats[:, 0])
            bars = axis.errorbar(
                pos, stats[:, 0], yerr=np.nan_to_num(err), ls="none", color=color, capsize=2, lw=1
            )
            bars.lines[2][0].set_gid(f"ci:{line_id}")
            axis.plot(
                pos,
                stats[:, 0],
                color=color,
                ls=style,
                marker="o",
                ms=4,
                mec="white",
                mew=0.5,
                label=label,
                gid=f"median:{line_id}",
            )
            floor_y = np.array([np.nanmedian(groups.get_group(v)["_floor_value"]) for v in xs])
            floors[line_id] = (np.array([position[v] for v in xs]), floor_y, color, label)
            handles.setdefault(label, Line2D([], [], color=color, ls=style, marker="o", ms=4, label=label))
        singles |= _draw_floors(axis, floors, shared)
        _reference_lines(axis, rows_t, metric)
        axis.set_title(theme.term_name(term))
        axis.set_xlabel(theme.key_label(x))
        axis.set_xticks([position[v] for v in values], [f"{v:g}" if numeric else str(v) for v in values])
    axes[0].set_ylabel(theme.metric_label(metric))
    _legend(
        fig,
        axes,
        own,
        list(handles.values()),
        metric,
        seed_handle=Line2D([], [], color="0.3", ls="none", marker="o", ms=2.2, alpha=0.6, label="one seed"),
        interval_handle=Line2D(
            [],
            [],
            color="0.3",
            marker="o",
            ms=4,
            label=f"median, {confidence:.0%} bootstrap CI\n({_seed_count(counts)})",
        ),
        shared_floors=list(shared),
        singles=singles,
    )
    return fig, axes


_GROUPS = {
    "mean": ("redundancy", "uniqueness", "synergy"),
    "both": ("redundancy", "unique_1", "unique_2", "synergy"),
    "all": ("redundancy", "unique_1", "unique_2", "uniqueness", "synergy"),
}


def paper_protocol(df: pd.DataFrame) -> dict[str, dict[str, Any]] | None:
    """The paper's row choice per bar group, when the table has both biased and unbiased pre-training.

    Synergy is read from runs pre-trained on biased pairs, every other group from unbiased ones (spec 4.2);
    None when ``generator.params.bias`` is absent or does not take exactly two values, one of them 0
    (``reports.verdicts.paper_protocol_filters``).
    """
    return paper_protocol_filters(df)


def _group_values(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per run: value, floor and chance of one bar group (``uniqueness`` = mean of U1 and U2 per run)."""
    terms = ("unique_1", "unique_2") if group == "uniqueness" else (group,)
    rows = frame[frame["term"].isin(terms)]
    return rows.groupby(["objective", "run_id"], sort=False)[
        ["_value", "_floor_value", "_chance_value"]
    ].mean()


STATISTICS = ("median", "mean")


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
    statistic: str = "median",
    confidence: float = 0.95,
    width: float | str = "double",
    names: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """Paper-style grouped bars: final ``metric`` per term group (x) and objective (bars), every seed a dot.

    With ``statistic="median"`` (default) the bar is the median over seeds and its error bar the
    percentile-bootstrap ``confidence`` interval of the median; ``"mean"`` gives the paper's convention,
    mean ± one standard deviation over seeds. Either way each seed is a dot on its bar. A black dotted
    tick across each bar marks its untrained floor; a dashed grey segment across each group marks chance
    (balanced accuracy only). ``reference`` (e.g. ``reports.paper.paper_trifeature()``, percent: mean ±
    std of the paper) adds a hatched bar with its own error bar right of each measured one; its
    ``uniqueness`` row is drawn on the ``uniqueness`` and ``unique_1`` groups (the paper's uniqueness probe
    is image 1's texture).

    Args:
        df: results table. metric: ``"balanced_accuracy"`` (%), ``"capture"`` or ``"bits"``.
        reference: columns ``objective, term, mean, std``; only with ``metric="balanced_accuracy"``.
        ax: Axes to draw on (None: a new figure of ``width``). where: row filter as in
            ``plot_capture_curves``.
        uniqueness: ``"mean"`` (one group, mean of U1 and U2 per run), ``"both"`` (U1 and U2) or
            ``"all"`` (U1, U2 and their mean).
        term_filters: ``{group or "*": where}`` rows used per group; ``"auto"`` applies the paper's
            protocol (``paper_protocol``) when the table has biased and unbiased pre-training.
        statistic: ``"median"`` or ``"mean"``. confidence: of the median's interval.
        width: ``"single"``, ``"double"`` or inches. names: objective name -> display name.

    Raises:
        ValueError: an unknown option, a reference with another metric, or grid keys other than the
            objective that still vary (select a slice with ``where``).
    """
    if uniqueness not in _GROUPS:
        raise ValueError(f"uniqueness must be one of {list(_GROUPS)}, got {uniqueness!r}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {list(STATISTICS)}, got {statistic!r}")
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
    if ax is None:
        width_in = theme.figure_width(width)
        fig = plt.figure(figsize=(width_in, 2.4 if _is_wide(width_in) else 2.2), layout="constrained")
        ax, own = fig.subplots(), True
    else:
        fig, own = ax.figure, False
    slot = 0.8 / len(objectives)
    bar_width = slot / 2 if reference is not None else slot
    counts: list[int] = []
    floor_style = {k: v for k, v in theme.FLOOR_STYLE.items() if k != "alpha"}
    for g, group in enumerate(groups):
        values = per_group[group]
        for o, objective in enumerate(objectives):
            left = g - 0.4 + o * slot
            color = theme.objective_color(objective)
            if objective in values.index.get_level_values(0):
                runs = values.loc[objective]
                seeds = runs["_value"].dropna().to_numpy(float)
                counts.append(seeds.size)
                if statistic == "median":
                    center, low, high = median_interval(seeds, confidence)
                else:
                    center, std, _, _ = mean_ci(seeds)
                    std = 0.0 if np.isnan(std) else std
                    low, high = center - std, center + std
                x = left + bar_width / 2
                ax.bar(x, center, bar_width, color=color, alpha=0.85, gid=f"bar:{objective}:{group}")
                if np.isfinite(low):
                    ax.errorbar(
                        x,
                        center,
                        yerr=[[center - low], [high - center]],
                        color="0.15",
                        capsize=2,
                        lw=1,
                    ).lines[2][0].set_gid(f"ci:{objective}:{group}")
                ax.plot(
                    x + _dodge(seeds.size, 0.5 * bar_width)[: seeds.size],
                    seeds,
                    ls="none",
                    marker="o",
                    ms=2.4,
                    mfc="white",
                    mec="0.1",
                    mew=0.5,
                    gid=f"seeds:{objective}:{group}",
                )
                floor = float(np.nanmedian(runs["_floor_value"]))
                ax.plot(
                    [x - bar_width / 2, x + bar_width / 2],
                    [floor, floor],
                    color="k",
                    gid=f"floor:{objective}:{group}",
                    **floor_style,
                )
            ref = _reference_value(reference, objective, group)
            if ref is not None:
                x = left + 1.5 * bar_width
                ax.bar(
                    x,
                    ref[0],
                    bar_width,
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
    if _is_wide(fig.get_figwidth()):
        # the first word on its own line: "Uniqueness U₁" and "Uniqueness U₂" side by side would collide
        labels = ["\n".join(theme.term_name(g).split(" ", 1)) for g in groups]
    else:
        labels = [theme.TERM_SHORT.get(g, g) for g in groups]
    ax.set_xticks(range(len(groups)), labels)
    ax.set_ylabel(theme.metric_label(metric))
    handles = [
        Patch(color=theme.objective_color(o), alpha=0.85, label=theme.objective_name(o, names))
        for o in objectives
    ]
    shown = (
        f"median, {confidence:.0%} bootstrap CI" if statistic == "median" else "mean ± 1 sd"
    ) + f"\n({_seed_count(counts)}; dots: seeds)"
    handles.append(
        Line2D([], [], color="0.15", marker="o", ms=2.4, mfc="white", mec="0.1", lw=1, label=shown)
    )
    if reference is not None:
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="////", label="published (mean ± sd)"))
    handles.append(Line2D([], [], color="k", **floor_style, label="untrained (epoch 0)"))
    if metric == "balanced_accuracy":
        handles.append(Line2D([], [], **theme.CHANCE_STYLE, label="chance"))
    _place_legend(fig, ax, own, handles, beside=True)
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
