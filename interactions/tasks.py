"""Benchmark tasks: named generator settings of graded difficulty, each with its true bits (R, U1, U2, S).

A task is one small declarative entry (``Task``): a generator and its parameters, the pre-training protocol
(unbiased, or biased with a ``bias`` for synergy, as the Trifeature paper's biased pre-training), the terms
it scores, and the axis and level of difficulty it grades (e.g. axis ``"bias"``, level 0.8), so that capture
can be drawn against interaction strength. Its ground truth in bits is the generator's own: the
``ground_truth()`` of the **unbiased** evaluation generator (the probes always see unbiased data).

``TASKS`` (name -> Task) grades, on the ``xor`` generator unless noted (R, U1, U2, S = 1 bit each when not
said otherwise):

* capacity: 1, 2 and 4 bits of every term;
* synergy strength: pre-training bias 0 (the 1-bit task), 0.5, 0.8 and 1 (0 is the evaluation law);
* higher-order synergy: the synergy bit is the parity of 2 or 3 bits of each modality (``synergy_order``);
* nuisance: 16 distractor coordinates per modality; coupling 0 and 2 (bits multiplied by that many
  nuisance signs; the default is 1);
* observation noise of std 0.2 and 0.5 (the true bits are the noise -> 0 limit, an upper bound);
* imbalance: 6 redundant bits and 1 synergistic bit, no unique bits;
* the four ``gaussian`` presets (closed-form MMI = BROJA truth of the continuous target; ``mixed`` scores
  no term with a probe, since every term shares one label);
* Trifeature at CPU size (64 px images, the ``trifeature_cpu`` config's model), unbiased for R and U and
  biased (the paper's synergy protocol) for S.

Every task names the shipped config whose model fits its generator (``config``: ``"xor"`` for vectors,
``"trifeature_cpu"`` for images). ``task_overrides`` turns a task into ``--set`` overrides of any base
config, ``task_config`` resolves them into a complete config (after ``check_task_model`` has checked that the
model can encode the generator's data), so that task x objective x seed runs go through the sweep machinery.

Example:
    >>> task = get_task("capacity_2bit")
    >>> task.ground_truth().as_dict()
    {'redundancy': 2.0, 'unique_1': 2.0, 'unique_2': 2.0, 'synergy': 2.0}
    >>> task_overrides(task)[0]
    "generator.name='xor'"
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .config_io import apply_overrides, load
from .registry import lookup, suggest
from .types import TERMS, InteractionSpec

#: Short labels of the four terms, in the order of ``TERMS`` (as ``interactions list tasks`` prints them).
TERM_LABELS: dict[str, str] = dict(zip(TERMS, ("R", "U1", "U2", "S")))


@dataclasses.dataclass(frozen=True)
class Task:
    """One benchmark task.

    Attributes:
        name: registry key (``interactions bench --tasks NAME``).
        description: one line for listings.
        axis: the difficulty axis this task grades (e.g. ``"capacity"``, ``"bias"``).
        level: its position on that axis (a number where the axis is numeric, e.g. bits or bias; a name
            for categorical axes such as the Gaussian presets).
        generator: generator name (``generators.names()``).
        params: generator parameters of the evaluation distribution (without ``bias``).
        bias: pre-training protocol: 0 = unbiased; b > 0 = pre-train on the generator with ``bias = b``
            (the generator must have a ``bias`` knob); probes always use the unbiased generator.
        terms: the terms a probe scores on the task (a subset of ``TERMS``, each with positive true bits).
            Empty when no term can be scored on its own: the Gaussian generator gives every term the same
            label (binned y), so a probe of the ``mixed`` preset reads R + U1 + S at once; such a task
            serves the continuous estimators, and ``interactions bench`` leaves it out.
        config: the shipped base config whose model fits the generator's data.
        also: further ``(axis, level)`` points this same task stands for (the 1-bit task is also bias 0,
            synergy order 1, ...), so that a curve along an axis includes its base point.
        overrides: further ``"key=value"`` config overrides the task needs (none of the shipped tasks).
    """

    name: str
    description: str
    axis: str
    level: float | str
    generator: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    bias: float = 0.0
    terms: tuple[str, ...] = TERMS
    config: str = "xor"
    also: tuple[tuple[str, float | str], ...] = ()
    overrides: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in ("name", "description", "axis", "generator", "config"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise TypeError(f"Task.{key} must be a non-empty string, got {value!r}")
        if "," in self.name or any(c.isspace() for c in self.name) or self.name == "all":
            raise ValueError(f"Task.name {self.name!r} must not contain commas or spaces, nor be 'all'")
        if not isinstance(self.params, Mapping):
            raise TypeError(f"Task.params of {self.name!r} must be a mapping, got {self.params!r}")
        if "bias" in self.params:
            raise ValueError(f"task {self.name!r}: give the pre-training bias as Task.bias, not in params")
        if isinstance(self.bias, bool) or not isinstance(self.bias, (int, float)):
            raise TypeError(f"Task.bias of {self.name!r} must be a number in [0, 1], got {self.bias!r}")
        if not (0.0 <= self.bias <= 1.0 and math.isfinite(self.bias)):
            raise ValueError(f"Task.bias of {self.name!r} must be in [0, 1], got {self.bias!r}")
        terms = tuple(self.terms)
        if any(t not in TERMS for t in terms) or len(set(terms)) != len(terms):
            bad = next((t for t in terms if t not in TERMS), terms)
            raise ValueError(
                f"Task.terms of {self.name!r} must be distinct terms of {TERMS}, got {bad!r}"
                f"{suggest(str(bad), TERMS)}"
            )
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "params", types.MappingProxyType(dict(self.params)))
        object.__setattr__(self, "also", tuple((str(a), lv) for a, lv in self.also))
        object.__setattr__(self, "overrides", tuple(str(o) for o in self.overrides))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle through the constructor (the read-only ``params`` proxy itself cannot be pickled)."""
        values = [getattr(self, f.name) for f in dataclasses.fields(self)]
        return type(self), tuple(dict(v) if isinstance(v, types.MappingProxyType) else v for v in values)

    @property
    def protocol(self) -> str:
        """``"unbiased"`` or ``"biased (bias=B)"``: how the pre-training data are drawn."""
        return "unbiased" if self.bias == 0 else f"biased (bias={self.bias:g})"

    def grades(self) -> tuple[tuple[str, float | str], ...]:
        """Every ``(axis, level)`` point of this task: its own first, then ``also``."""
        return ((self.axis, self.level), *self.also)

    def generator_params(self) -> dict[str, Any]:
        """The parameters of the pre-training generator: ``params`` plus ``bias`` when the task is biased."""
        params = dict(self.params)
        if self.bias > 0:
            params["bias"] = float(self.bias)
        return params

    def make_generator(self) -> Any:
        """The pre-training generator (biased when ``bias > 0``); ``ValueError`` if its params are bad."""
        import generators

        try:
            return generators.make(self.generator, **self.generator_params())
        except (TypeError, ValueError) as err:
            raise type(err)(f"task {self.name!r}: {err}") from None

    def ground_truth(self) -> InteractionSpec:
        """True bits of the task, as capture divides by them: the unbiased evaluation generator's truth on
        the split the probe is scored on (``"test"``; Trifeature's splits differ, the others' do not)."""
        return self.make_generator().unbiased().ground_truth("test")


