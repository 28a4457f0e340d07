"""Recipe search: train several candidate recipes side by side and rank them on held-out training images.

Each candidate is ``LABEL=ARGS``, the recipe overrides of ``python -m zoo.train`` (e.g. ``e80-c16=--epochs 80
--cutout 16``). Every run uses ``--holdout N``: it trains on all but the last N training images and is scored on
those, so the ranking never looks at the test set. Runs go ``--parallel`` at a time (a GPU has room for several
VGG-16 runs at batch 128; on a CPU use 1), each logging to ``OUT/LABEL.log`` with its checkpoint in ``OUT/LABEL/``;
``OUT/summary.json`` gets the ranking, refreshed as runs finish. ``--summarize`` only rewrites the summary.

    python -m benchmarks.investigations.recipe_search vgg16_cifar10 --device cuda --parallel 4 --out runs/search \\
        "e80-c8=--epochs 80" "e80-c16=--epochs 80 --cutout 16"
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path


def parse_candidate(text: str) -> tuple[str, list[str]]:
    label, _, overrides = text.partition("=")
    if not label or not label.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise SystemExit(f"error: candidate {text!r} is not LABEL=OVERRIDES with a label of letters, digits, -_.")
    return label, shlex.split(overrides)


def summarize(out: Path, candidates: dict[str, list[str]]) -> list[dict]:
    """One row per candidate: its overrides, epochs done, last and best held-out top-1, best epoch."""
    rows = []
    for label, overrides in candidates.items():
        history_file = out / label / "history.json"
        log = out / f"{label}.log"
        history = json.loads(history_file.read_text()) if history_file.is_file() else [
            json.loads(line) for line in (log.read_text().splitlines() if log.is_file() else [])
            if line.startswith("{")]
        curve = [h["test_top1"] for h in history]
        rows.append({"label": label, "overrides": " ".join(overrides), "epochs_done": len(history),
                     "holdout_top1_last": curve[-1] if curve else None,
                     "holdout_top1_best": max(curve) if curve else None,
                     "best_epoch": curve.index(max(curve)) + 1 if curve else None,
                     "train_acc_last": history[-1]["train_acc"] if history else None,
                     "epoch_s_median": sorted(h["epoch_s"] for h in history)[len(history) // 2] if history else None,
                     "curve": curve})
    rows.sort(key=lambda r: -(r["holdout_top1_last"] or 0))
    (out / "summary.json").write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("candidates", nargs="+", metavar="LABEL=OVERRIDES")
    parser.add_argument("--out", type=Path, default=Path("runs/search"))
    parser.add_argument("--holdout", type=int, default=5000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--summarize", action="store_true", help="only rewrite OUT/summary.json from the logs")
    args = parser.parse_args(argv)
    candidates = dict(parse_candidate(c) for c in args.candidates)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.summarize:
        pending, running = list(candidates.items()), []
        while pending or running:
            running = [p for p in running if p.poll() is None]
            while pending and len(running) < args.parallel:
                label, overrides = pending.pop(0)
                command = [sys.executable, "-m", "zoo.train", args.model, *overrides, "--holdout", str(args.holdout),
                           "--device", args.device, "--no-progress", "--resume", "--output-dir", str(args.out / label)]
                log = open(args.out / f"{label}.log", "a")
                log.write(f"# {shlex.join(command)}\n")
                log.flush()
                running.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
            time.sleep(5)
            summarize(args.out, candidates)
    for row in summarize(args.out, candidates):
        print(f"{row['label']:<16} {row['epochs_done']:>4} epochs  last {row['holdout_top1_last']}  "
              f"best {row['holdout_top1_best']} (epoch {row['best_epoch']})  {row['overrides']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
