"""The writers of the manifest and of the files its records describe. Every command that records something
(``zoo train --record``, ``zoo quantize --record``, ``zoo export --record``, ``zoo evaluate --record``, ``zoo
annotate``, ``zoo release``, ``zoo publish``) writes through here; the library only measures and returns entries."""
from __future__ import annotations

import dataclasses
import platform
from pathlib import Path
from typing import Any, Callable

import torch

from ..api import get_weights
from ..artifacts import HUB_ORG, HUB_REVISION, WEIGHTS_NAME
from ..data import CATEGORIES, MEAN, STD, Split
from ..errors import ZooError
from ..loop import RunResult
from ..machine import MachineClass
from ..models import build_model
from ..manifest import (DETAILS_FILE, DETAILS_KEY, HISTORY_FILE, HISTORY_KEY, WeightsRecord, atomic_write_bytes,
                        in_checkout, manifest_paths, published_datasets, published_records, read_datasets,
                        read_manifest, render_manifest)
from ..record_files import Epochs, details_entry, history_bytes, history_entry, json_bytes, split_details
from ..metrics import Score
from ..recipes import Recipe
from ..weights import CHECKOUT_WEIGHTS, sha256_file


def write_record(record: WeightsRecord | None = None, paths: list[Path] | None = None, *,
                 dataset: tuple[str, dict[str, Any]] | None = None) -> None:
    """Add or replace ``record`` (and/or one ``(key, entry)`` of ``datasets``) in the clone's manifest, atomically
    (temp file + rename)."""
    from filelock import FileLock

    paths = paths or manifest_paths()
    # read, change, write under one lock: two recording runs at once must not lose each other's record
    with FileLock(str(paths[0].with_name(f".{paths[0].name}.lock"))):
        records = read_manifest(paths[0]) if paths[0].is_file() else {}
        datasets = read_datasets(paths[0]) if paths[0].is_file() else {}
        if record is not None:
            records[record.name] = record
        if dataset is not None:
            datasets[dataset[0]] = dataset[1]
        text = render_manifest(records, datasets)
        for path in paths:
            atomic_write_bytes(path, text.encode("utf-8"))
    published_records.cache_clear()
    published_datasets.cache_clear()


def require_checkout(what: str) -> None:
    """Refuse to record anything from an installed copy: records belong to a clone's manifest."""
    if not in_checkout():
        raise ZooError(f"{what} writes weights/NAME/ and the manifest of a clone of the repository, and this zoo is an "
                       f"installed copy ({Path(__file__).parents[1]}): run it from a clone (pip install -e .)")


def make_record(recipe: Recipe, result: RunResult, command: str) -> WeightsRecord:
    """The manifest record of a finished run (the one record type that loading reads), without the pin of its
    history (:func:`write_record_and_history` writes both)."""
    return WeightsRecord(
        name=recipe.model,
        repo_id=f"{HUB_ORG}/zoo-{recipe.model.replace('_', '-')}",
        revision=HUB_REVISION,
        filename=WEIGHTS_NAME,
        sha256=result.sha256,
        file_size=result.weights_path.stat().st_size,
        num_params=sum(p.numel() for p in build_model(recipe.model).parameters()),
        metrics={"cifar10_test_top1": result.top1, "cifar10_test_per_class": result.per_class,
                 "evaluated_on": "all 10,000 CIFAR-10 test images, final epoch, single crop, fp32",
                 **({"cifar10_test_top1_float32_weights": result.unrounded_top1}
                    if result.unrounded_top1 is not None else {}),
                 **({"cifar10_test_top1_multicrop_tta": result.tta_top1} if result.tta_top1 is not None else {})},
        transforms={"mean": list(MEAN), "std": list(STD), "size": 32},
        categories=CATEGORIES,
        recipe={
            "command": command,
            "settings": recipe.to_dict(),
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "threads": recipe.threads,
            "machine": MachineClass(**result.machine_class).summary(),
            "machine_class": result.machine_class,
            "train_data_sha256": result.data_sha256,
            "wall_time_s": round(result.wall_time_s, 1),
            # a run resumed on other machine classes: which trained which epochs (bit-identity is no class's then)
            **({"trained_on": [{"machine": MachineClass(**part["machine_class"]).summary(), **part}
                               for part in result.trained_on]} if len(result.trained_on) > 1 else {}),
        },
    )


