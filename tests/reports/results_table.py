"""A synthetic results table for the report tests (imported through ``tests/reports/conftest.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from interactions.types import TERMS
from reports.results import RESULT_COLUMNS

N_CLASSES = {"redundancy": 4, "unique_1": 4, "unique_2": 4, "synergy": 2}


def synthetic_table(objectives=("comm", "cross"), seeds=(0, 1, 2), epochs=3, grid=None) -> pd.DataFrame:
    """A results table with values that differ per objective, seed, epoch, term and grid setting.

    ``grid`` maps a dotted key to its values; every combination becomes runs of every objective and seed.
    """
    grid = grid or {"generator.params.biased": [False, True]}
    keys = list(grid)
    settings = pd.MultiIndex.from_product([grid[k] for k in keys]).tolist()
    rng = np.random.default_rng(0)
    rows = []
    for o, objective in enumerate(objectives):
        for setting in settings:
            for seed in seeds:
                run_id = f"{objective}-{setting}-{seed}"
                strength = float(sum(v for v in setting if not isinstance(v, str)))
                for epoch in range(epochs + 1):
                    for t, term in enumerate(TERMS):
                        floor = 0.1 + 0.01 * t + 0.005 * seed
                        capture = (
                            floor
                            + epoch * (0.1 + 0.05 * o + 0.02 * t + 0.03 * strength)
                            + 0.01 * rng.random()
                        )
                        n = N_CLASSES[term]
                        rows.append(
                            dict(zip(keys, setting))
                            | dict(run_id=run_id, status="ok", error="", generator="xor", objective=objective)
                            | dict(seed=seed, epoch=epoch, term=term, true_bits=1.0, bits=capture)
                            | dict(balanced_accuracy=1 / n + (1 - 1 / n) * capture / 2, capture=capture)
                            | dict(floor=floor, chance=1 / n, feature_dim=16, estimator="probe")
                        )
    frame = pd.DataFrame(rows)
    return frame[[*RESULT_COLUMNS, *keys]]
