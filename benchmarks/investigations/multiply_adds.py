"""Multiply-adds per image of each published model: as ``torch.utils.flop_counter`` counts them (every tap of every
kernel, zero padding included) and without the taps that fall on the zero padding, which oneDNN's direct
convolutions skip — why an int8 rate "above the ceiling" (VGG-16's small maps: a fifth of its taps are padding) is not.

    python -m benchmarks.investigations.multiply_adds
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


import zoo


def multiply_adds(model: torch.nn.Module) -> tuple[float, float]:
    """(counted, off the padding) for one 32×32 image."""
    on_image = 0.0

    def count_taps(conv: torch.nn.Conv2d, inputs: tuple, _output) -> None:
        nonlocal on_image
        ones = torch.ones(1, 1, *inputs[0].shape[-2:])
        taps = F.conv2d(ones, torch.ones(1, 1, *conv.kernel_size), padding=conv.padding, stride=conv.stride).sum()
        on_image += taps.item() * conv.in_channels // conv.groups * conv.out_channels

    hooks = [m.register_forward_hook(count_taps) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    linear = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    return counter.get_total_flops() / 2, on_image + linear


if __name__ == "__main__":
    for name in zoo.list_models(pretrained=True):
        counted, on_image = multiply_adds(zoo.get_model(name).eval())
        print(f"{name}: {counted / 1e6:.1f} M counted, {on_image / 1e6:.1f} M off the padding ({on_image / counted:.0%})")
