"""Errors a user can cause and fix, and how the command line reports them.

Every failure that comes from the user's input or machine (missing data, a bad file, no network, no compiler)
is a :class:`ZooError` whose message says what was wrong and what to do. The API raises it; the command line
prints that message as one line on stderr and exits 1 (2 for a usage error: a bad option or argument), with no
traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn

import torch

DISTRIBUTION = "cifar10-zoo"  # the name on PyPI ("zoo" there is an unrelated project); the import name is zoo


def pip_install(extra: str | None = None) -> str:
    """The command that installs zoo (with an optional extra), for messages that tell users what to run."""
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


def require_extra(purpose: str, *modules: str, extra: str) -> None:
    """Raise a :class:`ZooError` naming the extra that installs them unless every module imports (said before any
    work, not after)."""
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise ZooError(f"{purpose} needs {module}, which is not installed: {pip_install(extra)}") from None


class ZooError(Exception):
    """Base of the errors zoo reports with a message meant for the user."""


class UnknownModelError(ZooError, ValueError):
    """A model name zoo does not have, or one with no published weights / recipe."""


class RecipeError(ZooError, ValueError):
    """A training recipe with a setting no run can use (``batch_size=0``, ``epochs=-1``, …)."""


class CheckpointError(ZooError, ValueError):
    """A checkpoint or weights file given by the user is missing, unreadable or not what it should be."""


class ManifestError(ZooError, RuntimeError):
    """``weights_manifest.json`` is damaged or from an incompatible version of zoo."""


class TrainingDivergedError(ZooError, RuntimeError):
    """The training loss stopped being a finite number: the run exports nothing."""


class DeviceError(ZooError, ValueError):
    """A device that torch does not know, or that this machine does not have."""


def _parse_device(value: str | torch.device | None) -> torch.device:
    try:
        return torch.device(value if value is not None else "cpu")
    except (RuntimeError, TypeError, ValueError):
        raise DeviceError(f"device={value!r} is not a torch device; use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None


def check_device(value: str | torch.device | None) -> torch.device:
    """``value`` as a ``torch.device`` this machine has (``None``: the CPU); :class:`DeviceError` otherwise."""
    device = _parse_device(value)
    available = {"cpu": lambda: True, "cuda": torch.cuda.is_available,
                 "mps": lambda: torch.backends.mps.is_available()}.get(device.type)
    if available is None or not available():
        raise DeviceError(f"device={str(device)!r}: this machine has no such device (torch {torch.__version__} sees "
                          f"CUDA: {torch.cuda.is_available()}); use 'cpu', or a device torch sees here")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise DeviceError(f"device={str(device)!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def device_argument(text: str) -> str:
    """argparse type: a device name torch can parse (whether this machine has it is checked when the command runs,
    so that a recorded command line like ``--device cuda`` still parses on a CPU)."""
    try:
        _parse_device(text)
    except DeviceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


class CliParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line on stderr (exit status 2); ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, not {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _number(text, float)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number ≥ 0."""
    value = _number(text, float)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text}")
    return value


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1)."""
    value = _number(text, float)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 up to (not including) 1, not {text}")
    return value


def _number(text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole number' if kind is int else 'number'}") from None


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, Slurm, ``docker stop``), raised where the process is, as Ctrl-C would be."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a command's ``main``: a :class:`ZooError` becomes ``error: MESSAGE`` on stderr and exit status 1; SIGINT
    and SIGTERM unwind (atomic writers remove their temporary files) and exit 130 / 143."""
    import signal
    import threading

    previous = signal.getsignal(signal.SIGTERM)
    ours = threading.current_thread() is threading.main_thread() and previous == signal.SIG_DFL
    if ours:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return main(argv)
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Terminated:
        print("terminated (SIGTERM): nothing was left half-written; a training run continues from its last "
              "checkpoint with --resume", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if ours:  # (run_cli may be called in-process, by a test or a notebook: leave the handler as it was)
            signal.signal(signal.SIGTERM, previous)
