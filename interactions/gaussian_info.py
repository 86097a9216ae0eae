"""Closed-form information of jointly Gaussian variables, in bits (numpy only).

For a zero-mean Gaussian vector with covariance ``cov``, the mutual information between two disjoint
blocks A and B is

    I(A; B) = 1/2 * log2( det(cov_AA) * det(cov_BB) / det(cov_{A u B}) )  bits.

The minimum-mutual-information (MMI) partial information decomposition of Barrett (2015, "Exploration of
synergistic and redundant information sharing in static and dynamical Gaussian systems", Phys. Rev. E 91,
052802) sets R = min(I(X1; Y), I(X2; Y)); then U_i = I(X_i; Y) - R and S = I(X1, X2; Y) - max_i I(X_i; Y).
Barrett shows it equals the BROJA decomposition (and every PID satisfying Williams-Beer axioms plus the
BROJA assumption) when the target Y is univariate; for a vector target it is still computed here but is
then only the MMI decomposition.

Used by ``generators.gaussian`` and by the estimators as their Gaussian reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from interactions.types import InteractionSpec

_LN2 = math.log(2.0)
#: Relative tolerance on asymmetry of a covariance matrix.
_SYMMETRY_RTOL = 1e-8
#: Rounding below this (bits) in the synergy of the MMI PID is set to exactly 0.
_ROUNDING_BITS = 1e-10


def check_covariance(cov: Any, name: str = "cov") -> np.ndarray:
    """Validate a covariance matrix: square, finite, symmetric and positive definite.

    Args:
        cov: nested list or array, shape (d, d).
        name: how to call it in error messages.

    Returns:
        The matrix as float64, shape (d, d).

    Raises:
        ValueError: naming the first violated condition (with the smallest eigenvalue if not PD).
    """
    try:
        mat = np.array(cov, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a square matrix of numbers, got {cov!r}") from err
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {mat.shape}")
    if not np.all(np.isfinite(mat)):
        raise ValueError(f"{name} must be finite, got {mat.tolist()}")
    scale = max(float(np.abs(mat).max()), 1e-300)
    asym = float(np.abs(mat - mat.T).max())
    if asym > _SYMMETRY_RTOL * scale:
        raise ValueError(f"{name} must be symmetric; max |cov - cov.T| = {asym:.3g}")
    try:
        np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        low = float(np.linalg.eigvalsh(mat).min())
        raise ValueError(f"{name} must be positive definite; its smallest eigenvalue is {low:.3g}") from None
    return mat


def _indices(idx: Any, size: int, name: str) -> list[int]:
    values = [idx] if isinstance(idx, (int, np.integer)) else list(idx)
    if not values:
        raise ValueError(f"{name} must name at least one coordinate")
    for i in values:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < size:
            raise ValueError(f"{name} must hold ints in [0, {size}), got {i!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} has repeated indices: {values}")
    return [int(i) for i in values]


def _logdet(mat: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(mat)
    if sign <= 0:  # unreachable for a principal block of a validated PD matrix
        raise ValueError("covariance block is not positive definite")
    return float(value)


def gaussian_mi_bits(cov: Any, a_idx: int | Sequence[int], b_idx: int | Sequence[int]) -> float:
    """I(A; B) in bits for jointly Gaussian blocks A = cov[a_idx], B = cov[b_idx].

    Args:
        cov: covariance of the whole vector, shape (d, d), symmetric positive definite.
        a_idx: coordinates of A (an int or a sequence of ints).
        b_idx: coordinates of B, disjoint from A.

    Returns:
        The mutual information in bits (>= 0).

    Example:
        >>> round(gaussian_mi_bits([[1.0, 0.5], [0.5, 1.0]], 0, 1), 4)  # -1/2 log2(1 - rho^2)
        0.2075
    """
    mat = check_covariance(cov)
    a = _indices(a_idx, len(mat), "a_idx")
    b = _indices(b_idx, len(mat), "b_idx")
    if set(a) & set(b):
        raise ValueError(f"a_idx and b_idx must be disjoint, both contain {sorted(set(a) & set(b))}")
    ab = a + b
    nats = 0.5 * (_logdet(mat[np.ix_(a, a)]) + _logdet(mat[np.ix_(b, b)]) - _logdet(mat[np.ix_(ab, ab)]))
    return max(nats, 0.0) / _LN2  # max: log-det rounding can give -1e-16 for independent blocks


def gaussian_mmi_pid(
    cov: Any,
    x1_idx: int | Sequence[int],
    x2_idx: int | Sequence[int],
    y_idx: int | Sequence[int],
) -> InteractionSpec:
    """The MMI partial information decomposition (Barrett 2015) of I(X1, X2; Y) for a Gaussian, in bits.

    Args:
        cov: covariance of the vector containing X1, X2 and Y, shape (d, d).
        x1_idx: coordinates of X1.
        x2_idx: coordinates of X2.
        y_idx: coordinates of Y (a scalar target makes MMI equal to BROJA).

    Returns:
        ``InteractionSpec`` with measure ``"mmi"``.

    Example:
        >>> spec = gaussian_mmi_pid([[1, 0, 1], [0, 1, 1], [1, 1, 3]], 0, 1, 2)  # T = X1 + X2 + N(0, 1)
        >>> round(spec.redundancy, 4), round(spec.synergy, 4)
        (0.2925, 0.5)
    """
    mat = check_covariance(cov)
    x1 = _indices(x1_idx, len(mat), "x1_idx")
    x2 = _indices(x2_idx, len(mat), "x2_idx")
    y = _indices(y_idx, len(mat), "y_idx")
    if set(x1) & set(x2) or set(y) & (set(x1) | set(x2)):
        raise ValueError(f"x1_idx {x1}, x2_idx {x2} and y_idx {y} must be disjoint")
    i1 = gaussian_mi_bits(mat, x1, y)
    i2 = gaussian_mi_bits(mat, x2, y)
    i12 = gaussian_mi_bits(mat, x1 + x2, y)
    redundancy = min(i1, i2)
    synergy = i12 - max(i1, i2)
    if -_ROUNDING_BITS < synergy < 0:
        synergy = 0.0
    kind = "scalar target: equals BROJA (Barrett 2015)" if len(y) == 1 else "vector target: MMI only"
    return InteractionSpec(
        redundancy, i1 - redundancy, i2 - redundancy, synergy, measure="mmi", note=f"Gaussian MMI PID, {kind}"
    )


def gaussian_conditional(
    cov: Any, given_idx: Sequence[int], out_idx: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Regression coefficients and covariance of ``out | given`` for a zero-mean Gaussian.

    Returns:
        ``(coef, cond_cov)``: E[out | given] = given @ coef.T with coef of shape (len(out), len(given)), and
        Cov[out | given] = cov_oo - coef @ cov_go, shape (len(out), len(out)).
    """
    mat = check_covariance(cov)
    g = _indices(list(given_idx), len(mat), "given_idx")
    o = _indices(list(out_idx), len(mat), "out_idx")
    coef = np.linalg.solve(mat[np.ix_(g, g)], mat[np.ix_(g, o)]).T  # (o, g)
    cond = mat[np.ix_(o, o)] - coef @ mat[np.ix_(g, o)]
    return coef, 0.5 * (cond + cond.T)
