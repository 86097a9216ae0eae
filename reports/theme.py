"""One look for every figure: a fixed colour and display name per objective, axis labels with units.

Colours come from the Okabe-Ito colour-blind-safe palette and are keyed by objective name, so that CoMM is
the same vermillion in every figure of every paper; an objective the toolkit does not ship gets a colour
picked deterministically from its name (a hash, not the order of appearance).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from interactions.atomic import atomic_write

#: Objective -> colour (Okabe & Ito 2008). Dict order is the order of objectives in figures and tables.
OBJECTIVE_COLORS: dict[str, str] = {
    "comm": "#D55E00",
    "cross": "#0072B2",
    "cross_self": "#56B4E9",
    "factorcl": "#E69F00",
    "simclr": "#009E73",
    "supervised": "#444444",
}
#: Colours for objectives not listed above, chosen by a hash of the name.
FALLBACK_COLORS: tuple[str, ...] = ("#CC79A7", "#8C564B", "#17BECF", "#BCBD22", "#7F3C8D", "#11A579")
OBJECTIVE_NAMES: dict[str, str] = {
    "comm": "CoMM",
    "cross": "Cross",
    "cross_self": "Cross+Self",
    "factorcl": "FactorCL",
    "simclr": "SimCLR",
    "supervised": "Supervised",
}
TERM_NAMES: dict[str, str] = {
    "redundancy": "Redundancy",
    "unique_1": "Uniqueness U₁",
    "unique_2": "Uniqueness U₂",
    "uniqueness": "Uniqueness (mean U₁, U₂)",
    "synergy": "Synergy",
}
#: Axis label and the factor that turns a stored value into the plotted one.
METRIC_LABELS: dict[str, tuple[str, float]] = {
    "capture": ("capture (bits / true bits)", 1.0),
    "balanced_accuracy": ("balanced accuracy (%)", 100.0),
    "bits": ("information captured (bits)", 1.0),
}
#: Matplotlib settings readable at paper size (a 7-inch wide figure of 3-4 panels).
RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.6,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
}
FLOOR_STYLE: dict[str, Any] = {"linestyle": ":", "linewidth": 1.3, "alpha": 0.9}
CHANCE_STYLE: dict[str, Any] = {"color": "0.35", "linestyle": "--", "linewidth": 0.9}
TRUTH_STYLE: dict[str, Any] = {"color": "0.6", "linestyle": "-", "linewidth": 0.7}
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", (0, (5, 1, 1, 1, 1, 1)))


def objective_color(name: str) -> str:
    """The fixed colour of objective ``name`` (a deterministic fallback for other names)."""
    if name in OBJECTIVE_COLORS:
        return OBJECTIVE_COLORS[name]
    digest = int(hashlib.sha256(str(name).encode()).hexdigest(), 16)
    return FALLBACK_COLORS[digest % len(FALLBACK_COLORS)]


def objective_name(name: str) -> str:
    """Display name, e.g. ``"cross_self"`` -> ``"Cross+Self"``; unknown names are shown as given."""
    return OBJECTIVE_NAMES.get(name, str(name))


def term_name(term: str) -> str:
    return TERM_NAMES.get(term, str(term))


def metric_label(metric: str) -> str:
    return METRIC_LABELS[metric][0]


def metric_scale(metric: str) -> float:
    return METRIC_LABELS[metric][1]


def key_label(key: str) -> str:
    """A readable name for a dotted grid key: ``"generator.params.synergy"`` -> ``"synergy"``."""
    return str(key).rsplit(".", 1)[-1].replace("_", " ")


def order_objectives(names: Iterable[str]) -> list[str]:
    """Shipped objectives in ``OBJECTIVE_COLORS`` order, then the others alphabetically."""
    names = set(names)
    known = [n for n in OBJECTIVE_COLORS if n in names]
    return known + sorted(names - set(known))


def savefig(fig: Any, stem: str | os.PathLike[str], formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, each written atomically (tmp file + ``os.replace``)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        atomic_write(
            path,
            lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=RC["savefig.dpi"], bbox_inches="tight"),
        )
        paths.append(path)
    return paths
