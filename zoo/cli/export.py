"""zoo export — write a published model as one ONNX file or as an OpenVINO folder (float, or int8 through NNCF),
optionally scored in its runtime."""
from __future__ import annotations

import argparse
import json

from ..api import get_model
from ..data import load_cifar10, require_cifar10_test
from ..export import INPUT_NAME, OPSET, export_onnx, score_onnx
from ..manifest import in_checkout, published_records
from ..metrics import score
from ..paths import PathError, writable_dir, writable_file
from ._args import add_data_dir, add_published_models, positive_int
from ._errors import UsageError


def add_parser(commands) -> None:
    parser = commands.add_parser("export", help="write a model as one ONNX file",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="examples:\n  zoo export lenet\n"
                                        "  zoo export vgg16_cifar10 --output vgg16.onnx --evaluate\n"
                                        "  zoo export lenet --format openvino --int8 --evaluate")
    add_published_models(parser, sorted(published_records()))
    parser.add_argument("--format", choices=["onnx", "openvino"], default="onnx",
                        help="onnx: one .onnx file (onnxruntime); openvino: a folder of OpenVINO IR (default onnx)")
    parser.add_argument("--int8", action="store_true",
                        help="with --format openvino: quantize with NNCF on zoo's 512 calibration images (needs the "
                             "CIFAR-10 training set)")
    parser.add_argument("--output", metavar="PATH",
                        help="file (onnx) or folder (openvino) to write (default NAME.onnx, NAME-openvino, "
                             "NAME-openvino-int8)")
    parser.add_argument("--opset", type=positive_int, default=OPSET,
                        help=f"ONNX opset (default {OPSET}; the file is refused unless it holds this opset)")
    parser.add_argument("--evaluate", action="store_true",
                        help="score the export in its runtime (onnxruntime, OpenVINO f32) on the CIFAR-10 test set, "
                             "beside the PyTorch model")
    add_data_dir(parser, "for --evaluate")
    parser.add_argument("--record", action="store_true",
                        help="with --evaluate: write the runtime's top-1 into the manifest (a clone only)")
    parser.set_defaults(run=run)


def _output(args: argparse.Namespace):
    """The path to write, checked for the format: a file for onnx, a folder for openvino."""
    if args.format == "onnx":
        default, check = f"{args.model}.onnx", writable_file
    else:
        default, check = f"{args.model}-openvino{'-int8' if args.int8 else ''}", writable_dir
    try:
        return check(default if args.output is None else args.output)
    except PathError as error:
        raise UsageError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    if args.record and not (args.evaluate and in_checkout()):
        raise UsageError("--record goes with --evaluate, in a clone of the repository (it writes the manifest)")
    if args.int8 and args.format != "openvino":
        raise UsageError("--int8 goes with --format openvino (zoo's own int8 model is `zoo quantize`)")
    output = _output(args)
    test = load_cifar10(args.data_dir, train=False) if args.evaluate else None  # missing data: said before export
    if test is not None and args.record:
        require_cifar10_test(test, "recording the export's figure")
    if args.format == "openvino":
        return _run_openvino(args, output, test)
    path = export_onnx(args.model, output, args.opset)
    print(f"{path}: {path.stat().st_size:,} bytes, opset {args.opset}, input {INPUT_NAME} (batch, 3, 32, 32)")
    if test is not None:
        report = {"images": len(test), "top1_onnxruntime": score_onnx(path, test).top1,
                  "top1_pytorch": score(get_model(args.model, pretrained=True), test).top1}
        print(json.dumps(report))
        if args.record:
            from ..release.records import record_onnx

            record_onnx(args.model, args.opset, report["top1_onnxruntime"])
    return 0


def _run_openvino(args: argparse.Namespace, output, test) -> int:
    from ..int8 import calibration_images
    from ..openvino_ir import BIN, XML, export_openvino, score_openvino

    calibration = calibration_images(args.data_dir) if args.int8 else None  # missing data: said before export
    folder = export_openvino(args.model, output, calibration)
    size = sum((folder / name).stat().st_size for name in (XML, BIN))
    print(f"{folder}/{XML} (+ {BIN}): {size:,} bytes, {'int8 (NNCF)' if args.int8 else 'float32'}, "
          f"input {INPUT_NAME} (batch, 3, 32, 32)")
    if test is not None:
        measured = score_openvino(folder, test)
        print(json.dumps({"images": len(test), "top1_openvino": measured.top1,
                          "top1_pytorch": score(get_model(args.model, pretrained=True), test).top1}))
        if args.record:
            from ..release.records import record_openvino

            record_openvino(args.model, args.int8, measured)
    return 0
