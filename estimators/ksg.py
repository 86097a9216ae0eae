"""Kraskov-Stoegbauer-Grassberger (KSG) k-nearest-neighbour estimator of I(X; Y) for continuous data, in bits.

Estimator 1 of Kraskov, Stoegbauer and Grassberger (2004), "Estimating mutual information", Phys. Rev. E 69,
066138 (arXiv cond-mat/0305641):

    I(X; Y) = psi(k) + psi(N) - < psi(n_x(i) + 1) + psi(n_y(i) + 1) >_i          (nats; here / ln 2)

where eps_i is the max-norm distance from point i to its k-th nearest neighbour in the joint space (X, Y),
and n_x(i), n_y(i) count the other points strictly closer than eps_i to point i in the X and Y marginals.

It is a **point estimate** (neither a lower nor an upper bound). It is consistent, nearly unbiased at
independence, and **biased low** when the MI is high or the dimension is large (the k-NN balls stop being
small where the density changes fast; Gao, Ver Steeg and Galstyan 2015, AISTATS, show the sample size
needed grows exponentially with the MI). Use it for low-dimensional checks, not as the truth for rich
representations.
Neighbour searches use scipy's cKDTree; the counts are vectorised (no Python loop over samples).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from .information import NATS_TO_BITS


def _as_continuous(a: Any, name: str) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (n,) or (n, d) with d >= 1, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def ksg_mi_bits(x: Any, y: Any, k: int = 3, *, standardize: bool = True) -> float:
    """KSG estimator 1 of I(X; Y) in bits (a point estimate; see the module docstring for its bias).

    Args:
        x: shape (n, dx) (or (n,)), continuous samples of X.
        y: shape (n, dy) (or (n,)), continuous samples of Y, rows paired with x.
        k: number of neighbours, 1 <= k < n (3 to 10 are usual: small k, lower bias, higher variance).
        standardize: scale every column to unit standard deviation first (the max-norm mixes X and Y,
            so the estimate depends on their relative scales; sklearn does the same).

    Returns:
        The estimate in bits. It can be slightly negative at independence (estimator variance).

    Raises:
        ValueError: for mismatched lengths, bad k, non-finite values, constant columns (with
            ``standardize``), or repeated points (zero k-NN distances; add a tiny jitter first).
    """
    x = _as_continuous(x, "x")
    y = _as_continuous(y, "y")
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x and y must have the same number of rows, got {n} and {len(y)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise ValueError(f"k must be an int with 1 <= k < n = {n}, got {k!r}")
    if standardize:
        for name, arr in (("x", x), ("y", y)):
            std = arr.std(axis=0)
            if (std == 0).any():
                raise ValueError(f"{name} has constant column(s) {np.flatnonzero(std == 0).tolist()}")
            arr /= std
    joint = np.hstack([x, y])
    # distance to the k-th neighbour in the joint space (column 0 of the query is the point itself)
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, k]
    if (eps == 0).any():
        raise ValueError(
            f"{int((eps == 0).sum())} points have {k} or more exact duplicates; KSG needs distinct points "
            "(add a tiny jitter, e.g. 1e-10 times the scale)"
        )
    radius = np.nextafter(eps, 0)  # strictly closer than eps
    # counts include the point itself, so they already equal n_x(i) + 1 and n_y(i) + 1
    n_x1 = cKDTree(x).query_ball_point(x, radius, p=np.inf, return_length=True)
    n_y1 = cKDTree(y).query_ball_point(y, radius, p=np.inf, return_length=True)
    nats = digamma(k) + digamma(n) - np.mean(digamma(n_x1) + digamma(n_y1))
    return float(nats * NATS_TO_BITS)


def ksg_discrete_mi_bits(x: Any, labels: Any, k: int = 3, *, standardize: bool = True) -> float:
    """k-NN estimate of I(X; T) in bits for continuous X and a discrete label T (Ross 2014).

    B. C. Ross (2014), "Mutual information between discrete and continuous data sets", PLoS ONE 9(2):
    e87357, equation 2, the KSG idea with the label as the discrete variable:

        I(X; T) = psi(N) - < psi(N_t(i)) > + psi(k) - < psi(m(i)) >          (nats; here / ln 2)

    where d_i is the max-norm distance from point i to its k-th nearest neighbour among the points with
    its label, N_t(i) the number of points with that label and m(i) the number of other points of the
    whole sample within d_i (the k-th neighbour included). Points whose label has k or fewer points are
    left out (they have no k-th neighbour). A point estimate, biased low in high dimension like KSG.

    Args:
        x: shape (n, d) (or (n,)) continuous samples.
        labels: shape (n,) integer labels, rows paired with x.
        k: neighbours within a label, >= 1.
        standardize: scale every column of x to unit standard deviation first.

    Returns:
        The estimate in bits (0 when fewer than two labels have more than k points).

    Raises:
        ValueError: mismatched lengths, bad k, non-finite or constant columns, repeated points.
    """
    x = _as_continuous(x, "x")
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an integer array of shape (n,), got {labels.dtype} {labels.shape}")
    if len(labels) != len(x):
        raise ValueError(f"x and labels must have the same number of rows, got {len(x)} and {len(labels)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    values, counts = np.unique(labels, return_counts=True)
    keep = np.isin(labels, values[counts > k])
    x, labels = x[keep], labels[keep]
    if len(np.unique(labels)) < 2:
        return 0.0
    if standardize:
        std = x.std(axis=0)
        if (std == 0).any():
            raise ValueError(f"x has constant column(s) {np.flatnonzero(std == 0).tolist()}")
        x = x / std
    n = len(x)
    d = np.empty(n)
    n_label = np.empty(n)
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        d[rows] = cKDTree(x[rows]).query(x[rows], k=k + 1, p=np.inf)[0][:, k]
        n_label[rows] = len(rows)
    if (d == 0).any():
        raise ValueError(f"{int((d == 0).sum())} points have {k} or more exact duplicates within their label")
    # within d (closed ball, the k-th neighbour included), minus the point itself
    m = cKDTree(x).query_ball_point(x, d, p=np.inf, return_length=True) - 1
    nats = digamma(n) - np.mean(digamma(n_label)) + digamma(k) - np.mean(digamma(m))
    return float(nats * NATS_TO_BITS)
