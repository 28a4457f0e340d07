"""ONNX export: ``zoo export NAME [--format onnx] [--output FILE] [--evaluate]``.

One self-contained ``.onnx`` file (weights inside, no external data file: the largest model is 60 MB in fp32),
input ``images`` float32 ``(batch, 3, 32, 32)`` normalised as for the PyTorch model, output ``logits``
``(batch, 10)``, the batch dimension dynamic. Made by ``torch.onnx.export(..., dynamo=True)`` (``torch.export``
then onnxscript) at opset :data:`OPSET`; the file's metadata names the model, the opset and the sha256 of the
weights it was made from. Needs the ``onnx`` extra (``pip install 'cifar10-zoo[onnx]'``); ``--evaluate`` scores the
file with onnxruntime on all 10,000 CIFAR-10 test images beside the PyTorch model.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import torch
from torch import nn

from .api import get_model, get_weights
from .data import Split
from .errors import ZooError, require_extra
from .manifest import atomic_write_bytes
from .metrics import Score, score_runtime
from .paths import writable_file

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "images", "logits"


@contextlib.contextmanager
def _logging_disabled():
    import logging

    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def export_onnx(model: nn.Module | str, path: str | Path, opset: int = OPSET) -> Path:
    """Write ``model`` (a zoo model, or a published model's name) to ``path`` as one ONNX file; returns the path.

    The file is written whole or not at all (temp file + rename)."""
    require_extra("ONNX export", "onnx", "onnxscript", extra="onnx")
    import onnx

    path = writable_file(path)
    name = model if isinstance(model, str) else type(model).__name__
    metadata = {"zoo.model": name, "zoo.opset": str(opset), "zoo.torch": torch.__version__}
    if isinstance(model, str):
        metadata["zoo.weights_sha256"] = get_weights(model).sha256
        model = get_model(model, pretrained=True)
    example = torch.zeros(2, 3, 32, 32)
    batch = torch.export.Dim("batch", min=1)
    # The exporter narrates its steps on stdout and warns about torch internals; neither is for zoo's users.
    # (and logs a traceback when asked for an opset it cannot convert to: the check below says that in one line)
    with torch.inference_mode(False), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), \
            _logging_disabled():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model.eval(), (example,), dynamo=True, opset_version=opset, verbose=False,
                                    input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                    dynamic_shapes=({0: batch},))
    proto = program.model_proto
    written = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if written != opset:  # the exporter may write another opset than asked (torch 2.13 writes 18 for opset 7)
        raise ZooError(f"torch {torch.__version__}'s ONNX exporter wrote opset {written}, not the opset {opset} asked "
                       f"for; nothing was written. Ask for opset {written} (or a version it converts to)")
    onnx.helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(path, proto.SerializeToString())
    return path


def onnx_session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session for an exported file (``threads``: intra-op threads, default torch's)."""
    require_extra("Running ONNX files", "onnxruntime", extra="onnx")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def score_onnx(path: str | Path, split: Split, batch_size: int = 1000) -> Score:
    """Score an exported file with onnxruntime on every image of ``split`` (same preprocessing as :func:`score`)."""
    session = onnx_session(path)
    return score_runtime(lambda x: session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0], split, batch_size)


def onnx_entry(name: str, opset: int, top1: float) -> dict:
    """The record's ``onnx`` entry for an export of ``name`` at ``opset`` that scored ``top1`` in onnxruntime."""
    import importlib.metadata

    return {"opset": opset, "cifar10_test_top1": top1, "onnxruntime": importlib.metadata.version("onnxruntime"),
            "torch": torch.__version__, "command": f"zoo export {name} --evaluate --record"}
