"""benchmarks/ run and write the documented JSON; its figures agree with each other (speed itself is not asserted:
each check below is a relation between reported figures that a wrong measurement or a wrong report would break)."""
from __future__ import annotations

import pytest

import json
import os
import subprocess
import sys

import zoo
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from peers import PEERS  # noqa: E402


@pytest.mark.slow
def test_quick_benchmark_writes_the_documented_json(tmp_path, data_dir, published):
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--models", "lenet",
                          "--data-dir", str(data_dir), "--out", str(out)], capture_output=True, text=True, timeout=600)
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


@pytest.mark.slow
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
        # the auto row is the fast path as prepare_for_cpu_inference builds it on this machine
        auto = zoo.prepare_for_cpu_inference(zoo.get_model("lenet", pretrained=True))
        assert f"auto ({auto.extra_repr()})" in row
        assert f"lenet {batch} (plain" in run.stdout


@pytest.mark.slow
def test_train_step_profile_names_the_operators(data_dir):
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "train_step.py"), "--profile",
                          "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "aten::convolution_backward" in run.stderr and "vgg16_cifar10: model step" in run.stderr
    assert set(json.loads(run.stdout)) >= {"lenet", "vgg16_cifar10"}


README_FILES = ("results*.json", "batch1_profile*.json", "int8_profile*.json")


@pytest.mark.parametrize("results_file", sorted(p.name for pattern in README_FILES
                                                for p in (REPO / "benchmarks").glob(pattern)))
def test_readme_speed_tables_are_the_benchmark_files(results_file):
    """Each benchmark file's tables, rendered by benchmarks/readme_tables.py, stand in docs/ verbatim: a re-run
    that is not rendered, or a figure edited by hand, fails here."""
    from readme_tables import tables

    docs = "\n".join(path.read_text(encoding="utf-8") for path in sorted((REPO / "docs").glob("*.md")))
    for table in tables(REPO / "benchmarks" / results_file):
        assert table in docs, f"docs/ lacks this table of {results_file} (python benchmarks/readme_tables.py):\n{table}"


def test_readme_models_table_speeds_are_the_benchmark_files():
    """The Models table's fast-path column holds each class's figure from the files run.py wrote (it once kept an older
    run's figures after the files had moved on)."""
    from readme_tables import models_table_speeds

    section = (REPO / "docs" / "models.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines() if line.startswith("| `")}
    for name, cell in models_table_speeds(REPO / "benchmarks").items():
        assert f"| {cell} |" in rows[name], f"docs/models.md's table row of {name} lacks | {cell} |"


def test_int8_ceiling_runs_with_the_instructions_of_this_class(tmp_path):
    """benchmarks/int8_profile.py's ceiling builds and runs here: VNNI's instruction where the class has it, AVX2's
    sequence where not (before, a CPU without VNNI got no ceiling at all)."""
    import shutil

    from int8_profile import PEAK_INSTRUCTIONS, int8_peak

    if not shutil.which(os.environ.get("CXX", "g++")):
        pytest.skip("no C++ compiler to build benchmarks/int8_peak.cpp")
    here = zoo.machine_class()
    peak = int8_peak(tmp_path, here.vnni)
    assert callable(peak), f"{PEAK_INSTRUCTIONS[here.vnni][0]}: {peak}"
    assert peak() > 1.0  # G multiply-adds/s on two threads: any working build of either kernel does far more
