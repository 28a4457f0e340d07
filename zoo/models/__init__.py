"""Architectures only: builders that return untrained modules, no file or network I/O."""
from __future__ import annotations

from typing import Callable

from torch import nn

from ..errors import InputError, InputTypeError, UnknownModelError

from .cifar_quick import CifarQuick, cifar_quick
from .lenet import LeNet, lenet
from .vgg import VGG16CIFAR10, vgg16_cifar10

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "cifar_quick": cifar_quick,
    "lenet": lenet,
    "vgg16_cifar10": vgg16_cifar10,
}


def check_model_name(name: str) -> None:
    """Raise a ``ValueError`` listing the known architectures unless ``name`` is one (a ``TypeError`` unless it is a
    string)."""
    if not isinstance(name, str):
        raise InputTypeError(f"a model name is a string, not {type(name).__name__} ({name!r:.60}); available models: "
                             f"{', '.join(sorted(ARCHITECTURES))}")
    if name not in ARCHITECTURES:
        raise UnknownModelError(f"Unknown model {name!r}. Available models: {', '.join(sorted(ARCHITECTURES))}.")


def build_model(name: str, num_classes: int = 10) -> nn.Module:
    """Build the untrained architecture ``name``; unknown names raise a ``ValueError`` listing the known ones."""
    check_model_name(name)
    check_num_classes(num_classes)
    return ARCHITECTURES[name](num_classes=num_classes)


def check_num_classes(num_classes) -> None:
    """Raise unless ``num_classes`` is an int >= 1 (``True`` and ``'10'`` are not)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise InputTypeError(f"num_classes must be an int, not {type(num_classes).__name__} ({num_classes!r:.60})")
    if num_classes < 1:
        raise InputError(f"num_classes must be 1 or more, not {num_classes}")


__all__ = ["ARCHITECTURES", "CifarQuick", "LeNet", "VGG16CIFAR10", "build_model", "check_model_name", "check_num_classes", "cifar_quick", "lenet", "vgg16_cifar10"]
