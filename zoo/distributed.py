"""Data-parallel training under ``torchrun``: who this process is, its shard, and the few collectives needed.

Without ``torchrun`` (``WORLD_SIZE`` unset or 1) everything here is a no-op, so the single-process path is
unchanged. Under ``torchrun --nproc_per_node=N [--nnodes ...]`` the ranks join a process group (gloo on CPU,
nccl on CUDA) from the ``env://`` variables torchrun sets. On CUDA each rank first takes its own GPU
(``LOCAL_RANK``), and collectives run on tensors of that GPU (NCCL takes no CPU tensors).
"""
from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass
from typing import Callable, Mapping

import torch
import torch.distributed as dist

from .errors import ZooError


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


class DistributedSetupError(ZooError, RuntimeError):
    """torchrun's environment variables do not describe a run this process can join, or the others never came."""


RENDEZVOUS_TIMEOUT_ENV = "ZOO_RENDEZVOUS_TIMEOUT"
RENDEZVOUS_TIMEOUT_S = 300  # seconds rank 0 waits for the others (torch's own default, 30 minutes, looks like a hang)
_ONE_PROCESS = ("start the run with torchrun (torchrun --nproc_per_node=N -m zoo.train ...), or unset WORLD_SIZE, "
                "RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT to train in one process")


def _whole(environ: Mapping[str, str], name: str, low: int, high: int | None = None,
           default: int | None = None) -> int:
    """``environ[name]`` as a whole number from ``low`` to ``high`` (exclusive), or :class:`DistributedSetupError`
    naming the variable."""
    text = environ.get(name)
    if text is None or text.strip() == "":
        if default is not None:
            return default
        raise DistributedSetupError(f"{name} is unset, and WORLD_SIZE={environ['WORLD_SIZE']} says this is one process "
                                    f"of several: {_ONE_PROCESS}")
    try:
        value = int(text)
    except ValueError:
        raise DistributedSetupError(f"{name}={text!r} is not a whole number: {_ONE_PROCESS}") from None
    if value < low or (high is not None and value >= high):
        says = f"from {low} to {high - 1}" if high is not None else f">= {low}"
        raise DistributedSetupError(f"{name}={value} is out of range (it must be {says}): {_ONE_PROCESS}")
    return value


def check_torchrun_env(environ: Mapping[str, str] = os.environ) -> dict[str, int | str]:
    """torchrun's variables, checked as a set: ``{}`` for one process (``WORLD_SIZE`` unset or 1), else ``world_size``,
    ``rank``, ``local_rank``, ``local_world_size``, ``master_addr``, ``master_port``; :class:`DistributedSetupError`
    naming the first variable that is missing, not a number, or out of range."""
    if "WORLD_SIZE" not in environ:
        return {}
    world_size = _whole(environ, "WORLD_SIZE", 1)
    if world_size == 1:
        return {}
    local_world_size = _whole(environ, "LOCAL_WORLD_SIZE", 1, world_size + 1, default=1)
    found = {"world_size": world_size, "rank": _whole(environ, "RANK", 0, world_size),
             "local_rank": _whole(environ, "LOCAL_RANK", 0, local_world_size, default=0),
             "local_world_size": local_world_size}
    address = environ.get("MASTER_ADDR", "").strip()
    if not address:
        raise DistributedSetupError(f"MASTER_ADDR is unset, and WORLD_SIZE={world_size} says this is one process of "
                                    f"several: {_ONE_PROCESS}")
    return {**found, "master_addr": address, "master_port": _whole(environ, "MASTER_PORT", 1, 65536)}


def rendezvous_timeout(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds to wait for the other ranks: ``$ZOO_RENDEZVOUS_TIMEOUT`` or 300."""
    text = environ.get(RENDEZVOUS_TIMEOUT_ENV, "").strip()
    if not text:
        return RENDEZVOUS_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 < value <= 7 * 24 * 3600):
        raise DistributedSetupError(f"{RENDEZVOUS_TIMEOUT_ENV}={text!r} is not a number of seconds from 0 to a week: "
                                    "set it to how long rank 0 may wait for the others, or unset it (300)")
    return value


def init_from_env(device_type: str, log: Callable[[str], None] | None = None) -> Ranks:
    """Join the process group if torchrun started this process (its variables checked first); otherwise a single
    rank. Waits at most :func:`rendezvous_timeout` for the other ranks, saying so to ``log``."""
    env = check_torchrun_env()
    if not env:
        return Ranks()
    timeout = rendezvous_timeout()
    local_rank = int(env["local_rank"])
    device = torch.device("cpu")
    if device_type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)  # before the process group: otherwise every rank's NCCL context is on GPU 0
    if not dist.is_initialized():
        where = f"{env['master_addr']}:{env['master_port']}"
        if log is not None:
            log(f"rank {env['rank']} of {env['world_size']}: joining the others at {where} (waiting up to "
                f"{timeout:g} s, ${RENDEZVOUS_TIMEOUT_ENV})")
        try:
            dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo",
                                    timeout=datetime.timedelta(seconds=timeout))
        except (RuntimeError, ValueError, OSError) as error:  # torch's DistStoreError and friends
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise DistributedSetupError(
                f"rank {env['rank']} of {env['world_size']} could not join the others at {where} within {timeout:g} s "
                f"({type(error).__name__}: {first_line[:200]}): {_ONE_PROCESS}") from None
    return Ranks(rank=dist.get_rank(), world_size=int(env["world_size"]), local_rank=local_rank,
                 local_world_size=int(env["local_world_size"]), device=device)


def shutdown(ranks: Ranks) -> None:
    """Leave the process group together. Without the barrier rank 1 left while rank 0 still scored and wrote the
    weights, and rank 0 then hung once, in native code, as its run ended (torch 2.13, gloo, 2 CPU ranks)."""
    if ranks.enabled and dist.is_initialized():
        ranks.barrier()
        dist.destroy_process_group()
