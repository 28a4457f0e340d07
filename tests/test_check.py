"""--check's decisions: which kind of check runs on which machine, the seed-spread rule, fingerprint comparison."""
from __future__ import annotations

import math
import statistics
from dataclasses import replace

import pytest

from zoo.check import compare_fingerprints, plan_check, seed_spread, within_spread
from zoo.record_files import history_entry, published_history
from zoo.machine import machine_class


def test_seed_spread_is_a_99_percent_prediction_interval():
    top1 = {0: 0.8217, 1: 0.8231, 2: 0.8190, 3: 0.8205, 4: 0.8242}
    spread = seed_spread(top1)
    values = list(top1.values())
    assert spread["seeds"] == [0, 1, 2, 3, 4] and spread["top1"] == values
    assert spread["mean"] == pytest.approx(statistics.fmean(values), abs=1e-6)
    assert spread["std"] == pytest.approx(statistics.stdev(values), abs=1e-6)
    assert spread["tolerance"] == pytest.approx(4.604 * statistics.stdev(values) * math.sqrt(1.2), abs=1e-6)
    inside, outside = spread["mean"] + 0.99 * spread["tolerance"], spread["mean"] - 1.01 * spread["tolerance"]
    assert within_spread(inside, spread)[0] and not within_spread(outside, spread)[0]
    assert "<=" in within_spread(inside, spread)[1] and ">" in within_spread(outside, spread)[1]
    with pytest.raises(ValueError):
        seed_spread({0: 0.8})


def record_made_here(record, **recipe_changes):
    """``record`` as if made on this machine (its recorded machine class replaced by this machine's)."""
    here = machine_class(threads=record.recipe["threads"])
    return replace(record, recipe={**record.recipe, "machine_class": here.to_dict(), **recipe_changes}), here


def test_the_recorded_class_gets_bit_identity_and_others_the_accuracy_check(published):
    record, here = record_made_here(published["lenet"])
    precision = record.recipe["settings"]["precision"]
    plan = plan_check(record, here, precision, None)
    assert plan.kind == "bit-identity" and plan.epochs == record.recipe["settings"]["epochs"]
    assert plan_check(record, here, precision, 2).epochs == 2
    with pytest.raises(ValueError, match="between 1 and"):
        plan_check(record, here, precision, 0)

    other = replace(here, native_bf16=not here.native_bf16)
    plan = plan_check(record, other, precision, None)
    assert plan.kind == "accuracy" and "native_bf16" in plan.reason
    assert plan.epochs == record.recipe["settings"]["epochs"]
    assert plan_check(record, here, "fp32" if precision == "bf16" else "bf16", None).kind == "accuracy"
    with pytest.raises(ValueError, match="--check-epochs compares weight fingerprints"):
        plan_check(record, other, precision, 1)
    without_spread = replace(record, metrics={k: v for k, v in record.metrics.items() if k != "seed_spread"})
    with pytest.raises(ValueError, match="no seed spread"):
        plan_check(without_spread, other, precision, None)


def test_a_run_trained_on_two_classes_gets_the_accuracy_check_even_on_either_of_them(published):
    record, here = record_made_here(published["lenet"])
    other = replace(here, native_bf16=not here.native_bf16)
    parts = [{"machine": other.summary(), "machine_class": other.to_dict(), "epochs": [1, 30]},
             {"machine": here.summary(), "machine_class": here.to_dict(), "epochs": [31, 60]}]
    record, _ = record_made_here(record, trained_on=parts)
    precision = record.recipe["settings"]["precision"]
    for machine in (here, other):
        plan = plan_check(record, machine, precision, None)
        assert plan.kind == "accuracy" and "epochs 1-30" in plan.reason and "epochs 31-60" in plan.reason
    with pytest.raises(ValueError, match="--check-epochs compares weight fingerprints"):
        plan_check(record, here, precision, 2)
    without_spread = replace(record, metrics={k: v for k, v in record.metrics.items() if k != "seed_spread"})
    with pytest.raises(ValueError, match="runs nowhere: several classes made these bytes"):
        plan_check(without_spread, here, precision, None)


def test_check_epochs_is_limited_to_the_fingerprinted_epochs(published):
    history = [{k: v for k, v in h.items() if k != "weights_sha256" or h["epoch"] <= 2}
               for h in published_history(published["lenet"])]
    record, here = record_made_here(published["lenet"])
    record = replace(record, extra={**record.extra, "history": history_entry(history)})
    precision = record.recipe["settings"]["precision"]
    assert plan_check(record, here, precision, 2).epochs == 2
    with pytest.raises(ValueError, match="fingerprints for epochs 1–2 only"):
        plan_check(record, here, precision, 3)


def test_fingerprints_are_compared_epoch_by_epoch(published):
    log = published_history(published["lenet"])
    first, second = log[:2]
    same = compare_fingerprints(log, [first, second])
    assert [epoch.epoch for epoch in same] == [1, 2] and all(epoch.equal for epoch in same)
    assert same[0].describe() == f"epoch 1: equal weights sha256 {first['weights_sha256']}"
    changed = compare_fingerprints(log, [first, {**second, "weights_sha256": "0" * 64}])
    assert changed[0].equal and not changed[1].equal
    assert changed[1].describe() == f"epoch 2: DIFFERENT weights sha256 {'0' * 64} (published {second['weights_sha256']})"
    assert compare_fingerprints(log, [{**first, "epoch": len(log) + 1}]) == [], "an epoch the log lacks is not compared"


def test_a_gpu_record_is_checked_on_its_gpu_whatever_the_cpu_beside_it(published):
    from zoo.machine import MachineClass

    record = published["vgg16_cifar10"]
    recorded = record.recipe["machine_class"]
    assert recorded["cuda_device"], "the published VGG-16 was trained on a GPU"
    other_host = {"vendor": "AuthenticAMD" if recorded["vendor"] != "AuthenticAMD" else "GenuineIntel",
                  "cpu": "another CPU", "capability": "AVX2", "native_bf16": False, "amx": False, "threads": 16}
    same_gpu = MachineClass(**{**recorded, **other_host})
    plan = plan_check(record, same_gpu, record.recipe["settings"]["precision"], 2)
    assert plan.kind == "bit-identity" and plan.epochs == 2
    other_gpu = MachineClass(**{**recorded, "cuda_device": "NVIDIA A100-SXM4-40GB, CUDA 12.8, cuDNN 90100"})
    cpu_only = machine_class(threads=record.recipe["threads"])
    for machine in (other_gpu, cpu_only):
        with pytest.raises(ValueError) as refused:
            plan_check(record, machine, record.recipe["settings"]["precision"], None)
        message = str(refused.value)
        assert "cuda_device" in message and "vendor" not in message  # only what decides a GPU run's bytes
        assert f"`{record.recipe['command']} --check`" in message
