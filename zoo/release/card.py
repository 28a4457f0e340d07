"""Model cards: ``zoo card NAME`` writes ``weights/NAME/README.md`` and its two figures.

The card follows the Hugging Face Hub's model-card format (YAML metadata, then Markdown). Its text comes from
the manifest record alone; the confusion-matrix figure from scoring the published file on the CIFAR-10 test set;
the training curves from the run's per-epoch log (``weights/NAME/history.json``, pinned by the record). The metadata is written by
``huggingface_hub.ModelCard``. Figures need matplotlib (``pip install 'cifar10-zoo[plots]'``).
"""
from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..api import get_model, get_weights
from .card_beyond import RELIABILITY_PNG, has_figures, plot_reliability, section
from ..data import load_cifar10_test
from ..errors import DISTRIBUTION
from ..figures import pyplot, save_png
from ..record_files import published_history
from ..manifest import CHECKOUT_ROOT, CORRUPTIONS_KEY, HISTORY_KEY, WeightsRecord, atomic_write_bytes
from ..metrics import score
from ..models import ARCHITECTURES
from ..openvino_ir import RECORD_KEYS
from ..weights import CHECKOUT_WEIGHTS

CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "training_curves.png"
HUB_DATASET = "uoft-cs/cifar10"  # CIFAR-10's id on the Hugging Face Hub
BENCHMARKS = "results*.json"  # benchmarks/run.py, one file per machine class
# benchmark key → column: the first three are zoo's, a missing peer is a dash
RUNTIMES = {"zoo": "plain", "fast": "fast", "int8": "int8", "onnxruntime": "onnxruntime",
            "openvino_f32": "OpenVINO f32", "openvino_bf16": "OpenVINO bf16", "openvino_int8": "OpenVINO int8"}


TEST_IMAGES_PER_CLASS = 1000  # the CIFAR-10 test set: 10 classes × 1,000 images


def card_metadata(record: WeightsRecord) -> ModelCardData:
    """The card's YAML metadata (Hub tags, license, model-index with the measured accuracy), as huggingface_hub writes it."""
    def accuracy(value: float, name: str) -> EvalResult:
        return EvalResult(task_type="image-classification", task_name="Image Classification", dataset_type=HUB_DATASET,
                          dataset_name="CIFAR-10", dataset_split="test", metric_type="accuracy", metric_value=value,
                          metric_name=name)

    results = [accuracy(record.top1, "Top-1 accuracy (final epoch, all 10,000 test images, single crop)")]
    if "cifar10_test_top1_multicrop_tta" in record.metrics:
        results.append(accuracy(record.metrics["cifar10_test_top1_multicrop_tta"],
                                "Top-1 accuracy, multi-crop TTA (flip + 1-pixel translations)"))
    if "cifar10_test_top1_flip_tta" in record.metrics:
        results.append(accuracy(record.metrics["cifar10_test_top1_flip_tta"], "Top-1 accuracy, horizontal-flip TTA"))
    return ModelCardData(library_name="pytorch", license=record.license.lower(), pipeline_tag="image-classification",
                         tags=["image-classification", "cifar10", "safetensors", "torch-hub"], datasets=[HUB_DATASET],
                         metrics=["accuracy"], model_name=record.name, eval_results=results)


