"""Which image sizes a published model takes, and how well it does on CIFAR-10 at another size: the record's
``input_size`` entry (torchvision's ``meta["min_size"]``, with a figure users can expect)."""
from __future__ import annotations

from typing import Any

from .api import get_model
from .data import Split, require_cifar10_test
from .machine import machine_class
from .metrics import score

RECORD_KEY = "input_size"
OTHER_SIZE = 64  # the test set resized to 64x64 (bilinear): what a model that pools globally does at twice the size


def input_size_entry(name: str, test: Split) -> dict[str, Any]:
    """The ``input_size`` entry of published ``name``: its ``min_size`` and whether it takes any size from there (else
    32×32 only, and why); for a model that takes any size, its top-1 on ``test`` (CIFAR-10's test set) resized to
    :data:`OTHER_SIZE` × :data:`OTHER_SIZE`."""
    require_cifar10_test(test, f"the {OTHER_SIZE}x{OTHER_SIZE} figure of {name}")
    model = get_model(name, pretrained=True)
    size = model.input_size
    entry: dict[str, Any] = {**size.to_dict(), "why": size.why}
    if size.any_size:
        entry[f"cifar10_test_top1_{OTHER_SIZE}px"] = score(model, test, size=OTHER_SIZE).top1
        entry["resized"] = (f"all 10,000 test images, normalised, then resized to {OTHER_SIZE}x{OTHER_SIZE} (bilinear, "
                            "torch.nn.functional.interpolate), fp32")
        entry["command"] = f"zoo evaluate {name} --size {OTHER_SIZE}"
        entry["machine_class"] = machine_class().to_dict()  # fp32 kernels: another class may differ by an image
    return entry
