"""Input validation shared by the CIFAR-10 architectures."""
from __future__ import annotations

import torch

CIFAR10_INPUT_SHAPE = (3, 32, 32)


def check_cifar_input(x: torch.Tensor, model_name: str) -> None:
    """Raise a ``ValueError`` that says what ``model_name`` expects unless ``x`` is ``(N, 3, 32, 32)``."""
    if x.dim() != 4 or tuple(x.shape[1:]) != CIFAR10_INPUT_SHAPE:
        hint = " Add a batch dimension with x.unsqueeze(0)." if tuple(x.shape) == CIFAR10_INPUT_SHAPE else ""
        raise ValueError(
            f"{model_name} expects a batch of RGB 32x32 images shaped (N, 3, 32, 32), got {tuple(x.shape)}."
            f"{hint} Resize and normalise images with zoo.get_weights('<name>').transforms()."
        )
