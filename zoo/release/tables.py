"""The tables of README.md and docs/, rendered from the manifest and the speed files of ``benchmarks/`` (one file
``python -m benchmarks.run --out FILE`` wrote per machine class): ``zoo docs`` and ``zoo release`` render them, and
``zoo docs --check`` (a test runs it) says whether the documents hold what they render today.

Each table sits in its document between ``<!-- zoo:NAME -->`` and ``<!-- zoo:end -->``; the prose around it is
written by hand."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..manifest import CALIBRATION_KEY, CHECKOUT_ROOT, CORRUPTIONS_KEY, WeightsRecord
from ..models import ARCHITECTURES
from .card import RUNTIMES  # the cards' column names: one vocabulary for both

README = CHECKOUT_ROOT / "README.md"
DOCS = CHECKOUT_ROOT / "docs"
# The CPU classes of the speed tables, in their order (benchmarks.run's files, one per class).
SPEED_FILES = ("results.json", "results-no-bf16.json", "results-avx2.json")
# Which generated tables each document holds.
DOCUMENTS = {README: ("models",), DOCS / "models.md": ("models-full",),
             DOCS / "performance.md": tuple(f"speed {name}" for name in SPEED_FILES),
             DOCS / "deployment.md": ("deployment", *(f"peers {name}" for name in SPEED_FILES))}
TTA_LABELS = {"cifar10_test_top1_flip_tta": "flip TTA", "cifar10_test_top1_multicrop_tta": "multi-crop TTA"}
DEPLOYED = (("int8", ("metrics", "cifar10_test_top1")), ("onnx", ("cifar10_test_top1",)),
            ("openvino", ("cifar10_test_top1",)), ("openvino_int8", ("cifar10_test_top1",)))


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}"


def _file_size(record: WeightsRecord) -> str:
    size = record.file_size
    text = f"{size / 1e3:.0f} kB" if size < 1e6 else f"{size / 1e6:.2f} MB" if size < 1e7 else f"{size / 1e6:.1f} MB"
    dtype = record.recipe["settings"].get("weights_dtype", "float32")
    return text if dtype == "float32" else f"{text} ({dtype})"


def fast_path_speeds(benchmarks: Path = CHECKOUT_ROOT / "benchmarks") -> list[dict[str, float]]:
    """Per speed file (:data:`SPEED_FILES`): model → the fast path's images/s at batch 256 (empty if no file)."""
    speeds = []
    for filename in SPEED_FILES:
        path = benchmarks / filename
        models = json.loads(path.read_text(encoding="utf-8"))["models"] if path.is_file() else {}
        speeds.append({name: model["inference"]["fast"]["batch256_img_s"] for name, model in models.items()
                       if "fast" in model.get("inference", {})})
    return speeds


def _by_accuracy(records: dict[str, WeightsRecord]) -> list[str]:
    return sorted(records, key=lambda name: (-records[name].top1, name))


