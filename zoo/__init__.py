"""zoo: CIFAR-10 models with verified, reproducible pretrained weights.

>>> import zoo
>>> model = zoo.lenet(pretrained=True)          # or zoo.get_model("lenet", pretrained=True)
>>> zoo.get_weights("lenet").top1               # the published record
"""
from .api import cifar_quick, get_model, get_weights, lenet, list_models, vgg16_cifar10
from .fast import prepare_for_cpu_inference
from .int8 import quantize, quantized_model
from .machine import MachineClass, machine_class
from .manifest import WeightsRecord
from .weights import ChecksumError, WeightsUnavailableError

__version__ = "0.1.0"

__all__ = [
    "ChecksumError", "MachineClass", "WeightsRecord", "WeightsUnavailableError", "cifar_quick", "get_model",
    "get_weights", "lenet", "list_models", "machine_class", "prepare_for_cpu_inference", "quantize", "quantized_model",
    "vgg16_cifar10",
]
