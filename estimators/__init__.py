"""Measuring instruments: exact discrete PID, continuous MI estimators and per-term representation capture.

Every number is in bits, and every estimator says whether it is a point estimate, a lower bound or an
upper bound. Depends only on ``interactions.types``, ``interactions.registry`` and
``interactions.gaussian_info`` (numpy-only modules) from the rest of the project. torch is imported lazily,
inside the neural estimators, so ``import estimators`` stays light.

``ESTIMATORS`` maps a name to the function that computes it:

* "probe": ``capture(z, sample, ...)``, per-term linear-probe lower bound on I(Z; T) and balanced accuracy.
* "ksg": ``ksg_mi_bits(x, y, k=3)``, KSG point estimate of I(X; Y) (biased low at high MI / dimension).
* "infonce", "nwj", "smile": variational estimates of I(X; Y) from a trained critic (neural.py).
* "pid": ``decompose_representation(z1, z2, y, ...)``, discretised PID of two representations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from interactions.types import PROBE_COLUMNS

from .capture import capture
from .information import (
    BITS_TO_NATS,
    NATS_TO_BITS,
    bits_to_nats,
    entropy_bits,
    gaussian_mi_bits,
    gaussian_mmi_pid,
    joint_codes,
    mutual_information_bits,
    nats_to_bits,
)
from .ksg import ksg_mi_bits
from .neural import infonce_mi_bits, neural_mi_bits, nwj_mi_bits, smile_mi_bits
from .probe import LogisticProbe, ProbeScore, balanced_accuracy, probe_term
from .representation import decompose_representation

__all__ = [
    "BITS_TO_NATS", "ESTIMATORS", "LogisticProbe", "NATS_TO_BITS", "PROBE_COLUMNS", "ProbeScore",
    "balanced_accuracy", "bits_to_nats", "capture", "decompose_representation", "entropy_bits",
    "gaussian_mi_bits", "gaussian_mmi_pid", "infonce_mi_bits", "joint_codes", "ksg_mi_bits",
    "mutual_information_bits", "nats_to_bits", "neural_mi_bits", "nwj_mi_bits", "probe_term",
    "smile_mi_bits",
]  # fmt: skip

#: Estimator name -> function (plain dict, in the order listings show them).
ESTIMATORS: dict[str, Callable[..., Any]] = {
    "probe": capture,
    "ksg": ksg_mi_bits,
    "infonce": infonce_mi_bits,
    "nwj": nwj_mi_bits,
    "smile": smile_mi_bits,
    "pid": decompose_representation,
}

# Exact discrete PID (estimators/pid.py, broja.py, pid_measures.py, canonical.py) and k-means codes.
from .discretize import discretize  # noqa: E402
from .pid import PIDResult, pid, pid_from_samples  # noqa: E402
from .pid_measures import MEASURES as PID_MEASURES  # noqa: E402

__all__ += ["PIDResult", "PID_MEASURES", "discretize", "pid", "pid_from_samples"]
