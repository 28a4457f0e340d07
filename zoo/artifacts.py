"""What a finished run leaves: the published safetensors file (fixed bytes for equal weights), the per-epoch weight
fingerprint, and the manifest record that loading reads (written by :mod:`zoo.release`)."""
from __future__ import annotations

import platform
from typing import TYPE_CHECKING

import torch
from torch import nn

from .data import CATEGORIES, MEAN, STD
from .machine import MachineClass
from .manifest import WeightsRecord
from .models import build_model
from .recipes import Recipe
from .weights import sha256_bytes

if TYPE_CHECKING:
    from .loop import RunResult

WEIGHTS_NAME = "model.safetensors"
HUB_ORG = "org"
HUB_REVISION = "v1"


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
                    if result.unrounded_top1 is not None else {}),
                 **({"cifar10_test_top1_multicrop_tta": result.tta_top1} if result.tta_top1 is not None else {})},
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
            # a run resumed on other machine classes: which trained which epochs (bit-identity is no class's then)
            **({"trained_on": [{"machine": MachineClass(**part["machine_class"]).summary(), **part}
                               for part in result.trained_on]} if len(result.trained_on) > 1 else {}),
        },
    )
