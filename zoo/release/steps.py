"""``zoo release NAME RUN_DIR``: a finished training run becomes a published model, in order, resumably.

Each step knows from the files whether it is done — the record names the run's weights, it holds the step's entry,
the card and the README are what the record renders — so running the release again after a failure, a kill or a
commit does only what is left. A new record (new weights) starts without figures, so every later step runs again
for it. The last step pins the GitHub mirror, which serves what is committed: it waits until ``weights/NAME/`` and
the manifest is committed, and a second ``zoo release`` pins it.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..artifacts import WEIGHTS_NAME
from ..checkpoint import load_checkpoint
from ..errors import ZooError
from ..manifest import CALIBRATION_KEY, CORRUPTIONS_KEY, published_records
from ..recipes import Recipe, get_recipe, regenerate_command
from ..weights import sha256_file
from . import records

STEP_NAMES = ("record", "seed-spread", "input-size", "int8", "onnx", "openvino", "openvino-int8", "corruptions", "card", "readme",
              "mirror")


@dataclass(frozen=True)
class ReleaseOptions:
    """What a release is given beyond the model's name and its run."""

    run_dir: Path
    seed_runs: tuple[Path, ...] = ()  # other finished seeds of the same recipe, for the seed spread
    data_dir: str | None = None
    overwrite: bool = False  # replace a published file with other bytes
    recipe_overrides: bool = False  # publish a run whose recipe is not RECIPES[NAME] (its record names its command)
    only: frozenset[str] = field(default_factory=lambda: frozenset(STEP_NAMES))
    progress: Callable[[str], None] | None = None  # long steps' progress lines


@dataclass(frozen=True)
class Outcome:
    """One step's result: ``"done before"`` (nothing to do), ``"done"``, ``"waiting"`` (for the maintainer: the line
    says what) or ``"skipped"`` (not among ``only``)."""

    step: str
    status: str
    line: str


@dataclass(frozen=True)
class FinishedRun:
    """A run folder checked to hold a finished run of the model, the recipe it ran and where."""

    recipe: Recipe
    device: str
    sha256: str


def finished_run(name: str, run_dir: Path, recipe_overrides: bool) -> FinishedRun:
    """Check that ``run_dir`` holds a finished, publishable run of ``name``; one clear error otherwise."""
    checkpoint = run_dir / "checkpoint.pt"
    if not checkpoint.is_file():
        raise ZooError(f"{run_dir} holds no training checkpoint: give the --output-dir of a `python -m zoo.train {name}` "
                       "run")
    state = load_checkpoint(checkpoint)
    recipe = Recipe.from_dict(state["recipe"])
    if recipe.model != name:
        raise ZooError(f"{run_dir} is a run of {recipe.model}, not of {name}")
    if any(state["subsets"]):
        raise ZooError(f"{run_dir} trained or scored on a subset or a holdout: a published model is trained on all "
                       "50,000 training images and scored on the 10,000 test images")
    device = "cuda" if state["machine_class"].get("cuda_device") else "cpu"
    if state["epoch"] != recipe.epochs or not (run_dir / WEIGHTS_NAME).is_file():
        raise ZooError(f"{run_dir} stopped after epoch {state['epoch']} of {recipe.epochs}: finish it first with "
                       f"`{regenerate_command(recipe, device)} --output-dir {run_dir} --resume`")
    differences = recipe.differences(get_recipe(name))
    if differences and not recipe_overrides:
        changed = ", ".join(f"{key} {value!r} (recipe: {recipe_value!r})"
                            for key, (value, recipe_value) in differences.items())
        raise ZooError(f"{run_dir} ran {name} with {changed}, so `python -m zoo.train {name}` would not regenerate it: "
                       "publish a run of the recipe, or pass --recipe-overrides to record its own command")
    return FinishedRun(recipe, device, sha256_file(run_dir / WEIGHTS_NAME))


