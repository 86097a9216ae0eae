"""PID of two continuous representations after k-means discretisation."""

from __future__ import annotations

import numpy as np
import pytest

from estimators.representation import decompose_representation


def bit_features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z1 = [r, u1] and z2 = [r, u2] (bits + 0.05 noise: 4 tight clusters each), Y = code of (r, u1, u2)."""
    rng = np.random.default_rng(seed)
    r, u1, u2 = (rng.integers(0, 2, n) for _ in range(3))
    z1 = np.column_stack([r, u1]) + 0.05 * rng.normal(size=(n, 2))
    z2 = np.column_stack([r, u2]) + 0.05 * rng.normal(size=(n, 2))
    return z1, z2, 4 * r + 2 * u1 + u2


def test_redundant_and_unique_bits_are_recovered_under_broja():
    # n = 4000 rows, 4 * 4 * 8 = 128 joint cells: the plug-in excess is ~(cells - 1) / (2 n ln 2) ~ 0.02
    # bit at most, so each term is within 0.05 bit of its exact value R = U1 = U2 = 1, S = 0.
    z1, z2, y = bit_features(4000, seed=0)
    result = decompose_representation(z1, z2, y, n_clusters=4, measure="broja", seed=0)
    assert result.redundancy == pytest.approx(1.0, abs=0.05)
    assert result.unique_1 == pytest.approx(1.0, abs=0.05)
    assert result.unique_2 == pytest.approx(1.0, abs=0.05)
    assert result.synergy == pytest.approx(0.0, abs=0.05)


def test_integer_codes_skip_clustering_and_give_the_same_answer():
    z1, z2, y = bit_features(2000, seed=1)
    codes1 = 2 * (z1[:, 0] > 0.5) + (z1[:, 1] > 0.5)
    codes2 = 2 * (z2[:, 0] > 0.5) + (z2[:, 1] > 0.5)
    from_codes = decompose_representation(codes1.astype(np.int64), codes2.astype(np.int64), y)
    clustered = decompose_representation(z1, z2, y, n_clusters=4)
    for term in ("redundancy", "unique_1", "unique_2", "synergy"):
        assert getattr(from_codes, term) == pytest.approx(getattr(clustered, term), abs=1e-6)


def test_bad_input_is_rejected():
    z1, z2, y = bit_features(100, seed=2)
    with pytest.raises(ValueError, match="same rows"):
        decompose_representation(z1[:-1], z2, y)
    with pytest.raises(ValueError, match="integer"):
        decompose_representation(z1, z2, y.astype(float))
    with pytest.raises(ValueError, match="pair"):
        decompose_representation(z1, z2, y, n_clusters=(2, 3, 4))
