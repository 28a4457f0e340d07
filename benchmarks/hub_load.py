"""Time `import hubconf` and a `pretrained=True` load, cold (download from a loopback Hub) and warm.

    python -m benchmarks.hub_load [--model lenet] [--repeat 5]

The repo is exported with `git archive HEAD`, what Torch Hub downloads. That archive carries weights/, so a Torch
Hub load reads them from it (``archive_s``); the cold and warm figures are the loads without it, as a pip user's:
the published weights downloaded from the loopback Hub of tests/support/loopback_hub.py, then from its cache.
Each measurement runs in a fresh interpreter; medians of --repeat runs are printed as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tests.support import REPO
from tests.support.loopback_hub import LoopbackHub
from zoo.manifest import published_records

PROBE = """
import json, time
t0 = time.perf_counter(); import torch; t1 = time.perf_counter()
import hubconf; t2 = time.perf_counter()
model = torch.hub.load({repo!r}, {model!r}, source="local", pretrained=True, trust_repo=True); t3 = time.perf_counter()
print(json.dumps({{"import_torch_s": t1 - t0, "import_hubconf_s": t2 - t1, "load_s": t3 - t2}}))
"""


def probe(repo: Path, model: str, env: dict[str, str]) -> dict[str, float]:
    run = subprocess.run([sys.executable, "-c", PROBE.format(repo=str(repo), model=model)], cwd=repo,
                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.splitlines()[-1])


def measure(model: str = "lenet", repeat: int = 5) -> dict[str, float]:
    """Medians over ``repeat`` fresh interpreters: import times, cold (download) and warm (cache) loads."""
    record = published_records()[model]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        archive = scratch / "repo"
        archive.mkdir()
        subprocess.run(["git", "archive", "-o", str(scratch / "repo.tar"), "HEAD"], cwd=REPO, check=True)
        with tarfile.open(scratch / "repo.tar") as tar:
            tar.extractall(archive, filter="data")
        hub = LoopbackHub()
        hub.seed(record.repo_id, {record.filename: (REPO / "weights" / record.name / record.filename).read_bytes()},
                 revision=record.revision)
        cold, warm, archived = [], [], []
        try:
            for i in range(repeat):
                archived.append(probe(archive, model, {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(scratch / "unused")}))
            shutil.rmtree(archive / "weights")
            for i in range(repeat):
                env = {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(scratch / f"hf{i}"), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
                cold.append(probe(archive, model, env))
                warm.append(probe(archive, model, env))
        finally:
            hub.close()
    median = lambda runs, key: round(statistics.median(r[key] for r in runs), 4)  # noqa: E731
    return {"model": model, "repeat": repeat,
            "import_torch_s": median(warm, "import_torch_s"), "import_hubconf_s": median(warm, "import_hubconf_s"),
            "archive_s": median(archived, "load_s"), "cold_s": median(cold, "load_s"), "warm_s": median(warm, "load_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.model, args.repeat), indent=2))


if __name__ == "__main__":
    main()
