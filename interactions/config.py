"""Experiment configuration: load a TOML file, apply ``--set`` overrides and check every key.

A config is a plain nested dict with the top-level keys ``name`` and ``seed`` and the sections
``[generator]`` (name, params), ``[objective]`` (name, params), ``[model]``, ``[train]`` and ``[probe]``.
**The class signature is the schema** (house style 3.4): generator params are checked against the generator
class, objective params against the objective class, ``[model]`` against ``build_model``, ``[train]``
against ``TrainSettings`` and ``[probe]`` against ``ProbeSettings`` plus the keywords of
``estimators.capture``. ``resolve`` returns the complete config (defaults filled in), which is what the run
directory stores as ``config.toml``.

Example:
    >>> cfg = resolve("xor", ["objective.name=cross", "train.epochs=2"])  # doctest: +SKIP
    >>> cfg["train"]["epochs"]  # doctest: +SKIP
    2
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
from collections.abc import Mapping
from typing import Any

# re-exported: the file side of configs lives in config_io
from .config_io import (  # noqa: F401
    CONFIG_DIR,
    apply_overrides,
    load,
    parse_override,
    parse_value,
    shipped_names,
    to_toml,
    tomllib,
)
from .registry import suggest

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on python 3.10 only
    pass

SECTIONS: tuple[str, ...] = ("generator", "objective", "model", "train", "probe")
TOP_LEVEL: tuple[str, ...] = ("name", "seed", *SECTIONS)
AUGMENT_MODES: tuple[str, ...] = ("views", "generic")
VIEW_MODES: tuple[str, ...] = ("epoch", "batch")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """The ``[train]`` section: pre-training of the model with its objective (spec section 5).

    Attributes:
        n_train: number of pre-training samples drawn from the (possibly biased) generator.
        epochs: passes over the pre-training sample.
        batch_size: samples per step (the last incomplete batch of an epoch is dropped, since contrastive
            losses and BatchNorm need full batches).
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay; biases, norm parameters and 1-D parameters get none (spec 5).
        eval_every: probe the representation every this many epochs (epoch 0, the untrained model, and the
            last epoch are always probed; 0 = only those two).
        augment: "views" (the generator's exact label-preserving views, default) or "generic"
            (``interactions.augment``: ``VectorAugment`` for vectors, ``ImageAugment`` for images).
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

    def eval_epochs(self) -> list[int]:
        """The epochs after which the probe runs: 0, every ``eval_every``, and the last."""
        every = self.eval_every or self.epochs
        return sorted({0, self.epochs, *range(every, self.epochs + 1, every)})


@dataclasses.dataclass(frozen=True)
class ProbeSettings:
    """The ``[probe]`` section: the frozen-feature linear probe of every evaluation (spec section 5).

    The probe always sees the **unbiased** generator: it is fitted on ``n_train`` samples of split "train"
    and scored on ``n_test`` samples of split "test" (CoMM: 10,000 and 4,094 pairs), drawn once per run.

    Attributes:
        n_train: probe training samples (unbiased, split "train").
        n_test: probe test samples (unbiased, split "test").
        options: further keywords of ``estimators.capture`` (given as the other keys of ``[probe]``).
    """

    n_train: int = 2000
    n_test: int = 1000
    options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fields(self, "probe")
        for key in ("n_train", "n_test"):
            if getattr(self, key) < 2:
                raise ValueError(f"probe.{key} must be >= 2, got {getattr(self, key)!r}")

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> ProbeSettings:
        """Split ``[probe]`` into the sample sizes and the options passed on to ``capture``."""
        own = {k: section[k] for k in ("n_train", "n_test") if k in section}
        return cls(**own, options={k: v for k, v in section.items() if k not in own})

    def as_section(self) -> dict[str, Any]:
        """The inverse of ``from_section``."""
        return {"n_train": self.n_train, "n_test": self.n_test, **self.options}


#: Arguments of ``estimators.capture`` that the trainer supplies itself (not settable in ``[probe]``).
PROBE_RESERVED: tuple[str, ...] = ("z", "sample", "z_test", "sample_test", "random_state")


# --------------------------------------------------------------------------------------------- type checks
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def check_value_type(key: str, value: Any, default: Any) -> None:
    """Raise ``TypeError`` naming ``key`` when ``value`` does not have the type of its ``default``.

    ``default`` None or ``inspect.Parameter.empty`` accepts anything; an int is accepted for a float; a
    TOML list is accepted for a tuple or list default.
    """
    if default is None or default is inspect.Parameter.empty:
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, (tuple, list)):
        ok = isinstance(value, (tuple, list))
    elif isinstance(default, (str, dict)):
        ok = isinstance(value, type(default))
    else:
        ok = True
    if not ok:
        raise TypeError(
            f"{key} must be {_type_name(type(default))} (like its default {default!r}), "
            f"got {value!r} ({type(value).__name__})"
        )


