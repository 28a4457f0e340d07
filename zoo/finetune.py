"""Fine-tuning a published model on your own pictures (``zoo finetune NAME --data DIR``).

``DIR`` is a torchvision ``ImageFolder``: one sub-folder of pictures per class. Every picture is read as 8-bit RGB
(as ``zoo predict`` reads it), resized to 32×32 (shorter side, centre crop: the checkpoint's preset), and held in
memory; a seeded, stratified share is set aside for validation. The model starts from the published weights with a
fresh classifier of one output per class and trains with the loop's pieces (SGD, one-cycle lr, crops and flips,
deterministic algorithms), checkpointing every epoch: ``--resume`` continues a killed run to the same bytes. The
result is ``model.safetensors`` (the class names in its metadata, so ``zoo predict --checkpoint`` and ``zoo evaluate
--checkpoint --folder`` label with them) and ``finetune.json``, the record of what was done."""
from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .artifacts import WEIGHTS_NAME, state_dict_bytes
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, restore_training_state, save_checkpoint, training_state
from .data import Split
from .distributed import Ranks
from .errors import CheckpointError, InputError
from .machine import MachineClass, machine_class
from .manifest import atomic_write_bytes
from .metrics import predict_classes
from .models._recipe import Recipe
from .rundir import hold_output_dir
from .weights import sha256_bytes

RECORD_NAME = "finetune.json"
METADATA_KIND = "zoo finetune"
IMAGE_SIZE = 32


@dataclass(frozen=True)
class FinetuneSettings:
    """What a fine-tune trains with; all of it is in ``finetune.json`` and a resumed run must agree with it."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.01  # peak of the one-cycle schedule: a tenth of the CIFAR recipes', the body is already trained
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    crop_padding: int = 2
    val_fraction: float = 0.1  # of each class, at least one picture where a class has two or more
    seed: int = 0
    precision: str = "fp32"  # "bf16": autocast, fast on CPUs with native bf16 (`zoo env` says)
    threads: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction < 1:
            raise InputError(f"val_fraction must be from 0 up to (not including) 1, not {self.val_fraction}")
        self.recipe("finetune")  # the recipe type's own rules (epochs >= 1, lr > 0, precision, …)

    def recipe(self, name: str) -> Recipe:
        """The loop's recipe type, for its optimizer, schedule and augmentation."""
        return Recipe(model=name, version=1, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                      weight_decay=self.weight_decay, label_smoothing=self.label_smoothing,
                      crop_padding=self.crop_padding, seed=self.seed, precision=self.precision, threads=self.threads)