# ------------------------------------------------------------------------------------------- the registry
_ONE_BIT = {"redundancy": 1, "unique_1": 1, "unique_2": 1, "synergy": 1}
_BASE_POINTS: tuple[tuple[str, float], ...] = (
    ("bias", 0.0),
    ("synergy_order", 1),
    ("distractors", 1),
    ("coupling", 1),
    ("noise", 0.0),
)


def _xor(name: str, description: str, axis: str, level: float | str, **params: Any) -> Task:
    """A task on the ``xor`` generator: 1 bit of each term unless ``params`` says otherwise."""
    bias = params.pop("bias", 0.0)
    terms = params.pop("terms", TERMS)
    also = params.pop("also", ())
    return Task(
        name, description, axis, level, "xor", {**_ONE_BIT, **params}, bias=bias, terms=terms, also=also
    )


def _gaussian(preset: str, terms: tuple[str, ...], description: str) -> Task:
    return Task(
        f"gaussian_{preset}", description, "gaussian", preset, "gaussian", {"preset": preset}, terms=terms
    )


_TASK_LIST: tuple[Task, ...] = (
    _xor(
        "capacity_1bit", "1 bit of each term (the shipped xor experiment)", "capacity", 1, also=_BASE_POINTS
    ),
    _xor("capacity_2bit", "2 bits of each term", "capacity", 2, **dict.fromkeys(_ONE_BIT, 2)),
    _xor("capacity_4bit", "4 bits of each term", "capacity", 4, **dict.fromkeys(_ONE_BIT, 4)),
    _xor("bias_0.5", "1 bit each; pre-trained with half the pairs matched (s2 = s1)", "bias", 0.5, bias=0.5),
    _xor("bias_0.8", "1 bit each; pre-trained with 80% of the pairs matched", "bias", 0.8, bias=0.8),
    _xor(
        "bias_1",
        "1 bit each; pre-trained on matched pairs only (no synergy label varies)",
        "bias",
        1.0,
        bias=1.0,
    ),
    _xor(
        "synergy_order_2",
        "synergy bit = parity of 2 bits of each modality (order-4 interaction)",
        "synergy_order",
        2,
        synergy_order=2,
    ),
    _xor(
        "synergy_order_3",
        "synergy bit = parity of 3 bits of each modality (order-6 interaction)",
        "synergy_order",
        3,
        synergy_order=3,
    ),
    _xor(
        "distractors_16",
        "1 bit each with 16 distractor coordinates per modality (nuisance 3 + 16)",
        "distractors",
        16,
        nuisance=19,
    ),
    _xor(
        "coupling_0",
        "1 bit each entering the lift directly (no nuisance coupling)",
        "coupling",
        0,
        coupling=0,
    ),
    _xor(
        "coupling_2",
        "1 bit each, each bit times 2 nuisance signs (order-3 parity)",
        "coupling",
        2,
        coupling=2,
    ),
    _xor(
        "noise_0.2",
        "1 bit each, observation noise std 0.2 (true bits: the noise -> 0 upper bound)",
        "noise",
        0.2,
        noise=0.2,
    ),
    _xor(
        "noise_0.5",
        "1 bit each, observation noise std 0.5 (true bits: the noise -> 0 upper bound)",
        "noise",
        0.5,
        noise=0.5,
    ),
    _xor(
        "imbalance_6r1s",
        "6 redundant bits and 1 synergistic bit, no unique bits",
        "imbalance",
        6,
        redundancy=6,
        unique_1=0,
        unique_2=0,
        synergy=1,
        terms=("redundancy", "synergy"),
    ),
    _gaussian("redundant", ("redundancy",), "Gaussian preset: mostly redundant (continuous target y)"),
    _gaussian("unique", ("unique_1",), "Gaussian preset: y in x1 only"),
    _gaussian("synergistic", ("synergy",), "Gaussian preset: y = x1 - x2 + noise, x1, x2 correlated"),
    _gaussian("mixed", (), "Gaussian preset: R, U1 and S together (one label: for continuous estimators)"),
    Task(
        "trifeature_cpu",
        "bimodal Trifeature, 64 px images, unbiased pre-training (model of the trifeature_cpu config)",
        "trifeature",
        64,
        "trifeature",
        {"image_size": 64},
        config="trifeature_cpu",
    ),
    Task(
        "trifeature_biased",
        "bimodal Trifeature, 64 px, biased pre-training (colour_2 = M(texture_1) in every pair): synergy",
        "trifeature",
        "biased",
        "trifeature",
        {"image_size": 64},
        bias=1.0,
        terms=("synergy",),
        config="trifeature_cpu",
    ),
)

