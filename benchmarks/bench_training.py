"""Training throughput: samples/s of CoMM pre-training, and batched-mask fusion versus one pass per mask.

For each workload (the shipped ``xor`` and ``trifeature_cpu`` configs, CoMM) this times optimisation steps
of the real training path (``interactions.experiment.build`` -> ``Trainer.step`` on ``Batches``), with the
fusion transformer running all masks in one batched pass (``model.batched=true``) and once per mask
(``model.batched=false``). The two variants are measured side by side in the same process, alternating
rounds, and the median round is reported, so load from other processes hits both alike. It also times
drawing one epoch of views in one generator call (``train.views_per=epoch``) versus per batch.

``--ensemble N`` times N seeds of CoMM on ``xor`` trained as one vectorised ensemble (``torch.func``:
``stack_module_state`` + ``vmap`` of ``grad``, one AdamW over the stacked parameters), the option issue 8
suggests for per-operation overhead, against N eager ``Trainer`` steps, side by side.

``--eval-batch`` times the probe's feature extraction (``training.evaluation_features``, eval mode, no
gradients) on ``trifeature_cpu`` for Cross and CoMM at several ``train.eval_batch_size`` values, side by side
in alternating rounds: on a CPU the small CNN is fastest in small batches (its activations stay in cache).

``--layout`` times ``trifeature_cpu`` training steps (Cross and CoMM) with the image backbones in the
channels-last layout (the default) against the plain layout, side by side in alternating rounds.

``--main-job`` times the README's main job from scratch (30 runs, two workers) and prints its wall time and
pre-training throughput.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_training.py            # CPU, default sizes
    python benchmarks/bench_training.py --device cuda --steps 50
    OMP_NUM_THREADS=1 python benchmarks/bench_training.py --eval-batch 1024 256 64
    OMP_NUM_THREADS=1 python benchmarks/bench_training.py --layout
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from interactions import config as config_mod
from interactions.devices import resolve_device
from interactions.experiment import build
from interactions.training import Batches

WORKLOADS: dict[str, list[str]] = {
    "xor": [],
    "trifeature_cpu": ["train.n_train=1024"],
}


def _parts(name: str, extra: list[str], device: str):
    exp = config_mod.resolve(name, [*WORKLOADS[name], *extra, "objective.name=comm"], device=device)
    dev = resolve_device(exp.train.device)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        parts = build(exp, dev)
    return parts, exp.train


def time_steps(parts, steps: int, warmup: int = 2) -> float:
    """Seconds per optimisation step (mean over ``steps`` after ``warmup``), views precomputed."""
    batches = list(parts.batches.epoch(1))
    n = len(batches)
    for i in range(warmup):
        parts.trainer.step(*batches[i % n])
    sync = torch.cuda.synchronize if parts.trainer.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for i in range(steps):
        parts.trainer.step(*batches[i % n])
    sync()
    return (time.perf_counter() - start) / steps


def time_views(parts, settings, mode: str) -> float:
    """Seconds to produce every batch of one epoch with ``views_per = mode``."""
    import dataclasses

    s = dataclasses.replace(settings, views_per=mode)
    b = Batches(
        parts.generator, parts.batches.sample, s, parts.batches.n_views, parts.seeds, parts.trainer.device
    )
    start = time.perf_counter()
    for _ in b.epoch(1):
        pass
    return time.perf_counter() - start


def time_eval_features(
    batch_sizes: list[int],
    objectives: tuple[str, ...] = ("cross", "comm"),
    n: int = 2048,
    rounds: int = 3,
    extra: tuple[str, ...] = (),
) -> None:
    """Print seconds per 1,000 pairs of ``evaluation_features`` on ``trifeature_cpu`` per objective and eval
    batch size (median of ``rounds`` alternating rounds), and each size's speed-up over the first.
    ``extra``: more config overrides (the tests shrink the samples with them)."""
    from interactions.training import evaluation_features, to_device

    print(f"torch {torch.__version__}, CPU, threads {torch.get_num_threads()}, {n} pairs per pass")
    header = f"{'objective':<12}" + "".join(f"{f'batch {b} s/1k':>16}" for b in batch_sizes) + "  speed-up"
    print(header)
    print("-" * len(header))
    for name in objectives:
        overrides = [*extra, f"probe.n_train={n}", f"objective.name={name}"]
        exp = config_mod.resolve("trifeature_cpu", overrides, device="cpu")
        with torch.random.fork_rng():
            parts = build(exp, torch.device("cpu"))
        sample = parts.eval_samples[0]
        x1, x2 = to_device(sample.x1, torch.device("cpu")), to_device(sample.x2, torch.device("cpu"))
        times: dict[int, list[float]] = {b: [] for b in batch_sizes}
        for _ in range(rounds):
            for b in batch_sizes:
                start = time.perf_counter()
                evaluation_features(parts.model, parts.objective, x1, x2, b, False)
                times[b].append((time.perf_counter() - start) * 1000 / n)
        med = {b: statistics.median(t) for b, t in times.items()}
        ratios = " / ".join(f"{med[batch_sizes[0]] / med[b]:.2f}x" for b in batch_sizes[1:])
        print(f"{name:<12}" + "".join(f"{med[b]:>16.2f}" for b in batch_sizes) + f"  {ratios}")


def use_plain_layout(model: torch.nn.Module) -> None:
    """Switch every image backbone of ``model`` to the default (channels-first) layout, in place."""
    from interactions.models.encoders import AlexNetFeatures, SmallCNN, set_layout

    for module in model.modules():
        if isinstance(module, (SmallCNN, AlexNetFeatures)):
            set_layout(module, False)


def time_layouts(
    steps: int, rounds: int, objectives: tuple[str, ...] = ("cross", "comm"), extra: tuple[str, ...] = ()
) -> None:
    """Print ``trifeature_cpu`` training samples/s with channels-last backbones and with plain ones
    (``extra``: more config overrides)."""
    print(f"torch {torch.__version__}, CPU, threads {torch.get_num_threads()}")
    header = (
        f"{'objective':<12}{'batch':>6}{'channels-last samples/s':>25}{'plain samples/s':>17}{'speed-up':>10}"
    )
    print(header)
    print("-" * len(header))
    for name in objectives:
        exp = config_mod.resolve(
            "trifeature_cpu", ["train.n_train=1024", *extra, f"objective.name={name}"], device="cpu"
        )
        variants = {}
        for layout in ("channels_last", "plain"):
            with torch.random.fork_rng():
                variants[layout] = build(exp, torch.device("cpu"))
        use_plain_layout(variants["plain"].model)
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(rounds):
            for layout, parts in variants.items():
                times[layout].append(time_steps(parts, steps))
        med = {k: statistics.median(t) for k, t in times.items()}
        batch = exp.train.batch_size
        print(
            f"{name:<12}{batch:>6}{batch / med['channels_last']:>25.0f}{batch / med['plain']:>17.0f}"
            f"{med['plain'] / med['channels_last']:>9.2f}x"
        )


def _started(_: int) -> int:
    return 0


def process_start_s(method: str, n: int = 4) -> float:
    """Mean seconds from starting a sweep-worker process to its first result (a trivial function), with
    the sweep's own preload (``sweep_runner.worker_context``) or a plain ``spawn`` context. One untimed
    process goes first: the fork server's own start (its imports, once per sweep) is not counted."""
    import multiprocessing

    from interactions import sweep_runner

    context = sweep_runner.worker_context() if method == "forkserver" else multiprocessing.get_context(method)
    warm_up = context.Process(target=_started, args=(0,))  # waits for the fork server's one-time imports
    warm_up.start()
    warm_up.join()
    total = 0.0
    for _ in range(n):
        start = time.perf_counter()
        process = context.Process(target=_started, args=(0,))
        process.start()
        process.join()
        total += time.perf_counter() - start
    return total / n


