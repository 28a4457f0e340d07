"""benchmarks/run.py runs and writes the documented JSON shape (speed itself is not asserted here)."""
from __future__ import annotations

import json
import subprocess
import sys

import zoo
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
    assert results["machine_class"] == zoo.machine_class().to_dict()


def test_fast_options_times_every_option_at_both_batch_sizes(tmp_path):
    out = tmp_path / "fast.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "fast_options.py"), "--models", "lenet",
                          "--repeat", "3", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["machine_class"] == zoo.machine_class().to_dict()
    for batch in ("batch256", "batch1"):
        row = results["models"]["lenet"][batch]
        assert row["plain"] == 1.0 and row["plain_ms"] > 0
        assert {"bf16, channels_last", "fp32, channels_last", "fp32, NCHW", "fp32, NCHW, no compile"} < set(row)
        assert any(label.startswith("auto (bf16=") for label in row)
        assert all(v > 0 for v in row.values())
        assert f"lenet {batch} (plain" in run.stdout


def test_train_step_profile_names_the_operators(data_dir):
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "train_step.py"), "--profile",
                          "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "aten::convolution_backward" in run.stderr and "vgg16_cifar10: model step" in run.stderr
    steps = json.loads(run.stdout)
    assert steps["lenet"]["model_step_img_s"] > 0 and 0 < steps["vgg16_cifar10"]["augment_share_of_step"] < 1
