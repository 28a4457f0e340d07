"""zoo: CIFAR-10 models with verified, reproducible pretrained weights.

>>> import zoo
>>> model = zoo.lenet(pretrained=True)          # or zoo.get_model("lenet", pretrained=True)
>>> zoo.get_weights("lenet").top1               # the published record
"""
import importlib as _importlib

from .api import ENTRY_POINTS, get_model, get_weights, list_models
from .machine import MachineClass, machine_class
from .manifest import WeightsRecord
from .weights import ChecksumError, WeightsUnavailableError

__version__ = "0.1.0"

globals().update(ENTRY_POINTS)  # one builder per registered architecture: zoo.lenet(pretrained=True), …

# Imported on first use: they bring in torch's compiler (torch._inductor, torch._dynamo: about a second), which
# loading and running a model never needs (every Torch Hub load imports this package).
_LAZY = {"prepare_for_cpu_inference": "fast", "quantize": "int8", "quantized_model": "int8"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ChecksumError", "MachineClass", "WeightsRecord", "WeightsUnavailableError", "get_model", "get_weights",
    "list_models", "machine_class", "prepare_for_cpu_inference", "quantize", "quantized_model", *ENTRY_POINTS,
]
