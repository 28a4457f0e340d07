"""zoo quantize — the int8 model: build it from the published calibration, score it, or calibrate and record it."""
from __future__ import annotations

import argparse
import json

from ..api import get_weights
from ..data import load_cifar10
from ..int8 import CALIBRATION_FILE, RECORD_KEY, quantized_model, score_int8
from ..manifest import published_records
from ._args import add_data_dir, add_published_models, add_record


def add_parser(commands) -> None:
    parser = commands.add_parser("quantize", help="the int8 model: build, evaluate, calibrate",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="examples:\n  zoo quantize lenet --evaluate\n  zoo quantize lenet --record")
    add_published_models(parser, sorted(published_records()))
    parser.add_argument("--evaluate", action="store_true",
                        help="score the published int8 model on all 10,000 test images beside the float one")
    add_record(parser, f"calibrate on the recorded training images, write weights/NAME/{CALIBRATION_FILE} and the "
               "manifest's figures (a clone only)")
    add_data_dir(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.record:
        from ..release.records import record_int8, require_checkout

        require_checkout("zoo quantize --record")
        record = record_int8(args.model, args.data_dir)
        print(json.dumps({"model": args.model, **record.extra[RECORD_KEY]["metrics"], "float_top1": record.top1},
                         indent=2))
        return 0
    test = load_cifar10(args.data_dir, train=False) if args.evaluate else None
    model = quantized_model(args.model)
    if test is not None:
        print(json.dumps({"model": args.model, "images": len(test), "top1_int8": score_int8(model, test).top1,
                          "top1_float": get_weights(args.model).top1}))
    else:
        print(f"{args.model}: int8 model built from the published weights and calibration (sha256 verified)")
    return 0
