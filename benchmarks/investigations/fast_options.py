"""Each option of the fast CPU inference path against the plain model, at batch 256 and batch 1, on this machine.

    python -m benchmarks.investigations.fast_options [--models lenet cifar_quick vgg16_cifar10] [--repeat 20] [--out FILE.json]

Speed-ups over the plain model (fp32, NCHW, ``no_grad``), medians with the contestants taking turns. This is the
measurement behind the choices ``zoo.prepare_for_cpu_inference`` makes per machine class (zoo/fast.py); run it
with ``ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI`` to see a CPU without native bf16 emulated on one that has it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch


from benchmarks.run import plain, timed, warm_up_compiler

import zoo
from zoo.fast import FastCPUInference

OPTIONS = {  # label: FastCPUInference options
    "bf16 at every batch size, channels_last": dict(bf16=True, channels_last=True, bf16_min_batch=1),
    "bf16, channels_last": dict(bf16=True, channels_last=True),
    "fp32, channels_last": dict(bf16=False, channels_last=True),
    "fp32, NCHW": dict(bf16=False, channels_last=False),
    "fp32, NCHW, no compile": dict(bf16=False, channels_last=False, compile=False),
}


def measure(name: str, repeat: int) -> dict[str, dict[str, float]]:
    pretrained = lambda: zoo.get_model(name, pretrained=name in zoo.list_models(pretrained=True))  # noqa: E731
    auto = zoo.prepare_for_cpu_inference(pretrained())
    contestants = {"plain": plain(pretrained().eval()), f"auto ({auto.extra_repr()})": auto}
    contestants.update({label: FastCPUInference(pretrained(), **options) for label, options in OPTIONS.items()})
    result = {}
    for batch, turns in ((256, repeat), (1, 10 * repeat)):
        times = timed(contestants, torch.randn(batch, 3, 32, 32), turns)
        base = statistics.median(times["plain"])
        result[f"batch{batch}"] = {label: round(base / statistics.median(t), 3) for label, t in times.items()}
        result[f"batch{batch}"]["plain_ms"] = round(base * 1000, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=zoo.list_models(), choices=zoo.list_models())
    parser.add_argument("--repeat", type=int, default=20, help="turns at batch 256 (ten times as many at batch 1)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(2)
    warm_up_compiler()
    results = {"machine_class": zoo.machine_class().to_dict(), "models": {}}
    print(zoo.machine_class().summary())
    for name in args.models:
        results["models"][name] = measure(name, args.repeat)
        for batch, row in results["models"][name].items():
            cells = "  ".join(f"{label} {v:.2f}x" for label, v in row.items() if label not in ("plain", "plain_ms"))
            print(f"{name} {batch} (plain {row['plain_ms']:.3f} ms): {cells}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
