"""Torch Hub entry points of zoo: ``torch.hub.load("org/zoo", "lenet", pretrained=True)``.

The entry points are zoo's own builders, re-exported: one definition, one docstring (``torch.hub.help`` shows it).
"""
from zoo import cifar_quick, lenet, vgg16_cifar10

dependencies = ["torch", "torchvision", "safetensors", "huggingface_hub"]

__all__ = ["cifar_quick", "lenet", "vgg16_cifar10"]
