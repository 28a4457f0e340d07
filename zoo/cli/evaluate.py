"""zoo evaluate — score a checkpoint on the full CIFAR-10 test set (also ``python -m zoo.evaluate NAME``)."""
from __future__ import annotations

import argparse
import json
import sys

from ..api import get_model
from ..data import check_cifar10_test, load_cifar10
from ..metrics import score
from ..models import ARCHITECTURES
from ._args import add_checkpoint, add_data_dir, add_json


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="score a checkpoint on the CIFAR-10 test set (python -m zoo.evaluate)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m zoo.evaluate lenet\n"
               "  python -m zoo.evaluate lenet --checkpoint runs/lenet/model.safetensors --json")
    parser.add_argument("model", metavar="NAME", choices=sorted(ARCHITECTURES))
    add_checkpoint(parser, "score")
    add_data_dir(parser)
    parser.add_argument("--flip-tta", action="store_true", help="also report flip test-time augmentation")
    add_json(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    test = load_cifar10(args.data_dir, train=False)  # first: missing data is said before any model is loaded
    identity = check_cifar10_test(test)  # None: it is CIFAR-10's test set; else what differs
    if identity is not None:
        print(f"warning: {identity}", file=sys.stderr)
    model = get_model(args.model, pretrained=args.checkpoint is None, weights=args.checkpoint)
    result = score(model, test)
    report = {"model": args.model, "checkpoint": str(args.checkpoint or "published"), "images": result.count,
              "cifar10_test_set": identity is None, "top1": result.top1, "per_class": result.per_class}
    if args.flip_tta:
        report["top1_flip_tta"] = score(model, test, flip_tta=True).top1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        where = "test images" if identity is None else "images that are NOT CIFAR-10's test set"
        print(f"{args.model} ({report['checkpoint']}): top-1 {result.top1:.4f} on {result.count} {where}")
        if args.flip_tta:
            print(f"  with flip test-time augmentation: {report['top1_flip_tta']:.4f}")
        for name, accuracy in result.per_class.items():
            print(f"  {name:<11} {accuracy:.4f}")
    return 0
