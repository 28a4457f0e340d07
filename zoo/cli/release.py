"""zoo release — maintainers: turn a finished training run into a published model, every step in order.

    zoo release NAME RUN_DIR [--seed-runs DIR…]

The steps: record (weights/NAME/model.safetensors and the manifest record), seed-spread, input-size (min_size, and
top-1 at 64x64 for a model that takes any size), int8 (calibration file and figures), onnx, openvino, openvino-int8, corruptions (corruption and calibration figures), card, readme (the README's
Models and Deployment tables), mirror (pin the GitHub mirror to a commit holding the files). Each step knows when it
is already done, so the same command continues a release after a failure or a kill, and after the commit the mirror
step waits for. Runs in a clone of the repository.
"""
from __future__ import annotations

import argparse
import sys

from ..recipes import RECIPES
from ._args import add_data_dir, data_dir, output_dir

STATUS_MARK = {"done": "done", "done before": "done before", "waiting": "WAITING", "skipped": "skipped"}


def add_parser(commands) -> None:
    from ..release.steps import STEP_NAMES

    parser = commands.add_parser("release", help="maintainers: a finished run → a published model, every step",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  zoo release airbench94_cifar10 runs/airbench94-seed0 "
                                        "--seed-runs runs/airbench94-seed{1,2,3,4}")
    parser.add_argument("model", choices=sorted(RECIPES))
    parser.add_argument("run_dir", type=output_dir, metavar="RUN_DIR",
                        help="the --output-dir of a finished `python -m zoo.train NAME` run (seed 0 by convention)")
    parser.add_argument("--seed-runs", type=data_dir, nargs="+", default=[], metavar="DIR",
                        help="finished runs of the same recipe with other seeds (--seed S), for the seed spread: "
                             "their --output-dir, or a folder holding only a run's result.json")
    parser.add_argument("--only", nargs="+", choices=STEP_NAMES, metavar="STEP",
                        help=f"run only these steps (of {', '.join(STEP_NAMES)})")
    parser.add_argument("--overwrite", action="store_true", help="replace a published weights file with other bytes")
    parser.add_argument("--recipe-overrides", action="store_true",
                        help="publish a run whose settings differ from the model's recipe (its record names the "
                             "command that trains it)")
    add_data_dir(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..release.steps import STEP_NAMES, ReleaseOptions, release

    options = ReleaseOptions(run_dir=args.run_dir, seed_runs=tuple(args.seed_runs), data_dir=args.data_dir,
                             overwrite=args.overwrite, recipe_overrides=args.recipe_overrides,
                             only=frozenset(args.only or STEP_NAMES),
                             progress=lambda line: print(f"    {line}", file=sys.stderr, flush=True))
    waiting = []
    for number, outcome in enumerate(release(args.model, options), start=1):
        print(f"[{number}/{len(STEP_NAMES)}] {outcome.step}: {STATUS_MARK[outcome.status]} — {outcome.line}",
              flush=True)
        if outcome.status == "waiting":
            waiting.append(outcome.step)
    print(f"{args.model}: " + (f"waiting on {', '.join(waiting)}; run the same command again after that"
                               if waiting else "released (every step done)"))
    return 0
