"""A faster CPU inference path for a zoo model: channels_last, bf16 autocast, inference mode, torch.compile.

>>> fast = zoo.prepare_for_cpu_inference(zoo.lenet(pretrained=True))
>>> logits = fast(images)            # (N, 3, 32, 32) float, normalised as usual; fp32 logits out

Measured on the CIFAR-10 test set (tests/test_fast.py): the published models keep their top-1 within 0.1 point.
"""
from __future__ import annotations

import torch
from torch import nn


class FastCPUInference(nn.Module):
    """Wraps an ``eval()`` model: inputs go channels_last, run under bf16 autocast and ``inference_mode``."""

    def __init__(self, model: nn.Module, bf16: bool = True, compile: bool = True) -> None:
        super().__init__()
        self.bf16 = bf16
        model = model.eval().to(memory_format=torch.channels_last)
        # torch.compile (inductor) fuses the small ops that dominate these models on CPU; it needs a C++
        # compiler at first call and compiles once per input shape.
        self.model = torch.compile(model) if compile else model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.model(x).float()


def prepare_for_cpu_inference(model: nn.Module, *, bf16: bool = True, compile: bool = True) -> FastCPUInference:
    """The fast CPU inference path for ``model`` (use ``compile=False`` where no C++ compiler is available)."""
    return FastCPUInference(model, bf16=bf16, compile=compile)
