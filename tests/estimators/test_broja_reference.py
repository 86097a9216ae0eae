"""BROJA against an independent reference: dit's exponential-cone (ECOS) solver, a test-only dependency.

dit (``dit.pid.PID_BROJA(d, sources, target, method="cone")``) implements the EXP-cone formulation of
Makkeh, Theis and Vicente (2018); our solver (estimators/broja.py) is a separate interior-point method on
the dual, so agreement within 1e-5 bits on random joints is an independent check.
"""

from __future__ import annotations

import numpy as np
import pytest

from estimators import pid

dit = pytest.importorskip("dit")
pytest.importorskip("ecos")


def _dit_broja(joint: np.ndarray) -> dict[str, float]:
    """R, U1, U2, S from dit's cone path, in bits."""
    from dit.pid import PID_BROJA

    outcomes, probs = [], []
    for idx in zip(*np.nonzero(joint)):
        outcomes.append(tuple(int(i) for i in idx))
        probs.append(float(joint[idx]))
    dist = dit.Distribution(outcomes, probs)
    res = PID_BROJA(dist, [[0], [1]], [2], method="cone")
    return {
        "redundancy": res.get_pi(((0,), (1,))),
        "unique_1": res.get_pi(((0,),)),
        "unique_2": res.get_pi(((1,),)),
        "synergy": res.get_pi(((0, 1),)),
    }


def _joint(shape: tuple[int, int, int], seed: int, sparse: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    joint = rng.dirichlet(np.full(int(np.prod(shape)), 0.5 if sparse else 1.0)).reshape(shape)
    if sparse:
        joint[rng.random(shape) < 0.3] = 0.0
    return joint / joint.sum()


def _compare(joint: np.ndarray) -> None:
    ours = pid(joint, "broja").as_dict()
    ref = _dit_broja(joint)
    for term, value in ref.items():
        assert ours[term] == pytest.approx(value, abs=1e-5), term


@pytest.mark.parametrize("shape", [(2, 2, 2), (3, 3, 2), (2, 4, 3), (4, 3, 3), (5, 5, 2)])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("sparse", [False, True])
def test_agrees_with_dit_cone_small(shape: tuple[int, int, int], seed: int, sparse: bool) -> None:
    _compare(_joint(shape, seed, sparse))


@pytest.mark.parametrize("shape", [(8, 8, 2), (6, 7, 4)])
def test_agrees_with_dit_cone_medium(shape: tuple[int, int, int]) -> None:
    _compare(_joint(shape, 11, sparse=False))


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(16, 16, 2), (32, 32, 2), (16, 16, 6), (32, 32, 10)])
@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_dit_cone_large(shape: tuple[int, int, int], seed: int) -> None:
    _compare(_joint(shape, seed, sparse=False))