def release(name: str, options: ReleaseOptions) -> Iterator[Outcome]:
    """Run the release steps of ``name`` in order, yielding each one's outcome as it ends."""
    records.require_checkout("zoo release")
    unknown = sorted(options.only - set(STEP_NAMES))
    if unknown:
        raise ZooError(f"no release step named {', '.join(unknown)}: the steps are {', '.join(STEP_NAMES)}")
    run = finished_run(name, options.run_dir, options.recipe_overrides)
    for step in STEP_NAMES:
        if step not in options.only:
            yield Outcome(step, "skipped", "not asked for")
            continue
        record = published_records().get(name)
        reason = _done(step, name, run, record)
        if reason is not None:
            yield Outcome(step, "done before", reason)
            continue
        yield _run(step, name, run, options, record)


def _done(step: str, name: str, run: FinishedRun, record) -> str | None:
    """Why ``step`` needs nothing (``None``: it has work to do)."""
    if step == "record":
        if record is not None and record.sha256 == run.sha256 and record.recipe["settings"] == run.recipe.to_dict():
            return f"the record names this run's weights (sha256 {run.sha256[:16]}…)"
        return None
    if record is None or record.sha256 != run.sha256:
        return None  # (the record step failed or was not asked for; the step will say so)
    from ..int8 import RECORD_KEY
    from ..openvino_ir import RECORD_KEYS
    from ..sizes import RECORD_KEY as SIZES_KEY

    entries = {"input-size": (SIZES_KEY,), "int8": (RECORD_KEY,), "onnx": ("onnx",), "openvino": (RECORD_KEYS[False],),
               "openvino-int8": (RECORD_KEYS[True],), "corruptions": (CORRUPTIONS_KEY, CALIBRATION_KEY)}
    if step == "seed-spread":
        return "the record has a seed spread" if "seed_spread" in record.metrics else None
    if step in entries:
        keys = entries[step]
        return (f"the record has its {' and '.join(map(repr, keys))} entr{'ies' if len(keys) > 1 else 'y'}"
                if all(key in record.extra for key in keys) else None)
    if step == "card":
        from .card import card_is_current

        return f"weights/{name}/README.md is what the record renders" if card_is_current(record) else None
    if step == "readme":
        from .tables import rendered_documents

        current = all(path.read_text(encoding="utf-8") == text
                      for path, text in rendered_documents(published_records()).items())
        return "the tables of README.md and docs/ are what the manifest renders" if current else None
    from .hub import mirror_holds  # step == "mirror"

    return (f"the mirror is pinned to {record.mirror['revision'][:12]}, which holds the files"
            if mirror_holds(record) else None)