def _check_fields(settings: Any, section: str) -> None:
    for f in dataclasses.fields(settings):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        check_value_type(f"{section}.{f.name}", getattr(settings, f.name), default)


def check_signature_values(factory: Any, params: Mapping[str, Any], prefix: str, skip: tuple = ()) -> None:
    """Type-check ``params`` against the defaults of ``factory``'s signature (keys already checked)."""
    signature = inspect.signature(factory).parameters
    for key, value in params.items():
        if key in signature and key not in skip:
            check_value_type(f"{prefix}.{key}", value, signature[key].default)


def signature_defaults(factory: Any, skip: tuple = ()) -> dict[str, Any]:
    """The TOML-representable defaults of ``factory``'s keyword parameters (None defaults are left out)."""
    out: dict[str, Any] = {}
    for name, p in inspect.signature(factory).parameters.items():
        if name in skip or name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is not p.empty and _is_toml_value(p.default):
            out[name] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


def _is_toml_value(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_toml_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_toml_value(v) for k, v in value.items())
    return False


# ------------------------------------------------------------------------------------------------ resolve
def _check_keys(prefix: str, given: Mapping[str, Any], accepted: Any, open_ended: bool = False) -> None:
    if not isinstance(given, Mapping):
        raise TypeError(f"{prefix} must be a table (dict), got {given!r} ({type(given).__name__})")
    if open_ended:
        return
    accepted = list(accepted)
    for key in given:
        if key not in accepted:
            known = ", ".join(accepted) or "(none)"
            raise ValueError(f"unknown key '{prefix}.{key}'{suggest(key, accepted)}; accepted: {known}")


def _accepted(factory: Any, skip: tuple = ()) -> tuple[list[str], bool]:
    params = inspect.signature(factory).parameters
    open_ended = any(p.kind == p.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if n not in skip and n != "self" and p.kind != p.VAR_KEYWORD]
    return names, open_ended


def _named_section(cfg: Mapping[str, Any], section: str) -> tuple[str, dict[str, Any]]:
    node = cfg.get(section)
    if node is None:
        raise ValueError(f"config needs a [{section}] section with a 'name'")
    _check_keys(section, node, ("name", "params"))
    if "name" not in node:
        raise ValueError(f"config key '{section}.name' is missing")
    if not isinstance(node["name"], str):
        raise TypeError(f"{section}.name must be a string, got {node['name']!r}")
    params = node.get("params", {})
    if not isinstance(params, Mapping):
        raise TypeError(f"{section}.params must be a table (dict), got {params!r}")
    return node["name"], dict(params)


def _resolve_generator(cfg: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    import generators

    from .registry import lookup

    name, params = _named_section(cfg, "generator")
    cls = lookup(generators.GENERATORS, name, "generator")
    accepted, open_ended = _accepted(cls)
    _check_keys("generator.params", params, accepted, open_ended)
    check_signature_values(cls, params, "generator.params")
    try:
        gen = cls(**params)
    except (TypeError, ValueError) as err:
        raise type(err)(f"generator.params ({name!r}): {err}") from None
    resolved = {k: v for k, v in gen.params().items() if v is not None}
    return gen, {
        "name": name,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in resolved.items()},
    }


