"""The training loop: a recipe and run options in, a trained, scored, resumable run out.

Everything random in a run comes from the recipe's seed: one CPU generator shuffles, crops, flips and cuts out
(``epoch_batches``), torch's own generators drive the rest; algorithms are deterministic, so the same recipe on the
same machine class gives the same bytes, killed and resumed or not. Rank 0 scores, logs and checkpoints.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from .artifacts import RESULT_NAME, WEIGHTS_NAME, model_from_bytes, safetensors_bytes, weights_fingerprint
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, restore_training_state, save_checkpoint, training_state
from .data import Split, cutout, load_cifar10, normalize, random_crop_flip
from .distributed import Ranks, init_from_env, shutdown
from .errors import CheckpointError, TrainingDivergedError, ZooError, require_extra
from .record_files import history_bytes, json_bytes
from .machine import MachineClass, machine_class
from .manifest import atomic_write_bytes
from .metrics import score, score_views
from .models import build_model
from .recipes import TRIANGLE, Recipe, get_recipe
from .rundir import hold_output_dir
from .weights import sha256_bytes


def silent(line: str) -> None:
    """The default log of :func:`train`: drops its lines."""


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
    tta_top1: float | None = None  # the file's score with the recipe's test-time augmentation (recipe.tta)
    trained_on: list[dict[str, Any]] = field(default_factory=list)  # which machine class trained which epochs
    # torchrun: the rank that returns this. A rank other than 0 writes nothing (no weights_path): its sha256 is that of
    # the file it would have written, for comparing the ranks with rank 0's file.
    rank: int = 0


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
    """SGD over the trainable parameters (batch norms' biases in a group of their own where the recipe scales their
    lr) and the recipe's lr schedule, stepped once per optimizer step."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups: list = trainable
    if recipe.norm_bias_lr_scale != 1:
        norm_biases = {id(m.bias) for m in model.modules()
                       if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.bias is not None}
        scale = recipe.norm_bias_lr_scale
        groups = [{"params": [p for p in trainable if id(p) not in norm_biases]},
                  {"params": [p for p in trainable if id(p) in norm_biases], "lr": recipe.lr * scale,
                   "weight_decay": recipe.weight_decay / scale}]
    optimizer = torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum,
                                nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    total_steps = recipe.epochs * steps_per_epoch
    if recipe.schedule == "triangle":
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, partial(triangle, total_steps=total_steps))
    else:
        if recipe.warmup_fraction * (total_steps + 1) == 1:
            # OneCycleLR's warm-up phase then ends on the step it starts at, and torch divides by its zero length
            raise ZooError(f"a one-cycle schedule over {total_steps} steps with warmup_fraction "
                           f"{recipe.warmup_fraction} warms up over a single step, which torch's OneCycleLR cannot "
                           "schedule: train on more images (or fewer), or for more epochs")
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[group["lr"] for group in optimizer.param_groups],
            total_steps=total_steps + 1,  # +1: no step past the end
            pct_start=recipe.warmup_fraction, anneal_strategy="linear", cycle_momentum=False)
    return optimizer, scheduler


def triangle(step: int, total_steps: int) -> float:
    """The lr at ``step`` as a fraction of the peak: :data:`zoo.recipes.TRIANGLE`'s linear rise and fall."""
    start, rise, end = TRIANGLE
    peak = int(total_steps * rise)
    if step < peak:
        return start + (1 - start) * step / peak
    return 1 + (end - 1) * (step - peak) / max(1, total_steps - peak)


