"""A run's directory: its files, their integrity checks, its lock, and continuing a shorter run.

``experiment.run`` writes and reads a run directory through these functions (the files are listed in
``experiment``'s docstring). Every file is written atomically; ``result.json`` and ``checkpoint.pt`` carry
SHA-256 seals, and ``prepare_dir`` decides from them whether a directory holds a finished run of the
config ("done"), a checkpoint to resume ("resume") or nothing usable ("fresh"), refusing a directory that
belongs to another config. ``run_dir_lock`` keeps two processes out of one directory and ``run_dir_busy``
asks whether one is in it. ``continuable_checkpoint`` / ``seed_from_shorter_run`` start a longer run from
a shorter run's checkpoint (``EXTENDABLE_KEYS``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import config as config_mod
from .atomic import DamagedFileError, DirectoryBusyError, atomic_write_text, is_sealed
from .config import Experiment
from .training import load_checkpoint, save_checkpoint
from .types import CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE, RESULT_FILE, RUN_FILES

FINISHED = "finished"  #: the status of a finished run in ``result.json``


def clean_json(value: Any) -> Any:
    """``value`` with plain JSON types only: string keys, lists, ints, floats (NaN and inf as None), and
    paths as strings."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON atomically (temporary file, then ``os.replace``)."""
    atomic_write_text(path, json.dumps(clean_json(data), indent=2, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically."""
    atomic_write_text(path, text)


def sha256_text(text: str) -> str:
    """Hex SHA-256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def config_digest(cfg: dict) -> str:
    """The identity of a resolved config: the SHA-256 of its TOML text (what ``config.toml`` holds)."""
    return sha256_text(config_mod.to_toml(cfg))


def read_result(run_dir: Path) -> dict[str, Any] | None:
    """The verified content of ``run_dir/result.json``, or None when it is missing or fails its checks.

    A result is valid when it parses, its ``sha256`` matches its content, its status is finished and it has
    no repeated (epoch, term) rows; a damaged file is renamed ``result.json.damaged`` (kept for a look) so
    that it can never be read as finished.
    """
    path = Path(run_dir) / RESULT_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ok = (
            isinstance(data, dict)
            and is_sealed(data)
            and data.get("status") == FINISHED
            and len({(r["epoch"], r["term"]) for r in data["history"]}) == len(data["history"])
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        ok = False
    if not ok:
        path.replace(path.with_name(RESULT_FILE + ".damaged"))
        return None
    return data


def _read_checkpoint(run_dir: Path, dev: torch.device) -> dict[str, Any] | None:
    """The verified checkpoint of ``run_dir`` or None (missing or damaged: renamed ``*.damaged``)."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        state = load_checkpoint(path, dev)
        if not isinstance(state, dict) or "config_sha256" not in state:
            raise DamagedFileError(f"checkpoint {str(path)!r} has no config hash")
    except (DamagedFileError, OSError, RuntimeError, EOFError, KeyError, ValueError):
        path.replace(path.with_name("checkpoint.pt.damaged"))
        return None
    return state


def checkpoint_epoch(path: Path) -> int | None:
    """The epochs a run's checkpoint holds; None when it is damaged (or being replaced). Reads only: a
    damaged file is left where it is (``_read_checkpoint``, by contrast, sets it aside)."""
    try:
        return int(load_checkpoint(path, torch.device("cpu"))["epoch"])
    except (DamagedFileError, OSError, KeyError):
        return None


def _checkpoint_intact(run_dir: Path) -> bool:
    """True unless ``checkpoint.pt`` exists and fails its SHA-256 (a deleted one is no damage)."""
    from .training import checkpoint_payload

    if not (run_dir / CHECKPOINT_FILE).exists():
        return True
    try:
        checkpoint_payload(run_dir / CHECKPOINT_FILE)
    except (DamagedFileError, OSError):
        return False
    return True


def metrics_text(metrics: list[dict]) -> str:
    """The content of ``metrics.jsonl``: one JSON object per evaluation and line."""
    return "".join(json.dumps(m) + "\n" for m in metrics)


def _different_config(run_dir: Path) -> ValueError:
    return ValueError(
        f"run directory {str(run_dir)!r} holds a run of a different config; use another directory "
        "or resume=False (CLI: --restart) to overwrite it"
    )


def prepare_dir(run_dir: Path, cfg: dict, resume: bool) -> str:
    """Returns "done", "resume" or "fresh"; raises if the directory holds a different config.

    "done": ``result.json`` and ``metrics.jsonl`` pass their checks and belong to ``cfg``. "resume": a
    verified checkpoint of ``cfg`` (a damaged result is then rebuilt from it). "fresh": nothing usable.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.glob(".*.tmp"):  # left by a process killed while writing (the directory is locked)
        stale.unlink(missing_ok=True)
    if not resume:
        for name in RUN_FILES:
            (run_dir / name).unlink(missing_ok=True)
        return "fresh"
    digest = config_digest(cfg)
    result = read_result(run_dir)
    if result is not None:
        if result.get("config_sha256") != digest:
            raise _different_config(run_dir)
        metrics = run_dir / METRICS_FILE
        if (
            _checkpoint_intact(run_dir)
            and metrics.exists()
            and sha256_text(metrics.read_text(encoding="utf-8", errors="replace"))
            == result.get("metrics_sha256")
        ):
            return "done"
        (run_dir / RESULT_FILE).unlink()  # metrics log or checkpoint damaged: rebuilt or retrained
    state = _read_checkpoint(run_dir, torch.device("cpu"))
    if state is not None:
        if state["config_sha256"] != digest:
            raise _different_config(run_dir)
        return "resume"
    stored = run_dir / CONFIG_FILE
    if result is None and stored.exists():
        try:
            previous = config_mod.tomllib.loads(stored.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):  # a damaged copy: nothing else in the directory to reuse
            previous = None
        if previous is not None and previous != config_mod.tomllib.loads(config_mod.to_toml(cfg)):
            raise _different_config(run_dir)
    return "fresh"


#: The config keys in which a run may differ from the shorter run it continues (``seed_from_shorter_run``):
#: its length and how often it is probed (evaluations draw no training randomness).
EXTENDABLE_KEYS = ("train.epochs", "train.eval_every")


def seed_from_shorter_run(source: Path, exp: Experiment, run_dir: Path) -> int:
    """Write ``source``'s checkpoint into ``run_dir`` as the checkpoint of ``exp``, to train on from there.

    ``exp`` must be able to continue ``source`` (``continuable_checkpoint``); then every epoch draws the same
    views and takes the same steps as in a run trained straight through, and the result is that run's to
    the last digit. The evaluations ``source`` made (its floor included) are kept.

    Returns:
        The epoch the run continues from.

    Raises:
        ValueError: as ``continuable_checkpoint``.
    """
    state = continuable_checkpoint(source, exp)
    write_continuation(state, exp, run_dir)
    return int(state["epoch"])


def write_continuation(state: dict[str, Any], exp: Experiment, run_dir: Path) -> None:
    """Save a checkpoint ``continuable_checkpoint`` accepted as ``run_dir``'s checkpoint of ``exp``."""
    state["config_sha256"] = config_digest(exp.config)
    save_checkpoint(run_dir / CHECKPOINT_FILE, state)


def length_free(cfg: dict[str, Any]) -> dict[str, Any]:
    """A resolved config as dotted keys without ``EXTENDABLE_KEYS``: equal for two runs of which the longer
    may continue the shorter (the rest of ``continuable_checkpoint``'s conditions aside)."""
    return {k: v for k, v in config_mod.flatten(cfg).items() if k not in EXTENDABLE_KEYS}


def continuable_checkpoint(source: Path, exp: Experiment) -> dict[str, Any]:
    """The verified checkpoint of the run directory ``source`` if the run ``exp`` may continue it.

    ``exp`` must be ``source``'s config with only ``EXTENDABLE_KEYS`` changed, at least as many epochs as the
    checkpoint holds, the constant learning rate and an objective without a progress schedule (its class
    keeps ``Objective.set_progress``): under these, epoch e of a shorter run is epoch e of the longer one.

    Raises:
        ValueError: no verified checkpoint in ``source``, its ``config.toml`` not the one it was trained
            with, a config that differs elsewhere (the keys are named), fewer epochs than the checkpoint,
            a learning-rate schedule or a progress-following objective.
    """
    from .objectives.base import Objective

    ckpt_path = source / CHECKPOINT_FILE
    try:
        state = load_checkpoint(ckpt_path, torch.device("cpu"))
    except FileNotFoundError:
        raise ValueError(f"extend: {str(source)!r} holds no {CHECKPOINT_FILE} to continue from") from None
    except DamagedFileError as err:
        raise ValueError(f"extend: {err}") from None
    stored = source / CONFIG_FILE
    text = stored.read_text(encoding="utf-8") if stored.exists() else ""
    if sha256_text(text) != state.get("config_sha256"):
        raise ValueError(
            f"extend: {str(stored)!r} is missing or is not the config {str(source)!r} was trained with"
        )
    old = config_mod.resolve(config_mod.tomllib.loads(text)).config  # today's defaults for keys added since
    old_flat, new_flat = length_free(old), length_free(exp.config)
    differ = sorted(k for k in old_flat.keys() | new_flat.keys() if old_flat.get(k) != new_flat.get(k))
    if differ:
        shown = ", ".join(f"{k} ({old_flat.get(k)!r} -> {new_flat.get(k)!r})" for k in differ)
        raise ValueError(
            f"extend: the config differs from {str(source)!r}'s in {shown}; "
            f"only {', '.join(EXTENDABLE_KEYS)} may"
        )
    if exp.train.lr_schedule != "constant":
        raise ValueError(
            f"extend: train.lr_schedule={exp.train.lr_schedule!r} ties every epoch's rate to the run's "
            "length; only a constant-rate run can be continued"
        )
    if exp.objective.cls.set_progress is not Objective.set_progress:
        raise ValueError(
            f"extend: objective {exp.config['objective']['name']!r} follows the training progress (its "
            "set_progress), which depends on the run's length; train the longer run from the start"
        )
    epoch = int(state["epoch"])
    if exp.train.epochs < epoch:
        raise ValueError(
            f"extend: train.epochs={exp.train.epochs} is fewer than the {epoch} epochs {str(source)!r} holds"
        )
    return state


class RunDirectoryBusyError(DirectoryBusyError):
    """Another process is running in the run directory."""


#: How long a run waits for its directory's lock before it gives up: long enough that a status probe
#: (``run_dir_busy``, which holds the lock for microseconds) never fails a starting run.
LOCK_WAIT_S = 2.0


@contextlib.contextmanager
def run_dir_lock(run_dir: Path) -> Iterator[None]:
    """An exclusive ``fcntl.flock`` on the run directory itself (no lock file), released with its process.

    Raises:
        RunDirectoryBusyError: another process holds it for more than ``LOCK_WAIT_S`` (two runs writing one
            directory would mix files).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunDirectoryBusyError(
                        f"another process is running in run directory {str(run_dir)!r}; wait for it or "
                        "use another --out"
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock


def run_dir_busy(run_dir: Path) -> bool:
    """Whether a process is running in ``run_dir`` now (holds its ``run_dir_lock``); False on Windows.

    Takes the lock for a moment when it is free; a run starting at that moment waits for it
    (``LOCK_WAIT_S``).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return False
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the lock if it was taken
    return False
