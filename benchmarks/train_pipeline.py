"""Training throughput: zoo's pipeline against the tutorial's, same model, same machine.

    python -m benchmarks.train_pipeline [--model lenet] [--images 20000]

tutorial: a Dataset over the uint8 images returning PIL.Image.fromarray(...) per item, as torchvision's
CIFAR10.__getitem__ does, + ToTensor + Normalize + DataLoader(batch 64, shuffle), NCHW.
zoo: the published recipe's path (whole set in memory, batched crop+flip (+ Cutout) on uint8 tensors,
channels_last, the recipe's batch size). Both run in the precision zoo.train picks here (the recipe's bf16
autocast, or fp32 on a CPU without native bf16). Prints images/s as
JSON: each whole pass, and its data path and model step apart (a stopwatch between the two in every step).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch import nn


from zoo.data import MEAN, STD, load_cifar10
from zoo.models import build_model
from zoo.recipes import Recipe, get_recipe
from zoo.machine import training_precision
from zoo.data import normalize
from zoo.loop import autocast, epoch_batches


class TutorialCIFAR10(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform):
        self.data = images.permute(0, 2, 3, 1).numpy()  # HWC, as torchvision keeps it
        self.targets = labels.tolist()
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        from PIL import Image

        return self.transform(Image.fromarray(self.data[index])), self.targets[index]


class StopWatch:
    """Splits a training pass into time spent on data (loading, augmenting, normalising) and on the model step."""

    def __init__(self) -> None:
        self.data_s = self.step_s = 0.0
        self._last = time.perf_counter()

    def lap(self, kind: str) -> None:
        now = time.perf_counter()
        setattr(self, kind, getattr(self, kind) + now - self._last)
        self._last = now


def rates(images: int, watch: StopWatch) -> dict[str, float]:
    """Images/s of the whole pass, of its data path alone and of its model step alone."""
    return {"img_s": images / (watch.data_s + watch.step_s), "data_img_s": images / watch.data_s,
            "step_img_s": images / watch.step_s}


def tutorial_pass(model, split, precision: str) -> dict[str, float]:
    from torchvision import transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    loader = torch.utils.data.DataLoader(TutorialCIFAR10(split.images, split.labels, transform), batch_size=64,
                                         shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    watch = StopWatch()
    for x, y in loader:
        watch.lap("data_s")
        optimizer.zero_grad()
        with autocast(torch.device("cpu"), precision):
            loss = criterion(model(x).float(), y)
        loss.backward()
        optimizer.step()
        watch.lap("step_s")
    return rates(len(split), watch)


def zoo_pass(model, split, recipe: Recipe) -> dict[str, float]:
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    watch = StopWatch()
    for images, labels in epoch_batches(split, recipe, torch.Generator().manual_seed(0)):
        x = normalize(images)
        watch.lap("data_s")
        optimizer.zero_grad()
        with autocast(torch.device("cpu"), recipe.precision):
            loss = criterion(model(x).float(), labels)
        loss.backward()
        optimizer.step()
        watch.lap("step_s")
    return rates(len(split), watch)


def measure(name: str, split, repeat: int = 3) -> dict:
    """Images/s of training passes over ``split`` with each pipeline (same model, same precision), after a
    warm-up pass each, alternating the two ``repeat`` times so that both see the same machine; medians, with
    (min, max). Each pass is also split into its data path and its model step, which bound what a faster data
    path could gain."""
    recipe = get_recipe(name)
    # the precision zoo.train uses on this machine: the recipe's, but fp32 where bf16 is only emulated
    recipe = recipe.with_overrides(precision=training_precision(recipe.precision))
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(0)
    tutorial_model, zoo_model = build_model(name), build_model(name)
    warmup = split.subset(min(len(split), 4 * recipe.batch_size))
    tutorial_pass(tutorial_model, warmup, recipe.precision)
    zoo_pass(zoo_model, warmup, recipe)
    passes: dict[str, list[dict[str, float]]] = {"tutorial": [], "zoo": []}
    for _ in range(repeat):
        passes["tutorial"].append(tutorial_pass(tutorial_model, split, recipe.precision))
        passes["zoo"].append(zoo_pass(zoo_model, split, recipe))
    result = {"model": name, "images": len(split), "repeat": repeat, "threads": torch.get_num_threads(),
              "precision": recipe.precision}
    for label, runs in passes.items():
        for figure in ("img_s", "data_img_s", "step_img_s"):
            values = [run[figure] for run in runs]
            result[f"{label}_{figure}"] = round(statistics.median(values), 1)
            if figure == "img_s":
                result[f"{label}_img_s_range"] = [round(min(values), 1), round(max(values), 1)]
    result["speedup"] = round(result["zoo_img_s"] / result["tutorial_img_s"], 2)
    # Even with a data path that costs nothing, zoo's pass can't beat its model step alone.
    result["speedup_bound_free_data"] = round(result["zoo_step_img_s"] / result["tutorial_img_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet")
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    split = load_cifar10(args.data_dir).subset(args.images)
    print(json.dumps(measure(args.model, split, args.repeat), indent=2))


if __name__ == "__main__":
    main()
