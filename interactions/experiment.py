"""One experiment end to end: sample -> pre-train -> probe every few epochs -> write the run directory.

``run`` is the toolkit's main entry point (``interactions.run`` and the CLI's ``run`` call it). The probe's
floor is the same probe on the same architecture at initialisation (epoch 0), as in the CoMM paper's
controlled experiments; pre-training may use a biased generator, the probes always use
``generator.unbiased()`` (spec 4.3).

Run directory (when ``out`` is given, ``out`` is the run's directory):

* ``config.toml``: the resolved config; ``env.json``: versions, device, determinism flags, seed, commit;
* ``metrics.jsonl``: one JSON object per evaluation (epoch, that epoch's mean loss terms, probe rows);
* ``checkpoint.pt``: model, objective, optimisers, scalers, epoch, RNG state and metrics so far, written
  atomically after every ``checkpoint_every`` epochs and every evaluation;
* ``result.json``: written atomically last; its presence means the run finished.

Resuming: a finished directory is loaded without training; an interrupted one continues from its
checkpoint. Because each epoch reseeds its own streams, a resumed CPU run ends with exactly the numbers of
an uninterrupted one, wherever it was stopped (during an epoch, during an evaluation, while writing a file).

Extending: ``run(..., extend=SOURCE)`` starts a fresh run directory from the checkpoint of ``SOURCE``, a run
of the same config with fewer epochs (``EXTENDABLE_KEYS`` may differ, nothing else). Under the constant
learning rate, and with an objective that does not follow the training progress, epoch e of an E-epoch run
is epoch e of any longer run, so the extended run ends with exactly the numbers of one trained straight
through (tested); anything else is refused before training.

Integrity: ``result.json`` carries the SHA-256 of its own content, of the resolved config
(``config_sha256``) and of ``metrics.jsonl``; ``checkpoint.pt`` carries the SHA-256 of its payload and the
config's. A file that fails its check is never reused: a damaged ``result.json`` or ``metrics.jsonl`` is
rebuilt from the last checkpoint, a damaged checkpoint means training again from the start. The stored
config hash, not ``config.toml`` (a copy for people to read), decides whether a directory belongs to the
config being run, so a deleted or edited ``config.toml`` cannot let another config reuse the run.

The run directory's files, checks, lock and continuation live in ``run_directory``; this module trains,
evaluates and writes the result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import config as config_mod
from .atomic import seal
from .config import GENERIC_MODES, Experiment
from .devices import environment, resolve_device
from .run_directory import (
    FINISHED,
    clean_json,
    config_digest,
    metrics_text,
    prepare_dir,
    read_result,
    run_dir_lock,
    seed_from_shorter_run,
    sha256_text,
    write_json,
    write_text,
)
from .training import (
    Batches,
    Seeds,
    Trainer,
    derive,
    evaluation_features,
    features,
    load_checkpoint,
    save_checkpoint,
    to_device,
)
from .types import (
    CAPTURE_COLUMNS,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    ENV_FILE,
    HISTORY_COLUMNS,
    LOSS_COLUMNS,
    METRICS_FILE,
    PROBE,
    PROBE_COLUMNS,
    RESULT_FILE,
    TERMS,
    BimodalSample,
    InteractionSpec,
    Representation,
)


@dataclasses.dataclass
class RunResult:
    """What one run produced.

    Attributes:
        config: the resolved config (every default written out).
        run_dir: the run directory, or None for an in-memory run.
        capture: the final evaluation, one row per term: ``CAPTURE_COLUMNS`` plus the probe's extra columns.
        history: one row per evaluation epoch and term (``HISTORY_COLUMNS`` first); epoch 0 is the
            untrained model, whose capture is the floor.
        losses: one row per epoch and loss term: epoch, name, value (epoch means).
        status: "finished".
        ground_truth: ``InteractionSpec.as_dict()`` (bits) of the probe's test sample (the unbiased
            generator's "test" split): the very truth that ``true_bits`` and ``capture`` divide by.
        feature_dim: width of the probed features.
        elapsed_s: training and evaluation time in seconds (summed over resumed parts).
    """

    config: dict
    run_dir: Path | None
    capture: pd.DataFrame
    history: pd.DataFrame
    losses: pd.DataFrame
    status: str = FINISHED
    ground_truth: dict = dataclasses.field(default_factory=dict)
    feature_dim: int = 0
    elapsed_s: float = 0.0
    reused: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN written as null), the content of ``result.json``."""
        return clean_json(
            {
                "status": self.status,
                "config": self.config,
                "ground_truth": self.ground_truth,
                "feature_dim": self.feature_dim,
                "elapsed_s": self.elapsed_s,
                "capture": self.capture.to_dict(orient="records"),
                "history": self.history.to_dict(orient="records"),
                "losses": self.losses.to_dict(orient="records"),
            }
        )

    @classmethod
    def from_json(cls, data: dict[str, Any], run_dir: Path | None = None) -> RunResult:
        """The inverse of ``to_json``."""
        return cls(
            config=data["config"],
            run_dir=run_dir,
            capture=_frame(data["capture"], CAPTURE_COLUMNS),
            history=_frame(data["history"], HISTORY_COLUMNS, estimator=PROBE),
            losses=_frame(data["losses"], LOSS_COLUMNS),
            status=data["status"],
            ground_truth=data.get("ground_truth", {}),
            feature_dim=int(data.get("feature_dim", 0)),
            elapsed_s=float(data.get("elapsed_s", 0.0)),
        )


