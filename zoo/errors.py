"""Errors a user can cause and fix.

Every failure that comes from the user's input or machine (missing data, a bad file, no network, no compiler)
is a :class:`ZooError` whose message says what was wrong and what to do. The API raises it; the command line
(:mod:`zoo.cli`) prints that message as one line on stderr.
"""
from __future__ import annotations

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


class InputError(ZooError, ValueError):
    """A value zoo cannot use: a tensor of the wrong shape, dtype or device, an argument out of range."""


class InputTypeError(ZooError, TypeError):
    """An argument of the wrong type (``pretrained='False'``, a numpy array where a tensor goes, …)."""


class DeviceError(ZooError, ValueError):
    """A device that torch does not know, or that this machine does not have."""


def parse_device(value: str | int | torch.device | None) -> torch.device:
    """``value`` as a ``torch.device`` (``None``: the CPU; an int N: ``cuda:N``, as torch reads it on a CUDA build)."""
    if isinstance(value, bool):  # torch would read True as cuda:1
        raise DeviceError(f"device={value!r} is not a torch device; use 'cpu', 'cuda', 'cuda:1' or 'mps'")
    if isinstance(value, int):  # the same on every supported torch (2.6 refuses a bare int on a CPU-only build)
        value = f"cuda:{value}"
    try:
        return torch.device(value if value is not None else "cpu")
    except (RuntimeError, TypeError, ValueError):
        raise DeviceError(f"device={value!r} is not a torch device; use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None


def check_device(value: str | int | torch.device | None) -> torch.device:
    """``value`` as a ``torch.device`` this machine has (``None``: the CPU); :class:`DeviceError` otherwise."""
    device = parse_device(value)
    available = {"cpu": lambda: True, "cuda": torch.cuda.is_available,
                 "mps": lambda: torch.backends.mps.is_available()}.get(device.type)
    if available is None or not available():
        raise DeviceError(f"device={str(device)!r}: this machine has no such device (torch {torch.__version__} sees "
                          f"CUDA: {torch.cuda.is_available()}); use 'cpu', or a device torch sees here")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        present = ", ".join(f"cuda:{index}" for index in range(torch.cuda.device_count()))
        raise DeviceError(f"device={str(device)!r}: this machine has no such device (it has {present}); use one of "
                          "them, or 'cpu'")
    return device
