"""Generator throughput, peak memory, and the untrained-encoder floor of ``xor``.

Run: ``python benchmarks/bench_generators.py`` (about a minute on one CPU core; ``--quick`` for less).

Prints:

1. samples/s and peak traced memory of ``xor`` (``sample`` and ``views``) and ``gaussian``;
2. image pairs/s of ``trifeature`` at its default size and at 224 px, when ``trifeature`` is registered (its
   first call renders the image banks and is reported separately as setup time), and the renderer's
   images/s at 224 px (fresh nuisance, one thread, as ``views`` draws them; wall and per CPU-second)
   against the official renderer's
   6 images/s (CoMM's ``dataset/trifeatures.py``, per-pixel Python loops; the issue's measurement): the
   ratio must be at least 100;
3. the *floor* of ``xor``'s defaults: what a linear probe reads from a randomly initialised encoder, per
   term. Each modality goes through its own untrained MLP (2 hidden ReLU layers of width 256, PyTorch
   default init), the two feature vectors are concatenated (a late-fusion encoder at epoch 0), and the
   toolkit's probe (``estimators.capture``, the one every training run uses) is scored on fresh unbiased
   test rows. bits = H(T) - CE (bits), a lower bound on I(Z; T). With the xor defaults (coupling 1) a
   pooled random MLP reads almost all of each unique bit; that is why the shipped ``xor`` config gives
   the baselines CoMM's transformer encoder, whose floors every run reports;
4. the matching ceiling: a trained MLP classifier's accuracy on each term from the observed data.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import generators  # noqa: E402
from generators.base import Generator  # noqa: E402
from interactions.types import BimodalSample  # noqa: E402

_SIZE_FIELDS = ("image_size", "size", "resolution")


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn`` once; return (result, seconds, peak traced memory in MiB)."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def random_encoder_features(x: np.ndarray, width: int, seed: int) -> np.ndarray:
    """Features of an untrained MLP (Linear-ReLU-Linear-ReLU, PyTorch default init). (n, d) -> (n, width).

    The global torch RNG is forked, so the caller's random state is untouched.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = torch.nn.Sequential(
            torch.nn.Linear(x.shape[1], width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, width),
            torch.nn.ReLU(),
        )
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def untrained_floor(gen: Generator, n_train: int = 3000, n_test: int = 2000, width: int = 256, seed: int = 0):
    """Per-term floor of a late-fusion untrained encoder on ``gen.unbiased()`` (see module docstring).

    Returns:
        pandas DataFrame with columns ``term, balanced_accuracy, bits, true_bits, fraction, raw_x_bits``
        (``raw_x_bits``: the same probe on the concatenated raw observations, for comparison).
    """
    import pandas as pd

    from estimators import capture

    gen = gen.unbiased()
    train, test = gen.sample(n_train, seed=seed), gen.sample(n_test, seed=seed, split="test")

    def features(s: BimodalSample) -> np.ndarray:
        flat = [s.x1.reshape(len(s), -1), s.x2.reshape(len(s), -1)]
        return np.hstack([random_encoder_features(x, width, seed=2 * seed + i) for i, x in enumerate(flat)])

    def raw(s: BimodalSample) -> np.ndarray:
        return np.hstack([s.x1.reshape(len(s), -1), s.x2.reshape(len(s), -1)])

    # the toolkit's own probe, exactly as every training run uses it (estimators.capture)
    learned = capture(features(train), train, z_test=features(test), sample_test=test, seed=seed)
    plain = capture(raw(train), train, z_test=raw(test), sample_test=test, seed=seed)
    rows = [
        (r.term, r.balanced_accuracy, r.bits, r.true_bits, r.capture, p.bits)
        for r, p in zip(learned.itertuples(), plain.itertuples())
    ]
    return pd.DataFrame(
        rows, columns=["term", "balanced_accuracy", "bits", "true_bits", "fraction", "raw_x_bits"]
    )


