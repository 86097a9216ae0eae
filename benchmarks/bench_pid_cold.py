"""First-call time of ``estimators.pid`` on a fresh 16 x 16 x 10 joint, with and without one BLAS thread.

Run in fresh interpreters (the first call is the point)::

    python benchmarks/bench_pid_cold.py                   # as shipped: small systems on one BLAS thread
    python benchmarks/bench_pid_cold.py default-threads   # OpenBLAS's own thread count, for comparison

Issue 12 measured 1.45 s for the first call and 0.20 s for the next ones. The time went to BLAS worker
threads woken for 160 x 160 Newton systems (``estimators.broja``), not to imports or warm-up; on a busy
2-core machine the default threads took 0.9-3.8 s per call, one thread 0.03-0.05 s (first call included).
"""

from __future__ import annotations

import sys
import time

t_start = time.perf_counter()
import numpy as np  # noqa: E402

import estimators  # noqa: E402
import estimators.broja as broja  # noqa: E402

t_import = time.perf_counter() - t_start
if sys.argv[1:] == ["default-threads"]:
    broja.SINGLE_THREAD_MAX_ROWS = 0
joint = np.random.default_rng(0).random((16, 16, 10))
joint /= joint.sum()
times = []
for _ in range(4):
    t0 = time.perf_counter()
    estimators.pid(joint)
    times.append(time.perf_counter() - t0)
label = sys.argv[1] if sys.argv[1:] else "one BLAS thread"
print(f"{label}: import estimators {t_import:.2f} s; pid calls " + " ".join(f"{t:.3f}" for t in times) + " s")
