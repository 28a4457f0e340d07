"""The one input check shared by every way of running a zoo model (eager, fast path, int8), and which image sizes
each architecture takes."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import InputError, InputTypeError

CIFAR10_INPUT_SHAPE = (3, 32, 32)


@dataclass(frozen=True)
class InputSize:
    """The image sizes a model takes (torchvision's weights ``meta["min_size"]``, and whether it is also the only
    size). ``why`` is the architecture's reason, said when a size is refused."""

    min_size: tuple[int, int]
    any_size: bool
    why: str

    @classmethod
    def fixed(cls, why: str) -> "InputSize":
        """32×32 only: ``why`` says what in the architecture fixes it."""
        return cls(CIFAR10_INPUT_SHAPE[1:], False, why)

    @classmethod
    def at_least(cls, height: int, width: int, why: str) -> "InputSize":
        """Any height ≥ ``height`` and width ≥ ``width``: ``why`` says what sets the minimum."""
        return cls((height, width), True, why)

    def shape_text(self) -> str:
        if not self.any_size:
            return "(N, 3, 32, 32)"
        return f"(N, 3, H, W) with H >= {self.min_size[0]} and W >= {self.min_size[1]}"

    def takes(self, height: int, width: int) -> bool:
        if not self.any_size:
            return (height, width) == self.min_size
        return height >= self.min_size[0] and width >= self.min_size[1]

    def to_dict(self) -> dict:
        """The record's form: ``{"min_size": [H, W], "any_size": bool}``."""
        return {"min_size": list(self.min_size), "any_size": self.any_size}


CIFAR10_SIZE = InputSize.fixed("it is compiled for CIFAR-10's 32x32 images")


def _preset(model_name: str) -> str:
    """The call that preprocesses images for ``model_name`` (only for messages: not on the forward path)."""
    from .registry import ARCHITECTURES

    name = f"'{model_name}'" if model_name in ARCHITECTURES else "NAME"
    return f"zoo.get_weights({name}).transforms_preset()"


def is_traced(x) -> bool:
    """Whether ``x`` flows through a tracer or a compiler (FX and create_feature_extractor, torch.jit.trace, torch.compile,
    torch.export) instead of an eager call: the input check is for the eager calls, where users make mistakes, and
    the tracers would record it or refuse it. (TorchScript never compiles it: see ``ZooClassifier.forward``.)"""
    # is_compiling first: dynamo folds it to True, and stops there
    return torch.compiler.is_compiling() or torch.jit.is_tracing() or isinstance(x, torch.fx.Proxy)


def check_cifar_input(x, model_name: str, like: torch.Tensor | None = None, size: InputSize = CIFAR10_SIZE) -> None:
    """Raise an :class:`InputError` (a ``ValueError``) that says what ``model_name`` expects unless ``x`` is a float
    tensor ``(N, 3, H, W)`` of a size ``size`` takes — of ``like``'s dtype (outside autocast) and on its device, when
    ``like`` (a parameter of the model) is given; an :class:`InputTypeError` (a ``TypeError``) unless it is a tensor."""
    if not isinstance(x, torch.Tensor):
        hint = " (torch.from_numpy(x) makes one from a numpy array)" if type(x).__module__ == "numpy" else ""
        raise InputTypeError(f"{model_name} expects a torch.Tensor {size.shape_text()}, got {type(x).__name__}{hint}")
    if x.dim() != 4 or x.shape[1] != 3:
        hint = " Add a batch dimension with x.unsqueeze(0)." if x.dim() == 3 and x.shape[0] == 3 else ""
        raise InputError(
            f"{model_name} expects a batch of RGB {'' if size.any_size else '32x32 '}images shaped {size.shape_text()}, "
            f"got {tuple(x.shape)}.{hint} Resize and normalise images with {_preset(model_name)}."
        )
    if not size.takes(*x.shape[2:]):
        resize = ("Resize them to 32x32" if not size.any_size
                  else f"Resize them to at least {size.min_size[0]}x{size.min_size[1]}")
        raise InputError(
            f"{model_name} expects a batch of RGB {'' if size.any_size else '32x32 '}images shaped {size.shape_text()}, "
            f"got {tuple(x.shape)}: {size.why}. {resize}: {_preset(model_name)} makes 32x32 images of any picture."
        )
    if not x.is_floating_point():
        raise InputError(
            f"{model_name} expects normalised float images, got a {x.dtype} tensor (raw pixels?). Scale to [0, 1] and "
            f"normalise with the CIFAR-10 mean and std: {_preset(model_name)} does it for PIL images and tensors, "
            f"and zoo.data.normalize for uint8 batches."
        )
    if like is None:
        return
    if x.device != like.device:
        raise InputError(f"{model_name} is on {like.device} and the images on {x.device}: move them with "
                         f"x.to('{like.device}') (or the model with model.to('{x.device}'))")
    if x.dtype != like.dtype and not torch.is_autocast_enabled(x.device.type):
        raise InputError(f"{model_name} has {str(like.dtype).removeprefix('torch.')} weights and the images are "
                         f"{str(x.dtype).removeprefix('torch.')}: convert them with x.to({like.dtype}) (or the model "
                         f"with model.to({x.dtype}), or run under torch.autocast)")


def check_num_classes(num_classes) -> None:
    """Raise unless ``num_classes`` is an int >= 1 (``True`` and ``'10'`` are not)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise InputTypeError(f"num_classes must be an int, not {type(num_classes).__name__} ({num_classes!r:.60})")
    if num_classes < 1:
        raise InputError(f"num_classes must be 1 or more, not {num_classes}")


def check_module(model, function: str) -> None:
    """Raise an :class:`InputTypeError` unless ``model`` is a ``torch.nn.Module`` (a name or a path is not)."""
    if not isinstance(model, torch.nn.Module):
        raise InputTypeError(f"{function} takes a model (torch.nn.Module), not {type(model).__name__}: e.g. "
                             f"zoo.{function}(zoo.lenet(pretrained=True))")
