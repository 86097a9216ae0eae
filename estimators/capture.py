"""Per-term capture: how much of each interaction term a frozen representation makes linearly readable.

For each term of ``TERMS`` (redundancy, unique_1, unique_2, synergy) the sample carries the label that
isolates it (``BimodalSample.targets``) and its true information (``BimodalSample.spec``, bits). A linear
probe of the features scores ``bits`` = H(T) - CE on held-out rows, a lower bound on I(Z; T), and
``capture = bits / true_bits``. This is the probe every experiment runs, identical for every objective, so
representations of different objectives (and different feature dimensions) are compared on equal terms
(spec section 7, item 11: CoMM probes its baselines with three different probes).

Protocol choices (spec section 5 and section 7, item 12):

* Features are frozen and **standardised** with the training rows' mean and std. CoMM does not
  standardise; we do so that a given C means the same regularisation for objectives whose feature scales
  differ (a contrastive embedding on the unit sphere vs. an unnormalised one).
* Multinomial logistic regression with a squared L2 penalty in sklearn's C convention (CoMM: unsquared
  norm), fitted by L-BFGS (``estimators.probe.LogisticProbe``).
* C is chosen on a stratified 60/40 split of the training rows (CoMM's fraction) over the grid
  1e-4 ... 1e4 by **held-out cross-entropy** (CoMM: macro accuracy). Cross-entropy is the quantity ``bits``
  is made of, it is smooth in C and it does not tie on small hold-outs. The path runs from strong to weak
  regularisation with warm starts over the whole grid (an early stop on ``patience`` successive worse C
  values can be asked for; it can stop on the flat loss of a weak term, ``estimators.probe.select_C``).
  Then the probe is refitted on all training rows.
* Balanced accuracy = mean per-class recall over the classes present in the test labels (sklearn's
  definition); ``chance`` = 1 / ``n_classes`` with ``n_classes`` the number of those classes.
* A term whose training labels have a single class has nothing to learn: bits 0, balanced accuracy NaN
  (an accuracy of 1 would read as a perfect probe in averages), C NaN.
* ``capture`` is NaN when ``true_bits`` is 0 (a term the data does not contain); bits are never clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from interactions.registry import suggest
from interactions.types import PROBE_COLUMNS, TERMS, BimodalSample

from .probe import DEFAULT_CS, as_features, probe_term, stratified_split


def _check_sample(sample: Any, name: str) -> BimodalSample:
    if not isinstance(sample, BimodalSample):
        raise TypeError(f"{name} must be an interactions.types.BimodalSample, got {type(sample).__name__}")
    return sample


def _check_terms(terms: Sequence[str]) -> tuple[str, ...]:
    if isinstance(terms, str):
        terms = (terms,)
    for term in terms:
        if term not in TERMS:
            raise ValueError(f"unknown term {term!r}{suggest(term, TERMS)}; terms are {TERMS}")
    if not terms:
        raise ValueError("terms must name at least one of " + ", ".join(TERMS))
    return tuple(terms)


def capture(
    z: Any,
    sample: BimodalSample,
    *,
    z_test: Any = None,
    sample_test: BimodalSample | None = None,
    seed: int = 0,
    terms: Sequence[str] = TERMS,
    test_fraction: float = 0.3,
    holdout_fraction: float = 0.4,
    Cs: Sequence[float] = DEFAULT_CS,
    selection: str = "cross_entropy",
    standardize: bool = True,
    max_iter: int = 500,
    tol: float = 1e-5,
    patience: int | None = None,
    decision: str = "argmax",
    precision: str = "float64",
) -> pd.DataFrame:
    """Linear-probe each term's label from frozen features and compare with the term's true bits.

    Args:
        z: shape (n, D), frozen features of ``sample`` (row i of z is sample row i); numpy or torch.
        sample: the labelled sample the features come from (fitted on, or split when z_test is None).
        z_test: shape (n_test, D), features of ``sample_test``; give both or neither.
        sample_test: the sample the probe is scored on; its ``spec`` gives ``true_bits``.
        seed: seed of the train/test split (when needed) and of the hold-out split for C.
            Each term uses its own stream derived from (seed, term index).
        terms: which terms to probe (default all four, in ``TERMS`` order).
        test_fraction: when z_test is None, the fraction of each term's classes scored (stratified per
            term; 0.3 is about CoMM's 4,094 / 14,094).
        holdout_fraction: fraction of the training rows held out to choose C (stratified; CoMM's 0.4).
        Cs: regularisation grid (sklearn convention, standardised features).
        selection: "cross_entropy" (default) or "balanced_accuracy", the hold-out criterion for C.
        standardize: standardise features with the training rows' statistics (default True).
        max_iter, tol: L-BFGS settings of each fit.
        patience: None (default) fits the whole C grid; an int stops the C path after this many
            successive C values worse than the best on the hold-out.
        decision: "argmax" (default, CoMM's probe) or "balanced" (argmax of q(k | z) / pi_k, the Bayes rule
            for balanced accuracy): how each test row's class is predicted; ``bits`` does not depend on it.
        precision: "float64" (default) or "float32": the arithmetic of the probe fits' products with the
            features (``estimators.probe.PRECISIONS``; 1.5x faster on 8,000 x 512 features,
            ``benchmarks/bench_probe.py``).

    Returns:
        One row per term with columns ``interactions.types.PROBE_COLUMNS``: term; balanced_accuracy;
        bits (H(T) - CE on the test rows, bits, a lower bound on I(Z; T), may be slightly negative);
        true_bits (the scored sample's spec); capture = bits / true_bits (NaN when true_bits is 0);
        chance = 1 / n_classes; n_classes (classes in the test labels); feature_dim D; C chosen;
        n_train; n_test; entropy_bits H(T) of the test labels; cross_entropy_bits.
        ``table.attrs["probe_fits"]`` maps each term to ``{"cut_short": [C, ...], "converged": bool}``
        (``estimators.probe.ProbeScore``'s fields: the C values whose hold-out fit stopped at ``max_iter``,
        and whether the final refit converged). Plain JSON values, so the table still writes to parquet.

    Raises:
        TypeError / ValueError: wrong types, shapes, lengths, non-finite features, unknown terms, or a
        test label unseen in the training rows.
    """
    terms = _check_terms(terms)
    sample = _check_sample(sample, "sample")
    x = as_features(z, "z")
    if len(x) != len(sample):
        raise ValueError(f"z has {len(x)} rows but sample has {len(sample)}; rows must be aligned")
    if (z_test is None) != (sample_test is None):
        raise ValueError("give both z_test and sample_test, or neither")
    if z_test is not None:
        sample_test = _check_sample(sample_test, "sample_test")
        x_test = as_features(z_test, "z_test")
        if len(x_test) != len(sample_test):
            raise ValueError(
                f"z_test has {len(x_test)} rows but sample_test has {len(sample_test)}; rows must be aligned"
            )
        if x_test.shape[1] != x.shape[1]:
            raise ValueError(f"z has {x.shape[1]} features but z_test has {x_test.shape[1]}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    spec = (sample_test if sample_test is not None else sample).spec.as_dict()
    rows, fits = [], {}
    for term in terms:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), TERMS.index(term)]))
        y = sample.targets[term]
        if z_test is None:
            train_idx, test_idx = stratified_split(y, test_fraction, rng)
            if len(test_idx) == 0:
                raise ValueError(f"too few rows ({len(y)}) to split off a test fraction of {test_fraction}")
            parts = (x[train_idx], y[train_idx], x[test_idx], y[test_idx])
        else:
            parts = (x, y, x_test, sample_test.targets[term])
        score = probe_term(
            *parts, Cs=Cs, holdout_fraction=holdout_fraction, selection=selection,
            standardize_features=standardize, seed=rng, max_iter=max_iter, tol=tol,
            patience=patience, decision=decision, precision=precision,
        )  # fmt: skip
        fits[term] = {"cut_short": list(score.cut_short), "converged": bool(score.converged)}
        true_bits = float(spec[term])
        rows.append(
            {
                "term": term,
                "balanced_accuracy": score.balanced_accuracy,
                "bits": score.bits,
                "true_bits": true_bits,
                "capture": score.bits / true_bits if true_bits > 0 else math.nan,
                "chance": 1.0 / score.n_classes,
                "n_classes": score.n_classes,
                "feature_dim": x.shape[1],
                "C": score.C,
                "n_train": score.n_train,
                "n_test": score.n_test,
                "entropy_bits": score.entropy_bits,
                "cross_entropy_bits": score.cross_entropy_bits,
            }
        )
    table = pd.DataFrame(rows, columns=list(PROBE_COLUMNS))
    table.attrs["probe_fits"] = fits
    return table
