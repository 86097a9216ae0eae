"""Estimators join runs: a PID estimate of a tiny run's representation lands in the table and a figure."""

from __future__ import annotations

import json

import numpy as np

from interactions import experiment, sweep, types

TINY = {
    "name": "tiny-pid",
    "seed": 1,
    "generator": {"name": "xor"},
    "objective": {"name": "cross"},
    "model": {"width": 16, "hidden": 16, "n_tokens": 2, "heads": 2, "late_encoder": "pooled"},
    "train": {"n_train": 128, "epochs": 1, "batch_size": 64, "eval_every": 1, "device": "cpu"},
    "probe": {"n_train": 128, "n_test": 256, "Cs": [1.0]},
    "estimators": [{"name": "pid", "n_clusters": 4}],
}


def test_pid_rows_in_the_run_history_and_directory(tmp_path):
    result = experiment.run(TINY, out=tmp_path / "run", progress=False)
    hist = result.history
    assert list(hist.columns[: len(types.HISTORY_COLUMNS)]) == list(types.HISTORY_COLUMNS)
    pid = hist[hist["estimator"] == "pid"]
    assert sorted(pid["epoch"].unique()) == [0, 1] and list(pid["term"].unique()) == list(types.TERMS)
    assert np.isfinite(pid["bits"]).all() and (pid["bits"] >= -1e-9).all()
    # the PID atoms of one decomposition sum to I(codes1, codes2; T) <= H(T) <= 1 bit here
    atoms = pid[[f"pid_{t}" for t in types.TERMS]].sum(axis=1)
    assert (atoms <= 1.0 + 1e-6).all()
    assert np.allclose(pid["capture"], pid["bits"] / pid["true_bits"])
    epoch0 = pid[pid["epoch"] == 0].set_index("term")["capture"]
    assert (pid.set_index("term")["floor"] == epoch0.reindex(pid["term"]).to_numpy()).all()
    assert list(result.capture["term"]) == list(types.TERMS)  # the capture table stays the probe's
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["estimator"] for r in lines[-1]["estimators"]] == ["pid"] * 4


def test_pid_estimate_appears_in_the_sweep_table_and_the_report(tmp_path):
    from reports import load_results, write_report

    table = sweep.sweep(TINY, {"objective.name": ["cross"]}, [0], out=tmp_path, progress=False)
    assert list(table.columns[: len(types.RESULT_COLUMNS)]) == list(types.RESULT_COLUMNS)
    pid = table[table["estimator"] == "pid"]
    assert len(pid) == 2 * len(types.TERMS) and np.isfinite(pid["bits"]).all()
    assert set(table["estimator"]) == {"probe", "pid"}
    loaded = load_results(tmp_path)
    assert set(loaded["estimator"]) == {"probe", "pid"}
    written = write_report(tmp_path, tmp_path / "report", formats=("png",))
    assert "figures/estimates.png" in written and written["figures/estimates.png"].stat().st_size > 0
    assert "estimators other than the probe" in (tmp_path / "report" / "report.html").read_text()


def test_plot_estimates_draws_one_row_per_estimator():
    import pandas as pd

    from reports.estimates import plot_estimates, split_estimators

    rows = [
        dict(run_id=f"r{s}", objective="comm", epoch=e, estimator=est, term=t, bits=0.1 * e, true_bits=1.0)
        for s in range(2)
        for e in range(3)
        for est in ("probe", "pid", "ksg")
        for t in types.TERMS
    ]
    probe, others = split_estimators(pd.DataFrame(rows))
    assert set(probe["estimator"]) == {"probe"} and set(others["estimator"]) == {"pid", "ksg"}
    fig, axes = plot_estimates(others)
    assert axes.shape == (2, len(types.TERMS))
    line = axes[0, 0].get_lines()[0]
    assert list(line.get_ydata()) == [0.0, 0.1, 0.2]
