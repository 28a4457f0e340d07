"""The CPU's choices for Jordan (2024)'s training step, measured side by side: eager or ``torch.compile``, batch 1,024
or 512. Each contestant is a full training step of the recipe (forward, backward, SGD with its parameter groups) on
real CIFAR-10 images in the precision ``zoo.train`` uses here; the contestants take turns, and each figure is the
median images/s over the turns (after one untimed warm-up step each, the compilation included there).

    python -m benchmarks.investigations.fast_training_choices [--model airbench94_cifar10] [--turns 5] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch


from zoo.data import load_cifar10, normalize
from zoo.loop import autocast, make_optimizer
from zoo.machine import machine_class, training_precision
from zoo.models import build_model
from zoo.recipes import get_recipe


def contestant(name: str, batch_size: int, compiled: bool, images: torch.Tensor, labels: torch.Tensor):
    recipe = get_recipe(name).with_overrides(batch_size=batch_size)
    model = build_model(name)
    if hasattr(model, "init_from_training_images"):
        model.init_from_training_images(normalize(images, channels_last=False))
    model = model.to(memory_format=torch.channels_last)
    optimizer, _ = make_optimizer(model, recipe, steps_per_epoch=10)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    forward = torch.compile(model) if compiled else model
    precision = training_precision(recipe.precision)
    x, y = normalize(images[:batch_size]), labels[:batch_size]

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(torch.device("cpu"), precision):
            loss = criterion(forward(x).float(), y)
        loss.backward()
        optimizer.step()
    return step, batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="airbench94_cifar10")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per contestant per turn")
    parser.add_argument("--data-dir")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    train = load_cifar10(args.data_dir).subset(1024)
    contestants = {f"{'compiled' if compiled else 'eager'}, batch {batch}":
                   contestant(args.model, batch, compiled, train.images, train.labels)
                   for compiled in (False, True) for batch in (1024, 512)}
    warmup = {}
    for label, (step, _) in contestants.items():
        started = time.perf_counter()
        step()
        warmup[label] = round(time.perf_counter() - started, 1)
    rates: dict[str, list[float]] = {label: [] for label in contestants}
    for _ in range(args.turns):
        for label, (step, batch) in contestants.items():
            started = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates[label].append(args.steps * batch / (time.perf_counter() - started))
    result = {"model": args.model, "machine_class": machine_class().to_dict(), "machine": machine_class().summary(),
              "torch": torch.__version__, "threads": 2, "turns": args.turns, "steps_per_turn": args.steps,
              "first_step_s": warmup,
              "img_s": {label: {"median": round(statistics.median(r), 1), "min": round(min(r), 1),
                                "max": round(max(r), 1)} for label, r in rates.items()}}
    text = json.dumps(result, indent=2) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
