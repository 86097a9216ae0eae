"""Exact PID: canonical values, PID identities, invariances, robustness of the BROJA solver, bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from estimators import PIDResult, discretize, pid, pid_from_samples
from estimators.broja import broja_solve
from estimators.canonical import canonical_joint, expected_pid, names
from estimators.pid import check_joint
from interactions.types import TERMS, InteractionSpec

MEASURE_NAMES = ("broja", "imin", "mmi")


def _naive_mi(joint: np.ndarray) -> tuple[float, float, float]:
    """I(X1;Y), I(X2;Y), I(X1,X2;Y) in bits by the definition sum p log p / (p p), written independently."""

    def mi(pxy: np.ndarray) -> float:
        px, py = pxy.sum(1, keepdims=True), pxy.sum(0, keepdims=True)
        total = 0.0
        for i, j in np.ndindex(pxy.shape):
            if pxy[i, j] > 0:
                total += pxy[i, j] * math.log2(pxy[i, j] / (px[i, 0] * py[0, j]))
        return total

    n1, n2, ny = joint.shape
    return mi(joint.sum(1)), mi(joint.sum(0)), mi(joint.reshape(n1 * n2, ny))


def _random_joints() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for shape in [(2, 2, 2), (3, 4, 2), (5, 3, 4), (6, 6, 3)]:
        out.append(rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape))
        sparse = rng.dirichlet(np.full(int(np.prod(shape)), 0.3)).reshape(shape)
        sparse[rng.random(shape) < 0.4] = 0.0
        out.append(sparse / sparse.sum())
    return out


# ---------------------------------------------------------------- canonical values


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("measure", MEASURE_NAMES)
def test_canonical_values(name: str, measure: str) -> None:
    result = pid(canonical_joint(name), measure)
    expected = expected_pid(name)[measure]
    for term in TERMS:
        assert getattr(result, term) == pytest.approx(expected[term], abs=1e-6), (name, measure, term)


def test_closed_forms_match_the_published_rounded_table() -> None:
    and_ = expected_pid("and")["broja"]
    assert and_["redundancy"] == pytest.approx(0.311278124459, abs=1e-12)
    assert round(and_["redundancy"], 3) == 0.311 and and_["synergy"] == 0.5
    imp = expected_pid("imperfect_rdn")["broja"]
    assert (round(imp["redundancy"], 3), round(imp["unique_1"], 3)) == (0.990, 0.010)
    assert round(expected_pid("reduced_or")["imin"]["synergy"], 3) == 0.689


def test_orientation_of_the_unique_bits() -> None:
    assert pid(canonical_joint("unique_1")).unique_1 == pytest.approx(1.0, abs=1e-6)
    assert pid(canonical_joint("unique_2")).unique_2 == pytest.approx(1.0, abs=1e-6)
    assert np.array_equal(canonical_joint("unique_1"), canonical_joint("unique_2").transpose(1, 0, 2))


def test_composite_separates_broja_from_mmi() -> None:
    joint = canonical_joint("composite")
    assert joint.shape == (8, 8, 16) and np.count_nonzero(joint) == 32
    broja, mmi = pid(joint, "broja"), pid(joint, "mmi")
    assert [broja.redundancy, broja.unique_1, broja.unique_2, broja.synergy] == pytest.approx(
        [1] * 4, abs=1e-6
    )
    assert [mmi.redundancy, mmi.unique_1, mmi.unique_2, mmi.synergy] == pytest.approx([2, 0, 0, 2], abs=1e-12)
    assert broja.gap is not None and 0 <= broja.gap <= 1e-7 and mmi.gap is None


# ---------------------------------------------------------------- identities and invariances


@pytest.mark.parametrize("measure", MEASURE_NAMES)
def test_identities_on_random_joints(measure: str) -> None:
    for joint in _random_joints():
        r = pid(joint, measure)
        i1, i2, i12 = _naive_mi(joint)
        assert r.redundancy + r.unique_1 == pytest.approx(i1, abs=1e-9)
        assert r.redundancy + r.unique_2 == pytest.approx(i2, abs=1e-9)
        assert sum(r.as_dict().values()) == pytest.approx(i12, abs=1e-9)
        assert r.mutual_information == pytest.approx(i12, abs=1e-9)
        assert min(r.as_dict().values()) >= -1e-7
        assert all(math.isfinite(v) for v in r.as_dict().values())


@pytest.mark.parametrize("measure", MEASURE_NAMES)
def test_swapping_sources_swaps_unique_terms(measure: str) -> None:
    for joint in _random_joints()[:6]:
        a, b = pid(joint, measure), pid(joint.transpose(1, 0, 2), measure)
        assert b.unique_1 == pytest.approx(a.unique_2, abs=1e-6)
        assert b.unique_2 == pytest.approx(a.unique_1, abs=1e-6)
        assert b.redundancy == pytest.approx(a.redundancy, abs=1e-6)
        assert b.synergy == pytest.approx(a.synergy, abs=1e-6)


@pytest.mark.parametrize("measure", MEASURE_NAMES)
def test_relabelling_symbols_changes_nothing(measure: str) -> None:
    rng = np.random.default_rng(1)
    for joint in _random_joints()[:6]:
        perm = [rng.permutation(n) for n in joint.shape]
        relabelled = joint[np.ix_(*perm)]
        a, b = pid(joint, measure).as_dict(), pid(relabelled, measure).as_dict()
        assert [a[t] for t in TERMS] == pytest.approx([b[t] for t in TERMS], abs=1e-6)


def test_zero_rows_and_unused_symbols_change_nothing() -> None:
    joint = _random_joints()[2]
    padded = np.zeros((joint.shape[0] + 2, joint.shape[1] + 1, joint.shape[2] + 2))
    padded[1:-1, 1:, 2:] = joint
    for measure in MEASURE_NAMES:
        a, b = pid(joint, measure).as_dict(), pid(padded, measure).as_dict()
        assert [a[t] for t in TERMS] == pytest.approx([b[t] for t in TERMS], abs=1e-6)


# ---------------------------------------------------------------- BROJA solver robustness


def _hard_joints() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    tiny = rng.dirichlet(np.ones(60)).reshape(4, 5, 3) * np.exp(-rng.random((4, 5, 3)) * 60)
    near_det = np.full((4, 4, 3), 1e-12)
    near_det[np.arange(4)[:, None], np.arange(4)[None, :], rng.integers(0, 3, (4, 4))] = 1.0
    rare_row = rng.dirichlet(np.ones(36)).reshape(3, 4, 3)
    rare_row[0] *= 1e-14
    deterministic = np.zeros((3, 3, 4))
    for x1, x2 in np.ndindex(3, 3):
        deterministic[x1, x2, (x1 * x2 + x1) % 4] = 1.0
    return {
        "tiny": tiny / tiny.sum(),
        "near_deterministic": near_det / near_det.sum(),
        "rare_row": rare_row / rare_row.sum(),
        "deterministic": deterministic / deterministic.sum(),
        "constant_target": np.full((3, 2, 1), 1 / 6),
        "constant_source": np.array([[[0.2, 0.1], [0.3, 0.4]]]),
        "single_cell": np.ones((1, 1, 1)),
        "dirac_plus_zeros": np.pad(np.ones((1, 1, 1)), ((0, 2), (0, 1), (0, 3))),
    }


@pytest.mark.parametrize("name", list(_hard_joints()))
def test_broja_is_robust(name: str) -> None:
    joint = _hard_joints()[name]
    with np.errstate(all="raise"):
        solution = broja_solve(joint)
    assert np.all(np.isfinite(solution.q)) and solution.q.min() >= 0
    np.testing.assert_allclose(solution.q.sum(1), joint.sum(1), atol=1e-13)
    np.testing.assert_allclose(solution.q.sum(0), joint.sum(0), atol=1e-13)
    assert 0 <= solution.gap <= 1e-7
    r = pid(joint)
    assert all(math.isfinite(v) and v >= -1e-7 for v in r.as_dict().values())
    i1, i2, i12 = _naive_mi(joint)
    assert sum(r.as_dict().values()) == pytest.approx(i12, abs=1e-9)


def test_broja_optimum_beats_the_original_and_independent_couplings() -> None:
    # m* is a minimum over Delta_P, which contains P itself and P(x1|y) P(x2|y) P(y).
    for joint in _random_joints():
        solution = broja_solve(joint)
        py = joint.sum((0, 1))
        ci = np.where(
            py > 0, joint.sum(1)[:, None, :] * joint.sum(0)[None, :, :] / np.where(py > 0, py, 1), 0
        )
        assert solution.mi_min <= _naive_mi(joint)[2] + 1e-12
        assert solution.mi_min <= _naive_mi(ci)[2] + 1e-12


def test_trivial_cases_have_no_information() -> None:
    r = pid(np.full((3, 2, 1), 1 / 6))
    assert r.as_dict() == pytest.approx(dict.fromkeys(TERMS, 0.0), abs=1e-12) and r.gap == 0.0


# ---------------------------------------------------------------- result object


def test_result_as_dict_and_spec() -> None:
    r = pid(canonical_joint("and"))
    assert isinstance(r, PIDResult) and list(r.as_dict()) == list(TERMS)
    spec = r.to_spec(note="AND gate")
    assert isinstance(spec, InteractionSpec) and spec.measure == "broja" and spec.note == "AND gate"
    assert spec.total == pytest.approx(r.mutual_information, abs=1e-9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.redundancy = 0.0  # type: ignore[misc]


def test_to_spec_clips_only_solver_rounding() -> None:
    tiny_negative = PIDResult(-1e-10, 0.5, 0.5, 0.2, "broja", 1e-9, 1.2)
    assert tiny_negative.to_spec().redundancy == 0.0
    truly_negative = PIDResult(-0.01, 0.5, 0.5, 0.2, "broja", 1e-9, 1.19)
    with pytest.raises(ValueError, match="redundancy"):
        truly_negative.to_spec()


# ---------------------------------------------------------------- samples and discretisation


def test_pid_from_samples_matches_the_joint() -> None:
    rng = np.random.default_rng(3)
    x1, x2 = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    r = pid_from_samples(x1 + 10, x2 * 7, x1 ^ x2)  # arbitrary labels
    counts = np.zeros((2, 2, 2))
    np.add.at(counts, (x1, x2, x1 ^ x2), 1)
    ref = pid(counts / counts.sum())
    assert r.as_dict() == pytest.approx(ref.as_dict(), abs=1e-9)
    assert r.synergy == pytest.approx(1.0, abs=0.01)


def test_pid_from_samples_accepts_rows_as_symbols() -> None:
    rng = np.random.default_rng(4)
    bits = rng.integers(0, 2, size=(3000, 5))
    r_, u1, u2, a, b = bits.T
    x1 = np.stack([r_, u1, a], 1)
    x2 = np.stack([r_, u2, b], 1)
    y = np.stack([r_, u1, u2, a ^ b], 1)
    res = pid_from_samples(x1, x2, y, measure="broja")
    assert [res.redundancy, res.unique_1, res.unique_2, res.synergy] == pytest.approx([1, 1, 1, 1], abs=0.05)


def test_discretize_is_deterministic_and_separates_clusters() -> None:
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    labels = rng.integers(0, 3, 300)
    feats = centres[labels] + rng.normal(0, 0.3, (300, 2))
    codes = discretize(feats, 3, seed=0)
    assert codes.shape == (300,) and codes.dtype == np.int64
    assert np.array_equal(codes, discretize(feats, 3, seed=0))
    # Same partition as the true labels, up to renaming.
    assert len(set(zip(codes.tolist(), labels.tolist()))) == 3


@pytest.mark.parametrize(
    ("features", "k", "err"),
    [
        (np.zeros((0, 2)), 1, ValueError),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), 1, ValueError),
        (np.zeros((3, 2)), 4, ValueError),
        (np.zeros((3, 2)), 0, ValueError),
        (np.zeros((3, 2)), 2.0, TypeError),
        (np.array([["a"], ["b"]]), 1, TypeError),
    ],
)
def test_discretize_rejects_bad_input(features: np.ndarray, k: object, err: type) -> None:
    with pytest.raises(err):
        discretize(features, k)  # type: ignore[arg-type]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("joint", "err", "match"),
    [
        (np.array([[[0.5, 0.6]], [[-0.1, 0.0]]]), ValueError, "non-negative"),
        (np.full((2, 2, 2), 0.2), ValueError, "sum to 1"),
        (np.array([[[np.nan, 0.5]], [[0.5, 0.0]]]), ValueError, "finite"),
        (np.full((2, 2), 0.25), ValueError, "3 axes"),
        (np.zeros((2, 0, 2)), ValueError, "empty"),
        (np.array([[["a", "b"]]]), TypeError, "numeric"),
        (np.full((1, 1, 2), 0.5 + 0.0j), TypeError, "real"),
    ],
)
def test_bad_joints_are_rejected(joint: np.ndarray, err: type, match: str) -> None:
    with pytest.raises(err, match=match):
        pid(joint)


def test_sum_within_tolerance_is_renormalised() -> None:
    joint = canonical_joint("xor") * (1 + 5e-9)
    assert check_joint(joint).sum() == pytest.approx(1.0, abs=1e-15)
    assert pid(joint).synergy == pytest.approx(1.0, abs=1e-6)


def test_unknown_measure_suggests_a_name() -> None:
    with pytest.raises(ValueError, match="did you mean 'broja'"):
        pid(canonical_joint("xor"), measure="brojja")
    with pytest.raises(ValueError, match="unknown canonical"):
        canonical_joint("xorr")


@pytest.mark.parametrize(
    ("x1", "x2", "y", "err"),
    [
        ([0, 1], [0, 1, 1], [0, 1], ValueError),
        ([], [], [], ValueError),
        ([0.5, 1.0], [0, 1], [0, 1], ValueError),
        (np.zeros((2, 2, 2)), [0, 1], [0, 1], ValueError),
        (np.array([{}, {}], dtype=object), [0, 1], [0, 1], TypeError),
    ],
)
def test_bad_samples_are_rejected(x1: object, x2: object, y: object, err: type) -> None:
    with pytest.raises(err):
        pid_from_samples(x1, x2, y)


def test_small_broja_systems_run_on_one_blas_thread():
    """Waking BLAS threads for 160 x 160 systems cost seconds per call on a busy machine (issue 12)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from estimators.broja import SINGLE_THREAD_MAX_ROWS, _blas_threads_for

    with _blas_threads_for(16 * 10):
        assert all(i["num_threads"] == 1 for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
    with _blas_threads_for(SINGLE_THREAD_MAX_ROWS + 1):
        assert [i["num_threads"] for i in threadpoolctl.threadpool_info()] == before
