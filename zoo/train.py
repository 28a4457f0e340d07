"""Train a zoo model with its published recipe: ``python -m zoo.train NAME``.

With no other argument this runs exactly ``zoo.recipes.RECIPES[NAME]`` and, on the same machine type,
torch version and thread count, writes a safetensors file bit-identical to the published one.
Checkpoints are written atomically every epoch under ``--output-dir`` (default ``runs/NAME/``);
``--resume`` continues a killed run to the same result. ``--publish`` exports to ``weights/NAME/`` and
writes the manifest record; ``--check`` retrains and compares with the published sha256.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .data import CATEGORIES, IMAGES_PER_BATCH, MEAN, STD, TRAIN_BATCHES, Split, default_data_dir, download_cifar10, cutout, load_cifar10, normalize, random_crop_flip
from .check import CheckPlan, compare_fingerprints, plan_check, within_spread
from .distributed import Ranks, init_from_env, shutdown
from .errors import (CheckpointError, CliParser, DeviceError, ZooError, check_device, device_argument, fraction,
                     non_negative_float, non_negative_int, positive_float, positive_int, require_extra, run_cli)
from .machine import MachineClass, machine_class, training_precision
from .manifest import WeightsRecord, atomic_write_bytes, in_checkout, published_records, write_record
from .metrics import score
from .models import build_model
from .recipes import RECIPES, Recipe, get_recipe
from .weights import CHECKOUT_WEIGHTS, load_tensors_only, sha256_bytes, sha256_file

TRAIN_IMAGES = IMAGES_PER_BATCH * len(TRAIN_BATCHES)
TEST_IMAGES = IMAGES_PER_BATCH
CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_KEYS = frozenset({"recipe", "subsets", "epoch", "model", "optimizer", "scheduler", "generator", "torch_rng",
                             "elapsed_s", "history"})
WEIGHTS_NAME = "model.safetensors"
HUB_ORG = "org"
HUB_REVISION = "v1"


@dataclass
class RunOptions:
    """How to run a recipe; none of these change the trained weights (except the subsets)."""

    data_dir: Path
    output_dir: Path
    resume: bool = False
    device: str = "cpu"
    accum_steps: int = 1
    tensorboard: str | None = None
    train_subset: int | None = None  # first N training images (tests, quick trials)
    test_subset: int | None = None
    holdout: int | None = None  # score on the last N training images (not trained on) instead of the test set
    progress: bool = True
    stop_after_epoch: int | None = None  # end the run early, checkpoint kept (--stop-after, --check-epochs)

    def __post_init__(self) -> None:
        counts = {"train_subset": self.train_subset, "test_subset": self.test_subset, "holdout": self.holdout,
                  "stop_after_epoch": self.stop_after_epoch, "accum_steps": self.accum_steps}
        wrong = [f"{name}={value!r}" for name, value in counts.items() if value is not None and value < 1]
        if wrong:  # 0 would silently mean "all", a negative count would silently drop images
            raise ZooError(f"run options must be None or >= 1: {', '.join(wrong)}")


@dataclass
class RunResult:
    history: list[dict[str, Any]]
    wall_time_s: float
    data_sha256: str
    machine_class: dict[str, Any]
    weights_path: Path | None = None  # None (and no score) for a run stopped before its last epoch
    sha256: str | None = None
    top1: float | None = None
    per_class: dict[str, float] | None = None
    unrounded_top1: float | None = None  # the float32 weights' score, when the file stores a lower precision


def set_determinism(recipe: Recipe, ranks: Ranks, device: torch.device) -> None:
    if device.type == "cuda":
        # cuBLAS is deterministic only with a fixed workspace; without this variable use_deterministic_algorithms
        # raises at the first matmul. It must be set before the first cuBLAS call of the process.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(recipe.seed)  # seeds the CUDA generators too (dropout on the GPU)
    # Under torchrun the processes of one machine share its cores.
    torch.set_num_threads(max(1, recipe.threads // ranks.local_world_size))
    torch.use_deterministic_algorithms(True)


def make_optimizer(model: nn.Module, recipe: Recipe, steps_per_epoch: int):
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.lr, total_steps=recipe.epochs * steps_per_epoch + 1,  # +1: no step past the end
        pct_start=recipe.warmup_fraction, anneal_strategy="linear", cycle_momentum=False)
    return optimizer, scheduler


def make_ema(model: nn.Module, recipe: Recipe):
    if not recipe.ema_decay:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(recipe.ema_decay), use_buffers=True)


def autocast(device: torch.device, precision: str):
    if device.type == "cuda":  # AMP on CUDA whatever the recipe says: fp32 there is just slower
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """A training checkpoint, unpickled with ``weights_only=True``. ``TorchVersion`` (a ``str`` subclass) is allowed:
    checkpoints written while the machine class stored ``torch.__version__`` as one hold it."""
    from torch.torch_version import TorchVersion

    state = load_tensors_only(path, f"{path} is not a readable zoo training checkpoint",
                              ". Delete it to start afresh, or use another --output-dir.", device, [TorchVersion])
    missing = sorted(CHECKPOINT_KEYS - set(state) if isinstance(state, dict) else CHECKPOINT_KEYS)
    if missing:
        raise CheckpointError(f"{path} is not a zoo training checkpoint (it lacks {', '.join(missing)}). Delete it to "
                              "start afresh, or use another --output-dir.")
    return state


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Atomic: a kill or a failure at any moment leaves the previous checkpoint or the new one, never half of one."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def train_one_epoch(model, batches, optimizer, scheduler, ema, criterion, recipe, options, device, bar,
                    ranks: Ranks) -> tuple[float, float]:
    """One pass over ``batches`` (a list of global (uint8 images, labels)); returns mean loss and accuracy."""
    total_loss = torch.zeros((), dtype=torch.float64)
    correct = 0
    seen = 0
    label_sum = 0  # of this rank's slices: lets a test check that each rank trained on its own share
    for images, labels in batches:
        images, labels = ranks.shard(images), ranks.shard(labels)
        label_sum += int(labels.sum())
        optimizer.zero_grad(set_to_none=True)
        for micro_images, micro_labels in zip(images.chunk(options.accum_steps), labels.chunk(options.accum_steps)):
            x = normalize(micro_images).to(device, non_blocking=True)
            y = micro_labels.to(device, non_blocking=True)
            with autocast(device, recipe.precision):
                logits = model(x)
                loss = criterion(logits.float(), y)
            (loss * (len(y) / len(labels))).backward()
            total_loss += loss.detach().double().cpu() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
        bar.update(len(labels) * ranks.world_size)
        bar.set_postfix(loss=f"{float(total_loss) / seen:.3f}", acc=f"{correct / seen:.3f}")
    if ranks.enabled:
        print(f"rank {ranks.rank}: trained on {seen} images, label sum {label_sum}", flush=True)
    total, correct, seen = ranks.sum(float(total_loss), correct, seen)
    return total / seen, correct / seen


def epoch_batches(train: Split, recipe: Recipe, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffle, cut into batches and augment: all randomness of an epoch comes from ``generator``."""
    order = torch.randperm(len(train), generator=generator)
    batches = []
    for start in range(0, len(order), recipe.batch_size):
        index = order[start:start + recipe.batch_size]
        images = train.images[index]
        if recipe.crop_padding or recipe.flip:
            images = random_crop_flip(images, recipe.crop_padding, generator, flip=recipe.flip)
        if recipe.cutout:
            images = cutout(images, recipe.cutout, generator)
        batches.append((images, train.labels[index]))
    return batches


