"""OpenVINO export: ``zoo export NAME --format openvino [--int8] [--output DIR] [--evaluate]``.

A folder in OpenVINO's IR format, named as optimum-intel names it: ``openvino_model.xml`` (the graph) and
``openvino_model.bin`` (the weights, float32 as trained: no fp16 compression). Input ``images`` float32
``(batch, 3, 32, 32)`` normalised as for the PyTorch model, output ``logits`` ``(batch, 10)``, the batch dimension
dynamic. Made by ``openvino.convert_model`` from the published PyTorch model; ``--int8`` adds NNCF's post-training
quantization (default preset) on the same calibration images as zoo's own int8 model (the first 512 CIFAR-10
training images, unaugmented), so it needs the data set. The graph's ``rt_info`` names the model, the weights'
sha256 and the versions that made it. Needs the ``openvino`` extra (``pip install 'cifar10-zoo[openvino]'``).

In OpenVINO's own runtime: ``core.compile_model(core.read_model("DIR/openvino_model.xml"), "CPU")``. Its CPU plugin
runs float layers in bf16 where the CPU has native bf16 unless told ``INFERENCE_PRECISION_HINT=f32``;
:func:`compile_openvino` and the recorded top-1 figures use f32, the precision the figures can be compared in.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .api import get_model, get_weights
from .data import Split
from .errors import ZooError, require_extra
from .export import INPUT_NAME, OUTPUT_NAME
from .manifest import _umask
from .metrics import Score, score_runtime
from .paths import writable_dir

XML, BIN = "openvino_model.xml", "openvino_model.bin"
RECORD_KEYS = {False: "openvino", True: "openvino_int8"}  # manifest entry per --int8
EXPORT_FILES = frozenset({XML, BIN})


def _openvino():
    require_extra("OpenVINO export", "openvino", extra="openvino")
    import openvino

    return openvino


def convert(model: nn.Module):
    """``openvino.convert_model`` of a zoo float model, dynamic batch, its ports named ``images`` and ``logits``."""
    ov = _openvino()
    with torch.inference_mode(False), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings are about zoo's input check, not for the user
        converted = ov.convert_model(model.eval(), example_input=torch.zeros(1, 3, 32, 32), input=[-1, 3, 32, 32])
    converted.inputs[0].get_tensor().set_names({INPUT_NAME})
    converted.outputs[0].get_tensor().set_names({OUTPUT_NAME})
    return converted


def quantize_openvino(converted, calibration: torch.Tensor):
    """NNCF's post-training int8 quantization (default preset) of a converted model on ``calibration``, a
    ``(N, 3, 32, 32)`` float tensor of normalised images, every one of them used."""
    import logging

    # importing nncf imports torch.utils.cpp_extension, which warns that this CPU machine has no CUDA runtime
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    require_extra("OpenVINO int8 export", "nncf", extra="openvino")
    import nncf

    samples = [calibration[i:i + 1].numpy() for i in range(len(calibration))]
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # NNCF draws progress bars on stdout
        return nncf.quantize(converted, nncf.Dataset(samples), subset_size=len(samples))


def _check_output(directory: Path) -> Path:
    """``directory`` as a place for an export: absent, empty, or an earlier export (which is replaced whole)."""
    directory = writable_dir(directory)
    if directory.is_dir():
        strangers = sorted(p.name for p in directory.iterdir() if p.name not in EXPORT_FILES)
        if strangers:
            raise ZooError(f"{directory} holds other files than an OpenVINO export ({', '.join(strangers[:3])}); "
                           "nothing was written. Give an empty or new folder with --output")
    return directory


def _replace_dir(staged: Path, directory: Path) -> None:
    """Move the staged export into place: the old export, if any, goes only once the new one is whole beside it."""
    if directory.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
        directory.rename(retired / directory.name)
        staged.rename(directory)
        shutil.rmtree(retired)
    else:
        staged.rename(directory)


def export_openvino(name: str, directory: str | Path, calibration: torch.Tensor | None = None) -> Path:
    """Write published model ``name`` to ``directory`` as OpenVINO IR (int8 through NNCF when ``calibration`` images
    are given); returns the folder. The folder appears whole or not at all."""
    ov = _openvino()
    directory = _check_output(Path(directory))
    converted = convert(get_model(name, pretrained=True))
    if calibration is not None:
        converted = quantize_openvino(converted, calibration)
    info = {"model": name, "weights_sha256": get_weights(name).sha256, "torch": torch.__version__,
            "openvino": importlib.metadata.version("openvino"), "int8": str(calibration is not None).lower()}
    if calibration is not None:
        info["nncf"] = importlib.metadata.version("nncf")
        info["calibration"] = f"{len(calibration)} CIFAR-10 training images, unaugmented"
    for key, value in info.items():
        converted.set_rt_info(value, ["zoo", key])
    directory.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    os.chmod(staged, 0o777 & ~_umask())  # mkdtemp makes it private; the export gets a folder's usual permissions
    try:
        ov.save_model(converted, str(staged / XML), compress_to_fp16=False)
        _replace_dir(staged, directory)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return directory


def compile_openvino(model, precision: str = "f32", threads: int | None = None,
                     batch: int | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """An export (its folder, or a converted model) compiled by OpenVINO's CPU plugin, as a function from images to
    logits. ``precision`` is the plugin's ``INFERENCE_PRECISION_HINT`` for float layers; ``batch`` fixes the batch
    size (as a deployment compiles it), None keeps it dynamic; ``threads`` defaults to torch's."""
    ov = _openvino()
    core = ov.Core()
    model = core.read_model(str(Path(model) / XML)) if isinstance(model, (str, os.PathLike)) else model.clone()
    if batch is not None:
        model.reshape({model.inputs[0]: [batch, 3, 32, 32]})
    config = {"INFERENCE_NUM_THREADS": threads or torch.get_num_threads(), "PERFORMANCE_HINT": "LATENCY",
              "INFERENCE_PRECISION_HINT": precision}
    request = core.compile_model(model, "CPU", config).create_infer_request()
    return lambda x: torch.from_numpy(request.infer([x.numpy()])[0].copy())


def score_openvino(directory: str | Path, split: Split, batch_size: int = 1000) -> Score:
    """Score an exported folder in OpenVINO (f32) on every image of ``split``."""
    return score_runtime(compile_openvino(directory), split, batch_size)


def openvino_entry(name: str, int8: bool, score: Score) -> dict:
    """The record's entry (``RECORD_KEYS[int8]``) for an export of ``name`` that scored ``score`` in OpenVINO."""
    from .machine import machine_class

    entry = {"cifar10_test_top1": score.top1, "cifar10_test_per_class": score.per_class, "precision_hint": "f32",
             "openvino": importlib.metadata.version("openvino"), "torch": torch.__version__,
             "machine_class": machine_class().to_dict(),
             "command": f"zoo export {name} --format openvino{' --int8' if int8 else ''} --evaluate --record"}
    if int8:
        entry.update(nncf=importlib.metadata.version("nncf"), calibration="CIFAR-10 training images 0-511, unaugmented")
    return entry
