"""Verdicts over seeds: "learned in k of n seeds", the median and a bootstrap interval per objective and term.

A learned/not-learned outcome is often bimodal over seeds (CoMM's unbiased XOR synergy: 0.85, 0.00, 0.79,
0.00, 0.00), so a mean ± sd says nothing useful about it. This module reports instead, per objective and
term, at each run's final epoch:

* ``k`` of ``n`` seeds that meet the cell's criterion: **learned** = capture >= ``threshold`` (0.9 by
  default); for a term the objective is *expected to drop*, **dropped** = capture <= the run's own floor
  (its untrained, epoch-0 capture) + ``DROP_MARGIN`` (0.05);
* a verdict: ``k = n`` learned (or dropped), ``k = 0`` not learned (not dropped), otherwise **unreliable**;
* the median over seeds and a percentile-bootstrap 95 % interval of the median (``N_RESAMPLES`` resamples
  from a generator seeded with ``BOOTSTRAP_SEED``, so that the same table always prints the same interval);
  the interval is made of resampled medians, so it never leaves the range of the data.

Expectations (which objective should keep or drop which term) follow the CoMM paper (Dufumier et al., ICLR
2025, arXiv 2409.07402, section 3 and Fig. 2): Cross (CLIP-style cross-modal InfoNCE) keeps redundancy
only; Cross+Self keeps redundancy and both uniqueness terms; CoMM keeps all four; supervised training on
target T keeps T; SimCLR and FactorCL get no expectation and are reported as they come.

Pure numpy/pandas: no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from interactions.types import TERMS

from . import theme
from .results import final_epoch, finished, grid_keys, probe_only, select, validate_results, with_floor

#: Capture at or above which a seed counts as having learned a term.
DEFAULT_THRESHOLD = 0.9
#: A seed drops a term when its capture is at or below its own floor plus this margin (capture units).
DROP_MARGIN = 0.05
#: Bootstrap resamples of the seeds, and the seed of the generator that draws them.
N_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
KEEP, DROP = "keep", "drop"
#: Verdict words: (all seeds meet the criterion, none does) per criterion, and the mixed case.
VERDICT_WORDS: dict[str, tuple[str, str]] = {
    "learned": ("learned", "not learned"),
    "dropped": ("dropped", "not dropped"),
}
UNRELIABLE = "unreliable"


class TooFewSeedsError(ValueError):
    """A verdict or interval was asked of fewer than 2 seeds."""


#: The paper's expectations for the built-in objectives; ``supervised`` is filled in from its target.
PAPER_EXPECTATIONS: dict[str, dict[str, str]] = {
    "cross": {"redundancy": KEEP, "unique_1": DROP, "unique_2": DROP, "synergy": DROP},
    "cross_self": {"redundancy": KEEP, "unique_1": KEEP, "unique_2": KEEP, "synergy": DROP},
    "comm": {term: KEEP for term in TERMS},
}
#: Grid column naming the supervised objective's target term.
TARGET_KEY = "objective.params.target"
#: Grid column of the pre-training bias (contract 2: 0 = unbiased).
BIAS_KEY = "generator.params.bias"


def check_threshold(threshold: float | Mapping[str, float]) -> dict[str, float]:
    """The per-term thresholds of ``threshold`` (one float for every term, or ``{term: float}``).

    Raises:
        ValueError: a threshold outside (0, 1], or an unknown term, named.
        TypeError: a threshold that is not a number.
    """
    items = threshold.items() if isinstance(threshold, Mapping) else ((t, threshold) for t in TERMS)
    out = {}
    for term, value in items:
        if term not in TERMS:
            raise ValueError(f"threshold given for unknown term {term!r}; terms: {list(TERMS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"threshold for {term} must be a number in (0, 1], got {value!r}")
        if not 0.0 < float(value) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {value!r} (term {term})")
        out[term] = float(value)
    return {term: out.get(term, DEFAULT_THRESHOLD) for term in TERMS}


def _finite(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if np.isnan(x).any():
        raise ValueError(f"{what} holds NaN: {x.tolist()}")
    return x


def bootstrap_median_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the median of ``values`` (one value per seed).

    Draws ``n_resamples`` resamples of the n seeds with replacement, as one (n_resamples, n) index matrix
    ``np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))``, takes each resample's median and
    returns the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those medians (numpy's
    linear interpolation). Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 13.

    Args:
        values: shape (n,), n >= 2, no NaN.
        confidence: in (0, 1). n_resamples: >= 1. seed: seed of the resampling generator.

    Returns:
        ``(low, high)``, both within ``[min(values), max(values)]``.

    Raises:
        ValueError: fewer than 2 values, a NaN, or a bad ``confidence`` / ``n_resamples``.

    Example:
        >>> bootstrap_median_ci([0.5, 0.5, 0.5])
        (0.5, 0.5)
    """
    x = _finite(values, "values")
    if x.size < 2:
        raise TooFewSeedsError(
            f"a bootstrap interval needs at least 2 seeds, got {x.size} value(s): {x.tolist()}"
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples!r}")
    rng = np.random.default_rng(seed)
    index = rng.integers(0, x.size, size=(int(n_resamples), x.size))
    medians = np.median(x[index], axis=1)  # (n_resamples,)
    low, high = np.quantile(medians, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def count_learned(values: Sequence[float] | np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> int:
    """How many seeds have capture >= ``threshold`` (in (0, 1])."""
    limit = check_threshold(threshold)[TERMS[0]]
    return int((_finite(values, "values") >= limit).sum())


def count_dropped(
    values: Sequence[float] | np.ndarray,
    floors: Sequence[float] | np.ndarray,
    margin: float = DROP_MARGIN,
) -> int:
    """How many seeds have capture <= their own floor + ``margin`` (``values`` and ``floors`` paired)."""
    x, f = _finite(values, "values"), _finite(floors, "floors")
    if x.shape != f.shape:
        raise ValueError(f"values and floors must pair up, got {x.size} values and {f.size} floors")
    return int((x <= f + margin + 1e-12).sum())


def verdict(k: int, n: int, criterion: str = "learned") -> str:
    """``"learned"`` when k = n, ``"not learned"`` when k = 0, else ``"unreliable"``.

    ``criterion="dropped"`` gives ``"dropped"`` / ``"not dropped"`` / ``"unreliable"``.

    Raises:
        ValueError: ``n < 1``, ``k`` outside [0, n] or an unknown criterion.
    """
    if criterion not in VERDICT_WORDS:
        raise ValueError(f"criterion must be one of {list(VERDICT_WORDS)}, got {criterion!r}")
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}")
    every, none = VERDICT_WORDS[criterion]
    return every if k == n else none if k == 0 else UNRELIABLE


def expectations_for(
    objective: str,
    target: str | None = None,
    expectations: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """``{term: "keep" | "drop"}`` expected of ``objective`` (terms without an expectation are absent).

    ``expectations`` (objective name -> {term: "keep"/"drop"}) replaces the paper's defaults for the names
    it lists. By default ``supervised`` keeps its ``target`` term (nothing when the target is unknown).

    Raises:
        ValueError: an unknown term or an expectation other than "keep"/"drop".
    """
    table: dict[str, Mapping[str, str]] = dict(PAPER_EXPECTATIONS)
    if target in TERMS:
        table["supervised"] = {target: KEEP}
    table.update(expectations or {})
    expected = dict(table.get(objective, {}))
    for term, what in expected.items():
        if term not in TERMS:
            raise ValueError(
                f"expectation for {objective!r} names unknown term {term!r}; terms: {list(TERMS)}"
            )
        if what not in (KEEP, DROP):
            raise ValueError(f"expectation for {objective!r}/{term} must be 'keep' or 'drop', got {what!r}")
    return expected


def verdict_cells(
    final: pd.DataFrame,
    by: Sequence[str] = ("objective",),
    *,
    threshold: float | Mapping[str, float] = DEFAULT_THRESHOLD,
    expectations: Mapping[str, Mapping[str, str]] | None = None,
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """One verdict per group of ``by`` and term, from final per-seed values.

    Args:
        final: one row per (run, term) with the columns of ``by`` (which must include ``objective``),
            ``term``, ``capture`` and ``floor`` (the run's untrained capture); ``objective.params.target``
            when present gives the supervised objective's target.
        by: grouping columns; every group must hold >= 2 seeds per term.
        threshold: capture that counts as learned, one float in (0, 1] or ``{term: float}``.
        expectations: objective -> {term: "keep"/"drop"}, replacing the paper's defaults for those names.
        confidence, n_resamples, seed: of the bootstrap interval (``bootstrap_median_ci``).

    Returns:
        One row per group and term, in ``TERMS`` order within a group: the ``by`` columns, ``term``,
        ``expected`` ("keep", "drop" or ""), ``criterion`` ("dropped" for drop cells, else "learned"),
        ``k``, ``n``, ``verdict``, ``meets`` (verdict == the expected outcome; NA without expectation),
        ``median``, ``ci_low``, ``ci_high``, ``floor`` (median floor), ``threshold``, ``values`` (the
        per-seed captures, in table order).

    Raises:
        ValueError: missing columns, a group with fewer than 2 seeds (named), bad threshold/expectations.
    """
    by = list(by)
    if "objective" not in by:
        raise ValueError(f"by must include 'objective', got {by}")
    missing = [c for c in [*by, "term", "capture", "floor"] if c not in final.columns]
    if missing:
        raise ValueError(f"final-value table lacks columns {missing}; it has {list(final.columns)}")
    limits = check_threshold(threshold)
    rows = []
    for key, group in final.groupby(by, sort=False, dropna=False):
        labels = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        target = _single(group, TARGET_KEY)
        expected = expectations_for(str(labels["objective"]), target, expectations)
        for term in TERMS:
            cell = group[(group["term"] == term) & group["capture"].notna()]
            if cell.empty:
                continue
            values, floors = cell["capture"].to_numpy(float), cell["floor"].to_numpy(float)
            if values.size < 2:
                raise TooFewSeedsError(
                    f"verdicts need at least 2 seeds per cell; {labels} / {term} has {values.size}"
                )
            what = expected.get(term, "")
            criterion = "dropped" if what == DROP else "learned"
            if what == DROP:
                k = count_dropped(values, floors)
            else:
                k = int((values >= limits[term]).sum())
            word = verdict(k, values.size, criterion)
            low, high = bootstrap_median_ci(values, confidence, n_resamples, seed)
            meets = pd.NA if not what else word == ("learned" if what == KEEP else "dropped")
            rows.append(
                labels
                | dict(term=term, expected=what, criterion=criterion, k=k, n=int(values.size))
                | dict(verdict=word, meets=meets, median=float(np.median(values)), ci_low=low, ci_high=high)
                | dict(floor=float(np.median(floors)), threshold=limits[term], values=values.tolist())
            )
    columns = [*by, "term", "expected", "criterion", "k", "n", "verdict", "meets", "median", "ci_low"]
    return pd.DataFrame(rows, columns=[*columns, "ci_high", "floor", "threshold", "values"])


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _single(group: pd.DataFrame, column: str) -> str | None:
    if column not in group.columns:
        return None
    values = group[column].dropna().unique()
    return str(values[0]) if len(values) == 1 else None


def paper_protocol_filters(frame: pd.DataFrame) -> dict[str, dict[str, Any]] | None:
    """The paper's rows per term when the table has unbiased and biased pre-training.

    Synergy is read from the biased runs and the other terms from the unbiased ones (bias 0), as in the
    CoMM paper's Trifeature protocol (unbiased pre-training for R and U, biased for S). None unless
    ``generator.params.bias`` takes exactly two values, one of them 0.
    """
    if BIAS_KEY not in frame.columns:
        return None
    values = sorted({float(v) for v in frame[BIAS_KEY].dropna()})
    if len(values) != 2 or values[0] != 0.0:
        return None
    return {"synergy": {BIAS_KEY: values[1]}, "*": {BIAS_KEY: 0.0}}


def final_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Each finished run's final-epoch rows with ``floor`` replaced by its epoch-0 capture (when logged)."""
    last = final_epoch(with_floor(probe_only(finished(validate_results(frame))), "capture"))
    return last.assign(floor=last["_floor"]).drop(columns="_floor")


def verdict_table(
    results: pd.DataFrame,
    *,
    threshold: float | Mapping[str, float] = DEFAULT_THRESHOLD,
    expectations: Mapping[str, Mapping[str, str]] | None = None,
    term_filters: Mapping[str, Mapping[str, Any]] | str | None = "auto",
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """The verdict table of a results table (``reports.load_results``): objective x term at the final epoch.

    Args:
        results: the tidy results table.
        threshold, expectations, confidence, n_resamples, seed: as in ``verdict_cells``.
        term_filters: ``{term or "*": where}`` rows used per term; ``"auto"`` applies the paper's protocol
            (``paper_protocol_filters``: synergy from biased pre-training, the rest unbiased) when the
            table has both; None uses every row.
        by: grouping columns; default ``objective`` plus every grid key that still varies (and
            ``generator`` when several), the filtered key excepted.

    Returns:
        ``verdict_cells``' table plus ``rows_from``: the filter each term's rows came from (with the paper
        protocol, ``bias=0`` or ``bias=0.8``; "" without a filter).
    """
    final = final_values(results)
    filters = paper_protocol_filters(final) if term_filters == "auto" else term_filters
    if isinstance(filters, str):
        raise ValueError(f"term_filters must be a mapping, None or 'auto', got {filters!r}")
    parts = []
    for term in TERMS:
        where = (filters or {}).get(term, (filters or {}).get("*"))
        rows = final[final["term"] == term]
        if rows.empty:
            continue
        rows = select(rows, where) if where else rows
        protocol = ", ".join(f"{theme.key_label(k)}={_show(v)}" for k, v in (where or {}).items())
        parts.append(rows.assign(_protocol=protocol))
    if not parts:
        raise ValueError("no finished runs to judge")
    final = pd.concat(parts, ignore_index=True)
    if by is None:
        skip = set((filters or {}).get("*", {})) | {k for f in (filters or {}).values() for k in f}
        keys = [k for k in grid_keys(final, varying=True) if k not in skip]
        by = ["objective", *keys] + (["generator"] if final["generator"].nunique() > 1 else [])
    table = verdict_cells(
        final,
        by,
        threshold=threshold,
        expectations=expectations,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
    )
    protocol = final.groupby("term")["_protocol"].first()
    table.insert(len(by) + 1, "rows_from", table["term"].map(protocol).fillna(""))
    return table


def format_cell(row: Mapping[str, Any], digits: int = 2) -> str:
    """``"learned 5/5 · 1.00 [0.99, 1.00]"``; `` ✓`` or `` ✗ expected keep`` when there is an expectation."""
    text = (
        f"{row['verdict']} {row['k']}/{row['n']} · {row['median']:.{digits}f} "
        f"[{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}]"
    )
    if row.get("expected"):
        text += " ✓" if bool(row["meets"]) else f" ✗ expected {row['expected']}"
    return text


def wide_verdicts(
    table: pd.DataFrame, names: Mapping[str, str] | None = None, digits: int = 2
) -> pd.DataFrame:
    """The verdict table as objective (x grid setting) rows and one ``format_cell`` column per term.

    ``names`` maps objective names to display names (``theme.objective_name``).
    """
    index = [c for c in table.columns if c not in _CELL_COLUMNS]
    cells = table.assign(cell=[format_cell(row, digits) for row in table.to_dict("records")])
    wide = cells.pivot_table(index=index, columns="term", values="cell", aggfunc="first", sort=False)
    wide = wide[[t for t in TERMS if t in wide.columns]].reset_index()
    wide.columns.name = None
    wide["objective"] = [theme.objective_name(o, names) for o in wide["objective"]]
    return wide.rename(columns={t: theme.term_name(t) for t in TERMS})


_CELL_COLUMNS = (
    "term rows_from expected criterion k n verdict meets median ci_low ci_high floor threshold values".split()
)


def verdict_legend(table: pd.DataFrame, confidence: float = 0.95, n_resamples: int = N_RESAMPLES) -> str:
    """One paragraph that says how to read the verdict table (thresholds, seeds, interval, row filters)."""
    thresholds = sorted(set(table["threshold"]))
    seeds = sorted(set(table["n"]))
    n_text = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
    protocols = {}
    if "rows_from" in table.columns:
        protocols = {t: p for t, p in zip(table["term"], table["rows_from"]) if p}
    text = (
        f"Each cell: verdict, k/n seeds, median capture [{confidence:.0%} percentile-bootstrap interval of "
        f"the median, {n_resamples:,} resamples] over n = {n_text} seeds at the final epoch. "
        f"learned = capture >= {', '.join(f'{t:g}' for t in thresholds)} in every seed; "
        f"for a term the objective should drop, dropped = capture <= its untrained floor + {DROP_MARGIN:g} "
        "in every seed; unreliable = some seeds but not all. ✓/✗: the paper's expectation holds / fails."
    )
    if protocols:
        text += " Rows per term: " + "; ".join(f"{t} at {p}" for t, p in protocols.items()) + "."
    return text
