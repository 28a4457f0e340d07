"""Training: bit-identical reruns, kill-and-resume, learning on a real-data subset, the CLI's guards. The published
recipes' own reruns (``--check``) are tests/test_retrain.py."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from zoo.weights import sha256_file

from tests.support import RUNTIME, assert_clean_error

SHORT_RUN = ["lenet", "--epochs", "3", "--train-subset", "6000", "--test-subset", "2000", "--no-progress"]


def train(data_dir: Path, output_dir: Path, *extra: str, wait: bool = True):
    command = [sys.executable, "-m", "zoo.train", *SHORT_RUN, "--data-dir", str(data_dir),
               "--output-dir", str(output_dir), *extra]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture(scope="module")
def first_run(data_dir, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("first")
    run = train(data_dir, output_dir)
    return output_dir, run


def test_short_run_learns(first_run):
    output_dir, _ = first_run
    history = json.loads((output_dir / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.1
    assert history[-1]["test_top1"] > 0.35, "far above the 10% of chance"


def test_same_recipe_twice_gives_identical_bytes_and_the_library_leaves_the_printing_to_its_caller(
        first_run, data_dir, tmp_path, capsys):
    """The second run is zoo.loop.train in this interpreter: the bytes of the command line's run in another one, and
    its lines (what resuming found, one JSON object per epoch) go to ``log``, not to stdout."""
    from zoo.loop import RunOptions, train as train_here
    from zoo.machine import machine_class, training_precision
    from zoo.recipes import get_recipe

    output_dir, _ = first_run
    recipe = get_recipe("lenet").with_overrides(epochs=3)
    # as zoo train does: fp32 where this CPU only emulates the recipe's bf16
    recipe = recipe.with_overrides(precision=training_precision(recipe.precision, "cpu", machine_class()))
    lines: list[str] = []
    options = RunOptions(data_dir=data_dir, output_dir=tmp_path, resume=True, train_subset=6000, test_subset=2000,
                         progress=False)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        result = train_here(recipe, options, log=lines.append)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    assert result.sha256 == sha256_file(output_dir / "model.safetensors")
    assert capsys.readouterr().out == ""
    # result.json: what a seed spread counts of a run whose weights were not kept, measured as the weights would be
    from zoo.artifacts import model_from_bytes
    from zoo.data import load_cifar10
    from zoo.metrics import score

    kept = json.loads((tmp_path / "result.json").read_text())
    weights = (tmp_path / "model.safetensors").read_bytes()
    test = load_cifar10(data_dir, train=False).subset(2000)
    assert kept["top1"] == score(model_from_bytes("lenet", weights), test).top1 == result.top1
    assert kept["sha256"] == result.sha256 and kept["recipe"] == recipe.to_dict()
    assert lines[0] == f"no checkpoint in {tmp_path}; starting from scratch"
    assert [json.loads(line) for line in lines[1:]] == result.history


def test_killed_and_resumed_run_gives_identical_bytes(first_run, data_dir, tmp_path):
    output_dir, _ = first_run
    process = train(data_dir, tmp_path, wait=False)
    checkpoint = tmp_path / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (tmp_path / "model.safetensors").exists(), "the run finished before it could be killed"
    resumed = train(data_dir, tmp_path, "--resume")
    assert "resumed lenet" in resumed.stdout and "at epoch 3/3" not in resumed.stdout
    assert sha256_file(tmp_path / "model.safetensors") == sha256_file(output_dir / "model.safetensors")


def test_finished_run_is_reexported_in_half_precision_and_loads_as_float32(first_run, data_dir, tmp_path):
    from safetensors import safe_open

    from zoo.artifacts import model_from_bytes

    output_dir, first = first_run
    shutil.copy(output_dir / "checkpoint.pt", tmp_path / "checkpoint.pt")
    run = train(data_dir, tmp_path, "--resume", "--weights-dtype", "float16")
    assert "at epoch 3/3" in run.stdout
    full, half = output_dir / "model.safetensors", tmp_path / "model.safetensors"
    with safe_open(str(half), "pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}
    assert half.stat().st_size < 0.55 * full.stat().st_size
    reloaded = model_from_bytes("lenet", half.read_bytes()).state_dict()
    original = model_from_bytes("lenet", full.read_bytes()).state_dict()
    for key, value in reloaded.items():
        assert value.dtype == torch.float32
        assert torch.equal(value, original[key].half().float())
    first_top1 = re.search(r"top-1 (\d\.\d+)", first.stdout).group(1)
    assert f"float32 weights before storing them as float16: {first_top1}" in run.stdout


def test_missing_data_is_a_clear_error(tmp_path, cli):
    run = cli("train", "lenet", "--data-dir", str(tmp_path), "--epochs", "1", "--output-dir", str(tmp_path / "run"))
    assert_clean_error(run, RUNTIME, f"no CIFAR-10 found in {tmp_path}")


@pytest.mark.slow  # (CI: --stop-after; the default tier keeps the killed-and-resumed run above)
def test_stopped_run_resumes_to_the_same_bytes(first_run, data_dir, tmp_path):
    output_dir, _ = first_run
    stopped = train(data_dir, tmp_path, "--stop-after", "1")
    assert "stopped after epoch 1/3" in stopped.stdout and not (tmp_path / "model.safetensors").exists()
    train(data_dir, tmp_path, "--resume")
    assert sha256_file(tmp_path / "model.safetensors") == sha256_file(output_dir / "model.safetensors")
    history = json.loads((tmp_path / "history.json").read_text())
    first = json.loads((output_dir / "history.json").read_text())
    assert [h["weights_sha256"] for h in history] == [h["weights_sha256"] for h in first]


@pytest.mark.slow  # (CI; a maintainer's run across sessions)
def test_a_run_resumed_on_another_machine_class_goes_on_and_says_which_class_trained_which_epochs(data_dir, tmp_path):
    """A run longer than a session continues on the next session's machine, whatever its class (issue 36)."""
    from zoo.checkpoint import load_checkpoint
    from zoo.machine import MachineClass

    train(data_dir, tmp_path, "--stop-after", "1", "--precision", "bf16")
    written = (tmp_path / "checkpoint.pt").read_bytes()

    def resume(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "zoo.train", *SHORT_RUN, "--data-dir", str(data_dir),
                               "--output-dir", str(tmp_path), "--resume", *extra], capture_output=True, text=True,
                              timeout=600, env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI", "MKL_CBWR": "AVX2"})

    # Where bf16 is emulated zoo trains in fp32 unless told otherwise: a bf16 run cannot go on in fp32 unasked.
    refused = resume()
    assert refused.returncode != 0 and "precision 'bf16' there, 'fp32' here" in refused.stderr, refused.stderr
    assert (tmp_path / "checkpoint.pt").read_bytes() == written
    resumed = resume("--precision", "bf16")
    assert resumed.returncode == 0, resumed.stderr
    assert "note: epochs 1-1 were trained on another machine class (" in resumed.stdout
    first, second = load_checkpoint(tmp_path / "checkpoint.pt")["trained_on"]
    assert (first["epochs"], second["epochs"]) == ([1, 1], [2, 3])
    assert MachineClass(**second["machine_class"]).differences(first["machine_class"])
    assert (tmp_path / "model.safetensors").is_file()


