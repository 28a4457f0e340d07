"""The "CIFAR-10 quick" net of the PyTorch tutorials: three conv(5×5)+max-pool stages, two linears."""
from __future__ import annotations

import torch
from torch import nn

from ._input import check_cifar_input
from ._recipe import Recipe
from .registry import register_model


class CifarQuick(nn.Module):
    """conv(3→32) → pool → conv(32→32) → pool → conv(32→64) → pool → 1024→64→classes.

    Exactly the tutorial's computation: no activation layers (max-pooling is the only
    non-linearity), one ``nn.Sequential`` attribute ``model1`` so the tutorial's keys
    (``model1.0.weight`` …) load with ``strict=True``.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.model1 = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1024, 64),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_cifar_input(x, "cifar_quick", like=self.model1[0].weight)
        return self.model1(x)


# Without activations the net underfits (train 80.5 %, test 79.7 % with 4-pixel crops, 50 epochs): lighter crops.
RECIPE = Recipe(model="cifar_quick", version=1, epochs=60, batch_size=256, lr=0.05, weight_decay=5e-4,
                label_smoothing=0.1, crop_padding=2, precision="bf16")


@register_model("The tutorials' \"CIFAR-10 quick\" net: conv(5×5, pad 2) 3→32, 32→32, 32→64, each followed by "
                "2×2 max-pooling, then 1024→64→10 — no activation layers (max-pooling is the only non-linearity).",
                recipe=RECIPE)
def cifar_quick(num_classes: int = 10) -> CifarQuick:
    """Build an untrained :class:`CifarQuick`."""
    return CifarQuick(num_classes=num_classes)
