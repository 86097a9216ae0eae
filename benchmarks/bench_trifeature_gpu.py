"""Training and probing throughput of ``trifeature_paper`` on CUDA with AMP, and the projected sweep time.

Run on a GPU machine: ``python benchmarks/bench_trifeature_gpu.py`` (a few minutes: the official image banks
are drawn first, then each objective trains a few steps). Exits with a clear message when no CUDA device
is available. ``--device cpu --tiny`` is a smoke run of the same code on a CPU (small images and models,
a few steps; its numbers are not a projection of anything).

For each objective of the paper sweep (``sweeps/trifeature_paper.toml``: Cross, Cross+Self, FactorCL, CoMM)
it builds the run exactly as ``interactions run`` does (``interactions.experiment.build``), then measures:

* **train**: pre-training pairs/s of ``Trainer.step`` (views drawn by the run's own batch iterator, AMP as
  configured), after ``--warmup`` steps, over ``--steps`` steps, synchronising the device;
* **features**: probe feature extraction pairs/s (``training.features``, eval mode, AMP);
* **probe fit**: seconds of one ``estimators.capture`` fit on the extracted features (CPU, sklearn).

Projection per run: epochs x n_train / train rate + (evaluations) x ((probe n_train + n_test) / feature
rate + probe fit), with the evaluations of ``TrainSettings.eval_epochs``; the sweep is the sum over its runs
(objectives x biases x seeds), run one after the other on this device. The probe fit is measured on
``--probe-pairs`` pairs and scaled linearly to the config's probe sizes (an approximation, stated).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from interactions import config as config_mod  # noqa: E402
from interactions.config_io import format_value  # noqa: E402
from interactions.experiment import build  # noqa: E402
from interactions.sweep import read_sweep  # noqa: E402
from interactions.training import features, to_device  # noqa: E402

#: Overrides of the smoke run (``--tiny``): small images, a small CNN, few pairs.
TINY = [
    "generator.params.image_size=40",
    "generator.params.official_stream=false",
    "model.encoder='cnn'",
    "model.width=32",
    "model.heads=2",
    "model.cnn_channels=[8, 16, 16]",
    "model.grid=2",
    "train.batch_size=16",
    "train.n_train=64",
    "train.amp=false",
    "probe.n_train=300",
    "probe.n_test=300",
]


@dataclasses.dataclass
class Rates:
    """Measured rates of one objective (pairs/s and seconds)."""

    objective: str
    train_pairs_per_s: float
    feature_pairs_per_s: float
    probe_fit_s: float


def log(message: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def measure(
    objective: str, overrides: list[str], dev: torch.device, steps: int, warmup: int, probe_pairs: int
):
    """Rates of one objective of the paper config on ``dev`` (see the module docstring)."""
    from estimators import capture

    base = [f"objective.name='{objective}'", *overrides]
    batch_size = config_mod.resolve("trifeature_paper", base, device=str(dev)).train.batch_size
    timed = [
        f"train.n_train={(steps + warmup) * batch_size}",  # only the pairs the timed steps need
        "train.eval_every=0",
        f"probe.n_train={probe_pairs}",
        f"probe.n_test={probe_pairs}",
    ]
    exp = config_mod.resolve("trifeature_paper", [*base, *timed], device=str(dev))
    settings = exp.train
    t0 = time.perf_counter()
    parts = build(exp, dev)
    log(f"{objective}: data and model built in {time.perf_counter() - t0:.1f} s")
    trainer, batches = parts.trainer, parts.batches
    done, timed_pairs, start = 0, 0, None
    epoch = 0
    while done < steps + warmup:
        for views, targets in batches.epoch(epoch):
            if done == warmup:
                sync(dev)
                start = time.perf_counter()
            trainer.step(views, targets)
            done += 1
            if done > warmup:
                timed_pairs += len(views[0][0])
            if done >= steps + warmup:
                break
        epoch += 1
    sync(dev)
    train_rate = timed_pairs / (time.perf_counter() - start)
    log(f"{objective}: {steps} timed training steps at {train_rate:,.0f} pairs/s")

    train_sample, test_sample = parts.eval_samples
    x1, x2 = to_device(train_sample.x1, dev), to_device(train_sample.x2, dev)
    features(parts.model, parts.objective, x1[:8], x2[:8], settings.eval_batch_size, trainer.amp)  # warm-up
    sync(dev)
    t0 = time.perf_counter()
    z_train = features(parts.model, parts.objective, x1, x2, settings.eval_batch_size, trainer.amp)
    sync(dev)
    feature_rate = len(x1) / (time.perf_counter() - t0)
    z_test = features(
        parts.model, parts.objective, to_device(test_sample.x1, dev), to_device(test_sample.x2, dev),
        settings.eval_batch_size, trainer.amp,
    )  # fmt: skip
    log(f"{objective}: features at {feature_rate:,.0f} pairs/s; fitting the probe")
    t0 = time.perf_counter()
    capture(z_train, train_sample, z_test=z_test, sample_test=test_sample, seed=0)
    return Rates(objective, train_rate, feature_rate, time.perf_counter() - t0)


def project(rates: Rates, exp: config_mod.Experiment, probe_pairs: int) -> float:
    """Projected seconds of one full run of ``exp`` from measured rates."""
    settings = exp.train
    n_eval = len(settings.eval_epochs())
    probe_n = exp.probe.n_train + exp.probe.n_test
    train_s = settings.epochs * settings.n_train / rates.train_pairs_per_s
    probe_s = n_eval * (probe_n / rates.feature_pairs_per_s + rates.probe_fit_s * probe_n / (2 * probe_pairs))
    return train_s + probe_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu (with --tiny)")
    parser.add_argument("--tiny", action="store_true", help="smoke run: small images and models")
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per objective")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (cudnn autotune, AMP)")
    parser.add_argument("--probe-pairs", type=int, default=2000, help="pairs of the timed feature/probe pass")
    parser.add_argument("--objectives", default=None, help="comma-separated subset of the sweep's objectives")
    args = parser.parse_args(argv)
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("bench_trifeature_gpu: no CUDA device is available; run it on a GPU machine "
              "(or use --device cpu --tiny for a smoke run)", file=sys.stderr)  # fmt: skip
        return 2
    if dev.type != "cuda" and not args.tiny:
        print("bench_trifeature_gpu: the paper protocol on a CPU takes days; use --tiny with --device cpu",
              file=sys.stderr)  # fmt: skip
        return 2
    overrides = list(TINY) if args.tiny else []
    steps, warmup, probe_pairs = (3, 1, 300) if args.tiny else (args.steps, args.warmup, args.probe_pairs)
    spec = read_sweep("trifeature_paper")
    config, grid, seeds = spec.config, spec.grid, spec.seeds
    # each objective's own settings in the sweep (widths, FactorCL's critics and optimiser, Cross's views)
    own = spec.objective_settings()
    objectives = list(grid["objective.name"])
    if args.objectives:
        objectives = [o for o in objectives if o in args.objectives.split(",")]
    n_bias = len(grid.get("generator.params.bias", [0.0]))
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"device: {name}; AMP: {not args.tiny}; sweep: {len(objectives)} objectives x {n_bias} biases x "
          f"{len(seeds)} seeds")  # fmt: skip
    total = 0.0
    print(
        f"{'objective':<11s} {'train pairs/s':>14s} {'feature pairs/s':>16s} {'probe fit s':>12s} "
        f"{'run (h)':>9s}"
    )
    # the objectives share one image bank: rendered by the first, read from this cache by the others
    cache = tempfile.TemporaryDirectory(prefix="bench_trifeature_")
    for objective in objectives:
        extra = [f"{k}={format_value(v)}" for k, v in own.get(objective, {}).items()]
        extra += [*overrides, f"generator.params.cache_dir={format_value(cache.name)}"]  # the smoke sizes win
        rates = measure(objective, extra, dev, steps, warmup, probe_pairs)
        exp = config_mod.resolve("trifeature_paper", [f"objective.name='{objective}'", *extra])
        run_s = project(rates, exp, probe_pairs)
        total += run_s * n_bias * len(seeds)
        print(f"{objective:<11s} {rates.train_pairs_per_s:>14,.1f} {rates.feature_pairs_per_s:>16,.1f} "
              f"{rates.probe_fit_s:>12.3g} {run_s / 3600:>9.3g}")  # fmt: skip
    print(f"projected full sweep ({config}, runs one after the other on this device): {total / 3600:.3g} h")
    cache.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