def render_card(record: WeightsRecord) -> str:
    """The card (deterministic for a record): metadata through huggingface_hub's ``ModelCard``, then our Markdown."""
    settings = record.recipe["settings"]
    per_class = record.metrics["cifar10_test_per_class"]
    rows = "\n".join(f"| {name} | {per_class[name]:.1%} | {round(per_class[name] * TEST_IMAGES_PER_CLASS)} / "
                     f"{TEST_IMAGES_PER_CLASS} |" for name in record.categories)
    recipe_rows = "\n".join(f"| `{k}` | {v} |" for k, v in settings.items() if k != "model")
    log = record.extra[HISTORY_KEY]
    return str(ModelCard(f"---\n{card_metadata(record).to_yaml()}\n---\n\n" + f"""# `{record.name}` — CIFAR-10

{ARCHITECTURES[record.name].description} {record.num_params:,} parameters; `{record.filename}` is {record.file_size:,} bytes,
sha256 `{record.sha256}`.

## Load it

```python
import torch
model = torch.hub.load("org/zoo", "{record.name}", pretrained=True)   # Torch Hub

import zoo                                                          # pip install {DISTRIBUTION}
model = zoo.get_model("{record.name}", pretrained=True)
preprocess = zoo.get_weights("{record.name}").transforms_preset()   # PIL image → normalised tensor

from huggingface_hub import hf_hub_download                         # the file alone
path = hf_hub_download("{record.repo_id}", "{record.filename}")
```

Input: RGB 32×32, scaled to [0, 1], normalised with mean {tuple(record.mean)} and std {tuple(record.std)}.
`zoo` downloads the commit of this repository that its `weights_manifest.json` pins, not a movable branch, and
checks the sha256 above before parsing the file.{_storage_note(record)}

## Intended use and limitations

{_intended_use(record)}

## Fine-tune it

```python
model = zoo.get_model("{record.name}", pretrained=True, num_classes=5)   # pretrained body, a new 5-way classifier
features = model.forward_features(images)                            # or take its features (timm's names)
```

or from the command line, on a folder of your pictures with one sub-folder per class:
`zoo finetune {record.name} --data pictures --output-dir runs/mine`.

## Results

Top-1 accuracy **{record.top1:.2%}** on all 10,000 CIFAR-10 test images (final epoch, single crop, fp32;
`python -m zoo.evaluate {record.name}`).

| class | accuracy | correct (of the class's test images) |
|---|---:|---:|
{rows}

{_deployment(record)}
![Confusion matrix]({CONFUSION_PNG})

![Training curves]({CURVES_PNG})
{section(record)}
## Training

`{record.recipe["command"]}` regenerates this file bit for bit on the machine class it was made on
({_class_words(record)}); `{record.recipe["command"]} --check` verifies it there, and
`--check-epochs K` verifies the first K epochs in minutes against the weight fingerprints of the per-epoch log.
{_machine_note(record)}Training took {record.recipe["wall_time_s"]:.0f} s in the training loop. Training data sha256:
`{record.recipe["train_data_sha256"]}`.
{_spread_note(record)}
| setting | value |
|---|---|
{recipe_rows}

SGD with a one-cycle schedule (torch `OneCycleLR`, linear), {_augmentation(settings)} done on whole batches of
uint8 tensors, cross-entropy with label smoothing.

The per-epoch log is [`{log["filename"]}`]({log["filename"]}), beside the weights: {log["epochs"]} epochs, each with its
learning rate, train loss and top-1 (augmented), test top-1 as the run measured it (the headline figure above is the
published file scored in fp32), seconds, and the weights' sha256 ({log["fingerprinted_epochs"]} epochs fingerprinted).
Its sha256: `{log["sha256"]}`.

## Citation

The architecture: {ARCHITECTURES[record.name].reference or "zoo's own"}. The data: A. Krizhevsky, Learning multiple
layers of features from tiny images, technical report, University of Toronto, 2009. These weights and their record:
zoo (`CITATION.cff` in its repository).

This card and its figures: `zoo card {record.name}`.
"""))


def _intended_use(record: WeightsRecord) -> str:
    """What the model is for and what it is not for, with its own figures where they say it."""
    size = record.extra.get("input_size")
    corruptions = record.extra.get(CORRUPTIONS_KEY, {}).get("float")
    sizes = ("It takes other sizes too (any from "
             f"{size['min_size'][0]}×{size['min_size'][1]}), but it learned 32×32: on the test set resized to 64×64 it "
             f"scores {size['cifar10_test_top1_64px']:.2%}; resize pictures to 32×32 to classify them."
             if size and size.get("any_size") else "It takes 32×32 images only: resize pictures first.")
    robustness = (f" Under corruptions (noise, blur, weather, digital; CIFAR-10-C style) its top-1 falls to "
                  f"{corruptions['mean']:.2%} on average." if corruptions else "")
    return (f"Classifying small natural images (32×32 RGB) into CIFAR-10's ten classes ({', '.join(record.categories)}); "
            "a baseline or a teaching model; a pretrained body to fine-tune on small images (below). It always "
            "answers one of the ten classes, however unlike them a picture is: there is no \"none of these\", so it "
            "is not a detector of what is outside them. " + sizes + robustness + " Its accuracy was measured on "
            "CIFAR-10's test set only (pictures collected from the web around 2008); on pictures from elsewhere it is "
            "unknown. Not for decisions about people or anything where a wrong answer causes harm.")


