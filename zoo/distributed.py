"""Data-parallel training under ``torchrun``: who this process is, its shard, and the few collectives needed.

Without ``torchrun`` (``WORLD_SIZE`` unset or 1) everything here is a no-op, so the single-process path is
unchanged. Under ``torchrun --nproc_per_node=N [--nnodes ...]`` the ranks join a process group (gloo on CPU,
nccl on CUDA) from the ``env://`` variables torchrun sets. On CUDA each rank first takes its own GPU
(``LOCAL_RANK``), and collectives run on tensors of that GPU (NCCL takes no CPU tensors).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    device: torch.device = torch.device("cpu")  # where this rank's collectives run

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of a global batch (every rank holds the same global batch)."""
        return batch.tensor_split(self.world_size)[self.rank] if self.enabled else batch

    def sum(self, *values: float) -> list[float]:
        """Sum ``values`` over all ranks."""
        if not self.enabled:
            return list(values)
        total = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.tolist()

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier(device_ids=[self.device.index]) if self.device.type == "cuda" else dist.barrier()


def init_from_env(device_type: str) -> Ranks:
    """Join the process group if torchrun started this process; otherwise a single rank."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Ranks()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cpu")
    if device_type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)  # before the process group: otherwise every rank's NCCL context is on GPU 0
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return Ranks(rank=dist.get_rank(), world_size=world_size, local_rank=local_rank,
                 local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", "1")), device=device)


def shutdown(ranks: Ranks) -> None:
    if ranks.enabled and dist.is_initialized():
        dist.destroy_process_group()
