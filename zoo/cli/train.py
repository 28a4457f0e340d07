"""zoo train — train a zoo model with its published recipe (also ``python -m zoo.train NAME``).

With no other argument this runs exactly ``zoo.recipes.RECIPES[NAME]`` and, on the same machine type,
torch version and thread count, writes a safetensors file bit-identical to the published one.
Checkpoints are written atomically every epoch under ``--output-dir`` (default ``runs/NAME/``);
``--resume`` continues a killed run to the same result. ``--record`` exports to ``weights/NAME/`` and
writes the manifest record; ``--check`` retrains and compares with the published sha256.
"""
from __future__ import annotations

# The command line only: the loop is zoo.loop, checkpoints zoo.checkpoint, the published file zoo.artifacts, its
# record zoo.release.records.
import argparse
import tempfile
from pathlib import Path

from ..check import CheckPlan, compare_fingerprints, plan_check, within_spread
from ..data import IMAGES_PER_BATCH, TRAIN_BATCHES, default_data_dir, download_cifar10, load_cifar10_test
from ..errors import DeviceError, ZooError, check_device
from ..record_files import published_history
from ..loop import RunOptions, RunResult, train
from ..machine import machine_class, training_precision
from ..manifest import WeightsRecord, in_checkout, published_records
from ..paths import writable_dir
from ..recipes import OVERRIDABLE, RECIPES, Recipe, get_recipe, regenerate_command
from ._args import (add_data_dir, add_record, device, fraction, non_negative_float, non_negative_int, output_dir,
                    positive_float, positive_int, seed, threads)
from ._errors import UsageError

