"""Atomic file writes: a file is either its old version or its complete new one, never half-written.

Every writer of the toolkit (run directories, checkpoints, sweep tables, reports, the Trifeature image
cache) goes through ``atomic_write``: the content is written to a unique temporary file in the target's
folder, then moved onto the target with ``os.replace`` (atomic on POSIX and Windows). On any error,
including ``KeyboardInterrupt``, the temporary file is removed and the target is left untouched.

Imports nothing from the project (like ``types`` and ``registry``), so every package may use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Create ``path`` through ``write(tmp)``, then move ``tmp`` onto ``path``.

    Args:
        path: the target file; its folder is created if needed.
        write: writes the complete content to the temporary path it is given (e.g. ``torch.save``).

    Returns:
        ``path`` as a ``Path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