class Lookahead:
    """Lookahead (Zhang et al., 2019) on Jordan (2024)'s schedule: every ``every`` steps the slow copy of the model's
    float weights and buffers moves toward the fast ones by 1 − α, and the fast ones restart from it. α =
    0.95**5 · (step / total)**3 grows from 0 (the slow copy follows the fast one) to 0.77 (it averages their last
    stretch); :meth:`finish` leaves the model on the slow copy."""

    def __init__(self, model: nn.Module, every: int, total_steps: int) -> None:
        self.model, self.every, self.total_steps = model, every, total_steps
        self.slow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def after_step(self, step: int) -> None:
        """Called after optimizer step ``step`` (counted from 1 over the whole run)."""
        if step % self.every == 0:
            self._pull(0.95 ** 5 * (step / self.total_steps) ** 3)

    def finish(self) -> None:
        self._pull(1.0)

    @torch.no_grad()
    def _pull(self, alpha: float) -> None:
        fast = self.model.state_dict()
        for key, slow in self.slow.items():
            slow.lerp_(fast[key], 1 - alpha)
            fast[key].copy_(slow)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.slow)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for key, value in state.items():
            self.slow[key].copy_(value)


def make_ema(model: nn.Module, recipe: Recipe):
    if not recipe.ema_decay:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(recipe.ema_decay), use_buffers=True)


def autocast(device: torch.device, precision: str):
    if device.type == "cuda":  # AMP on CUDA whatever the recipe says: fp32 there is just slower
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def train_one_epoch(model, batches, optimizer, scheduler, ema, criterion, recipe, options, device, bar,
                    ranks: Ranks, lookahead: Lookahead | None = None, step: int = 0,
                    frozen: Sequence[nn.Parameter] = (), log: Callable[[str], None] = silent) -> tuple[float, float]:
    """One pass over ``batches`` (a list of global (uint8 images, labels)); returns mean loss and accuracy. The
    ``frozen`` parameters get no update (their gradients are dropped before each step: SGD then skips them whole).

    The running loss and hit count stay on ``device`` and are read once, at the end: no host sync per step. On a GPU
    each micro-batch is normalised on the CPU as everywhere (same bytes), copied into pinned memory and sent
    asynchronously."""
    pin = device.type == "cuda"
    total_loss = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    seen = 0
    label_sum = 0  # of this rank's slices (CPU tensors, no sync): lets a test check each rank trained on its share
    for images, labels in batches:
        images, labels = ranks.shard(images), ranks.shard(labels)
        label_sum += int(labels.sum())
        optimizer.zero_grad(set_to_none=True)
        for micro_images, micro_labels in zip(images.chunk(options.accum_steps), labels.chunk(options.accum_steps)):
            x, y = normalize(micro_images), micro_labels
            if pin:
                x, y = x.pin_memory(), y.pin_memory()
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast(device, recipe.precision):
                logits = model(x)
                loss = criterion(logits.float(), y)
            (loss * (len(y) / len(labels))).backward()
            total_loss += loss.detach().double() * len(y)
            correct += (logits.argmax(1) == y).sum()
            seen += len(y)
        for parameter in frozen:
            parameter.grad = None
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
        step += 1
        if lookahead is not None:
            lookahead.after_step(step)
        bar.update(len(labels) * ranks.world_size)
    loss_sum, hits = torch.stack([total_loss, correct.double()]).tolist()  # the epoch's one host sync
    bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{hits / seen:.3f}")
    if ranks.enabled:
        log(f"rank {ranks.rank}: trained on {seen} images, label sum {label_sum}")
    total, hits, seen = ranks.sum(loss_sum, hits, seen)
    return total / seen, hits / seen


FLIP_SEED = 0x5EED_F11B  # the alternating flips' own stream: mixed into the recipe's seed


def alternating_flips(images: int, seed: int, epoch: int) -> torch.Tensor:
    """Which images flip in ``epoch`` (from 0) under Jordan (2024)'s derandomised flip: half of them at random in the
    first epoch, and in every later epoch exactly those that did not flip in the one before."""
    first = torch.rand(images, generator=torch.Generator().manual_seed(seed ^ FLIP_SEED)) < 0.5
    return first ^ bool(epoch % 2)


def steps_per_epoch(images: int, recipe: Recipe) -> int:
    return images // recipe.batch_size if recipe.drop_last else -(-images // recipe.batch_size)


