"""Stand-ins for ``interactions.experiment.run`` used by ``test_faults`` in sweep worker processes.

They live in their own module, which imports neither torch nor the test module, so that a spawned worker
starts in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from interactions.types import TERMS


def fake_run(config, overrides=None, *, seed=None, out=None, resume=True, progress=True, die_on=None, **_):
    """A fast stand-in for ``experiment.run`` (sealed-free result.json) that can kill its own process."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    objective = dict(o.split("=", 1) for o in overrides or [])["objective.name"].strip("'\"")
    if resume and (out / "result.json").exists():
        history = pd.DataFrame(json.loads((out / "result.json").read_text())["history"])
        return SimpleNamespace(config={"objective": {"name": objective}}, history=history, reused=True)
    if objective == die_on:
        os.kill(os.getpid(), signal.SIGKILL)
    if objective == "simclr":  # stands for a run that fails at run time
        raise FloatingPointError("training loss became nan at epoch 1, step 1 of 2")
    rows = [
        dict(epoch=e, term=t, balanced_accuracy=0.5, bits=0.1 * e, true_bits=1.0, capture=0.1 * e + seed)
        | dict(floor=0.0, chance=0.5, feature_dim=4)
        for e in range(3)
        for t in TERMS
    ]
    (out / "result.json").write_text(json.dumps({"history": rows}))
    losses = pd.DataFrame({"epoch": [1, 2], "name": ["loss", "loss"], "value": [2.0 + seed, 1.0 + seed]})
    return SimpleNamespace(
        config={"objective": {"name": objective}}, history=pd.DataFrame(rows), losses=losses
    )


def slow_run(config, overrides=None, *, seed=None, out=None, **kwargs):
    """fake_run that first records its pid and sleeps, so that a test can kill the sweep around it."""
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "pid").write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("SLOW_RUN_S", "30")))
    return fake_run(config, overrides, seed=seed, out=out, **kwargs)
