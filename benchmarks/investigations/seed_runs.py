"""The seed runs of a recipe, summarised from their run folders: per seed, the final single-crop and multi-crop-TTA
top-1 (as ``zoo train`` printed them), the training time, the machine class; and their mean and spread.

    python -m benchmarks.investigations.seed_runs NAME RUN_DIR... [--out FILE.json]

Each RUN_DIR is a finished ``python -m zoo.train NAME --seed S --output-dir RUN_DIR`` run, with its log beside it
(``RUN_DIR.log``: the command's output). Nothing is trained or scored again.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path


from zoo.checkpoint import load_checkpoint
from zoo.machine import MachineClass

FINAL = re.compile(r": top-1 (?P<top1>[0-9.]+) on 10000 test images, (?P<seconds>[0-9]+) s training, sha256 (?P<sha>\w+)")
TTA = re.compile(r"top-1 with multi-crop test-time augmentation: (?P<tta>[0-9.]+)")


def run_summary(name: str, run_dir: Path) -> dict:
    state = load_checkpoint(run_dir / "checkpoint.pt")
    if state["recipe"]["model"] != name or state["epoch"] != state["recipe"]["epochs"]:
        raise SystemExit(f"{run_dir}: not a finished run of {name}")
    log = Path(f"{run_dir}.log").read_text(encoding="utf-8")
    final, tta = FINAL.search(log), TTA.search(log)
    if final is None:
        raise SystemExit(f"{run_dir}.log: no final line (a run that did not finish?)")
    return {"seed": state["recipe"]["seed"], "top1": float(final["top1"]),
            "top1_multicrop_tta": float(tta["tta"]) if tta else None, "train_s": round(state["elapsed_s"], 1),
            "sha256": final["sha"], "machine": MachineClass(**state["machine_class"]).summary(),
            "epoch_s": [h["epoch_s"] for h in state["history"]]}


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
    if all(r["top1_multicrop_tta"] is not None for r in runs):
        result["top1_multicrop_tta"] = spread([r["top1_multicrop_tta"] for r in runs])
    text = json.dumps(result, indent=2) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