def record_run(recipe: Recipe, result: RunResult, command: str, overwrite: bool = False) -> Path:
    """Copy a finished run's weights to ``weights/NAME/`` and write its record (a new record: the figures measured
    on earlier weights go with them); refuses to replace a published file unless ``overwrite``."""
    target = CHECKOUT_WEIGHTS / recipe.model / WEIGHTS_NAME
    if target.exists() and sha256_file(target) != result.sha256 and not overwrite:
        raise ZooError(f"{target} is already published with another sha256; pass --overwrite to replace it.")
    atomic_write_bytes(target, result.weights_path.read_bytes())
    write_record_and_history(make_record(recipe, result, command), result.history)
    return target


def write_record_and_history(record: WeightsRecord, history: Epochs) -> WeightsRecord:
    """Write ``history`` to ``weights/NAME/history.json`` and ``record``, pinning it, to the manifest."""
    atomic_write_bytes(CHECKOUT_WEIGHTS / record.name / HISTORY_FILE, history_bytes(history))
    pinned = dataclasses.replace(record, extra={**record.extra, HISTORY_KEY: history_entry(history)})
    write_record(pinned)
    return pinned


def with_entries(name: str, dataset: tuple[str, dict[str, Any]] | None = None, **entries: Any) -> WeightsRecord:
    """Write ``entries`` into ``name``'s record (beside its other figures), and ``dataset`` into the manifest's data
    sets, and return the record."""
    record = get_weights(name)
    updated = dataclasses.replace(record, extra={**record.extra, **entries})
    write_record(updated, dataset=dataset)
    return updated


def record_int8(name: str, data_dir: str | None = None) -> WeightsRecord:
    """Calibrate, write ``weights/NAME/int8_calibration.safetensors`` and the record's ``int8`` entry."""
    from ..int8 import CALIBRATION_FILE, RECORD_KEY, calibration_release

    data, entry = calibration_release(name, data_dir)
    atomic_write_bytes(CHECKOUT_WEIGHTS / name / CALIBRATION_FILE, data)
    return with_entries(name, **{RECORD_KEY: entry})


def record_input_size(name: str, test: Split) -> WeightsRecord:
    """The sizes ``name`` takes, and its top-1 at 64×64 where it takes any size, into its record."""
    from ..sizes import RECORD_KEY, input_size_entry

    return with_entries(name, **{RECORD_KEY: input_size_entry(name, test)})


def record_onnx(name: str, opset: int, top1: float) -> WeightsRecord:
    from ..export import onnx_entry

    return with_entries(name, onnx=onnx_entry(name, opset, top1))


def record_openvino(name: str, int8: bool, score: Score) -> WeightsRecord:
    from ..openvino_ir import RECORD_KEYS, openvino_entry

    return with_entries(name, **{RECORD_KEYS[int8]: openvino_entry(name, int8, score)})


def record_beyond_clean(name: str, test: Split, progress: Callable[[str], None] | None = None,
                        advance: Callable[[], None] | None = None) -> WeightsRecord:
    """Corruption and calibration figures of float and int8 ``name`` into its record (their detail into
    ``weights/NAME/evaluation.json``, pinned by the record), and the data set's entry."""
    from ..beyond_clean import measure
    from ..robustness import DATASET_KEY

    entries, dataset = measure(name, test, progress, advance)
    kept, details = split_details(entries)
    atomic_write_bytes(CHECKOUT_WEIGHTS / name / DETAILS_FILE, json_bytes(details))
    return with_entries(name, dataset=(DATASET_KEY, dataset), **kept, **{DETAILS_KEY: details_entry(details)})
