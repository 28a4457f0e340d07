"""zoo export — write a published model as one ONNX file, optionally scored with onnxruntime (also
``python -m zoo.export``)."""
from __future__ import annotations

import argparse
import json

from ..api import get_model
from ..data import load_cifar10, require_cifar10_test
from ..export import INPUT_NAME, OPSET, export_onnx, record_onnx, score_onnx
from ..manifest import in_checkout, published_records
from ..metrics import score
from ..paths import writable_file
from ._args import add_data_dir, add_published_models, output_file, positive_int
from ._errors import UsageError


def add_parser(commands) -> None:
    parser = commands.add_parser("export", help="write a model as one ONNX file (python -m zoo.export)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="examples:\n  zoo export lenet\n"
                                        "  zoo export vgg16_cifar10 --output vgg16.onnx --evaluate")
    add_published_models(parser, sorted(published_records()))
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="file format (default onnx)")
    parser.add_argument("--output", type=output_file, metavar="FILE", help="file to write (default NAME.onnx)")
    parser.add_argument("--opset", type=positive_int, default=OPSET,
                        help=f"ONNX opset (default {OPSET}; the file is refused unless it holds this opset)")
    parser.add_argument("--evaluate", action="store_true",
                        help="score the file with onnxruntime on the CIFAR-10 test set, beside the PyTorch model")
    add_data_dir(parser, "for --evaluate")
    parser.add_argument("--record", action="store_true",
                        help="with --evaluate: write the onnxruntime top-1 into the manifest (a clone only)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.record and not (args.evaluate and in_checkout()):
        raise UsageError("--record goes with --evaluate, in a clone of the repository (it writes the manifest)")
    output = args.output or writable_file(f"{args.model}.onnx")
    test = load_cifar10(args.data_dir, train=False) if args.evaluate else None  # missing data: said before export
    if test is not None and args.record:
        require_cifar10_test(test, "recording the ONNX figure")
    path = export_onnx(args.model, output, args.opset)
    print(f"{path}: {path.stat().st_size:,} bytes, opset {args.opset}, input {INPUT_NAME} (batch, 3, 32, 32)")
    if test is not None:
        report = {"images": len(test), "top1_onnxruntime": score_onnx(path, test).top1,
                  "top1_pytorch": score(get_model(args.model, pretrained=True), test).top1}
        print(json.dumps(report))
        if args.record:
            record_onnx(args.model, args.opset, report["top1_onnxruntime"])
    return 0
