"""Multimodal interaction analysis: train CoMM and its baselines and measure what they keep.

Importing this package is cheap (no torch): it exposes the shared types. Training entry points are loaded
on first use, so that ``generators``, ``estimators`` and ``reports`` can import ``interactions.types``
without an import cycle.

Example:
    >>> import interactions
    >>> result = interactions.run("xor", overrides=["train.epochs=2"])  # doctest: +SKIP
    >>> result.capture  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from .types import TERMS, BimodalSample, InteractionSpec

__version__ = "0.1.0"


def run(config: Any, overrides: list[str] | None = None, **kwargs: Any) -> Any:
    """Run one experiment (see ``interactions.experiment.run``)."""
    from .experiment import run as _run

    return _run(config, overrides=overrides, **kwargs)


def load_run(run_dir: Any, device: str = "cpu") -> Any:
    """Load a finished run's config, result and trained model (see ``interactions.experiment.load_run``)."""
    from .experiment import load_run as _load_run

    return _load_run(run_dir, device=device)


def register_objective(name: str, cls: type) -> None:
    """Register a user's objective class under ``name`` (see ``interactions.objectives``)."""
    from .objectives import register_objective as _register

    _register(name, cls)


__all__ = [
    "TERMS",
    "BimodalSample",
    "InteractionSpec",
    "__version__",
    "load_run",
    "register_objective",
    "run",
]