def _resolve_objective(cfg: Mapping[str, Any], gen: Any) -> tuple[Any, dict[str, Any]]:
    from .objectives import get_objective
    from .types import TERMS

    name, params = _named_section(cfg, "objective")
    cls = get_objective(name)
    accepted, open_ended = _accepted(cls.__init__, skip=("dims",))
    _check_keys("objective.params", params, accepted, open_ended)
    check_signature_values(cls.__init__, params, "objective.params")
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
        if "n_classes" in accepted and resolved.get("n_classes") is None:
            resolved["n_classes"] = int(gen.n_classes[target])
    return cls, {"name": name, "params": resolved}


def _resolve_model(cfg: Mapping[str, Any], gen: Any, objective_cls: Any) -> dict[str, Any]:
    from .models import build_model

    section = dict(cfg.get("model", {}))
    if "architecture" in section:
        raise ValueError(
            "'model.architecture' is set by the objective "
            f"({objective_cls.__name__}.architecture = {objective_cls.architecture!r}); remove it"
        )
    accepted, open_ended = _accepted(build_model, skip=("architecture", "shapes"))
    _check_keys("model", section, accepted, open_ended)
    check_signature_values(build_model, section, "model")
    resolved = {**signature_defaults(build_model, skip=("architecture", "shapes")), **section}
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
    _check_keys("train", section, [f.name for f in dataclasses.fields(TrainSettings)])
    settings = TrainSettings(**section)
    if settings.augment == "views" and not callable(getattr(gen, "views", None)):
        raise ValueError(
            f"train.augment = 'views' needs a generator with a views() method; {gen.name!r} has none "
            "(use train.augment = 'generic')"
        )
    if settings.augment == "generic":
        from .augment import ImageAugment, VectorAugment

        images = len(gen.shapes[0]) > 1
        cls = ImageAugment if images else VectorAugment
        accepted, open_ended = _accepted(cls.__init__)
        _check_keys("train.augment_params", settings.augment_params, accepted, open_ended)
        check_signature_values(cls.__init__, settings.augment_params, "train.augment_params")
    elif settings.augment_params:
        raise ValueError("train.augment_params is only used with train.augment = 'generic'")
    return settings


def _resolve_probe(cfg: Mapping[str, Any]) -> ProbeSettings:
    from estimators import capture

    section = dict(cfg.get("probe", {}))
    accepted, open_ended = _accepted(capture, skip=PROBE_RESERVED)
    _check_keys("probe", section, ["n_train", "n_test", *accepted], open_ended)
    check_signature_values(capture, section, "probe", skip=PROBE_RESERVED)
    return ProbeSettings.from_section(section)


def resolve(
    config: Any, overrides: Any = None, *, seed: int | None = None, device: str | None = None
) -> dict:
    """The complete, checked config: load, apply overrides, then check every key and fill in defaults.

    Args:
        config: a shipped config name, a TOML path or a dict.
        overrides: "dotted.key=value" strings, applied in order (as the CLI's ``--set``).
        seed: replaces the top-level ``seed`` when given.
        device: replaces ``train.device`` when given.

    Returns:
        A dict with ``name``, ``seed`` and the five sections, every default written out.

    Raises:
        ValueError / TypeError: naming the offending key (unknown key, wrong type, impossible value,
        objective/generator mismatch, supervised objective without a target).
    """
    cfg = apply_overrides(load(config), overrides)
    if seed is not None:
        cfg["seed"] = seed
    if device is not None:
        cfg.setdefault("train", {})["device"] = device
    _check_keys("config", cfg, TOP_LEVEL)
    cfg_seed = cfg.get("seed", 0)
    if isinstance(cfg_seed, bool) or not isinstance(cfg_seed, int) or cfg_seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {cfg_seed!r}")
    gen, generator = _resolve_generator(cfg)
    objective_cls, objective = _resolve_objective(cfg, gen)
    model = _resolve_model(cfg, gen, objective_cls)
    train = _resolve_train(cfg, gen)
    probe = _resolve_probe(cfg)
    name = cfg.get("name", f"{generator['name']}-{objective['name']}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    return {
        "name": name,
        "seed": cfg_seed,
        "generator": generator,
        "objective": objective,
        "model": model,
        "train": dataclasses.asdict(train),
        "probe": probe.as_section(),
    }
