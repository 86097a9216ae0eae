"""Experiment configuration: load a TOML file, apply ``--set`` overrides, check every key, build once.

A config is a plain nested dict with the top-level keys ``name`` and ``seed``, the sections
``[generator]`` (name, params), ``[objective]`` (name, params), ``[model]``, ``[train]`` and ``[probe]``, and
an optional list ``[[estimators]]`` (each a table with ``name`` and that estimator's parameters).
**The class signature is the schema** (house style 3.4): every section is checked by the one checker
``interactions.registry.check_params`` against the signature of what it builds: generator params against
the generator class, objective params against the objective class, ``[model]`` against ``build_model``,
``[train]`` against ``TrainSettings``, ``[probe]`` against ``ProbeSettings`` plus the estimator
``estimators.Probe`` (``estimators.capture``'s keywords) and each ``[[estimators]]`` entry against its
estimator class.

``resolve`` is the only place where names are looked up: it returns an ``Experiment`` holding the built
generator, the objective class with its checked parameters, the model keywords, the ``TrainSettings``,
the ``ProbeSettings`` and the built estimators, plus ``Experiment.config``, the complete config (defaults
filled in) that the run directory stores as ``config.toml``. ``interactions.experiment`` runs an
``Experiment`` and never looks anything up again.

Example:
    >>> exp = resolve("xor", ["objective.name=cross", "train.epochs=2"])  # doctest: +SKIP
    >>> exp.train.epochs, exp.config["train"]["epochs"]  # doctest: +SKIP
    (2, 2)
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Mapping
from typing import Any

# re-exported: the file side of configs lives in config_io
from .config_io import (  # noqa: F401
    CONFIG_DIR,
    BareWord,
    apply_overrides,
    flatten,
    format_value,
    load,
    parse_override,
    parse_value,
    shipped_names,
    to_toml,
    tomllib,
)
from .registry import check_params, check_value_type, signature_defaults, suggest
from .types import TERMS

AUGMENT_MODES: tuple[str, ...] = ("views", "generic", "views+generic")
#: The modes that draw the generator's exact views, and those that apply the generic augmentation.
VIEWS_MODES: tuple[str, ...] = ("views", "views+generic")
GENERIC_MODES: tuple[str, ...] = ("generic", "views+generic")
LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")
VIEW_MODES: tuple[str, ...] = ("epoch", "batch")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """The ``[train]`` section: pre-training of the model with its objective (spec section 5).

    Attributes:
        n_train: number of pre-training samples drawn from the (possibly biased) generator.
        epochs: passes over the pre-training sample.
        batch_size: samples per step (the last incomplete batch of an epoch is dropped, since contrastive
            losses and BatchNorm need full batches).
        lr: AdamW learning rate (of the first epoch under a schedule).
        lr_schedule: "constant" (the CoMM controlled setting, spec 5) or "cosine": the rate of epoch e (1..E)
            is ``lr * (1 + cos(pi * (e - 1) / E)) / 2`` (cosine annealing without restarts, Loshchilov &
            Hutter 2017, as SimCLR and solo-learn train), so the last epochs take small steps.
        weight_decay: AdamW weight decay; biases, norm parameters and 1-D parameters get none (spec 5).
        eval_every: probe the representation every this many epochs (epoch 0, the untrained model, and the
            last epoch are always probed; 0 = only those two).
        augment: "views" (the generator's exact label-preserving views, default), "generic"
            (``interactions.augment``: ``VectorAugment`` for vectors, ``ImageAugment`` for images, applied to
            the stored sample) or "views+generic" (the generic augmentation applied to each exact view: e.g.
            colour jitter and grayscale on re-rendered Trifeature images, which stops colour from being a
            shortcut that identifies a view without its texture).
        augment_params: keyword arguments of the generic augmentation (checked against its signature).
        views_per: "epoch" draws each view of the whole pre-training sample in one generator call per epoch
            (fast for small vectors); "batch" draws them per batch (bounded memory for large images).
        device: "auto" (CUDA when present), "cpu", "cuda", "cuda:<i>" or "mps".
        amp: mixed precision (float16 autocast + GradScaler) when the device is CUDA; ignored on the CPU.
        num_threads: torch and BLAS CPU threads during the run (default 1, the same in the main process and
            in sweep workers, so that numbers do not depend on --workers; 0 = leave the settings unchanged).
        eval_batch_size: batch size of feature extraction for the probe.
        checkpoint_every: write ``checkpoint.pt`` every this many epochs (and after every evaluation)
            when the run has a directory.
    """

    n_train: int = 4000
    epochs: int = 20
    batch_size: int = 256
    lr: float = 3e-4
    lr_schedule: str = "constant"
    weight_decay: float = 1e-4
    eval_every: int = 5
    augment: str = "views"
    augment_params: dict = dataclasses.field(default_factory=dict)
    views_per: str = "epoch"
    device: str = "auto"
    amp: bool = True
    num_threads: int = 1
    eval_batch_size: int = 1024
    checkpoint_every: int = 1

    def __post_init__(self) -> None:
        _check_fields(self, "train")
        for key in ("n_train", "epochs", "batch_size", "eval_batch_size", "checkpoint_every"):
            if getattr(self, key) < 1:
                raise ValueError(f"train.{key} must be >= 1, got {getattr(self, key)!r}")
        for key in ("eval_every", "num_threads"):
            if getattr(self, key) < 0:
                raise ValueError(f"train.{key} must be >= 0, got {getattr(self, key)!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"train.lr must be a positive finite number, got {self.lr!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"train.weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.batch_size > self.n_train:
            raise ValueError(
                f"train.batch_size ({self.batch_size}) must be <= train.n_train ({self.n_train}): "
                "incomplete batches are dropped, so no step would be taken"
            )
        if self.augment not in AUGMENT_MODES:
            raise ValueError(f"train.augment must be one of {AUGMENT_MODES}, got {self.augment!r}")
        if self.views_per not in VIEW_MODES:
            raise ValueError(f"train.views_per must be one of {VIEW_MODES}, got {self.views_per!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"train.lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")

    def eval_epochs(self) -> list[int]:
        """The epochs after which the probe runs: 0, every ``eval_every``, and the last."""
        every = self.eval_every or self.epochs
        return sorted({0, self.epochs, *range(every, self.epochs + 1, every)})


@dataclasses.dataclass(frozen=True)
class ProbeSettings:
    """The ``[probe]`` section: the evaluation samples and the linear probe of every evaluation (spec 5).

    The probe always sees the **unbiased** generator: it is fitted on ``n_train`` samples of split "train"
    and scored on ``n_test`` samples of split "test" (CoMM: 10,000 and 4,094 pairs), drawn once per run.
    Every other estimator of ``[[estimators]]`` sees the same two samples.

    Attributes:
        n_train: evaluation samples of the unbiased generator's split "train" (the probe fits on them).
        n_test: evaluation samples of split "test" (the probe is scored on them; their spec is the truth).
        options: keywords of ``estimators.Probe`` / ``estimators.capture`` (the other keys of ``[probe]``).
    """

    n_train: int = 2000
    n_test: int = 1000
    options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fields(self, "probe")
        for key in ("n_train", "n_test"):
            if getattr(self, key) < 2:
                raise ValueError(f"probe.{key} must be >= 2, got {getattr(self, key)!r}")

    def as_section(self) -> dict[str, Any]:
        """The ``[probe]`` table of the resolved config."""
        return {"n_train": self.n_train, "n_test": self.n_test, **self.options}


def _check_fields(settings: Any, section: str) -> None:
    for f in dataclasses.fields(settings):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        check_value_type(f"{section}.{f.name}", getattr(settings, f.name), default)


# ------------------------------------------------------------------------------------------- the experiment
@dataclasses.dataclass(frozen=True)
class ObjectiveSpec:
    """The objective of an experiment: its registry name, its class and its checked keyword parameters
    (defaults filled in); ``cls(model.dims, **params)`` builds it."""

    name: str
    cls: type
    params: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A fully resolved, built and checked experiment: everything ``interactions.experiment`` runs.

    Attributes:
        name: the experiment's name.
        seed: the run seed (every random stream derives from it, ``training.Seeds``).
        generator: the pre-training generator instance (its ``unbiased()`` feeds the evaluations).
        objective: the objective class and its parameters.
        model: keywords of ``interactions.models.build_model`` (the architecture comes from the objective).
        train: the ``[train]`` settings.
        probe: the ``[probe]`` settings (evaluation sample sizes and probe options).
        estimators: the built estimators of every evaluation, the probe first
            (``interactions.types.Estimator``).
        config: the complete config with every default written out (``config.toml``, ``result.json``).
    """

    name: str
    seed: int
    generator: Any
    objective: ObjectiveSpec
    model: dict[str, Any]
    train: TrainSettings
    probe: ProbeSettings
    estimators: tuple[Any, ...]
    config: dict[str, Any]


# ------------------------------------------------------------------------------------------------ resolve
def _named_section(cfg: Mapping[str, Any], section: str) -> tuple[str, dict[str, Any]]:
    node = cfg.get(section)
    if node is None:
        raise ValueError(f"config needs a [{section}] section with a 'name'")
    check_params(_named_table, node, f"[{section}]", prefix=section)
    if "name" not in node:
        raise ValueError(f"config key '{section}.name' is missing")
    if not isinstance(node["name"], str):
        raise TypeError(f"{section}.name must be a string, got {node['name']!r}")
    params = node.get("params", {})
    if not isinstance(params, Mapping):
        raise TypeError(f"{section}.params must be a table (dict), got {params!r}")
    return str(node["name"]), dict(params)


def _named_table(name: str, params: dict | None = None) -> None:
    """The keys of a ``[generator]`` / ``[objective]`` table (a signature for ``check_params``)."""


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists and bare override words as plain strings (TOML / JSON friendly)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return str(value) if isinstance(value, str) else value


def _resolve_generator(cfg: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    import generators

    from .registry import build

    name, params = _named_section(cfg, "generator")
    gen = build(generators.GENERATORS, name, "generator", params)
    resolved = {k: v for k, v in gen.params().items() if v is not None}
    return gen, {"name": name, "params": _plain(resolved)}


def _resolve_objective(cfg: Mapping[str, Any], gen: Any) -> ObjectiveSpec:
    from .objectives import get_objective

    name, params = _named_section(cfg, "objective")
    cls = get_objective(name)
    check_params(cls.__init__, params, f"objective {name!r}", prefix="objective.params", skip=("dims",))
    resolved = {**signature_defaults(cls.__init__, skip=("dims",)), **params}
    if getattr(cls, "needs_target", False):
        target = resolved.get("target")
        if target is None:
            raise ValueError(
                f"objective {name!r} is supervised: set 'objective.params.target' to one of {TERMS}"
            )
        if target not in TERMS:
            raise ValueError(
                f"objective.params.target must be one of {TERMS}, got {target!r}{suggest(target, TERMS)}"
            )
        if "n_classes" in inspect.signature(cls.__init__).parameters and resolved.get("n_classes") is None:
            resolved["n_classes"] = int(gen.n_classes[target])
    return ObjectiveSpec(name, cls, _plain(resolved))


def _resolve_model(cfg: Mapping[str, Any], gen: Any, objective_cls: Any) -> dict[str, Any]:
    from .models import build_model

    section = dict(cfg.get("model", {}))
    if "architecture" in section:
        raise ValueError(
            "'model.architecture' is set by the objective "
            f"({objective_cls.__name__}.architecture = {objective_cls.architecture!r}); remove it"
        )
    skip = ("architecture", "shapes")
    check_params(build_model, section, "build_model", prefix="model", skip=skip)
    resolved = _plain({**signature_defaults(build_model, skip=skip), **section})
    encoder = resolved.get("encoder", "auto")
    encoders = [encoder, encoder] if isinstance(encoder, str) else list(encoder)
    for m, (name, shape) in enumerate(zip(encoders, gen.shapes)):
        if len(shape) > 1 and name == "mlp":
            raise ValueError(
                f"model.encoder = {encoder!r} gives modality {m + 1} an MLP, which cannot encode the images "
                f"of generator {gen.name!r} (shape {shape}); use 'cnn', 'alexnet' or 'auto'"
            )
        if len(shape) == 1 and name in ("cnn", "alexnet"):
            raise ValueError(
                f"model.encoder = {encoder!r} gives modality {m + 1} an image encoder, but generator "
                f"{gen.name!r} gives vectors (shape {shape}); use 'mlp' or 'auto'"
            )
    return resolved


def _resolve_train(cfg: Mapping[str, Any], gen: Any) -> TrainSettings:
    section = dict(cfg.get("train", {}))
    check_params(TrainSettings, section, "[train]", prefix="train")
    settings = TrainSettings(**_plain(section))
    if settings.augment in VIEWS_MODES and not callable(getattr(gen, "views", None)):
        raise ValueError(
            f"train.augment = {settings.augment!r} needs a generator with a views() method; "
            f"{gen.name!r} has none (use train.augment = 'generic')"
        )
    if settings.augment in GENERIC_MODES:
        from .augment import ImageAugment, VectorAugment

        cls = ImageAugment if len(gen.shapes[0]) > 1 else VectorAugment
        check_params(cls.__init__, settings.augment_params, cls.__name__, prefix="train.augment_params")
    elif settings.augment_params:
        raise ValueError(
            "train.augment_params is only used with train.augment = 'generic' or 'views+generic'"
        )
    return settings


def _resolve_estimators(cfg: Mapping[str, Any]) -> tuple[ProbeSettings, tuple[Any, ...], list[dict]]:
    """The probe (``[probe]``) and the ``[[estimators]]`` list, each built from its checked parameters."""
    import estimators

    from .registry import build

    section = _plain(dict(cfg.get("probe", {})))
    if not isinstance(section, dict):
        raise TypeError(f"probe must be a table (dict), got {section!r}")
    sizes = {k: section.pop(k) for k in ("n_train", "n_test") if k in section}
    probe = estimators.Probe(**section)  # checks its options against estimators.capture
    settings = ProbeSettings(**sizes, options=section)
    entries = cfg.get("estimators", [])
    if not isinstance(entries, list):
        raise TypeError(f"estimators must be a list of tables ([[estimators]]), got {entries!r}")
    built, resolved = [probe], []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise TypeError(f"estimators[{i}] must be a table with a 'name', got {entry!r}")
        name, params = str(entry["name"]), _plain({k: v for k, v in entry.items() if k != "name"})
        if name == estimators.Probe.name:
            raise ValueError("estimators: the probe always runs; set its options in [probe] instead")
        estimator = build(estimators.ESTIMATORS, name, "estimator", params, prefix=f"estimators.{name}")
        built.append(estimator)
        resolved.append({"name": name, **estimator.params()})
    names = [e.name for e in built]
    if len(set(names)) != len(names):
        raise ValueError(f"estimators: each estimator may appear once, got {names}")
    return settings, tuple(built), resolved


def resolve(
    config: Any, overrides: Any = None, *, seed: int | None = None, device: str | None = None
) -> Experiment:
    """The one way from a config to a runnable experiment: load, apply overrides, check, build.

    Args:
        config: a shipped config name, a TOML path or a dict.
        overrides: "dotted.key=value" strings in TOML syntax, applied in order (as the CLI's ``--set``).
        seed: replaces the top-level ``seed`` when given.
        device: replaces ``train.device`` when given.

    Returns:
        The ``Experiment``: built generator and estimators, objective class and parameters, model
        keywords, settings, and ``config``, the complete config with every default written out.

    Raises:
        ValueError / TypeError: naming the offending key (unknown key, wrong type, impossible value,
        objective/generator mismatch, supervised objective without a target).
    """
    cfg = apply_overrides(load(config), overrides)
    if seed is not None:
        cfg["seed"] = seed
    if device is not None:
        cfg.setdefault("train", {})["device"] = device
    check_params(_top_level, cfg, "the config", prefix="config")
    cfg_seed = cfg.get("seed", 0)
    if isinstance(cfg_seed, bool) or not isinstance(cfg_seed, int) or cfg_seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {cfg_seed!r}")
    gen, generator = _resolve_generator(cfg)
    objective = _resolve_objective(cfg, gen)
    model = _resolve_model(cfg, gen, objective.cls)
    train = _resolve_train(cfg, gen)
    probe, estimators, estimator_entries = _resolve_estimators(cfg)
    name = cfg.get("name", f"{generator['name']}-{objective.name}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    resolved = {
        "name": str(name),
        "seed": cfg_seed,
        "generator": generator,
        "objective": {"name": objective.name, "params": objective.params},
        "model": model,
        "train": dataclasses.asdict(train),
        "probe": probe.as_section(),
    }
    if estimator_entries:
        resolved["estimators"] = estimator_entries
    return Experiment(str(name), cfg_seed, gen, objective, model, train, probe, estimators, resolved)


def _top_level(
    name: str = "", seed: int = 0, generator=None, objective=None, model=None, train=None, probe=None,
    estimators=None,
) -> None:  # fmt: skip
    """The top-level keys of a config (a signature for ``check_params``)."""
