"""Jordan (2024)'s methods on the CIFAR ResNets (issue 36, item 4): how many epochs ResNet-20 needs with them to reach
chenyaofo's 92.60 % (their best epoch; ours is the final one), measured with one full run per length.

    python -m benchmarks.investigations.fast_methods NAME EPOCHS RUN_DIR [--set KEY=VALUE]... [--out FILE.json]

The recipe is NAME's published one with :data:`FAST_METHODS` over it (and ``--set`` over those): batches of 512 at
lr 0.4 (the published lr 0.1 at batch 128, scaled linearly), dropped incomplete batches, reflected crops, Jordan's
alternating flips, Lookahead every 5 steps, multi-crop TTA scored at the end, no Cutout (a regulariser for long
schedules), the one-cycle schedule kept (it anneals to zero; the triangle stops at 7 % of the peak, which suits
Jordan's networks, with their ×1/9 logits, not these). Trains on the 50,000 training images and scores the final
epoch on the 10,000 test images, as a published run; resumable (``--resume`` is always on). Appends the run's
summary to the ``runs`` of ``--out`` (a new file starts with the command; the committed ones also say the question
and the reference figures)."""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from zoo.data import default_data_dir
from zoo.loop import RunOptions, train
from zoo.machine import MachineClass
from zoo.manifest import atomic_write_bytes
from zoo.recipes import get_recipe

FAST_METHODS = dict(batch_size=512, lr=0.4, drop_last=True, crop_fill="reflect", flip_mode="alternating",
                    lookahead_every=5, tta="multi-crop", cutout=0)


def setting(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    return key, json.loads(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("epochs", type=int)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--set", type=setting, action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    recipe = replace(get_recipe(args.name), epochs=args.epochs, **{**FAST_METHODS, **dict(args.set)})
    started = time.time()
    result = train(recipe, RunOptions(data_dir=default_data_dir(), output_dir=args.run_dir, resume=True,
                                      progress=False), log=lambda line: print(line, flush=True))
    summary = {"recipe": recipe.to_dict(), "top1": result.top1, "top1_multicrop_tta": result.tta_top1,
               "train_s": round(result.wall_time_s, 1), "wall_s": round(time.time() - started, 1),
               "machine": MachineClass(**result.machine_class).summary(),
               "history": [{k: h[k] for k in ("epoch", "train_loss", "train_acc", "test_top1", "epoch_s")}
                           for h in result.history]}
    print(json.dumps({k: summary[k] for k in ("top1", "top1_multicrop_tta", "train_s", "machine")}), flush=True)
    if args.out:  # earlier runs and the file's other keys (the question, the reference figures) are kept; a crash
        # while writing must not lose hours of earlier runs, hence the atomic replace
        file = json.loads(args.out.read_text()) if args.out.is_file() else {
            "command": f"python -m benchmarks.investigations.fast_methods {args.name} EPOCHS RUN_DIR", "runs": []}
        text = json.dumps({**file, "runs": [*file["runs"], summary]}, indent=1) + "\n"
        atomic_write_bytes(args.out, text.encode("utf-8"))


if __name__ == "__main__":
    main()
