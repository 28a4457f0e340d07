"""zoo finetune — train a published model on your own pictures: ``zoo finetune NAME --data DIR``.

DIR holds one folder of pictures per class (torchvision's ImageFolder: DIR/cat/1.jpg, DIR/dog/2.png, ...). Every
picture is resized to 32x32 (shorter side, centre crop); a seeded share of each class is kept for validation. The
model starts from the published weights with a new classifier (one output per class) and trains on the CPU,
checkpointing every epoch (--resume continues a killed run). OUTPUT_DIR gets model.safetensors, with the class names
in its metadata, and finetune.json, the record of what was done:

  zoo predict photo.jpg --model NAME --checkpoint OUTPUT_DIR/model.safetensors
  zoo evaluate NAME --checkpoint OUTPUT_DIR/model.safetensors --folder DIR
"""
from __future__ import annotations

import argparse
import os
import shlex

from ._args import fraction, output_dir, picture_folder, positive_float, positive_int, seed, threads


def add_parser(commands) -> None:
    from ..manifest import published_records

    parser = commands.add_parser("finetune", help="train a published model on your own pictures (an image folder)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  zoo finetune resnet20_cifar10 --data pictures/ --output-dir "
                                        "runs/my-classes --epochs 10")
    parser.add_argument("model", metavar="NAME", choices=sorted(published_records()))
    parser.add_argument("--data", type=picture_folder, required=True, metavar="DIR",
                        help="one sub-folder of pictures per class")
    parser.add_argument("--output-dir", type=output_dir, required=True, metavar="DIR",
                        help="where model.safetensors, finetune.json and the checkpoint go")
    parser.add_argument("--epochs", type=positive_int, default=10, help="passes over the pictures (default 10)")
    parser.add_argument("--lr", type=positive_float, default=0.01, help="peak learning rate (default 0.01)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="pictures per step (default 64)")
    parser.add_argument("--val-fraction", type=fraction, default=0.1,
                        help="share of each class kept for validation (default 0.1)")
    parser.add_argument("--seed", type=seed, default=0, help="split, new classifier and augmentation (default 0)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (fast where the CPU has native bf16)")
    parser.add_argument("--threads", type=threads, help="CPU threads (default 2, or 1 on a one-core machine)")
    parser.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR's checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..finetune import FinetuneSettings, finetune

    settings = FinetuneSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                val_fraction=args.val_fraction, seed=args.seed,
                                precision="bf16" if args.bf16 else "fp32",
                                threads=args.threads or min(2, os.cpu_count() or 1))
    command = shlex.join(["zoo", "finetune", args.model, "--data", str(args.data), "--output-dir", str(args.output_dir),
                          "--epochs", str(args.epochs), "--lr", f"{args.lr:g}", "--batch-size", str(args.batch_size),
                          "--val-fraction", f"{args.val_fraction:g}", "--seed", str(args.seed),
                          *(["--bf16"] if args.bf16 else [])])
    result = finetune(args.model, args.data, args.output_dir, settings, resume=args.resume,
                      progress=not args.no_progress, log=lambda line: print(line, flush=True), command=command)
    top1 = "no validation pictures" if result.val_top1 is None else f"validation top-1 {result.val_top1:.2%}"
    print(f"{args.model} fine-tuned: {top1}; weights {result.weights_path}, record {result.record_path}")
    return 0
