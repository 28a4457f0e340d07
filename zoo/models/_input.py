"""The one input check shared by every way of running a zoo model (eager, fast path, int8)."""
from __future__ import annotations

import torch

from ..errors import InputError, InputTypeError

CIFAR10_INPUT_SHAPE = (3, 32, 32)


def _preset(model_name: str) -> str:
    """The call that preprocesses PIL images for ``model_name`` (only for messages: not on the forward path)."""
    from . import ARCHITECTURES  # (here: the registry imports this module)

    name = f"'{model_name}'" if model_name in ARCHITECTURES else "NAME"
    return f"zoo.get_weights({name}).transforms_preset()"


def check_cifar_input(x, model_name: str, like: torch.Tensor | None = None) -> None:
    """Raise an :class:`InputError` (a ``ValueError``) that says what ``model_name`` expects unless ``x`` is a float
    tensor ``(N, 3, 32, 32)`` — of ``like``'s dtype (outside autocast) and on its device, when ``like`` (a parameter
    of the model) is given; an :class:`InputTypeError` (a ``TypeError``) unless it is a tensor at all."""
    if not isinstance(x, torch.Tensor):
        hint = " (torch.from_numpy(x) makes one from a numpy array)" if type(x).__module__ == "numpy" else ""
        raise InputTypeError(f"{model_name} expects a torch.Tensor (N, 3, 32, 32), got {type(x).__name__}{hint}")
    if x.dim() != 4 or tuple(x.shape[1:]) != CIFAR10_INPUT_SHAPE:
        hint = " Add a batch dimension with x.unsqueeze(0)." if tuple(x.shape) == CIFAR10_INPUT_SHAPE else ""
        raise InputError(
            f"{model_name} expects a batch of RGB 32x32 images shaped (N, 3, 32, 32), got {tuple(x.shape)}.{hint} "
            f"Resize and normalise PIL images with {_preset(model_name)}."
        )
    if not x.is_floating_point():
        raise InputError(
            f"{model_name} expects normalised float images, got a {x.dtype} tensor (raw pixels?). Scale to [0, 1] and "
            f"normalise with the CIFAR-10 mean and std: {_preset(model_name)} does it for PIL images, "
            f"and (x.float() / 255 - mean) / std for tensors (zoo.data.normalize)."
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


def check_module(model, function: str) -> None:
    """Raise an :class:`InputTypeError` unless ``model`` is a ``torch.nn.Module`` (a name or a path is not)."""
    if not isinstance(model, torch.nn.Module):
        raise InputTypeError(f"{function} takes a model (torch.nn.Module), not {type(model).__name__}: e.g. "
                             f"zoo.{function}(zoo.lenet(pretrained=True))")