#: name -> Task, in listing order.
TASKS: dict[str, Task] = {task.name: task for task in _TASK_LIST}
assert len(TASKS) == len(_TASK_LIST), "task names must be unique"


def names() -> list[str]:
    """The registered task names, in listing order."""
    return list(TASKS)


def get_task(name: str | Task) -> Task:
    """The task called ``name`` (a ``Task`` is returned as is).

    ``"package.module:NAME"`` imports a user's own ``Task`` object.

    Raises:
        ValueError: unknown name, with the closest registered name suggested.
        TypeError: a name that is not a string, or an import that is not a ``Task``.
    """
    if isinstance(name, Task):
        return name
    task = lookup(TASKS, name, "task")
    if not isinstance(task, Task):
        raise TypeError(f"task {name!r} must be an interactions.tasks.Task, got {type(task).__name__}")
    return task


def parse_tasks(spec: str | Iterable[str]) -> list[Task]:
    """Tasks from ``"all"``, a comma-separated string ``"capacity_1bit,bias_1"`` or a list of names.

    Raises:
        ValueError: an unknown name (with a suggestion), an empty list or a repeated name.
    """
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s).strip() for s in spec]
    if items == ["all"]:
        return list(TASKS.values())
    if not items or not all(items):
        raise ValueError(f"tasks must be 'all' or a comma-separated list of task names, got {spec!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"a task is named twice in {spec!r}")
    return [get_task(item) for item in items]


# ------------------------------------------------------------------------------------- tasks into configs
def task_overrides(task: str | Task) -> list[str]:
    """The ``--set`` overrides that put ``task``'s pre-training generator into any base config.

    ``generator.params`` is replaced as a whole (a base config's generator parameters do not leak in).

    Returns:
        ``['generator.name="xor"', "generator.params={...}", *task.overrides]`` (TOML values).
    """
    from .config_io import format_value

    task = get_task(task)
    return [
        f"generator.name={format_value(task.generator)}",
        f"generator.params={format_value(task.generator_params())}",
        *task.overrides,
    ]


def _encoders(model: Mapping[str, Any]) -> list[str]:
    encoder = model.get("encoder", "auto")
    if isinstance(encoder, str):
        return [encoder, encoder]
    if isinstance(encoder, Sequence) and len(encoder) == 2 and all(isinstance(e, str) for e in encoder):
        return list(encoder)
    raise ValueError(f"model.encoder must be a name or a pair of names, got {encoder!r}")


def check_task_model(task: str | Task, config: Any = None, overrides: Sequence[str] = ()) -> None:
    """Check, before any training, that the model of ``config`` can encode ``task``'s data.

    An image generator needs an image encoder (``"cnn"``, ``"alexnet"`` or ``"auto"``) and a vector
    generator a vector one (``"mlp"`` or ``"auto"``), for each modality.

    Args:
        task: a task or its name.
        config: the base config (shipped name, TOML path or dict); None = the task's own ``config``.
        overrides: further ``"key=value"`` overrides applied after the task's.

    Raises:
        ValueError: naming the task, the modality, its shape and the encoder, and saying what to change.
    """
    task = get_task(task)
    base = task.config if config is None else config
    cfg = apply_overrides(load(base), [*task_overrides(task), *overrides])
    model = cfg.get("model", {})
    if not isinstance(model, Mapping):
        raise TypeError(f"model must be a table (dict), got {model!r}")
    shapes = task.make_generator().shapes
    for modality, (encoder, shape) in enumerate(zip(_encoders(model), shapes), start=1):
        images = len(shape) > 1
        if images and encoder == "mlp" or not images and encoder in ("cnn", "alexnet"):
            kind, fits = ("images", "'cnn' or 'auto'") if images else ("vectors", "'mlp' or 'auto'")
            base_name = base if isinstance(base, str) else "the given config"
            raise ValueError(
                f"task {task.name!r} draws {kind} of shape {tuple(shape)} for modality {modality}, which "
                f"model.encoder = {model.get('encoder')!r} of {base_name!r} cannot encode: set "
                f"model.encoder = {fits}, or run the task on its own config {task.config!r}"
            )


def task_config(task: str | Task, config: Any = None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The complete, resolved config of ``task`` on a base config (checked before any training).

    Args:
        task: a task or its name.
        config: the base config; None = the task's own ``config`` (``"xor"`` or ``"trifeature_cpu"``).
        overrides: further ``"key=value"`` overrides (e.g. ``objective.name=cross``), applied last.

    Returns:
        The complete config dict (``interactions.config.resolve(...).config``), with the task's generator.
    """
    from .config import resolve

    task = get_task(task)
    check_task_model(task, config, overrides)
    return resolve(task.config if config is None else config, [*task_overrides(task), *overrides]).config


# ------------------------------------------------------------------------------------------------ listing
def _level_text(level: float | str) -> str:
    return f"{level:g}" if isinstance(level, (int, float)) else str(level)


def task_line(task: str | Task) -> str:
    """One line of ``interactions list tasks``: true bits, axis=level, protocol, scored terms, description."""
    task = get_task(task)
    truth = task.ground_truth().as_dict()
    bits = "  ".join(f"{TERM_LABELS[t]} {truth[t]:5.3f}" for t in TERMS)
    grade = f"{task.axis}={_level_text(task.level)}"
    scores = "scores " + (",".join(TERM_LABELS[t] for t in task.terms) or "none")
    return f"{bits}  {grade:<20} {task.protocol:<17} {scores:<16} {task.description}"


def list_entries() -> list[tuple[str, str]]:
    """``(name, task_line)`` of every task, as ``interactions list tasks`` prints them."""
    return [(name, task_line(task)) for name, task in TASKS.items()]


def grades_table() -> list[dict[str, Any]]:
    """Every (task, axis, level) point, one dict per point (tasks on several axes appear once per axis).

    For capture-against-strength curves: group by ``axis`` and plot capture against ``level``.
    """
    return [
        {"task": task.name, "axis": axis, "level": level}
        for task in TASKS.values()
        for axis, level in task.grades()
    ]


__all__ = [
    "TASKS",
    "TERM_LABELS",
    "Task",
    "check_task_model",
    "get_task",
    "grades_table",
    "list_entries",
    "names",
    "parse_tasks",
    "task_config",
    "task_line",
    "task_overrides",
]
