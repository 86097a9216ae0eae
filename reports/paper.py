"""Published Trifeature numbers of the CoMM paper, as a reference table for ``plot_term_bars``.

Linear-probe balanced accuracy (%) on the bimodal Trifeature probes (unbiased test pairs), 5 seeds (42-46):
CoMM, "What to align in multimodal contrastive learning?", Dufumier et al., ICLR 2025 (arXiv 2409.07402),
controlled-experiment figure (the notebook's "Fig. 4"), as collected in the project's spec, section 6.1.

Sources (column ``source``):

* ``"paper_fig"``: bar heights of the paper's figure; the ± values were read off the image's error bars
  (approximate, "≈" in the spec); NaN where the spec gives none. Redundancy and uniqueness come from
  pre-training on unbiased pairs, synergy from pre-training on biased pairs. The paper's "uniqueness" is
  the texture-of-image-1 probe (``unique_1``).
* ``"infmasking_rerun"``: the CoMM re-run of the InfMasking README (± std over 5 seeds), also quoted by
  HRIL Table 1; useful because the figure's CoMM row has no printed error bars.
* ``"notebook"``: single-run values printed by the official notebook (sklearn probe), CoMM only.

Chance levels: 10 % for the 10-class probes (redundancy, uniqueness), 50 % for synergy (binary, balanced
accuracy). ``ACCEPTANCE`` holds the spec's suggested acceptance bands for a faithful re-implementation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_NAN = float("nan")
#: (source, objective, term, mean %, std %) rows; terms are "redundancy", "uniqueness", "synergy".
_ROWS: tuple[tuple[str, str, str, float, float], ...] = (
    ("paper_fig", "cross", "redundancy", 100.0, 0.0),
    ("paper_fig", "cross", "uniqueness", 11.6, 1.0),
    ("paper_fig", "cross", "synergy", 50.0, 0.0),
    ("paper_fig", "factorcl", "redundancy", 99.8, _NAN),
    ("paper_fig", "factorcl", "uniqueness", 62.5, 2.6),
    ("paper_fig", "factorcl", "synergy", 46.5, 2.8),
    ("paper_fig", "cross_self", "redundancy", 99.7, _NAN),
    ("paper_fig", "cross_self", "uniqueness", 86.9, 0.7),
    ("paper_fig", "cross_self", "synergy", 50.0, 0.0),
    ("paper_fig", "comm", "redundancy", 99.9, _NAN),
    ("paper_fig", "comm", "uniqueness", 87.8, 1.5),
    ("paper_fig", "comm", "synergy", 71.9, 2.1),
    ("infmasking_rerun", "comm", "redundancy", 99.9, 0.06),
    ("infmasking_rerun", "comm", "uniqueness", 86.8, 2.99),
    ("infmasking_rerun", "comm", "synergy", 71.4, 3.47),
    ("notebook", "comm", "redundancy", 99.96, _NAN),
    ("notebook", "comm", "uniqueness", 90.14, _NAN),
    ("notebook", "comm", "synergy", 70.29, _NAN),
)
#: Balanced-accuracy chance level (%) of each paper term.
CHANCE: dict[str, float] = {"redundancy": 10.0, "uniqueness": 10.0, "synergy": 50.0}
#: Suggested acceptance bands (%, inclusive) for a 5-seed re-implementation (spec 6.1). The spec's "S = 50"
#: for Cross and Cross+Self is given a +-2 point band here (a probe at chance still fluctuates by about
#: that much on 4,094 test pairs); that tolerance is this module's choice, not the spec's.
ACCEPTANCE: dict[str, dict[str, tuple[float, float]]] = {
    "comm": {"redundancy": (99.5, 100.0), "uniqueness": (85.0, 91.0), "synergy": (68.0, 76.0)},
    "cross": {"uniqueness": (10.0, 13.0), "synergy": (48.0, 52.0)},
    "cross_self": {"synergy": (48.0, 52.0)},
}
SOURCES: tuple[str, ...] = ("paper_fig", "infmasking_rerun", "notebook")


def paper_trifeature(source: str = "paper_fig") -> pd.DataFrame:
    """The published Trifeature balanced accuracies (%) of one source.

    Returns:
        Columns ``objective, term, mean, std, chance, source`` (percent), one row per objective and term.

    Raises:
        ValueError: unknown ``source``.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    rows = [r for r in _ROWS if r[0] == source]
    table = pd.DataFrame(rows, columns=["source", "objective", "term", "mean", "std"])
    table["chance"] = table["term"].map(CHANCE)
    return table[["objective", "term", "mean", "std", "chance", "source"]]


def check_against_paper(summary: pd.DataFrame) -> pd.DataFrame:
    """Compare measured means (%) with ``ACCEPTANCE``: one row per banded (objective, term).

    Args:
        summary: columns ``objective, term, mean`` with terms ``redundancy``, ``uniqueness``, ``synergy``
            and means in percent.

    Returns:
        Columns ``objective, term, measured, low, high, within`` (``within`` False when not measured).
    """
    rows = []
    for objective, bands in ACCEPTANCE.items():
        for term, (low, high) in bands.items():
            hit = summary[(summary["objective"] == objective) & (summary["term"] == term)]
            measured = float(hit["mean"].iloc[0]) if len(hit) else np.nan
            within = bool(np.isfinite(measured) and low - 1e-9 <= measured <= high + 1e-9)
            rows.append(
                dict(objective=objective, term=term, measured=measured, low=low, high=high, within=within)
            )
    return pd.DataFrame(rows)
