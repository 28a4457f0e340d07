"""Architectures only: builders that return untrained modules, no file or network I/O."""
from __future__ import annotations

from torch import nn

from ..errors import InputTypeError, UnknownModelError

from ._input import check_num_classes
from .registry import ARCHITECTURES, Architecture, import_model_modules, register_model

import_model_modules()

from .cifar_quick import CifarQuick, cifar_quick  # noqa: E402  (the registry's first modules, re-exported)
from .lenet import LeNet, lenet  # noqa: E402
from .vgg import VGG16CIFAR10, vgg16_cifar10  # noqa: E402


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
    return ARCHITECTURES[name].build(num_classes=num_classes)


__all__ = ["ARCHITECTURES", "Architecture", "CifarQuick", "LeNet", "VGG16CIFAR10", "build_model", "check_model_name", "check_num_classes", "cifar_quick", "lenet", "register_model", "vgg16_cifar10"]
