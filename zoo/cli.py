"""The ``zoo`` command line: ``python -m zoo list | download NAME... | demo``."""
from __future__ import annotations

import argparse
import sys

from .api import get_model, get_weights, list_models
from .data import CATEGORIES, DataError, load_cifar10
from .metrics import predict_classes
from .weights import resolve, verified_bytes


def cmd_list(args: argparse.Namespace) -> int:
    print(f"{'model':<15} {'params':>11} {'top-1':>7}  sha256")
    for name in list_models():
        try:
            record = get_weights(name)
        except ValueError:
            print(f"{name:<15} {'':>11} {'-':>7}  (no published weights)")
            continue
        print(f"{name:<15} {record.num_params:>11,} {record.top1:>7.2%}  {record.sha256[:16]}…")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Fetch published weights into the Hugging Face cache (for later offline use) and verify them."""
    for name in args.models:
        record = get_weights(name)
        path = resolve(record)
        verified_bytes(record, path)
        print(f"{name}: {path} (sha256 verified)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Load every published model (sha256-verified) and classify the first test images."""
    try:
        test = load_cifar10(args.data_dir, train=False).subset(args.images)
    except DataError as error:
        test = None
        print(f"(no CIFAR-10 test images to classify: {error})\n")
    for name in list_models(pretrained=True):
        record = get_weights(name)
        model = get_model(name, pretrained=True)
        print(f"{name}: {record.num_params:,} parameters, {record.top1:.2%} top-1 on the CIFAR-10 test set, "
              f"weights verified (sha256 {record.sha256[:16]}…)")
        if test is not None:
            predicted = predict_classes(model, test.images, mean=record.mean, std=record.std)
            for i, (p, t) in enumerate(zip(predicted.tolist(), test.labels.tolist())):
                print(f"  test image {i}: predicted {CATEGORIES[p]:<10} true {CATEGORIES[t]:<10} {'ok' if p == t else 'x'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="CIFAR-10 model zoo",
                                     epilog="examples:\n  zoo list\n  zoo download lenet cifar_quick\n  HF_HUB_OFFLINE=1 zoo demo --images 4",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="models, parameters, published top-1").set_defaults(run=cmd_list)
    download = commands.add_parser("download", help="fetch published weights for offline use, verified")
    download.add_argument("models", nargs="+", metavar="NAME")
    download.set_defaults(run=cmd_download)
    demo = commands.add_parser("demo", help="load the published models and classify a few test images")
    demo.add_argument("--images", type=int, default=8)
    demo.add_argument("--data-dir", help="CIFAR-10 root (default: $ZOO_DATA_DIR or the per-user cache)")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
