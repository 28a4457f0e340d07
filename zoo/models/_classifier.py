"""What every zoo model offers beyond ``forward``: timm's classifier surface (``forward_features``, ``forward_head``,
``num_features``, ``get_classifier``, ``reset_classifier``), the sizes it takes, and an input check that speaks in
eager mode and stays out of the tracers' and compilers' way."""
from __future__ import annotations

import torch
from torch import nn

from ._input import InputSize, check_cifar_input, check_num_classes, is_traced


class ZooClassifier(nn.Module):
    """Base of the zoo's models: ``forward(x) = forward_head(forward_features(x))``.

    ``forward_features`` returns the last feature map ``(N, num_features, h, w)``; ``forward_head(x, pre_logits=True)``
    the vector the classifier reads, ``(N, head_hidden_size)``; ``get_classifier()`` that last linear layer and
    ``reset_classifier(n)`` replaces it with a fresh one of ``n`` outputs (the rest keeps its weights: fine-tuning).
    Subclasses set ``input_size`` and ``classifier_name`` (the classifier's dotted attribute path) and implement
    ``forward_features`` and ``forward_head``."""

    # Set by each subclass (class attributes, not annotations: TorchScript would try to compile an annotated type).
    input_size = InputSize.fixed("")
    classifier_name = ""

    def __init__(self, name: str, num_features: int, head_hidden_size: int) -> None:
        super().__init__()
        self.name = name
        self.num_features = num_features
        self.head_hidden_size = head_hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():  # TorchScript leaves this branch out uncompiled: it is decided statically
            self.check_input(x)
        return self.forward_head(self.forward_features(x))

    def check_input(self, x) -> None:
        """The friendly errors of an eager call (a wrong shape, dtype or device, raw pixels, a numpy array); nothing
        while a tracer or compiler runs the model."""
        if not is_traced(x):
            check_cifar_input(x, self.name, like=next(self.parameters()), size=self.input_size)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        raise NotImplementedError

    def get_classifier(self) -> nn.Linear:
        """The last layer: a linear map from ``head_hidden_size`` features to the class logits."""
        return self.get_submodule(self.classifier_name)

    def reset_classifier(self, num_classes: int) -> nn.Linear:
        """Replace the classifier by a fresh, randomly initialised linear layer of ``num_classes`` outputs, on the old
        one's device and dtype, and return it; every other parameter keeps its value."""
        check_num_classes(num_classes)
        old = self.get_classifier()
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                        device=old.weight.device, dtype=old.weight.dtype)
        parent, _, attribute = self.classifier_name.rpartition(".")
        setattr(self.get_submodule(parent) if parent else self, attribute, new)
        return new
