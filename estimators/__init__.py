"""Measuring instruments: exact discrete PID, continuous MI estimators and per-term representation capture.

Every number is in bits, and every estimator says whether it is a point estimate, a lower bound or an
upper bound. Depends only on ``interactions.types``, ``interactions.registry`` and
``interactions.gaussian_info`` (numpy-only modules) from the rest of the project. torch is imported lazily,
inside the neural estimators, so ``import estimators`` stays light.

``ESTIMATORS`` maps a name to the estimator class a run can evaluate at every evaluation epoch (the
``interactions.types.Estimator`` protocol; see ``estimators.in_run``):

* "probe": ``Probe`` -> ``capture(z, sample, ...)``, per-term linear-probe lower bound on I(Z; T) and
  balanced accuracy (always run; options in ``[probe]``).
* "pid": ``RepresentationPID`` -> ``decompose_representation``-style discretised PID of the model's two
  unimodal representations about each term's label.
* "ksg": ``KSG`` -> ``ksg_discrete_mi_bits(z, labels)``, k-NN estimate of I(Z; T) (Ross 2014).
* "neural": ``NeuralBound`` -> ``neural_mi_bits``, InfoNCE / NWJ / SMILE variational bounds.

The functions stay usable on their own: ``ksg_mi_bits`` (continuous X and Y), ``infonce_mi_bits``,
``nwj_mi_bits``, ``smile_mi_bits``, ``decompose_representation``, ``pid``, ``pid_from_samples``.
"""

from __future__ import annotations

from interactions.types import PROBE_COLUMNS

from .capture import capture
from .in_run import KSG, RUN_ESTIMATORS, NeuralBound, Probe, RepresentationPID
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
from .ksg import ksg_discrete_mi_bits, ksg_mi_bits
from .neural import infonce_mi_bits, neural_mi_bits, nwj_mi_bits, smile_mi_bits
from .probe import LogisticProbe, ProbeScore, balanced_accuracy, probe_term
from .representation import decompose_representation

__all__ = [
    "BITS_TO_NATS", "ESTIMATORS", "LogisticProbe", "NATS_TO_BITS", "PROBE_COLUMNS", "ProbeScore",
    "KSG", "NeuralBound", "Probe", "RepresentationPID",
    "balanced_accuracy", "bits_to_nats", "capture", "decompose_representation", "entropy_bits",
    "gaussian_mi_bits", "gaussian_mmi_pid", "infonce_mi_bits", "joint_codes",
    "ksg_discrete_mi_bits", "ksg_mi_bits",
    "mutual_information_bits", "nats_to_bits", "neural_mi_bits", "nwj_mi_bits", "probe_term",
    "smile_mi_bits",
]  # fmt: skip

#: Estimator name -> class of the ``interactions.types.Estimator`` protocol, in the order listings show them.
ESTIMATORS: dict[str, type] = RUN_ESTIMATORS

# Exact discrete PID (estimators/pid.py, broja.py, pid_measures.py, canonical.py) and k-means codes.
from .discretize import discretize  # noqa: E402
from .pid import PIDResult, pid, pid_from_samples  # noqa: E402
from .pid_measures import MEASURES as PID_MEASURES  # noqa: E402

__all__ += ["PIDResult", "PID_MEASURES", "discretize", "pid", "pid_from_samples"]
