"""Training throughput: zoo's pipeline against the tutorial's, same model, same machine.

    python benchmarks/train_pipeline.py [--model lenet] [--images 20000]

tutorial: a Dataset over the uint8 images returning PIL.Image.fromarray(...) per item, as torchvision's
CIFAR10.__getitem__ does, + ToTensor + Normalize + DataLoader(batch 64, shuffle), NCHW.
zoo: the published recipe's path (whole set in memory, batched crop+flip on uint8 tensors, channels_last,
the recipe's batch size). Both run in the recipe's precision (bf16 autocast). Prints images/s as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoo.data import MEAN, STD, load_cifar10  # noqa: E402
from zoo.models import build_model  # noqa: E402
from zoo.recipes import get_recipe  # noqa: E402
from zoo.train import autocast, epoch_batches, normalize  # noqa: E402


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


def tutorial_img_s(model, split, precision: str) -> float:
    from torchvision import transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    loader = torch.utils.data.DataLoader(TutorialCIFAR10(split.images, split.labels, transform), batch_size=64,
                                         shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for x, y in loader:
        optimizer.zero_grad()
        with autocast(torch.device("cpu"), precision):
            loss = criterion(model(x).float(), y)
        loss.backward()
        optimizer.step()
    return len(split) / (time.perf_counter() - start)


def zoo_img_s(model, split, name) -> float:
    recipe = get_recipe(name)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    start = time.perf_counter()
    for images, labels in epoch_batches(split, recipe, torch.Generator().manual_seed(0)):
        optimizer.zero_grad()
        with autocast(torch.device("cpu"), recipe.precision):
            loss = criterion(model(normalize(images)).float(), labels)
        loss.backward()
        optimizer.step()
    return len(split) / (time.perf_counter() - start)


def measure(name: str, split) -> dict:
    """Images/s of one training pass over ``split`` with each pipeline (same model, same precision)."""
    recipe = get_recipe(name)
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(0)
    result = {"model": name, "images": len(split), "threads": torch.get_num_threads(), "precision": recipe.precision,
              "tutorial_img_s": round(tutorial_img_s(build_model(name), split, recipe.precision), 1),
              "zoo_img_s": round(zoo_img_s(build_model(name), split, name), 1)}
    result["speedup"] = round(result["zoo_img_s"] / result["tutorial_img_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet")
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    print(json.dumps(measure(args.model, load_cifar10(args.data_dir).subset(args.images)), indent=2))


if __name__ == "__main__":
    main()
