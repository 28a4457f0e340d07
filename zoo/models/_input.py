"""Input validation shared by the CIFAR-10 architectures."""
from __future__ import annotations

import torch

CIFAR10_INPUT_SHAPE = (3, 32, 32)


def check_cifar_input(x: torch.Tensor, model_name: str) -> None:
    """Raise a ``ValueError`` that says what ``model_name`` expects unless ``x`` is a float ``(N, 3, 32, 32)``."""
    preset = f"zoo.get_weights('{model_name}').transforms_preset()"
    if x.dim() != 4 or tuple(x.shape[1:]) != CIFAR10_INPUT_SHAPE:
        hint = " Add a batch dimension with x.unsqueeze(0)." if tuple(x.shape) == CIFAR10_INPUT_SHAPE else ""
        raise ValueError(
            f"{model_name} expects a batch of RGB 32x32 images shaped (N, 3, 32, 32), got {tuple(x.shape)}.{hint} "
            f"Resize and normalise PIL images with {preset}."
        )
    if not x.is_floating_point():
        raise ValueError(
            f"{model_name} expects normalised float images, got a {x.dtype} tensor (raw pixels?). Scale to [0, 1] and "
            f"normalise with the CIFAR-10 mean and std: {preset} does it for PIL images, "
            f"and (x.float() / 255 - mean) / std for tensors (zoo.data.normalize)."
        )
