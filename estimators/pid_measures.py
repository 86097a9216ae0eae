"""Redundancy measures of the bivariate partial information decomposition, on a joint array P(x1, x2, y).

Each measure is one function ``joint -> (redundancy_bits, gap_bits_or_None)`` listed in ``MEASURES``; the
other three terms follow from the PID identities (Williams and Beer 2010)

    U1 = I(X1; Y) - R,   U2 = I(X2; Y) - R,   S = I(X1, X2; Y) - I(X1; Y) - I(X2; Y) + R.

Adding a measure is one function plus one line in ``MEASURES``. Every quantity is in bits; ``joint`` has shape
(|X1|, |X2|, |Y|), is non-negative and sums to 1 (validated by ``estimators.pid``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .broja import broja_solve
from .information import distribution_entropy_bits


def mutual_informations(joint: np.ndarray) -> tuple[float, float, float]:
    """(I(X1; Y), I(X2; Y), I(X1, X2; Y)) in bits for a joint of shape (|X1|, |X2|, |Y|)."""
    h_y = distribution_entropy_bits(joint.sum((0, 1)))
    i1 = distribution_entropy_bits(joint.sum((1, 2))) + h_y - distribution_entropy_bits(joint.sum(1))
    i2 = distribution_entropy_bits(joint.sum((0, 2))) + h_y - distribution_entropy_bits(joint.sum(0))
    i12 = distribution_entropy_bits(joint.sum(2)) + h_y - distribution_entropy_bits(joint)
    return max(i1, 0.0), max(i2, 0.0), max(i12, 0.0)


def specific_information(joint_xy: np.ndarray) -> np.ndarray:
    """Specific information I(X; Y = y) = KL(P(x | y) || P(x)) in bits for each y, shape (|Y|,).

    Williams and Beer (2010), eq. 7. ``joint_xy`` is P(x, y) of shape (|X|, |Y|); values for P(y) = 0 are 0.
    """
    px = joint_xy.sum(1, keepdims=True)  # (|X|, 1)
    py = joint_xy.sum(0, keepdims=True)  # (1, |Y|)
    pos = joint_xy > 0
    ratio = np.where(pos, joint_xy, 1.0) / np.where(pos, px * py, 1.0)  # P(x | y) / P(x)
    cond = np.where(py > 0, joint_xy / np.where(py > 0, py, 1.0), 0.0)  # P(x | y)
    return (cond * np.log2(ratio)).sum(0)


def redundancy_mmi(joint: np.ndarray) -> tuple[float, None]:
    """Minimum mutual information R = min(I(X1; Y), I(X2; Y)) (Barrett 2015). Exact; no gap."""
    i1, i2, _ = mutual_informations(joint)
    return min(i1, i2), None


def redundancy_imin(joint: np.ndarray) -> tuple[float, None]:
    """Williams and Beer (2010) I_min = sum_y P(y) min_i I(X_i; Y = y). Exact; no gap."""
    py = joint.sum((0, 1))
    spec = np.minimum(specific_information(joint.sum(1)), specific_information(joint.sum(0)))
    return max(float((py * spec).sum()), 0.0), None


def redundancy_broja(joint: np.ndarray) -> tuple[float, float]:
    """BROJA shared information R = I(X1; Y) + I(X2; Y) - min_{Q in Delta_P} I_Q(X1, X2; Y).

    Bertschinger, Rauh, Olbrich, Jost and Ay (2014), solved by ``estimators.broja.broja_solve``; the second
    value is the certified optimality gap in bits (see that module).
    """
    i1, i2, _ = mutual_informations(joint)
    solution = broja_solve(joint)
    return i1 + i2 - solution.mi_min, solution.gap


#: Measure name -> redundancy function ``joint -> (R bits, gap bits or None)``.
MEASURES: dict[str, Callable[[np.ndarray], tuple[float, float | None]]] = {
    "broja": redundancy_broja,
    "imin": redundancy_imin,
    "mmi": redundancy_mmi,
}
