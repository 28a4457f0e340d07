"""torchrun data-parallel training on this CPU: two gloo ranks on a real-data subset."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from zoo.weights import sha256_file

# The slow tier (CI): two ranks are three interpreters, ~9 s of the default tier's time on two cores, for what a
# newcomer's change seldom touches; tests/test_bad_inputs.py keeps torchrun's bad environments in the default tier.
pytestmark = pytest.mark.slow

RUN = ["lenet", "--epochs", "3", "--train-subset", "4000", "--test-subset", "1000", "--no-progress"]


def torchrun(data_dir, output_dir, *extra, wait=True):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "zoo.train",
               *RUN, "--data-dir", str(data_dir), "--output-dir", str(output_dir), *extra]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def ddp_run(data_dir, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("ddp")
    return output_dir, torchrun(data_dir, output_dir)


def test_two_ranks_finish_agree_and_learn(ddp_run):
    output_dir, run = ddp_run
    rank1 = re.search(r"rank 1: weights sha256 ([0-9a-f]{64})", run.stdout + run.stderr)
    assert rank1, run.stdout
    assert rank1.group(1) == sha256_file(output_dir / "model.safetensors"), "rank 0 wrote other weights than rank 1 holds"
    history = json.loads((output_dir / "history.json").read_text())
    assert len(history) == 3, "only rank 0 logs: one line per epoch"
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.05
    assert history[-1]["test_top1"] > 0.2


def test_each_rank_trains_on_its_own_slice_of_every_global_batch(ddp_run, data_dir):
    """Rank r trains on the r-th half of each global batch that the single-process recipe draws: recompute the
    batches and compare every epoch's image count and label sum per rank with what the ranks report."""
    import torch

    from zoo.data import load_cifar10
    from zoo.recipes import get_recipe
    from zoo.loop import epoch_batches

    _, run = ddp_run
    reported = re.findall(r"rank (\d): trained on (\d+) images, label sum (\d+)", run.stdout + run.stderr)
    recipe = get_recipe("lenet").with_overrides(epochs=3)
    train_split = load_cifar10(data_dir, train=True).subset(4000)
    generator = torch.Generator().manual_seed(recipe.seed)
    expected = []
    for _ in range(recipe.epochs):
        batches = epoch_batches(train_split, recipe, generator)
        for rank in (0, 1):
            halves = [labels.tensor_split(2)[rank] for _, labels in batches]
            expected.append((str(rank), str(sum(len(h) for h in halves)), str(sum(int(h.sum()) for h in halves))))
    assert sorted(reported) == sorted(expected)
    counts = {(rank, count) for rank, count, _ in reported}
    assert counts == {("0", "2000"), ("1", "2000")}  # 4,000 images split evenly, none twice


def test_killed_and_resumed_under_torchrun_ends_on_the_same_bytes(ddp_run, data_dir, tmp_path):
    output_dir, _ = ddp_run
    process = torchrun(data_dir, tmp_path, wait=False)
    deadline = time.monotonic() + 300
    while not (tmp_path / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "model.safetensors").exists(), "the run finished before it could be killed"
    resumed = torchrun(data_dir, tmp_path, "--resume")
    assert "resumed lenet" in resumed.stdout + resumed.stderr
    assert sha256_file(tmp_path / "model.safetensors") == sha256_file(output_dir / "model.safetensors")
