"""Training objectives: CoMM, its baselines and later objectives (InfMasking, COrAL, SynIB), one small
module each, maths in ``functional``. ConFu is not registered: it is defined for three or more modalities
and reduces to Cross with two (see docs/objectives.md).

``OBJECTIVES`` maps names to classes (the dict order is the order in figures). A user's objective is an
``Objective`` subclass; register it with ``register_objective(name, cls)`` or name it in a config as
``"package.module:Class"``, and check it with ``check_objective(cls, **params)``.

Registrations and worker processes: ``register_objective`` also records where the class can be imported
from (``"module:qualname"``). A sweep with worker processes (spawned interpreters, or Ray tasks) replays
those records in each worker (``replay_registrations``) before running, so a registered name works there
too. A class that cannot be imported by name (defined inside a function, or in an interactive session)
is refused by such a sweep with an error that says how to make it importable.
"""

from __future__ import annotations

import sys

from interactions.registry import import_object, lookup

from .base import LossOutput, Objective, validate_objective_class
from .checks import ObjectiveContractError, check_objective
from .comm import CoMM
from .coral import COrAL
from .cross import Cross
from .cross_self import CrossSelf
from .factorcl import FactorCL
from .infmasking import InfMasking
from .simclr import SimCLR
from .supervised import Supervised
from .synib import SynIB

#: name -> objective class.
OBJECTIVES: dict[str, type[Objective]] = {
    "comm": CoMM,
    "cross": Cross,
    "cross_self": CrossSelf,
    "simclr": SimCLR,
    "factorcl": FactorCL,
    "supervised": Supervised,
    "infmasking": InfMasking,
    "coral": COrAL,
    "synib": SynIB,
}


#: name -> "module:qualname" (or None when not importable) of each objective registered from Python.
_REGISTERED: dict[str, str | None] = {}


def import_path(cls: type) -> str | None:
    """``"module:qualname"`` that imports ``cls`` in another process, or None when there is none."""
    module, qualname = getattr(cls, "__module__", None), getattr(cls, "__qualname__", "")
    if not module or "<locals>" in qualname:
        return None
    if module == "__main__" and not getattr(sys.modules.get("__main__"), "__file__", None):
        return None  # an interactive session: spawned workers have no such __main__
    return f"{module}:{qualname}"


def registrations() -> dict[str, str | None]:
    """The objectives registered from Python in this process: name -> ``"module:qualname"`` (or None)."""
    return dict(_REGISTERED)


def replay_registrations(records: dict[str, str | None]) -> None:
    """Register ``records`` (from ``registrations()`` of another process) here, importing each class.

    Raises:
        ValueError: a record without an import path, or one whose import fails (naming the objective).
    """
    for name, path in records.items():
        if name in OBJECTIVES and _REGISTERED.get(name) == path:
            continue
        if path is None:
            raise ValueError(unimportable_message(name))
        register_objective(name, import_object(path, f"registered objective {name!r}"), overwrite=True)


def unimportable_message(name: str) -> str:
    """Why a registered objective cannot reach worker processes, and what to do about it."""
    cls = OBJECTIVES.get(name)
    where = f"{cls.__module__}.{cls.__qualname__}" if cls is not None else name
    return (
        f"objective {name!r} ({where}) was registered from Python but cannot be imported by name, so sweep "
        "worker processes cannot get it: define the class at the top level of an importable module (a .py "
        "file on sys.path), or name it in the config as 'module:Class', or run the sweep with workers=1"
    )


def names() -> list[str]:
    """The registered objective names."""
    return list(OBJECTIVES)


def register_objective(name: str, cls: type[Objective], *, overwrite: bool = False) -> None:
    """Add ``cls`` to ``OBJECTIVES`` under ``name``.

    Raises:
        TypeError: ``cls`` is not an ``Objective`` subclass, or ``name`` is not a string.
        ValueError: a class attribute is invalid, or ``name`` is taken by another class (unless
            ``overwrite``).
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise TypeError(f"objective name must be a non-empty string without ':', got {name!r}")
    validate_objective_class(cls)
    if name in OBJECTIVES and OBJECTIVES[name] is not cls and not overwrite:
        raise ValueError(
            f"objective name {name!r} is already taken by {OBJECTIVES[name].__name__}; "
            "pass overwrite=True to replace it"
        )
    OBJECTIVES[name] = cls
    _REGISTERED[name] = import_path(cls)


def get_objective(name: str) -> type[Objective]:
    """The class registered as ``name``, or imported from ``"package.module:Class"`` (then validated)."""
    cls = lookup(OBJECTIVES, name, "objective")
    validate_objective_class(cls)
    return cls


__all__ = [
    "OBJECTIVES",
    "COrAL",
    "CoMM",
    "Cross",
    "CrossSelf",
    "FactorCL",
    "InfMasking",
    "LossOutput",
    "Objective",
    "ObjectiveContractError",
    "SimCLR",
    "Supervised",
    "SynIB",
    "check_objective",
    "get_objective",
    "import_path",
    "names",
    "register_objective",
    "registrations",
    "replay_registrations",
]
