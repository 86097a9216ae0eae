"""The committed sweep records in ``docs/records/`` belong to the shipped sweeps as they are now.

A record is a sweep written by ``interactions export`` (tables and finished runs, no checkpoints): the
README's Trifeature numbers are read from it (``benchmarks/trifeature_cpu_targets.py docs/records/...``) and
``interactions sweep ... --reuse docs/records/...`` continues from it. Run ids hash a run's whole config, so
once a shipped sweep's settings change its record is stale: its run ids are no longer planned, and this test
names them (re-run the sweep, reusing what still applies, and export it again).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interactions.sweep import sweep
from interactions.sweep_runner import is_finished
from reports import load_results

RECORDS = Path(__file__).resolve().parents[1] / "docs" / "records"

#: record directory -> (shipped sweep it was trained from, whether it holds every run of the sweep's plan)
SHIPPED = {
    "trifeature_cpu": ("trifeature_cpu", True),
    "trifeature_cpu_exact": ("trifeature_cpu_exact", True),  # the former shipped protocol (no colour jitter)
    "trifeature_cpu_exact_seeds45_46": ("trifeature_cpu_exact", False),
}


def test_every_record_is_listed():
    on_disk = {p.name for p in RECORDS.iterdir() if p.is_dir()} if RECORDS.is_dir() else set()
    assert on_disk <= set(SHIPPED), f"records without an entry in SHIPPED: {sorted(on_disk - set(SHIPPED))}"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_record_is_sealed_and_planned_by_its_shipped_sweep(name, tmp_path):
    record = RECORDS / name
    assert record.is_dir(), f"{record} is listed in SHIPPED but not committed"
    sweep_name, complete = SHIPPED[name]
    manifest = json.loads((record / "sweep.json").read_text(encoding="utf-8"))
    listed = [run["run_id"] for run in manifest["runs"]]  # the exported sweep's plan
    present = sorted(p.name for p in (record / "runs").iterdir())  # its finished runs
    assert present and set(present) <= set(listed)
    plan = sweep(sweep_name, seeds=manifest["seeds"], out=tmp_path / "plan", progress=False, dry_run=True)
    stale = sorted(set(present) - set(plan["run_id"]))
    assert not stale, f"{name}: runs that sweep {sweep_name!r} no longer plans (settings changed): {stale}"
    if complete:
        assert present == sorted(plan["run_id"]), f"{name} should hold every run of {sweep_name!r}"
    unsealed = [run_id for run_id in present if not is_finished(record / "runs" / run_id)]
    assert not unsealed, f"{name}: result.json or metrics.jsonl fail their seal: {unsealed}"
    assert not list(record.rglob("checkpoint.pt"))
    table = load_results(record)
    assert sorted(table["run_id"].unique()) == present
    assert (table["status"] == "finished").all()
