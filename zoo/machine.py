"""What machine is this: the facts that choose torch's kernels, and so the bytes a training run writes.

The one module that reads ``/proc/cpuinfo`` and torch's capability strings. Two machines of the same *class*
(equal :meth:`MachineClass.key`) run the same kernels in the same order, so a recipe gives them the same bytes;
across classes the bytes differ (measured: an AMD EPYC with native bf16 against an Intel Xeon without it) and a
run can only be compared by its accuracy.

Kernel libraries can be told to use less of the CPU than it has — oneDNN's ``ONEDNN_MAX_CPU_ISA``, ATen's
``ATEN_CPU_CAPABILITY``, MKL's ``MKL_CBWR`` / ``MKL_ENABLE_INSTRUCTIONS`` — which is how the test suite emulates
the other class (``ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI`` hides bf16 on a CPU that has it). The class reported
here is the *effective* one, after those limits.
"""
from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from .errors import check_device

# oneDNN's ISA names, weakest first (ONEDNN_MAX_CPU_ISA takes one of them; later names include the earlier ones).
ONEDNN_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
               "AVX512_CORE_BF16", "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512",
               "AVX10_2_512_AMX_2")
ONEDNN_ALIASES = {"AVX512_CORE_FP16": "AVX10_1_512", "AVX512_CORE_AMX": "AVX10_1_512_AMX",
                  "AVX512_CORE_AMX_FP16": "AVX10_1_512_AMX_FP16"}
# Environment variables that change which kernels run (and so the bytes): part of the class when set.
KERNEL_ENV = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS")
# What decides the bytes. The CPU's name, family and cache sizes are recorded beside it, not compared: an AMD
# family 26 machine reproduced the files published from an "AMD EPYC" whose family was not recorded.
KEY_FIELDS = ("arch", "vendor", "capability", "native_bf16", "vnni", "amx", "kernel_env", "threads", "torch",
              "cuda_device")
# On a GPU the weights are computed on the GPU; the CPU only shuffles and crops (integer gathers) and normalises
# (one exactly rounded subtraction and division per pixel), which give the same bytes on every CPU.
GPU_KEY_FIELDS = ("arch", "torch", "cuda_device")


@dataclass(frozen=True)
class MachineClass:
    """The machine facts that select kernels. ``key()`` is what two runs must share to give equal bytes."""

    arch: str  # "x86_64", "aarch64", …
    vendor: str  # "AuthenticAMD", "GenuineIntel", … ("" when unknown)
    cpu: str  # model name, family/model/stepping where the OS tells them (information, not compared)
    capability: str  # torch.backends.cpu.get_cpu_capability(): "AVX512", "AVX2", "DEFAULT", …
    native_bf16: bool  # bf16 dot products in hardware (avx512_bf16 / amx_bf16) that oneDNN may use
    vnni: bool  # int8 dot products (avx512_vnni / avx_vnni)
    amx: bool  # Intel AMX tiles
    threads: int
    torch: str
    cuda_device: str | None = None  # name, CUDA and cuDNN versions of the GPU a run uses
    kernel_env: dict[str, str] = field(default_factory=dict)

    def key(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (GPU_KEY_FIELDS if self.cuda_device else KEY_FIELDS)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def differences(self, recorded: dict[str, Any]) -> list[str]:
        """The key fields in which ``recorded`` (a ``to_dict()`` from a record) differs from this machine."""
        # A GPU on either side: the GPU fields decide (a CPU machine differs from a GPU record in cuda_device).
        names = GPU_KEY_FIELDS if self.cuda_device or recorded.get("cuda_device") else KEY_FIELDS
        return [f"{name}: {recorded.get(name)!r} there, {getattr(self, name)!r} here" for name in names
                if recorded.get(name) != getattr(self, name)]

    def summary(self) -> str:
        features = ", ".join(f"{'' if on else 'no '}{name}" for name, on in
                             (("native bf16", self.native_bf16), ("VNNI", self.vnni), ("AMX", self.amx)))
        limits = "".join(f", {k}={v}" for k, v in self.kernel_env.items())
        device = f", GPU {self.cuda_device}" if self.cuda_device else ""
        return (f"{self.cpu} [{self.vendor or 'unknown vendor'}, {self.arch}], kernels {self.capability} ({features})"
                f"{limits}; {self.threads} threads; torch {self.torch}{device}")


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none: macOS, Windows)."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.split("\n\n", 1)[0].splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


