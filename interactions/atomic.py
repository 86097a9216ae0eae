"""Atomic file writes: a file is either its old version or its complete new one, never half-written.

Every writer of the toolkit (run directories, checkpoints, sweep tables, reports, the Trifeature image
cache) goes through ``atomic_write``: the content is written to a unique temporary file in the target's
folder, then moved onto the target with ``os.replace`` (atomic on POSIX and Windows). On any error,
including ``KeyboardInterrupt``, the temporary file is removed and the target is left untouched.

Permissions: ``tempfile.mkstemp`` creates its file with mode 0600 (owner only); the new file gets the mode
an ordinary ``open(path, "w")`` would give it, ``0o666`` minus the process umask (``0o644`` under the usual
umask 022), so that collaborators on a shared machine can read results, reports and figures.

Imports nothing from the project (like ``types`` and ``registry``), so every package may use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class DirectoryBusyError(RuntimeError):
    """Another process holds the lock of a directory (``exclusive_lock``, run directories)."""


class DamagedFileError(ValueError):
    """A file that fails its integrity check (truncated, altered, or not written by this toolkit)."""


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
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def current_umask() -> int:
    """The process umask (read by setting it and putting it back: POSIX has no read-only call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ---------------------------------------------------------------------------------------- sealed JSON
def seal(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` plus ``"sha256"``: the SHA-256 of its canonical JSON (sorted keys, no NaN), see ``is_sealed``.

    ``data`` must be JSON-serialisable as is (NaN already written as None).
    """
    body = {k: v for k, v in data.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, allow_nan=False)
    return {**body, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def is_sealed(data: Any) -> bool:
    """True when ``data`` (parsed JSON) carries a ``"sha256"`` that matches its content (``seal``)."""
    try:
        return isinstance(data, dict) and data.get("sha256") == seal(data)["sha256"]
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------------------------ locks
@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str], busy: Callable[[str], Exception]) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created) for the duration of the block.

    The lock dies with its process (even after ``kill -9``), so it is never stale; the file records the
    holder ("pid N on HOST since TIME") for the message of the next one. Where ``fcntl`` does not exist
    (Windows), no lock is taken.

    Args:
        path: the lock file.
        busy: builds the exception raised when another process holds the lock, from the holder's line.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise busy(handle.read().strip() or "unknown process") from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        )
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
