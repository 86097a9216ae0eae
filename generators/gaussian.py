"""``gaussian``: jointly Gaussian (x1, x2, y) with a closed-form decomposition (validates estimators).

The vector (x1, x2, y) is zero-mean Gaussian with covariance ``cov``, ordered x1 (``dim_1`` coordinates),
x2 (``dim_2``), y (one coordinate). ``ground_truth`` is the minimum-mutual-information decomposition of
Barrett (2015), which equals BROJA for the scalar target y (``interactions.gaussian_info``); it refers to the
**continuous** y, kept in ``latents["y"]``.

Targets: the toolkit's targets are integer labels, so every term's target is the same label, y binned into
``n_bins`` equiprobable classes at the quantiles of its marginal N(0, cov_yy). The binned label carries at
most the information of y (data processing), so the spec is an upper bound for what a probe of the label
can show; estimators of continuous information should use ``latents["y"]``.

Views: a Gaussian has no nuisance separate from its signal, so ``views`` keeps y (and the targets) and
re-draws (x1, x2) from their exact conditional law given y, N(coef @ y, cov_{x|y}).

Presets (scalar x1, x2; ``dim_i > 1`` pads modality i with independent N(0, 1) coordinates that carry no
information); values R / U1 / U2 / S in bits:

* ``redundant``: x_i = y + 0.6 n + e_i, y, n ~ N(0, 1), e_i ~ N(0, 0.05): .891 / 0 / 0 / .032
* ``unique``: x1 = y + N(0, 0.3), x2 independent of y: 0 / 1.058 / 0 / 0
* ``synergistic``: x1, x2 unit variance with correlation .8, y = x1 - x2 + N(0, 0.1): .060 / 0 / 0 / 1.101
* ``mixed``: x1, x2 with correlation .3, y = x1 + x2 / 2 + N(0, 0.5): .270 / .477 / 0 / .271
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.stats import norm

from interactions.gaussian_info import check_covariance, gaussian_conditional, gaussian_mmi_pid
from interactions.registry import suggest
from interactions.types import TERMS, BimodalSample, InteractionSpec

from .base import SPLITS, Generator, SeedLike, check_int, check_n, check_split
from .xor import stream_rng

#: Covariances of (x1, x2, y) of the presets (construction in the module docstring).
PRESETS: dict[str, tuple[tuple[float, ...], ...]] = {
    "redundant": ((1.41, 1.36, 1.0), (1.36, 1.41, 1.0), (1.0, 1.0, 1.0)),
    "unique": ((1.3, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 1.0)),
    "synergistic": ((1.0, 0.8, 0.2), (0.8, 1.0, -0.2), (0.2, -0.2, 0.5)),
    "mixed": ((1.0, 0.3, 1.15), (0.3, 1.0, 0.8), (1.15, 0.8, 2.05)),
}
DEFAULT_PRESET = "mixed"
_VIEW_STREAM = len(SPLITS)


def padded_preset(preset: str, dim_1: int, dim_2: int) -> np.ndarray:
    """The preset's 3x3 covariance with ``dim_i - 1`` independent unit coordinates appended to modality i.

    Returns:
        Covariance of (x1, x2, y), shape (dim_1 + dim_2 + 1, dim_1 + dim_2 + 1); x_i's signal coordinate
        is the first of its block.
    """
    base = np.array(PRESETS[preset], dtype=np.float64)
    d = dim_1 + dim_2 + 1
    cov = np.eye(d)
    pos = [0, dim_1, d - 1]  # where the preset's x1, x2 and y sit
    cov[np.ix_(pos, pos)] = base
    return cov


@dataclass(frozen=True)
class GaussianGenerator(Generator):
    """Jointly Gaussian x1 (dim_1), x2 (dim_2) and scalar y with a known MMI (= BROJA) decomposition.

    Args:
        preset: one of ``PRESETS`` (default ``"mixed"`` when ``cov`` is not given); not with ``cov``.
        cov: a user covariance of (x1, x2, y), nested list of shape (dim_1 + dim_2 + 1) squared,
            symmetric positive definite.
        dim_1: width of x1.
        dim_2: width of x2.
        n_bins: number of equiprobable classes of the binned target (2..64).

    Example:
        >>> gen = GaussianGenerator(preset="synergistic")
        >>> round(gen.ground_truth().synergy, 3), gen.sample(4, seed=0).x1.shape
        (1.101, (4, 1))
    """

    name: ClassVar[str] = "gaussian"

    preset: str | None = None
    cov: Any | None = None
    dim_1: int = 1
    dim_2: int = 1
    n_bins: int = 4

    def __post_init__(self) -> None:
        check_int("dim_1", self.dim_1, 1, 1024)
        check_int("dim_2", self.dim_2, 1, 1024)
        check_int("n_bins", self.n_bins, 2, 64)
        d = self.dim_1 + self.dim_2 + 1
        if self.cov is None:
            preset = DEFAULT_PRESET if self.preset is None else self.preset
            if preset not in PRESETS:
                raise ValueError(
                    f"unknown preset {preset!r}{suggest(str(preset), PRESETS)}; known: {', '.join(PRESETS)}"
                )
            matrix = padded_preset(preset, self.dim_1, self.dim_2)
        else:
            if self.preset is not None:
                raise ValueError(f"give either preset or cov, not both (preset={self.preset!r})")
            matrix = check_covariance(self.cov, "cov")
            if matrix.shape != (d, d):
                raise ValueError(
                    f"cov must have shape ({d}, {d}) for dim_1={self.dim_1}, dim_2={self.dim_2} and a "
                    f"scalar y, got {matrix.shape}"
                )
            # hashable, JSON-friendly and immutable, like the other fields
            object.__setattr__(self, "cov", tuple(tuple(float(v) for v in row) for row in matrix))
        object.__setattr__(self, "_matrix", matrix)

    @property
    def covariance(self) -> np.ndarray:
        """Covariance of (x1, x2, y), shape (dim_1 + dim_2 + 1, dim_1 + dim_2 + 1) (a copy)."""
        return self._matrix.copy()  # type: ignore[attr-defined]

    def _blocks(self) -> tuple[list[int], list[int], int]:
        x1 = list(range(self.dim_1))
        x2 = list(range(self.dim_1, self.dim_1 + self.dim_2))
        return x1, x2, self.dim_1 + self.dim_2

    @property
    def n_classes(self) -> dict[str, int]:
        return {t: self.n_bins for t in TERMS}

    @property
    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (self.dim_1,), (self.dim_2,)

    def unbiased(self) -> GaussianGenerator:
        """The evaluation generator: itself (the Gaussian generator has no training bias)."""
        return self

    def ground_truth(self, split: str = "train") -> InteractionSpec:
        """Closed-form MMI PID (= BROJA, scalar y) of I(x1, x2; y) for the continuous y, in bits.

        Both splits draw from the same distribution, so ``split`` is only validated.
        """
        check_split(split)
        x1, x2, y = self._blocks()
        spec = gaussian_mmi_pid(self._matrix, x1, x2, [y])  # type: ignore[attr-defined]
        note = (
            f"{spec.note}; refers to the continuous y in latents['y']; targets are y binned into "
            f"{self.n_bins} equiprobable classes (same label for every term)"
        )
        return InteractionSpec(*spec.as_dict().values(), measure="mmi", note=note)

    def bin_edges(self) -> np.ndarray:
        """Inner edges of the equiprobable bins of y's marginal N(0, cov_yy), shape (n_bins - 1,)."""
        sd = float(np.sqrt(self._matrix[-1, -1]))  # type: ignore[attr-defined]
        return sd * norm.ppf(np.arange(1, self.n_bins) / self.n_bins)

    def sample(self, n: int, seed: SeedLike = 0, *, split: str = "train") -> BimodalSample:
        """Draw ``n`` samples; ``split`` only selects an independent random stream (same distribution).

        Returns:
            ``BimodalSample`` with x1 float32 (n, dim_1), x2 float32 (n, dim_2), every target the binned
            y (int64, (n,)), and ``latents["y"]`` the continuous y (float64, (n,)).
        """
        n = check_n(n)
        rng = stream_rng(seed, SPLITS.index(check_split(split)))
        chol = np.linalg.cholesky(self._matrix)  # type: ignore[attr-defined]
        v = rng.standard_normal((n, len(chol))) @ chol.T  # (n, d) ~ N(0, cov)
        meta = {"split": split, "seed": int(seed) if isinstance(seed, (int, np.integer)) else None}
        return self._wrap(v[:, : self.dim_1 + self.dim_2], v[:, -1], meta)

    def views(self, sample: BimodalSample, seed: SeedLike = 0) -> BimodalSample:
        """Keep y and the targets; re-draw (x1, x2) from their conditional law given y."""
        y = sample.latents.get("y")
        if y is None or y.shape != (len(sample),):
            raise ValueError(
                f"sample.latents['y'] must have shape ({len(sample)},), got {getattr(y, 'shape', None)}"
            )
        x1, x2, yi = self._blocks()
        coef, cond = gaussian_conditional(self._matrix, [yi], x1 + x2)  # type: ignore[attr-defined]
        rng = stream_rng(seed, _VIEW_STREAM)
        noise = rng.standard_normal((len(y), len(cond))) @ np.linalg.cholesky(cond).T
        meta = dict(sample.meta, view_seed=int(seed) if isinstance(seed, (int, np.integer)) else None)
        return self._wrap(y[:, None] @ coef.T + noise, np.asarray(y, dtype=np.float64), meta)

    def _wrap(self, x: np.ndarray, y: np.ndarray, meta: dict[str, Any]) -> BimodalSample:
        label = np.searchsorted(self.bin_edges(), y).astype(np.int64)
        return BimodalSample(
            x1=x[:, : self.dim_1].astype(np.float32),
            x2=x[:, self.dim_1 :].astype(np.float32),
            targets={t: label.copy() for t in TERMS},
            latents={"y": y},
            spec=self.ground_truth(),
            meta={"generator": self.name, "params": self.params(), **meta},
        )
