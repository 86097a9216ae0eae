"""Plug-in entropy and mutual information of discrete codes, in bits, and unit conversions.

These are the empirical (plug-in, maximum-likelihood) estimates: the entropy of the empirical distribution
of the codes. They are exact for the empirical distribution and biased for the population: the plug-in
entropy is biased low and the plug-in mutual information biased high, by about (#cells - 1) / (2 n ln 2)
bits (Miller 1955; Paninski 2003, Neural Computation 15:1191).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Gaussian closed forms (bits) live with the shared types; re-exported here as the estimators' reference.
from interactions.gaussian_info import gaussian_mi_bits, gaussian_mmi_pid

__all__ = [
    "BITS_TO_NATS", "NATS_TO_BITS", "as_codes", "bits_to_nats", "entropy_bits", "gaussian_mi_bits",
    "gaussian_mmi_pid", "joint_codes", "mutual_information_bits", "nats_to_bits",
]  # fmt: skip

#: Multiply a value in nats by this to get bits (1 / ln 2).
NATS_TO_BITS: float = 1.0 / math.log(2.0)
#: Multiply a value in bits by this to get nats (ln 2).
BITS_TO_NATS: float = math.log(2.0)


def nats_to_bits(value: Any) -> Any:
    """Convert nats to bits (works on floats and arrays)."""
    return value * NATS_TO_BITS


def bits_to_nats(value: Any) -> Any:
    """Convert bits to nats (works on floats and arrays)."""
    return value * BITS_TO_NATS


def as_codes(labels: Any, name: str = "labels") -> np.ndarray:
    """Validate discrete labels and return them as a 1-D int64 array.

    Args:
        labels: shape (n,), integer class codes (any non-negative or negative ints; only equality matters).
        name: the argument name used in error messages.

    Raises:
        TypeError: for non-integer dtypes (floats are rejected rather than guessed at).
        ValueError: for a wrong number of dimensions or an empty array.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise TypeError(f"{name} must hold integer class codes, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def distribution_entropy_bits(p: Any) -> float:
    """Shannon entropy in bits of a probability array of any shape (0 log 0 = 0; not renormalised)."""
    p = np.asarray(p, dtype=float).ravel()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def entropy_bits(labels: Any) -> float:
    """Plug-in entropy H(T) of discrete labels, in bits.

    Args:
        labels: shape (n,), integer codes.

    Returns:
        -sum_t p(t) log2 p(t) with p the empirical frequencies; 0 for a single class.
    """
    codes = as_codes(labels)
    _, counts = np.unique(codes, return_counts=True)
    return distribution_entropy_bits(counts / counts.sum())


def joint_codes(*columns: Any) -> np.ndarray:
    """One int code per row for the tuple of discrete columns (each shape (n,)): the joint variable."""
    if not columns:
        raise ValueError("joint_codes needs at least one column")
    arrays = [as_codes(c, f"column {i}") for i, c in enumerate(columns)]
    n = len(arrays[0])
    for i, a in enumerate(arrays):
        if len(a) != n:
            raise ValueError(f"column {i} has {len(a)} rows, column 0 has {n}")
    _, codes = np.unique(np.stack(arrays, axis=1), axis=0, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def mutual_information_bits(a: Any, b: Any) -> float:
    """Plug-in mutual information I(A; B) = H(A) + H(B) - H(A, B) of discrete codes, in bits.

    Args:
        a: shape (n,), integer codes.
        b: shape (n,), integer codes.

    Returns:
        The mutual information of the empirical joint distribution (>= 0 up to rounding; biased upward for
        the population value, see the module docstring).
    """
    a = as_codes(a, "a")
    b = as_codes(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    return entropy_bits(a) + entropy_bits(b) - entropy_bits(joint_codes(a, b))
