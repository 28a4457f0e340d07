"""zoo: CIFAR-10 models with verified, reproducible pretrained weights.

>>> import zoo
>>> model = zoo.lenet(pretrained=True)          # or zoo.get_model("lenet", pretrained=True)
>>> zoo.get_weights("lenet").top1               # the published record
"""
from .api import ENTRY_POINTS, get_model, get_weights, list_models
from .fast import prepare_for_cpu_inference
from .int8 import quantize, quantized_model
from .machine import MachineClass, machine_class
from .manifest import WeightsRecord
from .weights import ChecksumError, WeightsUnavailableError

__version__ = "0.1.0"

globals().update(ENTRY_POINTS)  # one builder per registered architecture: zoo.lenet(pretrained=True), …

__all__ = [
    "ChecksumError", "MachineClass", "WeightsRecord", "WeightsUnavailableError", "get_model", "get_weights",
    "list_models", "machine_class", "prepare_for_cpu_inference", "quantize", "quantized_model", *ENTRY_POINTS,
]
