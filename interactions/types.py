"""Shared value types of the toolkit: true information of a dataset and one drawn bimodal sample.

This module imports nothing from the project and nothing heavier than numpy, so that `generators`,
`estimators` and `reports` can all depend on it without import cycles (the rule of bmi's `interface.py`).

The four interaction terms follow the partial information decomposition (PID) of Williams and Beer (2010)
as used by Liang et al. (2023) and the CoMM paper (Dufumier et al., ICLR 2025, arXiv 2409.07402):

    I(X1, X2; Y) = R + U1 + U2 + S,   I(X1; Y) = R + U1,   I(X2; Y) = R + U2.

Every quantity is in **bits**. The same four names key every dict in the project: targets, estimates and
report columns. CoMM's Trifeature task keys ``share / unique1 / unique2 / synergy`` map onto them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

#: The four interaction terms, in the order used by tables and figures.
TERMS: tuple[str, ...] = ("redundancy", "unique_1", "unique_2", "synergy")

#: Subsets of the two modalities a model embeds: modality 1 alone, modality 2 alone, both fused.
SUBSETS: tuple[str, ...] = ("1", "2", "12")

# ------------------------------------------------------------------------------------------ file layout
# The names of the files a run directory (``experiment.run(out=...)``) and a sweep directory
# (``sweep.sweep(out=...)``, its runs under ``runs/<run_id>/``) hold; every reader and writer uses these.
RESULT_FILE = "result.json"  #: a finished run's sealed result
CHECKPOINT_FILE = "checkpoint.pt"  #: the latest training state (resume)
METRICS_FILE = "metrics.jsonl"  #: one line per evaluation
CONFIG_FILE = "config.toml"  #: the resolved config
ENV_FILE = "env.json"  #: machine, versions and seed
#: Every file of a run directory (a fresh start removes them).
RUN_FILES: tuple[str, ...] = (RESULT_FILE, CHECKPOINT_FILE, METRICS_FILE, CONFIG_FILE, ENV_FILE)
SWEEP_FILE = "sweep.json"  #: a sweep's manifest: its plan and settings
RESULTS_CSV = "results.csv"  #: a sweep's tidy results table
RESULTS_PARQUET = "results.parquet"  #: the same table as Parquet (when pyarrow is installed)
LOSSES_CSV = "losses.csv"  #: every run's per-epoch loss terms
RUNS_DIR = "runs"  #: the run directories of a sweep
#: A sweep's own tables (what ``interactions export`` copies beside the runs).
SWEEP_TABLES: tuple[str, ...] = (SWEEP_FILE, RESULTS_CSV, RESULTS_PARQUET, LOSSES_CSV)

# ------------------------------------------------------------------------------------- the results schema
# One evaluation of one run gives one row per (estimator, term). Every table of the project (a run's
# ``capture`` and ``history``, a sweep's ``results.csv``, the reports) is built from these tuples; code
# selects columns by these names, never by position.

#: The estimator whose rows are the capture table: the per-term linear probe (``estimators.capture``).
PROBE: str = "probe"

#: Per-row metrics of every estimator, in table order (bits; ``capture`` = bits / true_bits; ``floor``
#: is the same estimator's capture at epoch 0, the untrained model). Estimators other than the probe leave
#: ``balanced_accuracy`` and ``chance`` NaN.
METRIC_COLUMNS: tuple[str, ...] = (
    "true_bits", "bits", "balanced_accuracy", "capture", "floor", "chance", "feature_dim",
)  # fmt: skip

#: Columns of ``estimators.capture``'s table (the probe's full output), in order.
PROBE_COLUMNS: tuple[str, ...] = (
    "term", "balanced_accuracy", "bits", "true_bits", "capture", "chance", "n_classes", "feature_dim",
    "C", "n_train", "n_test", "entropy_bits", "cross_entropy_bits",
)  # fmt: skip

#: The leading columns of a run's final ``RunResult.capture``: the probe's rows, one per term.
CAPTURE_COLUMNS: tuple[str, ...] = (
    "term", "balanced_accuracy", "bits", "true_bits", "capture", "floor", "chance", "feature_dim",
)  # fmt: skip

#: The leading columns of a run's ``RunResult.history``: one row per evaluation epoch, estimator and term.
HISTORY_COLUMNS: tuple[str, ...] = ("epoch", "estimator", *CAPTURE_COLUMNS)

#: Columns of a run's per-epoch loss table (``RunResult.losses``; epoch means of each loss term).
LOSS_COLUMNS: tuple[str, ...] = ("epoch", "name", "value")

#: Columns that identify a run in a sweep's ``losses.csv``: these, then grid keys, then ``LOSS_COLUMNS``.
LOSS_RUN_COLUMNS: tuple[str, ...] = ("run_id", "generator", "objective", "seed")

#: Columns that identify a run in a sweep's results table.
RUN_COLUMNS: tuple[str, ...] = ("run_id", "status", "error", "generator", "objective", "seed")

#: Fixed columns of a sweep's tidy results table, in order; one column per grid key follows.
RESULT_COLUMNS: tuple[str, ...] = (*RUN_COLUMNS, "epoch", "term", "estimator", *METRIC_COLUMNS)
#: Columns of a benchmark's ``leaderboard.csv`` (``interactions bench``), in order: one row per task,
#: objective, scored term and seed at the final epoch.
LEADERBOARD_COLUMNS: tuple[str, ...] = (
    "task",
    "axis",
    "level",
    "objective",
    "term",
    "seed",
    "true_bits",
    "capture",
    "floor",
    "balanced_accuracy",
    "verdict",
)
#: A leaderboard row's ``verdict``: the seed's capture reached the learned threshold, did not, or the run
#: failed.
LEARNED, NOT_LEARNED, FAILED = "learned", "not learned", "failed"


def _check_bits(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number of bits, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 bits, got {value!r}")
    return value


@dataclass(frozen=True)
class InteractionSpec:
    """True information of a bimodal dataset about its target, in bits.

    Each field refers to the target that isolates that term (see ``BimodalSample.targets``); taken together
    they are the decomposition of I(X1, X2; Y) for the joint target Y of all terms.

    Attributes:
        redundancy: R, information about Y that each modality carries on its own (bits).
        unique_1: U1, information about Y that only modality 1 carries (bits).
        unique_2: U2, information about Y that only modality 2 carries (bits).
        synergy: S, information about Y that appears only when both modalities are combined (bits).
        measure: the PID measure under which the values hold (e.g. ``"broja"``, ``"mmi"``).
        note: free text saying which target the values refer to and any caveat (noise, bias).
    """

    redundancy: float
    unique_1: float
    unique_2: float
    synergy: float
    measure: str = "broja"
    note: str = ""

    def __post_init__(self) -> None:
        for name in TERMS:
            object.__setattr__(self, name, _check_bits(name, getattr(self, name)))
        if not isinstance(self.measure, str) or not self.measure:
            raise ValueError(f"measure must be a non-empty string, got {self.measure!r}")

    @property
    def total(self) -> float:
        """R + U1 + U2 + S = I(X1, X2; Y) in bits."""
        return self.redundancy + self.unique_1 + self.unique_2 + self.synergy

    def as_dict(self) -> dict[str, float]:
        """The four terms as ``{term: bits}`` in the order of ``TERMS``."""
        return {name: getattr(self, name) for name in TERMS}

    def swapped(self) -> InteractionSpec:
        """The spec of the same data with the two modalities exchanged (U1 and U2 swap)."""
        return InteractionSpec(
            self.redundancy, self.unique_2, self.unique_1, self.synergy, self.measure, self.note
        )


@dataclass(frozen=True, eq=False)
class BimodalSample:
    """``n`` draws of a bimodal dataset with the labels that isolate each interaction term.

    Attributes:
        x1: modality 1, shape (n, *shape_1), float32 (vectors (n, d1) or images (n, 3, H, W)).
        x2: modality 2, shape (n, *shape_2), float32.
        targets: ``{term: labels}`` for each term of ``TERMS``; labels are integer class codes, shape (n,).
            E.g. for the ``xor`` generator ``targets["synergy"]`` is the code of s1 XOR s2.
        latents: the raw latent blocks the sample was drawn from (bits, nuisance, attributes), each with
            first axis n. Generators use them to draw fresh views of the same latent terms.
        spec: the true information of the distribution the sample was drawn from.
        meta: free-form, JSON-serialisable description (generator name, parameters, split, seed).
    """

    x1: np.ndarray
    x2: np.ndarray
    targets: Mapping[str, np.ndarray]
    latents: Mapping[str, np.ndarray]
    spec: InteractionSpec
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("x1", "x2"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"{name} must be a numpy array, got {type(arr).__name__}")
            if arr.ndim < 2:
                raise ValueError(f"{name} must have shape (n, ...) with at least 2 axes, got {arr.shape}")
        n = len(self.x1)
        if len(self.x2) != n:
            raise ValueError(f"x1 and x2 must have the same number of samples, got {n} and {len(self.x2)}")
        if not isinstance(self.spec, InteractionSpec):
            raise TypeError(f"spec must be an InteractionSpec, got {type(self.spec).__name__}")
        missing = [t for t in TERMS if t not in self.targets]
        extra = [t for t in self.targets if t not in TERMS]
        if missing or extra:
            raise ValueError(
                f"targets must have exactly the keys {TERMS}; missing {missing}, unknown {extra}"
            )
        for term, y in self.targets.items():
            if not isinstance(y, np.ndarray) or y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
                raise ValueError(
                    f"targets[{term!r}] must be an integer array of shape ({n},), got "
                    f"{getattr(y, 'dtype', type(y).__name__)} {getattr(y, 'shape', '')}"
                )
        for key, value in self.latents.items():
            if not isinstance(value, np.ndarray) or len(value) != n:
                raise ValueError(f"latents[{key!r}] must be an array with first axis {n}")

    def __len__(self) -> int:
        return len(self.x1)

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self.x1)

    def subset(self, index: np.ndarray | slice) -> BimodalSample:
        """The rows ``index`` of every array (a new sample; the spec and meta are shared)."""
        return BimodalSample(
            x1=self.x1[index],
            x2=self.x2[index],
            targets={k: v[index] for k, v in self.targets.items()},
            latents={k: v[index] for k, v in self.latents.items()},
            spec=self.spec,
            meta=dict(self.meta),
        )

    def n_classes(self) -> dict[str, int]:
        """Number of classes seen per target (max code + 1)."""
        return {t: int(y.max()) + 1 if len(y) else 0 for t, y in self.targets.items()}


@dataclass(frozen=True, eq=False)
class Representation:
    """Frozen features of the ``n`` rows of one sample at one evaluation of a run.

    Attributes:
        z: shape (n, D), the representation the objective exposes (``objective.represent``), what the
            probe reads.
        subsets: ``{subset: (n, D_s) array}`` for each subset of ``SUBSETS`` the model embeds: "1" and "2"
            are the unimodal embeddings (what the PID of the representation decomposes), "12" the fused one.
    """

    z: np.ndarray
    subsets: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.z, np.ndarray) or self.z.ndim != 2:
            raise ValueError(
                f"z must be a numpy array of shape (n, D), got {getattr(self.z, 'shape', self.z)}"
            )
        for key, value in self.subsets.items():
            if key not in SUBSETS:
                raise ValueError(f"unknown subset {key!r}; subsets are {SUBSETS}")
            if not isinstance(value, np.ndarray) or value.ndim != 2 or len(value) != len(self.z):
                raise ValueError(f"subsets[{key!r}] must be an array of shape ({len(self.z)}, D)")

    def __len__(self) -> int:
        return len(self.z)


# ------------------------------------------------------------------------------------------- interfaces
@runtime_checkable
class GeneratorProtocol(Protocol):
    """What the toolkit asks of a generator (``generators.base.Generator`` implements it).

    ``bias`` (a float in [0, 1], 0 = unbiased) is the one name of the training-bias knob; ``unbiased()``
    returns the generator of the evaluation distribution explicitly (itself when there is no bias).
    """

    name: ClassVar[str]

    def sample(self, n: int, seed: Any = 0, *, split: str = "train") -> BimodalSample: ...

    def views(self, sample: BimodalSample, seed: Any = 0) -> BimodalSample: ...

    def ground_truth(self, split: str = "train") -> InteractionSpec: ...

    def unbiased(self) -> GeneratorProtocol: ...

    @property
    def n_classes(self) -> dict[str, int]: ...

    @property
    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]: ...


@runtime_checkable
class Estimator(Protocol):
    """An instrument a run evaluates at every evaluation epoch (``[probe]`` and ``[[estimators]]``).

    An estimator is built from its checked parameters once, before training, and then called with the
    frozen features of the two evaluation samples (both drawn from the unbiased generator: ``sample`` of
    split "train", ``sample_test`` of split "test", whose ``spec`` is the truth the rows compare with).

    ``estimate`` returns one dict per term it measures, with ``"term"`` and ``"bits"`` and any of
    ``METRIC_COLUMNS`` / extra columns; the run adds ``epoch``, ``estimator`` (its ``name``), ``true_bits``,
    ``capture`` and ``floor`` when absent. ``seed`` is the only source of its randomness.
    """

    name: ClassVar[str]

    def estimate(
        self,
        z: Representation,
        sample: BimodalSample,
        z_test: Representation,
        sample_test: BimodalSample,
        *,
        seed: int,
    ) -> list[dict[str, Any]]: ...