def flexible_ceiling(
    gen: Generator, n_train: int = 4000, n_test: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Accuracy of a trained MLP (sklearn, 2 x 128 ReLU) reading each xor term from observed data.

    redundancy and unique_1 are read from x1, unique_2 from x2; synergy is the XOR of an MLP's s1 read
    from x1 and another's s2 read from x2 (the bits of ``latents``), i.e. from both modalities together.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    gen = gen.unbiased()
    train, test = gen.sample(n_train, seed=seed), gen.sample(n_test, seed=seed, split="test")

    def read(x_name: str, label: Callable[[BimodalSample], np.ndarray]) -> np.ndarray:
        clf = MLPClassifier((128, 128), max_iter=300, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(getattr(train, x_name), label(train))
        return clf.predict(getattr(test, x_name))

    def code(key: str) -> Callable[[BimodalSample], np.ndarray]:
        return lambda s: s.latents[key].astype(np.int64) @ (1 << np.arange(s.latents[key].shape[1]))

    out = {
        "redundancy": read("x1", lambda s: s.targets["redundancy"]),
        "unique_1": read("x1", lambda s: s.targets["unique_1"]),
        "unique_2": read("x2", lambda s: s.targets["unique_2"]),
        "synergy": read("x1", code("s1")) ^ read("x2", code("s2")),
    }
    return {term: float(np.mean(pred == test.targets[term])) for term, pred in out.items()}


def bench_vectors(name: str, n: int) -> None:
    gen = generators.make(name)
    sample, seconds, peak = timed(lambda: gen.sample(n, seed=0))
    print(f"{name:10s} sample  n={n:>7d}  {n / seconds:>12,.0f} samples/s  peak {peak:8.1f} MiB")
    _, seconds, peak = timed(lambda: gen.views(sample, seed=1))
    print(f"{name:10s} views   n={n:>7d}  {n / seconds:>12,.0f} samples/s  peak {peak:8.1f} MiB")


def bench_images(name: str, n: int, sizes: list[int | None]) -> None:
    cls = generators.GENERATORS[name]
    size_field = next((f.name for f in dataclasses.fields(cls) if f.name in _SIZE_FIELDS), None)
    for size in sizes:
        params = {} if size is None or size_field is None else {size_field: size}
        gen = generators.make(name, **params)
        _, setup, setup_peak = timed(lambda g=gen: g.sample(1, seed=0))
        sample, seconds, peak = timed(lambda g=gen: g.sample(n, seed=1))
        shape = "x".join(map(str, sample.x1.shape[1:]))
        print(
            f"{name:10s} {shape:>10s} first call {setup:6.1f} s (peak {setup_peak:7.1f} MiB); "
            f"then n={n}: {n / seconds:>9,.0f} image pairs/s, peak {peak:7.1f} MiB"
        )


#: Images/s of the official Trifeature renderer at 224 px (issue 11's measurement).
OFFICIAL_IMAGES_PER_S = 6.0


def bench_trifeature_renderer(n: int, sizes: tuple[int, ...] = (224, 64)) -> None:
    """Images/s of ``trifeature_render.render`` with fresh nuisance, and the ratio to the official."""
    from generators.trifeature_render import render

    rng = np.random.default_rng(0)
    codes = [rng.integers(0, 10, n) for _ in range(3)]
    render(*(c[:200] for c in codes), 224, rng)  # warm the rotated-template and texel caches
    for size in sizes:
        cpu = time.process_time()
        _, seconds, peak = timed(lambda s=size: render(*codes, s, np.random.default_rng(1), threads=1))
        cpu = time.process_time() - cpu
        wall, per_cpu = n / seconds, n / cpu
        ratio = f"; {per_cpu / OFFICIAL_IMAGES_PER_S:,.0f}x the official 6 images/s" if size == 224 else ""
        print(
            f"trifeature render {size:>3d} px  n={n}, one thread: {wall:>7,.0f} images/s wall, "
            f"{per_cpu:>7,.0f} per CPU-second (what a dedicated core gives, robust to a shared machine)"
            f"{ratio}; peak {peak:.0f} MiB"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args(argv)
    n_vec = 20_000 if args.quick else 200_000
    print("== throughput")
    bench_vectors("xor", n_vec)
    bench_vectors("gaussian", n_vec)
    if "trifeature" in generators.names():
        bench_trifeature_renderer(500 if args.quick else 2000)
        bench_images("trifeature", 256 if args.quick else 1024, [None] if args.quick else [None, 224])
    else:
        print("trifeature not registered: skipped")
    print("\n== untrained-encoder floor of xor (defaults), late fusion of two random 256-wide MLPs")
    start = time.perf_counter()
    n_train, n_test = (1000, 1000) if args.quick else (3000, 2000)
    table = untrained_floor(generators.make("xor"), n_train=n_train, n_test=n_test)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"(n_train={n_train}, n_test={n_test}, {time.perf_counter() - start:.1f} s)")
    if not args.quick:
        print(
            "\n== flexible-classifier ceiling of xor (defaults): MLP 2x128 accuracy, 4000 train / 2000 test"
        )
        start = time.perf_counter()
        ceiling = flexible_ceiling(generators.make("xor"))
        print("  ".join(f"{term} {acc:.3f}" for term, acc in ceiling.items()))
        print(
            f"(r, u1 from x1; u2 from x2; synergy = XOR of s1 read from x1 and s2 read from x2; "
            f"{time.perf_counter() - start:.1f} s)"
        )


if __name__ == "__main__":
    main()
