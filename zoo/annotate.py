"""Add measured facts to a published record without touching its file: ``zoo annotate``.

    zoo annotate fingerprints NAME RUN_DIR         # per-epoch weight sha256 + machine class, from a retrain
    zoo annotate seed-spread NAME RUN_DIR...       # final top-1 of n >= 5 seeds of the published recipe

``fingerprints`` takes a run of the published recipe (``python -m zoo.train NAME --output-dir RUN_DIR``, whole or
stopped early) and refuses it unless it is the published run made again: same recipe, every epoch's train loss and
accuracy equal to the published log, and, for a finished run, the published sha256. ``seed-spread`` scores the
final file of each run (same recipe, other seeds) on all 10,000 test images and records mean, std and the
``--check`` tolerance (:func:`zoo.check.seed_spread`). A run whose weights and checkpoint were not kept counts by
its ``result.json`` (the same figure, measured by the run itself when it finished): what a seed trained in an
earlier session leaves in ``runs/NAME/seedS/``. The published file is its own seed's finished run, so its record's
top-1 counts for that seed unless a run of it is given: four more seeds make a spread.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from .check import seed_spread
from .data import load_cifar10_test
from .record_files import Epochs, published_history
from .machine import MachineClass
from .manifest import WeightsRecord
from .metrics import score
from .recipes import Recipe
from .artifacts import RESULT_NAME, WEIGHTS_NAME, model_from_bytes
from .checkpoint import CHECKPOINT_NAME, load_checkpoint
from .weights import sha256_file

MIN_SEEDS = 5


def read_run(run_dir: Path) -> dict[str, Any]:
    """A run's checkpoint (recipe, history, machine class), read with ``weights_only=True``."""
    path = run_dir / CHECKPOINT_NAME
    if not path.is_file():
        raise ValueError(f"{run_dir} holds no {CHECKPOINT_NAME}: pass the --output-dir of a zoo.train run")
    return load_checkpoint(path)


def read_result(run_dir: Path) -> dict[str, Any]:
    """The ``result.json`` a finished ``zoo.train`` run left in ``run_dir``, checked for what a seed spread reads."""
    path = run_dir / RESULT_NAME
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        problem = None if _reads_as_a_result(result) else "a field is missing or of the wrong type"
    except (OSError, UnicodeDecodeError, ValueError) as error:
        problem = str(error)
    if problem is not None:
        raise ValueError(f"{path} is not the result.json of a finished zoo.train run ({problem}): train the seed "
                         "again with `python -m zoo.train NAME --seed S --output-dir DIR`")
    return result


def _reads_as_a_result(result: Any) -> bool:
    try:
        for entry in result["trained_on"]:
            MachineClass(**entry["machine_class"])
        return (isinstance(result["recipe"]["seed"], int) and isinstance(result["subsets"], list)
                and isinstance(result["top1"], float) and 0 <= result["top1"] <= 1
                and isinstance(result["sha256"], str) and len(result["sha256"]) == 64)
    except (KeyError, TypeError):
        return False


def check_same_recipe(record: WeightsRecord, run: dict[str, Any], run_dir: Path, but: tuple[str, ...] = ()) -> None:
    published = Recipe.from_dict(record.recipe["settings"])
    different = [key for key in published.differences(Recipe.from_dict(run["recipe"]), training_only=True)
                 if key not in but]
    if different or run["subsets"] != [None, None]:
        raise ValueError(f"{run_dir} did not run the published recipe of {record.name} on the whole data set "
                         f"(differs in: {', '.join(different) or 'subsets'})")


def with_fingerprints(record: WeightsRecord, run_dir: Path) -> tuple[WeightsRecord, Epochs]:
    """``record`` naming the machine class of the retrain in ``run_dir``, and its published history with the
    retrain's weight fingerprints (:func:`zoo.release.records.write_record_and_history` writes both)."""
    run = read_run(run_dir)
    check_same_recipe(record, run, run_dir)
    if "machine_class" not in run:
        raise ValueError(f"{run_dir} was written before zoo recorded machine classes: retrain it")
    published_log = published_history(record)
    published = {h["epoch"]: h for h in published_log}
    for entry in run["history"]:
        old = published[entry["epoch"]]
        if (entry["train_loss"], entry["train_acc"]) != (old["train_loss"], old["train_acc"]):
            raise ValueError(f"epoch {entry['epoch']} of {run_dir} is not the published run's (train loss/accuracy "
                             f"{entry['train_loss']}/{entry['train_acc']}, published {old['train_loss']}/"
                             f"{old['train_acc']}): another machine class? see `zoo env`")
    finished = run["epoch"] == record.recipe["settings"]["epochs"]
    if finished and sha256_file(run_dir / WEIGHTS_NAME) != record.sha256:
        raise ValueError(f"{run_dir / WEIGHTS_NAME} is not the published file (sha256 differs): this machine's class "
                         "does not reproduce it")
    fingerprints = {h["epoch"]: h["weights_sha256"] for h in run["history"]}
    history = [{**h, "weights_sha256": fingerprints[h["epoch"]]} if h["epoch"] in fingerprints else h
               for h in published_log]
    evidence = ("reproduced the published sha256" if finished else
                f"ran epochs 1-{run['epoch']} of {record.recipe['settings']['epochs']}, each with the published "
                "train loss and accuracy (the final bytes were not made again)")
    source = (f"re-derived {datetime.date.today().isoformat()} with `zoo annotate fingerprints "
              f"{record.name} RUN_DIR`: a retrain of the published recipe on "
              f"{MachineClass(**run['machine_class']).summary()} {evidence}")
    return replace(record, recipe={**record.recipe, "machine_class": run["machine_class"],
                                   "machine_class_source": source}), history


