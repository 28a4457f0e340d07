"""zoo predict — classify your own pictures: ``zoo predict IMAGE [IMAGE ...] --model NAME [--topk K] [--json]``.

Each file that cannot be read gets its own error line; the others are still classified (exit status 1 if any
failed). The probabilities are calibrated: the published weights' logits are divided by the temperature measured
for them (see the model card) before the softmax; --uncalibrated shows the plain softmax. A --checkpoint of your
own has no measured temperature: its probabilities are the plain softmax; a `zoo finetune` checkpoint labels with
its own class names."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..api import get_model, get_weights
from ..models import ARCHITECTURES
from ..predict import ImageError, Prediction, open_rgb, predict
from ._args import add_checkpoint, add_json, positive_int


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "predict", help="classify your own pictures", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  zoo predict cat.jpg dog.png --model cifar_quick\n  zoo predict *.png --model lenet --topk 5 --json")
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument("--model", required=True, choices=sorted(ARCHITECTURES))
    parser.add_argument("--topk", type=positive_int, default=3, help="classes to show per image (default 3, at most 10)")
    add_checkpoint(parser, "classify with")
    parser.add_argument("--uncalibrated", action="store_true",
                        help="the plain softmax, without the published temperature")
    add_json(parser, '[{"file": ..., "top": [{"label": ..., "prob": ...}]}]')
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..finetune import checkpoint_categories

    record = get_weights(args.model)
    categories = checkpoint_categories(args.checkpoint, record.categories)
    model = get_model(args.model, pretrained=args.checkpoint is None, weights=args.checkpoint,
                      num_classes=len(categories))
    loaded, files, failures = [], [], 0
    for path in args.images:
        try:
            loaded.append(open_rgb(path))
            files.append(str(path))
        except ImageError as error:
            failures += 1
            print(f"error: {error}", file=sys.stderr)
    temperature = 1.0 if args.uncalibrated or args.checkpoint is not None else record.temperature
    results = [Prediction(f, top) for f, top in
               zip(files, predict(model, loaded, record.transforms_preset(), categories, args.topk, temperature))]
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for result in results:
            print(f"{result.file}: " + ", ".join(f"{label} {prob:.1%}" for label, prob in result.top))
    return 1 if failures else 0