def time_main_job(workers: int = 2, out: str | None = None) -> None:
    """Time the README's main job (``interactions sweep xor``) from scratch, in ``out`` or a temporary dir.

    Prints the wall time, the number of runs, the pre-training throughput of the whole job (pre-training
    samples, ``train.n_train`` x epochs x runs, per wall-clock second), and the start-up of one run's worker
    process with the fork server the sweep uses against a plain ``spawn`` (each run imported torch anew
    before). Run it alone on the machine.
    """
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import pandas as pd

    forkserver_s, spawn_s = process_start_s("forkserver"), process_start_s("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(out) if out else Path(tmp) / "xor"
        if target.exists() and any(target.iterdir()):
            raise SystemExit(f"{target} is not empty: the main job must be timed from scratch")
        cmd = [sys.executable, "-m", "interactions", "sweep", "xor", "--workers", str(workers)]
        start = time.perf_counter()
        subprocess.run([*cmd, "--out", str(target), "-q"], check=True)
        wall = time.perf_counter() - start
        table = pd.read_csv(target / "results.csv")
    runs = table["run_id"].nunique()
    cfg = config_mod.resolve("xor").config["train"]
    samples = cfg["n_train"] * cfg["epochs"] * runs
    print(f"README main job: {runs} runs, {workers} workers, {wall:.0f} s wall ({wall / 60:.1f} min)")
    print(
        f"pre-training throughput of the job: {samples / wall:.0f} samples/s "
        f"({wall * workers / runs:.1f} s per run per worker; "
        f"batch {cfg['batch_size']}, {cfg['epochs']} epochs)"
    )
    print(
        f"start-up of one run's process: fork server {forkserver_s:.2f} s, spawn {spawn_s:.2f} s "
        f"({spawn_s / forkserver_s:.1f}x; x {runs} runs / {workers} workers = "
        f"{(spawn_s - forkserver_s) * runs / workers:.0f} s of wall time saved)"
    )


def ensemble_grads(members: list) -> tuple[dict, dict, Any]:
    """CoMM's loss of several seeds' (model, objective) pairs as one vectorised function (``torch.func``).

    Args:
        members: ``build(...)`` parts of CoMM runs with the same configuration (seeds differ).

    Returns:
        ``(params, buffers, grads_of)``: the members' parameters stacked along a new first axis (leaf
        tensors), their stacked buffers, and ``grads_of(params, buffers, x1a, x2a, x1b, x2b) -> {name: grad}``
        for inputs of shape ``(n_members, B, d)`` (two views of two modalities). The loss is CoMM's
        (``head`` + ``comm_terms`` + ``weighted_mean``) without its logged terms, which convert to Python
        floats and cannot run under ``vmap``.
    """
    import copy

    from torch import nn
    from torch.func import functional_call, grad, stack_module_state, vmap

    from interactions.objectives.functional import comm_terms, weighted_mean

    class Loss(nn.Module):
        def __init__(self, model: nn.Module, objective: nn.Module) -> None:
            super().__init__()
            self.model, self.objective = model, objective

        def forward(self, *x: torch.Tensor) -> torch.Tensor:
            o = self.objective
            emb = [o.embed(self.model, x[2 * v], x[2 * v + 1], v, None) for v in range(2)]
            first, second = ([o.head(e[s]) for s in o.subsets] for e in emb)
            return weighted_mean(comm_terms(first, second, o.temperature), o.weights)

    modules = [Loss(copy.deepcopy(m.model), copy.deepcopy(m.objective)).train() for m in members]
    params, buffers = stack_module_state(modules)
    skeleton = copy.deepcopy(modules[0]).to("meta")
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    grads_of = vmap(grad(lambda p, b, *x: functional_call(skeleton, (p, b), x)), randomness="different")
    return params, buffers, grads_of


def stacked_views(batches: list, i: int) -> list[torch.Tensor]:
    """Batch ``i`` of every member as ``[x1 view 1, x2 view 1, x1 view 2, x2 view 2]``, (n_members, B, d)."""
    views = [b[i][0] for b in batches]
    return [torch.stack([v[view][m] for v in views]) for view in range(2) for m in range(2)]


def time_ensemble(n_members: int, steps: int, rounds: int) -> tuple[float, float]:
    """Seconds for ``n_members`` eager CoMM steps on ``xor`` (one ``Trainer`` per seed) and for one vmapped
    step of the same seeds on the same batches (``ensemble_grads`` + one AdamW over the stacked parameters);
    medians of ``rounds`` alternating rounds of ``steps``."""
    members = [
        build(
            config_mod.resolve("xor", [f"seed={s}", "objective.name=comm"], device="cpu"), torch.device("cpu")
        )
        for s in range(n_members)
    ]
    batches = [list(m.batches.epoch(1))[: steps + 1] for m in members]
    params, buffers, grads_of = ensemble_grads(members)
    optimizer = torch.optim.AdamW(list(params.values()), lr=1e-3)

    def ensemble_step(i: int) -> None:
        for key, g in grads_of(params, buffers, *stacked_views(batches, i)).items():
            params[key].grad = g
        optimizer.step()

    def eager_steps(i: int) -> None:
        for m, b in zip(members, batches):
            m.trainer.step(*b[i])

    ensemble_step(0)  # warm-up
    eager_steps(0)
    times: dict[str, list[float]] = {"eager": [], "ensemble": []}
    for _ in range(rounds):
        for name, step in (("eager", eager_steps), ("ensemble", ensemble_step)):
            start = time.perf_counter()
            for i in range(1, steps + 1):
                step(i)
            times[name].append((time.perf_counter() - start) / steps)
    return statistics.median(times["eager"]), statistics.median(times["ensemble"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per variant")
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--main-job", action="store_true", help="time the README's main job instead")
    parser.add_argument("--out", default=None, help="with --main-job: its results directory (empty)")
    parser.add_argument(
        "--ensemble", type=int, default=0, help="time N seeds as one vmapped ensemble instead"
    )
    parser.add_argument(
        "--eval-batch", type=int, nargs="+", default=None,
        help="time trifeature_cpu feature extraction at these eval batch sizes instead",
    )  # fmt: skip
    parser.add_argument("--layout", action="store_true", help="time channels-last against plain backbones")
    args = parser.parse_args(argv)
    if args.layout:
        time_layouts(args.steps, args.rounds)
        return
    if args.eval_batch:
        if any(b < 1 for b in args.eval_batch):
            parser.error(f"--eval-batch sizes must be >= 1, got {args.eval_batch}")
        time_eval_features(args.eval_batch, rounds=args.rounds)
        return
    if args.main_job:
        time_main_job(out=args.out)
        return
    if args.ensemble:
        torch.set_num_threads(1)
        eager, ensemble = time_ensemble(args.ensemble, args.steps, args.rounds)
        batch = config_mod.resolve("xor").train.batch_size
        print(
            f"xor, CoMM, batch {batch}, one thread: {args.ensemble} eager "
            f"steps {eager * 1e3:.1f} ms, one vmapped ensemble step of {args.ensemble} seeds "
            f"{ensemble * 1e3:.1f} ms ({eager / ensemble:.2f}x)"
        )
        return

    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    rows = []
    for name in args.workloads:
        variants = {b: _parts(name, [f"model.batched={b}"], args.device) for b in (True, False)}
        batch = variants[True][1].batch_size
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for batched, (parts, _) in variants.items():
                times[batched].append(time_steps(parts, args.steps))
        med = {b: statistics.median(t) for b, t in times.items()}
        parts, settings = variants[True]
        view_epoch, view_batch = time_views(parts, settings, "epoch"), time_views(parts, settings, "batch")
        rows.append(
            (
                name,
                batch,
                batch / med[True],
                batch / med[False],
                med[False] / med[True],
                view_epoch,
                view_batch,
                parts.batches.steps,
            )
        )
    header = (
        f"{'workload':<16}{'batch':>6}{'batched samples/s':>19}{'per-mask samples/s':>20}{'speed-up':>10}"
        f"{'views/epoch s (1 call)':>24}{'(per batch)':>13}{'steps':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, batch, fast, slow, ratio, v_epoch, v_batch, steps in rows:
        print(
            f"{name:<16}{batch:>6}{fast:>19.0f}{slow:>20.0f}{ratio:>9.2f}x{v_epoch:>24.3f}{v_batch:>13.3f}"
            f"{steps:>7}"
        )


if __name__ == "__main__":
    main()