TRAIN_IMAGES = IMAGES_PER_BATCH * len(TRAIN_BATCHES)
TEST_IMAGES = IMAGES_PER_BATCH


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "train", help="train a model with its recipe (python -m zoo.train)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="examples:\n  python -m zoo.train lenet                 # the published recipe\n"
               "  python -m zoo.train lenet --check         # retrain, compare with the published sha256\n"
               "  python -m zoo.train vgg16_cifar10 --resume  # continue a killed run")
    parser.add_argument("model", choices=sorted(RECIPES))
    recipe = parser.add_argument_group("recipe overrides (default: the published recipe)")
    recipe.add_argument("--epochs", type=positive_int)
    recipe.add_argument("--batch-size", type=positive_int)
    recipe.add_argument("--lr", type=positive_float, help="peak learning rate")
    recipe.add_argument("--weight-decay", type=non_negative_float)
    recipe.add_argument("--label-smoothing", type=fraction)
    recipe.add_argument("--seed", type=seed)
    recipe.add_argument("--threads", type=threads)
    recipe.add_argument("--precision", choices=["fp32", "bf16"])
    recipe.add_argument("--cutout", type=non_negative_int, help="side of the Cutout square (0: none)")
    recipe.add_argument("--ema-decay", type=fraction)
    recipe.add_argument("--weights-dtype", choices=["float32", "float16", "bfloat16"],
                        help="storage precision of the exported file (export only: a finished run can be re-exported "
                             "with --resume)")
    options = parser.add_argument_group("run")
    add_data_dir(options)
    options.add_argument("--download", action="store_true", help="fetch CIFAR-10 with torchvision first (internet)")
    options.add_argument("--output-dir", type=output_dir, help="checkpoints and final weights (default: runs/NAME/)")
    options.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint.pt")
    options.add_argument("--device", default="cpu", type=device, help="cpu, cuda or mps (AMP on CUDA)")
    options.add_argument("--accum-steps", type=positive_int, default=1,
                     help="split each batch into N micro-batches (gradient accumulation; same recipe, less memory)")
    options.add_argument("--tensorboard", metavar="DIR", type=output_dir, help="write TensorBoard curves to DIR")
    options.add_argument("--train-subset", type=positive_int, help="train on the first N images only (quick trials, tests)")
    options.add_argument("--test-subset", type=positive_int, help="score on the first N test images only")
    options.add_argument("--holdout", type=positive_int, metavar="N",
                     help="train on all but the last N training images and score on those, not on the test set "
                          "(recipe search)")
    options.add_argument("--no-progress", action="store_true", help="no tqdm bar (log lines only)")
    options.add_argument("--stop-after", type=positive_int, metavar="K",
                     help="end the run after epoch K of the recipe (checkpoint kept: --resume continues it)")
    out = parser.add_argument_group("recording and checking")
    mode = out.add_mutually_exclusive_group()
    add_record(mode, "export to weights/NAME/ and write the manifest record (a clone; `zoo publish` uploads)")
    mode.add_argument("--check", action="store_true",
                      help="retrain with the published recipe; exit 0 only if the sha256 equals the published one")
    out.add_argument("--check-epochs", type=positive_int, metavar="K",
                     help="with --check on the recorded machine class: stop after K epochs and compare their weight "
                          "fingerprints (minutes instead of the whole run)")
    out.add_argument("--overwrite", action="store_true", help="with --record: replace an existing published file")
    parser.set_defaults(run=run)


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The published recipe of ``args.model`` with the command line's overrides."""
    return get_recipe(args.model).with_overrides(**{name: getattr(args, name) for name in OVERRIDABLE})


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from_args(args)
    try:
        check_device(args.device)
    except DeviceError as error:
        raise UsageError(str(error)) from None
    if recipe.batch_size % args.accum_steps:
        raise UsageError(f"--accum-steps {args.accum_steps} must divide the batch size {recipe.batch_size}")
    if (args.check or args.record) and (args.train_subset or args.test_subset or args.holdout):
        raise UsageError("a run on a subset or with --holdout can be neither published nor used as a check: drop "
                     "--train-subset/--test-subset/--holdout")
    if args.record and not in_checkout():  # said now, not after hours of training
        raise UsageError(f"--record writes weights/{args.model}/ and the manifest of a clone of the repository, and this "
                     f"zoo is an installed copy ({Path(__file__).parent.parent}): run it from a clone (pip install -e .), or "
                     "drop --record (the weights land in --output-dir)")
    if args.check and recipe != get_recipe(args.model):
        raise UsageError("--check retrains the published recipe: drop the recipe overrides")
    if args.check_epochs is not None and not args.check:
        raise UsageError("--check-epochs goes with --check")
    if args.stop_after is not None and (args.check or args.record):
        raise UsageError("--stop-after does not go with --check or --record")
    if args.stop_after is not None and args.stop_after > recipe.epochs:
        raise UsageError(f"--stop-after {args.stop_after} is past the recipe's last epoch ({recipe.epochs})")
    train_images = TRAIN_IMAGES - (args.holdout or 0)
    for flag, value, limit in (("--holdout", args.holdout, TRAIN_IMAGES - recipe.batch_size),
                               ("--train-subset", args.train_subset, train_images),
                               ("--test-subset", args.test_subset, TEST_IMAGES)):
        if value is not None and value > limit:
            raise UsageError(f"{flag} {value} is more than the {limit:,} images it can take")
    here = machine_class(args.device, threads=recipe.threads)
    if args.precision is None and (precision := training_precision(recipe.precision, args.device, here)) != recipe.precision:
        print(f"this CPU has no native bf16 ({here.summary()}): training in {precision} instead of the recipe's "
              f"{recipe.precision}, which would be emulated and 2-5x slower here; --precision {recipe.precision} "
              f"forces it", flush=True)
        recipe = recipe.with_overrides(precision=precision)
    plan = None
    if args.check:
        published = published_records().get(args.model)
        if published is None:
            raise ZooError(f"{args.model} has no published record to check against")
        try:
            plan = plan_check(published, here, recipe.precision, args.check_epochs)
        except ValueError as error:
            raise ZooError(str(error)) from None
        # the published log, fetched (and verified) before hours of training rather than after
        published_log = published_history(published) if plan.kind == "bit-identity" else []
        print(plan.describe(), flush=True)
    data_dir = args.data_dir or default_data_dir()
    if args.download:
        download_cifar10(writable_dir(data_dir))  # (the folder checked first: a download would fail midway)
    if args.record or args.check:  # said now, not after the run: published figures are scored on CIFAR-10's own
        load_cifar10_test(data_dir, "--record" if args.record else "--check")
    output_dir = args.output_dir or Path("runs") / args.model
    scratch = None
    if args.check and not args.output_dir:
        scratch = tempfile.TemporaryDirectory(prefix=f"zoo-check-{args.model}-")
        output_dir = Path(scratch.name)
    options = RunOptions(data_dir=data_dir, output_dir=output_dir, resume=args.resume, device=args.device,
                         accum_steps=args.accum_steps, tensorboard=args.tensorboard, train_subset=args.train_subset,
                         test_subset=args.test_subset, holdout=args.holdout, progress=not args.no_progress,
                         stop_after_epoch=plan.epochs if plan else args.stop_after)
    result = train(recipe, options, log=lambda line: print(line, flush=True))
    if result.rank != 0:  # torchrun's other ranks: rank 0 reports the run
        print(f"rank {result.rank}: weights sha256 {result.sha256}", flush=True)
        return 0
    if result.weights_path is None:
        print(f"{recipe.model}: stopped after epoch {result.history[-1]['epoch']}/{recipe.epochs} as asked; "
              f"checkpoint in {output_dir}", flush=True)
    else:
        scored_on = f"{args.holdout} held-out training" if args.holdout else f"{args.test_subset or 10000} test"
        print(f"{recipe.model}: top-1 {result.top1:.4f} on {scored_on} images, "
              f"{result.wall_time_s:.0f} s training, sha256 {result.sha256}, weights {result.weights_path}", flush=True)
    if result.tta_top1 is not None:
        print(f"top-1 with {recipe.tta} test-time augmentation: {result.tta_top1:.4f}", flush=True)
    if result.unrounded_top1 is not None:
        print(f"top-1 of the float32 weights before storing them as {recipe.weights_dtype}: "
              f"{result.unrounded_top1:.4f}", flush=True)
    if plan is not None:
        return report_check(published, published_log, plan, result)
    if args.record:
        from ..release.records import record_run

        target = record_run(recipe, result, regenerate_command(recipe, args.device, args.accum_steps), args.overwrite)
        print(f"recorded {target} and its manifest record")
    return 0


def report_check(published: WeightsRecord, published_log: list[dict], plan: CheckPlan, result: RunResult) -> int:
    """Print the check's verdict; 0 if it passed."""
    if plan.kind == "accuracy":
        ok, sentence = within_spread(result.top1, published.metrics["seed_spread"])
        print(f"accuracy check: {sentence}\nwithin the seed spread: {'yes' if ok else 'NO'}")
        return 0 if ok else 1
    epochs = compare_fingerprints(published_log, result.history)
    print("\n".join(epoch.describe() for epoch in epochs))
    equal = all(epoch.equal for epoch in epochs)
    if result.sha256 is not None:
        print(f"new       sha256 {result.sha256}\npublished sha256 {published.sha256}")
        equal = equal and result.sha256 == published.sha256
    print(f"bit-identical{' through epoch ' + str(plan.epochs) if result.sha256 is None else ''}: "
          f"{'yes' if equal else 'NO'}")
    return 0 if equal else 1

