"""benchmarks/run.py runs and writes the documented JSON shape (speed itself is not asserted here)."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO


def test_quick_benchmark_writes_the_documented_json(tmp_path, data_dir, published):
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--models", "lenet",
                          "--data-dir", str(data_dir), "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    lenet = results["models"]["lenet"]
    for contestant in ("reference", "zoo", "fast"):
        assert lenet["inference"][contestant]["batch256_img_s"] > 0
        assert lenet["inference"][contestant]["batch1_ms"] > 0
    assert abs(lenet["inference"]["fast"]["top1"] - published["lenet"].top1) <= 0.001
    for pipeline in ("tutorial", "zoo"):
        for figure in ("img_s", "data_img_s", "step_img_s"):
            assert lenet["train"][f"{pipeline}_{figure}"] > 0
    assert "with a free data path" in run.stdout
    assert set(results["hub"]) >= {"import_torch_s", "import_hubconf_s", "cold_s", "warm_s"}
    assert "vgg16_train_peak_fraction" in results
    assert "fast/ref" in run.stdout


def test_batch1_latency_times_every_fast_path_option():
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "batch1_latency.py"), "--repeat", "5"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert len(lines) == 4
    for label in ("plain (no_grad, fp32, NCHW)", "fast ", "fast, bf16=False", "fast, compile=False"):
        assert f"lenet batch 1, {label}" in run.stdout
    assert all(line.endswith(" ms") and float(line.split()[-2]) > 0 for line in lines)


def test_train_step_profile_names_the_operators(data_dir):
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "train_step.py"), "--profile",
                          "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "aten::convolution_backward" in run.stderr and "vgg16_cifar10: model step" in run.stderr
    steps = json.loads(run.stdout)
    assert steps["lenet"]["model_step_img_s"] > 0 and 0 < steps["vgg16_cifar10"]["augment_share_of_step"] < 1
