"""The benchmark harness runs and writes the documented JSON; its figures agree with each other (speed itself is not
asserted: each check below is a relation between reported figures that a wrong measurement or a wrong report would
break). docs/ holds the tables rendered from its files: tests/test_release.py checks that (``zoo docs``).
benchmarks/investigations/ is frozen and not tested."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import zoo
from benchmarks.peers import PEERS
from tests.support import REPO


@pytest.mark.slow
def test_quick_benchmark_writes_the_documented_json(tmp_path, data_dir, published):
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--models", "lenet", "--data-dir",
                          str(data_dir), "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    lenet = results["models"]["lenet"]
    inference = lenet["inference"]
    # the test extra has every contestant's package; OpenVINO runs bf16 only where the class has it natively
    no_bf16 = set() if zoo.machine_class().native_bf16 else {"openvino_bf16"}
    assert set(inference["missing"]) == no_bf16, inference["missing"]
    peers = [label for label in PEERS if label not in no_bf16]
    for contestant in ("reference", "zoo", "fast", "int8", *peers):
        figures = lenet["inference"][contestant]
        for key in ("batch256_img_s", "batch1_ms"):  # the headline figure is the median of its recorded range
            spread = figures[f"{key}_range"]
            assert figures[key] == spread["median"] and 0 < spread["min"] <= spread["median"] <= spread["max"], key
    assert lenet["inference"]["fast"]["published_top1"] == published["lenet"].top1
    assert abs(lenet["inference"]["fast"]["top1"] - published["lenet"].top1) <= 0.001
    for float_peer in ("onnxruntime", "openvino_f32"):
        assert abs(inference[float_peer]["top1"] - published["lenet"].top1) <= 0.0005, float_peer
    assert published["lenet"].top1 - inference["openvino_int8"]["top1"] <= 0.005  # NNCF's int8: its own rounding
    for batch, figure, fastest in (("batch256", "batch256_img_s", max), ("batch1", "batch1_ms", min)):
        for side, labels in (("best_zoo", ("zoo", "fast", "int8")), ("best_peer", peers)):
            assert inference[side][figure] == fastest(inference[label][figure] for label in labels), (side, batch)
            assert inference[inference[side][batch]][figure] == inference[side][figure]
    assert "best zoo/peer" in run.stdout
    int8 = published["lenet"].extra["int8"]
    if not zoo.machine_class().differences(int8["machine_class"]):  # the int8 kernels of the recorded class
        assert lenet["inference"]["int8"]["top1"] == int8["metrics"]["cifar10_test_top1"]
    assert published["lenet"].top1 - lenet["inference"]["int8"]["top1"] <= 0.002
    train = lenet["train"]
    for pipeline in ("tutorial", "zoo"):
        low, high = train[f"{pipeline}_img_s_range"]
        assert 0 < low <= train[f"{pipeline}_img_s"] <= high
        # a pass is its data path then its model step, so its rate is below each part's (stopwatch rounding: 1 %)
        assert train[f"{pipeline}_img_s"] <= 1.01 * min(train[f"{pipeline}_data_img_s"], train[f"{pipeline}_step_img_s"])
    assert train["model"] == "lenet"
    assert "with a free data path" in run.stdout
    assert set(results["hub"]) >= {"import_torch_s", "import_hubconf_s", "cold_s", "warm_s"}
    assert "vgg16_train_peak_fraction" in results
    assert "fast/ref" in run.stdout
    assert results["machine_class"] == zoo.machine_class().to_dict()
