"""Time the per-term probe (``estimators.capture``) against the same protocol run with sklearn.

Both sides do the same work for each of the four terms: standardise, fit along the C grid on a 60/40
stratified hold-out of the training rows (warm starts), pick C by hold-out cross-entropy, refit on all
training rows, score the test rows. Run on one core:

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_probe.py
    ... python benchmarks/bench_probe.py --n-train 8000 --n-test 4000 --dim 512 --classes 10

It also times the probe with ``precision="float32"`` (the feature products in float32) and with the C path's
early stop (``patience=2``, the default before the whole grid) beside the default float64 whole-grid one, and
prints the probes' numbers and how many fits stopped at ``max_iter`` (500, both sides; ours counted on every
fit, chosen or not).

``--features mixed`` mixes the features with a random invertible matrix whose singular values fall from 1
to 10^-3.5 (covariance eigenvalues over 7 decades, like a trained encoder's: on a Trifeature Cross encoder
they span 9e-6 ... 252): the same information, the conditioning of real network features. ``isotropic``
(the default) keeps the independent noise dimensions.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, log_loss

from estimators import capture
from estimators.information import NATS_TO_BITS, entropy_bits
from estimators.probe import DEFAULT_CS, ProbeConvergenceWarning, standardize, stratified_split
from interactions.types import TERMS, BimodalSample, InteractionSpec


def make_data(n_train: int, n_test: int, dim: int, n_classes: int, features: str, seed: int = 0):
    """Features with a linear signal of each term's label in a few directions, plus noise dims; with
    ``features="mixed"`` all of them mixed by a random matrix with singular values 1 ... 10^-3.5."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    targets = {t: rng.integers(0, n_classes, n) for t in TERMS}
    z = rng.normal(size=(n, dim))
    for i, t in enumerate(TERMS):
        z[:, i * 4 : i * 4 + 4] += (0.3 * (i + 1)) * rng.normal(size=(n_classes, 4))[targets[t]]
    if features == "mixed":
        left, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
        right, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
        z = z @ (left * 10.0 ** (-3.5 * np.arange(dim) / max(dim - 1, 1))) @ right.T
    spec = InteractionSpec(*([float(np.log2(n_classes))] * 4))
    zeros = np.zeros((n, 1), np.float32)
    sample = BimodalSample(zeros, zeros, targets, {}, spec)
    return z[:n_train], sample.subset(slice(0, n_train)), z[n_train:], sample.subset(slice(n_train, None))


def sklearn_capture(z, sample, z_test, sample_test, seed: int = 0) -> list[tuple[float, float]]:
    """The same protocol with sklearn's LogisticRegression (lbfgs, warm starts); (bits, bal.acc) per term."""
    out = []
    for i, term in enumerate(TERMS):
        rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
        y, y_test = sample.targets[term], sample_test.targets[term]
        x, x_test = standardize(z, z_test)
        fit_idx, val_idx = stratified_split(y, 0.4, rng)
        model = LogisticRegression(warm_start=True, max_iter=500, tol=1e-5)  # ConvergenceWarning if cut
        scores: dict[float, float] = {}
        for c in DEFAULT_CS:  # the whole grid, as the probe fits it
            model.set_params(C=c).fit(x[fit_idx], y[fit_idx])
            scores[c] = log_loss(y[val_idx], model.predict_proba(x[val_idx]), labels=model.classes_)
        best = min(scores, key=scores.get)
        model.set_params(C=best).fit(x, y)
        ce = log_loss(y_test, model.predict_proba(x_test), labels=model.classes_) * NATS_TO_BITS
        out.append((entropy_bits(y_test) - ce, balanced_accuracy_score(y_test, model.predict(x_test))))
    return out


def count_cut_fits(table) -> int:
    """How many of ``capture``'s probe fits stopped at max_iter, chosen or not, hold-out path and refit
    (the probe itself only warns about the chosen one), from the table's record of each term's fits."""
    return sum(len(f["cut_short"]) + (not f["converged"]) for f in table.attrs["probe_fits"].values())


def best_time(fn, repeats: int):
    """(fastest of ``repeats`` calls in seconds, the last call's result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--features", choices=("isotropic", "mixed"), default="isotropic")
    args = parser.parse_args()
    z, sample, z_test, sample_test = make_data(
        args.n_train, args.n_test, args.dim, args.classes, args.features
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref_values = sklearn_capture(z, sample, z_test, sample_test)
        ref_cut = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", ProbeConvergenceWarning)
    ours, table = best_time(lambda: capture(z, sample, z_test=z_test, sample_test=sample_test), args.repeats)
    ours_cut = count_cut_fits(table)
    fast, table32 = best_time(
        lambda: capture(z, sample, z_test=z_test, sample_test=sample_test, precision="float32"), args.repeats
    )
    early, table_early = best_time(
        lambda: capture(z, sample, z_test=z_test, sample_test=sample_test, patience=2), args.repeats
    )
    ref, _ = best_time(lambda: sklearn_capture(z, sample, z_test, sample_test), args.repeats)
    print(
        f"n_train={args.n_train} n_test={args.n_test} D={args.dim} K={args.classes}, "
        f"{args.features} features, 4 terms, best of {args.repeats}"
    )
    print(f"fits cut at max_iter        : ours {ours_cut}, sklearn {ref_cut}")
    print(f"estimators.capture          : {ours:.3f} s")
    print(f"estimators.capture, float32 : {fast:.3f} s")
    print(f"estimators.capture, patience=2: {early:.3f} s")
    print(f"sklearn protocol            : {ref:.3f} s")
    print(f"ratio sklearn/ours          : {ref / ours:.1f}x")
    print(f"ratio float64/float32       : {ours / fast:.1f}x")
    print(f"ratio whole grid/early stop : {ours / early:.1f}x")
    rows = zip(
        table[["term", "bits", "balanced_accuracy"]].itertuples(index=False),
        table32[["bits", "balanced_accuracy"]].itertuples(index=False),
        table_early["bits"],
        ref_values,
    )
    for (term, bits, acc), (bits32, acc32), bits_early, (ref_bits, ref_acc) in rows:
        print(
            f"  {term:10s} bits {bits:.4f} (float32 {bits32:.4f}, early stop {bits_early:.4f}, sklearn "
            f"{ref_bits:.4f})  bal.acc {acc:.4f} (float32 {acc32:.4f}, sklearn {ref_acc:.4f})"
        )


if __name__ == "__main__":
    main()