@dataclass(frozen=True)
class FolderImages:
    """An image folder in memory: uint8 ``(N, 3, 32, 32)`` images, labels, class names, and each picture's path
    relative to the folder."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    files: tuple[str, ...]

    def sha256(self) -> str:
        """Digest of the pixels (after resizing), labels and class names: what a resumed run must train on again."""
        digest = hashlib.sha256(self.images.numpy().tobytes())
        digest.update(self.labels.numpy().tobytes())
        digest.update(json.dumps(self.classes).encode("utf-8"))
        return digest.hexdigest()


@dataclass
class FinetuneResult:
    weights_path: Path
    record_path: Path
    val_top1: float
    history: list[dict[str, Any]] = field(default_factory=list)


def read_image_folder(root: str | Path) -> FolderImages:
    """Every picture of the ImageFolder ``root`` (torchvision's layout and extensions), 32×32 uint8. One
    :class:`InputError` naming what is wrong otherwise: no such folder, fewer than two classes, a class without
    pictures, pictures Pillow cannot read."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, has_file_allowed_extension
    from torchvision.transforms import functional as TF

    from .predict import ImageError, open_rgb

    root = Path(root)
    layout = (f"put each class's pictures in a folder of its own: {root}/CLASS_A/1.jpg, {root}/CLASS_B/2.png, "
              f"... ({', '.join(IMG_EXTENSIONS)})")
    if not root.is_dir():
        raise InputError(f"{root} is not a folder: {layout}")
    try:
        classes, _ = find_classes(str(root))
    except FileNotFoundError:
        classes = []
    if len(classes) < 2:
        raise InputError(f"{root} has {len(classes)} class folder{'s' if len(classes) != 1 else ''}; a classifier needs "
                         f"two or more: {layout}")
    files, labels = [], []
    for label, name in enumerate(classes):
        found = sorted(p for p in (root / name).rglob("*")
                       if p.is_file() and has_file_allowed_extension(p.name, IMG_EXTENSIONS))
        if not found:
            raise InputError(f"{root / name} holds no pictures ({', '.join(IMG_EXTENSIONS)}): add some, or remove the "
                             "folder")
        files += found
        labels += [label] * len(found)
    images, unreadable = [], []
    for path in files:
        try:
            picture = open_rgb(path)
        except ImageError as error:
            unreadable.append(str(error))
            continue
        picture = TF.center_crop(TF.resize(picture, IMAGE_SIZE, antialias=True), IMAGE_SIZE)
        images.append(TF.pil_to_tensor(picture))
    if unreadable:
        raise InputError(f"{len(unreadable)} of {len(files)} files in {root} are not readable pictures (first: "
                         f"{unreadable[0]}): remove or replace them")
    return FolderImages(torch.stack(images), torch.tensor(labels, dtype=torch.int64), tuple(classes),
                        tuple(str(p.relative_to(root)) for p in files))


def split_folder(folder: FolderImages, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """A seeded, stratified train/validation split: of each class, ``round(n × val_fraction)`` pictures for
    validation — at least one where the class has two or more, never all of them."""
    generator = torch.Generator().manual_seed(seed)
    train_index, val_index = [], []
    for label in range(len(folder.classes)):
        members = (folder.labels == label).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        held = min(len(members) - 1, max(1 if len(members) >= 2 else 0, round(len(members) * val_fraction)))
        val_index.append(members[:held])
        train_index.append(members[held:])
    train, val = torch.cat(train_index).sort().values, torch.cat(val_index).sort().values
    return (Split(folder.images[train], folder.labels[train]), Split(folder.images[val], folder.labels[val]))


def accuracy(model: nn.Module, split: Split, precision: str = "fp32") -> float | None:
    """Top-1 of ``model`` on ``split`` (any number of classes); ``None`` for an empty split."""
    if len(split) == 0:
        return None
    was_training = model.training
    model.eval()
    predicted = predict_classes(model, split.images, precision=precision)
    model.train(was_training)
    return float((predicted == split.labels).double().mean())


def finetune(name: str, data: str | Path, output_dir: Path, settings: FinetuneSettings = FinetuneSettings(),
             resume: bool = False, progress: bool = True, log: Callable[[str], None] = lambda line: None,
             command: str = "") -> FinetuneResult:
    """Fine-tune published ``name`` on the ImageFolder ``data``; write ``model.safetensors`` and ``finetune.json``
    into ``output_dir`` (with a checkpoint per epoch, resumable); ``log`` gets one line per epoch."""
    from tqdm.auto import tqdm

    from . import api
    from .loop import epoch_batches, make_optimizer, set_determinism, steps_per_epoch, train_one_epoch

    folder = read_image_folder(data)
    train_split, val_split = split_folder(folder, settings.val_fraction, settings.seed)
    recipe = settings.recipe(name)
    device = torch.device("cpu")
    ranks = Ranks()
    set_determinism(recipe, ranks, device)  # seeds the new classifier's initialisation too
    base = api.get_weights(name)
    model = api.get_model(name, pretrained=True, num_classes=len(folder.classes)).train()
    here = machine_class(device, threads=torch.get_num_threads()).to_dict()
    steps = steps_per_epoch(len(train_split), recipe)
    optimizer, scheduler = make_optimizer(model, recipe, steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    generator = torch.Generator().manual_seed(recipe.seed)
    identity = {"model": name, "base_sha256": base.sha256, "data_sha256": folder.sha256(),
                "settings": asdict(settings)}
    history: list[dict[str, Any]] = []
    start_epoch, elapsed = 0, 0.0
    with hold_output_dir(output_dir) as held:
        checkpoint_path = output_dir / CHECKPOINT_NAME
        if resume and checkpoint_path.is_file():
            state = load_checkpoint(checkpoint_path)
            if state.get("finetune") != identity:
                raise CheckpointError(f"{checkpoint_path} is a fine-tune of other pictures, another model or other "
                                      "settings: use another --output-dir, or drop --resume to start afresh there")
            differences = MachineClass(**here).differences(state["machine_class"])
            if differences:  # compared as the training loop compares classes: the kernel-deciding fields
                raise CheckpointError(f"{checkpoint_path} was written on another machine class "
                                      f"({'; '.join(differences)}): resume it there, or start afresh with another "
                                      "--output-dir")
            restore_training_state(state, model, optimizer, scheduler, None, generator, device)
            start_epoch, elapsed, history = state["epoch"], state["elapsed_s"], state["history"]
            log(f"resumed from {checkpoint_path} at epoch {start_epoch}/{settings.epochs}")
        options = _LoopOptions()
        for epoch in range(start_epoch, settings.epochs):
            started = time.perf_counter()
            frozen = model.frozen_parameters(epoch) if hasattr(model, "frozen_parameters") else []
            with tqdm(total=len(train_split), desc=f"finetune {name} {epoch + 1}/{settings.epochs}", unit="img",
                      disable=not progress, leave=False) as bar:
                loss, train_acc = train_one_epoch(model, epoch_batches(train_split, recipe, generator, epoch),
                                                  optimizer, scheduler, None, criterion, recipe, options, device,
                                                  bar, ranks, None, epoch * steps, frozen)
            elapsed += time.perf_counter() - started
            entry = {"epoch": epoch + 1, "train_loss": round(loss, 5), "train_acc": round(train_acc, 5),
                     "val_top1": accuracy(model, val_split, settings.precision)}
            history.append(entry)
            save_checkpoint(checkpoint_path, {
                "recipe": recipe.to_dict(), "subsets": [], "epoch": epoch + 1, "finetune": identity,
                **training_state(model, optimizer, scheduler, None, generator, device),
                "elapsed_s": elapsed, "history": history, "machine_class": here}, held.ledger)
            log(json.dumps(entry))  # after the checkpoint: a run stopped at this line resumes from this epoch
        metadata = json.dumps({"kind": METADATA_KIND, "model": name, "categories": list(folder.classes),
                               "finetuned_from": base.sha256}, sort_keys=True)
        weights = state_dict_bytes(model, torch.float32, metadata)
        atomic_write_bytes(output_dir / WEIGHTS_NAME, weights, held.ledger)
        val_top1 = accuracy(model, val_split)  # the file's figure: fp32, as a user's load gives it
        record = {
            "model": name, "finetuned_from": {"sha256": base.sha256, "cifar10_test_top1": base.top1},
            "weights": {"filename": WEIGHTS_NAME, "sha256": sha256_bytes(weights), "file_size": len(weights)},
            "categories": list(folder.classes),
            "data": {"folder": str(Path(data).resolve()), "sha256": folder.sha256(), "pictures": len(folder.files),
                     "train": len(train_split), "validation": len(val_split),
                     "per_class": {c: int((folder.labels == i).sum()) for i, c in enumerate(folder.classes)},
                     "preprocessing": f"8-bit RGB, shorter side resized to {IMAGE_SIZE} (antialiased), centre crop "
                                      f"{IMAGE_SIZE}x{IMAGE_SIZE}, CIFAR-10 mean/std"},
            "settings": asdict(settings),
            "val_top1": val_top1,
            "history": history,
            "wall_time_s": round(elapsed, 1),
            "command": command,
            "torch_version": torch.__version__, "python_version": platform.python_version(), "machine_class": here,
        }
        record_path = output_dir / RECORD_NAME
        atomic_write_bytes(record_path, (json.dumps(record, indent=1) + "\n").encode("utf-8"), held.ledger)
    return FinetuneResult(output_dir / WEIGHTS_NAME, record_path, val_top1, history)


@dataclass(frozen=True)
class _LoopOptions:
    """What :func:`zoo.loop.train_one_epoch` reads of the loop's options."""

    accum_steps: int = 1


def checkpoint_categories(path: str | Path | None, published: tuple[str, ...]) -> tuple[str, ...]:
    """The classes a model loaded from ``path`` predicts: a ``zoo finetune`` file's own, else (no file, a CIFAR-10
    checkpoint, a tutorial ``.pth``) ``published``."""
    return (finetuned_categories(path) if path is not None else None) or published


def finetuned_categories(path: str | Path) -> tuple[str, ...] | None:
    """The class names a ``zoo finetune`` safetensors file carries in its metadata; ``None`` for any other file (a
    CIFAR-10 checkpoint, a tutorial ``.pth``)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError):
        return None
    try:
        label = json.loads(metadata.get("zoo", ""))
    except json.JSONDecodeError:
        return None
    if not isinstance(label, dict) or label.get("kind") != METADATA_KIND:
        return None
    categories = label.get("categories")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories) or len(categories) < 2:
        raise CheckpointError(f"{path} says it is a zoo fine-tune but its class names are damaged: fine-tune again")
    return tuple(categories)
