"""The per-term probe: known answers on synthetic features, agreement with sklearn, invariants, bad input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, log_loss

from estimators.capture import capture
from estimators.probe import (
    LogisticProbe,
    ProbeConvergenceWarning,
    _loss_and_grad,
    balanced_accuracy,
    probe_term,
)
from interactions.types import PROBE_COLUMNS, TERMS, BimodalSample, InteractionSpec


def make_sample(targets: dict[str, np.ndarray], spec: InteractionSpec | None = None) -> BimodalSample:
    """A BimodalSample whose modalities are placeholders; only targets and spec matter to the probe."""
    n = len(next(iter(targets.values())))
    spec = spec or InteractionSpec(1.0, 1.0, 1.0, 1.0)
    zeros = np.zeros((n, 1), np.float32)
    return BimodalSample(zeros, zeros, {t: np.asarray(targets[t], np.int64) for t in TERMS}, {}, spec)


def uniform_labels(n: int, n_classes: tuple[int, ...], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {t: rng.integers(0, k, n) for t, k in zip(TERMS, n_classes)}


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[y]


def test_exact_term_is_fully_captured_and_noise_is_not():
    # Redundancy (4 classes, 2 bits) and unique_1 (2 classes) are one-hot coded in z: the probe reads them
    # exactly. unique_2 and synergy are independent of z: bits ~ 0. n_train = n_test = 1000, so the plug-in
    # H(T) of the test labels is within ~0.01 bit of log2 K and a probe at C = 1e4 has CE < ~0.05 bit.
    n, rng = 2000, np.random.default_rng(1)
    labels = uniform_labels(n, (4, 2, 3, 2), seed=2)
    z = np.hstack(
        [3 * one_hot(labels["redundancy"], 4), one_hot(labels["unique_1"], 2), rng.normal(size=(n, 8))]
    )
    spec = InteractionSpec(2.0, 1.0, math.log2(3), 1.0)
    sample = make_sample(labels, spec)
    df = capture(
        z[:1000], sample.subset(slice(0, 1000)), z_test=z[1000:], sample_test=sample.subset(slice(1000, None))
    )
    assert list(df.columns) == list(PROBE_COLUMNS)
    assert list(df["term"]) == list(TERMS)
    got = df.set_index("term")
    for term in ("redundancy", "unique_1"):
        assert got.loc[term, "balanced_accuracy"] == 1.0
        assert got.loc[term, "capture"] == pytest.approx(1.0, abs=0.05)
    for term, k in (("unique_2", 3), ("synergy", 2)):
        # independent features: |bits| below 0.02 bit at n = 1000 (the prior-only probe's CE exceeds
        # H(T_test) by the KL between train and test label frequencies, ~1e-3 bit), accuracy near chance.
        assert abs(got.loc[term, "bits"]) < 0.02
        assert got.loc[term, "balanced_accuracy"] == pytest.approx(1 / k, abs=0.06)
        assert got.loc[term, "chance"] == pytest.approx(1 / k)
    assert (got["feature_dim"] == z.shape[1]).all()
    assert np.allclose(got["bits"], got["entropy_bits"] - got["cross_entropy_bits"])


def test_xor_is_invisible_to_a_linear_probe_until_the_product_is_a_feature():
    # The spec's additive-form argument: with features [s1, s2] (+-1 coded) every linear logit is
    # a*s1 + b*s2 + c and cannot separate s1 XOR s2; adding s1*s2 makes it linear.
    n, rng = 2000, np.random.default_rng(3)
    s1, s2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
    labels = {"redundancy": s1, "unique_1": s2, "unique_2": rng.integers(0, 2, n), "synergy": s1 ^ s2}
    sample = make_sample(labels)
    a, b = 2.0 * s1 - 1, 2.0 * s2 - 1
    linear = capture(np.column_stack([a, b]), sample, terms=("synergy",), seed=0).iloc[0]
    assert abs(linear["bits"]) < 0.02
    # Accuracy is not at chance: a line can cut off one of the four corners, which gives balanced accuracy
    # 3/4 on XOR with near-uniform probabilities (hence ~0 bits). It can do no better than that.
    assert linear["balanced_accuracy"] <= 0.75 + 0.03
    product = capture(np.column_stack([a, b, a * b]), sample, terms=("synergy",), seed=0).iloc[0]
    assert product["balanced_accuracy"] == 1.0
    assert product["bits"] == pytest.approx(1.0, abs=0.05)


def test_probe_matches_sklearn_logistic_regression_at_the_same_C():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 5))
    y = np.argmax(x[:, :3] + 0.8 * rng.normal(size=(300, 3)), axis=1)
    for c in (0.01, 1.0, 100.0):
        ours = LogisticProbe(c, tol=1e-10, max_iter=5000).fit(x, y)
        ref = LogisticRegression(C=c, tol=1e-10, max_iter=5000).fit(x, y)
        np.testing.assert_allclose(ours.predict_proba(x), ref.predict_proba(x), atol=1e-5)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * max(1.0, np.abs(ref.coef_).max()))


def test_gradient_is_the_derivative_of_the_loss():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(50, 4)), rng.integers(0, 3, 50)
    params = rng.normal(size=4 * 3 + 3)
    err = check_grad(
        lambda p: _loss_and_grad(p, x, y, 3, 0.1)[0], lambda p: _loss_and_grad(p, x, y, 3, 0.1)[1], params
    )
    assert err < 1e-5


def test_balanced_accuracy_and_cross_entropy_match_sklearn():
    rng = np.random.default_rng(6)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    y_true[:5] = 7  # a rare class with a gap in the codes
    assert balanced_accuracy(y_true, y_pred) == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    x = rng.normal(size=(200, 3))
    probe = LogisticProbe(1.0).fit(x, y_true)
    ce_bits, _ = probe.score_bits(x, y_true)
    assert ce_bits == pytest.approx(
        log_loss(y_true, probe.predict_proba(x), labels=probe.classes_) / math.log(2)
    )


def test_selected_C_is_the_best_on_the_holdout_path():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 600)
    x = one_hot(y, 3) + 1.5 * rng.normal(size=(600, 3))
    score = probe_term(x[:400], y[:400], x[400:], y[400:], seed=0)
    assert score.C == min(score.path, key=score.path.get)
    acc = probe_term(x[:400], y[:400], x[400:], y[400:], selection="balanced_accuracy", seed=0)
    assert acc.C == max(acc.path, key=acc.path.get)


def test_balanced_decision_is_the_prior_corrected_argmax_and_leaves_bits_alone():
    # A rare positive class (10 %) shifted by one standard deviation along one feature: the posterior of a
    # positive row rarely reaches 1/2, so "argmax" predicts almost only the majority class, while the
    # balanced rule (argmax of q(k | z) / pi_k) thresholds the posterior at pi_1 = 0.1.
    rng = np.random.default_rng(21)
    y = (rng.random(4000) < 0.1).astype(np.int64)
    x = rng.normal(size=(4000, 2)) + y[:, None] * np.array([1.0, 0.0])
    probe = LogisticProbe(1.0).fit(x[:3000], y[:3000])
    prior = np.bincount(y[:3000]) / 3000
    assert np.array_equal(probe.class_prior_, prior)
    naive = probe.classes_[np.argmax(probe.predict_proba(x[3000:]) / prior, axis=1)]
    assert np.array_equal(probe.predict(x[3000:], "balanced"), naive)
    plain = probe_term(x[:3000], y[:3000], x[3000:], y[3000:], seed=0)
    fair = probe_term(x[:3000], y[:3000], x[3000:], y[3000:], seed=0, decision="balanced")
    assert fair.bits == plain.bits and fair.C == plain.C  # the fit and its information bound do not change
    assert plain.balanced_accuracy < 0.55  # argmax: nearly always "negative"
    # Analytic truth: balanced accuracy weighs both classes equally, so its Bayes rule is the threshold
    # halfway between the two unit Gaussians (x_0 > 1/2), with mean recall Phi(1/2) = 0.691.
    assert fair.balanced_accuracy == pytest.approx(0.691, abs=0.04)
    # Balanced classes: the two rules agree row for row.
    yb = np.arange(600) % 3
    xb = one_hot(yb, 3) + 1.5 * rng.normal(size=(600, 3))
    fit = LogisticProbe(1.0).fit(xb, yb)
    assert np.array_equal(fit.predict(xb), fit.predict(xb, "balanced"))
    with pytest.raises(ValueError, match="decision"):
        probe_term(x, y, x, y, decision="prior")
    with pytest.raises(ValueError, match="decision"):
        fit.predict(xb, "bayes")


def test_float32_products_give_the_float64_probe_within_float32_rounding():
    # 10 classes, 64 features with a weak linear signal: the C search visits several values and the fits
    # are converged, so the two arithmetics must give the same C, scores and probabilities up to rounding.
    rng = np.random.default_rng(31)
    y = rng.integers(0, 10, 3000)
    x = 0.4 * rng.normal(size=(10, 64))[y] + rng.normal(size=(3000, 64))
    wide = probe_term(x[:2000], y[:2000], x[2000:], y[2000:], seed=0)
    fast = probe_term(x[:2000], y[:2000], x[2000:], y[2000:], seed=0, precision="float32")
    assert fast.C == wide.C and len(wide.path) >= 3
    assert fast.bits == pytest.approx(wide.bits, abs=1e-4)
    assert fast.balanced_accuracy == pytest.approx(wide.balanced_accuracy, abs=2e-3)
    # along the path each fit stops at gtol 1e-5, a little apart in the two arithmetics (3e-4 bits at
    # C = 100). Far past the chosen C (1,000x and more, hold-out loss 4x the best) the objective is nearly
    # flat and the two stop ~0.01 bits apart on the hold-out; that end never decides C, so it is not compared.
    near = [c for c in wide.path if c <= 1e3 * wide.C]
    assert len(near) >= 5
    assert all(fast.path[c] == pytest.approx(wide.path[c], abs=1e-3) for c in near)
    # at the default gtol (1e-5) both fits stop at the same optimum to 1e-5 in probability (a much tighter
    # gtol is out of reach of float32 gradients: at 1e-8 the float32 fit stops 3e-4 away)
    p64 = LogisticProbe(1.0).fit(x, y).predict_proba(x)
    p32 = LogisticProbe(1.0, precision="float32").fit(x, y).predict_proba(x)
    np.testing.assert_allclose(p32, p64, atol=5e-5)
    table = capture(x[:2000], make_sample({t: y[:2000] for t in TERMS}), precision="float32")
    assert np.isfinite(table["bits"]).all()
    with pytest.raises(ValueError, match=r"precision must be one of .*'float16'"):
        LogisticProbe(1.0, precision="float16")
    with pytest.raises(ValueError, match="precision"):
        probe_term(x, y, x, y, precision="half")


def test_same_inputs_give_the_same_numbers_and_the_seed_matters():
    n = 600
    labels = uniform_labels(n, (2, 3, 2, 4), seed=8)
    z = np.column_stack([labels[t] for t in TERMS]) + np.random.default_rng(9).normal(size=(n, 4))
    sample = make_sample(labels)
    first = capture(z, sample, seed=3)
    pd.testing.assert_frame_equal(first, capture(z, sample, seed=3))
    assert not first["bits"].equals(capture(z, sample, seed=4)["bits"])
    assert (first["n_train"] + first["n_test"] == n).all()
    # stratified per term: each class's test share is round(0.3 * count)
    assert first["n_test"].between(0.3 * n - 4, 0.3 * n + 4).all()


def test_result_is_invariant_to_feature_scale_and_accepts_torch():
    torch = pytest.importorskip("torch")
    n = 500
    labels = uniform_labels(n, (2, 2, 3, 2), seed=10)
    z = np.column_stack([labels[t] for t in TERMS]) + np.random.default_rng(11).normal(size=(n, 4))
    sample = make_sample(labels)
    base = capture(z, sample)
    scaled = capture(z * np.array([1e-3, 10.0, 1.0, 250.0]) + 7.0, sample)
    np.testing.assert_allclose(base["bits"], scaled["bits"], atol=1e-6)
    np.testing.assert_allclose(capture(torch.tensor(z, dtype=torch.float64), sample)["bits"], base["bits"])


def test_single_class_term_and_zero_true_bits():
    n = 400
    labels = uniform_labels(n, (2, 2, 2, 2), seed=12)
    labels["synergy"] = np.zeros(n, np.int64)
    z = np.random.default_rng(13).normal(size=(n, 3))
    df = capture(z, make_sample(labels, InteractionSpec(1.0, 1.0, 1.0, 0.0))).set_index("term")
    assert df.loc["synergy", "bits"] == 0.0
    assert math.isnan(df.loc["synergy", "balanced_accuracy"])
    assert math.isnan(df.loc["synergy", "capture"])
    assert df.loc["synergy", "chance"] == 1.0


def test_bad_input_is_rejected_with_a_clear_error():
    n = 100
    labels = uniform_labels(n, (2, 2, 2, 2), seed=14)
    sample = make_sample(labels)
    z = np.random.default_rng(15).normal(size=(n, 3))
    with pytest.raises(ValueError, match="rows"):
        capture(z[:-1], sample)
    with pytest.raises(ValueError, match="shape"):
        capture(z[:, 0], sample)
    nan_z = z.copy()
    nan_z[4, 1] = np.nan
    with pytest.raises(ValueError, match="row 4, column 1"):
        capture(nan_z, sample)
    with pytest.raises(ValueError, match="both"):
        capture(z, sample, z_test=z)
    with pytest.raises(ValueError, match="did you mean 'synergy'"):
        capture(z, sample, terms=("synergie",))
    with pytest.raises(TypeError, match="BimodalSample"):
        capture(z, labels)
    with pytest.raises(ValueError, match="features"):
        capture(z, sample, z_test=z[:, :2], sample_test=sample)
    other = dict(labels, redundancy=labels["redundancy"] + 5)
    with pytest.raises(ValueError, match="do not occur"):
        capture(z, sample, z_test=z, sample_test=make_sample(other), terms=("redundancy",))
    with pytest.raises(ValueError, match="C must be"):
        LogisticProbe(-1.0).fit(z, labels["redundancy"])
    with pytest.raises(ValueError, match="selection"):
        probe_term(z, labels["synergy"], z, labels["synergy"], selection="accuracy")


def test_table_records_which_probe_fits_stopped_at_max_iter():
    # attrs["probe_fits"] records, per term, the fits behind its row: the same fits as probe_term called with
    # capture's per-term seed stream (same bits, accuracy and C), so a caller can see which stopped at
    # max_iter; the record is plain JSON, so the table still serialises (to_parquet writes attrs as JSON).
    n = 900
    labels = uniform_labels(n, (3, 2, 4, 2), seed=11)
    z = np.column_stack([labels[t] for t in TERMS]) + np.random.default_rng(12).normal(size=(n, 4))
    sample = make_sample(labels)
    train, test = sample.subset(slice(0, 600)), sample.subset(slice(600, None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProbeConvergenceWarning)
        table = capture(z[:600], train, z_test=z[600:], sample_test=test, seed=5, max_iter=2)
    fits = table.attrs["probe_fits"]
    assert list(fits) == list(TERMS)
    json.dumps(table.attrs)
    for row in table.itertuples(index=False):
        rng = np.random.default_rng(np.random.SeedSequence([5, TERMS.index(row.term)]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProbeConvergenceWarning)
            direct = probe_term(
                z[:600], train.targets[row.term], z[600:], test.targets[row.term], seed=rng, max_iter=2
            )
        assert (direct.bits, direct.balanced_accuracy, direct.C) == (row.bits, row.balanced_accuracy, row.C)
        assert fits[row.term] == {"cut_short": list(direct.cut_short), "converged": direct.converged}
    # two L-BFGS iterations fit nothing to the tolerance; the default 500 fit everything here
    assert all(fit["cut_short"] and not fit["converged"] for fit in fits.values())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProbeConvergenceWarning)
        full = capture(z[:600], train, z_test=z[600:], sample_test=test, seed=5).attrs["probe_fits"]
    assert all(not fit["cut_short"] and fit["converged"] for fit in full.values())