def _deployment(record: WeightsRecord) -> str:
    """Top-1 of the int8 model, the ONNX file and the OpenVINO exports, where measured (manifest entries ``int8``,
    ``onnx``, ``openvino``, ``openvino_int8``)."""
    int8, onnx = record.extra.get("int8"), record.extra.get("onnx")
    openvino = {" --int8" if int8_export else "": record.extra.get(key) for int8_export, key in RECORD_KEYS.items()}
    if not (int8 or onnx or any(openvino.values())):
        return ""
    rows = [f"| PyTorch, fp32 (this file) | {record.top1:.2%} | `python -m zoo.evaluate {record.name}` |"]
    if int8:
        rows.append(f"| int8 (PT2E static, x86 CPU) | {int8['metrics']['cifar10_test_top1']:.2%} | "
                    f"`zoo quantize {record.name} --evaluate` |")
    if onnx:
        rows.append(f"| ONNX (opset {onnx['opset']}), onnxruntime CPU | {onnx['cifar10_test_top1']:.2%} | "
                    f"`zoo export {record.name} --evaluate` |")
    for flag, entry in openvino.items():
        if entry:
            what = "int8 (NNCF, zoo's calibration images)" if flag else "float32"
            rows.append(f"| OpenVINO IR, {what}, OpenVINO CPU (f32 hint) | {entry['cifar10_test_top1']:.2%} | "
                        f"`zoo export {record.name} --format openvino{flag} --evaluate` |")
    note = _deployment_speed(record.name)
    if int8:
        calibration = int8["calibration"]
        note += (f"\nThe int8 model is `zoo.quantized_model(\"{record.name}\")`, built offline from this file and "
                f"`{calibration['filename']}` (observer statistics of {calibration['images']}; sha256 "
                f"`{calibration['sha256']}`): {int8['scheme']}. Its figure was measured on "
                f"{int8['machine_class']['cpu']}; int8 kernels, and so rare predictions, can differ on other CPUs. On a CPU "
                 "without VNNI (`zoo env`) activations take 7-bit codes, 0-127: oneDNN's int8 kernels there sum "
                 "products in 16 bits, which 8-bit codes overflow.\n")
    return ("\nDeployed forms, top-1 on all 10,000 test images:\n\n| runtime | top-1 | command |\n|---|---:|---|\n"
            + "\n".join(rows) + "\n" + note)


def _deployment_speed(name: str) -> str:
    """Images/s @256 and ms @1 of zoo's paths and the peers, per machine class, from the checkout's benchmark files,
    and where a peer is faster, by how much."""
    import json

    rows, verdicts = [], []
    for path in sorted((CHECKOUT_ROOT / "benchmarks").glob(BENCHMARKS)):
        results = json.loads(path.read_text(encoding="utf-8"))
        inference = results["models"].get(name, {}).get("inference", {})
        if not all(label in inference for label in ("zoo", "fast", "int8")):
            continue
        machine = results["machine_class"]
        where = machine["cpu"] + "".join(f", {k}={v}" for k, v in machine["kernel_env"].items())
        figures = " | ".join(f"{inference[label]['batch256_img_s']:,.0f} / {inference[label]['batch1_ms']:.2f}"
                             if label in inference else "—" for label in RUNTIMES)
        rows.append(f"| {where}, {machine['threads']} threads (`benchmarks/{path.name}`) | {figures} |")
        ratios = inference.get("best_zoo_over_best_peer", {})
        for batch, what in (("batch256", "throughput at batch 256"), ("batch1", "single-image latency")):
            if ratios.get(batch, 1) < 1:
                verdicts.append(f"for {what} on {where}, {RUNTIMES[inference['best_peer'][batch]]} is "
                                f"{1 / ratios[batch]:.1f}x faster than zoo's fastest path "
                                f"({RUNTIMES[inference['best_zoo'][batch]]})")
    if not rows:
        return ""
    return ("\nSpeed, images/s at batch 256 / ms at batch 1 (`python -m benchmarks.run --out FILE`; plain: the model "
            "`pretrained=True` returns; fast: `zoo.prepare_for_cpu_inference`; the others are the runtimes a "
            "deployment could pick instead, `benchmarks/peers.py`):\n\n"
            f"| CPU | {' | '.join(RUNTIMES.values())} |\n|---|{'---:|' * len(RUNTIMES)}\n" + "\n".join(rows) + "\n"
            + ("".join(f"\n{verdict[0].upper()}{verdict[1:]}." for verdict in verdicts) + "\n" if verdicts else ""))


def _storage_note(record: WeightsRecord) -> str:
    dtype = record.recipe["settings"].get("weights_dtype", "float32")
    if dtype == "float32":
        return ""
    unrounded = record.metrics["cifar10_test_top1_float32_weights"]
    return (f"\nThe file stores the weights in {dtype} to halve its size; they load as float32. The float32 weights "
            f"scored {unrounded:.2%} before rounding; the file scores {100 * (record.top1 - unrounded):+.2f} points against "
            "them.")


def _class_words(record: WeightsRecord) -> str:
    """The machine class that reproduces the file: on a GPU its name and torch, whatever the CPU beside it."""
    machine = record.recipe.get("machine_class") or {}
    if machine.get("cuda_device"):
        return (f"GPU {machine['cuda_device']}, torch {machine['torch']}, {machine['arch']}, whatever the CPU; "
                f"trained beside {machine['cpu']}")
    return record.recipe["machine"]


