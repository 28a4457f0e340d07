"""Calibration of a classifier's probabilities: ECE (15 equal-width bins, Guo et al. 2017), NLL, Brier score, and
temperature scaling fitted on images it is not scored on.

The published models' test set is the only data they never trained on, so it is split in two by position: the
temperature is fitted on test images 0-4,999 (NLL-optimal) and every "after" figure is measured on images
5,000-9,999 with that temperature; the temperature fitted on the other half is recorded beside it, as a check of
how stable the fit is.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .errors import InputError

ECE_BINS = 15
FIT_IMAGES = range(0, 5_000)
SCORED_IMAGES = range(5_000, 10_000)
_T_RANGE = (0.05, 20.0)


@dataclass(frozen=True)
class Calibration:
    """Calibration figures of one set of logits (fractions, not percentages)."""

    top1: float
    mean_confidence: float
    ece: float
    nll: float
    brier: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}


def _check(logits: torch.Tensor, labels: torch.Tensor) -> None:
    if logits.ndim != 2 or labels.shape != (len(logits),) or len(logits) == 0:
        raise InputError(f"calibration needs logits (N, classes) and N labels; got {tuple(logits.shape)} and "
                         f"{tuple(labels.shape)}")
    if not torch.isfinite(logits).all():
        raise InputError("the logits hold NaN or infinite values: the model's output cannot be calibrated")


def reliability(logits: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per confidence bin ((i/bins, (i+1)/bins]): its share of the images, mean confidence and accuracy."""
    _check(logits, labels)
    probabilities = logits.double().softmax(1)
    confidence, predicted = probabilities.max(1)
    correct = (predicted == labels).double()
    index = (confidence * bins).ceil().long().clamp(1, bins) - 1  # a confidence of exactly i/bins is in bin i-1
    rows = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        rows.append({"lower": b / bins, "upper": (b + 1) / bins, "fraction": count / len(labels),
                     "confidence": float(confidence[inside].mean()) if count else 0.0,
                     "accuracy": float(correct[inside].mean()) if count else 0.0})
    return rows


def calibration(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> Calibration:
    """ECE, NLL and Brier score (sum over classes of the squared error, averaged over images) of ``logits / T``."""
    _check(logits, labels)
    scaled = logits.double() / temperature
    probabilities = scaled.softmax(1)
    confidence, predicted = probabilities.max(1)
    bins = reliability(scaled, labels)
    one_hot = torch.nn.functional.one_hot(labels, probabilities.shape[1]).double()
    return Calibration(
        top1=float((predicted == labels).double().mean()),
        mean_confidence=float(confidence.mean()),
        ece=sum(b["fraction"] * abs(b["accuracy"] - b["confidence"]) for b in bins),
        nll=float(torch.nn.functional.cross_entropy(scaled, labels)),
        brier=float(((probabilities - one_hot) ** 2).sum(1).mean()),
    )


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature in [0.05, 20] that minimises the NLL of ``logits / T`` (golden-section search on log T: the NLL
    is convex in 1/T, so unimodal there; deterministic, float64)."""
    _check(logits, labels)
    logits = logits.double()

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits / torch.tensor(log_t).exp(), labels))

    lo, hi = (torch.tensor(v).log().item() for v in _T_RANGE)
    ratio = (5 ** 0.5 - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(torch.tensor((lo + hi) / 2).exp())


def calibration_report(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """The record's calibration entry from the logits of all 10,000 test images (in the test set's order)."""
    if len(labels) != FIT_IMAGES.stop + len(SCORED_IMAGES):
        raise InputError(f"the calibration report needs the logits of all {SCORED_IMAGES.stop} test images, in order; "
                         f"got {len(labels)}")
    fit = slice(FIT_IMAGES.start, FIT_IMAGES.stop)
    scored = slice(SCORED_IMAGES.start, SCORED_IMAGES.stop)
    temperature = fit_temperature(logits[fit], labels[fit])
    return {
        "temperature": round(temperature, 4),
        "temperature_fitted_on": f"CIFAR-10 test images {FIT_IMAGES.start}-{FIT_IMAGES.stop - 1} (NLL-optimal)",
        "temperature_other_half": round(fit_temperature(logits[scored], labels[scored]), 4),
        "scored_on": f"CIFAR-10 test images {SCORED_IMAGES.start}-{SCORED_IMAGES.stop - 1}",
        "ece_bins": ECE_BINS,
        "before": calibration(logits[scored], labels[scored]).to_dict(),
        "after": calibration(logits[scored], labels[scored], temperature).to_dict(),
        "before_all_10000": calibration(logits, labels).to_dict(),
        "reliability_before": reliability_columns(reliability(logits[scored], labels[scored])),
        "reliability_after": reliability_columns(reliability(logits[scored] / temperature, labels[scored])),
    }


def reliability_columns(rows: list[dict[str, float]]) -> dict[str, list[float]]:
    """:func:`reliability`'s bins as the record keeps them: a list per quantity, bin i being (i/n, (i+1)/n]."""
    return {key: [round(row[key], 5) for row in rows] for key in ("fraction", "confidence", "accuracy")}