def with_seed_spread(record: WeightsRecord, run_dirs: list[Path], data_dir: str | None,
                     log: Callable[[str], None] | None = None) -> WeightsRecord:
    """``record`` with the seed spread of the finished runs ``run_dirs`` (each scored again, fp32, on the whole test
    set, or, where only its ``result.json`` was kept, counted by the figure the run measured so; the published file
    counts for its own seed unless a run of that seed is given; ``log`` gets a line per seed)."""
    test = None
    top1_by_seed: dict[int, float] = {}
    machines, unrecorded, from_results = set(), 0, []
    for run_dir in run_dirs:
        if not (run_dir / CHECKPOINT_NAME).is_file() and (run_dir / RESULT_NAME).is_file():
            result = read_result(run_dir)
            check_same_recipe(record, result, run_dir, but=("seed",))
            seed, top1 = result["recipe"]["seed"], result["top1"]
            machines.update(MachineClass(**entry["machine_class"]).summary() for entry in result["trained_on"])
            from_results.append(seed)
            source = f"{run_dir / RESULT_NAME}: measured when the run finished, weights sha256 {result['sha256'][:16]}…"
        else:
            run = read_run(run_dir)
            check_same_recipe(record, run, run_dir, but=("seed",))
            seed = run["recipe"]["seed"]
            if run["epoch"] != record.recipe["settings"]["epochs"] or not (run_dir / WEIGHTS_NAME).is_file():
                raise ValueError(f"{run_dir} is not finished: resume it with `python -m zoo.train {record.name} "
                                 f"--seed {seed} --output-dir {run_dir} --resume`")
            if test is None:
                test = load_cifar10_test(data_dir, "a published seed spread")
            top1 = score(model_from_bytes(record.name, (run_dir / WEIGHTS_NAME).read_bytes()), test).top1
            if "machine_class" in run:
                machines.add(MachineClass(**run["machine_class"]).summary())
            else:
                unrecorded += 1
            source = str(run_dir)
        if seed in top1_by_seed:
            raise ValueError(f"seed {seed} is given twice")
        top1_by_seed[seed] = top1
        if log is not None:
            log(f"{record.name} seed {seed}: top-1 {top1:.4f} ({source})")
    published_seed = record.recipe["settings"]["seed"]
    if published_seed not in top1_by_seed:  # the published file is that seed's finished run: no need to train it again
        top1_by_seed[published_seed] = record.metrics["cifar10_test_top1"]
        if "machine_class" in record.recipe:
            machines.add(MachineClass(**record.recipe["machine_class"]).summary())
        else:
            unrecorded += 1
        if log is not None:
            log(f"{record.name} seed {published_seed}: top-1 {top1_by_seed[published_seed]:.4f} (the published file, "
                f"sha256 {record.sha256[:16]}…)")
    if len(top1_by_seed) < MIN_SEEDS:
        raise ValueError(f"a published seed spread needs at least {MIN_SEEDS} seeds, got {len(top1_by_seed)}")
    spread = {**seed_spread(top1_by_seed), "precision": record.recipe["settings"]["precision"],
              "machine": "; ".join(sorted(machines)) + (f" ({unrecorded} of the runs predate machine-class records)"
                                                        if unrecorded else ""),
              "command": f"python -m zoo.train {record.name} --seed S, final epoch, all 10,000 test images, fp32"}
    if from_results:  # (their weights were not kept: the figure is the one the run measured as it finished)
        spread["from_run_results"] = sorted(from_results)
    return replace(record, metrics={**record.metrics, "seed_spread": spread})