def _machine_note(record: WeightsRecord) -> str:
    source = record.recipe.get("machine_class_source")
    return f"The machine class was {source}.\n" if source else ""


def _spread_note(record: WeightsRecord) -> str:
    """Seed spread and what --check does on other machine classes (empty where none was measured)."""
    spread = record.metrics.get("seed_spread")
    if not spread:
        return ("\nOn another machine class (another GPU or CPU, another torch…) kernels and so bytes differ, "
                "and no seed spread was measured for this model to compare a retrain's accuracy with.\n")
    runs = ", ".join(f"{seed}: {top1:.2%}" for seed, top1 in zip(spread["seeds"], spread["top1"]))
    return (f"\nSeed spread of this recipe ({len(spread['seeds'])} seeds, final epoch, all 10,000 test images; "
            f"{spread['machine']}): top-1 **{spread['mean']:.2%} ± {spread['std']:.2%}** (mean ± std; seed {runs}). "
            f"On another machine class, where kernels and so bytes differ, `--check` retrains and passes if the top-1 "
            f"lies within ±{100 * spread['tolerance']:.2f} points of that mean ({spread['rule']}).\n")


def _augmentation(settings: dict) -> str:
    parts = []
    if settings["crop_padding"]:
        parts.append(f"random crops of {settings['crop_padding']}-pixel zero-padded images")
    if settings["flip"]:
        parts.append("horizontal flips")
    if settings.get("cutout"):
        parts.append(f"Cutout of {settings['cutout']}×{settings['cutout']} squares")
    if not parts:
        return "no augmentation"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def plot_confusion(record: WeightsRecord, confusion: list[list[int]], path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 6))
    image = axes.imshow(confusion, cmap="Blues")
    axes.set_xticks(range(10), record.categories, rotation=45, ha="right")
    axes.set_yticks(range(10), record.categories)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{record.name}: CIFAR-10 test confusion matrix (top-1 {record.top1:.2%})")
    threshold = max(max(row) for row in confusion) / 2
    for i, row in enumerate(confusion):
        for j, count in enumerate(row):
            axes.text(j, i, count, ha="center", va="center", fontsize=7, color="white" if count > threshold else "black")
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    save_png(figure, path)
    plt.close(figure)


def plot_curves(record: WeightsRecord, path: Path) -> None:
    plt = pyplot()
    history = published_history(record)
    epochs = [h["epoch"] for h in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, [h["train_loss"] for h in history], label="train loss")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss (with label smoothing)")
    lr_axes = loss_axes.twinx()
    lr_axes.plot(epochs, [h["lr"] for h in history], color="gray", linestyle=":", label="learning rate")
    lr_axes.set_ylabel("learning rate")
    loss_axes.legend(loc="upper right")
    accuracy_axes.plot(epochs, [h["train_acc"] for h in history], label="train (augmented)")
    accuracy_axes.plot(epochs, [h["test_top1"] for h in history], label="test")
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.set_ylabel("top-1")
    accuracy_axes.legend(loc="lower right")
    figure.suptitle(f"{record.name}: {record.recipe['command']}")
    figure.tight_layout()
    save_png(figure, path)
    plt.close(figure)


def card_is_current(record: WeightsRecord, folder: Path | None = None) -> bool:
    """Whether ``folder`` (default weights/NAME/) holds the card ``record`` renders and its figures."""
    folder = folder or CHECKOUT_WEIGHTS / record.name
    figures = [CONFUSION_PNG, CURVES_PNG] + ([RELIABILITY_PNG] if has_figures(record) else [])
    card = folder / "README.md"
    return (card.is_file() and card.read_bytes() == render_card(record).encode("utf-8")
            and all((folder / figure).is_file() for figure in figures))


def write_card(name: str, data_dir: str | None = None, folder: Path | None = None) -> Path:
    """Score the published file, then write the card and its figures into ``folder`` (default weights/NAME/)."""
    record = get_weights(name)
    confusion = score(get_model(name, pretrained=True), load_cifar10_test(data_dir, f"the card of {name}")).confusion
    folder = folder or CHECKOUT_WEIGHTS / name
    folder.mkdir(parents=True, exist_ok=True)
    plot_confusion(record, confusion, folder / CONFUSION_PNG)
    plot_curves(record, folder / CURVES_PNG)
    if has_figures(record):
        plot_reliability(record, folder / RELIABILITY_PNG)
    atomic_write_bytes(folder / "README.md", render_card(record).encode("utf-8"))
    return folder / "README.md"