def _frame(records: list[dict], columns: tuple[str, ...], **missing: Any) -> pd.DataFrame:
    """``records`` as a frame with ``columns`` first; a column of ``missing`` absent from the records is
    added with its value (``result.json`` files written before that column existed)."""
    df = pd.DataFrame.from_records(records)
    if df.empty:
        return pd.DataFrame(columns=list(columns))
    for col, value in missing.items():
        if col not in df.columns:
            df[col] = value
    for col in df.columns:
        if col not in ("term", "name", "estimator") and df[col].dtype == object:
            try:
                df[col] = pd.to_numeric(df[col])
            except (ValueError, TypeError):
                pass
    order = [c for c in columns if c in df.columns]
    return df[order + [c for c in df.columns if c not in order]]


# ------------------------------------------------------------------------------------------------ a run
#: Arguments of the evaluation callback of ``run``: ``callback(epoch, losses, probe)``.
EvalCallback = Callable[[int, dict, pd.DataFrame], None]


def _representation(model, objective, x: tuple, batch_size: int, amp: bool, subsets: tuple) -> Representation:
    """The frozen features of one evaluation sample: the probe's ``z`` and the embeddings of ``subsets``."""
    z, parts = evaluation_features(model, objective, *x, batch_size, amp, subsets)
    return Representation(z, parts)


