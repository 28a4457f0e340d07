"""Training checkpoints: what a run saves each epoch, and how a resumed run gets it back.

Checkpoints always load to the CPU. The training device receives only what ``load_state_dict`` copies into the
model, optimizer and EMA that already live there; the random generators' states stay CPU ``ByteTensor``s, the only
kind ``torch.set_rng_state``, ``Generator.set_state`` and ``torch.cuda.set_rng_state`` take.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import CheckpointError
from .manifest import atomic_write_bytes
from .weights import load_tensors_only

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_KEYS = frozenset({"recipe", "subsets", "epoch", "model", "optimizer", "scheduler", "generator", "torch_rng",
                             "elapsed_s", "history"})


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A training checkpoint, unpickled with ``weights_only=True`` onto the CPU. ``TorchVersion`` (a ``str``
    subclass) is allowed: checkpoints written while the machine class stored ``torch.__version__`` as one hold it."""
    from torch.torch_version import TorchVersion

    state = load_tensors_only(path, f"{path} is not a readable zoo training checkpoint",
                              ". Delete it to start afresh, or use another --output-dir.", "cpu", [TorchVersion])
    missing = sorted(CHECKPOINT_KEYS - set(state) if isinstance(state, dict) else CHECKPOINT_KEYS)
    if missing:
        raise CheckpointError(f"{path} is not a zoo training checkpoint (it lacks {', '.join(missing)}). Delete it to "
                              "start afresh, or use another --output-dir.")
    return state


def save_checkpoint(path: Path, state: dict[str, Any], ledger: Path | None = None) -> None:
    """Atomic: a kill or a failure at any moment leaves the previous checkpoint or the new one, never half of one
    (``ledger``: see :func:`zoo.manifest.atomic_write_bytes`)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue(), ledger)


def training_state(model: nn.Module, optimizer, scheduler, ema, generator: torch.Generator,
                   device: torch.device, lookahead=None) -> dict[str, Any]:
    """The resumable state of a run (the caller adds recipe, epoch, history, …)."""
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "ema": ema.state_dict() if ema is not None else None, "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "lookahead": lookahead.state_dict() if lookahead is not None else None,
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def restore_training_state(state: dict[str, Any], model: nn.Module, optimizer, scheduler, ema,
                           generator: torch.Generator, device: torch.device, lookahead=None) -> None:
    """Put a loaded (CPU) checkpoint back into a run whose model, optimizer and EMA live on ``device``."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])  # moves the momentum buffers to their parameters' device
    scheduler.load_state_dict(state["scheduler"])
    if ema is not None:
        ema.load_state_dict(state["ema"])
    if lookahead is not None:
        lookahead.load_state_dict(state["lookahead"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)
