"""The generator protocol: a dataset that knows its own redundancy, uniqueness and synergy.

A generator is a frozen dataclass whose fields are its hyper-parameters, validated in ``__post_init__``
(``ValueError`` naming the offending value). It draws ``BimodalSample``s and returns the analytic truth of
the distribution it draws from, following bmi's sampler that knows its mutual information.

Randomness: every method that draws takes ``seed`` (an int or a ``numpy.random.Generator``) and touches no
global random state. The same seed gives identical arrays; another seed gives different ones.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import os
from typing import Any, ClassVar, Union

import numpy as np

from interactions.types import BimodalSample, InteractionSpec

SeedLike = Union[int, np.integer, np.random.Generator, np.random.SeedSequence]

#: The splits a generator can draw from. Synthetic generators draw the same distribution for both
#: (independent draws come from independent seeds); Trifeature keeps disjoint attribute combinations.
SPLITS: tuple[str, ...] = ("train", "test")


def as_rng(seed: SeedLike) -> np.random.Generator:
    """A fresh ``numpy.random.Generator`` from an int, a ``SeedSequence`` or a generator (used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def check_n(n: Any) -> int:
    """Validate a sample count (a positive int)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be a positive int, got {n!r}")
    if n <= 0:
        raise ValueError(f"n must be > 0, got {n}")
    return int(n)


#: A sample may use at most this fraction of the machine's physical memory for x1 and x2.
MEMORY_FRACTION = 0.8


def memory_limit_bytes() -> int | None:
    """``MEMORY_FRACTION`` of the physical memory in bytes, or None where the OS does not say."""
    try:
        return int(MEMORY_FRACTION * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def sample_bytes(shapes: tuple[tuple[int, ...], ...], n: int) -> int:
    """Estimated bytes of ``n`` samples' inputs: ``n * sum(prod(shape)) * 4`` (float32)."""
    return int(n) * 4 * sum(int(np.prod(shape)) for shape in shapes)


def check_fits_in_memory(what: str, shapes: tuple[tuple[int, ...], ...], n: Any) -> None:
    """Refuse ``n`` samples whose inputs alone would exceed ``memory_limit_bytes()``, before allocating.

    Raises:
        ValueError: naming ``what`` (e.g. "train.n_train=1000000000"), the estimate and the limit in GB.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        return  # check_n reports a bad type
    need, limit = sample_bytes(shapes, n), memory_limit_bytes()
    if limit is not None and need > limit:
        raise ValueError(
            f"{what} needs about {need / 1e9:.1f} GB for its inputs alone, more than the "
            f"{limit / 1e9:.1f} GB this machine allows ({MEMORY_FRACTION:.0%} of its memory); "
            "draw fewer samples"
        )


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """Validate an integer hyper-parameter in ``[lo, hi]`` (``hi=None``: unbounded); bools are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if hi is None and value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value}")
    if hi is not None and not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return int(value)


def check_split(split: str) -> str:
    """Validate a split name."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


class Generator(abc.ABC):
    """Base class of all generators (subclasses are frozen dataclasses).

    Subclasses set the class attribute ``name`` (the registry key) and implement ``sample``, ``views``,
    ``ground_truth``, ``n_classes`` and ``shapes``. ``unbiased`` returns the generator of the evaluation
    distribution (the same one unless the generator has a training bias).
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's ``sample`` first refuses sizes that cannot fit in memory (no allocation)."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("sample")
        if own is None or getattr(own, "checks_memory", False) or getattr(own, "__isabstractmethod__", False):
            return

        @functools.wraps(own)
        def sample(self: Generator, n: int, *args: Any, **kwargs: Any) -> BimodalSample:
            check_fits_in_memory(f"{type(self).__name__}.sample(n={n})", self.shapes, n)
            return own(self, n, *args, **kwargs)

        sample.checks_memory = True  # type: ignore[attr-defined]
        cls.sample = sample  # type: ignore[method-assign]

    @abc.abstractmethod
    def sample(self, n: int, seed: SeedLike = 0, *, split: str = "train") -> BimodalSample:
        """Draw ``n`` samples. Returns a ``BimodalSample`` with x1 (n, *shapes[0]) and x2 (n, *shapes[1])."""

    @abc.abstractmethod
    def views(self, sample: BimodalSample, seed: SeedLike = 0) -> BimodalSample:
        """Re-observe the latent terms of ``sample`` with fresh nuisance: same targets, new x1 and x2.

        This is the exact label-preserving augmentation (the CoMM paper's minimal label-preserving
        multimodal augmentation, made exact).
        """

    @abc.abstractmethod
    def ground_truth(self) -> InteractionSpec:
        """Analytic information (bits) of the distribution ``sample`` draws from; no sampling."""

    @property
    @abc.abstractmethod
    def n_classes(self) -> dict[str, int]:
        """Number of classes of each term's target label."""

    @property
    @abc.abstractmethod
    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Per-sample shape of x1 and of x2 (e.g. ``((32,), (32,))`` or ``((3, 32, 32), (3, 32, 32))``)."""

    def unbiased(self) -> Generator:
        """The generator of the unbiased evaluation distribution (probes always use it)."""
        if "bias" in {f.name for f in dataclasses.fields(self)}:  # type: ignore[arg-type]
            return dataclasses.replace(self, bias=0.0)  # type: ignore[type-var]
        return self

    def params(self) -> dict[str, Any]:
        """The hyper-parameters as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]
