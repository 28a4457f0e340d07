"""Torch Hub entry points of zoo: ``torch.hub.load("org/zoo", "lenet", pretrained=True)``.

One entry point per architecture in zoo's registry (``zoo.models.ARCHITECTURES``): zoo's own builders, re-exported —
one definition, one docstring (``torch.hub.help`` shows it).
"""
from zoo.api import ENTRY_POINTS as _ENTRY_POINTS

dependencies = ["torch", "torchvision", "safetensors", "huggingface_hub"]

globals().update(_ENTRY_POINTS)
__all__ = sorted(_ENTRY_POINTS)