def models_summary_table(records: dict[str, WeightsRecord], speeds: list[dict[str, float]]) -> str:
    """The README's Models table: one row per published model, the most accurate first, linked to its card."""
    lines = ["| model | top-1 (CIFAR-10 test) | parameters | file | CPU images/s¹ | corruptions² | calibrated ECE³ |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in _by_accuracy(records):
        record = records[name]
        top1 = f"**{_percent(record.top1)} %**" + "".join(
            f" ({label}: {_percent(record.metrics[key])} %)" for key, label in TTA_LABELS.items() if key in record.metrics)
        speed = f"{speeds[0][name]:,.0f}" if speeds and name in speeds[0] else "—"
        corruptions = record.extra.get(CORRUPTIONS_KEY)
        calibration = record.extra.get(CALIBRATION_KEY, {}).get("float")
        lines.append(f"| [`{name}`](weights/{name}/README.md) | {top1} | {record.num_params:,} | {_file_size(record)} "
                     f"| {speed} | {_percent(corruptions['float']['mean']) + ' %' if corruptions else '—'} "
                     f"| {_percent(calibration['after']['ece']) + ' %' if calibration else '—'} |")
    return "\n".join(lines)


def models_table(records: dict[str, WeightsRecord], speeds: list[dict[str, float]]) -> str:
    """docs/models.md's table: one row per published model, the most accurate first, every figure."""
    lines = ["| model | architecture | parameters | file | top-1 (CIFAR-10 test) | seed spread (5 seeds) "
             "| CPU images/s (fast path)¹ | corruptions² (float / int8) | ECE³ → with temperature | reproduce |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name in _by_accuracy(records):
        record = records[name]
        top1 = f"**{_percent(record.top1)} %**" + "".join(
            f" ({label}: {_percent(record.metrics[key])} %)" for key, label in TTA_LABELS.items() if key in record.metrics)
        spread = record.metrics.get("seed_spread")
        spread = f"{_percent(spread['mean'])} ± {_percent(spread['std'])} %" if spread else "—"
        speed = " / ".join(f"{per_class[name]:,.0f}" if name in per_class else "—" for per_class in speeds)
        corruptions = record.extra.get(CORRUPTIONS_KEY)
        corruptions = (f"{_percent(corruptions['float']['mean'])} / {_percent(corruptions['int8']['mean'])} %"
                       if corruptions else "—")
        calibration = record.extra.get(CALIBRATION_KEY, {}).get("float")
        ece = (f"{_percent(calibration['before']['ece'])} → {_percent(calibration['after']['ece'])} %"
               if calibration else "—")
        lines.append(f"| `{name}` | {ARCHITECTURES[name].description} | {record.num_params:,} | {_file_size(record)} "
                     f"| {top1} | {spread} | {speed} | {corruptions} | {ece} | `{record.recipe['command']}` |")
    return "\n".join(lines)


def deployment_table(records: dict[str, WeightsRecord]) -> str:
    """Top-1 of each deployment beside the float model's, and the difference in points."""
    lines = ["| model | float (PyTorch) | int8 | ONNX (onnxruntime) | OpenVINO f32 | OpenVINO int8 (NNCF) |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in _by_accuracy(records):
        record = records[name]
        cells = []
        for key, path in DEPLOYED:
            entry = record.extra.get(key)
            for part in path if entry else ():
                entry = entry[part]
            cells.append(f"{_percent(entry)} % ({100 * (entry - record.top1):+.2f})" if entry is not None else "—")
        lines.append(f"| `{name}` | {_percent(record.top1)} % | " + " | ".join(cells) + " |")
    return "\n".join(lines)


UNPUBLISHED_MARK = "⁵"  # the README's footnote: random weights, timed for the shapes only
BATCHES = (("batch256", "batch256_img_s", "img/s @256", "{:,.0f}"), ("batch1", "batch1_ms", "ms @1", "{:.3f}"))


def performance_table(results: dict) -> str:
    """reference / zoo / fast at both batch sizes, the fast path's top-1, and training, for the published models."""
    trained = sorted({model["train"]["precision"] for model in results["models"].values() if "train" in model})
    header = ("| model | inference, images/s @256: reference / zoo / **fast** | latency @1 (ms): reference / fast "
              f"| fast top-1 | training images/s: tutorial / zoo ({'/'.join(trained)}) |"
              "\n|---|---|---|---:|---|")
    rows = []
    for name, model in results["models"].items():
        inference, train = model["inference"], model.get("train")
        fast = inference["fast"]
        if fast.get("top1") is None:
            continue  # unpublished: no top-1, no row here (its speed is in the peers' table)
        reference = inference.get("reference")
        ratio = inference.get("fast_over_reference", inference.get("fast_over_zoo"))
        ref256 = f"{reference['batch256_img_s']:,.0f}" if reference else "—"
        ref1 = f"{reference['batch1_ms']:.3f}" if reference else "—"
        training = (f"{train['tutorial_img_s']:,.0f} / {train['zoo_img_s']:,.0f} ({train['speedup']:.1f}×)"
                    if train else "—")
        rows.append(f"| `{name}` | {ref256} / {inference['zoo']['batch256_img_s']:,.0f} / "
                    f"**{fast['batch256_img_s']:,.0f}** ({ratio:.1f}×) | {ref1} / {fast['batch1_ms']:.3f} | "
                    f"{100 * fast['top1']:.2f} % | {training} |")
    return header + "\n" + "\n".join(rows)


def peers_table(results: dict) -> str:
    """zoo's paths and the peers at both batch sizes; bold: the fastest of each side; last: best zoo / best peer."""
    header = (f"| model | {' | '.join(RUNTIMES.values())} | best zoo / best peer |\n"
              f"|---|{'---:|' * (len(RUNTIMES) + 1)}")
    rows = []
    for name, model in results["models"].items():
        inference = model["inference"]
        shown = f"`{name}`" + ("" if inference["fast"].get("top1") is not None else UNPUBLISHED_MARK)
        for batch, key, unit, form in BATCHES:
            bold = {inference["best_zoo"][batch], inference["best_peer"][batch]}
            cells = [("—" if label not in inference else
                      (f"**{form.format(inference[label][key])}**" if label in bold else form.format(inference[label][key])))
                     for label in RUNTIMES]
            rows.append(f"| {shown} {unit} | {' | '.join(cells)} | "
                        f"{inference['best_zoo_over_best_peer'][batch]:.2f}× |")
    return header + "\n" + "\n".join(rows)


def rendered_tables(records: dict[str, WeightsRecord], benchmarks: Path = CHECKOUT_ROOT / "benchmarks") -> dict[str, str]:
    speeds = fast_path_speeds(benchmarks)
    tables = {"models": models_summary_table(records, speeds), "models-full": models_table(records, speeds),
              "deployment": deployment_table(records)}
    for name in SPEED_FILES:
        results = json.loads((benchmarks / name).read_text(encoding="utf-8"))
        tables[f"speed {name}"], tables[f"peers {name}"] = performance_table(results), peers_table(results)
    return tables


def rendered_documents(records: dict[str, WeightsRecord]) -> dict[Path, str]:
    """Each document of :data:`DOCUMENTS` as it should read: its prose as it stands, its tables rendered now."""
    tables = rendered_tables(records)
    return {path: with_tables(path.read_text(encoding="utf-8"), {name: tables[name] for name in names})
            for path, names in DOCUMENTS.items()}


def with_tables(text: str, tables: dict[str, str]) -> str:
    """``text`` (a document) with each ``<!-- zoo:NAME -->`` … ``<!-- zoo:end -->`` block holding ``tables[NAME]``."""
    for name, table in tables.items():
        block = re.compile(rf"(<!-- zoo:{re.escape(name)} -->\n).*?(<!-- zoo:end -->)", re.S)
        if not block.search(text):
            raise ValueError(f"no <!-- zoo:{name} --> … <!-- zoo:end --> block for the {name} table")
        text = block.sub(lambda match: match[1] + table + "\n" + match[2], text, count=1)
    return text
