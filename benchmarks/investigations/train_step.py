"""Where a training step's time goes: the model step alone vs batched augmentation + normalisation.

    python -m benchmarks.investigations.train_step [--models NAME…] [--data-dir DIR] [--profile]

Model step = forward + backward + SGD step on one fixed batch of 256 (in the precision zoo.train uses here: the
recipe's bf16 autocast, fp32 where bf16 is emulated; channels_last, 2 threads);
the augmentation figure is the recipe's data path (shuffle, crop + flip, Cutout where the recipe has it,
normalize) for the same 256 images. The model step is the ceiling the training pipeline can reach whatever the
data path does. ``--profile`` adds torch.profiler's table of the operators inside each model step (self CPU time),
which says where that ceiling comes from.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch


from zoo.data import load_cifar10, normalize
from zoo.machine import training_precision
from zoo.models import build_model
from zoo.recipes import RECIPES, get_recipe
from zoo.loop import epoch_batches


def seconds_per_call(fn, repeat: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    parser.add_argument("--profile", action="store_true", help="print the operators of each model step")
    parser.add_argument("--models", nargs="+", default=["lenet", "vgg16_cifar10"], choices=sorted(RECIPES))
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = load_cifar10(args.data_dir)
    images, labels = data.images[:256], data.labels[:256]
    generator = torch.Generator().manual_seed(0)
    results = {}
    for name in args.models:
        model = build_model(name).to(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = normalize(images)
        bf16 = training_precision(get_recipe(name).precision) == "bf16"

        def step():
            optimizer.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = torch.nn.functional.cross_entropy(model(x).float(), labels)
            loss.backward()
            optimizer.step()

        step()
        start = time.perf_counter()
        step()
        repeat = max(3, round(4.0 / (time.perf_counter() - start)))  # about 4 s of steps, whatever the model
        model_s = seconds_per_call(step, repeat)
        if args.profile:
            with torch.profiler.profile() as profiler:
                for _ in range(repeat):
                    step()
            print(f"{name}: model step, {repeat} calls\n"
                  + profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12), file=sys.stderr)
        recipe = get_recipe(name)
        # at least one of the recipe's batches (airbench's are 1,024 and drop the incomplete one), timed per 256
        train = data.subset(max(256, recipe.batch_size))

        def augment():
            for batch, _ in epoch_batches(train, recipe, generator):
                normalize(batch)

        augment_s = seconds_per_call(augment, repeat) * 256 / len(train.labels)
        results[name] = {"model_step_img_s": round(256 / model_s),
                         "augment_ms_per_256_images": round(augment_s * 1000, 2),
                         "augment_share_of_step": round(augment_s / (model_s + augment_s), 3)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
