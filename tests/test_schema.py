"""One results schema: every table of the project takes its columns from ``interactions.types``."""

from __future__ import annotations

import re
from pathlib import Path

import reports
import reports.results
from interactions import sweep, sweep_runner, types

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("interactions", "generators", "estimators", "reports", "benchmarks", "tests")
SCHEMA_NAMES = (
    "RESULT_COLUMNS", "CAPTURE_COLUMNS", "HISTORY_COLUMNS", "PROBE_COLUMNS", "METRIC_COLUMNS", "SUBSETS",
    "TERMS", "LOSS_COLUMNS", "LOSS_RUN_COLUMNS", "RUN_COLUMNS",
)  # fmt: skip


def test_every_module_shares_the_one_results_tuple():
    assert reports.RESULT_COLUMNS is types.RESULT_COLUMNS
    assert reports.results.RESULT_COLUMNS is types.RESULT_COLUMNS
    assert sweep.RESULT_COLUMNS is types.RESULT_COLUMNS
    assert sweep_runner.RESULT_COLUMNS is types.RESULT_COLUMNS


def test_results_columns_are_the_run_keys_then_the_metrics():
    cols = types.RESULT_COLUMNS
    assert cols[: len(types.RUN_COLUMNS)] == types.RUN_COLUMNS
    assert cols[-len(types.METRIC_COLUMNS) :] == types.METRIC_COLUMNS
    assert "estimator" in cols and len(set(cols)) == len(cols)
    # the run's history carries every metric column except what the sweep adds per run
    assert set(types.HISTORY_COLUMNS) <= set(cols)


def test_schema_constants_are_declared_only_in_types():
    pattern = re.compile(rf"^\s*({'|'.join(SCHEMA_NAMES)})\s*(:[^=]*)?=", re.MULTILINE)
    offenders = []
    for path in _sources():
        if path == ROOT / "interactions" / "types.py" or "tests" in path.relative_to(ROOT).parts:
            continue
        if pattern.search(path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_positional_slices_of_schema_tuples():
    pattern = re.compile(rf"({'|'.join(SCHEMA_NAMES)})\[\s*-?\d*\s*:")
    offenders = [
        str(p.relative_to(ROOT)) for p in _sources() if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
