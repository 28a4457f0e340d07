"""Scoring a model on an in-memory CIFAR-10 split."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .data import CATEGORIES, MEAN, STD, Split, normalize


@dataclass(frozen=True)
class Score:
    """Top-1 accuracy, per-class accuracy and confusion matrix (rows: true class, columns: predicted)."""

    top1: float
    per_class: dict[str, float]
    confusion: list[list[int]]
    count: int


TTA = ("none", "multi-crop")


def multi_crop_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Jordan (2024)'s multi-crop test-time augmentation: the mean logits of the picture and its mirror image (weight
    1/2), and of the same for the picture moved one pixel up-left and one pixel down-right (1/4 each; the borders
    reflected)."""
    def with_mirror(v: torch.Tensor) -> torch.Tensor:
        return 0.5 * (model(v).float() + model(v.flip(3)).float())

    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    h, w = x.shape[2:]
    return (0.5 * with_mirror(x) + 0.25 * with_mirror(padded[:, :, :h, :w])
            + 0.25 * with_mirror(padded[:, :, 2:h + 2, 2:w + 2]))


@torch.inference_mode()
def predict_classes(model: nn.Module, images: torch.Tensor, batch_size: int = 1000, mean=MEAN, std=STD,
                    flip_tta: bool = False, precision: str = "fp32", tta: str = "none",
                    size: int | None = None) -> torch.Tensor:
    """Predicted class of each uint8 image, in batches, on the model's device (fp32 unless ``precision="bf16"``);
    ``flip_tta`` sums the softmax of the mirror image's, ``tta="multi-crop"`` is :func:`multi_crop_logits`; ``size``
    resizes the normalised images to ``size`` × ``size`` first (bilinear)."""
    device = next(model.parameters()).device
    predictions = []
    for start in range(0, len(images), batch_size):
        x = normalize(images[start:start + batch_size], mean, std).to(device)
        if size is not None:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            if tta == "multi-crop":
                logits = multi_crop_logits(model, x)
            else:
                logits = model(x).float()
            if flip_tta:
                logits = logits.softmax(1) + model(x.flip(3)).float().softmax(1)
        predictions.append(logits.argmax(1).cpu())
    return torch.cat(predictions)


def score(model: nn.Module, split: Split, batch_size: int = 1000, mean=MEAN, std=STD, flip_tta: bool = False,
          precision: str = "fp32", tta: str = "none", size: int | None = None) -> Score:
    """Score ``model`` (put in eval mode) on every image of ``split`` (``tta``, ``size``: see
    :func:`predict_classes`)."""
    was_training = model.training
    model.eval()
    predicted = predict_classes(model, split.images, batch_size, mean, std, flip_tta, precision, tta, size)
    model.train(was_training)
    return score_predictions(predicted, split)


def score_runtime(logits_of: Callable[[torch.Tensor], torch.Tensor], split: Split, batch_size: int = 1000) -> Score:
    """Score any runtime (an int8 model, an onnxruntime session…): ``logits_of`` maps a normalised float NCHW batch
    (contiguous, CPU) to logits; batches of ``batch_size`` images, as :func:`score` preprocesses them."""
    with torch.no_grad():
        predicted = [torch.as_tensor(logits_of(normalize(split.images[start:start + batch_size], channels_last=False)))
                     .argmax(1) for start in range(0, len(split), batch_size)]
    return score_predictions(torch.cat(predicted), split)


def score_predictions(predicted: torch.Tensor, split: Split) -> Score:
    """Score predicted classes (one per image of ``split``, from any runtime) against its labels."""
    confusion = torch.zeros(10, 10, dtype=torch.long)
    confusion.index_put_((split.labels, predicted), torch.ones_like(predicted), accumulate=True)
    per_class = (confusion.diag().double() / confusion.sum(1).clamp(min=1).double()).tolist()
    return Score(
        top1=int(confusion.diag().sum()) / len(split),
        per_class=dict(zip(CATEGORIES, (round(a, 4) for a in per_class))),
        confusion=confusion.tolist(),
        count=len(split),
    )
