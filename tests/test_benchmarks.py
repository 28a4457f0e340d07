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
    assert lenet["train"]["tutorial_img_s"] > 0 and lenet["train"]["zoo_img_s"] > 0
    assert set(results["hub"]) >= {"import_torch_s", "import_hubconf_s", "cold_s", "warm_s"}
    assert "vgg16_train_peak_fraction" in results
    assert "fast/ref" in run.stdout
