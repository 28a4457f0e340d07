"""Architectures only: builders that return untrained modules, no file or network I/O."""
from __future__ import annotations

from typing import Callable

from torch import nn

from ..errors import UnknownModelError

from .cifar_quick import CifarQuick, cifar_quick
from .lenet import LeNet, lenet
from .vgg import VGG16CIFAR10, vgg16_cifar10

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "cifar_quick": cifar_quick,
    "lenet": lenet,
    "vgg16_cifar10": vgg16_cifar10,
}


def check_model_name(name: str) -> None:
    """Raise a ``ValueError`` listing the known architectures unless ``name`` is one."""
    if name not in ARCHITECTURES:
        raise UnknownModelError(f"Unknown model {name!r}. Available models: {', '.join(sorted(ARCHITECTURES))}.")


def build_model(name: str, num_classes: int = 10) -> nn.Module:
    """Build the untrained architecture ``name``; unknown names raise a ``ValueError`` listing the known ones."""
    check_model_name(name)
    return ARCHITECTURES[name](num_classes=num_classes)


__all__ = ["ARCHITECTURES", "CifarQuick", "LeNet", "VGG16CIFAR10", "build_model", "check_model_name", "cifar_quick", "lenet", "vgg16_cifar10"]