def _evaluate(exp: Experiment, model, objective, eval_data, seeds, epoch: int, amp: bool) -> pd.DataFrame:
    """One evaluation: every estimator of ``exp`` on the features of the two evaluation samples.

    Returns the tidy rows (``HISTORY_COLUMNS`` first, estimators' own columns after) without ``floor``,
    which ``_result`` adds from epoch 0.
    """
    (x_train, s_train), (x_test, s_test) = eval_data
    subsets = tuple(sorted({s for e in exp.estimators for s in getattr(e, "needs_subsets", ())}))
    batch = exp.train.eval_batch_size
    z_train = _representation(model, objective, x_train, batch, amp, subsets)
    z_test = _representation(model, objective, x_test, batch, amp, subsets)
    truth = s_test.spec.as_dict()
    frames = []
    for i, estimator in enumerate(exp.estimators):
        seed = seeds.probe if i == 0 else derive(seeds.probe, i)  # one seed per estimator, every epoch
        rows = pd.DataFrame.from_records(estimator.estimate(z_train, s_train, z_test, s_test, seed=seed))
        rows.insert(0, "estimator", estimator.name)
        rows.insert(0, "epoch", epoch)
        if "true_bits" not in rows:
            rows["true_bits"] = rows["term"].map(truth)
        if "capture" not in rows:
            rows["capture"] = rows["bits"] / rows["true_bits"].where(rows["true_bits"] > 0)
        if "feature_dim" not in rows:
            rows["feature_dim"] = z_test.z.shape[1]
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def run(
    config: Any,
    overrides: list[str] | None = None,
    *,
    seed: int | None = None,
    device: str | None = None,
    out: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    callback: EvalCallback | None = None,
    tensorboard: str | Path | None = None,
    extend: str | Path | None = None,
) -> RunResult:
    """Pre-train one model with one objective and measure what it keeps of each interaction term.

    Args:
        config: a shipped config name ("xor", "trifeature_cpu", "trifeature_paper"), a TOML path, a dict,
            or an ``Experiment`` already resolved by ``interactions.config.resolve`` (then ``overrides``,
            ``seed`` and ``device`` must be None: it is run as it is).
        overrides: "dotted.key=value" strings in TOML syntax (``true``, ``1e-3``, ``[32, 64]``, ``"text"``;
            a bare word is text where the key expects text).
        seed: replaces the config's seed.
        device: replaces ``train.device`` ("auto", "cpu", "cuda", ...).
        out: the run directory (created); None keeps everything in memory.
        resume: reuse a finished run in ``out`` or continue an interrupted one; False starts over.
        progress: show a tqdm progress bar.
        callback: called after every evaluation as ``callback(epoch, losses, probe)``: ``epoch`` (int, 0 =
            the untrained model), ``losses`` (dict loss-term name -> that epoch's mean; empty at epoch 0),
            ``probe`` (DataFrame, one row per term with the columns of ``RunResult.history`` except
            ``floor``). A resumed run calls it only for the evaluations it makes itself.
        tensorboard: a log directory for TensorBoard scalars (``loss/<term>``, ``capture/<term>``,
            ``bits/<term>`` per evaluation epoch); needs the optional extra ``tensorboard``.
        extend: the directory of a shorter run of the same config (finished or interrupted) whose
            checkpoint a fresh ``out`` starts from (see ``seed_from_shorter_run``); ignored when ``out``
            already holds this config's run, which is reused or resumed as usual.

    Returns:
        The ``RunResult``; ``capture`` holds the last evaluation with its floor (epoch-0 capture);
        ``reused`` is True when a finished run directory was loaded instead of trained.

    Raises:
        ValueError / TypeError: a bad config, naming the key, before any training.
    """
    if isinstance(config, Experiment):
        if overrides or seed is not None or device is not None:
            raise ValueError("an Experiment is run as resolved: pass overrides, seed and device to resolve()")
        exp = config
    else:
        exp = config_mod.resolve(config, overrides, seed=seed, device=device)
    if out is None:
        if extend is not None:
            raise ValueError(f"extend={str(extend)!r} needs a run directory (out) to continue in")
        return _run_resolved(exp, None, resume, progress, callback, tensorboard)
    run_dir = Path(out)
    if extend is not None and Path(extend).resolve() == run_dir.resolve():
        raise ValueError(
            f"extend and out are the same directory {str(run_dir)!r}; give the longer run its own"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    with run_dir_lock(run_dir):
        return _run_resolved(exp, run_dir, resume, progress, callback, tensorboard, extend)


def _run_resolved(
    exp: Experiment,
    run_dir: Path | None,
    resume: bool,
    progress: bool,
    callback: EvalCallback | None,
    tensorboard: str | Path | None,
    extend: str | Path | None = None,
) -> RunResult:
    """``run`` once its config is resolved (and its directory locked): reuse, resume, extend or train."""
    cfg = exp.config
    state = "fresh"
    if run_dir is not None:
        state = prepare_dir(run_dir, exp.config, resume)
        if state == "fresh" and extend is not None:
            seed_from_shorter_run(Path(extend), exp, run_dir)
            state = "resume"
        if state == "done":
            text = config_mod.to_toml(cfg)
            stored = run_dir / CONFIG_FILE
            if not stored.exists() or stored.read_text(encoding="utf-8", errors="replace") != text:
                write_text(stored, text)  # a readable copy; the run's identity is the hash in result.json
            data = json.loads((run_dir / RESULT_FILE).read_text(encoding="utf-8"))
            return dataclasses.replace(RunResult.from_json(data, run_dir), reused=True)
    settings = exp.train
    check_sizes(exp)
    dev = resolve_device(settings.device)
    watchers = [callback] if callback is not None else []
    writer = _tensorboard_writer(tensorboard) if tensorboard is not None else None
    if writer is not None:
        watchers.append(functools.partial(_log_scalars, writer))
    threads = torch.get_num_threads()
    if settings.num_threads:
        torch.set_num_threads(settings.num_threads)
    forked = (
        [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
    )
    try:
        with torch.random.fork_rng(devices=forked), _blas_threads(settings.num_threads):
            return _run(exp, dev, run_dir, state, progress, watchers)
    finally:
        torch.set_num_threads(threads)
        if writer is not None:
            writer.close()


def _blas_threads(n: int) -> contextlib.AbstractContextManager:
    """numpy/scipy BLAS threads limited to ``n`` (0: unchanged), so the probe, too, computes the same
    numbers in a sweep worker as in the main process."""
    if not n:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


def _tensorboard_writer(log_dir: str | Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ImportError(
            "tensorboard=... needs TensorBoard, an optional extra: "
            "pip install 'comm-interactions[tensorboard]'"
        ) from err
    return SummaryWriter(log_dir=str(log_dir))


def _log_scalars(writer: Any, epoch: int, losses: dict, probe: pd.DataFrame) -> None:
    for name, value in losses.items():
        writer.add_scalar(f"loss/{name}", value, epoch)
    for row in probe.itertuples(index=False):
        writer.add_scalar(f"capture/{row.term}", row.capture, epoch)
        writer.add_scalar(f"bits/{row.term}", row.bits, epoch)
    writer.flush()


def check_sizes(exp: Experiment) -> None:
    """Refuse sample sizes of a resolved experiment whose inputs would not fit in memory, before allocating.

    Raises:
        ValueError: naming the key (``train.n_train``, ``probe.n_train`` or ``probe.n_test``), its value, the
            estimated size and the limit (``generators.base.check_fits_in_memory``).
    """
    from generators.base import check_fits_in_memory

    shapes = exp.generator.shapes
    for section, key, n in (
        ("train", "n_train", exp.train.n_train),
        ("probe", "n_train", exp.probe.n_train),
        ("probe", "n_test", exp.probe.n_test),
    ):
        check_fits_in_memory(f"{section}.{key}={n}", shapes, n)


@dataclasses.dataclass
class Parts:
    """Everything ``_run`` trains and evaluates, built from an ``Experiment`` (also used by the benchmarks).

    ``eval_samples`` are the unbiased generator's (split "train", split "test") samples every estimator
    sees; ``truth`` is the test sample's spec, the truth that rows divide by and ``result.json`` stores.
    """

    generator: Any
    unbiased: Any
    seeds: Seeds
    model: torch.nn.Module
    objective: torch.nn.Module
    trainer: Trainer
    batches: Batches
    eval_samples: tuple[BimodalSample, BimodalSample]

    @property
    def truth(self) -> InteractionSpec:
        return self.eval_samples[1].spec


def draw_eval_samples(exp: Experiment) -> tuple[BimodalSample, BimodalSample]:
    """The run's probe samples: ``probe.n_train`` unbiased pairs of split "train" and ``probe.n_test`` of
    split "test", from the run's ``data`` seed (the same draws whenever they are asked for)."""
    seeds, unbiased = Seeds.from_seed(exp.seed), exp.generator.unbiased()
    return (
        unbiased.sample(exp.probe.n_train, seed=derive(seeds.data, 1), split="train"),
        unbiased.sample(exp.probe.n_test, seed=derive(seeds.data, 2), split="test"),
    )


def trained_networks(
    exp: Experiment, state: dict[str, Any], dev: torch.device
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Model and objective of ``exp`` with the weights of a checkpoint's ``state`` (``load_checkpoint``),
    in eval mode; the caller's torch random state is left alone."""
    from .models import build_model

    with torch.random.fork_rng(devices=[]):  # initial weights are overwritten; keep the caller's RNG
        model = build_model(exp.objective.cls.architecture, exp.generator.shapes, **exp.model).to(dev)
        objective = exp.objective.cls(model.dims, **exp.objective.params).to(dev)
    model.load_state_dict(state["trainer"]["model"])
    objective.load_state_dict(state["trainer"]["objective"])
    return model.eval(), objective.eval()


def build(exp: Experiment, dev: torch.device) -> Parts:
    """Draw the samples and build model, objective, trainer and batches of a resolved experiment.

    Nothing is looked up here: the generator, the objective class and every setting come from ``exp``.
    Uses the process-wide torch generator (seeded here from the run's ``init`` seed): call it inside
    ``torch.random.fork_rng`` to leave the caller's random state alone, as ``run`` does.
    """
    from .models import build_model

    settings, gen, spec = exp.train, exp.generator, exp.objective
    seeds = Seeds.from_seed(exp.seed)
    unbiased = gen.unbiased()
    pretrain = gen.sample(settings.n_train, seed=derive(seeds.data, 0), split="train")
    eval_samples = draw_eval_samples(exp)
    torch.manual_seed(seeds.init)
    model = build_model(spec.cls.architecture, gen.shapes, **exp.model).to(dev)
    objective = spec.cls(model.dims, **spec.params).to(dev)
    trainer = Trainer(model, objective, settings, dev, seed=seeds.init)
    augmenters = _generic_augmenters(settings, gen) if settings.augment in GENERIC_MODES else None
    batches = Batches(gen, pretrain, settings, spec.cls.n_views, seeds, dev, augmenters)
    return Parts(gen, unbiased, seeds, model, objective, trainer, batches, eval_samples)


def _run(
    exp: Experiment,
    dev: torch.device,
    run_dir: Path | None,
    state: str,
    progress: bool,
    watchers: list[EvalCallback] | None = None,
) -> RunResult:
    from tqdm.auto import tqdm

    started = time.perf_counter()
    cfg, settings = exp.config, exp.train
    parts = build(exp, dev)
    seeds, model, objective = parts.seeds, parts.model, parts.objective
    trainer, batches = parts.trainer, parts.batches
    eval_data = [((to_device(s.x1, dev), to_device(s.x2, dev)), s) for s in parts.eval_samples]

    history: list[pd.DataFrame] = []
    losses: list[dict] = []
    metrics: list[dict] = []
    start, elapsed_before = 0, 0.0
    digest = config_digest(cfg)
    if state == "resume":
        ckpt = load_checkpoint(run_dir / CHECKPOINT_FILE, dev)  # type: ignore[operator]
        trainer.load_state_dict(ckpt["trainer"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        start, losses, metrics, history = ckpt["epoch"], ckpt["losses"], ckpt["metrics"], ckpt["history"]
        elapsed_before = ckpt["elapsed_s"]
    if run_dir is not None:
        write_text(run_dir / CONFIG_FILE, config_mod.to_toml(cfg))
        write_json(run_dir / ENV_FILE, environment(dev, cfg["seed"]))
        write_text(run_dir / METRICS_FILE, metrics_text(metrics))

    def checkpoint(epoch: int) -> None:
        if run_dir is None:
            return
        save_checkpoint(
            run_dir / CHECKPOINT_FILE,
            {
                "trainer": trainer.state_dict(),
                "epoch": epoch,
                "rng": {"torch": torch.get_rng_state()},
                "losses": losses,
                "metrics": metrics,
                "history": history,
                "elapsed_s": elapsed_before + time.perf_counter() - started,
                "config_sha256": digest,
            },
        )

    def evaluate(epoch: int, epoch_losses: dict[str, float]) -> None:
        df = _evaluate(exp, model, objective, eval_data, seeds, epoch, trainer.amp)
        history.append(df)
        probe_rows = df.loc[df["estimator"] == PROBE, [c for c in PROBE_COLUMNS if c in df.columns]]
        record = {"epoch": epoch, "losses": epoch_losses, "probe": probe_rows.to_dict("records")}
        others = df[df["estimator"] != PROBE]
        if not others.empty:
            record["estimators"] = others.drop(columns="epoch").dropna(axis=1, how="all").to_dict("records")
        metrics.append(clean_json(record))
        if run_dir is not None:
            with open(run_dir / METRICS_FILE, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(metrics[-1]) + "\n")
        for watch in watchers or ():
            probe = df[df["estimator"] == PROBE].drop(columns="epoch").dropna(axis=1, how="all")
            watch(epoch, dict(epoch_losses), probe.reset_index(drop=True))

    eval_epochs = set(settings.eval_epochs())
    if state != "resume":  # a checkpoint, even of epoch 0, already holds the epoch-0 evaluation
        evaluate(0, {})
        checkpoint(0)
    bar = tqdm(
        total=settings.epochs * batches.steps,
        initial=start * batches.steps,
        disable=not progress,
        desc=f"{cfg['objective']['name']} on {cfg['generator']['name']}",
        unit="step",
    )
    try:
        for epoch in range(start + 1, settings.epochs + 1):
            torch.manual_seed(derive(seeds.init, epoch))
            means = trainer.train_epoch(batches.epoch(epoch), epoch, bar)
            losses.extend({"epoch": epoch, "name": k, "value": v} for k, v in means.items())
            bar.set_postfix(loss=f"{means.get('loss', float('nan')):.3f}")
            if epoch in eval_epochs:
                evaluate(epoch, means)
            if epoch in eval_epochs or epoch % settings.checkpoint_every == 0:
                checkpoint(epoch)
    finally:
        bar.close()
    result = _result(
        cfg, run_dir, history, losses, parts.truth, elapsed_before + time.perf_counter() - started
    )
    if run_dir is not None:
        text = metrics_text(metrics)
        write_text(run_dir / METRICS_FILE, text)
        sealed = {**result.to_json(), "config_sha256": digest, "metrics_sha256": sha256_text(text)}
        write_json(run_dir / RESULT_FILE, seal(clean_json(sealed)))
    return result


def _generic_augmenters(settings, gen) -> tuple[Any, Any]:
    from .augment import ImageAugment, VectorAugment

    out = []
    for shape in gen.shapes:
        cls = ImageAugment if len(shape) > 1 else VectorAugment
        out.append(cls(**settings.augment_params))
    return out[0], out[1]


def _result(cfg, run_dir, history, losses, truth, elapsed: float) -> RunResult:
    hist = pd.concat(history, ignore_index=True)
    keys = ["estimator", "term"]
    floor = hist[hist["epoch"] == 0].set_index(keys)["capture"]
    hist["floor"] = floor.reindex(pd.MultiIndex.from_frame(hist[keys])).to_numpy()
    order = [c for c in HISTORY_COLUMNS if c in hist.columns]
    hist = hist[order + [c for c in hist.columns if c not in order]]
    estimators = list(dict.fromkeys(hist["estimator"]))  # evaluation order: the probe first
    hist["term"] = pd.Categorical(hist["term"], categories=list(TERMS), ordered=True)
    hist["estimator"] = pd.Categorical(hist["estimator"], categories=estimators, ordered=True)
    hist = hist.sort_values(["epoch", *keys]).reset_index(drop=True)
    hist[keys] = hist[keys].astype(str)
    final = hist[(hist["epoch"] == hist["epoch"].max()) & (hist["estimator"] == PROBE)]
    probe_columns = [c for c in (*CAPTURE_COLUMNS, *PROBE_COLUMNS) if c in final.columns]
    last = final[list(dict.fromkeys(probe_columns))].reset_index(drop=True)
    return RunResult(
        config=cfg,
        run_dir=run_dir,
        capture=last,
        history=hist,
        losses=pd.DataFrame.from_records(losses, columns=list(LOSS_COLUMNS)),
        status=FINISHED,
        ground_truth=truth.as_dict(),
        feature_dim=int(last["feature_dim"].iloc[0]),
        elapsed_s=float(elapsed),
    )


# ------------------------------------------------------------------------------------------ finished runs
@dataclasses.dataclass
class LoadedRun:
    """A finished run's trained networks, ready to embed new inputs (``load_run``).

    Attributes:
        config: the run's resolved config.
        result: the run's ``RunResult`` (capture, history, losses).
        model: the trained ``BimodalModel`` (eval mode).
        objective: the trained objective (its ``represent`` maps the model's embeddings to the probed
            features).
        device: where model and objective live.
    """

    config: dict
    result: RunResult
    model: torch.nn.Module
    objective: torch.nn.Module
    device: torch.device

    def embed(self, x1: Any, x2: Any, batch_size: int | None = None) -> np.ndarray:
        """The features the run's probe sees, for new inputs.

        Args:
            x1: modality 1, numpy or tensor, shape (n, *shape_1) (uint8 images or floats, as the generator
                draws them).
            x2: modality 2, shape (n, *shape_2).
            batch_size: feature-extraction batch size (default: the run's ``train.eval_batch_size``).

        Returns:
            float32 array (n, feature_dim).
        """
        size = int(batch_size or self.config["train"]["eval_batch_size"])
        a, b = (
            x.to(self.device) if torch.is_tensor(x) else to_device(np.asarray(x), self.device)
            for x in (x1, x2)
        )
        return features(self.model, self.objective, a, b, size, amp=False)


def load_run(run_dir: str | Path, device: str = "cpu") -> LoadedRun:
    """Load a finished run directory: its config, result and trained model, to embed new inputs.

    Args:
        run_dir: a directory written by ``run(..., out=run_dir)`` that finished.
        device: where to put the networks ("cpu", "cuda", ...).

    Returns:
        A ``LoadedRun``; ``loaded.embed(sample.x1, sample.x2)`` gives the probed features of new data.

    Raises:
        ValueError: the directory holds no finished run, or its files fail their integrity checks.
    """

    run_dir = Path(run_dir)
    if not (run_dir / RESULT_FILE).exists():
        raise ValueError(f"{str(run_dir)!r} holds no finished run (no result.json)")
    data = read_result(run_dir)
    if data is None:
        raise ValueError(f"{str(run_dir / 'result.json')!r} is damaged; rerun the run to rebuild it")
    cfg = data["config"]
    dev = torch.device(device)
    state = load_checkpoint(run_dir / CHECKPOINT_FILE, dev)
    if state.get("config_sha256") != data.get("config_sha256"):
        raise ValueError(f"{str(run_dir / 'checkpoint.pt')!r} belongs to another config than result.json")
    exp = config_mod.resolve(cfg)  # the stored config is complete: resolving it builds the same parts
    model, objective = trained_networks(exp, state, dev)
    return LoadedRun(cfg, RunResult.from_json(data, run_dir), model, objective, dev)
