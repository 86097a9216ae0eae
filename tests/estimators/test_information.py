"""Plug-in entropy and mutual information of discrete codes, and the Gaussian re-exports."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from estimators.information import (
    NATS_TO_BITS,
    bits_to_nats,
    entropy_bits,
    gaussian_mi_bits,
    joint_codes,
    mutual_information_bits,
    nats_to_bits,
)


def test_entropy_exact_values():
    assert entropy_bits(np.array([0, 1, 2, 3])) == pytest.approx(2.0)
    assert entropy_bits(np.array([5, 5, 5])) == 0.0
    assert entropy_bits(np.array([0, 0, 0, 1])) == pytest.approx(
        -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    )
    assert entropy_bits(np.array([True, False])) == pytest.approx(1.0)


def test_mutual_information_exact_values_and_sklearn():
    a = np.array([0, 1, 2, 3] * 5)
    assert mutual_information_bits(a, a) == pytest.approx(2.0)
    assert mutual_information_bits(a, a % 2) == pytest.approx(1.0)
    assert mutual_information_bits(a, np.zeros_like(a)) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 300), rng.integers(0, 3, 300)
    y = np.where(rng.random(300) < 0.5, x % 3, y)
    assert mutual_information_bits(x, y) == pytest.approx(mutual_info_score(x, y) * NATS_TO_BITS)
    assert mutual_information_bits(x, y) == pytest.approx(mutual_information_bits(y, x))


def test_joint_codes_identify_tuples():
    codes = joint_codes(np.array([0, 0, 1, 1, 0]), np.array([0, 1, 0, 1, 0]))
    assert len(np.unique(codes)) == 4
    assert codes[0] == codes[4]


def test_unit_conversions_round_trip():
    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert bits_to_nats(nats_to_bits(1.7)) == pytest.approx(1.7)


def test_gaussian_reexport_matches_the_block_formula():
    rho = 0.8
    cov = np.array([[1.0, rho], [rho, 1.0]])
    assert gaussian_mi_bits(cov, 0, 1) == pytest.approx(-0.5 * math.log2(1 - rho**2))


def test_bad_input():
    with pytest.raises(TypeError, match="integer"):
        entropy_bits(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        entropy_bits(np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="empty"):
        entropy_bits(np.array([], int))
    with pytest.raises(ValueError, match="same length"):
        mutual_information_bits(np.array([0, 1]), np.array([0, 1, 1]))


def test_importing_estimators_does_not_import_torch():
    code = "import sys, estimators; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
