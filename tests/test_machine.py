"""The machine class: read from this CPU, limited by the kernel libraries' environment variables, and what follows."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo
from zoo.machine import KERNEL_ENV, machine_class, training_precision

from tests.support import zoo_commands

# Hides native bf16 from oneDNN on a CPU that has it: the other class this project meets, emulated.
WITHOUT_BF16 = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"}


def cpu_flags() -> set[str]:
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        pytest.skip("no /proc/cpuinfo to compare with (not Linux)")
    for line in path.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    pytest.skip("/proc/cpuinfo lists no flags")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without kernel limits (the suite may run under emulation), plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if k not in KERNEL_ENV}, **extra}


def class_in_subprocess(env: dict[str, str]) -> dict:
    code = "import json, torch, zoo; torch.set_num_threads(3); print(json.dumps(zoo.machine_class().to_dict()))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(**env), check=True)
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def native() -> dict:
    """This machine's class as a fresh interpreter with 3 threads and no kernel limits reads it."""
    return class_in_subprocess({})


def test_machine_class_reports_this_cpu(native):
    flags = cpu_flags()
    here = zoo.MachineClass(**native)
    assert here.native_bf16 == bool(flags & {"avx512_bf16", "amx_bf16"})
    assert here.vnni == bool(flags & {"avx512_vnni", "avx_vnni"})
    assert here.amx == ("amx_tile" in flags)
    assert here.capability == torch.backends.cpu.get_cpu_capability()
    assert here.threads == 3 and here.torch == torch.__version__ and here.cuda_device is None
    assert here.vendor and here.vendor in Path("/proc/cpuinfo").read_text()
    assert here.differences(here.to_dict()) == []
    assert set(here.key()) < set(here.to_dict()) and "cpu" not in here.key()


def test_onednn_isa_limit_emulates_a_cpu_without_native_bf16(native):
    if not native["native_bf16"]:
        pytest.skip("this CPU has no native bf16 to hide")
    emulated = class_in_subprocess(WITHOUT_BF16)
    # AMX (Intel's tiles, bf16 and int8) lies above the limit as well: hidden with native bf16 where the CPU has it
    assert emulated["native_bf16"] is False and emulated["vnni"] is True and emulated["amx"] is False
    assert emulated["kernel_env"] == WITHOUT_BF16
    hidden = ("native_bf16", "amx", "kernel_env")
    assert {k: v for k, v in emulated.items() if k not in hidden} == {k: v for k, v in native.items() if k not in hidden}
    differences = zoo.MachineClass(**emulated).differences(native)
    assert [d.split(":")[0] for d in differences] == [k for k in hidden if emulated[k] != native[k]]


def test_bf16_recipes_train_in_fp32_only_where_bf16_is_emulated():
    here = machine_class()
    assert training_precision("fp32", "cpu", here) == "fp32"
    assert training_precision("bf16", "cpu", here) == ("bf16" if here.native_bf16 else "fp32")
    assert training_precision("bf16", "cuda", here) == "bf16"


@pytest.mark.parametrize("env", [{}, WITHOUT_BF16], ids=["this machine", "bf16 hidden"])
def test_zoo_env_explains_the_machine(env, cli):
    # (oneDNN reads its ISA limit once, at start: hidden bf16 needs an interpreter of its own)
    runs = (zoo_commands(["env", "--json"], ["env"], env=env, unset=tuple(KERNEL_ENV)) if env
            else [cli("env", "--json"), cli("env")])
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    report, text = json.loads(runs[0].stdout), runs[1].stdout
    native = report["machine_class"]["native_bf16"]
    assert f"machine class: {zoo.MachineClass(**report['machine_class']).summary()}" in text
    for name, entry in report["models"].items():
        assert entry["training_precision"] == ("bf16" if native else "fp32")
        assert entry["fast_path"]["bf16"] == native
        assert entry["check"]["kind"] in ("bit-identity", "accuracy", None) and entry["check"]["reason"]
        assert f"{name}: trains in {entry['training_precision']}" in text
    if env:  # hidden bf16: another class than the records', so no bit-identity anywhere
        assert all(entry["check"]["kind"] != "bit-identity" for entry in report["models"].values())
    if not native:
        assert "bf16 is emulated here" in text


# An architecture registered before its recipe is chosen (CONTRIBUTING's step 1 without step 2 yet).
DRAFT_ARCHITECTURE = """
import torch.nn as nn
from zoo.models.registry import register_model

@register_model("A draft with no recipe yet.")
def draft_net(num_classes: int = 10) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.LazyLinear(num_classes))
"""


def test_zoo_env_reports_an_architecture_that_has_no_recipe_yet():
    report, text = zoo_commands(["env", "--json"], ["env"], setup=DRAFT_ARCHITECTURE, unset=tuple(KERNEL_ENV))
    assert report.returncode == 0 and text.returncode == 0, report.stderr + text.stderr
    draft = json.loads(report.stdout)["models"]["draft_net"]
    assert draft["training_precision"] is None and draft["check"]["kind"] is None
    assert "draft_net: no training recipe yet" in text.stdout
    assert "lenet: trains in" in text.stdout  # the others are still reported
