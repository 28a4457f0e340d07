"""Public entry points: build a model, optionally with its published, sha256-verified weights."""
from __future__ import annotations

import logging
import os
from typing import Any, Callable

import torch
from torch import nn

from .errors import CheckpointError, InputError, InputTypeError, ManifestError, UnknownModelError, check_device
from .manifest import WeightsRecord, published_records
from .models import ARCHITECTURES, build_model, check_model_name, check_num_classes
from .weights import load_state_dict, read_state_dict_file

logger = logging.getLogger(__name__)


def list_models(pretrained: bool = False) -> list[str]:
    """Names of all architectures, or with ``pretrained=True`` only those with published weights."""
    names = published_records() if pretrained else ARCHITECTURES
    return sorted(names)


def get_weights(name: str) -> WeightsRecord:
    """The published record of ``name``: metrics, categories, transforms (``.transforms_preset()``), recipe, sha256."""
    check_model_name(name)
    records = published_records()
    if name not in records:
        raise UnknownModelError(
            f"{name!r} has no published weights yet (published: {', '.join(sorted(records)) or 'none'}). "
            f"Build it untrained with pretrained=False, or train it with `python -m zoo.train {name}`."
        )
    return records[name]


def get_model(name: str, pretrained: bool = False, *, weights: str | os.PathLike | None = None, num_classes: int = 10,
              device: str | torch.device | None = None, map_location: str | torch.device | None = None) -> nn.Module:
    """Build model ``name``; with ``pretrained=True`` load its published weights (sha256 checked) and ``eval()`` it.

    With ``pretrained=True`` and another ``num_classes`` than the 10 of CIFAR-10 the body is pretrained and the
    classifier (``model.get_classifier()``) new, as in timm: a model to fine-tune (one line is logged naming it).

    ``weights`` loads your own file instead: safetensors, or a tutorial ``torch.save(model.state_dict(), PATH)``
    (read with ``weights_only=True``), strict key matching. ``device`` (alias ``map_location``) places the model.
    """
    check_model_name(name)
    if not isinstance(pretrained, bool):  # pretrained='False' is a true value: it would load the weights
        raise InputTypeError(f"pretrained must be True or False, not {type(pretrained).__name__} {pretrained!r:.60}")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise InputTypeError(f"weights must be a file path (str or os.PathLike), not {type(weights).__name__}")
    if device is not None and map_location is not None:
        raise InputError("pass device= or its alias map_location=, not both")
    device = check_device(device if device is not None else map_location)
    if weights is not None:
        if pretrained:
            raise InputError("pass either pretrained=True (the published weights) or weights=PATH (your file), not both")
        model = build_model(name, num_classes=num_classes)
        load_into(model, read_state_dict_file(weights), f"{name} (num_classes={num_classes})", weights)
        return model.to(device).eval()
    if not pretrained:
        return build_model(name, num_classes=num_classes).to(device)
    check_num_classes(num_classes)
    record = get_weights(name)
    model = build_model(name, num_classes=len(record.categories))
    model.load_state_dict(load_state_dict(record), strict=True)
    if num_classes != len(record.categories):
        head = model.reset_classifier(num_classes)
        logger.warning("%s: pretrained body, new classifier %s = Linear(%d, %d), randomly initialised: train it before "
                       "use", name, model.classifier_name, head.in_features, head.out_features)
    return model.to(device).eval()


def load_into(model: nn.Module, state: dict[str, torch.Tensor], what: str, source: str | os.PathLike) -> None:
    """``model.load_state_dict(state, strict=True)``, a :class:`CheckpointError` naming the file when it does not fit
    (another model, another head size) instead of torch's multi-line RuntimeError."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        missing = sorted(set(model.state_dict()) - set(state))
        unexpected = sorted(set(state) - set(model.state_dict()))
        mismatched = [k for k, v in state.items() if k in model.state_dict() and v.shape != model.state_dict()[k].shape]
        details = "; ".join(part for part in (
            f"missing {', '.join(missing[:3])}{'…' if len(missing) > 3 else ''}" if missing else "",
            f"unexpected {', '.join(unexpected[:3])}{'…' if len(unexpected) > 3 else ''}" if unexpected else "",
            f"other shapes: {', '.join(f'{k} {tuple(state[k].shape)} vs {tuple(model.state_dict()[k].shape)}' for k in mismatched[:3])}"
            if mismatched else "") if part) or str(error).splitlines()[0]
        raise CheckpointError(f"{source} does not fit {what} ({details}): is it a checkpoint of another model or head "
                              "size? Pass the matching model name (and num_classes)") from None


def _docstring(name: str, summary: str) -> str:
    try:
        record = published_records().get(name)
    except ManifestError as error:  # `import zoo` must work; pretrained=True then raises this error
        weights = f"Published weights: unknown ({error})"
    else:
        weights = ("No published weights yet: ``pretrained=True`` raises a ValueError." if record is None else
                   f"Published weights: {record.top1:.2%} top-1 on all 10,000 CIFAR-10 test images (final epoch), "
                   f"{record.num_params:,} parameters, sha256 {record.sha256[:12]}…"
                   + (f"; calibrated probabilities: ``(model(x) / {record.temperature}).softmax(1)``"
                      if record.temperature != 1.0 else ""))
    return f"""{summary}

    Input: float tensor (N, 3, 32, 32), RGB scaled to [0, 1] then normalised with the CIFAR-10 training-set
    mean (0.4914, 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616); ``zoo.get_weights('{name}').transforms_preset()``
    does it for PIL images and tensors (``model.input_size`` says which other sizes the model takes). Output: logits
    over the 10 CIFAR-10 classes; ``forward_features`` / ``forward_head`` / ``get_classifier`` as in timm.
    {weights}

    Args:
        pretrained: load the published safetensors weights (sha256-verified on every load) and return the model in
            ``eval()`` mode. Weights come from $ZOO_WEIGHTS_DIR, the checkout's weights/ folder, or the Hugging
            Face Hub (cache, HF_ENDPOINT mirrors and HF_HUB_OFFLINE honoured).
        weights: path of your own safetensors or state_dict ``.pth`` file to load instead (e.g. a tutorial's).
        num_classes: output classes; with pretrained=True and num_classes other than 10, the body is pretrained and
            the classifier new (to fine-tune: see ``zoo finetune``).
        device: where to put the model (alias ``map_location``); CPU by default.
    """


def _entry_point(name: str) -> Callable[..., nn.Module]:
    """The public builder ``zoo.NAME(pretrained=False, **kwargs)`` (also the Torch Hub entry point) of a registered
    architecture, with the docstring ``torch.hub.help`` shows."""
    def entry_point(pretrained: bool = False, **kwargs: Any) -> nn.Module:
        return get_model(name, pretrained, **kwargs)

    entry_point.__name__ = entry_point.__qualname__ = name
    entry_point.__doc__ = _docstring(name, ARCHITECTURES[name].description)
    return entry_point


ENTRY_POINTS: dict[str, Callable[..., nn.Module]] = {name: _entry_point(name) for name in sorted(ARCHITECTURES)}
globals().update(ENTRY_POINTS)  # zoo.api.lenet, … (and, through zoo/__init__.py and hubconf.py, zoo.lenet and the hub)
