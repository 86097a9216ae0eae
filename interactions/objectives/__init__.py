"""Training objectives: CoMM, its baselines and later objectives (InfMasking, COrAL, SynIB), one small
module each, maths in ``functional``. ConFu is not registered: it is defined for three or more modalities
and reduces to Cross with two (see docs/objectives.md).

``OBJECTIVES`` maps names to classes (the dict order is the order in figures). A user's objective is an
``Objective`` subclass; register it with ``register_objective(name, cls)`` or name it in a config as
``"package.module:Class"``, and check it with ``check_objective(cls, **params)``.
"""

from __future__ import annotations

from interactions.registry import lookup

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
    "names",
    "register_objective",
]
