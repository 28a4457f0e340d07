"""The seed runs of a recipe, summarised from their run folders: per seed, the final single-crop and
test-time-augmented top-1, the training time, the machine classes that trained it; and their mean and spread.

    python -m benchmarks.investigations.seed_runs NAME RUN_DIR... [--out FILE.json]

Each RUN_DIR is a finished ``python -m zoo.train NAME --seed S --output-dir RUN_DIR`` run; its ``result.json`` (what
a finished run leaves, and all that is kept of a seed trained across sessions) is read. Nothing is trained or scored
again.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from zoo.annotate import read_result
from zoo.machine import MachineClass


def run_summary(name: str, run_dir: Path) -> dict:
    try:
        result = read_result(run_dir)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    if result["model"] != name:
        raise SystemExit(f"{run_dir}: a run of {result['model']}, not of {name}")
    machines = [f"epochs {entry['epochs'][0]}-{entry['epochs'][1]}: {MachineClass(**entry['machine_class']).summary()}"
                for entry in result["trained_on"]]
    summary = {"seed": result["recipe"]["seed"], "top1": result["top1"]}
    if result["tta_top1"] is not None:
        summary[f"top1_{result['tta'].replace('-', '')}_tta"] = result["tta_top1"]
    return {**summary, "train_s": round(result["train_s"], 1), "sha256": result["sha256"],
            "machine": "; ".join(machines)}


def spread(values: list[float]) -> dict:
    return {"mean": round(statistics.fmean(values), 5), "std": round(statistics.stdev(values), 5),
            "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = sorted((run_summary(args.name, d) for d in args.run_dirs), key=lambda r: r["seed"])
    result = {"model": args.name, "command": f"python -m zoo.train {args.name} --seed S", "runs": runs,
              "top1": spread([r["top1"] for r in runs]), "train_s": spread([r["train_s"] for r in runs])}
    tta = next((key for key in runs[0] if key.endswith("_tta")), None)
    if tta is not None and all(tta in r for r in runs):
        result[tta] = spread([r[tta] for r in runs])
    text = json.dumps(result, indent=2) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
