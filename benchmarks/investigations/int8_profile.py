"""Where a batch goes in zoo's int8 model, against OpenVINO's NNCF int8 (issue 22: what bounds int8 against it).

    python -m benchmarks.investigations.int8_profile [--models lenet …] [--batch 256] [--out benchmarks/investigations/int8_profile.json]

Per published model, on a batch of normalised test images (256 unless ``--batch``), ``torch.utils.benchmark.Timer``
medians (2 threads) of
  int8           — ``zoo.quantized_model`` as a user calls it (NCHW input);
  int8_cl        — the same model given a channels_last batch (the layout oneDNN's int8 convolutions compute in);
  openvino_int8  — NNCF int8 in OpenVINO's CPU plugin (``benchmarks/peers.py``'s contestant: the same calibration
                   images, float leftovers in bf16 where the CPU has it natively);
each as images/s and as achieved multiply-adds/s (``torch.utils.flop_counter`` on the float model: the convolutions
and linear layers, the work either runtime cannot skip), beside the ceiling: the throughput on both cores of the
instructions oneDNN's int8 convolutions use here — VPDPBUSD with VNNI, VPMADDUBSW + VPMADDWD + VPADDD on AVX2 without
(``benchmarks/investigations/int8_peak.cpp``, built with the C++ compiler the int8 model needs anyway). This machine's speed moves
by ±20 % from one minute to the next, so the contestants and the ceiling take ``ROUNDS`` turns and every figure is a
median over the turns. Then the torch profiler's operator table of zoo's int8 call, which names the kernels that
hold the time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

HERE = Path(__file__).resolve().parent

from benchmarks.investigations.batch1_profile import median_us
from benchmarks.peers import peer_builders

import zoo
from zoo.data import load_cifar10, normalize
from zoo.int8 import calibration_images

ROUNDS = 5
THREADS = 2


def multiply_adds_per_image(model: torch.nn.Module) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    return counter.get_total_flops() / 2


PEAK_INSTRUCTIONS = {True: ("VPDPBUSD (AVX-512 VNNI)", ["-mavx512f", "-mavx512bw", "-mavx512vnni"]),
                     False: ("VPMADDUBSW + VPMADDWD + VPADDD (AVX2)", ["-mavx2"])}


def int8_peak(workdir: Path, vnni: bool) -> Callable[[], float] | str:
    """A callable giving this CPU's int8 multiply-add rate on both threads (G/s), with VNNI's instruction where the
    machine class has it (``ONEDNN_MAX_CPU_ISA`` included, as oneDNN reads it), else AVX2's; or why there is none."""
    binary = workdir / "int8_peak"
    compiler = os.environ.get("CXX", "g++")
    try:
        subprocess.run([compiler, "-O3", *PEAK_INSTRUCTIONS[vnni][1], "-pthread", str(HERE / "int8_peak.cpp"),
                        "-o", str(binary)], check=True, capture_output=True, text=True)
        subprocess.run([str(binary), "1", "1000"], check=True, capture_output=True)  # the CPU may lack them
    except (OSError, subprocess.CalledProcessError) as error:
        return f"no int8 ceiling: {error}"
    return lambda: float(subprocess.run([str(binary), str(THREADS)], check=True, capture_output=True,
                                        text=True).stdout)


def profile(name: str, images: torch.Tensor, calibration: torch.Tensor, workdir: Path,
            peak: Callable[[], float] | str) -> dict:
    model = zoo.get_model(name, pretrained=True).eval()
    int8 = zoo.quantized_model(name)
    channels_last = images.contiguous(memory_format=torch.channels_last)
    builders, missing = peer_builders(name, model, calibration, workdir)
    runners = {"int8": lambda: int8(images), "int8_cl": lambda: int8(channels_last)}
    if "openvino_int8" in builders:
        openvino = builders["openvino_int8"](len(images))
        runners["openvino_int8"] = lambda: openvino(images)
    for run in runners.values():
        for _ in range(3):
            run()  # compiles, warms
    macs = multiply_adds_per_image(model)
    turns: dict[str, list[float]] = {label: [] for label in runners}
    peaks = []
    for _ in range(ROUNDS):
        if callable(peak):
            peaks.append(peak())
        for label, run in runners.items():
            turns[label].append(median_us(run, min_run_time=0.6))
    us = {label: statistics.median(times) for label, times in turns.items()}
    batch = len(images)
    gmac_s = {label: round(batch * macs / (t * 1e-6) / 1e9, 1) for label, t in us.items()}
    with torch.profiler.profile() as profiler:
        for _ in range(10):
            runners["int8"]()
    result = {
        "multiply_adds_per_image": macs,
        "img_s": {label: round(batch / (t * 1e-6), 1) for label, t in us.items()},
        "gmac_s": gmac_s,
        "img_s_turns": {label: [round(batch / (t * 1e-6), 1) for t in times] for label, times in turns.items()},
        "missing": {label: why for label, why in missing.items() if label == "openvino_int8"},
        "profile": profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12),
    }
    if peaks:
        result["int8_peak_gmac_s_turns"] = peaks
        result["share_of_int8_peak"] = {label: round(rate / statistics.median(peaks), 3) for label, rate in gmac_s.items()}
    else:
        result["missing"]["int8_peak"] = peak
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=zoo.list_models(pretrained=True),
                        choices=zoo.list_models(pretrained=True))
    parser.add_argument("--data-dir", help="CIFAR-10 root (default: $ZOO_DATA_DIR or the per-user cache)")
    parser.add_argument("--batch", type=int, default=256, help="images per call (default 256; 1 for latency)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    here = zoo.machine_class()
    print(here.summary())
    images = normalize(load_cifar10(args.data_dir, train=False).images[:args.batch], channels_last=False)
    calibration = calibration_images(args.data_dir)
    results = {"machine_class": here.to_dict(), "batch": args.batch, "rounds": ROUNDS,
               "int8_peak_instructions": PEAK_INSTRUCTIONS[here.vnni][0], "models": {}}
    with tempfile.TemporaryDirectory() as workdir:
        peak = int8_peak(Path(workdir), here.vnni)
        for name in args.models:
            result = results["models"][name] = profile(name, images, calibration, Path(workdir), peak)
            shares = result.get("share_of_int8_peak", {})
            print(f"{name}: {result['multiply_adds_per_image'] / 1e6:.1f} M multiply-adds per image; "
                  + ", ".join(f"{label} {result['img_s'][label]:,.0f} img/s ({result['gmac_s'][label]} GMAC/s"
                              + (f", {shares[label]:.0%} of the int8 peak)" if label in shares else ")")
                              for label in result["img_s"])
                  + (f"; peak {statistics.median(result['int8_peak_gmac_s_turns']):.0f} GMAC/s" if shares else ""))
            print(result["profile"])
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
