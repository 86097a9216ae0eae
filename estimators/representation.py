"""PID of a model's own representations: R, U1, U2, S that two learned feature sets carry about a target.

``capture`` asks how much of each *data* term a fused representation makes readable. This module asks the
complementary question of Liang et al. (2023, NeurIPS, "Quantifying and modeling multimodal interactions:
an information decomposition framework", arXiv 2302.12247, section 4 "estimating PID on continuous data"):
discretise two representations (e.g. the unimodal embeddings Z1 = f(X1), Z2 = f(X2) of a model) with
k-means, then decompose I(Z1, Z2; Y) into redundancy, uniqueness and synergy with the exact discrete PID.

Bias of the discretised PID (read before trusting small numbers):

* **Quantisation loses information**: k-means codes are a function of Z, so I(codes; Y) <= I(Z; Y); with too
  few clusters the partition can also move information between terms (two clusters that split a bit only
  jointly turn uniqueness into synergy).
* **Plug-in estimation inflates information**: the joint table has n_clusters_1 * n_clusters_2 * |Y| cells;
  plug-in MI is biased up by about (cells - 1) / (2 n ln 2) bits (Miller 1955), and that excess lands mostly
  in the synergy, which is estimated from the full joint. Keep n >> n_clusters_1 * n_clusters_2 * |Y|.
* The decomposition depends on the measure (BROJA, MMI, ...): name it when reporting.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _codes(z: Any, n_clusters: int, seed: int, name: str) -> np.ndarray:
    """Integer codes of z: a 1-D integer array is taken as already discrete, anything else is k-means'd."""
    from .discretize import discretize

    if hasattr(z, "detach") and hasattr(z, "cpu"):  # torch tensor, without importing torch
        z = z.detach().cpu().numpy()
    arr = np.asarray(z)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
        return arr
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, D) (or (n,) integer codes), got shape {arr.shape}")
    return np.asarray(discretize(arr, n_clusters, seed=seed))


def decompose_representation(
    z1: Any,
    z2: Any,
    y: Any,
    *,
    n_clusters: int | tuple[int, int] = 8,
    measure: str = "broja",
    seed: int = 0,
) -> Any:
    """Discretise two representations and decompose their information about a discrete target.

    Args:
        z1: shape (n, D1) features (e.g. a model's modality-1 embedding), numpy or torch; a 1-D integer
            array is used as codes without clustering.
        z2: shape (n, D2) features of the same rows (e.g. the modality-2 embedding).
        y: shape (n,), integer target labels (e.g. ``sample.targets[term]`` or a joint code of terms).
        n_clusters: k-means clusters for z1 and z2 (one int for both, or a pair).
        measure: the PID measure passed to ``estimators.pid_from_samples`` ("broja", "imin", "mmi").
        seed: k-means seed.

    Returns:
        The ``PIDResult`` of ``estimators.pid_from_samples`` (attributes redundancy, unique_1, unique_2,
        synergy in bits, measure, ...) for the codes of z1, z2 and y. See the module docstring for its bias.
    """
    from .pid import pid_from_samples

    if isinstance(n_clusters, (tuple, list)):
        if len(n_clusters) != 2:
            raise ValueError(f"n_clusters must be an int or a pair of ints, got {n_clusters!r}")
        k1, k2 = n_clusters
    else:
        k1 = k2 = n_clusters
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be an integer array of shape (n,), got {y.dtype} {y.shape}")
    if len(z1) != len(y) or len(z2) != len(y):
        raise ValueError(f"z1, z2 and y must have the same rows, got {len(z1)}, {len(z2)} and {len(y)}")
    codes1 = _codes(z1, k1, seed, "z1")
    codes2 = _codes(z2, k2, seed, "z2")
    return pid_from_samples(codes1, codes2, y, measure=measure)
