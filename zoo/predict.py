"""Classify your own pictures: ``python -m zoo predict IMAGE [IMAGE ...] --model NAME [--topk K] [--json]``.

Any file Pillow opens (any size; grayscale, RGBA, palette; JPEG, PNG, …) is converted to RGB and resized to
32×32 the way the checkpoint's transform says (shorter side to 32, centre crop), then all images go through
the model as one batch.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from .api import get_model, get_weights
from .errors import CliParser, positive_int, run_cli
from .models import ARCHITECTURES


@dataclass(frozen=True)
class Prediction:
    file: str
    top: list[tuple[str, float]]

    def to_dict(self) -> dict:
        return {"file": self.file, "top": [{"label": label, "prob": round(prob, 6)} for label, prob in self.top]}


def open_rgb(path: Path):
    """The image at ``path`` as RGB, upright (EXIF orientation applied, as a phone photo is shown); transparent
    areas are composited on white, as a viewer shows them."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def predict(model: torch.nn.Module, images: list, preprocess, categories: tuple[str, ...], topk: int = 3) -> list[list[tuple[str, float]]]:
    """Top-``topk`` (label, probability) for each PIL image, computed in one batch."""
    if not images:
        return []
    batch = torch.stack([preprocess(image) for image in images]).to(next(model.parameters()).device)
    with torch.inference_mode():
        probabilities = model(batch).softmax(1)
    values, indices = probabilities.topk(min(topk, len(categories)), dim=1)
    return [[(categories[i], float(p)) for p, i in zip(row_p, row_i)] for row_p, row_i in zip(values.tolist(), indices.tolist())]


def build_parser(prog: str = "python -m zoo predict") -> argparse.ArgumentParser:
    parser = CliParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  zoo predict cat.jpg dog.png --model cifar_quick\n  zoo predict *.png --model lenet --topk 5 --json")
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument("--model", required=True, choices=sorted(ARCHITECTURES))
    parser.add_argument("--topk", type=positive_int, default=3, help="classes to show per image (default 3, at most 10)")
    parser.add_argument("--checkpoint", type=Path, help="your own safetensors / state_dict .pth instead of the published weights")
    parser.add_argument("--json", action="store_true", help='print [{"file": ..., "top": [{"label": ..., "prob": ...}]}]')
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m zoo predict") -> int:
    args = build_parser(prog).parse_args(argv)
    record = get_weights(args.model)
    model = get_model(args.model, pretrained=args.checkpoint is None, weights=args.checkpoint)
    loaded, files, failures = [], [], 0
    for path in args.images:
        try:
            loaded.append(open_rgb(path))
            files.append(str(path))
        except FileNotFoundError:
            failures += 1
            print(f"error: {path}: no such file", file=sys.stderr)
        except OSError as error:  # PIL.UnidentifiedImageError and truncated files are OSErrors
            failures += 1
            print(f"error: {path}: not an image Pillow can read ({error})", file=sys.stderr)
    results = [Prediction(f, top) for f, top in
               zip(files, predict(model, loaded, record.transforms_preset(), record.categories, args.topk))]
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for result in results:
            print(f"{result.file}: " + ", ".join(f"{label} {prob:.1%}" for label, prob in result.top))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