def test_tensorboard_curves_are_written(data_dir, tmp_path):
    pytest.importorskip("tensorboard", reason="pip install 'cifar10-zoo[tensorboard]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    subprocess.run([sys.executable, "-m", "zoo.train", "lenet", "--epochs", "2", "--train-subset", "1000",
                    "--test-subset", "500", "--no-progress", "--data-dir", str(data_dir), "--output-dir",
                    str(tmp_path), "--tensorboard", str(tmp_path / "tb")], check=True, capture_output=True)
    events = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert set(events.Tags()["scalars"]) == {"train/loss", "test/top1", "lr"}
    assert [e.step for e in events.Scalars("test/top1")] == [1, 2]


# ---- Jordan (2024)'s methods (issue 36) ------------------------------------------------------------------------

# 2 steps an epoch (batches of 1,024): the Lookahead's first sync (step 5) falls after a stop at epoch 2
AIRBENCH_SHORT = ["airbench94_cifar10", "--epochs", "4", "--train-subset", "2048", "--test-subset", "500",
                  "--no-progress"]


def train_airbench(data_dir: Path, output_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "zoo.train", *AIRBENCH_SHORT, "--data-dir", str(data_dir),
                          "--output-dir", str(output_dir), *extra], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.mark.slow  # (CI; lenet's resume stays in the default tier; airbench's takes 36 s)
def test_a_stopped_airbench_run_resumes_to_the_same_bytes(data_dir, tmp_path):
    """Whitening from the data, the whitening bias frozen after epoch 3, the Lookahead's slow weights and the
    alternating flips all survive a stop after epoch 2 and a resume: the file is the uninterrupted run's."""
    whole = train_airbench(data_dir, tmp_path / "whole")
    train_airbench(data_dir, tmp_path / "halves", "--stop-after", "2")
    train_airbench(data_dir, tmp_path / "halves", "--resume")
    assert sha256_file(tmp_path / "halves" / "model.safetensors") == sha256_file(tmp_path / "whole" / "model.safetensors")
    assert "top-1 with multi-crop test-time augmentation: " in whole.stdout


def test_alternating_flips_flip_each_image_every_other_epoch():
    from zoo.loop import alternating_flips

    epochs = torch.stack([alternating_flips(10_000, seed=3, epoch=e) for e in range(4)])
    assert 0.45 < epochs[0].float().mean() < 0.55  # half of the images at random in the first epoch
    assert bool((epochs[0] ^ epochs[1]).all()) and bool((epochs[1] ^ epochs[2]).all())  # then each one, every other epoch
    assert not torch.equal(epochs[0], alternating_flips(10_000, seed=4, epoch=0))  # another seed, other images


def test_the_whitening_layer_whitens_the_patches_it_was_made_from(data_dir):
    """The patch convolution's first 12 channels, applied to the training images it was computed from, give
    uncorrelated outputs of variance λ/(λ + eps): the definition of (slightly damped) whitening."""
    import torch.nn.functional as F

    from zoo.data import load_cifar10, normalize
    from zoo.models import build_model

    images = normalize(load_cifar10(data_dir, train=True).images[:5000], channels_last=False)
    model = build_model("airbench94_cifar10")
    model.init_from_training_images(images)
    out = F.conv2d(images, model.whiten.weight[:12]).permute(0, 2, 3, 1).reshape(-1, 12).double()
    covariance = out.T @ out / len(out)
    off_diagonal = covariance - torch.diag(covariance.diag())
    assert off_diagonal.abs().max() < 1e-3, off_diagonal.abs().max()
    assert bool((covariance.diag() > 0.5).all() and (covariance.diag() < 1.0 + 1e-6).all()), covariance.diag()
