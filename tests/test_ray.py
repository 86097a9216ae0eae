"""The Ray backend for real: a local Ray instance runs a tiny bench whose leaderboard equals the local one's,
and a worker killed mid-run leaves a failure row that a rerun completes.

Skipped when Ray is not installed (``pip install -e ".[ray]"``). Measured on 2 shared cores under heavy load
(load average 9): the equality test 65 s (Ray start-up included), the slow-marked kill test 38 s.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from tiny_runs import TINY_BENCH  # noqa: E402

from interactions.bench import bench  # noqa: E402
from interactions.experiment import run as run_experiment  # noqa: E402

#: One tiny bench: 1 task x 2 objectives x 2 seeds = 4 real runs of a few seconds each on one core.
TASK, OBJECTIVES, SEEDS = "capacity_1bit", "comm,cross", [0, 1]
TINY = TINY_BENCH


def killed_run(config, overrides=None, *, seed=None, flag: str, **kwargs):
    """``interactions.experiment.run``, except that the worker process dies (SIGKILL) on seed 1 while the
    file ``flag`` exists: a Ray worker lost mid-run (Ray retries the task, and each retry dies too)."""
    if seed == 1 and Path(flag).exists():
        os.kill(os.getpid(), signal.SIGKILL)
    return run_experiment(config, overrides, seed=seed, **kwargs)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 CPUs, no dashboard; shut down after the module's tests."""
    # this test module is not importable in Ray's workers: ship its functions by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    assert not ray.is_initialized()


def _bench(out, backend, **kwargs):
    return bench(TASK, OBJECTIVES, SEEDS, out=out, overrides=TINY, workers=2, backend=backend, progress=False,
                 figures=False, **kwargs)  # fmt: skip


def test_ray_bench_equals_the_local_bench(tmp_path, local_ray):
    # workers=2 on both backends: every run in its own process, limited to one torch thread
    local = _bench(tmp_path / "local", "local")
    remote = _bench(tmp_path / "ray", "ray")
    assert ray.is_initialized()  # the bench used the instance this test started
    assert len(remote) == 2 * 2 * 4 and (remote["verdict"] != "failed").all()
    pd.testing.assert_frame_equal(remote, local)
    assert (tmp_path / "ray" / "leaderboard.md").read_text() == (
        tmp_path / "local" / "leaderboard.md"
    ).read_text()


@pytest.mark.slow  # ~40 s under load: Ray restarts the killed worker for each of its retries
def test_a_killed_ray_worker_leaves_a_failure_row_and_a_rerun_completes_it(tmp_path, local_ray):
    flag = tmp_path / "kill-seed-1"
    flag.touch()
    run_fn = functools.partial(killed_run, flag=str(flag))
    out = tmp_path / "ray"
    first = _bench(out, "ray", run_fn=run_fn)
    failed = first[first["verdict"] == "failed"]
    assert sorted(failed[["objective", "seed"]].drop_duplicates().itertuples(index=False, name=None)) == [
        ("comm", 1),
        ("cross", 1),
    ]
    assert failed["capture"].isna().all()
    assert (first[first["seed"] == 0]["verdict"] != "failed").all()  # the sweep went on
    done = {p.parent.name for p in out.glob("tasks/*/runs/*/result.json")}
    assert len(done) == 2

    flag.unlink()
    second = _bench(out, "ray", run_fn=run_fn)
    assert (second["verdict"] != "failed").all() and len(second) == len(first)
    pd.testing.assert_frame_equal(second[second["seed"] == 0], first[first["seed"] == 0])
    assert {p.parent.name for p in out.glob("tasks/*/runs/*/result.json")} > done
