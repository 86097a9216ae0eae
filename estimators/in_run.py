"""Estimators a run evaluates at every evaluation epoch, behind one protocol (``types.Estimator``).

A config asks for them in ``[probe]`` (the linear probe, always run) and ``[[estimators]]`` (any of the
others, each table its ``name`` plus that estimator's parameters, checked against its ``__init__`` before
training). At each evaluation the run hands every estimator the frozen features (``Representation``) of
the two evaluation samples of the unbiased generator (split "train" and split "test") and a seed; each
returns one row per term: ``term``, ``bits`` (its estimate of that term, in bits) and its own columns. The
run adds ``epoch``, ``estimator``, ``true_bits`` (the test sample's spec), ``capture`` = bits / true_bits
and ``floor`` (the epoch-0 capture), so every estimator's rows land in the same tidy table.

* ``probe``: ``capture``, the per-term linear probe (a lower bound on I(Z; T), with balanced accuracy).
* ``pid``: the PID of the model's own unimodal representations (Liang et al. 2023, section 4): k-means
  codes of Z1 = f(X1) and Z2 = f(X2) (the model's "1" and "2" embeddings), then for each term the exact
  discrete PID of I(codes1, codes2; T_term); the row's ``bits`` is the atom of that term (redundancy for
  the redundancy target, U1 for unique_1, U2 for unique_2, S for synergy). See
  ``estimators.representation`` for the biases of discretised plug-in PID.
* ``ksg``: the k-NN estimate of I(Z; T_term) for the probe's features and each term's label (Ross 2014,
  ``ksg_discrete_mi_bits``); a point estimate, biased low in high dimension.
* ``neural``: a variational lower bound on I(Z; T_term) (InfoNCE, NWJ or SMILE, ``neural_mi_bits``) from a
  critic trained on one half of the test sample's features and one-hot labels and evaluated on the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from interactions.registry import check_params
from interactions.types import PROBE, TERMS, BimodalSample, Representation

from .probe import DECISIONS, PRECISIONS, SELECTIONS, check_choice

#: Arguments of ``capture`` that the run supplies itself (not settable in ``[probe]``).
PROBE_RESERVED: tuple[str, ...] = ("z", "sample", "z_test", "sample_test", "seed")
#: The ``[probe]`` keys that size the evaluation samples (``interactions.config.ProbeSettings``).
SAMPLE_SIZE_KEYS: tuple[str, ...] = ("n_train", "n_test")
#: The term whose label each PID atom isolates.
PID_ATOM_OF_TERM: dict[str, str] = {t: t for t in TERMS}


def _check_terms(terms: Sequence[str], owner: str) -> tuple[str, ...]:
    terms = (terms,) if isinstance(terms, str) else tuple(terms)
    bad = [t for t in terms if t not in TERMS]
    if bad or not terms:
        raise ValueError(f"{owner}: terms must be a non-empty list of {TERMS}, got {list(terms)!r}")
    return terms


def _one_hot(labels: np.ndarray) -> np.ndarray:
    codes = np.unique(labels, return_inverse=True)[1]
    return np.eye(int(codes.max()) + 1, dtype=np.float32)[codes]


class Probe:
    """Per-term linear probe of the objective's representation (``capture``): the capture of every run.

    Args:
        **options: keywords of ``estimators.capture`` (``Cs``, ``holdout_fraction``, ``selection``, ...),
            checked against its signature; the features, samples and seed come from the run.
    """

    name: ClassVar[str] = PROBE
    needs_subsets: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        from .capture import capture

        check_params(capture, options, "estimator 'probe'", prefix="probe", skip=PROBE_RESERVED,
                     extra=SAMPLE_SIZE_KEYS)  # fmt: skip
        if any(k in options for k in SAMPLE_SIZE_KEYS):
            raise ValueError("probe: n_train / n_test size the evaluation samples ([probe]), not the probe")
        if "terms" in options:
            options["terms"] = list(_check_terms(options["terms"], "probe"))
        for key, allowed in (("selection", SELECTIONS), ("decision", DECISIONS), ("precision", PRECISIONS)):
            if key in options:
                check_choice(f"probe.{key}", options[key], allowed)
        self.options = dict(options)

    def params(self) -> dict[str, Any]:
        """The options as given (``[probe]`` beside the sample sizes)."""
        return dict(self.options)

    def estimate(
        self, z: Representation, sample: BimodalSample, z_test: Representation, sample_test: BimodalSample,
        *, seed: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Fit on ``z`` (split "train"), score on ``z_test`` (split "test"): ``capture``'s rows."""
        from .capture import capture

        table = capture(z.z, sample, z_test=z_test.z, sample_test=sample_test, seed=seed, **self.options)
        return table.to_dict("records")


