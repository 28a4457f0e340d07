"""The model card's "Beyond the clean test set" section and its reliability diagram, from the record and its
evaluation details (the figures ``zoo evaluate NAME --corruptions --calibration --record`` stored there)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..corruptions import CORRUPTIONS, FAMILIES, SEVERITIES
from ..machine import MachineClass
from ..manifest import CALIBRATION_KEY, CORRUPTIONS_KEY, WeightsRecord
from ..record_files import with_details

RELIABILITY_PNG = "reliability.png"
RUNTIME_NAMES = {"float": "float (fp32)", "int8": "int8"}


def has_figures(record: WeightsRecord) -> bool:
    return CORRUPTIONS_KEY in record.extra and CALIBRATION_KEY in record.extra


def family_table(accuracy: dict[str, list[float]]) -> dict[str, list[float]]:
    """Mean accuracy of each corruption family at each severity."""
    return {f: [float(np.mean([accuracy[n][s] for n, c in CORRUPTIONS.items() if c.family == f]))
                for s in range(len(SEVERITIES))] for f in FAMILIES}


def _row(label: str, values: list[float], mean: float) -> str:
    return f"| {label} | " + " | ".join(f"{v:.1%}" for v in values) + f" | **{mean:.1%}** |"


def section(record: WeightsRecord) -> str:
    """The Markdown section (empty for a record without the figures)."""
    if not has_figures(record):
        return ""
    record = with_details(record)
    corruptions, calibration = record.extra[CORRUPTIONS_KEY], record.extra[CALIBRATION_KEY]
    reference = corruptions["reference"]
    header = "| | " + " | ".join(f"severity {s}" for s in SEVERITIES) + " | mean |\n|---|" + "---:|" * 6
    rows = []
    for which, label in RUNTIME_NAMES.items():
        figures = corruptions[which]
        for family, values in family_table(figures["accuracy"]).items():
            rows.append(_row(f"{label}: {family}", values, float(np.mean(values))))
        rows.append(_row(f"**{label}: all 15**", figures["per_severity"], figures["mean"]))
    rows.append(_row(f"{reference['model']}", reference["per_severity"], reference["mean"]))
    detail = "\n".join(
        f"| {name} ({CORRUPTIONS[name].family}) | " + " | ".join(
            f"{corruptions['float']['accuracy'][name][i]:.1%} / {corruptions['int8']['accuracy'][name][i]:.1%}"
            for i in range(len(SEVERITIES))) + " |" for name in CORRUPTIONS)
    f, i8 = corruptions["float"], corruptions["int8"]
    machine = corruptions["machine_class"]
    cal_rows = "\n".join(
        f"| {RUNTIME_NAMES[which]}, {when} | {calibration[which][when]['ece']:.2%} | {calibration[which][when]['nll']:.4f} | "
        f"{calibration[which][when]['brier']:.4f} | {calibration[which][when]['mean_confidence']:.2%} | "
        f"{calibration[which][when]['top1']:.2%} |"
        for which in RUNTIME_NAMES for when in ("before", "after"))
    t = calibration["float"]["temperature"]
    return f"""
## Beyond the clean test set

### Corruptions ({corruptions['label']})

The 15 corruptions × 5 severities of CIFAR-10-C (Hendrycks & Dietterich, 2019) applied to the 10,000 test
images, regenerated deterministically by `zoo.corruptions` with the CIFAR severities of the original
`make_cifar_c.py` (per-picture seeds; `zoo evaluate {record.name} --corruptions` makes and scores them); the sha256
of every generated array is in zoo's `weights_manifest.json` under `datasets.{corruptions['data']}`. Not the
released files byte for byte: frost blends procedural frost textures instead of the release's photographs (the
least comparable corruption), motion blur and snow re-implement ImageMagick's motion blur, defocus and elastic
re-implement OpenCV's filters with scipy, and every random draw differs. Mean of the 75
accuracies (RobustBench's figure): **{f['mean']:.2%}** float, **{i8['mean']:.2%}** int8 — a relative drop of
{f['relative_drop']:.1%} / {i8['relative_drop']:.1%} from clean ({f['clean']:.2%} / {i8['clean']:.2%} on this
path); worst: {f['worst'][0]} ({f['worst'][1]:.1%} float).

{header}
{chr(10).join(rows)}

The last row is a reference on the *released* files, from RobustBench's leaderboard (clean
{reference['clean']:.2%}; worst: {reference['worst'][0]} {reference['worst'][1]:.2%}).

<details><summary>Each corruption, float / int8</summary>

| corruption | {' | '.join(f'severity {s}' for s in SEVERITIES)} |
|---|{'---:|' * len(SEVERITIES)}
{detail}

</details>

### Calibration

ECE (15 equal-width bins), NLL and Brier score on test images 5,000-9,999, before and after temperature
scaling; the temperature was fitted (NLL-optimal) on test images 0-4,999, never on the images it is scored on.

| model, temperature | ECE | NLL | Brier | mean confidence | top-1 |
|---|---:|---:|---:|---:|---:|
{cal_rows}

**Temperature {t}** (fitted on the other half: {calibration['float']['temperature_other_half']}; int8:
{calibration['int8']['temperature']}). The published model is under-confident: its probabilities become
calibrated as `(model(x) / {t}).softmax(1)`, which `zoo predict` applies by default (`zoo.get_weights("{record.name}").temperature`).

![Reliability diagram]({RELIABILITY_PNG})

Measured with `{corruptions['command']}` on {MachineClass(**machine).summary()}; the float path is
{corruptions['float_path']}.
"""


def plot_reliability(record: WeightsRecord, path: Path) -> None:
    """Accuracy against confidence per bin, before and after the temperature (float model), from the record."""
    from ..figures import pyplot, save_png

    plt = pyplot()
    calibration = with_details(record).extra[CALIBRATION_KEY]["float"]
    figure, panels = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for axes, when, title in ((panels[0], "before", "as published"),
                              (panels[1], "after", f"temperature {calibration['temperature']}")):
        bins = calibration[f"reliability_{when}"]  # a list per quantity; bin i is (i/n, (i+1)/n]
        width = 1 / len(bins["fraction"])
        used = [i for i, fraction in enumerate(bins["fraction"]) if fraction > 0]
        axes.bar([(i + 0.5) * width for i in used], [bins["accuracy"][i] for i in used], width=width * 0.9,
                 color="tab:blue", label="accuracy")
        axes.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect calibration")
        axes.plot([(i + 0.5) * width for i in used], [bins["confidence"][i] for i in used], "o",
                  color="tab:orange", markersize=4, label="mean confidence")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("confidence")
        axes.set_title(f"{title}: ECE {calibration[when]['ece']:.2%}")
        axes.legend(loc="upper left")
    panels[0].set_ylabel("accuracy")
    figure.suptitle(f"{record.name}: reliability on test images 5,000-9,999 (15 bins)")
    figure.tight_layout()
    save_png(figure, path)
    plt.close(figure)
