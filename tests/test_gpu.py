"""The GPU tier (``pytest -m gpu``): the CUDA paths end to end, wherever CUDA is; skipped, saying why, elsewhere."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import zoo
from zoo.weights import sha256_file

pytestmark = pytest.mark.gpu
RUN = ["lenet", "--epochs", "2", "--train-subset", "5000", "--test-subset", "1000", "--no-progress", "--device", "cuda"]


def train(data_dir, output_dir, *extra: str, launcher: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    command = [sys.executable, *launcher, "-m", "zoo.train", *RUN, "--data-dir", str(data_dir), "--output-dir",
               str(output_dir), *extra]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def test_a_gpu_run_stopped_after_one_epoch_resumes_to_the_same_bytes(data_dir, tmp_path):
    train(data_dir, tmp_path / "whole")
    train(data_dir, tmp_path / "halves", "--stop-after", "1")
    resumed = train(data_dir, tmp_path / "halves", "--resume")
    assert "resumed lenet" in resumed.stdout
    assert sha256_file(tmp_path / "halves" / "model.safetensors") == sha256_file(tmp_path / "whole" / "model.safetensors")
    history = json.loads((tmp_path / "whole" / "history.json").read_text())
    assert history[-1]["train_loss"] < history[0]["train_loss"]


@pytest.mark.parametrize("name", ["lenet", "cifar_quick", "vgg16_cifar10"])
def test_published_models_score_their_figure_on_the_gpu(name, published, test_split):
    """Other kernels, so not the same bits: within a tenth of a point of the published (CPU-scored) top-1."""
    from zoo.metrics import score

    model = zoo.get_model(name, pretrained=True, device="cuda")
    assert next(model.parameters()).is_cuda
    assert abs(score(model, test_split).top1 - published[name].top1) <= 0.001


def test_predictions_on_the_gpu_agree_with_the_cpu(test_split):
    from zoo.metrics import predict_classes

    images = test_split.images[:2000]
    on_gpu = predict_classes(zoo.lenet(pretrained=True, device="cuda"), images)
    on_cpu = predict_classes(zoo.lenet(pretrained=True), images)
    assert (on_gpu == on_cpu).double().mean().item() >= 0.995


def test_two_ranks_on_two_gpus_agree(data_dir, tmp_path):
    if torch.cuda.device_count() < 2:
        pytest.skip(f"torchrun on GPUs needs 2 of them; this machine has {torch.cuda.device_count()}")
    run = train(data_dir, tmp_path, launcher=("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"))
    output = run.stdout + run.stderr
    assert f"rank 1: weights sha256 {sha256_file(tmp_path / 'model.safetensors')}" in output
