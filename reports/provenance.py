"""What produced a results table: the sweep's plan (``sweep.json``), its runs' ``env.json`` and configs.

A sweep directory holds ``sweep.json`` (config, grid, seeds, overrides, planned runs) and one directory per
run under ``runs/<run_id>/`` with ``env.json`` (python, torch, numpy versions, device, threads, git commit)
and ``config.toml`` (the fully resolved config). The report embeds what it finds, so that a report sent to
co-authors says how to reproduce it. Files are only read; a missing or unreadable file is skipped and
listed in ``problems``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interactions.types import CONFIG_FILE, ENV_FILE, RUNS_DIR, SWEEP_FILE

#: ``env.json`` fields shown in the report, in this order.
ENV_FIELDS: tuple[str, ...] = (
    "git_commit",
    "python",
    "torch",
    "numpy",
    "pandas",
    "sklearn",
    "scipy",
    "platform",
    "device",
    "device_name",
    "cpu_model",
    "cpu_capability",
    "num_threads",
    "deterministic_algorithms",
    "cuda",
    "cudnn",
)


@dataclass
class Provenance:
    """What a sweep directory records about how its table was made.

    Attributes:
        manifest: ``sweep.json`` as read (empty when absent).
        environments: per ``ENV_FIELDS`` field, ``{value: number of runs}`` over the runs' ``env.json``.
        config_run: run id whose ``config.toml`` is in ``config_text`` ("" when none was found).
        config_text: that run's resolved config (TOML text).
        n_run_dirs: run directories found. problems: files that could not be read, with the reason.
    """

    manifest: dict[str, Any] = field(default_factory=dict)
    environments: dict[str, dict[str, int]] = field(default_factory=dict)
    config_run: str = ""
    config_text: str = ""
    n_run_dirs: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.manifest or self.environments or self.config_text)

    @property
    def commits(self) -> list[str]:
        return [str(c) for c in self.environments.get("git_commit", {})]


def _read_json(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problems.append(f"{path}: {type(err).__name__}: {err}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a JSON object, got {type(data).__name__}")
        return {}
    return data


def _run_dirs(sweep_dir: Path, manifest: dict[str, Any]) -> list[Path]:
    """The planned runs' directories in plan order (those that exist), else every ``runs/*`` directory."""
    planned = [r.get("run_id") for r in manifest.get("runs", []) if isinstance(r, dict)]
    dirs = [sweep_dir / RUNS_DIR / str(r) for r in planned if r]
    dirs = [d for d in dirs if d.is_dir()]
    if not dirs and (sweep_dir / RUNS_DIR).is_dir():
        dirs = sorted(p for p in (sweep_dir / RUNS_DIR).iterdir() if p.is_dir())
    return dirs


def read_manifest(
    sweep_dir: str | os.PathLike[str] | None, problems: list[str] | None = None
) -> dict[str, Any]:
    """``sweep_dir/sweep.json`` as a dict; {} when ``sweep_dir`` is None, the file is absent or unreadable
    (an unreadable one is described in ``problems`` when given)."""
    if sweep_dir is None or not (Path(sweep_dir) / SWEEP_FILE).is_file():
        return {}
    return _read_json(Path(sweep_dir) / SWEEP_FILE, [] if problems is None else problems)


def collect_provenance(sweep_dir: str | os.PathLike[str] | None) -> Provenance:
    """Read ``sweep.json`` and every run's ``env.json`` and ``config.toml`` under ``sweep_dir``.

    Returns an empty ``Provenance`` for None or a directory without these files.
    """
    found = Provenance()
    if sweep_dir is None:
        return found
    root = Path(sweep_dir)
    found.manifest = read_manifest(root, found.problems)
    counts: dict[str, Counter] = {}
    dirs = _run_dirs(root, found.manifest)
    found.n_run_dirs = len(dirs)
    for run in dirs:
        env_path = run / ENV_FILE
        if env_path.is_file():
            env = _read_json(env_path, found.problems)
            for key in ENV_FIELDS:
                if key in env:
                    counts.setdefault(key, Counter())[_show(env[key])] += 1
        config_path = run / CONFIG_FILE
        if not found.config_text and config_path.is_file():
            try:
                found.config_text = config_path.read_text(encoding="utf-8")
                found.config_run = run.name
            except (OSError, UnicodeDecodeError) as err:
                found.problems.append(f"{config_path}: {type(err).__name__}: {err}")
    found.environments = {k: dict(counts[k]) for k in ENV_FIELDS if k in counts}
    return found


def _show(value: Any) -> str:
    return "–" if value is None else str(value)


def provenance_rows(found: Provenance) -> list[tuple[str, str]]:
    """``(what, value)`` lines for a table: the plan, then each environment field (``value (k runs)``)."""
    rows: list[tuple[str, str]] = []
    manifest = found.manifest
    if manifest:
        rows.append(("config", _compact(manifest.get("config"))))
        rows.append(("grid", _compact(manifest.get("grid"))))
        rows.append(("seeds", _compact(manifest.get("seeds"))))
        rows.append(("overrides", _compact(manifest.get("overrides")) or "none"))
        if manifest.get("objective_settings"):
            rows.append(("per-objective settings", _compact(manifest["objective_settings"])))
        rows.append(("planned runs", str(len(manifest.get("runs", [])))))
    if found.n_run_dirs:
        rows.append(("run directories read", str(found.n_run_dirs)))
    for key, values in found.environments.items():
        if len(values) == 1:
            rows.append((key, next(iter(values))))
        else:
            rows.append((key, "; ".join(f"{v} ({n} run{'s' if n > 1 else ''})" for v, n in values.items())))
    return rows


def objective_param_names(manifest: dict[str, Any]) -> dict[str, str]:
    """Display names that show a sweep's per-objective parameters: ``"Cross+Self (lam = 8.0)"``.

    Reads ``manifest["objective_settings"]`` (``sweep.json``) and keeps the ``objective.params.*`` keys (the
    objective's own parameters; training keys are protocol and stay in the provenance table). Objectives
    without such parameters are left out (they keep their plain names).

    Example:
        >>> objective_param_names({"objective_settings": {"cross_self": {"objective.params.lam": 8.0}}})
        {'cross_self': 'Cross+Self (lam = 8.0)'}
    """
    from .theme import objective_name

    settings = manifest.get("objective_settings")
    names: dict[str, str] = {}
    if not isinstance(settings, dict):
        return names
    for objective, keys in settings.items():
        if not isinstance(keys, dict):
            continue
        own = [f"{k.removeprefix('objective.params.')} = {_compact(v)}" for k, v in keys.items()
               if str(k).startswith("objective.params.")]  # fmt: skip
        if own:
            names[str(objective)] = f"{objective_name(objective)} ({', '.join(own)})"
    return names


def _compact(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(", ", ": "))
