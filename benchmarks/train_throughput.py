"""Training throughput per model, beside this CPU's measured matmul peak: how much of the machine a training step
uses, zoo's step against the tutorial's.

    python -m benchmarks.train_throughput [--models NAME…] [--rounds 5] [--out FILE.json]

Per model, one training step (forward, backward, SGD with momentum) on a fixed batch of the recipe's size, as
  tutorial — the PyTorch tutorial's loop: fp32, NCHW;
  zoo      — as ``zoo.train`` runs it here: the recipe's precision (bf16 autocast where the CPU has native bf16,
             fp32 where it would be emulated), channels_last;
the two taking turns (each turn ~2 s of steps, after two untimed steps), so that a change in machine load hits
both. The training FLOP per image (forward + backward) comes from torch's FlopCounterMode; GFLOP/s = images/s ×
FLOP per image; the peak is the median of a 2048×2048 matmul in the training precision (MKL's: oneDNN's
convolutions can beat it). The step alone: the data path (augmentation, the loader) is not in it — see
benchmarks/investigations/train_step.py for that split. Uses 2 threads, as the published runs do; nothing else may run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch


from zoo.machine import machine_class, training_precision
from zoo.models import ARCHITECTURES, build_model
from zoo.recipes import RECIPES

PEAK_SIZE = 2048
TURN_S = 2.0


def matmul_gflop_s(dtype: torch.dtype, rounds: int) -> float:
    a, b = torch.randn(PEAK_SIZE, PEAK_SIZE, dtype=dtype), torch.randn(PEAK_SIZE, PEAK_SIZE, dtype=dtype)
    for _ in range(3):
        a @ b
    seconds = []
    for _ in range(rounds * 5):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return 2 * PEAK_SIZE ** 3 / statistics.median(seconds) / 1e9


def train_flop_per_image(name: str) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(name).train()
    x = torch.randn(8, 3, 32, 32)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / len(x)


def make_step(name: str, batch: int, precision: str, channels_last: bool):
    """One training step of a fresh model on a fixed random batch (same seed for both contestants)."""
    torch.manual_seed(0)
    model = build_model(name).train()
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def measure(name: str, rounds: int, precision: str) -> dict:
    batch = RECIPES[name].batch_size if name in RECIPES else 256
    steps = {"tutorial": make_step(name, batch, "fp32", channels_last=False),
             "zoo": make_step(name, batch, precision, channels_last=True)}
    per_turn = {}
    for label, step in steps.items():  # warm-up, and how many steps fill a turn
        step()
        start = time.perf_counter()
        step()
        per_turn[label] = max(1, round(TURN_S / (time.perf_counter() - start)))
    img_s: dict[str, list[float]] = {label: [] for label in steps}
    for _ in range(rounds):
        for label, step in steps.items():
            step()
            step()  # untimed: the other contestant's threads go idle
            start = time.perf_counter()
            for _ in range(per_turn[label]):
                step()
            img_s[label].append(batch * per_turn[label] / (time.perf_counter() - start))
    flop = train_flop_per_image(name)
    result = {"batch": batch, "precision": precision, "train_flop_per_image": flop}
    for label, values in img_s.items():
        result[label] = {"img_s": round(statistics.median(values), 1), "img_s_range": [round(min(values), 1),
                                                                                        round(max(values), 1)],
                         "gflop_s": round(statistics.median(values) * flop / 1e9, 1)}
    result["zoo_over_tutorial"] = round(result["zoo"]["img_s"] / result["tutorial"]["img_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=sorted(ARCHITECTURES), choices=sorted(ARCHITECTURES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    here = machine_class(threads=2)
    precision = training_precision("bf16", "cpu", here)
    peaks = {"fp32": matmul_gflop_s(torch.float32, args.rounds)}
    if precision == "bf16":
        peaks["bf16"] = matmul_gflop_s(torch.bfloat16, args.rounds)
    results = {"machine": here.summary(), "machine_class": here.to_dict(), "torch": torch.__version__,
               "peak_gflop_s": {k: round(v, 1) for k, v in peaks.items()}, "models": {}}
    print(f"{here.summary()}\nmatmul peak: " + ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in peaks.items()))
    print(f"{'model':<20} {'batch':>5} {'GFLOP/img':>9} {'tutorial img/s':>15} {'zoo img/s':>10} {'zoo/tut':>7} "
          f"{'zoo GFLOP/s':>11} {'of ' + precision + ' peak':>12} {'tutorial of fp32 peak':>22}")
    for name in args.models:
        result = measure(name, args.rounds, precision)
        result["zoo"]["peak_fraction"] = round(result["zoo"]["gflop_s"] / peaks[precision], 3)
        result["tutorial"]["peak_fraction"] = round(result["tutorial"]["gflop_s"] / peaks["fp32"], 3)
        results["models"][name] = result
        print(f"{name:<20} {result['batch']:>5} {result['train_flop_per_image'] / 1e9:>9.3f} "
              f"{result['tutorial']['img_s']:>15,.0f} {result['zoo']['img_s']:>10,.0f} "
              f"{result['zoo_over_tutorial']:>7.2f} {result['zoo']['gflop_s']:>11,.0f} "
              f"{result['zoo']['peak_fraction']:>12.1%} {result['tutorial']['peak_fraction']:>22.1%}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
