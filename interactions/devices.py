"""Device resolution and the runtime facts recorded next to every run (house style 3.5).

``device="auto"`` is resolved here, once; the rest of the toolkit takes the device from its inputs and never
calls ``.cuda()``.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .registry import suggest

#: Device names accepted in ``[train] device`` besides explicit torch strings such as ``"cuda:1"``.
DEVICE_KINDS: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: ``"auto"`` is CUDA when present, else the CPU.

    Args:
        name: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or ``"mps"``.

    Raises:
        ValueError: for an unknown name, or a device that is not available on this machine.
    """
    if not isinstance(name, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    kind = name.split(":", 1)[0]
    if kind not in DEVICE_KINDS:
        raise ValueError(f"unknown device {name!r}{suggest(kind, DEVICE_KINDS)}; use one of {DEVICE_KINDS}")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"invalid device {name!r}: {err}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available (use 'auto' or 'cpu')")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} requested but MPS is not available")
    return device


def git_commit(path: Path | None = None) -> str | None:
    """The git commit of the checkout holding ``path`` (this package by default), or None."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``; "" if unknown).

    Recorded with ``torch.backends.cpu.get_cpu_capability()`` (the instruction set torch's kernels use, e.g.
    "AVX512"): two machines that differ in either may round floats differently, so their runs agree in
    verdicts, not bit for bit.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def environment(device: torch.device, seed: int) -> dict[str, Any]:
    """Versions, device and determinism flags of this process, JSON-serialisable (the run's ``env.json``)."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cpu_model": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "num_threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "seed": int(seed),
        "git_commit": git_commit(),
    }
    for module in ("pandas", "sklearn", "scipy"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:  # pragma: no cover - runtime dependencies
            info[module] = None
    return info
