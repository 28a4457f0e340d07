"""Checks of the paths zoo is asked to write or read, made before any work: one :class:`PathError` that names the
path and says what to do. The command line runs them while parsing (:mod:`zoo.cli._args`); the API on the paths it
is given."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import ZooError


class PathError(ZooError, ValueError):
    """A path zoo cannot write or read as asked."""


def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _probe_writable(folder: Path, path: Path) -> None:
    """Create (and at once delete) a file in ``folder``: the one test that is right for root, read-only mounts,
    quotas and ACLs alike (``os.access`` is not)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        target = "" if path == folder else f" (to make {path})"
        raise PathError(f"cannot write in {folder}{target}: {error.strerror or error}; choose a location you can "
                        "write") from None


def _writable_under(path: Path) -> None:
    """``path`` (not there yet, or a folder) can be made or written: its first existing ancestor is a folder this
    process can write in."""
    existing = _first_existing(path)
    if not existing.is_dir():
        raise PathError(f"{path} lies under {existing}, which is not a folder: check the path")
    _probe_writable(existing, path)


def writable_dir(path: str | os.PathLike) -> Path:
    """``path`` as a folder zoo may create or write into: an existing writable folder, or a path whose first existing
    ancestor is one."""
    if not str(path):
        raise PathError("an empty path: give a folder")
    path = Path(path).expanduser()
    if os.path.lexists(path) and not path.is_dir():
        raise PathError(f"{path} is a file: give a folder")
    _writable_under(path)
    return path


def writable_file(path: str | os.PathLike) -> Path:
    """``path`` as a regular file zoo may create or replace: never a folder, a device, a pipe or a socket (zoo writes
    a temporary file and renames it, which would replace such a node with a file)."""
    if not str(path):
        raise PathError("an empty path: give a file name")
    path = Path(path).expanduser()
    if os.path.lexists(path):
        mode = os.stat(path).st_mode if path.exists() else os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            raise PathError(f"{path} is a folder: give a file name in it, e.g. {path / 'model.onnx'}")
        if not stat.S_ISREG(mode):
            raise PathError(f"{path} is not a regular file (a device, pipe, socket or broken link): zoo writes regular "
                            "files only; give a file name")
    _writable_under(path.parent)
    return path


def readable_file(path: str | os.PathLike) -> Path:
    """``path`` as an existing regular file this process can read."""
    if not str(path):
        raise PathError("an empty path: give a file")
    path = Path(path).expanduser()
    if not path.exists():
        raise PathError(f"{path}: no such file")
    if not path.is_file():
        raise PathError(f"{path} is {'a folder' if path.is_dir() else 'not a regular file'}: give a file")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise PathError(f"cannot read {path}: {error.strerror or error}") from None
    return path
