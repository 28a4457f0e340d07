"""What a source distribution carries: the package with its data, and everything its own tests need."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile


def test_sdist_carries_the_tests_and_their_helpers_the_license_and_the_demo_pictures(repo_archive, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(repo_archive, source)  # a clean tree: the build writes its egg-info there, not in the checkout
    build = ("import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))")
    run = subprocess.run([sys.executable, "-c", build, str(tmp_path / "dist")], cwd=source, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    with tarfile.open(tmp_path / "dist" / run.stdout.strip().splitlines()[-1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    needed = {"LICENSE", "README.md", "hubconf.py", "weights_manifest.json", "zoo/weights_manifest.json",
              "tests/conftest.py", "tests/loopback_hub.py", "tests/tutorial_models.py", "zoo/examples/0000_cat.png"}
    assert needed <= names, sorted(needed - names)
    assert {n for n in names if n.startswith("tests/test_")} == {
        p.relative_to(repo_archive).as_posix() for p in (repo_archive / "tests").glob("test_*.py")}
    assert not any(n.startswith("weights/") for n in names)  # weights come from the Hub, not in the sdist