def _onednn_allows(needed: str) -> bool:
    """Whether ONEDNN_MAX_CPU_ISA (if set) lets oneDNN use ISA ``needed``."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    cap = ONEDNN_ALIASES.get(cap, cap)
    if not cap or cap in ("ALL", "DEFAULT") or cap not in ONEDNN_ISAS:
        return True
    return ONEDNN_ISAS.index(cap) >= ONEDNN_ISAS.index(needed)


def _cuda_device(device: str | torch.device | None) -> str | None:
    """The accelerator a run computes on, which then decides its bytes: a CUDA GPU, or Apple's MPS (its own class:
    Metal kernels, not the CPU's). The record's field keeps its first name, ``cuda_device``."""
    device = check_device(device) if device is not None else None  # DeviceError for a name torch does not know
    if device is None or device.type not in ("cuda", "mps"):
        return None
    if device.type == "mps":
        return f"MPS, {platform.processor() or platform.machine()}, macOS {platform.mac_ver()[0] or '?'}"
    return (f"{torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, "
            f"cuDNN {torch.backends.cudnn.version()}")


# torch's own CPU probes, for systems without /proc/cpuinfo.
TORCH_PROBES = {"avx512_bf16": "_is_avx512_bf16_supported", "avx512_vnni": "_is_vnni_supported",
                "amx_tile": "_is_amx_tile_supported"}


@lru_cache(maxsize=None)
def _cpu_facts() -> tuple[str, str, bool, bool, bool]:
    """Vendor, name, and the effective native bf16 / VNNI / AMX of this CPU."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    if not flags:
        flags = {flag for flag, probe in TORCH_PROBES.items() if getattr(torch.cpu, probe, lambda: False)()}
    name = info.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in info:
        name += f" (family {info['cpu family']} model {info.get('model', '?')} stepping {info.get('stepping', '?')})"
    native_bf16 = bool(flags & {"avx512_bf16", "amx_bf16"}) and _onednn_allows("AVX512_CORE_BF16")
    vnni = ("avx512_vnni" in flags and _onednn_allows("AVX512_CORE_VNNI")) or (
        "avx_vnni" in flags and _onednn_allows("AVX2_VNNI"))
    amx = "amx_tile" in flags and _onednn_allows("AVX10_1_512_AMX")
    return info.get("vendor_id", ""), name, native_bf16, vnni, amx


def machine_class(device: str | torch.device | None = None, threads: int | None = None) -> MachineClass:
    """This machine's class, as it runs now (kernel-limiting environment variables applied).

    ``device``: the device a run uses (a CUDA device adds its name); ``threads``: the thread count the run will
    use (default: torch's current one).
    """
    vendor, cpu, native_bf16, vnni, amx = _cpu_facts()
    return MachineClass(
        arch=platform.machine(), vendor=vendor, cpu=cpu, capability=torch.backends.cpu.get_cpu_capability(),
        native_bf16=native_bf16, vnni=vnni, amx=amx, threads=threads or torch.get_num_threads(),
        torch=str(torch.__version__), cuda_device=_cuda_device(device),
        kernel_env={k: os.environ[k] for k in KERNEL_ENV if os.environ.get(k)})


def training_precision(recipe_precision: str, device: str | torch.device = "cpu",
                       here: MachineClass | None = None) -> str:
    """The precision a recipe trains in on this machine: its own, except bf16 on a CPU that only emulates it
    (measured on such a CPU: bf16 2–5× slower than fp32), where fp32 is the faster and the more exact choice."""
    if recipe_precision != "bf16" or torch.device(device).type != "cpu":
        return recipe_precision
    here = here or machine_class()
    return "bf16" if here.native_bf16 else "fp32"


COMPILE_SCRATCH_BYTES = 1 << 20  # room the compiler's temporary files need, at least (one small kernel's)


def missing_cpp_compiler() -> str | None:
    """Why torch inductor could not build C++ kernels here — no compiler found, or no room for the compiler's
    temporary files in ``$TMPDIR`` (g++ writes them there; a full one failed deep inside inductor) — or ``None``."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        get_cpp_compiler()
    except Exception as error:  # inductor raises different errors across versions when no compiler is found
        return f"no C++ compiler was found ({type(error).__name__}: {error})"
    scratch = os.environ.get("TMPDIR")
    if scratch:
        import tempfile

        try:
            with tempfile.TemporaryFile(dir=scratch) as probe:
                probe.write(b"\0" * COMPILE_SCRATCH_BYTES)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as error:
            return (f"the compiler's temporary files go to TMPDIR={scratch}, which cannot take them "
                    f"({error.strerror or error}): free space there or point TMPDIR at another folder")
    return None
