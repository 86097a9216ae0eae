"""Shared test set-up: Agg backend, the ``slow`` and ``gpu`` markers, and a deterministic torch.

Also puts this folder on ``sys.path`` (pytest runs with ``--import-mode=importlib``, which does not), so
that tests share ``tiny_runs`` and sweep workers, which inherit ``sys.path``, can import ``fault_runs``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--runslow") or os.environ.get("RUN_SLOW") == "1"
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a runtime dependency
        has_cuda = False
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def device_names() -> list[str]:
    """``["cpu"]`` plus ``"cuda"`` when a GPU is present."""
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
