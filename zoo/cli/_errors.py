"""How the command line reports a failure: one table from exception class to one line that says what to do.

Library code raises (:class:`zoo.errors.ZooError` for what it can explain; ``OSError``, Pillow's and the network's
own errors for the rest); :func:`run_cli` is the one place that turns them into ``error: ...`` on stderr. An
exception the table does not know is a bug in zoo and is shown as one: with its traceback and exit status 70.
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from typing import Callable, NoReturn

from ..errors import ZooError

USAGE, FAILED, BUG, INTERRUPTED, CLOSED_PIPE, TERMINATED = 2, 1, 70, 130, 141, 143

# What to do about an OSError, by errno (the path and the system's own words come first).
_OS_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space there or write somewhere else",
    errno.EDQUOT: "your disk quota is used up: free some space or write somewhere else",
    errno.EACCES: "permission denied: choose a location you can write (or read), or fix its permissions",
    errno.EPERM: "not permitted: choose another location, or fix its permissions",
    errno.EROFS: "the file system is read-only: choose a location on a writable one",
    errno.ENOENT: "no such file or folder: check the path",
    errno.EISDIR: "it is a folder: give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EEXIST: "something is already there: remove it or choose another name",
    errno.ENAMETOOLONG: "the name is too long for this file system: use a shorter path",
    errno.EIO: "the device reported an input/output error: check the disk",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n) or close other programs",
    errno.ENOMEM: "out of memory: close other programs, or use smaller batches",
    errno.EBADF: "the file is closed: give the command an open output (a file, a pipe or the terminal)",
}


class UsageError(ZooError):
    """A command line that cannot run as given (options that do not go together, a value out of range)."""


class CliParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line on stderr (exit status 2); ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _os_error(error: OSError) -> str:
    """``PATH: the system's words (ERRNO); what to do``."""
    where = " -> ".join(str(p) for p in (error.filename, error.filename2) if p is not None)
    words = error.strerror or str(error) or type(error).__name__
    code = f" ({errno.errorcode[error.errno]})" if error.errno in errno.errorcode else ""
    advice = _OS_ADVICE.get(error.errno)
    return f"{where + ': ' if where else ''}{words}{code}{'; ' + advice if advice else ''}"


def _network_error(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return (f"network error ({type(error).__name__}: {str(reason).strip() or 'no detail'}): check the connection, "
            "or work offline (HF_HUB_OFFLINE=1) from files already downloaded")


def _memory_error(error: BaseException) -> str:
    return "out of memory: use a smaller --batch-size (or --accum-steps), fewer images, or a machine with more memory"


def _is(*kinds: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda error: isinstance(error, kinds)


def _out_of_memory(error: BaseException) -> bool:
    import torch

    kinds = (MemoryError, getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError))
    # torch reports a failed CPU allocation as a plain RuntimeError (it has no class of its own)
    return isinstance(error, kinds) or (isinstance(error, RuntimeError)
                                        and "DefaultCPUAllocator: can't allocate memory" in str(error))


def _failure_table() -> list[tuple[Callable[[BaseException], bool], Callable[[BaseException], str]]]:
    """Which failures (most specific first) become which one line. Optional libraries join if present."""
    import socket
    import urllib.error

    from ..weights import transport_errors

    network: list[type[BaseException]] = [urllib.error.URLError, socket.timeout, socket.gaierror, ConnectionError,
                                          TimeoutError, *transport_errors()]
    try:
        from huggingface_hub.errors import HfHubHTTPError

        network.append(HfHubHTTPError)
    except ImportError:
        pass
    table: list = [(_is(ZooError), str)]
    try:
        from PIL import Image

        table.append((_is(Image.DecompressionBombError), lambda e: f"{e} (an image this large is refused as a "
                                                                    "possible decompression bomb: resize it first)"))
    except ImportError:
        pass
    table += [(_is(*network), _network_error), (_out_of_memory, _memory_error), (_is(OSError), _os_error)]
    return table


def explain(error: BaseException) -> str | None:
    """The one line for ``error``, or ``None`` if it is not a failure zoo can explain (then it is a bug)."""
    for matches, describe in _failure_table():
        if matches(error):
            return describe(error)
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, Slurm, ``docker stop``), raised where the process is, as Ctrl-C would be."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _silence_stdout() -> None:
    """Point stdout at /dev/null: a closed pipe or a full disk must not fail again when Python flushes at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def _stdout_broken() -> bool:
    """Whether stdout is the failing file: closed under the process, or still failing to flush."""
    if sys.stdout is None:
        return False
    try:
        os.fstat(sys.stdout.fileno())
        sys.stdout.flush()
        return False
    except (OSError, ValueError):
        return True


def run_cli(main: Callable[[], int]) -> int:
    """Run a command: its failures become ``error: ...`` on stderr and an exit status (1 failure, 2 usage, 130
    SIGINT, 143 SIGTERM — atomic writers have removed their temporary files by then; a closed stdout pipe ends
    quietly with 141, as ``head`` expects); anything else is reported as the bug it is (70, with the traceback)."""
    import signal
    import threading

    previous = signal.getsignal(signal.SIGTERM)
    ours = threading.current_thread() is threading.main_thread() and previous == signal.SIG_DFL
    if ours:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        status = main()
        if sys.stdout is not None:  # a full disk, a closed file or pipe behind stdout shows here, in the table's reach
            try:
                sys.stdout.flush()
            except OSError as error:
                error.filename = error.filename or "<stdout>"
                raise
        return status
    except SystemExit as leaving:  # argparse's usage errors (2) and --help (0): a status, also for in-process callers
        return leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else FAILED)
    except UsageError as error:
        print(f"error: {error} (see --help)", file=sys.stderr)
        return USAGE
    except BrokenPipeError:
        _silence_stdout()
        return CLOSED_PIPE
    except Terminated:
        print("terminated (SIGTERM): nothing was left half-written; a training run continues from its last "
              "checkpoint with --resume", file=sys.stderr)
        return TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001 — the one place where every failure is sorted
        if isinstance(error, OSError) and error.filename is None and _stdout_broken():
            error.filename = "<stdout>"  # print() failed: say it was the output, not some file
        line = explain(error)
        if line is None:
            traceback.print_exc()
            print(f"zoo: internal error ({type(error).__name__}): this is a bug in zoo, not in your input; please "
                  "report it with the traceback above", file=sys.stderr)
            return BUG
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EPIPE, errno.EBADF):
            _silence_stdout()
        print(f"error: {' '.join(line.split())}", file=sys.stderr)
        return FAILED
    finally:
        if ours:  # (run_cli may be called in-process, by a test or a notebook: leave the handler as it was)
            signal.signal(signal.SIGTERM, previous)