def train(recipe: Recipe, options: RunOptions) -> RunResult:
    """Run ``recipe``; resumable; returns the final weights file and its test score."""
    from tqdm.auto import tqdm

    ranks = init_from_env(torch.device(options.device).type)
    device = torch.device(options.device)
    set_determinism(recipe, ranks, device)
    here = machine_class(device, threads=torch.get_num_threads()).to_dict()
    if device.type == "cuda" and ranks.enabled:
        device = torch.device("cuda", ranks.local_rank)
    train_split = load_cifar10(options.data_dir, train=True)
    test_split = load_cifar10(options.data_dir, train=False)
    data_sha256 = train_split.sha256()
    if options.holdout:  # recipe search that never looks at the test set
        test_split = Split(train_split.images[-options.holdout:], train_split.labels[-options.holdout:])
        train_split = train_split.subset(len(train_split) - options.holdout)
    if options.train_subset:
        train_split = train_split.subset(options.train_subset)
    if options.test_subset:
        test_split = test_split.subset(options.test_subset)

    model = build_model(recipe.model).to(device, memory_format=torch.channels_last)
    # Under torchrun, DDP averages the gradients of the ranks' shards: the global batch is recipe.batch_size.
    net = torch.nn.parallel.DistributedDataParallel(model) if ranks.enabled else model
    steps_per_epoch = -(-len(train_split) // recipe.batch_size)
    optimizer, scheduler = make_optimizer(model, recipe, steps_per_epoch)
    ema = make_ema(model, recipe)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    generator = torch.Generator().manual_seed(recipe.seed)
    history: list[dict[str, Any]] = []
    start_epoch, elapsed = 0, 0.0

    if ranks.is_main:
        options.output_dir.mkdir(parents=True, exist_ok=True)
    ranks.barrier()
    checkpoint_path = options.output_dir / CHECKPOINT_NAME
    if options.resume and checkpoint_path.is_file():
        state = load_checkpoint(checkpoint_path, device)
        trained_by = Recipe.from_dict(state["recipe"]).training_dict()
        if trained_by != recipe.training_dict() or state["subsets"] != _subsets(options):
            raise CheckpointError(f"{checkpoint_path} was written by another recipe or subset; use another "
                                  "--output-dir, or drop --resume to start afresh there.")
        if state.get("machine_class", here) != here:  # one class per run: its bytes are that class's promise
            raise CheckpointError(f"{checkpoint_path} was written on another machine class ({state['machine_class']}); "
                             f"this one is {here}. Resume it there, or start afresh with another --output-dir.")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        start_epoch, elapsed, history = state["epoch"], state["elapsed_s"], state["history"]
        if ranks.is_main:
            print(f"resumed {recipe.model} from {checkpoint_path} at epoch {start_epoch}/{recipe.epochs}", flush=True)
    elif options.resume and ranks.is_main:
        print(f"no checkpoint in {options.output_dir}; starting from scratch", flush=True)

    writer = _tensorboard_writer(options.tensorboard) if ranks.is_main else None
    model.train()
    last_epoch = min(recipe.epochs, options.stop_after_epoch or recipe.epochs)
    for epoch in range(start_epoch, last_epoch):
        started = time.perf_counter()
        batches = epoch_batches(train_split, recipe, generator)
        with tqdm(total=len(train_split), desc=f"{recipe.model} {epoch + 1}/{recipe.epochs}", unit="img",
                  disable=not (options.progress and ranks.is_main), leave=False) as bar:
            loss, train_acc = train_one_epoch(net, batches, optimizer, scheduler, ema, criterion, recipe, options,
                                              device, bar, ranks)
        epoch_time = time.perf_counter() - started
        elapsed += epoch_time
        if not ranks.is_main:  # only rank 0 scores, logs and writes checkpoints
            continue
        # The per-epoch curve is scored in the recipe's precision (cheap); the published figure below is fp32.
        test_top1 = score(ema.module if ema is not None else model, test_split, precision=recipe.precision).top1
        entry = {"epoch": epoch + 1, "train_loss": round(loss, 5), "train_acc": round(train_acc, 5),
                 "test_top1": test_top1, "lr": scheduler.get_last_lr()[0], "epoch_s": round(epoch_time, 2),
                 "img_s": round(len(train_split) / epoch_time, 1), "weights_sha256": weights_fingerprint(model)}
        history.append(entry)
        print(json.dumps(entry), flush=True)
        if writer is not None:
            writer.add_scalar("train/loss", loss, epoch + 1)
            writer.add_scalar("test/top1", test_top1, epoch + 1)
            writer.add_scalar("lr", entry["lr"], epoch + 1)
        save_checkpoint(checkpoint_path, {
            "recipe": recipe.to_dict(), "subsets": _subsets(options), "epoch": epoch + 1,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "ema": ema.state_dict() if ema is not None else None, "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None, "elapsed_s": elapsed, "history": history, "machine_class": here,
        })
    if writer is not None:
        writer.close()
    if last_epoch < recipe.epochs:  # stopped early on purpose: the checkpoint can be resumed to the end
        if ranks.is_main:
            (options.output_dir / "history.json").write_text(json.dumps(history, indent=1) + "\n")
        shutdown(ranks)
        return RunResult(history, elapsed, data_sha256, here)

    final_model = ema.module if ema is not None else model
    weights_path = options.output_dir / WEIGHTS_NAME
    if not ranks.is_main:  # say what this rank holds, so that the ranks can be compared with rank 0's file
        print(f"rank {ranks.rank}: weights sha256 {sha256_bytes(safetensors_bytes(final_model, recipe))}", flush=True)
        shutdown(ranks)
        raise SystemExit(0)
    weights_bytes = safetensors_bytes(final_model, recipe)
    atomic_write_bytes(weights_path, weights_bytes)
    final = score(model_from_bytes(recipe.model, weights_bytes), test_split)  # the published figure: the file's
    unrounded = score(final_model, test_split).top1 if recipe.weights_dtype != "float32" else None
    (options.output_dir / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    shutdown(ranks)
    return RunResult(history, elapsed, data_sha256, here, weights_path, sha256_file(weights_path), final.top1,
                     final.per_class, unrounded)


def _subsets(options: RunOptions) -> list[int | None]:
    """What a checkpoint records of the data it trained and scored on (a resume must use the same)."""
    return [options.train_subset, options.test_subset] + ([options.holdout] if options.holdout else [])


def state_dict_bytes(model: nn.Module, dtype: torch.dtype, label: str) -> bytes:
    """The ``state_dict`` (contiguous, CPU, floats in ``dtype``) as safetensors with fixed metadata: equal weights,
    equal bytes."""
    from safetensors.torch import save

    state_dict = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
                  for k, v in model.state_dict().items()}
    # One metadata key only: safetensors writes the metadata map in hash order, which varies between processes.
    return save(state_dict, metadata={"zoo": label})


def safetensors_bytes(model: nn.Module, recipe: Recipe) -> bytes:
    """The published file of ``model``: its weights stored in ``recipe.weights_dtype``."""
    return state_dict_bytes(model, getattr(torch, recipe.weights_dtype), f"{recipe.model} recipe v{recipe.version}")


def weights_fingerprint(model: nn.Module) -> str:
    """sha256 of the float32 weights of the model being trained: equal after an epoch only if the run so far was
    bit-identical. The EMA, if any, is a function of this trajectory."""
    return sha256_bytes(state_dict_bytes(model, torch.float32, "epoch fingerprint"))


def model_from_bytes(name: str, weights: bytes) -> nn.Module:
    """A fresh float32 model holding the weights of a safetensors file, as ``pretrained=True`` would load it."""
    from safetensors.torch import load

    model = build_model(name)
    model.load_state_dict(load(weights), strict=True)  # load_state_dict copies lower-precision tensors into float32
    return model


def _tensorboard_writer(log_dir: str | None):
    if not log_dir:
        return None
    require_extra("--tensorboard", "tensorboard", extra="tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir)


def make_record(recipe: Recipe, result: RunResult, command: str) -> WeightsRecord:
    """The manifest record of a finished run (the one record type that loading reads)."""
    return WeightsRecord(
        name=recipe.model,
        repo_id=f"{HUB_ORG}/zoo-{recipe.model.replace('_', '-')}",
        revision=HUB_REVISION,
        filename=WEIGHTS_NAME,
        sha256=result.sha256,
        file_size=result.weights_path.stat().st_size,
        num_params=sum(p.numel() for p in build_model(recipe.model).parameters()),
        metrics={"cifar10_test_top1": result.top1, "cifar10_test_per_class": result.per_class,
                 "evaluated_on": "all 10,000 CIFAR-10 test images, final epoch, single crop, fp32",
                 **({"cifar10_test_top1_float32_weights": result.unrounded_top1}
                    if result.unrounded_top1 is not None else {})},
        transforms={"mean": list(MEAN), "std": list(STD), "size": 32},
        categories=CATEGORIES,
        recipe={
            "command": command,
            "settings": recipe.to_dict(),
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "threads": recipe.threads,
            "machine": MachineClass(**result.machine_class).summary(),
            "machine_class": result.machine_class,
            "train_data_sha256": result.data_sha256,
            "wall_time_s": round(result.wall_time_s, 1),
            "history": result.history,
        },
    )


def publish(recipe: Recipe, result: RunResult, overwrite: bool, command: str) -> Path:
    """Copy the weights to ``weights/NAME/`` and write the manifest record; refuses to replace a published file."""
    target = CHECKOUT_WEIGHTS / recipe.model / WEIGHTS_NAME
    if target.exists() and sha256_file(target) != result.sha256 and not overwrite:
        raise ZooError(f"{target} is already published with another sha256; pass --overwrite to replace it.")
    atomic_write_bytes(target, result.weights_path.read_bytes())
    write_record(make_record(recipe, result, command))
    return target


def build_parser(prog: str = "python -m zoo.train") -> argparse.ArgumentParser:
    parser = CliParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m zoo.train lenet                 # the published recipe\n"
               "  python -m zoo.train lenet --check         # retrain, compare with the published sha256\n"
               "  python -m zoo.train vgg16_cifar10 --resume  # continue a killed run")
    parser.add_argument("model", choices=sorted(RECIPES))
    recipe = parser.add_argument_group("recipe overrides (default: the published recipe)")
    recipe.add_argument("--epochs", type=positive_int)
    recipe.add_argument("--batch-size", type=positive_int)
    recipe.add_argument("--lr", type=positive_float, help="peak learning rate")
    recipe.add_argument("--weight-decay", type=non_negative_float)
    recipe.add_argument("--label-smoothing", type=fraction)
    recipe.add_argument("--seed", type=non_negative_int)
    recipe.add_argument("--threads", type=positive_int)
    recipe.add_argument("--precision", choices=["fp32", "bf16"])
    recipe.add_argument("--cutout", type=non_negative_int, help="side of the Cutout square (0: none)")
    recipe.add_argument("--ema-decay", type=fraction)
    recipe.add_argument("--weights-dtype", choices=["float32", "float16", "bfloat16"],
                        help="storage precision of the exported file (export only: a finished run can be re-exported "
                             "with --resume)")
    run = parser.add_argument_group("run")
    run.add_argument("--data-dir", type=Path, help=f"CIFAR-10 root (default: $ZOO_DATA_DIR or {default_data_dir()})")
    run.add_argument("--download", action="store_true", help="fetch CIFAR-10 with torchvision first (internet)")
    run.add_argument("--output-dir", type=Path, help="checkpoints and final weights (default: runs/NAME/)")
    run.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint.pt")
    run.add_argument("--device", default="cpu", type=device_argument, help="cpu, cuda or mps (AMP on CUDA)")
    run.add_argument("--accum-steps", type=positive_int, default=1,
                     help="split each batch into N micro-batches (gradient accumulation; same recipe, less memory)")
    run.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard curves to DIR")
    run.add_argument("--train-subset", type=positive_int, help="train on the first N images only (quick trials, tests)")
    run.add_argument("--test-subset", type=positive_int, help="score on the first N test images only")
    run.add_argument("--holdout", type=positive_int, metavar="N",
                     help="train on all but the last N training images and score on those, not on the test set "
                          "(recipe search)")
    run.add_argument("--no-progress", action="store_true", help="no tqdm bar (log lines only)")
    run.add_argument("--stop-after", type=positive_int, metavar="K",
                     help="end the run after epoch K of the recipe (checkpoint kept: --resume continues it)")
    out = parser.add_argument_group("publishing")
    mode = out.add_mutually_exclusive_group()
    mode.add_argument("--publish", action="store_true", help="export to weights/NAME/ and write the manifest record")
    mode.add_argument("--check", action="store_true",
                      help="retrain with the published recipe; exit 0 only if the sha256 equals the published one")
    out.add_argument("--check-epochs", type=positive_int, metavar="K",
                     help="with --check on the recorded machine class: stop after K epochs and compare their weight "
                          "fingerprints (minutes instead of the whole run)")
    out.add_argument("--overwrite", action="store_true", help="with --publish: replace an existing published file")
    return parser


OVERRIDES = ("epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "seed", "threads", "precision", "cutout",
             "ema_decay", "weights_dtype")


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The published recipe of ``args.model`` with the command line's overrides."""
    return get_recipe(args.model).with_overrides(**{name: getattr(args, name) for name in OVERRIDES})


def regenerate_command(recipe: Recipe, args: argparse.Namespace) -> str:
    """The shortest command that trains ``recipe`` again as this run did: the settings that differ from the published
    recipe, the device and the gradient accumulation (the flags that only say where files go are left out)."""
    published = get_recipe(recipe.model)
    parts = ["python", "-m", "zoo.train", recipe.model]
    for name in OVERRIDES:
        if getattr(recipe, name) != getattr(published, name):
            parts += [f"--{name.replace('_', '-')}", str(getattr(recipe, name))]
    if args.device != "cpu":
        parts += ["--device", args.device]
    if args.accum_steps != 1:
        parts += ["--accum-steps", str(args.accum_steps)]
    return " ".join(parts)


def main(argv: list[str] | None = None, prog: str = "python -m zoo.train") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    recipe = recipe_from_args(args)
    try:
        check_device(args.device)
    except DeviceError as error:
        parser.error(str(error))
    if recipe.batch_size % args.accum_steps:
        parser.error(f"--accum-steps {args.accum_steps} must divide the batch size {recipe.batch_size}")
    if (args.check or args.publish) and (args.train_subset or args.test_subset or args.holdout):
        parser.error("a run on a subset or with --holdout can be neither published nor used as a check: drop "
                     "--train-subset/--test-subset/--holdout")
    if args.publish and not in_checkout():  # said now, not after hours of training
        parser.error(f"--publish writes weights/{args.model}/ and the manifest of a clone of the repository, and this "
                     f"zoo is an installed copy ({Path(__file__).parent}): run it from a clone (pip install -e .), or "
                     "drop --publish (the weights land in --output-dir)")
    if args.check and recipe != get_recipe(args.model):
        parser.error("--check retrains the published recipe: drop the recipe overrides")
    if args.check_epochs is not None and not args.check:
        parser.error("--check-epochs goes with --check")
    if args.stop_after is not None and (args.check or args.publish):
        parser.error("--stop-after does not go with --check or --publish")
    if args.stop_after is not None and args.stop_after > recipe.epochs:
        parser.error(f"--stop-after {args.stop_after} is past the recipe's last epoch ({recipe.epochs})")
    train_images = TRAIN_IMAGES - (args.holdout or 0)
    for flag, value, limit in (("--holdout", args.holdout, TRAIN_IMAGES - recipe.batch_size),
                               ("--train-subset", args.train_subset, train_images),
                               ("--test-subset", args.test_subset, TEST_IMAGES)):
        if value is not None and value > limit:
            parser.error(f"{flag} {value} is more than the {limit:,} images it can take")
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
        print(plan.describe(), flush=True)
    data_dir = args.data_dir or default_data_dir()
    if args.download:
        download_cifar10(data_dir)
    output_dir = args.output_dir or Path("runs") / args.model
    scratch = None
    if args.check and not args.output_dir:
        scratch = tempfile.TemporaryDirectory(prefix=f"zoo-check-{args.model}-")
        output_dir = Path(scratch.name)
    options = RunOptions(data_dir=data_dir, output_dir=output_dir, resume=args.resume, device=args.device,
                         accum_steps=args.accum_steps, tensorboard=args.tensorboard, train_subset=args.train_subset,
                         test_subset=args.test_subset, holdout=args.holdout, progress=not args.no_progress,
                         stop_after_epoch=plan.epochs if plan else args.stop_after)
    result = train(recipe, options)
    if result.weights_path is None:
        print(f"{recipe.model}: stopped after epoch {result.history[-1]['epoch']}/{recipe.epochs} as asked; "
              f"checkpoint in {output_dir}", flush=True)
    else:
        scored_on = f"{args.holdout} held-out training" if args.holdout else f"{args.test_subset or 10000} test"
        print(f"{recipe.model}: top-1 {result.top1:.4f} on {scored_on} images, "
              f"{result.wall_time_s:.0f} s training, sha256 {result.sha256}, weights {result.weights_path}", flush=True)
    if result.unrounded_top1 is not None:
        print(f"top-1 of the float32 weights before storing them as {recipe.weights_dtype}: "
              f"{result.unrounded_top1:.4f}", flush=True)
    if plan is not None:
        return report_check(published, plan, result)
    if args.publish:
        target = publish(recipe, result, args.overwrite, regenerate_command(recipe, args))
        print(f"published {target} and its manifest record")
    return 0


def report_check(published: WeightsRecord, plan: CheckPlan, result: RunResult) -> int:
    """Print the check's verdict; 0 if it passed."""
    if plan.kind == "accuracy":
        ok, sentence = within_spread(result.top1, published.metrics["seed_spread"])
        print(f"accuracy check: {sentence}\nwithin the seed spread: {'yes' if ok else 'NO'}")
        return 0 if ok else 1
    lines = compare_fingerprints(published, result.history)
    print("\n".join(lines))
    equal = all(" equal " in line for line in lines)
    if result.sha256 is not None:
        print(f"new       sha256 {result.sha256}\npublished sha256 {published.sha256}")
        equal = equal and result.sha256 == published.sha256
    print(f"bit-identical{' through epoch ' + str(plan.epochs) if result.sha256 is None else ''}: "
          f"{'yes' if equal else 'NO'}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
