"""ONNX export: ``zoo export NAME [--format onnx] [--output FILE] [--evaluate]``.

One self-contained ``.onnx`` file (weights inside, no external data file: the largest model is 60 MB in fp32),
input ``images`` float32 ``(batch, 3, 32, 32)`` normalised as for the PyTorch model, output ``logits``
``(batch, 10)``, the batch dimension dynamic. Made by ``torch.onnx.export(..., dynamo=True)`` (``torch.export``
then onnxscript) at opset :data:`OPSET`; the file's metadata names the model, the opset and the sha256 of the
weights it was made from. Needs the ``onnx`` extra (``pip install 'cifar10-zoo[onnx]'``); ``--evaluate`` scores the
file with onnxruntime on all 10,000 CIFAR-10 test images beside the PyTorch model.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

from .api import get_model, get_weights
from .data import Split, load_cifar10
from .errors import CliParser, ZooError, require_extra, run_cli
from .manifest import atomic_write_bytes, in_checkout, published_records, write_record
from .metrics import Score, score, score_runtime

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "images", "logits"


def check_writable(path: Path) -> None:
    """Fail before any work if ``path`` cannot be written (missing or read-only folder, a folder in the way)."""
    import os

    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ZooError(f"--output {path} is a folder: give a file name, e.g. {path / 'model.onnx'}")
    if not parent.is_dir():
        raise ZooError(f"cannot write {path}: the folder {parent} does not exist (create it, or choose another --output)")
    if not os.access(parent, os.W_OK):
        raise ZooError(f"cannot write {path}: the folder {parent} is not writable (choose another --output)")


def export_onnx(model: nn.Module | str, path: str | Path, opset: int = OPSET) -> Path:
    """Write ``model`` (a zoo model, or a published model's name) to ``path`` as one ONNX file; returns the path.

    The file is written whole or not at all (temp file + rename)."""
    require_extra("ONNX export", "onnx", "onnxscript", extra="onnx")
    import onnx

    path = Path(path)
    check_writable(path)
    name = model if isinstance(model, str) else type(model).__name__
    metadata = {"zoo.model": name, "zoo.opset": str(opset), "zoo.torch": torch.__version__}
    if isinstance(model, str):
        metadata["zoo.weights_sha256"] = get_weights(model).sha256
        model = get_model(model, pretrained=True)
    example = torch.zeros(2, 3, 32, 32)
    batch = torch.export.Dim("batch", min=1)
    # The exporter narrates its steps on stdout and warns about torch internals; neither is for zoo's users.
    with torch.inference_mode(False), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model.eval(), (example,), dynamo=True, opset_version=opset, verbose=False,
                                    input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                    dynamic_shapes=({0: batch},))
    proto = program.model_proto
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


def record_onnx(name: str, opset: int, top1: float) -> None:
    """Write the exported file's measured top-1 into ``name``'s manifest record (entry ``onnx``)."""
    import dataclasses
    import importlib.metadata

    record = get_weights(name)
    entry = {"opset": opset, "cifar10_test_top1": top1, "onnxruntime": importlib.metadata.version("onnxruntime"),
             "torch": torch.__version__, "command": f"python -m zoo.export {name} --evaluate"}
    write_record(dataclasses.replace(record, extra={**record.extra, "onnx": entry}))


def main(argv: list[str] | None = None, prog: str = "python -m zoo.export") -> int:
    parser = CliParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  zoo export lenet\n  zoo export vgg16_cifar10 --output vgg16.onnx --evaluate")
    parser.add_argument("model", metavar="NAME", choices=sorted(published_records()))
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="file format (default onnx)")
    parser.add_argument("--output", type=Path, help="file to write (default NAME.onnx)")
    parser.add_argument("--opset", type=int, default=OPSET, help=f"ONNX opset (default {OPSET})")
    parser.add_argument("--evaluate", action="store_true",
                        help="score the file with onnxruntime on the CIFAR-10 test set, beside the PyTorch model")
    parser.add_argument("--data-dir", help="CIFAR-10 root for --evaluate (default: $ZOO_DATA_DIR or the user cache)")
    parser.add_argument("--record", action="store_true",
                        help="with --evaluate: write the onnxruntime top-1 into the manifest (a clone only)")
    args = parser.parse_args(argv)
    if args.record and not (args.evaluate and in_checkout()):
        parser.error("--record goes with --evaluate, in a clone of the repository (it writes the manifest)")
    output = args.output or Path(f"{args.model}.onnx")
    check_writable(output)
    test = load_cifar10(args.data_dir, train=False) if args.evaluate else None  # missing data: said before export
    path = export_onnx(args.model, output, args.opset)
    print(f"{path}: {path.stat().st_size:,} bytes, opset {args.opset}, input {INPUT_NAME} (batch, 3, 32, 32)")
    if test is not None:
        report = {"images": len(test), "top1_onnxruntime": score_onnx(path, test).top1,
                  "top1_pytorch": score(get_model(args.model, pretrained=True), test).top1}
        print(json.dumps(report))
        if args.record:
            record_onnx(args.model, args.opset, report["top1_onnxruntime"])
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
