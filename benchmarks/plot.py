"""Plot inference throughput per model (reference vs zoo vs fast path) from benchmarks/run.py's JSON.

    python -m benchmarks.plot benchmarks/results.json benchmarks/throughput.png      # needs matplotlib
"""
from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(results_path: str, png_path: str) -> None:
    results = json.load(open(results_path))
    names = list(results["models"])
    contestants = ["reference", "zoo", "fast"]
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.27
    for offset, label in enumerate(contestants):
        # a model with no tutorial class has no reference bar
        values = [results["models"][n]["inference"].get(label, {}).get("batch256_img_s", 0) for n in names]
        bars = axes.bar([i + (offset - 1) * width for i in range(len(names))], values, width, label=label)
        axes.bar_label(bars, [f"{v:,.0f}" if v else "" for v in values], fontsize=7)
    axes.set_xticks(range(len(names)), names)
    axes.set_yscale("log")
    axes.set_ylabel("images/s at batch 256 (log scale)")
    machine = results.get("machine_class", {})
    bf16 = {True: ", native bf16", False: ", no native bf16"}.get(machine.get("native_bf16"), "")
    limits = "".join(f", {k}={v}" for k, v in machine.get("kernel_env", {}).items())
    axes.set_title(f"CPU inference, {machine.get('vendor', '')}{bf16}{limits}\n{results['machine']['threads']} threads, "
                   f"torch {results['machine']['torch']}", fontsize=9)
    axes.legend()
    figure.tight_layout()
    figure.savefig(png_path, dpi=100, metadata={"Software": None})


if __name__ == "__main__":
    main(*sys.argv[1:3])
