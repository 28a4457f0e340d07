"""The runtimes a user deploying on a CPU would pick instead of PyTorch, as benchmark contestants.

Each builder takes the published float model and returns a callable ``(N, 3, 32, 32) float tensor -> logits tensor``
compiled for one batch size (as ``torch.compile`` specialises on shape, and as a deployment would), or raises
:class:`PeerUnavailable` saying what to install. OpenVINO's int8 model is NNCF's post-training quantization on the
same calibration images as zoo's int8 model (CIFAR-10 training images 0-511, unaugmented), so the two int8 paths
differ in their tools, not their data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

Runner = Callable[[torch.Tensor], torch.Tensor]
THREADS = 2


class PeerUnavailable(RuntimeError):
    """A peer runtime is not installed (the message says which extra installs it)."""


def _openvino():
    try:
        import openvino
    except ImportError as error:
        raise PeerUnavailable(f"openvino is not installed ({error}): pip install 'cifar10-zoo[peers]'") from None
    return openvino


def _compile_openvino(ov_model, batch: int) -> Runner:
    ov = _openvino()
    ov_model.reshape({ov_model.inputs[0]: [batch, 3, 32, 32]})  # static shape: what a deployment compiles
    compiled = ov.Core().compile_model(ov_model, "CPU", {"INFERENCE_NUM_THREADS": THREADS,
                                                         "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(request.infer([x.numpy()])[0].copy())
    return run


def openvino_model(model: nn.Module):
    """``ov.convert_model`` of the PyTorch model (fp32; OpenVINO picks its own kernel precision per CPU)."""
    ov = _openvino()
    return ov.convert_model(model.eval(), example_input=torch.randn(1, 3, 32, 32))


def openvino_fp32(model: nn.Module, batch: int) -> Runner:
    return _compile_openvino(openvino_model(model), batch)


def openvino_int8(model: nn.Module, calibration: torch.Tensor, batch: int) -> Runner:
    """NNCF ``quantize`` (default preset) of the converted model on ``calibration`` (normalised images)."""
    try:
        import nncf
    except ImportError as error:
        raise PeerUnavailable(f"nncf is not installed ({error}): pip install 'cifar10-zoo[peers]'") from None
    samples = [calibration[i:i + 1].numpy() for i in range(len(calibration))]
    quantized = nncf.quantize(openvino_model(model), nncf.Dataset(samples), subset_size=len(samples))
    return _compile_openvino(quantized, batch)


def onnxruntime_session(name: str, workdir: Path) -> Runner:
    """The ``zoo export`` ONNX file in onnxruntime's CPU provider (dynamic batch, ``THREADS`` intra-op threads)."""
    from zoo.errors import ZooError
    from zoo.export import export_onnx, onnx_session

    try:
        session = onnx_session(export_onnx(name, workdir / f"{name}.onnx"))
    except ZooError as error:
        raise PeerUnavailable(str(error)) from None
    return lambda x: torch.from_numpy(session.run(None, {"images": x.numpy()})[0])
