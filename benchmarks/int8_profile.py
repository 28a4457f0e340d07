"""Where a batch of 256 goes in zoo's int8 model, against OpenVINO's NNCF int8 (issue 22: what bounds batch 256).

    python benchmarks/int8_profile.py [--models lenet …] [--out benchmarks/int8_profile.json]

Per published model, on 256 normalised test images, ``torch.utils.benchmark.Timer`` medians (2 threads) of
  int8           — ``zoo.quantized_model`` as a user calls it (NCHW input);
  int8_cl        — the same model given a channels_last batch (the layout oneDNN's int8 convolutions compute in);
  openvino_int8  — NNCF int8 in OpenVINO's CPU plugin (``benchmarks/peers.py``'s contestant: the same calibration
                   images, float leftovers in bf16 where the CPU has it natively);
each as images/s and as achieved multiply-adds/s (``torch.utils.flop_counter`` on the float model: the convolutions
and linear layers, the work either runtime cannot skip); and the torch profiler's operator table of zoo's int8 call,
which names the kernels that hold the time.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from batch1_profile import median_us  # noqa: E402
from peers import peer_builders  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_cifar10, normalize  # noqa: E402
from zoo.int8 import calibration_images  # noqa: E402

BATCH = 256


def multiply_adds_per_image(model: torch.nn.Module) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    return counter.get_total_flops() / 2


def profile(name: str, images: torch.Tensor, calibration: torch.Tensor, workdir: Path) -> dict:
    model = zoo.get_model(name, pretrained=True).eval()
    int8 = zoo.quantized_model(name)
    channels_last = images.contiguous(memory_format=torch.channels_last)
    builders, missing = peer_builders(name, model, calibration, workdir)
    runners = {"int8": lambda: int8(images), "int8_cl": lambda: int8(channels_last)}
    if "openvino_int8" in builders:
        openvino = builders["openvino_int8"](BATCH)
        runners["openvino_int8"] = lambda: openvino(images)
    for run in runners.values():
        for _ in range(3):
            run()  # compiles, warms
    macs = multiply_adds_per_image(model)
    times = {label: median_us(run, min_run_time=3.0) for label, run in runners.items()}
    with torch.profiler.profile() as profiler:
        for _ in range(10):
            runners["int8"]()
    return {
        "multiply_adds_per_image": macs,
        "img_s": {label: round(BATCH / (us * 1e-6), 1) for label, us in times.items()},
        "gmac_s": {label: round(BATCH * macs / (us * 1e-6) / 1e9, 1) for label, us in times.items()},
        "missing": {label: why for label, why in missing.items() if label == "openvino_int8"},
        "profile": profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=zoo.list_models(pretrained=True),
                        choices=zoo.list_models(pretrained=True))
    parser.add_argument("--data-dir", help="CIFAR-10 root (default: $ZOO_DATA_DIR or the per-user cache)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(zoo.machine_class().summary())
    images = normalize(load_cifar10(args.data_dir, train=False).images[:BATCH], channels_last=False)
    calibration = calibration_images(args.data_dir)
    results = {"machine_class": zoo.machine_class().to_dict(), "batch": BATCH, "models": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            result = results["models"][name] = profile(name, images, calibration, Path(workdir))
            print(f"{name}: {result['multiply_adds_per_image'] / 1e6:.1f} M multiply-adds per image; "
                  + ", ".join(f"{label} {result['img_s'][label]:,.0f} img/s ({result['gmac_s'][label]} GMAC/s)"
                              for label in result["img_s"]))
            print(result["profile"])
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
