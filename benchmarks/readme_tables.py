"""The README's speed tables, rendered from the benchmark files (one file per machine class and script).

    python benchmarks/readme_tables.py benchmarks/results.json benchmarks/batch1_profile.json …

Prints, per ``benchmarks/run.py`` results file, the Performance table (reference / zoo / fast, training) and the
table beside the peers (Deployment); per ``batch1_profile.py`` or ``int8_profile.py`` file, its table. The README
holds them verbatim; tests/test_benchmarks.py checks that it still does, so a re-run cannot leave the README
describing another run.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoo.card import RUNTIMES  # noqa: E402  (the cards' column names: one vocabulary for both)

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


def profiled_share(table: str, kernel: str) -> float:
    """The self-CPU share (0-1) of the torch profiler's rows whose operator name contains ``kernel``."""
    shares = [float(line.split()[1].rstrip("%")) for line in table.splitlines()
              if line.split() and kernel in line.split()[0] and line.split()[1].endswith("%")]
    return sum(shares) / 100


def batch1_table(profile: dict) -> str:
    """benchmarks/batch1_profile.py: one image through each PyTorch form and onnxruntime, and the convolutions' share."""
    header = ("| model | compiled (fast path's) | AOTInductor package | plain (eager) | onnxruntime | convolutions' share "
              "of the compiled call | convolutions alone |\n|---|---:|---:|---:|---:|---:|---:|")
    rows = []
    for name, model in profile["models"].items():
        us, share = model["us"], profiled_share(model["profile"], "convolution")
        rows.append(f"| `{name}` | {us['compiled']:,.0f} µs | {us['aoti']:,.0f} | {us['eager']:,.0f} | "
                    f"{us['onnxruntime']:,.0f} | {share:.0%} | {share * us['compiled']:,.0f} µs |")
    return header + "\n" + "\n".join(rows)


def int8_table(profile: dict) -> str:
    """benchmarks/int8_profile.py: zoo's int8 against OpenVINO's at the file's batch size, beside the int8 ceiling."""
    labels = ("int8", "int8_cl", "openvino_int8")
    header = ("| model | zoo int8, img/s (of the int8 peak) | zoo int8, channels_last input | OpenVINO int8 | "
              "zoo / OpenVINO | int8 convolutions' share of zoo's call |\n|---|---:|---:|---:|---:|---:|")
    rows = []
    for name, model in profile["models"].items():
        shares = model.get("share_of_int8_peak", {})
        cells = [f"{model['img_s'][label]:,.0f} ({shares[label]:.0%})" if label in shares else
                 (f"{model['img_s'][label]:,.0f}" if label in model["img_s"] else "—") for label in labels]
        ratio = (f"{model['img_s']['int8'] / model['img_s']['openvino_int8']:.2f}×"
                 if "openvino_int8" in model["img_s"] else "—")
        rows.append(f"| `{name}` | {' | '.join(cells)} | {ratio} | {profiled_share(model['profile'], 'qconv'):.0%} |")
    return header + "\n" + "\n".join(rows)


# The Models table's speed column: the fast path at batch 256, one figure per class, in this order (its footnote says so)
MODELS_TABLE_FILES = ("results.json", "results-no-bf16.json", "results-avx2.json")


def models_table_speeds(folder: Path) -> dict[str, str]:
    """Per published model, the Models table's "CPU images/s (fast path)" cell, from ``MODELS_TABLE_FILES``."""
    files = [json.loads((folder / name).read_text(encoding="utf-8"))["models"] for name in MODELS_TABLE_FILES]
    names = [name for name, model in files[0].items() if model["inference"]["fast"].get("top1") is not None]
    return {name: " / ".join(f"{models[name]['inference']['fast']['batch256_img_s']:,.0f}" for models in files)
            for name in names}


def tables(path: Path) -> list[str]:
    """The README tables of one benchmark file, chosen by its name."""
    results = json.loads(path.read_text(encoding="utf-8"))
    if path.name.startswith("batch1_profile"):
        return [batch1_table(results)]
    if path.name.startswith("int8_profile"):
        return [int8_table(results)]
    return [performance_table(results), peers_table(results)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path,
                        help="benchmarks/run.py, batch1_profile.py or int8_profile.py --out files")
    for path in parser.parse_args().results:
        print(f"{path}:\n\n" + "\n\n".join(tables(path)) + "\n")
    print("Models table, CPU images/s (fast path): " + "; ".join(
        f"{name} {cell}" for name, cell in models_table_speeds(Path(__file__).resolve().parent).items()))


if __name__ == "__main__":
    main()
