"""The published recipes run again (``python -m zoo.train NAME --check``): in full, bit for bit on the records' class
or within the seed spread elsewhere, or through the first epoch's weight fingerprint: CI's longest tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from zoo.manifest import published_records
from zoo.record_files import published_history

from tests.support import PUBLISHED_NAMES, model_file

# CI retrains in full the published models whose recorded run took at most this long on a CPU; every other published
# model is checked through its first epoch's weight fingerprint (seconds to minutes).
FULL_RETRAIN_S = 900
RECORDS = published_records()
RETRAINED_IN_FULL = [name for name in PUBLISHED_NAMES if not RECORDS[name].recipe["machine_class"].get("cuda_device")
                     and RECORDS[name].recipe["wall_time_s"] <= FULL_RETRAIN_S]


def check_kind(record) -> str | None:
    """The check `--check` runs on this machine for ``record`` ("bit-identity", "accuracy", or None where none can
    run, e.g. off the recorded class without a seed spread), as zoo env says."""
    from zoo.check import plan_check_here

    try:
        return plan_check_here(record).kind
    except ValueError:
        return None


def run_check(name: str, data_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo.train", name, "--check", "--no-progress", "--data-dir",
                           str(data_dir), *extra], capture_output=True, text=True, timeout=3600)


@pytest.mark.slow
def test_check_epochs_verifies_the_first_epoch_bit_for_bit_on_the_recorded_class(data_dir, published):
    record = published["lenet"]
    run = run_check("lenet", data_dir, "--check-epochs", "1")
    if check_kind(record) == "bit-identity":
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "check: bit-identity over 1 epoch" in run.stdout
        assert f"epoch 1: equal weights sha256 {published_history(record)[0]['weights_sha256']}" in run.stdout
        assert "bit-identical through epoch 1: yes" in run.stdout
    else:  # another class cannot reproduce fingerprints, and says so before training
        assert run.returncode != 0 and "--check-epochs compares weight fingerprints" in run.stderr
        assert "this machine's class differs from the record's" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", RETRAINED_IN_FULL)
def test_published_recipe_reproduces_the_published_model(name, data_dir, published):
    """The zoo's central promise, in full: bytes on the recorded class, accuracy within the seed spread elsewhere."""
    from zoo.machine import machine_class

    record = published[name]
    kind = check_kind(record)
    cheapest = min(RETRAINED_IN_FULL, key=lambda n: RECORDS[n].recipe["wall_time_s"])
    if kind == "accuracy" and machine_class().capability != "AVX512":
        # CI's 90 minutes: without AVX-512 every tier runs ~2.5x slower (AMD family 23, AVX2: the rows measured there
        # add up to ~90 minutes with this retrain, which alone took 12 min 50 s, and passed)
        pytest.skip(f"another machine class without AVX-512 ({machine_class().capability} kernels): CI's time does not "
                    f"hold the full retrain; `python -m zoo.train {name} --check` checks it here")
    if kind == "accuracy" and name != cheapest:
        pytest.skip(f"another machine class: {cheapest}'s full retrain covers the accuracy check in CI ({name}'s "
                    f"would add ~{2 * record.recipe['wall_time_s'] / 60:.0f} min or more); run "
                    f"`python -m zoo.train {name} --check` to check it here")
    run = run_check(name, data_dir)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"check: {kind} over {record.recipe['settings']['epochs']} epochs" in run.stdout
    if kind == "bit-identity":
        assert f"new       sha256 {record.sha256}" in run.stdout
        assert "bit-identical: yes" in run.stdout and "DIFFERENT" not in run.stdout
    else:
        assert "accuracy check: top-1" in run.stdout and "within the seed spread: yes" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in PUBLISHED_NAMES if name not in RETRAINED_IN_FULL])
def test_first_epoch_is_bit_identical_on_the_recorded_class(name, data_dir, published):
    """A long run, checked in a minute or two through its first epoch's weight fingerprint, where its class is."""
    from zoo.check import plan_check
    from zoo.machine import machine_class

    record = published[name]
    device = "cuda" if record.recipe["machine_class"].get("cuda_device") else "cpu"
    retrained = [other for other in RETRAINED_IN_FULL if model_file(other) == model_file(name)
                 and check_kind(RECORDS[other]) == "bit-identity"]
    if retrained:  # (airbench95's first epoch: 322 s on an Intel AMX machine where airbench94's 12 took 1,348 s)
        pytest.skip(f"{retrained[0]}, of the same model file, retrains in full here, bit for bit: what the file's "
                    f"models share is checked there; `{record.recipe['command']} --check --check-epochs 1` checks "
                    f"{name}'s first epoch")
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip(f"recorded on a GPU ({record.recipe['machine_class']['cuda_device']}) and this machine has none: "
                    f"`{record.recipe['command']} --check --check-epochs 1` runs the check there")
    try:
        plan_check(record, machine_class(device, threads=record.recipe["threads"]),
                   record.recipe["settings"]["precision"], 1)
    except ValueError as why:
        pytest.skip(str(why))
    run = run_check(name, data_dir, "--device", device, "--check-epochs", "1")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "bit-identical through epoch 1: yes" in run.stdout
