"""A training run's output folder: held by one run at a time (a lock), never a folder of published files, and cleared
of the temporaries a killed run of zoo's left there — only those.

zoo writes every file there through a temporary and a rename (:func:`zoo.manifest.atomic_write_bytes`); SIGKILL, a
power cut or an out-of-memory kill can leave such a temporary (65 MB for VGG-16's checkpoint). Each temporary's name
is written to the folder's ledger before its first byte, so the next run removes exactly the files zoo made: a
user's own ``.notes.tmp`` looks the same to a pattern and is never touched.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ZooError
from .paths import lies_within

LOCK_NAME = ".zoo-train.lock"
LEDGER_NAME = ".zoo-temporaries"  # one temporary's file name per line, written before the temporary


class OutputDirBusyError(ZooError, RuntimeError):
    """Another zoo run is writing into this output folder."""


class ProtectedOutputDirError(ZooError, ValueError):
    """An output folder where a run would replace published files."""


@dataclass(frozen=True)
class HeldOutputDir:
    """An output folder this process holds: where it is, its ledger, and the stale temporaries removed on entry."""

    folder: Path
    removed: tuple[Path, ...]

    @property
    def ledger(self) -> Path:
        return self.folder / LEDGER_NAME


def protected_roots() -> list[Path]:
    """Folders that hold published bytes zoo resolves weights from: the checkout's ``weights/``, ``$ZOO_WEIGHTS_DIR``,
    and the two download caches (Hugging Face's and the mirror's)."""
    from .weights import CHECKOUT_WEIGHTS, WEIGHTS_DIR_ENV, download_caches

    roots = [CHECKOUT_WEIGHTS, *download_caches()]
    if os.environ.get(WEIGHTS_DIR_ENV):
        roots.append(Path(os.environ[WEIGHTS_DIR_ENV]))
    return roots


def published_files_in(folder: Path) -> list[Path]:
    """The files directly in ``folder`` whose bytes are a file a record publishes (size, then sha256)."""
    from .manifest import published_records
    from .weights import sha256_file

    sizes: dict[int, set[str]] = {}
    for record in published_records().values():
        for published in record.published_files():
            sizes.setdefault(published.file_size, set()).add(published.sha256)
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        with contextlib.suppress(OSError):
            size = path.stat().st_size if path.is_file() else None
            if size in sizes and sha256_file(path) in sizes[size]:
                found.append(path)
    return found


def refuse_protected(folder: Path) -> None:
    """Raise :class:`ProtectedOutputDirError` if a run writing into ``folder`` could replace published files."""
    resolved = Path(os.path.expanduser(folder)).resolve()
    for root in protected_roots():
        if lies_within(resolved, root):
            raise ProtectedOutputDirError(
                f"--output-dir {folder} lies inside {root}, where zoo keeps published weights; a run writes "
                "model.safetensors there and would replace them: choose another folder (default runs/NAME/)")
    published = published_files_in(resolved)
    if published:
        raise ProtectedOutputDirError(
            f"--output-dir {folder} holds a published file ({published[0].name}, its sha256 is in the manifest); a "
            "run would replace it: choose another folder (default runs/NAME/)")


def _stale_temporaries(folder: Path) -> list[Path]:
    """The ledger's temporaries that still exist (names only: a ledger line never reaches outside ``folder``)."""
    try:
        lines = (folder / LEDGER_NAME).read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    names = {line for line in lines if line and line == Path(line).name and line not in (".", "..")}
    return [folder / name for name in sorted(names) if (folder / name).is_file()]


@contextlib.contextmanager
def hold_output_dir(folder: Path) -> Iterator[HeldOutputDir]:
    """Refuse a folder of published files, create ``folder``, hold its lock for the duration
    (:class:`OutputDirBusyError` at once if another process holds it) and remove the temporaries its ledger names."""
    from filelock import FileLock, Timeout

    refuse_protected(folder)
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
        for stale in _stale_temporaries(folder):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
                removed.append(stale)
        (folder / LEDGER_NAME).unlink(missing_ok=True)
        yield HeldOutputDir(folder, tuple(removed))
        # every temporary of this run was renamed into place or removed by its writer: the ledger has done its work
        (folder / LEDGER_NAME).unlink(missing_ok=True)
    finally:
        lock.release()
