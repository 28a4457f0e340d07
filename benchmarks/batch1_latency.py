"""Batch-1 latency of one model's fast path with each of its options, beside the plain model.

    python benchmarks/batch1_latency.py [--model lenet] [--repeat 500]

Says which part of ``zoo.prepare_for_cpu_inference`` pays for single images (medians, contestants taking turns).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import plain, timed  # noqa: E402

import zoo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet", choices=zoo.list_models())
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(2)
    pretrained = lambda: zoo.get_model(args.model, pretrained=True)  # noqa: E731 — a fresh copy per contestant
    contestants = {
        "plain (no_grad, fp32, NCHW)": plain(pretrained().eval()),
        "fast": zoo.prepare_for_cpu_inference(pretrained()),
        "fast, bf16=False": zoo.prepare_for_cpu_inference(pretrained(), bf16=False),
        "fast, compile=False": zoo.prepare_for_cpu_inference(pretrained(), compile=False),
    }
    times = timed(contestants, torch.randn(1, 3, 32, 32), args.repeat)
    for label, seconds in times.items():
        print(f"{args.model} batch 1, {label:<28} {statistics.median(seconds) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
