"""A faster CPU inference path for a zoo model, with options picked for the machine it runs on.

>>> fast = zoo.prepare_for_cpu_inference(zoo.lenet(pretrained=True))
>>> logits = fast(images)            # (N, 3, 32, 32) float, normalised as usual; fp32 logits out

Always ``inference_mode`` and ``torch.compile`` (inductor). The rest depends on the model and the machine
(:func:`zoo.machine_class`), as measured by ``python -m benchmarks.investigations.fast_options`` and ``benchmarks/investigations/levers.py`` on
both CPU classes (README, Performance):

* bf16 autocast only on a CPU with native bf16, and only for batches of ``BF16_MIN_BATCH`` or more: where bf16 is
  emulated it is slower than fp32 (VGG-16 at batch 256: 0.67x the plain model), and for single images its casts
  cost more than they save even natively for the small models (lenet at batch 1: 0.81x).
* channels_last under bf16, and in fp32 for models with wide convolutions (>= 64 output channels): fp32 lenet runs
  faster in NCHW, VGG-16 at batch 1 only beats the plain model in channels_last.
* inductor freezing (weights folded into the graph and pre-packed for oneDNN) for models with wide convolutions:
  ResNet-20 1.32-1.47x at batch 256, VGG-16 1.94-2.10x at batch 1, on both classes (cifar_quick, one 64-channel
  convolution, 0.97-1.16x); lenet's 0.88-1.10x is not a gain.

The published models keep their top-1 within 0.1 point on this path (tests/test_fast.py).
"""
from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterator

import torch
from torch import nn

from .machine import MachineClass, machine_class, missing_cpp_compiler
from .models._input import CIFAR10_SIZE, check_cifar_input, check_module

log = logging.getLogger(__name__)

BF16_MIN_BATCH = 16
# No other inductor option: cpp_wrapper gained nothing unfrozen and, frozen, lost at batch 1 (VGG-16 9.3 vs 4.6 ms);
# max-autotune gained nothing consistent (benchmarks/investigations/levers.py, both classes)
WIDE_CONV_CHANNELS = 64


class _InductorFreezing:
    """inductor's freezing on while any caller, in any thread, is inside; the setting before the first one restored
    after the last. The setting is process-wide, so callers that each saved and restored it (as
    ``inductor_config.patch`` does) could, overlapping in two threads, switch it off under the other's compile or
    leave it on for good. ``patch()`` also defines a class at every call: 30 us a call against 12 us here (AMD
    family 23, AVX2 class), a tenth of a small model's batch-1 call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._prior = False

    @functools.cached_property
    def _config(self):
        """torch._inductor.config, imported at the first call, not with this module: torch._inductor costs about a
        second, which every `zoo` command would pay (zoo env reads this module's fast-path options)."""
        import torch._inductor.config as inductor_config

        return inductor_config

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        inductor_config = self._config
        with self._lock:
            if not self._inside:
                self._prior = inductor_config.freezing
                inductor_config.freezing = True
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if not self._inside:
                    inductor_config.freezing = self._prior


inductor_freezing = _InductorFreezing()


def has_wide_convolutions(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) and m.out_channels >= WIDE_CONV_CHANNELS for m in model.modules())


class FastCPUInference(nn.Module):
    """Wraps an ``eval()`` model: inference mode, compiled; bf16 autocast and channels_last as chosen."""

    def __init__(self, model: nn.Module, bf16: bool = True, compile: bool = True, channels_last: bool = True,
                 bf16_min_batch: int = BF16_MIN_BATCH, freezing: bool = False) -> None:
        super().__init__()
        self.bf16 = bf16
        self.freezing = freezing
        self.bf16_min_batch = bf16_min_batch
        self.channels_last = channels_last
        model = model.eval()
        # the float weights inputs must match (dtype, device); a buffer, not a parameter: nothing new to train or save
        self.input_like = next(model.parameters()).detach()
        self.model_name = f"the fast path of {type(model).__name__}"
        self.input_size = getattr(model, "input_size", CIFAR10_SIZE)  # the sizes the model takes (compiled per shape)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        # torch.compile (inductor) fuses the small ops that dominate these models on CPU; it needs a C++
        # compiler at first call and compiles once per input shape.
        # "freezing" among the options too: dynamo reuses a graph compiled for another instance of the same class
        # with the same options, so frozen and unfrozen paths must differ in them, not only in the patch below
        self.model = torch.compile(model, options={"freezing": freezing}) if compile else model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # before the layout change, which would fail first
        check_cifar_input(x, self.model_name, like=self.input_like, size=self.input_size)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        bf16 = self.bf16 and x.dim() == 4 and x.shape[0] >= self.bf16_min_batch
        # inductor's freezing must be on while dynamo traces, at every call that may compile a new shape:
        # torch.compile(options={"freezing": True}) reaches inductor only, and freezes nothing (pytorch#139272)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16), self.compile_context():
            return self.model(x).float()

    def compile_context(self) -> contextlib.AbstractContextManager:
        """The inductor settings every call of the compiled model needs (freezing, where chosen)."""
        return inductor_freezing() if self.freezing else contextlib.nullcontext()

    def extra_repr(self) -> str:
        return (f"bf16={self.bf16} (batches >= {self.bf16_min_batch}), channels_last={self.channels_last}, "
                f"freezing={self.freezing}")


def prepare_for_cpu_inference(model: nn.Module, *, bf16: bool | None = None, compile: bool = True,
                              channels_last: bool | None = None, freezing: bool | None = None) -> FastCPUInference:
    """The fast CPU inference path for ``model``; options left as ``None`` are chosen for this machine.

    ``bf16``: autocast batches of 16 or more to bfloat16 (default: only where the CPU has native bf16).
    ``channels_last``: default under bf16, or for models with convolutions of 64 or more output channels.
    ``freezing``: inductor folds the weights into the compiled graph and pre-packs them for oneDNN (default: for models
    with convolutions of 64 or more output channels). Frozen, later changes to the model's weights are not seen:
    prepare again after loading new weights.
    ``compile=False`` runs it eagerly; where no C++ compiler is found (torch inductor needs one) that is chosen too,
    with one logged warning.
    """
    check_module(model, "prepare_for_cpu_inference")
    if compile and (reason := missing_cpp_compiler()) is not None:
        log.warning("zoo: torch.compile cannot build C++ kernels here (%s); the fast path runs eagerly (slower). For "
                    "the compiled path install a compiler (e.g. `apt install g++`, or set CXX) where none is; pass "
                    "compile=False to say so.", reason)
        compile = False
    chosen = fast_path_options(model, bf16=bf16)
    channels_last = chosen["channels_last"] if channels_last is None else channels_last
    freezing = chosen["freezing"] if freezing is None else freezing
    return FastCPUInference(model, bf16=chosen["bf16"], compile=compile, channels_last=channels_last,
                            freezing=freezing)


def fast_path_options(model: nn.Module, here: MachineClass | None = None, bf16: bool | None = None) -> dict[str, bool]:
    """The options :func:`prepare_for_cpu_inference` picks for ``model`` on this machine (or ``here``); ``bf16``
    overrides the machine's choice, and channels_last follows it."""
    bf16 = (here or machine_class()).native_bf16 if bf16 is None else bf16
    wide = has_wide_convolutions(model)
    return {"bf16": bf16, "channels_last": bf16 or wide, "freezing": wide}
