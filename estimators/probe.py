"""Linear probe of frozen features: multinomial logistic regression and its held-out information bound.

The probe answers "how much does a linear read-out of Z know about the label T?" with two numbers scored on
held-out rows: balanced accuracy, and ``bits = H(T) - CE``, where CE is the probe's mean cross-entropy in
bits. For any predictor q(t | z), E[-log2 q(T | Z)] >= H(T | Z), so ``H(T) - CE <= I(Z; T)``: a lower bound
on the information in Z about T (the predictive, or linear V-, information of Xu et al. 2020, ICLR, "A theory
of usable information under computational constraints"). It is estimated on finite held-out rows, so it can
come out slightly negative when the probe is worse than the label prior; it is reported as is.

The model is sklearn's multinomial logistic regression (Shape: W (D, K), b (K,), symmetric softmax over all
K classes) with sklearn's penalty convention, so one ``C`` means the same thing as in
``sklearn.linear_model.LogisticRegression``:

    minimise  (1/n) sum_i -ln softmax(x_i W + b)[y_i]  +  ||W||_F^2 / (2 C n),   b unpenalised.

It is fitted in float64 with scipy's L-BFGS-B on an analytic gradient (no sklearn, no Python loop over
rows), in preconditioned coordinates: the centred features are rotated onto their principal axes and each
axis is scaled by ``1 / sqrt(variance + 1 / (C n))`` (``principal_basis``), so that the feature covariance
plus the penalty, which bound the objective's curvature, weigh every axis alike. The optimum is the same;
what changes is how fast L-BFGS reaches it. Network features are strongly correlated (a trained Trifeature
Cross encoder: covariance eigenvalues from 9e-6 to 252), and on them the plain fit needs thousands of
iterations at a weak regularisation (8,000 x 512 features, 10 texture classes: C = 1 converged after 1,720
iterations, C = 100 not after 5,000), where the preconditioned one converges in 40-70. Labels that are
nearly separable (a shape probe at 99 %) remain slow, because there the softmax's own curvature vanishes;
such fits may stop at ``max_iter`` (``ProbeConvergenceWarning``) with their scores at the ceiling. Warm starts
along the C path help a little more. With ``precision="float32"`` the
two products with the feature matrix (logits and gradient), nearly all of a fit's time, run in float32
(network features are float32 to begin with; CoMM's own torch probe is float32 throughout) while the
optimiser, softmax and loss stay in float64: 1.5x faster on 8,000 x 512 features (``bench_probe.py``).
At the default ``tol`` it reaches the float64 optimum to about 1e-5 in probability; a much smaller ``tol``
is out of reach of float32 gradients (the fit then stops where its line search does).

CoMM's own probe (spec section 5) uses an unsquared ``||W||_2`` penalty without the 1/n; we use the standard
squared penalty instead (spec section 7, item 12), which is smooth and matches sklearn, so the two can be
cross-checked.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import minimize

from .information import NATS_TO_BITS, as_codes, entropy_bits

#: Default regularisation grid for standardised features (sklearn's C convention): 1e-4 ... 1e4.
DEFAULT_CS: tuple[float, ...] = tuple(10.0**k for k in range(-4, 5))
#: How the hold-out picks C: held-out cross-entropy (the quantity ``bits`` is made of) or balanced accuracy.
SELECTIONS: tuple[str, ...] = ("cross_entropy", "balanced_accuracy")
#: How a fitted probe turns class probabilities into the predictions balanced accuracy scores:
#: "argmax": the most probable class (CoMM's probe); "balanced": the most probable class relative to its
#: training frequency, argmax_k q(k | z) / pi_k, the Bayes rule for mean per-class recall (it differs from
#: "argmax" only when the classes are imbalanced, e.g. Trifeature's synergy label with 10 % positives).
DECISIONS: tuple[str, ...] = ("argmax", "balanced")
#: Arithmetic of the feature-matrix products in a fit: "float64" (default) or "float32" (see above).
PRECISIONS: tuple[str, ...] = ("float64", "float32")


def check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``value`` is one of ``allowed`` (``SELECTIONS``, ...)."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def as_features(z: Any, name: str = "z") -> np.ndarray:
    """Validate a feature matrix and return it as float64 numpy, shape (n, D).

    Accepts numpy arrays and array-likes, and torch tensors (detached and moved to the CPU).

    Raises:
        TypeError: for non-numeric data.
        ValueError: for a wrong number of dimensions, no rows or columns, or non-finite values.
    """
    if hasattr(z, "detach") and hasattr(z, "cpu"):  # a torch tensor; no torch import needed
        z = z.detach().cpu().numpy()
    arr = np.asarray(z)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, D), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} must be finite; first non-finite value at row {bad[0]}, column {bad[1]}")
    return arr


def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Centre and scale every array with the mean and std of ``train``'s rows.

    Constant columns (std 0 on the training rows) get scale 1, so they become 0 rather than NaN.
    """
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (train, *others)]


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean per-class recall over the classes present in ``y_true`` (sklearn's balanced_accuracy_score)."""
    classes, inverse = np.unique(y_true, return_inverse=True)
    hits = np.bincount(inverse, weights=(y_true == y_pred).astype(np.float64), minlength=len(classes))
    return float(np.mean(hits / np.bincount(inverse, minlength=len(classes))))


class ProbeConvergenceWarning(UserWarning):
    """A probe fit stopped at ``max_iter`` before meeting its gradient tolerance."""


#: Principal axes whose variance is below this fraction of the largest are dropped (no information there).
RANK_TOL = 1e-12


@dataclass(frozen=True)
class PrincipalBasis:
    """Principal axes of a feature matrix's centred rows: the coordinates a probe fit is preconditioned in.

    Attributes:
        mean: shape (D,), the column means.
        axes: shape (D, r), orthonormal directions with non-zero variance, r <= min(n, D).
        variances: shape (r,), the rows' variance along each axis (covariance eigenvalues, divisor n).
        scores: shape (n, r), the centred rows in those axes, ``(x - mean) @ axes``.
    """

    mean: np.ndarray
    axes: np.ndarray
    variances: np.ndarray
    scores: np.ndarray


def principal_basis(x: np.ndarray) -> PrincipalBasis:
    """Principal axes of the rows of x, shape (n, D), from the smaller of the two Gram matrices.

    Cost O(n D min(n, D) + min(n, D)^3): for 8,000 x 512 features about as much as a few gradient
    evaluations. Axes with variance below ``RANK_TOL`` times the largest are dropped; a probe's weights
    along them would only add penalty (the loss does not see them), so the optimum has none there.
    """
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    if n >= d:
        variances, axes = np.linalg.eigh(centred.T @ centred / n)
    else:  # fewer rows than features: eigenvectors of the row Gram matrix give the same axes
        variances, left = np.linalg.eigh(centred @ centred.T / n)
        variances = np.clip(variances, 0.0, None)
        axes = centred.T @ (left / np.sqrt(np.where(variances > 0, n * variances, 1.0)))
    keep = variances > RANK_TOL * max(float(variances.max(initial=0.0)), np.finfo(float).tiny)
    axes = np.ascontiguousarray(axes[:, keep])
    return PrincipalBasis(mean, axes, variances[keep], centred @ axes)


def _loss_and_grad(
    params: np.ndarray, x: np.ndarray, y: np.ndarray, n_classes: int, penalty: float | np.ndarray
) -> tuple[float, np.ndarray]:
    """Penalised mean cross-entropy (nats) and its gradient; params = [W.ravel() (D*K), b (K)].

    ``penalty`` is the weight of ``||W||_F^2 / 2``: a number, or shape (D, 1), one weight per feature row
    of W (the preconditioned coordinates of ``LogisticProbe.fit``). The products with ``x`` run in ``x``'s
    dtype (float64, or float32 for ``precision="float32"``); the rest in float64.
    """
    n, d = x.shape
    w = params[: d * n_classes].reshape(d, n_classes)
    logits = (x @ w.astype(x.dtype, copy=False)).astype(np.float64, copy=False) + params[d * n_classes :]
    logits -= logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits).sum(axis=1))
    rows = np.arange(n)
    loss = float(log_norm.mean() - logits[rows, y].mean()) + 0.5 * float(np.sum(penalty * w * w))
    resid = np.exp(logits - log_norm[:, None])  # softmax probabilities (n, K)
    resid[rows, y] -= 1.0
    resid /= n
    x_resid = (x.T @ resid.astype(x.dtype, copy=False)).astype(np.float64, copy=False)
    grad = np.concatenate([(x_resid + penalty * w).ravel(), resid.sum(axis=0)])
    return loss, grad


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise natural-log softmax of (n, K) logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class LogisticProbe:
    """Multinomial L2 logistic regression fitted with L-BFGS (sklearn-compatible objective and C).

    Args:
        C: inverse regularisation strength, > 0 (sklearn convention, see the module docstring).
        max_iter: L-BFGS iteration cap.
        tol: L-BFGS projected-gradient tolerance (``gtol``, in the preconditioned coordinates); the relative
            loss tolerance is 1e-12.
        precision: "float64" or "float32", the arithmetic of the products with the features (``PRECISIONS``).

    Attributes (after ``fit``):
        classes_: shape (K,), sorted class codes seen in training.
        class_prior_: shape (K,), their frequencies in the training rows (used by ``decision="balanced"``).
        coef_: shape (K, D); intercept_: shape (K,); n_iter_: iterations used; converged_: False when the
            fit stopped at ``max_iter``.
    """

    def __init__(
        self, C: float = 1.0, *, max_iter: int = 500, tol: float = 1e-5, precision: str = "float64"
    ) -> None:
        check_choice("precision", precision, PRECISIONS)
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.precision = precision

    def fit(
        self, x: Any, y: Any, *, init: np.ndarray | None = None, basis: PrincipalBasis | None = None
    ) -> LogisticProbe:
        """Fit on features x (n, D) and integer labels y (n,).

        Args:
            init: a warm start, the ``params_`` of another fit on D features.
            basis: ``principal_basis(x)`` when the caller already has it (a C path fits the same rows many
                times); computed here otherwise.

        Warns:
            ProbeConvergenceWarning: if L-BFGS stops at ``max_iter`` (``converged_`` is then False).
        """
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float)) or not self.C > 0:
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if not math.isfinite(self.C):
            raise ValueError(f"C must be finite, got {self.C!r}")
        x = as_features(x, "x")
        y = as_codes(y, "y")
        if len(y) != len(x):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)} labels")
        n, d = x.shape
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        self.class_prior_ = np.bincount(y_idx, minlength=n_classes) / n
        size = d * n_classes + n_classes
        x0 = np.zeros(size) if init is None else np.asarray(init, dtype=np.float64)
        if x0.shape != (size,):
            raise ValueError(f"init must have shape ({size},), got {x0.shape}")
        self.n_iter_, self.converged_ = 0, True
        if n_classes == 1:  # nothing to learn: the single class gets probability 1
            weights, intercept = np.zeros((d, 1)), np.zeros(1)
        else:
            weights, intercept = self._fit_preconditioned(x, y_idx, n_classes, x0, basis)
        self.params_ = np.concatenate([weights.ravel(), intercept])
        self.coef_ = weights.T.copy()
        self.intercept_ = intercept
        return self

    def _fit_preconditioned(
        self, x: np.ndarray, y_idx: np.ndarray, n_classes: int, x0: np.ndarray, basis: PrincipalBasis | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """L-BFGS in the coordinates U of ``W = axes @ (scale * U)``, intercept ``c = b + mean @ W``.

        scale = 1 / sqrt(variance + lam), lam = 1 / (C n): the data term's curvature along each principal
        axis (variance) plus the penalty's (lam) becomes 1 per axis, up to the softmax's own curvature.
        Returns (W (D, K), b (K,)) in the original coordinates.
        """
        n, d = x.shape
        if basis is None:
            basis = principal_basis(x)
        elif basis.scores.shape[0] != n or basis.axes.shape[0] != d:
            raise ValueError(
                f"basis was computed on {basis.scores.shape[0]} x {basis.axes.shape[0]} features, "
                f"x is {n} x {d}"
            )
        lam = 1.0 / (self.C * n)
        scale = 1.0 / np.sqrt(basis.variances + lam)
        dtype = np.float64 if self.precision == "float64" else np.float32
        scaled = np.ascontiguousarray(basis.scores * scale, dtype=dtype)
        w0 = x0[: d * n_classes].reshape(d, n_classes)
        u0 = (basis.axes.T @ w0) / scale[:, None]
        c0 = x0[d * n_classes :] + basis.mean @ w0
        result = minimize(
            _loss_and_grad,
            np.concatenate([u0.ravel(), c0]),
            args=(scaled, y_idx, n_classes, (lam * scale**2)[:, None]),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter), "gtol": float(self.tol), "ftol": 1e-12},
        )
        self.n_iter_ = int(result.nit)
        self.converged_ = self.n_iter_ < self.max_iter
        if not self.converged_:
            # one fixed text, so Python's default filter shows it once per process, not once per fit
            warnings.warn(
                "a probe fit stopped at max_iter before its gradient tolerance (typical of nearly separable "
                "labels, whose scores are then near their ceiling anyway); raise max_iter for exact fits",
                ProbeConvergenceWarning,
                stacklevel=3,
            )
        r = len(scale)
        weights = basis.axes @ (scale[:, None] * result.x[: r * n_classes].reshape(r, n_classes))
        return weights, result.x[r * n_classes :] - basis.mean @ weights

    def predict_log_proba(self, x: Any) -> np.ndarray:
        """Natural-log class probabilities, shape (n, K), columns ordered as ``classes_``."""
        x = as_features(x, "x")
        if x.shape[1] != self.coef_.shape[1]:
            raise ValueError(f"x has {x.shape[1]} features, the probe was fitted on {self.coef_.shape[1]}")
        return log_softmax(x @ self.coef_.T + self.intercept_)

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities, shape (n, K)."""
        return np.exp(self.predict_log_proba(x))

    def predict(self, x: Any, decision: str = "argmax") -> np.ndarray:
        """Predicted class code per row, shape (n,): the most probable class ("argmax") or the most probable
        relative to its training frequency ("balanced", see ``DECISIONS``)."""
        return self._decide(self.predict_log_proba(x), decision)

    def _decide(self, log_p: np.ndarray, decision: str) -> np.ndarray:
        check_choice("decision", decision, DECISIONS)
        if decision == "balanced":
            log_p = log_p - np.log(self.class_prior_)
        return self.classes_[np.argmax(log_p, axis=1)]

    def score_bits(self, x: Any, y: Any, decision: str = "argmax") -> tuple[float, float]:
        """(mean cross-entropy in bits, balanced accuracy of ``predict(x, decision)``) on labelled rows.

        Raises:
            ValueError: if ``y`` holds a class never seen in training (its probability would be 0), or for
                an unknown ``decision``.
        """
        y = as_codes(y, "y")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"labels {unseen.tolist()} do not occur in the probe's training rows "
                f"(classes {self.classes_.tolist()}); the probe cannot score them"
            )
        log_p = self.predict_log_proba(x)
        idx = np.searchsorted(self.classes_, y)
        ce_bits = float(-log_p[np.arange(len(y)), idx].mean()) * NATS_TO_BITS
        return ce_bits, balanced_accuracy(y, self._decide(log_p, decision))


def stratified_split(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices per class: round(test_fraction * count) rows of each class go to the second part.

    A class keeps at least one row in the first part (so every class is seen when fitting). Returns two
    sorted index arrays.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    first, second = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_second = min(int(round(test_fraction * len(idx))), len(idx) - 1)
        second.append(idx[:n_second])
        first.append(idx[n_second:])
    return np.sort(np.concatenate(first)), np.sort(np.concatenate(second))


@dataclass(frozen=True)
class ProbeScore:
    """Held-out result of one probe (one term).

    Attributes:
        bits: H(T) - CE on the test rows, bits; a lower bound on I(Z; T) (may be slightly negative).
        balanced_accuracy: mean per-class recall on the test rows (NaN when only one class exists).
        entropy_bits: plug-in H(T) of the test labels, bits.
        cross_entropy_bits: the probe's mean test cross-entropy, bits.
        C: the regularisation chosen on the hold-out (NaN when only one class exists).
        n_classes: classes present in the test labels; chance = 1 / n_classes.
        n_train, n_test: rows used to fit (all training rows) and to score.
        path: ``{C: hold-out score}`` of the selection (empty for one class).
        cut_short: the C values of the path whose hold-out fit stopped at ``max_iter`` (chosen or not).
        converged: False when the final refit (at ``C``, on all training rows) stopped at ``max_iter``.
    """

    bits: float
    balanced_accuracy: float
    entropy_bits: float
    cross_entropy_bits: float
    C: float
    n_classes: int
    n_train: int
    n_test: int
    path: dict[float, float] = field(default_factory=dict)
    cut_short: tuple[float, ...] = ()
    converged: bool = True


class Selection(NamedTuple):
    """What ``select_C`` found: the best C, ``{C: hold-out score}`` for the C values fitted, the best fit's
    parameters (a warm start for the refit) and the C values whose fit stopped at ``max_iter``."""

    C: float
    path: dict[float, float]
    params: np.ndarray
    cut_short: tuple[float, ...]


def select_C(
    x: np.ndarray,
    y: np.ndarray,
    *,
    Cs: Sequence[float],
    holdout_fraction: float,
    selection: str,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
    patience: int | None = None,
    decision: str = "argmax",
    precision: str = "float64",
) -> Selection:
    """Pick C on a stratified hold-out of (x, y): fit on the rest along the increasing C path (warm starts).

    By default (``patience=None``) every C of the grid is fitted. With an int, the path stops once
    ``patience`` successive C values score worse than the best so far. That early stop assumes the hold-out
    loss is unimodal in C, which fails for a weak term: its loss is flat at strong regularisation (noise
    decides "worse"), may rise at mid C while noise directions are fitted, and only then falls as a
    low-variance signal direction pays off; a stop on the plateau picks the prior (0 bits;
    ``tests/estimators/test_probe_fit.py::test_a_weak_signal_behind_a_flat_loss_is_found``). The whole
    grid costs time only where the best C is small and the weakly regularised fits are long: nothing
    measurable on the shipped sweeps' network features, 1.7x and 4.5x on ``bench_probe.py``'s synthetic
    mixed and isotropic features. ``patience=2`` is the early stop for terms known to be strong.

    Returns a ``Selection``: the best C, {C: score} for the C values fitted, the best fit's parameters for
    a warm start and the C values whose fit was cut at ``max_iter``. The score is the hold-out cross-entropy
    in bits (lower is better) or balanced accuracy (higher is better, predictions by ``decision``); ties go
    to the smaller C.

    Warns (``ProbeConvergenceWarning``) only when the fit of the chosen C stopped at ``max_iter``: on a nearly
    separable label the weakly regularised end of the grid always does, and a fit that is not chosen does
    not enter the result.
    """
    fit_idx, val_idx = stratified_split(y, holdout_fraction, rng)
    if len(val_idx) == 0:
        raise ValueError(f"too few training rows ({len(y)}) for a hold-out of {holdout_fraction:.0%}")
    path: dict[float, float] = {}
    cut: list[float] = []
    best_c, best_score, best_params, init, worse = math.nan, math.inf, None, None, 0
    x_fit, y_fit = x[fit_idx], y[fit_idx]
    basis = principal_basis(x_fit)  # shared by every fit on the path
    for c in sorted(float(c) for c in Cs):
        if patience is not None and worse >= patience:
            break
        probe = LogisticProbe(c, max_iter=max_iter, tol=tol, precision=precision)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProbeConvergenceWarning)  # judged below, for the chosen C only
            probe.fit(x_fit, y_fit, init=init, basis=basis)
        init = probe.params_
        if not probe.converged_:
            cut.append(c)
        ce, acc = probe.score_bits(x[val_idx], y[val_idx], decision)
        path[c] = ce if selection == "cross_entropy" else acc
        loss = ce if selection == "cross_entropy" else -acc
        if loss < best_score:
            best_c, best_score, best_params, worse = c, loss, probe.params_, 0
        else:
            worse += 1
    if best_c in cut:  # the chosen C's own fit stopped at max_iter
        warnings.warn(
            "the hold-out fit of the chosen C stopped at max_iter before its gradient tolerance (typical of "
            "nearly separable labels, whose scores are then near their ceiling anyway); raise max_iter for "
            "exact fits",
            ProbeConvergenceWarning,
            stacklevel=3,
        )
    return Selection(best_c, path, best_params, tuple(cut))


def probe_term(
    z_train: Any,
    y_train: Any,
    z_test: Any,
    y_test: Any,
    *,
    Cs: Sequence[float] = DEFAULT_CS,
    holdout_fraction: float = 0.4,
    selection: str = "cross_entropy",
    standardize_features: bool = True,
    seed: int | np.random.Generator = 0,
    max_iter: int = 500,
    tol: float = 1e-5,
    patience: int | None = None,
    decision: str = "argmax",
    precision: str = "float64",
) -> ProbeScore:
    """Fit a linear probe of one label on training rows and score it on test rows.

    Protocol: standardise with the training rows' statistics; choose C over ``Cs`` on a stratified
    ``holdout_fraction`` hold-out of the training rows by ``selection``; refit on all training rows with
    that C (warm-started); score on the test rows.

    Args:
        z_train: shape (n_train, D) features; y_train: shape (n_train,) integer labels.
        z_test: shape (n_test, D) features; y_test: shape (n_test,) integer labels.
        Cs: the regularisation grid (sklearn convention, > 0).
        holdout_fraction: fraction of each class held out for choosing C (CoMM uses 0.4).
        selection: "cross_entropy" or "balanced_accuracy", the hold-out criterion.
        standardize_features: centre/scale with the training rows' mean/std (see ``capture``).
        seed: seed of the hold-out split (an int or a ``numpy.random.Generator``).
        max_iter, tol: L-BFGS settings.
        patience: None (default) fits the whole C grid; an int stops the C path after this many successive
            worse C values (faster, but it can stop on the flat loss of a weak term; see ``select_C``).
        decision: how predictions are made for balanced accuracy, "argmax" or "balanced" (``DECISIONS``);
            ``bits`` does not depend on it.
        precision: "float64" or "float32", the arithmetic of the fits' products with the features
            (``PRECISIONS``; the C search, the refit and the scores are otherwise the same).

    Returns:
        A ``ProbeScore``. With a single class in the training rows (a constant label) nothing can be
        learned: bits is 0, balanced accuracy NaN and C NaN.
    """
    check_choice("selection", selection, SELECTIONS)
    check_choice("decision", decision, DECISIONS)
    check_choice("precision", precision, PRECISIONS)
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive int or None, got {patience!r}")
    if not Cs or any(isinstance(c, bool) or not c > 0 or not math.isfinite(c) for c in Cs):
        raise ValueError(f"Cs must be a non-empty sequence of positive finite numbers, got {Cs!r}")
    x_tr, x_te = as_features(z_train, "z_train"), as_features(z_test, "z_test")
    y_tr, y_te = as_codes(y_train, "y_train"), as_codes(y_test, "y_test")
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise ValueError(
            f"rows and labels differ: z_train {len(x_tr)} vs y_train {len(y_tr)}, "
            f"z_test {len(x_te)} vs y_test {len(y_te)}"
        )
    if x_tr.shape[1] != x_te.shape[1]:
        raise ValueError(f"z_train has {x_tr.shape[1]} features but z_test has {x_te.shape[1]}")
    if standardize_features:
        x_tr, x_te = standardize(x_tr, x_te)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    h_test = entropy_bits(y_te)
    n_test_classes = len(np.unique(y_te))
    if len(np.unique(y_tr)) == 1:
        probe = LogisticProbe(1.0).fit(x_tr, y_tr)
        ce, _ = probe.score_bits(x_te, y_te)  # raises if the test rows hold another class
        return ProbeScore(h_test - ce, math.nan, h_test, ce, math.nan, n_test_classes, len(y_tr), len(y_te))
    chosen = select_C(
        x_tr, y_tr, Cs=Cs, holdout_fraction=holdout_fraction, selection=selection, rng=rng,
        max_iter=max_iter, tol=tol, patience=patience, decision=decision, precision=precision,
    )  # fmt: skip
    probe = LogisticProbe(chosen.C, max_iter=max_iter, tol=tol, precision=precision)
    probe.fit(x_tr, y_tr, init=chosen.params)
    ce, acc = probe.score_bits(x_te, y_te, decision)
    return ProbeScore(
        h_test - ce, acc, h_test, ce, chosen.C, n_test_classes, len(y_tr), len(y_te), chosen.path,
        chosen.cut_short, probe.converged_,
    )  # fmt: skip
