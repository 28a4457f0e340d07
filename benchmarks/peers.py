"""The runtimes a user deploying on a CPU would pick instead of PyTorch, as benchmark contestants.

:func:`peer_builders` gives, per peer, a function ``batch -> runner`` (a runner maps an ``(N, 3, 32, 32)`` float
tensor to logits): OpenVINO models are compiled for one static batch size, as ``torch.compile`` specialises on
shape and as a deployment would. OpenVINO's CPU plugin runs "fp32" models in bf16 where the CPU has native bf16
(its default ``INFERENCE_PRECISION_HINT``), so f32 and bf16 are separate contestants, each with its hint set:
zoo fp32 meets OpenVINO f32, zoo's bf16 fast path meets OpenVINO bf16. OpenVINO's int8 model is NNCF's
post-training quantization on the same calibration images as zoo's int8 model (CIFAR-10 training images 0-511,
unaugmented), so the two int8 paths differ in their tools, not their data.

OpenVINO reads the CPU itself and ignores oneDNN's ``ONEDNN_MAX_CPU_ISA``: under that emulation of the class without
native bf16 it still lists BF16 and defaults to it, so the peers follow zoo's machine class instead (no bf16
contestant; f32 for what NNCF leaves in float), as the plugin would on such a CPU.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

from zoo.errors import ZooError
from zoo.machine import machine_class
from zoo.openvino_ir import compile_openvino, convert, quantize_openvino

Runner = Callable[[torch.Tensor], torch.Tensor]
Builder = Callable[[int], Runner]
THREADS = 2
PEERS = ("openvino_f32", "openvino_bf16", "openvino_int8", "onnxruntime")


class PeerUnavailable(RuntimeError):
    """A peer runtime is not installed, or cannot run on this CPU (the message says which, and what to do)."""


def _peer(what: Callable):
    """``what()``, with zoo's errors (a runtime not installed, an export refused) as PeerUnavailable."""
    try:
        return what()
    except ZooError as error:
        raise PeerUnavailable(str(error)) from None


def openvino_capabilities() -> list[str]:
    """What the CPU plugin says this CPU can run natively (``BF16`` only with native bf16)."""
    try:
        import openvino
    except ImportError as error:
        raise PeerUnavailable(f"openvino is not installed ({error}): pip install 'cifar10-zoo[peers]'") from None
    return list(openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def onnxruntime_session(name: str, workdir: Path) -> Runner:
    """The ``zoo export`` ONNX file in onnxruntime's CPU provider (dynamic batch, ``THREADS`` intra-op threads)."""
    from zoo.export import export_onnx, onnx_session

    session = _peer(lambda: onnx_session(export_onnx(name, workdir / f"{name}.onnx"), threads=THREADS))
    return lambda x: torch.from_numpy(session.run(None, {"images": x.numpy()})[0])


def peer_builders(name: str, model: nn.Module, calibration: torch.Tensor,
                  workdir: Path) -> tuple[dict[str, Builder], dict[str, str]]:
    """Each available peer as ``batch -> runner``, and why each missing one is missing."""
    builders: dict[str, Builder] = {}
    missing: dict[str, str] = {}

    def attempt(label: str, make: Callable[[], Builder]) -> None:
        try:
            builders[label] = make()
        except PeerUnavailable as error:
            missing[label] = str(error)

    def f32():
        converted = _peer(lambda: convert(model))
        return lambda batch: compile_openvino(converted, "f32", THREADS, batch)

    def native_bf16() -> bool:
        return machine_class().native_bf16 and "BF16" in openvino_capabilities()

    def bf16():
        if not native_bf16():
            raise PeerUnavailable("no native bf16 on this class (OpenVINO runs bf16 only where the CPU has it)")
        converted = _peer(lambda: convert(model))
        return lambda batch: compile_openvino(converted, "bf16", THREADS, batch)

    def int8():  # what NNCF left in float runs in the plugin's default precision: bf16 where native, else f32
        quantized = _peer(lambda: quantize_openvino(convert(model), calibration))
        precision = "bf16" if native_bf16() else "f32"
        return lambda batch: compile_openvino(quantized, precision, THREADS, batch)

    def ort():  # one session: onnxruntime runs any batch size
        runner = onnxruntime_session(name, workdir)
        return lambda batch: runner

    for label, make in zip(PEERS, (f32, bf16, int8, ort)):
        attempt(label, make)
    return builders, missing


def versions() -> dict[str, str]:
    """The peers' package versions (absent ones left out), for the results file."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("openvino", "nncf", "onnxruntime"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found
