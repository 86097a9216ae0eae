"""Exact partial information decomposition (PID) of a discrete joint P(x1, x2, y), in bits.

``pid(joint, measure)`` splits I(X1, X2; Y) into redundancy R, unique informations U1, U2 and synergy S
(Williams and Beer 2010) with I(X1; Y) = R + U1 and I(X2; Y) = R + U2. Measures (``MEASURES``):

* ``"broja"``: Bertschinger, Rauh, Olbrich, Jost and Ay (2014), by a certified interior-point solver
  (``estimators.broja``); ``gap`` is its optimality gap in bits. The right ground truth for discrete
  composites (reference-values C1: one bit of each gives 1/1/1/1).
* ``"imin"``: Williams and Beer (2010) specific-information redundancy.
* ``"mmi"``: minimum mutual information (Barrett 2015); exact for Gaussians, wrong for discrete composites.

``pid_from_samples`` builds the plug-in joint from discrete codes (no bias correction: with few samples per
cell the plug-in MI, and hence S, is biased upwards).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from interactions.registry import suggest
from interactions.types import TERMS, InteractionSpec

from .pid_measures import MEASURES, mutual_informations

#: Largest |sum(joint) - 1| accepted; within it the joint is rescaled to sum to exactly 1.
SUM_TOLERANCE = 1e-8
#: Terms negative by less than this (bits), or by less than the solver's gap, are clipped to 0 by ``to_spec``.
NEGATIVE_TOLERANCE = 1e-9
#: A BROJA solve whose certified gap exceeds this many bits triggers a RuntimeWarning.
GAP_WARNING = 1e-6


@dataclass(frozen=True)
class PIDResult:
    """The four PID terms of one joint, in bits.

    Attributes:
        redundancy: R, shared information.
        unique_1: U1, information about Y only X1 carries.
        unique_2: U2, information about Y only X2 carries.
        synergy: S, information only (X1, X2) together carry.
        measure: the measure's name ("broja", "imin", "mmi").
        gap: certified optimality gap in bits for optimisation-based measures (BROJA), None for closed forms.
            R and S may be negative by at most ``gap``; U1 and U2 are exactly >= 0 under BROJA.
        mutual_information: I(X1, X2; Y) = R + U1 + U2 + S.
    """

    redundancy: float
    unique_1: float
    unique_2: float
    synergy: float
    measure: str
    gap: float | None
    mutual_information: float

    def as_dict(self) -> dict[str, float]:
        """``{term: bits}`` in the order of ``interactions.types.TERMS``."""
        return {name: getattr(self, name) for name in TERMS}

    def to_spec(self, note: str = "") -> InteractionSpec:
        """The terms as an ``InteractionSpec``.

        Values in [-max(NEGATIVE_TOLERANCE, gap), 0) are solver rounding and become 0; a more negative value
        raises ``ValueError`` (through ``InteractionSpec``) instead of being hidden.
        """
        tol = max(NEGATIVE_TOLERANCE, self.gap or 0.0)
        values = {k: (0.0 if -tol <= v < 0 else v) for k, v in self.as_dict().items()}
        return InteractionSpec(**values, measure=self.measure, note=note)


def check_joint(joint: Any) -> np.ndarray:
    """Validate a joint distribution and return it as float64 of shape (|X1|, |X2|, |Y|) summing to 1.

    Raises:
        TypeError: not a numeric array.
        ValueError: wrong number of axes, an empty axis, NaN/inf, a negative entry, or a sum off 1 by more
            than ``SUM_TOLERANCE``.
    """
    arr = np.asarray(joint)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"joint must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError("joint must be real, got a complex array")
    arr = arr.astype(np.float64)
    if arr.ndim != 3:
        raise ValueError(f"joint must have 3 axes (|X1|, |X2|, |Y|), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"joint must not have an empty axis, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"joint must be finite, found {int((~np.isfinite(arr)).sum())} NaN/inf entries")
    if arr.min() < 0:
        idx = tuple(int(i) for i in np.unravel_index(np.argmin(arr), arr.shape))
        raise ValueError(f"joint must be non-negative, got {arr.min()!r} at index {idx}")
    total = float(arr.sum())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"joint must sum to 1 (tolerance {SUM_TOLERANCE}), got {total!r}")
    return arr / total


def pid(joint: Any, measure: str = "broja") -> PIDResult:
    """Partial information decomposition of a discrete joint distribution.

    Args:
        joint: P(x1, x2, y), array of shape (|X1|, |X2|, |Y|), non-negative, summing to 1.
        measure: one of ``MEASURES`` ("broja", "imin", "mmi").

    Returns:
        PIDResult with R, U1, U2, S and I(X1, X2; Y) in bits.

    Example:
        >>> xor = np.zeros((2, 2, 2)); xor[0, 0, 0] = xor[0, 1, 1] = xor[1, 0, 1] = xor[1, 1, 0] = 0.25
        >>> round(pid(xor).synergy, 6)
        1.0
    """
    if not isinstance(measure, str) or measure not in MEASURES:
        raise ValueError(
            f"unknown PID measure {measure!r}{suggest(str(measure), MEASURES)}; known: {', '.join(MEASURES)}"
        )
    arr = check_joint(joint)
    i1, i2, i12 = mutual_informations(arr)
    redundancy, gap = MEASURES[measure](arr)
    if gap is not None and gap > GAP_WARNING:
        warnings.warn(
            f"{measure} solver stopped with a certified gap of {gap:.3g} bits (> {GAP_WARNING})",
            RuntimeWarning,
            stacklevel=2,
        )
    return PIDResult(
        redundancy=redundancy,
        unique_1=i1 - redundancy,
        unique_2=i2 - redundancy,
        synergy=i12 - i1 - i2 + redundancy,
        measure=measure,
        gap=gap,
        mutual_information=i12,
    )


def _codes(values: Any, name: str) -> np.ndarray:
    """Integer codes 0..k-1 for 1-D labels or 2-D rows (each row one joint symbol), shape (n,)."""
    arr = np.asarray(values)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D codes or a 2-D array of rows, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == object:
        raise TypeError(f"{name} must be an array of integer codes, got dtype object")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold discrete integer codes; discretize continuous values first")
    elif not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool or arr.dtype.kind in "US"):
        raise TypeError(f"{name} must be an array of integer codes, got dtype {arr.dtype}")
    if arr.ndim == 1:
        return np.unique(arr, return_inverse=True)[1].ravel()
    return np.unique(arr, axis=0, return_inverse=True)[1].ravel()


def plugin_joint(x1: Any, x2: Any, y: Any) -> np.ndarray:
    """Empirical joint P(x1, x2, y) of shape (|X1|, |X2|, |Y|) over the observed symbols of each variable."""
    c1, c2, cy = _codes(x1, "x1"), _codes(x2, "x2"), _codes(y, "y")
    if not len(c1) == len(c2) == len(cy):
        raise ValueError(f"x1, x2 and y must have equal length, got {len(c1)}, {len(c2)} and {len(cy)}")
    shape = (int(c1.max()) + 1, int(c2.max()) + 1, int(cy.max()) + 1)
    counts = np.bincount(np.ravel_multi_index((c1, c2, cy), shape), minlength=int(np.prod(shape)))
    return counts.reshape(shape) / len(c1)


def pid_from_samples(x1: Any, x2: Any, y: Any, measure: str = "broja") -> PIDResult:
    """PID of the plug-in joint of paired discrete samples.

    Args:
        x1, x2, y: discrete codes, each of shape (n,) (any integer or string labels) or (n, k) (each row one
            joint symbol); equal n >= 1.
        measure: one of ``MEASURES``.

    Returns:
        PIDResult in bits (plug-in estimate; biased towards more synergy at small n).
    """
    return pid(plugin_joint(x1, x2, y), measure=measure)
