"""Estimators of runs (``estimators.in_run``): the protocol, known answers, parameters checked up front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import estimators
from estimators.in_run import KSG, Probe, RepresentationPID
from estimators.ksg import ksg_discrete_mi_bits
from interactions.types import TERMS, Estimator, Representation


def _xor_representation(n: int, seed: int = 0):
    """An xor sample and features whose unimodal parts are its bits, as well-separated clusters."""
    import generators

    sample = generators.make("xor").sample(n, seed=seed)
    bits = {k: v[:, 0].astype(float) for k, v in sample.latents.items() if k in ("r", "u1", "u2", "s1", "s2")}
    rng = np.random.default_rng(seed)
    z1 = np.column_stack([bits["r"], bits["u1"], bits["s1"]]) * 10 + 0.01 * rng.standard_normal((n, 3))
    z2 = np.column_stack([bits["r"], bits["u2"], bits["s2"]]) * 10 + 0.01 * rng.standard_normal((n, 3))
    z = np.hstack([z1, z2])
    return sample, Representation(z, {"1": z1, "2": z2, "12": z})


def test_every_registered_estimator_follows_the_protocol():
    assert list(estimators.ESTIMATORS)[0] == "probe"
    for name, cls in estimators.ESTIMATORS.items():
        instance = cls()
        assert isinstance(instance, Estimator) and instance.name == name
        assert "seed" in cls.estimate.__code__.co_varnames  # the seed is called `seed` everywhere


def test_pid_of_a_representation_that_holds_each_bit_recovers_one_bit_per_term():
    sample, rep = _xor_representation(2000)
    rows = RepresentationPID(n_clusters=8).estimate(rep, sample, rep, sample, seed=0)
    got = {r["term"]: r["bits"] for r in rows}
    # Z1 = (r, u1, s1), Z2 = (r, u2, s2) exactly (8 clusters each): R, U1, U2, S of one bit each
    assert got == pytest.approx(dict.fromkeys(TERMS, 1.0), abs=0.02)
    synergy = next(r for r in rows if r["term"] == "synergy")
    assert synergy["pid_redundancy"] == pytest.approx(0.0, abs=0.02)


def test_pid_needs_the_unimodal_embeddings():
    sample, rep = _xor_representation(200)
    with pytest.raises(ValueError, match="unimodal embeddings"):
        RepresentationPID().estimate(Representation(rep.z), sample, Representation(rep.z), sample, seed=0)


def test_ksg_of_a_discrete_label_matches_the_analytic_mixture():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20000)
    x = y + rng.standard_normal(20000)
    grid = np.linspace(-8, 9, 200001)
    mixture = (norm.pdf(grid) + norm.pdf(grid - 1)) / 2
    h_mix = -np.trapezoid(mixture * np.log2(mixture), grid)
    truth = h_mix - 0.5 * np.log2(2 * np.pi * np.e)  # I(X; Y) = h(X) - h(X | Y), bits
    assert ksg_discrete_mi_bits(x, y) == pytest.approx(truth, abs=0.01)
    assert ksg_discrete_mi_bits(10 * y + rng.standard_normal(20000), y) == pytest.approx(1.0, abs=0.01)
    # independent: 0 bits up to the estimator's spread at n = 4000 (about 0.01-0.02 bits)
    independent = ksg_discrete_mi_bits(rng.standard_normal((4000, 2)), rng.integers(0, 4, 4000))
    assert independent == pytest.approx(0.0, abs=0.04)


def test_ksg_estimator_rows():
    sample, rep = _xor_representation(600)
    rows = KSG(k=3).estimate(rep, sample, rep, sample, seed=0)
    assert [r["term"] for r in rows] == list(TERMS)
    assert all(0.5 < r["bits"] < 1.2 for r in rows)  # every bit is in the features (KSG is biased low)


def test_probe_estimator_is_capture():
    from estimators import capture

    sample, rep = _xor_representation(400)
    rows = Probe(Cs=[1.0]).estimate(rep, sample, rep, sample, seed=3)
    expected = capture(rep.z, sample, z_test=rep.z, sample_test=sample, seed=3, Cs=[1.0])
    pd.testing.assert_frame_equal(pd.DataFrame(rows), expected)


@pytest.mark.parametrize(
    ("cls", "params", "error", "pattern"),
    [
        (Probe, {"Cz": [1.0]}, ValueError, r"unknown key 'probe.Cz' \(did you mean 'Cs'\?\)"),
        (Probe, {"max_iter": 1.5}, TypeError, r"probe.max_iter must be int"),
        (Probe, {"seed": 1}, ValueError, r"unknown key 'probe.seed'"),
        (Probe, {"decision": "bayes"}, ValueError, r"probe.decision must be one of .*got 'bayes'"),
        (Probe, {"selection": "acc"}, ValueError, r"probe.selection must be one of"),
        (Probe, {"precision": "float16"}, ValueError, r"probe.precision must be one of .*got 'float16'"),
        (RepresentationPID, {"measure": "brojaa"}, ValueError, r"unknown PID measure 'brojaa'"),
        (RepresentationPID, {"terms": ["synergi"]}, ValueError, r"terms must be"),
        (KSG, {"k": 0}, ValueError, r"k must be an int >= 1"),
    ],
)
def test_bad_parameters_are_rejected_before_use(cls, params, error, pattern):
    with pytest.raises(error, match=pattern):
        cls(**params)