class RepresentationPID:
    """PID of the model's unimodal representations Z1, Z2 about each term's label (discretised, plug-in).

    Args:
        n_clusters: k-means clusters of each of Z1 and Z2 (keep n_test >> n_clusters**2 * classes).
        measure: the PID measure (``estimators.PID_MEASURES``: "broja", "imin", "mmi").
        terms: the terms to decompose (default all four).
    """

    name: ClassVar[str] = "pid"
    needs_subsets: ClassVar[tuple[str, ...]] = ("1", "2")

    def __init__(self, *, n_clusters: int = 8, measure: str = "broja", terms: Sequence[str] = TERMS) -> None:
        from .pid_measures import MEASURES

        if isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or n_clusters < 2:
            raise ValueError(f"n_clusters must be an int >= 2, got {n_clusters!r}")
        if measure not in MEASURES:
            raise ValueError(f"unknown PID measure {measure!r}; measures are {tuple(MEASURES)}")
        self.n_clusters, self.measure, self.terms = n_clusters, measure, _check_terms(terms, "pid")

    def params(self) -> dict[str, Any]:
        return {"n_clusters": self.n_clusters, "measure": self.measure, "terms": list(self.terms)}

    def estimate(
        self, z: Representation, sample: BimodalSample, z_test: Representation, sample_test: BimodalSample,
        *, seed: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Cluster Z1 and Z2 of the test sample once, then decompose I(codes1, codes2; T) per term."""
        from .discretize import discretize
        from .pid import pid_from_samples

        missing = [s for s in self.needs_subsets if s not in z_test.subsets]
        if missing:
            raise ValueError(f"pid needs the unimodal embeddings {self.needs_subsets}; missing {missing}")
        k = min(self.n_clusters, len(z_test))
        codes1 = discretize(z_test.subsets["1"], k, seed=seed)
        codes2 = discretize(z_test.subsets["2"], k, seed=seed)
        rows = []
        for term in self.terms:
            result = pid_from_samples(codes1, codes2, sample_test.targets[term], measure=self.measure)
            atoms = result.as_dict()
            rows.append(
                {"term": term, "bits": atoms[PID_ATOM_OF_TERM[term]], "feature_dim": z_test.z.shape[1]}
                | {f"pid_{atom}": value for atom, value in atoms.items()}
            )
        return rows


class KSG:
    """k-NN estimate of I(Z; T) for the objective's representation and each term's label (Ross 2014).

    Args:
        k: neighbours within a label.
        terms: the terms to estimate (default all four).
    """

    name: ClassVar[str] = "ksg"
    needs_subsets: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, k: int = 3, terms: Sequence[str] = TERMS) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        self.k, self.terms = k, _check_terms(terms, "ksg")

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "terms": list(self.terms)}

    def estimate(
        self, z: Representation, sample: BimodalSample, z_test: Representation, sample_test: BimodalSample,
        *, seed: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Estimate on the test sample (deterministic; a tiny seeded jitter separates repeated points)."""
        from .ksg import ksg_discrete_mi_bits

        x = z_test.z.astype(np.float64)
        scale = np.maximum(np.abs(x).max(axis=0), 1e-12)
        x = x + 1e-9 * scale * np.random.default_rng(seed).standard_normal(x.shape)
        x = x[:, x.std(axis=0) > 0]
        labels = sample_test.targets
        return [{"term": t, "bits": ksg_discrete_mi_bits(x, labels[t], self.k)} for t in self.terms]


class NeuralBound:
    """A variational lower bound on I(Z; T) from a critic on the representation and one-hot term labels.

    Args:
        bound: "infonce" (<= log2(batch_size) bits), "nwj" or "smile".
        steps, batch_size, lr, hidden, embed_dim: the critic's training (see ``neural_mi_bits``).
        terms: the terms to estimate (default all four).
    """

    name: ClassVar[str] = "neural"
    needs_subsets: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, *, bound: str = "infonce", steps: int = 300, batch_size: int = 128, lr: float = 5e-3,
        hidden: int = 64, embed_dim: int = 16, terms: Sequence[str] = TERMS,
    ) -> None:  # fmt: skip
        from .neural import BOUNDS

        if bound not in BOUNDS:
            raise ValueError(f"unknown bound {bound!r}; bounds are {BOUNDS}")
        sizes = {"steps": steps, "batch_size": batch_size, "hidden": hidden, "embed_dim": embed_dim}
        for key, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive int, got {value!r}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.bound, self.steps, self.batch_size, self.lr = bound, steps, batch_size, float(lr)
        self.hidden, self.embed_dim, self.terms = hidden, embed_dim, _check_terms(terms, "neural")

    def params(self) -> dict[str, Any]:
        return {
            "bound": self.bound, "steps": self.steps, "batch_size": self.batch_size, "lr": self.lr,
            "hidden": self.hidden, "embed_dim": self.embed_dim, "terms": list(self.terms),
        }  # fmt: skip

    def estimate(
        self, z: Representation, sample: BimodalSample, z_test: Representation, sample_test: BimodalSample,
        *, seed: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Train and evaluate the critic on the test sample's features (half each, seeded split)."""
        from .neural import neural_mi_bits

        rows = []
        for i, term in enumerate(self.terms):
            bits = neural_mi_bits(
                z_test.z, _one_hot(sample_test.targets[term]), bound=self.bound, steps=self.steps,
                batch_size=min(self.batch_size, len(z_test) // 2), lr=self.lr, hidden=self.hidden,
                embed_dim=self.embed_dim, seed=int(np.random.SeedSequence([seed, i]).generate_state(1)[0]),
            )  # fmt: skip
            rows.append({"term": term, "bits": bits, "feature_dim": z_test.z.shape[1]})
        return rows


#: Estimator name -> class, in the order listings show them.
RUN_ESTIMATORS: dict[str, type] = {cls.name: cls for cls in (Probe, RepresentationPID, KSG, NeuralBound)}
