"""k-means discretisation of continuous features, for plug-in PID of representations and raw modalities.

Liang et al. (2023, "Quantifying & modeling multimodal interactions", NeurIPS) cluster each modality (and
the learned representations) with k-means before estimating the discrete PID; this is the same step.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def discretize(features: Any, n_clusters: int, seed: int = 0) -> np.ndarray:
    """Cluster features with k-means and return one integer code per row.

    Args:
        features: array of shape (n, D) (a 1-D array is read as (n, 1)), finite real values.
        n_clusters: number of k-means clusters, 1 <= n_clusters <= n.
        seed: random state of k-means (same seed -> same codes).

    Returns:
        int64 codes of shape (n,), values in 0..n_clusters-1.

    Raises:
        TypeError: non-numeric features or a non-integer ``n_clusters``.
        ValueError: empty or non-finite features, more than 2 axes, ``n_clusters`` out of range.
    """
    from sklearn.cluster import KMeans

    arr = np.asarray(features)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"features must be a numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"features must have shape (n, D) with n, D >= 1, got {np.shape(features)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("features must be finite (found NaN or inf)")
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)):
        raise TypeError(f"n_clusters must be an int, got {n_clusters!r}")
    if not 1 <= n_clusters <= arr.shape[0]:
        raise ValueError(f"n_clusters must be in 1..{arr.shape[0]} (number of rows), got {n_clusters}")
    model = KMeans(n_clusters=int(n_clusters), n_init=10, random_state=seed)
    return model.fit_predict(arr).astype(np.int64)
