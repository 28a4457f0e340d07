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
VIEWS = ("single", "flip", "multi-crop")  # what predict_views reports: the single crop, flip TTA, multi-crop TTA


def multi_crop_logits(model: nn.Module, x: torch.Tensor,
                      centre: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Jordan (2024)'s multi-crop test-time augmentation: the mean logits of the picture and its mirror image (weight
    1/2), and of the same for the picture moved one pixel up-left and one pixel down-right (1/4 each; the borders
    reflected). ``centre``: the float logits of ``x`` and of its mirror image, when already computed."""
    def with_mirror(v: torch.Tensor, known: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        plain, mirrored = known if known is not None else (model(v).float(), model(v.flip(3)).float())
        return 0.5 * (plain + mirrored)

    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    h, w = x.shape[2:]
    return (0.5 * with_mirror(x, centre) + 0.25 * with_mirror(padded[:, :, :h, :w])
            + 0.25 * with_mirror(padded[:, :, 2:h + 2, 2:w + 2]))


def _logits_of_views(model: nn.Module, x: torch.Tensor, views: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Each view's logits for one batch. The picture and its mirror image go through the model once, whichever views
    use them (flip and multi-crop together: 6 passes, not 1 + 2 + 6), with each view's own arithmetic, so a view's
    logits are those it has when asked alone."""
    single = model(x).float()
    mirror = model(x.flip(3)).float() if {"flip", "multi-crop"} & set(views) else None
    logits = {"single": single}
    if "flip" in views:
        logits["flip"] = single.softmax(1) + mirror.softmax(1)
    if "multi-crop" in views:
        logits["multi-crop"] = multi_crop_logits(model, x, centre=(single, mirror))
    return logits


@torch.inference_mode()
def predict_views(model: nn.Module, images: torch.Tensor, views: tuple[str, ...] = ("single",),
                  batch_size: int = 1000, mean=MEAN, std=STD, precision: str = "fp32",
                  size: int | None = None) -> dict[str, torch.Tensor]:
    """Predicted class of each uint8 image under each of ``views`` (:data:`VIEWS`: ``"flip"`` sums the softmax of the
    picture's and its mirror image's logits, ``"multi-crop"`` is :func:`multi_crop_logits`), in one sweep of batches
    on the model's device (fp32 unless ``precision="bf16"``); ``size`` resizes the normalised images to ``size`` ×
    ``size`` first (bilinear)."""
    unknown = [view for view in views if view not in VIEWS]
    if unknown or not views:
        raise ValueError(f"views are among {', '.join(VIEWS)}; got {', '.join(unknown) or 'none'}")
    device = next(model.parameters()).device
    predictions: dict[str, list[torch.Tensor]] = {view: [] for view in views}
    for start in range(0, len(images), batch_size):
        x = normalize(images[start:start + batch_size], mean, std).to(device)
        if size is not None:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = _logits_of_views(model, x, views)
        for view in views:
            predictions[view].append(logits[view].argmax(1).cpu())
    return {view: torch.cat(predicted) for view, predicted in predictions.items()}


def predict_classes(model: nn.Module, images: torch.Tensor, batch_size: int = 1000, mean=MEAN, std=STD,
                    flip_tta: bool = False, precision: str = "fp32", tta: str = "none",
                    size: int | None = None) -> torch.Tensor:
    """Predicted class of each uint8 image: the single crop, or ``flip_tta`` or ``tta="multi-crop"`` (one of the two;
    :func:`predict_views` gives several views in one sweep)."""
    view = _view(flip_tta, tta)
    return predict_views(model, images, (view,), batch_size, mean, std, precision, size)[view]


def _view(flip_tta: bool, tta: str) -> str:
    if tta not in TTA:
        raise ValueError(f"tta is one of {', '.join(TTA)}; got {tta!r}")
    if flip_tta and tta != "none":
        raise ValueError("flip_tta and tta='multi-crop' are two views: ask predict_views for both")
    return "flip" if flip_tta else "single" if tta == "none" else "multi-crop"


def score(model: nn.Module, split: Split, batch_size: int = 1000, mean=MEAN, std=STD, flip_tta: bool = False,
          precision: str = "fp32", tta: str = "none", size: int | None = None) -> Score:
    """Score ``model`` (put in eval mode) on every image of ``split`` (``tta``, ``size``: see
    :func:`predict_classes`)."""
    view = _view(flip_tta, tta)
    return score_views(model, split, (view,), batch_size, mean, std, precision, size)[view]


def score_views(model: nn.Module, split: Split, views: tuple[str, ...], batch_size: int = 1000, mean=MEAN, std=STD,
                precision: str = "fp32", size: int | None = None) -> dict[str, Score]:
    """Score ``model`` (put in eval mode) on every image of ``split`` under each of ``views``, in one sweep
    (:func:`predict_views`)."""
    was_training = model.training
    model.eval()
    predicted = predict_views(model, split.images, views, batch_size, mean, std, precision, size)
    model.train(was_training)
    return {view: score_predictions(classes, split) for view, classes in predicted.items()}


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
