"""``python -m zoo.train NAME --check``: is a retrain the published checkpoint?

Two kinds of check, chosen by the machine (:mod:`zoo.machine`):

* **bit-identity**, on the machine class the record was made on: the sha256 of the weights after every epoch
  (the record's per-epoch fingerprints) and of the final file must equal the published ones. ``--check-epochs K``
  stops after K epochs: minutes instead of hours, and still bit for bit.
* **accuracy**, on any other class, where kernels and so bytes differ: the retrain's top-1 must lie within the
  published *seed spread* — a 99 % prediction interval for one more run of the recipe, from the final top-1 of
  n ≥ 5 seeds (:func:`seed_spread`).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from .machine import MachineClass, machine_class, training_precision
from .manifest import HISTORY_KEY, WeightsRecord

# Student's t, 0.995 quantile, by degrees of freedom (two-sided 99 %); past 10 the df=10 value (wider, so safe).
T_995 = {1: 63.657, 2: 9.925, 3: 5.841, 4: 4.604, 5: 4.032, 6: 3.707, 7: 3.499, 8: 3.355, 9: 3.250, 10: 3.169}
RULE = ("pass if |top-1 - mean| <= t(0.995, n-1) * std * sqrt(1 + 1/n): the 99 % prediction interval of one more "
        "run of the recipe, from the final top-1 of n seeds")


def seed_spread(top1_by_seed: dict[int, float]) -> dict[str, Any]:
    """Mean, sample std and check tolerance of the final top-1 of several seeds of one recipe."""
    n = len(top1_by_seed)
    if n < 2:
        raise ValueError("a seed spread needs at least two seeds")
    values = list(top1_by_seed.values())
    std = statistics.stdev(values)
    return {"seeds": sorted(top1_by_seed), "top1": [top1_by_seed[s] for s in sorted(top1_by_seed)],
            "mean": round(statistics.fmean(values), 6), "std": round(std, 6),
            "tolerance": round(T_995[min(n - 1, 10)] * std * math.sqrt(1 + 1 / n), 6), "rule": RULE}


@dataclass(frozen=True)
class CheckPlan:
    """Which check runs here, why, and over how many epochs."""

    kind: str  # "bit-identity" or "accuracy"
    reason: str
    epochs: int  # epochs to train (all of them for an accuracy check)

    def describe(self) -> str:
        return f"check: {self.kind} over {self.epochs} epoch{'s' * (self.epochs != 1)} — {self.reason}"


def plan_check(record: WeightsRecord, here: MachineClass, precision: str, check_epochs: int | None) -> CheckPlan:
    """Decide the check for ``record`` on this machine; raises ``ValueError`` (with what to do) where none can run."""
    epochs = record.recipe["settings"]["epochs"]
    recorded = record.recipe.get("machine_class")
    differences = here.differences(recorded) if recorded else ["the record names no machine class"]
    parts = record.recipe.get("trained_on", [])
    if len(parts) > 1:  # no one class can reproduce bytes that several made
        differences.append("the published run was trained on " + ", then ".join(
            f"{part['machine']} (epochs {part['epochs'][0]}-{part['epochs'][1]})" for part in parts))
    if precision != record.recipe["settings"]["precision"]:
        differences.append(f"precision: {record.recipe['settings']['precision']} there, {precision} here")
    if not differences:
        fingerprinted = record.extra.get(HISTORY_KEY, {}).get("fingerprinted_epochs", 0)
        k = epochs if check_epochs is None else check_epochs
        if not 1 <= k <= epochs:
            raise ValueError(f"--check-epochs must be between 1 and {epochs}")
        if k < epochs and k > fingerprinted:
            raise ValueError(f"the record of {record.name} has weight fingerprints for epochs 1–{fingerprinted} only: "
                             f"use --check-epochs {fingerprinted} or less, or the full check")
        return CheckPlan("bit-identity", f"this machine is of the class the record was made on "
                                         f"({here.summary()})", k)
    why = "this machine's class differs from the record's (" + "; ".join(differences) + ")"
    gpu = (recorded or {}).get("cuda_device")
    where = (f"on the GPU it was made on ({gpu}, torch {recorded['torch']}): `{record.recipe['command']} --check`"
             if gpu else f"on the recorded class ({record.recipe.get('machine', '?')})")
    if len(parts) > 1:
        where = "nowhere: several classes made these bytes (a seed spread would allow the accuracy check)"
    has_spread = "seed_spread" in record.metrics
    if check_epochs:
        raise ValueError(f"--check-epochs compares weight fingerprints, which only the recorded class can reproduce: "
                         f"{why}. " + ("Run the full --check for the accuracy check instead." if has_spread else
                                       f"The bit-identity check runs {where}."))
    if not has_spread:
        raise ValueError(f"{why}, so only an accuracy check could run, and the record of {record.name} has no seed "
                         f"spread to compare with. The bit-identity check runs {where}.")
    return CheckPlan("accuracy", f"{why}; kernels and so bytes differ between classes, so the retrain's top-1 is "
                                 f"compared with the published seed spread", epochs)


def plan_check_here(record: WeightsRecord) -> CheckPlan:
    """The full ``--check`` of ``record`` on this CPU, with the recipe's threads and the precision zoo.train picks."""
    here = machine_class(threads=record.recipe["threads"])
    return plan_check(record, here, training_precision(record.recipe["settings"]["precision"], "cpu", here), None)


@dataclass(frozen=True)
class EpochFingerprint:
    """One epoch's weight sha256 in a retrain beside the published run's."""

    epoch: int
    sha256: str
    published: str

    @property
    def equal(self) -> bool:
        return self.sha256 == self.published

    def describe(self) -> str:
        return (f"epoch {self.epoch}: {'equal' if self.equal else 'DIFFERENT'} weights sha256 {self.sha256}"
                + ("" if self.equal else f" (published {self.published})"))


def compare_fingerprints(published: list[dict[str, Any]], history: list[dict[str, Any]]) -> list[EpochFingerprint]:
    """Every epoch that both runs fingerprinted (the ``published`` history and a retrain's), in the retrain's order."""
    recorded = {h["epoch"]: h.get("weights_sha256") for h in published}
    return [EpochFingerprint(entry["epoch"], entry["weights_sha256"], recorded[entry["epoch"]])
            for entry in history if recorded.get(entry["epoch"])]


def within_spread(top1: float, spread: dict[str, Any]) -> tuple[bool, str]:
    """Whether ``top1`` passes the accuracy check, and the sentence that says so."""
    distance = abs(top1 - spread["mean"])
    ok = distance <= spread["tolerance"]
    return ok, (f"top-1 {top1:.4f}; seed spread of the published recipe: mean {spread['mean']:.4f} ± "
                f"{spread['std']:.4f} (n={len(spread['seeds'])}), tolerance ±{spread['tolerance']:.4f} "
                f"({spread['rule']}): |{top1:.4f} - {spread['mean']:.4f}| = {distance:.4f} "
                f"{'<=' if ok else '>'} {spread['tolerance']:.4f}")
