"""One look for every figure: a fixed colour and display name per objective, axis labels with units.

Colours come from the Okabe-Ito colour-blind-safe palette and are keyed by objective name, so that CoMM is
the same vermillion in every figure of every paper; an objective the toolkit does not ship gets a colour
picked deterministically from its name (a hash, not the order of appearance).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

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
    "infmasking": "InfMasking",
    "coral": "COrAL",
    "synib": "SynIB",
    "synib_late": "SynIB (late)",
}
TERM_NAMES: dict[str, str] = {
    "redundancy": "Redundancy",
    "unique_1": "Uniqueness U₁",
    "unique_2": "Uniqueness U₂",
    "uniqueness": "Uniqueness (mean U₁, U₂)",
    "synergy": "Synergy",
}
#: Short term names for narrow figures (a single column).
TERM_SHORT: dict[str, str] = {
    "redundancy": "R",
    "unique_1": "U₁",
    "unique_2": "U₂",
    "uniqueness": "U (mean)",
    "synergy": "S",
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
    "savefig.bbox": "standard",
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


def objective_name(name: str, names: Mapping[str, str] | None = None) -> str:
    """Display name of objective ``name`` in tables and figures.

    ``names`` (name -> label, e.g. ``{"my_objectives:FusedOnly": "Fused only"}``) comes first, then the
    built-in ``OBJECTIVE_NAMES`` (the objectives' ``display_name``); a user's objective given as
    ``"module:Class"`` is shown by its class name, any other name as given.

    Example:
        >>> objective_name("cross_self"), objective_name("my_objectives:FusedOnly")
        ('Cross+Self', 'FusedOnly')
    """
    name = str(name)
    if names and name in names:
        return str(names[name])
    if name in OBJECTIVE_NAMES:
        return OBJECTIVE_NAMES[name]
    return name.rsplit(":", 1)[-1] if ":" in name else name


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


def savefig(
    fig: Any, stem: str | os.PathLike[str], formats: Sequence[str] = ("png", "pdf"), *, tight: bool = False
) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, each written atomically (tmp file + ``os.replace``).

    Saving runs inside ``RC``, so PDFs embed TrueType (Type 42) fonts and SVGs keep text as text. The file
    has the figure's own size (the report's figures are laid out at their requested width, see
    ``figure_width``), so that 9-pt text stays 9 pt in the paper; ``tight=True`` crops to the drawn
    artists instead (for a user's figure whose legend sticks out of it).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    bbox = "tight" if tight else None
    paths = []
    with plt.rc_context(RC):
        for fmt in formats:
            path = stem.with_name(f"{stem.name}.{fmt}")
            atomic_write(
                path,
                lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=RC["savefig.dpi"], bbox_inches=bbox),
            )
            paths.append(path)
    return paths


#: Figure widths of a two-column paper (inches): one column, or the full text width.
WIDTHS: dict[str, float] = {"single": 3.5, "double": 7.0}


def figure_width(width: float | str) -> float:
    """Width in inches of ``"single"`` (3.5 in), ``"double"`` (7 in) or a number of inches in [1, 20].

    Raises:
        ValueError: another name or a width outside [1, 20] inches.
    """
    if isinstance(width, str):
        if width not in WIDTHS:
            raise ValueError(f"width must be 'single', 'double' or inches, got {width!r}")
        return WIDTHS[width]
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 1.0 <= float(width) <= 20.0:
        raise ValueError(f"width must be 'single', 'double' or a number of inches in [1, 20], got {width!r}")
    return float(width)
