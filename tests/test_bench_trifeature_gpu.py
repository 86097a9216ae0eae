"""``benchmarks/bench_trifeature_gpu.py``: a clear exit without CUDA, and its CPU smoke run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_trifeature_gpu.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message printed without CUDA")
def test_without_cuda_it_exits_with_a_clear_message():
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "no CUDA device is available" in out.stderr
    cpu = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu"], capture_output=True, text=True)
    assert cpu.returncode == 2 and "--tiny" in cpu.stderr


def test_tiny_cpu_smoke_run_projects_the_sweep():
    """The benchmark's own code path on a CPU (a GPU run is the only other caller: keep it working)."""
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--tiny", "--objectives", "comm"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("comm"))
    train, feats, fit, run_h = (float(v.replace(",", "")) for v in line.split()[1:])
    assert train > 0 and feats > 0 and fit > 0 and run_h > 0
    assert "projected full sweep" in out.stdout
