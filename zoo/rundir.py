"""A training run's output folder: held by one run at a time (a lock), and cleared of what a killed run left.

zoo writes every file there through a temporary ``.NAME.*.tmp`` and a rename (:func:`zoo.manifest.atomic_write_bytes`);
SIGKILL, a power cut or an out-of-memory kill can leave such a temporary (65 MB for VGG-16's checkpoint). Once the
lock is held no other zoo process writes there, so any such file is stale and goes.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from .errors import ZooError

LOCK_NAME = ".zoo-train.lock"
TEMPORARY_PATTERN = ".*.tmp"  # atomic_write_bytes' mkstemp(prefix=".NAME.", suffix=".tmp")


class OutputDirBusyError(ZooError, RuntimeError):
    """Another zoo run is writing into this output folder."""


@contextlib.contextmanager
def hold_output_dir(folder: Path) -> Iterator[list[Path]]:
    """Create ``folder``, hold its lock for the duration (:class:`OutputDirBusyError` at once if another process holds
    it) and remove the temporaries of interrupted runs; yields the paths removed."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputDirBusyError(
            f"another zoo run is writing into {folder} (it holds {folder / LOCK_NAME}): wait for it to finish, or pass "
            "another --output-dir") from None
    try:
        removed = []
        for stale in sorted(folder.glob(TEMPORARY_PATTERN)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
                removed.append(stale)
        yield removed
    finally:
        lock.release()
