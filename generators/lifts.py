"""Fixed, seeded, injective maps from latent blocks to observed vectors (the "lifts" of the generators).

A lift hides simple latents (bits, nuisance) inside a wider, nonlinearly mixed observation without losing
anything: every map here is injective, so the information the observation carries about any target equals
the information the latents carry (the rule of bmi's MI-preserving transforms).

Two building blocks:

* ``parity_couple``: each bit (as +-1) is multiplied by the signs of a few nuisance coordinates. The output
  bit is then independent of the input bit unless the nuisance signs are known, so a model reads the bit
  only if it has learned the interaction with the nuisance (a parity of order ``coupling + 1``). The map is
  its own inverse for fixed nuisance, hence injective on (bits, nuisance).
* ``Lift``: ``depth`` layers ``h <- phi(W h + b)`` with ``W`` of orthonormal columns times a gain (full
  column rank, so injective) and ``phi(t) = tanh(t) + slope * t`` (strictly increasing, so injective).
  ``Lift.inverse`` is an exact left inverse on the lift's image, used by the tests to prove injectivity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BISECTION_STEPS = 64


def signs(z: np.ndarray) -> np.ndarray:
    """Elementwise sign as +-1 with ``sign(0) = +1`` (a measure-zero convention), same shape as ``z``."""
    return np.where(z >= 0, 1.0, -1.0)


def parity_couple(bits_pm: np.ndarray, nuisance: np.ndarray, coupling: int) -> np.ndarray:
    """Multiply bit ``j`` by the signs of nuisance columns ``j*coupling .. (j+1)*coupling - 1``.

    For a fixed nuisance the map is an involution, so ``parity_couple(parity_couple(b, z, c), z, c) == b``.
    Disjoint nuisance groups keep products of two coupled bits free of information about the raw bits.

    Args:
        bits_pm: bits as +-1, shape (n, k).
        nuisance: continuous nuisance, shape (n, m) with ``m >= k * coupling``.
        coupling: number of nuisance signs per bit (0 returns the bits unchanged).

    Returns:
        Coupled bits as +-1, shape (n, k), float64.
    """
    n, k = bits_pm.shape
    if coupling < 0 or nuisance.shape[0] != n or nuisance.shape[1] < k * coupling:
        raise ValueError(
            f"parity_couple needs nuisance with >= {k * coupling} columns for {k} bits and coupling "
            f"{coupling}, got shape {nuisance.shape}"
        )
    out = bits_pm.astype(np.float64, copy=True)
    if coupling and k:
        group_signs = signs(nuisance[:, : k * coupling]).reshape(n, k, coupling)
        out *= group_signs.prod(axis=2)
    return out


def leaky_tanh(t: np.ndarray, slope: float) -> np.ndarray:
    """``tanh(t) + slope * t``: strictly increasing for ``slope > 0`` (derivative >= slope)."""
    return np.tanh(t) + slope * t


def leaky_tanh_inverse(y: np.ndarray, slope: float) -> np.ndarray:
    """The inverse of ``leaky_tanh`` by bisection (exact to float64 rounding).

    Since ``|leaky_tanh(t) - slope * t| < 1``, the root lies in ``[(y - 1) / slope, (y + 1) / slope]``.
    """
    lo = (y - 1.0) / slope
    hi = (y + 1.0) / slope
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = leaky_tanh(mid, slope) > y
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True, eq=False)
class Lift:
    """An injective map R^in_dim -> R^out_dim: ``depth`` layers of ``leaky_tanh(W h + b)``.

    Attributes:
        weights: per layer, shape (out_dim, fan_in), orthonormal columns times ``gain``.
        biases: per layer, shape (out_dim,).
        slope: the linear leak of ``leaky_tanh`` (> 0).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    slope: float

    @property
    def in_dim(self) -> int:
        return self.weights[0].shape[1]

    @property
    def out_dim(self) -> int:
        return self.weights[-1].shape[0]

    def __call__(self, h: np.ndarray) -> np.ndarray:
        """Apply the lift. Shape: (n, in_dim) -> (n, out_dim), float64."""
        h = np.asarray(h, dtype=np.float64)
        for w, b in zip(self.weights, self.biases):
            h = leaky_tanh(h @ w.T + b, self.slope)  # (n, fan_in) @ (fan_in, out_dim)
        return h

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Exact left inverse on the image of the lift. Shape: (n, out_dim) -> (n, in_dim).

        Each layer is undone by inverting ``leaky_tanh`` and applying the pseudo-inverse of ``W`` (which is
        ``W.T / gain**2`` for orthonormal columns). Off the image (e.g. with observation noise) this is the
        least-squares pre-image of each layer, not of the whole map.
        """
        h = np.asarray(x, dtype=np.float64)
        for w, b in zip(reversed(self.weights), reversed(self.biases)):
            pre = leaky_tanh_inverse(h, self.slope) - b
            h = pre @ np.linalg.pinv(w).T  # (n, out_dim) @ (out_dim, fan_in)
        return h


def make_lift(in_dim: int, out_dim: int, *, depth: int, gain: float, slope: float, seed: int) -> Lift:
    """Draw a fixed injective lift from ``seed`` (a private ``numpy.random.Generator``).

    Args:
        in_dim: latent width (must be <= ``out_dim`` for a full-column-rank first layer).
        out_dim: observed width.
        depth: number of layers (>= 1).
        gain: scale of the orthonormal weight columns; larger means more saturated, more nonlinear mixing.
        slope: leak of the nonlinearity (> 0).
        seed: seed of the weights and biases.

    Returns:
        The ``Lift``.
    """
    if in_dim > out_dim:
        raise ValueError(f"an injective lift needs in_dim <= out_dim, got {in_dim} > {out_dim}")
    if depth < 1 or gain <= 0 or slope <= 0:
        raise ValueError(f"need depth >= 1, gain > 0, slope > 0; got {depth}, {gain}, {slope}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), in_dim, out_dim, depth]))
    weights, biases = [], []
    fan_in = in_dim
    for _ in range(depth):
        q, r = np.linalg.qr(rng.standard_normal((out_dim, fan_in)))
        q = q * np.sign(np.diag(r))  # a Haar-distributed frame, independent of QR sign conventions
        weights.append(gain * q)
        biases.append(0.5 * rng.standard_normal(out_dim))
        fan_in = out_dim
    return Lift(tuple(weights), tuple(biases), float(slope))
