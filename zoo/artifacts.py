"""What a finished run leaves: the published safetensors file (fixed bytes for equal weights), the per-epoch weight
fingerprint, and ``result.json``, the run's figures in a few hundred bytes (the manifest record made of a run is
:func:`zoo.release.records.make_record`)."""
from __future__ import annotations

import torch
from torch import nn

from .models import build_model
from .recipes import Recipe
from .weights import sha256_bytes

WEIGHTS_NAME = "model.safetensors"
# A finished run's recipe, weights sha256 and final figures, which is all a seed spread needs of it: a run whose
# weights are not kept (runs/NAME/seedS/ holds this file alone) still counts as a seed.
RESULT_NAME = "result.json"
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