def epoch_batches(train: Split, recipe: Recipe, generator: torch.Generator,
                  epoch: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffle, cut into batches and augment: all randomness of an epoch comes from ``generator`` (and, for
    alternating flips, from the recipe's seed and ``epoch``)."""
    order = torch.randperm(len(train), generator=generator)
    flips = (alternating_flips(len(train), recipe.seed, epoch) if recipe.flip and recipe.flip_mode == "alternating"
             else None)
    batches = []
    for start in range(0, steps_per_epoch(len(order), recipe) * recipe.batch_size, recipe.batch_size):
        index = order[start:start + recipe.batch_size]
        images = train.images[index]
        if recipe.crop_padding or recipe.flip:
            images = random_crop_flip(images, recipe.crop_padding, generator, flip=recipe.flip, fill=recipe.crop_fill,
                                      flipped=None if flips is None else flips[index])
        if recipe.cutout:
            images = cutout(images, recipe.cutout, generator)
        batches.append((images, train.labels[index]))
    return batches


def train(recipe: Recipe, options: RunOptions, log: Callable[[str], None] = silent) -> RunResult:
    """Run ``recipe``; resumable; returns the final weights file and its test score. ``log`` gets the run's lines: one
    JSON object per epoch (its history entry), and what resuming found (the command line prints them)."""
    from tqdm.auto import tqdm

    ranks = init_from_env(torch.device(options.device).type, log)
    device = torch.device(options.device)
    set_determinism(recipe, ranks, device)
    here = machine_class(device, threads=torch.get_num_threads()).to_dict()
    if device.type == "cuda" and ranks.enabled:
        device = ranks.device  # this rank's own GPU, the one init_from_env selected
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

    if recipe.drop_last and len(train_split) < recipe.batch_size:
        raise ZooError(f"{len(train_split)} training images are fewer than one batch of {recipe.batch_size}, and the "
                       "recipe drops incomplete batches: train on more images, or give a smaller --batch-size")
    model = build_model(recipe.model)
    if hasattr(model, "init_from_training_images"):  # (a resumed run overwrites it with the checkpoint's)
        model.init_from_training_images(normalize(train_split.images[:5000], channels_last=False))
    model = model.to(device, memory_format=torch.channels_last)
    # Under torchrun, DDP averages the gradients of the ranks' shards: the global batch is recipe.batch_size.
    net = model
    if ranks.enabled:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    steps = steps_per_epoch(len(train_split), recipe)
    optimizer, scheduler = make_optimizer(model, recipe, steps)
    ema = make_ema(model, recipe)
    lookahead = Lookahead(model, recipe.lookahead_every, recipe.epochs * steps) if recipe.lookahead_every else None
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    generator = torch.Generator().manual_seed(recipe.seed)

    history: list[dict[str, Any]] = []
    start_epoch, elapsed = 0, 0.0
    # Which machine class trained which epochs: [{"machine_class": ..., "epochs": [first, last]}, ...]. A run resumed
    # on another class (a run longer than a session) gets a second entry; bit-identity is promised for one entry only.
    trained_on: list[dict[str, Any]] = []
    # rank 0 alone writes the folder, so it alone holds it (and clears what a killed run left there)
    with hold_output_dir(options.output_dir) if ranks.is_main else contextlib.nullcontext(None) as held:
        ledger = held.ledger if held is not None else None
        if held is not None and held.removed:
            log(f"removed {len(held.removed)} temporary file(s) that a killed zoo run left in {options.output_dir} "
                f"({', '.join(p.name for p in held.removed)})")
        ranks.barrier()
        checkpoint_path = options.output_dir / CHECKPOINT_NAME
        if options.resume and checkpoint_path.is_file():
            state = load_checkpoint(checkpoint_path)
            mismatch = _resume_mismatch(Recipe.from_dict(state["recipe"]), recipe, state["subsets"], _subsets(options))
            if mismatch:
                raise CheckpointError(f"{checkpoint_path} was written with other settings ({mismatch}): continue it with "
                                      "the settings it was written with, use another --output-dir, or drop --resume to "
                                      "start afresh there.")
            restore_training_state(state, model, optimizer, scheduler, ema, generator, device, lookahead)
            start_epoch, elapsed, history = state["epoch"], state["elapsed_s"], state["history"]
            trained_on = state.get("trained_on") or [{"machine_class": state["machine_class"],
                                                      "epochs": [1, start_epoch]}]
            if ranks.is_main:
                log(f"resumed {recipe.model} from {checkpoint_path} at epoch {start_epoch}/{recipe.epochs}")
                differences = MachineClass(**here).differences(trained_on[-1]["machine_class"])
                if differences and start_epoch < recipe.epochs:
                    log(f"note: epochs {trained_on[-1]['epochs'][0]}-{trained_on[-1]['epochs'][1]} were trained on "
                        f"another machine class ({'; '.join(differences)}). The run goes on here, and its bytes are "
                        "now those of no single class: its record lists each class's epochs, and a --check of it "
                        "compares accuracy with the seed spread.")
        elif options.resume and ranks.is_main:
            log(f"no checkpoint in {options.output_dir}; starting from scratch")

        writer = _tensorboard_writer(options.tensorboard) if ranks.is_main else None
        model.train()
        last_epoch = min(recipe.epochs, options.stop_after_epoch or recipe.epochs)
        for epoch in range(start_epoch, last_epoch):
            started = time.perf_counter()
            frozen = model.frozen_parameters(epoch) if hasattr(model, "frozen_parameters") else []
            batches = epoch_batches(train_split, recipe, generator, epoch)
            with tqdm(total=len(train_split), desc=f"{recipe.model} {epoch + 1}/{recipe.epochs}", unit="img",
                      disable=not (options.progress and ranks.is_main), leave=False) as bar:
                loss, train_acc = train_one_epoch(net, batches, optimizer, scheduler, ema, criterion, recipe, options,
                                                  device, bar, ranks, lookahead, epoch * steps, frozen, log)
            epoch_time = time.perf_counter() - started
            if not math.isfinite(loss):  # every rank sees the same all-reduced loss, so every rank stops here
                raise TrainingDivergedError(
                    f"{recipe.model}: the training loss is {loss} after epoch {epoch + 1} (peak lr {recipe.lr:g}): the run "
                    f"diverged. Nothing was exported{' and the checkpoint of epoch ' + str(epoch) + ' is kept' if epoch else ''}"
                    f"; lower --lr (the published recipe's is {get_recipe(recipe.model).lr:g}).")
            elapsed += epoch_time
            if trained_on and not MachineClass(**here).differences(trained_on[-1]["machine_class"]):
                trained_on[-1]["epochs"][1] = epoch + 1
            else:
                trained_on.append({"machine_class": here, "epochs": [epoch + 1, epoch + 1]})
            if not ranks.is_main:  # only rank 0 scores, logs and writes checkpoints
                continue
            # The per-epoch curve is scored in the recipe's precision (cheap); the published figure below is fp32.
            test_top1 = score(ema.module if ema is not None else model, test_split, precision=recipe.precision).top1
            entry = {"epoch": epoch + 1, "train_loss": round(loss, 5), "train_acc": round(train_acc, 5),
                     "test_top1": test_top1, "lr": scheduler.get_last_lr()[0], "epoch_s": round(epoch_time, 2),
                     "img_s": round(len(train_split) / epoch_time, 1), "weights_sha256": weights_fingerprint(model)}
            history.append(entry)
            log(json.dumps(entry))
            if writer is not None:
                writer.add_scalar("train/loss", loss, epoch + 1)
                writer.add_scalar("test/top1", test_top1, epoch + 1)
                writer.add_scalar("lr", entry["lr"], epoch + 1)
            save_checkpoint(checkpoint_path, {
                "recipe": recipe.to_dict(), "subsets": _subsets(options), "epoch": epoch + 1,
                **training_state(model, optimizer, scheduler, ema, generator, device, lookahead),
                "elapsed_s": elapsed, "history": history, "machine_class": here, "trained_on": trained_on,
            }, ledger)
        if writer is not None:
            writer.close()
        del net  # (the DistributedDataParallel wrapper let go while the process group is still there)
        if last_epoch < recipe.epochs:  # stopped early on purpose: the checkpoint can be resumed to the end
            if ranks.is_main:
                atomic_write_bytes(options.output_dir / "history.json", history_bytes(history), ledger)
            shutdown(ranks)
            return RunResult(history, elapsed, data_sha256, here, trained_on=trained_on)

        if lookahead is not None:
            lookahead.finish()
        final_model = ema.module if ema is not None else model
        weights_path = options.output_dir / WEIGHTS_NAME
        if not ranks.is_main:  # what this rank holds, so that the ranks can be compared with rank 0's file
            held = sha256_bytes(safetensors_bytes(final_model, recipe))
            shutdown(ranks)
            return RunResult(history, elapsed, data_sha256, here, sha256=held, trained_on=trained_on, rank=ranks.rank)
        weights_bytes = safetensors_bytes(final_model, recipe)
        weights_sha256 = sha256_bytes(weights_bytes)
        atomic_write_bytes(weights_path, weights_bytes, ledger)
        # the published figures: the file's, single crop and with the recipe's test-time augmentation, in one sweep
        views = ("single",) if recipe.tta == "none" else ("single", recipe.tta)
        scores = score_views(model_from_bytes(recipe.model, weights_bytes), test_split, views)
        final, tta = scores["single"], scores[recipe.tta].top1 if recipe.tta != "none" else None
        unrounded = score(final_model, test_split).top1 if recipe.weights_dtype != "float32" else None
        atomic_write_bytes(options.output_dir / "history.json", history_bytes(history), ledger)
        atomic_write_bytes(options.output_dir / RESULT_NAME, json_bytes({
            "model": recipe.model, "recipe": recipe.to_dict(), "subsets": _subsets(options),
            "sha256": weights_sha256, "top1": final.top1, "per_class": final.per_class,
            "tta": recipe.tta, "tta_top1": tta, "unrounded_top1": unrounded, "trained_on": trained_on,
            "data_sha256": data_sha256, "train_s": round(elapsed, 1), "torch": torch.__version__}), ledger)
        shutdown(ranks)
        # the class that trained the last epochs (a finished run resumed to be released elsewhere trains none here)
        trained_by = trained_on[-1]["machine_class"] if trained_on else here
        return RunResult(history, elapsed, data_sha256, trained_by, weights_path, weights_sha256,
                         final.top1, final.per_class, unrounded, tta, trained_on)


def _resume_mismatch(trained_by: Recipe, asked: Recipe, trained_subsets: list[int | None],
                     asked_subsets: list[int | None]) -> str:
    """Which settings of a checkpoint and of the run asked to continue it differ, in words ("" when none)."""
    differences = [f"{key} {there!r} there, {here!r} here"
                   for key, (there, here) in trained_by.differences(asked, training_only=True).items()]
    if trained_subsets != asked_subsets:
        differences.append(f"train/test/holdout images {trained_subsets} there, {asked_subsets} here (None: all)")
    return "; ".join(differences)


def _subsets(options: RunOptions) -> list[int | None]:
    """What a checkpoint records of the data it trained and scored on (a resume must use the same)."""
    return [options.train_subset, options.test_subset] + ([options.holdout] if options.holdout else [])


def _tensorboard_writer(log_dir: str | None):
    if not log_dir:
        return None
    require_extra("--tensorboard", "tensorboard", extra="tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir)
