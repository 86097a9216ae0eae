"""Atomic writes: the target is the old file or the complete new one, and no temporary file is left."""

from __future__ import annotations

import os
import stat

import pytest

from interactions.atomic import atomic_write, atomic_write_text


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    assert atomic_write_text(target, "one") == target
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failed_write_keeps_the_old_file(tmp_path, error):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")

    def half_write(tmp):
        tmp.write_text("half")
        raise error("interrupted")

    with pytest.raises(error):
        atomic_write(target, half_write)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask(tmp_path, umask):
    """mkstemp's 0600 is replaced by 0666 minus the umask, as open() would give (issue 13)."""
    previous = os.umask(umask)
    try:
        target = atomic_write_text(tmp_path / "results.csv", "a,b\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
