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
an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import config as config_mod
from .atomic import atomic_write_text
from .config import Experiment
from .devices import environment, resolve_device
from .training import (
    Batches,
    Seeds,
    Trainer,
    derive,
    features,
    load_checkpoint,
    save_checkpoint,
    subset_features,
    to_device,
)
from .types import (
    CAPTURE_COLUMNS,
    HISTORY_COLUMNS,
    LOSS_COLUMNS,
    PROBE,
    PROBE_COLUMNS,
    TERMS,
    BimodalSample,
    InteractionSpec,
    Representation,
)

FINISHED = "finished"


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

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN written as null), the content of ``result.json``."""
        return _clean(
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


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, Path):
        return str(value)
    return value


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


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON atomically (temporary file, then ``os.replace``)."""
    atomic_write_text(path, json.dumps(_clean(data), indent=2, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically."""
    atomic_write_text(path, text)


# ------------------------------------------------------------------------------------------ run directory
def _prepare_dir(run_dir: Path, cfg: dict, resume: bool) -> str:
    """Returns "done", "resume" or "fresh"; raises if the directory holds a different config."""
    run_dir.mkdir(parents=True, exist_ok=True)
    files = [
        run_dir / n for n in ("result.json", "checkpoint.pt", "metrics.jsonl", "config.toml", "env.json")
    ]
    if not resume:
        for f in files:
            f.unlink(missing_ok=True)
        return "fresh"
    stored = run_dir / "config.toml"
    if stored.exists():
        previous = config_mod.tomllib.loads(stored.read_text(encoding="utf-8"))
        if previous != config_mod.tomllib.loads(config_mod.to_toml(cfg)):
            raise ValueError(
                f"run directory {str(run_dir)!r} holds a run of a different config; use another directory "
                "or resume=False to overwrite it"
            )
    if (run_dir / "result.json").exists():
        return "done"
    return "resume" if (run_dir / "checkpoint.pt").exists() else "fresh"


def _representation(model, objective, x: tuple, batch_size: int, amp: bool, subsets: tuple) -> Representation:
    """The frozen features of one evaluation sample: the probe's ``z`` and the embeddings of ``subsets``."""
    z = features(model, objective, *x, batch_size, amp)
    parts = subset_features(model, *x, subsets, batch_size, amp) if subsets else {}
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

    Returns:
        The ``RunResult``; ``capture`` holds the last evaluation with its floor (epoch-0 capture).

    Raises:
        ValueError / TypeError: a bad config, naming the key, before any training.
    """
    if isinstance(config, Experiment):
        if overrides or seed is not None or device is not None:
            raise ValueError("an Experiment is run as resolved: pass overrides, seed and device to resolve()")
        exp = config
    else:
        exp = config_mod.resolve(config, overrides, seed=seed, device=device)
    run_dir = Path(out) if out is not None else None
    state = "fresh"
    if run_dir is not None:
        state = _prepare_dir(run_dir, exp.config, resume)
        if state == "done":
            data = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
            return RunResult.from_json(data, run_dir)
    settings = exp.train
    dev = resolve_device(settings.device)
    threads = torch.get_num_threads()
    if settings.num_threads:
        torch.set_num_threads(settings.num_threads)
    forked = (
        [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
    )
    try:
        with torch.random.fork_rng(devices=forked):
            return _run(exp, dev, run_dir, state, progress)
    finally:
        torch.set_num_threads(threads)


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
    eval_samples = (
        unbiased.sample(exp.probe.n_train, seed=derive(seeds.data, 1), split="train"),
        unbiased.sample(exp.probe.n_test, seed=derive(seeds.data, 2), split="test"),
    )
    torch.manual_seed(seeds.init)
    model = build_model(spec.cls.architecture, gen.shapes, **exp.model).to(dev)
    objective = spec.cls(model.dims, **spec.params).to(dev)
    trainer = Trainer(model, objective, settings, dev)
    augmenters = _generic_augmenters(settings, gen) if settings.augment == "generic" else None
    batches = Batches(gen, pretrain, settings, spec.cls.n_views, seeds, dev, augmenters)
    return Parts(gen, unbiased, seeds, model, objective, trainer, batches, eval_samples)


def _run(exp: Experiment, dev: torch.device, run_dir: Path | None, state: str, progress: bool) -> RunResult:
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
    if state == "resume":
        ckpt = load_checkpoint(run_dir / "checkpoint.pt", dev)  # type: ignore[operator]
        trainer.load_state_dict(ckpt["trainer"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        start, losses, metrics, history = ckpt["epoch"], ckpt["losses"], ckpt["metrics"], ckpt["history"]
        elapsed_before = ckpt["elapsed_s"]
    if run_dir is not None:
        write_text(run_dir / "config.toml", config_mod.to_toml(cfg))
        write_json(run_dir / "env.json", environment(dev, cfg["seed"]))
        write_text(run_dir / "metrics.jsonl", "".join(json.dumps(_clean(m)) + "\n" for m in metrics))

    def checkpoint(epoch: int) -> None:
        if run_dir is None:
            return
        save_checkpoint(
            run_dir / "checkpoint.pt",
            {
                "trainer": trainer.state_dict(),
                "epoch": epoch,
                "rng": {"torch": torch.get_rng_state()},
                "losses": losses,
                "metrics": metrics,
                "history": history,
                "elapsed_s": elapsed_before + time.perf_counter() - started,
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
        metrics.append(_clean(record))
        if run_dir is not None:
            with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(metrics[-1]) + "\n")

    eval_epochs = set(settings.eval_epochs())
    if start == 0:
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
        write_json(run_dir / "result.json", result.to_json())
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
