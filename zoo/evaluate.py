"""Score a checkpoint on the full CIFAR-10 test set: ``python -m zoo.evaluate NAME [--checkpoint PATH]``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .api import get_model
from .data import default_data_dir, load_cifar10
from .errors import CliParser, run_cli
from .metrics import score
from .models import ARCHITECTURES


def build_parser(prog: str = "python -m zoo.evaluate") -> argparse.ArgumentParser:
    parser = CliParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m zoo.evaluate lenet\n"
               "  python -m zoo.evaluate lenet --checkpoint runs/lenet/model.safetensors --json")
    parser.add_argument("model", choices=sorted(ARCHITECTURES))
    parser.add_argument("--checkpoint", type=Path, help="score this safetensors or state_dict .pth file instead")
    parser.add_argument("--data-dir", type=Path, help=f"CIFAR-10 root (default: $ZOO_DATA_DIR or {default_data_dir()})")
    parser.add_argument("--flip-tta", action="store_true", help="also report flip test-time augmentation")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m zoo.evaluate") -> int:
    args = build_parser(prog).parse_args(argv)
    test = load_cifar10(args.data_dir, train=False)  # first: missing data is said before any model is loaded
    model = get_model(args.model, pretrained=args.checkpoint is None, weights=args.checkpoint)
    result = score(model, test)
    report = {"model": args.model, "checkpoint": str(args.checkpoint or "published"), "images": result.count,
              "top1": result.top1, "per_class": result.per_class}
    if args.flip_tta:
        report["top1_flip_tta"] = score(model, test, flip_tta=True).top1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.model} ({report['checkpoint']}): top-1 {result.top1:.4f} on {result.count} test images")
        if args.flip_tta:
            print(f"  with flip test-time augmentation: {report['top1_flip_tta']:.4f}")
        for name, accuracy in result.per_class.items():
            print(f"  {name:<11} {accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
