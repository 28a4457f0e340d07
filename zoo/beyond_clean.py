"""The figures beyond clean top-1 in each record: CIFAR-10-C-style corruption accuracy and calibration, for the
float and the int8 model (``zoo evaluate NAME --corruptions --calibration [--int8] [--record]``)."""
from __future__ import annotations

from typing import Callable

import torch

from .api import get_model
from .calibration import calibration_report
from .data import Split
from .manifest import CALIBRATION_KEY, CORRUPTIONS_KEY
from .robustness import DATASET_KEY, LABEL, ROBUSTBENCH_STANDARD, dataset_entry, hwc, logits_uint8, \
    score_corruptions, score_subset, subsets

RUNTIMES = ("float", "int8")
RECORD_COMMAND = "python -m zoo.evaluate {name} --corruptions --calibration --record"

LogitsOf = Callable[[torch.Tensor], torch.Tensor]


def float_runtime(name: str, checkpoint=None) -> LogitsOf:
    """The fp32 model (published weights, or ``checkpoint``) in channels-last memory format: the fastest fp32 path
    here, and the one the recorded corruption and calibration figures use."""
    model = get_model(name, pretrained=checkpoint is None, weights=checkpoint).eval()
    model = model.to(memory_format=torch.channels_last)

    def logits_of(x: torch.Tensor) -> torch.Tensor:
        return model(x.contiguous(memory_format=torch.channels_last)).float()

    return logits_of


def int8_runtime(name: str) -> LogitsOf:
    """The published int8 model (float weights + calibration file, both sha256-verified), compiled."""
    from .int8 import quantized_model

    model = quantized_model(name)
    return lambda x: model(x).float()


def runtime(name: str, which: str, checkpoint=None) -> LogitsOf:
    return int8_runtime(name) if which == "int8" else float_runtime(name, checkpoint)


def logits_on_test_set(logits_of: LogitsOf, test: Split) -> torch.Tensor:
    """Float logits of every test image, in order."""
    return logits_uint8(logits_of, hwc(test))


def calibration_figures(logits_of: LogitsOf, test: Split) -> dict:
    return calibration_report(logits_on_test_set(logits_of, test), test.labels)


def measure(name: str, test: Split, progress: Callable[[str], None] | None = None,
            advance: Callable[[], None] | None = None) -> tuple[dict, dict]:
    """Score float and int8 ``name`` on all 75 corruptions and for calibration: the record's entries
    (``{CORRUPTIONS_KEY: …, CALIBRATION_KEY: …}``) and the data set's (the CI subset's counts, the regenerated arrays'
    sha256) for the manifest's ``datasets[DATASET_KEY]``."""
    from .machine import machine_class

    corruptions, calibrations = {}, {}
    ci_subset = subsets(test)
    for which in RUNTIMES:
        logits_of = runtime(name, which)
        corruptions[which] = score_corruptions(logits_of, test, progress=progress, advance=advance)
        corruptions[which]["subset_correct"] = score_subset(logits_of, test, ci_subset)
        calibrations[which] = calibration_figures(logits_of, test)
    provenance = {"machine_class": machine_class().to_dict(), "torch": torch.__version__,
                  "command": RECORD_COMMAND.format(name=name)}
    entries = {CORRUPTIONS_KEY: {"data": DATASET_KEY, "label": LABEL, **corruptions, **provenance,
                                 "float_path": "fp32, channels-last, batches of 500",
                                 "reference": ROBUSTBENCH_STANDARD},
               CALIBRATION_KEY: {**calibrations, **provenance}}
    return entries, dataset_entry(test, ci_subset)
