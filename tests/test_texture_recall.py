"""``benchmarks/texture_recall.py``: per-class recall on a canonical case, and the script on a tiny run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

from interactions import experiment

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "texture_recall.py"
spec = importlib.util.spec_from_file_location("texture_recall", SCRIPT)
texture_recall = importlib.util.module_from_spec(spec)
spec.loader.exec_module(texture_recall)


def test_recall_per_class_exact():
    y = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0, 0])
    recall = texture_recall.recall_per_class(y, pred, 4)
    np.testing.assert_array_equal(recall[:3], [0.5, 2 / 3, 0.0])
    assert np.isnan(recall[3])  # class 3 never occurs


def test_script_reads_a_trifeature_run_and_refuses_another(tmp_path):
    tiny = [
        "generator.params.image_size=36",
        "train.n_train=64",
        "train.batch_size=32",
        "train.epochs=1",
        "probe.n_train=300",
        "probe.n_test=300",
        "model.cnn_channels=[8, 8, 8]",
        "train.device='cpu'",
    ]
    experiment.run("trifeature_cpu", tiny, out=tmp_path / "tri", progress=False)
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "tri")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "comm, seed 0, epoch 1" in out.stdout
    for term in ("unique_1", "unique_2"):
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith(f"{term}: balanced accuracy"))
        assert 0.0 <= float(line.split()[-1]) <= 1.0
    experiment.run("xor", ["train.epochs=1", "train.device='cpu'"], out=tmp_path / "xor", progress=False)
    bad = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "xor")], capture_output=True, text=True)
    assert bad.returncode != 0 and "not a Trifeature one" in bad.stderr
