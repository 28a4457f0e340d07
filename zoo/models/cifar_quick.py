"""The "CIFAR-10 quick" net of the PyTorch tutorials: three conv(5×5)+max-pool stages, two linears."""
from __future__ import annotations

import torch
from torch import nn

from ._classifier import ZooClassifier
from ._input import InputSize
from ._recipe import Recipe
from .registry import register_model


class CifarQuick(ZooClassifier):
    """conv(3→32) → pool → conv(32→32) → pool → conv(32→64) → pool → 1024→64→classes.

    Exactly the tutorial's computation: no activation layers (max-pooling is the only
    non-linearity), one ``nn.Sequential`` attribute ``model1`` so the tutorial's keys
    (``model1.0.weight`` …) load with ``strict=True``. Features: the 64×4×4 map after the third pool; the
    classifier ``model1[8]`` reads the 64 outputs of ``model1[7]``.
    """

    input_size = InputSize.fixed("its first linear layer takes the 64x4x4 map that three 2x2 max-pools leave of a "
                                 "32x32 image")
    classifier_name = "model1.8"

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__("cifar_quick", num_features=64, head_hidden_size=64)
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

    # The tutorial's one Sequential, split in two by index (TorchScript indexes a Sequential by constants only).
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.model1[1](self.model1[0](x))
        x = self.model1[3](self.model1[2](x))
        return self.model1[5](self.model1[4](x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.model1[7](self.model1[6](x))
        return x if pre_logits else self.model1[8](x)


# Without activations the net underfits (train 80.5 %, test 79.7 % with 4-pixel crops, 50 epochs): lighter crops.
RECIPE = Recipe(model="cifar_quick", version=1, epochs=60, batch_size=256, lr=0.05, weight_decay=5e-4,
                label_smoothing=0.1, crop_padding=2, precision="bf16")


@register_model("The tutorials' \"CIFAR-10 quick\" net: conv(5×5, pad 2) 3→32, 32→32, 32→64, each followed by "
                "2×2 max-pooling, then 1024→64→10 — no activation layers (max-pooling is the only non-linearity).",
                recipe=RECIPE, reference="the 'CIFAR-10 quick' model of Caffe's CIFAR-10 example (Y. Jia et al., Caffe: "
                "convolutional architecture for fast feature embedding, ACM Multimedia 2014), as PyTorch tutorials "
                "rebuild it")
def cifar_quick(num_classes: int = 10) -> CifarQuick:
    """Build an untrained :class:`CifarQuick`."""
    return CifarQuick(num_classes=num_classes)