def _run(step: str, name: str, run: FinishedRun, options: ReleaseOptions, record) -> Outcome:
    if step != "record" and (record is None or record.sha256 != run.sha256):
        return Outcome(step, "waiting", "the record does not name this run's weights yet: run the record step first")
    if step == "record":
        from ..data import default_data_dir
        from ..loop import RunOptions, train

        # A finished run resumed: nothing trains; the loop exports the weights again and scores them as published.
        result = train(run.recipe, RunOptions(data_dir=options.data_dir or default_data_dir(),
                                              output_dir=options.run_dir, resume=True, device=run.device,
                                              progress=False))
        target = records.record_run(run.recipe, result, regenerate_command(run.recipe, run.device), options.overwrite)
        tta = f", {result.tta_top1:.2%} with {run.recipe.tta} TTA" if result.tta_top1 is not None else ""
        return Outcome(step, "done", f"{target}: top-1 {result.top1:.2%}{tta}, sha256 {result.sha256[:16]}…")
    if step == "seed-spread":
        if not options.seed_runs:
            return Outcome(step, "waiting", f"give the other seeds' run folders with --seed-runs (four or more: "
                                            f"`python -m zoo.train {name} --seed S --output-dir DIR`, or a "
                                            f"folder holding a finished run's result.json alone)")
        from ..annotate import with_seed_spread

        try:
            updated = with_seed_spread(record, [options.run_dir, *options.seed_runs], options.data_dir,
                                       log=lambda line: print(line, flush=True))
        except ValueError as error:
            raise ZooError(str(error)) from None
        records.write_record(updated)
        spread = updated.metrics["seed_spread"]
        return Outcome(step, "done", f"{len(spread['seeds'])} seeds: {spread['mean']:.2%} ± {spread['std']:.2%}")
    if step == "input-size":
        from ..data import load_cifar10_test
        from ..sizes import OTHER_SIZE, RECORD_KEY

        test = load_cifar10_test(options.data_dir, f"the {OTHER_SIZE}x{OTHER_SIZE} figure of {name}")
        entry = records.record_input_size(name, test).extra[RECORD_KEY]
        figure = entry.get(f"cifar10_test_top1_{OTHER_SIZE}px")
        return Outcome(step, "done", f"min_size {entry['min_size']}" + (
            f", any size from there: top-1 {figure:.2%} at {OTHER_SIZE}x{OTHER_SIZE}" if figure is not None
            else ", 32x32 only"))
    if step == "int8":
        from ..int8 import RECORD_KEY

        updated = records.record_int8(name, options.data_dir)
        return Outcome(step, "done", f"int8 top-1 {updated.extra[RECORD_KEY]['metrics']['cifar10_test_top1']:.2%}")
    if step in ("onnx", "openvino", "openvino-int8"):
        return Outcome(step, "done", _export(step, name, options))
    if step == "corruptions":
        from ..data import load_cifar10_test

        test = load_cifar10_test(options.data_dir, f"the corruption figures of {name}")
        updated = records.record_beyond_clean(name, test, progress=options.progress)
        means = {which: updated.extra[CORRUPTIONS_KEY][which]["mean"] for which in ("float", "int8")}
        return Outcome(step, "done", f"corruption mean {means['float']:.2%} (float) / {means['int8']:.2%} (int8)")
    if step == "card":
        from .card import write_card

        return Outcome(step, "done", f"{write_card(name, options.data_dir)} and its figures")
    if step == "readme":
        from ..manifest import atomic_write_bytes
        from .tables import rendered_documents

        for path, text in rendered_documents(published_records()).items():
            atomic_write_bytes(path, text.encode("utf-8"))
        return Outcome(step, "done", "the tables of README.md and docs/ rendered from the manifest")
    from .hub import mirror_pin, pin_mirror  # step == "mirror"

    if mirror_pin(record) is None:
        return Outcome(step, "waiting", f"commit weights/{name}/, README.md, docs/ and the manifest, then run this release "
                                        "again: it pins the GitHub mirror to that commit (commit the manifest after)")
    pinned = pin_mirror(name)
    return Outcome(step, "done", f"mirror pinned to {pinned.mirror['repo']}@{pinned.mirror['revision'][:12]}: commit "
                                 "the manifest")


def _export(step: str, name: str, options: ReleaseOptions) -> str:
    """Export ``name`` to a scratch folder, score the export on the test set, record its figure."""
    from ..data import load_cifar10_test

    test = load_cifar10_test(options.data_dir, f"the {step} figure of {name}")
    with tempfile.TemporaryDirectory(prefix=f"zoo-release-{name}-") as scratch:
        if step == "onnx":
            from ..export import OPSET, export_onnx, score_onnx

            top1 = score_onnx(export_onnx(name, Path(scratch) / f"{name}.onnx", OPSET), test).top1
            records.record_onnx(name, OPSET, top1)
            return f"onnxruntime top-1 {top1:.2%} (opset {OPSET})"
        from ..int8 import calibration_images
        from ..openvino_ir import export_openvino, score_openvino

        int8 = step == "openvino-int8"
        folder = export_openvino(name, Path(scratch) / "export", calibration_images(options.data_dir) if int8 else None)
        score = score_openvino(folder, test)
        records.record_openvino(name, int8, score)
        return f"OpenVINO {'int8 (NNCF)' if int8 else 'f32'} top-1 {score.top1:.2%}"
