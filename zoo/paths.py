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


NO_HOME = ("this process has no home folder (HOME is unset and its user has no entry in the password database, as in "
           "some containers)")


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME``, else ``~/.cache``; :class:`PathError` saying which variable to set where neither can be
    known."""
    if os.environ.get("XDG_CACHE_HOME"):
        return expanded(os.environ["XDG_CACHE_HOME"], "XDG_CACHE_HOME")
    try:
        return Path.home() / ".cache"
    except RuntimeError:  # pathlib's "Could not determine home directory"
        raise PathError(f"{NO_HOME}: set XDG_CACHE_HOME (or HOME) to a folder zoo may write its caches in") from None


def expanded(path: str | os.PathLike, variable: str = "HOME") -> Path:
    """``path`` with ``~`` expanded, or :class:`PathError` naming ``variable`` where ``~`` cannot be (libraries such
    as torch.hub and huggingface_hub then keep a literal ``~`` and would write into a folder named ``~`` here)."""
    path = Path(os.path.expanduser(path))  # (pathlib's expanduser raises where os.path's leaves the "~")
    if path.parts and path.parts[0].startswith("~"):
        if path.parts[0] != "~":
            raise PathError(f"{path}: there is no user {path.parts[0][1:]!r} on this system: check the path")
        also = " (or HOME)" if variable != "HOME" else ""
        raise PathError(f"{NO_HOME}, so {path} cannot be found: set {variable}{also} to a folder zoo may use")
    return path


def lies_within(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Whether ``path`` is ``root`` or below it, both with ``~`` expanded where it can be and made absolute
    (``path`` as given, links not followed: resolve it first to ask where a link leads)."""
    path = Path(os.path.abspath(os.path.expanduser(path)))
    root = Path(os.path.expanduser(root)).resolve()
    return path == root or root in path.parents


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
    path = expanded(path)
    if os.path.lexists(path) and not path.is_dir():
        raise PathError(f"{path} is a file: give a folder")
    _writable_under(path)
    return path


def writable_file(path: str | os.PathLike) -> Path:
    """``path`` as a regular file zoo may create or replace: never a folder, a device, a pipe or a socket (zoo writes
    a temporary file and renames it, which would replace such a node with a file)."""
    if not str(path):
        raise PathError("an empty path: give a file name")
    path = expanded(path)
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
    path = expanded(path)
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
