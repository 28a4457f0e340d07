"""The published recipes run again (``python -m zoo.train NAME --check``). The slow tier (CI) checks each model file's
first epoch against its recorded weight fingerprint, bit for bit on the records' class; the retrain tier
(``python -m pytest -m retrain``: an hour and more, before a release and after a change to the training code) retrains
in full — bit for bit on the records' class, within the seed spread elsewhere."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from zoo.manifest import published_records
from zoo.record_files import published_history

from tests.support import ONE_PER_MODEL_FILE, PUBLISHED_NAMES

# The retrain tier retrains in full the published models whose recorded run took at most this long on a CPU; the rest
# (hours) are `python -m zoo.train NAME --check` by hand, on the class their record names.
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
def test_check_epochs_off_the_recorded_class_says_so_before_training(data_dir, published):
    """Another class cannot reproduce fingerprints, and says so before training (on lenet's own class, the test below
    checks its first epoch)."""
    if check_kind(published["lenet"]) == "bit-identity":
        pytest.skip("this is lenet's recorded class: test_first_epoch_is_bit_identical_on_the_recorded_class[lenet] "
                    "runs its --check-epochs 1")
    run = run_check("lenet", data_dir, "--check-epochs", "1")
    assert run.returncode != 0 and "--check-epochs compares weight fingerprints" in run.stderr
    assert "this machine's class differs from the record's" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", ONE_PER_MODEL_FILE)
def test_first_epoch_is_bit_identical_on_the_recorded_class(name, data_dir, published):
    """What a change to a model file, the data path, the loop or torch breaks shows in the first epoch's weights:
    checked in a minute or two per model file (its smallest published model) where the record's class is. (The full
    retrains took 1,782 s of CI on the Intel AMX class, airbench94's 1,422 s of it: the retrain tier below.)"""
    from zoo.check import plan_check
    from zoo.machine import machine_class

    record = published[name]
    device = "cuda" if record.recipe["machine_class"].get("cuda_device") else "cpu"
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
    assert "check: bit-identity over 1 epoch" in run.stdout
    assert f"epoch 1: equal weights sha256 {published_history(record)[0]['weights_sha256']}" in run.stdout
    assert "bit-identical through epoch 1: yes" in run.stdout


@pytest.mark.retrain
@pytest.mark.parametrize("name", RETRAINED_IN_FULL)
def test_published_recipe_reproduces_the_published_model(name, data_dir, published):
    """The zoo's central promise, in full: bytes on the recorded class, accuracy within the seed spread elsewhere."""
    record = published[name]
    kind = check_kind(record)
    if kind is None:
        pytest.skip(f"no check can run here for {name}: `python -m zoo.train {name} --check` says why")
    run = run_check(name, data_dir)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"check: {kind} over {record.recipe['settings']['epochs']} epochs" in run.stdout
    if kind == "bit-identity":
        assert f"new       sha256 {record.sha256}" in run.stdout
        assert "bit-identical: yes" in run.stdout and "DIFFERENT" not in run.stdout
    else:
        assert "accuracy check: top-1" in run.stdout and "within the seed spread: yes" in run.stdout
