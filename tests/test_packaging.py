"""What the distributions carry and do: `python -m build` makes an sdist with everything its tests need and a wheel
that `twine check` accepts and that, installed in a fresh virtual environment, loads pretrained weights."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support import REPO, missing, smallest
from zoo.errors import DISTRIBUTION


@pytest.fixture(scope="module")
def dists(repo_archive, tmp_path_factory) -> dict[str, Path]:
    """sdist and wheel built by `python -m build` from a clean tree (its egg-info lands there, not in the checkout)."""
    for tool in ("build", "twine"):
        if importlib.util.find_spec(tool) is None:
            missing(f"{tool} is not installed: pip install 'cifar10-zoo[release]' (the test extra has it)")
    source = tmp_path_factory.mktemp("build") / "src"
    shutil.copytree(repo_archive, source)
    out = source.parent / "dist"
    # --no-isolation: build with this environment's setuptools rather than download one into a throwaway venv.
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out),
                          str(source)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    built = {path.suffix: path for path in out.iterdir()}
    return {"sdist": built[".gz"], "wheel": built[".whl"]}


def test_distribution_is_named_cifar10_zoo_and_imports_as_zoo(dists):
    assert dists["wheel"].name.startswith("cifar10_zoo-") and dists["sdist"].name.startswith("cifar10_zoo-")
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"Name: {DISTRIBUTION}" in metadata.splitlines()
    assert {"zoo/__init__.py", "zoo/weights_manifest.json", "zoo/examples/0000_cat.png", "zoo/models/vgg.py"} <= names
    assert not any(n.startswith(("tests/", "weights/", "hubconf")) for n in names), "only the package goes in the wheel"
    with zipfile.ZipFile(dists["wheel"]) as wheel:  # the build copied the repository's manifest into the package
        assert wheel.read("zoo/weights_manifest.json") == (REPO / "weights_manifest.json").read_bytes()


def test_twine_check_passes(dists):
    run = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(dists["sdist"]), str(dists["wheel"])],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.count("PASSED") == 2, run.stdout + run.stderr


def test_sdist_carries_the_tests_and_their_helpers_the_license_and_the_demo_pictures(dists, repo_archive):
    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    needed = {"LICENSE", "README.md", "hubconf.py", "weights_manifest.json", "setup.py",
              "tests/conftest.py", "tests/support/__init__.py", "tests/support/loopback_hub.py",
              "tests/support/tutorial_models.py", "benchmarks/run.py", "zoo/examples/0000_cat.png"}
    assert needed <= names, sorted(needed - names)
    assert {n for n in names if n.startswith("tests/test_")} == {
        p.relative_to(repo_archive).as_posix() for p in (repo_archive / "tests").glob("test_*.py")}
    assert not any(n.startswith("weights/") for n in names)  # weights come from the Hub, not in the sdist
    assert "zoo/weights_manifest.json" not in names  # one manifest: the wheel's copy is made from the root's


LOAD = """
import json, sys, zoo
model = zoo.get_model({name!r}, pretrained=True)
print(json.dumps({{"zoo": zoo.__file__, "training": model.training, "params": sum(p.numel() for p in model.parameters()),
                   "checkout_on_path": any(p and __import__("os").path.isfile(p + "/hubconf.py") for p in sys.path)}}))
"""


def fresh_venv_seeing_this_environment(venv: Path) -> Path:
    """A new venv whose own site-packages comes first, then this environment's (torch & co. without a multi-GB
    download), whether the suite runs in a venv or not: ``--system-site-packages`` would give the *base*
    interpreter's packages, which in a venv are not this environment's. Returns the venv's python."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    query = "import json, sysconfig; print(json.dumps(sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')})))"
    ours = json.loads(subprocess.run([sys.executable, "-c", query], capture_output=True, text=True, check=True).stdout)
    own = json.loads(subprocess.run([str(python), "-c", query], capture_output=True, text=True, check=True).stdout)
    # A path line in a .pth file is appended to sys.path after the venv's own site-packages; the .pth files in that
    # folder (an editable install's finder, say) are not run, so zoo can only come from what the venv installs.
    (Path(own[0]) / "this-environment.pth").write_text("\n".join(ours) + "\n")
    return python


@pytest.mark.slow  # (CI; a venv and a wheel)
def test_wheel_in_a_fresh_venv_loads_weights_through_the_hub_then_offline(dists, hub, tmp_path, published):
    venv = tmp_path / "venv"
    python = fresh_venv_seeing_this_environment(venv)  # zoo only from the wheel
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                              "--ignore-installed", str(dists["wheel"])], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    name = smallest(published)
    env = {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_DISABLE_TELEMETRY": "1",
           "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    def load(**extra: str) -> dict:
        run = subprocess.run([str(python), "-c", LOAD.format(name=name)], cwd=workdir, capture_output=True, text=True,
                             timeout=300, env={**{k: v for k, v in os.environ.items() if not k.startswith("HF_")},
                                               "PYTHONNOUSERSITE": "1", **env, **extra})
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout.splitlines()[-1])

    online = load()
    assert Path(online["zoo"]).resolve().is_relative_to(venv.resolve()), online["zoo"]
    assert not online["checkout_on_path"]
    assert online == {**online, "training": False, "params": published[name].num_params}
    record = published[name]
    assert ("GET", f"/{record.repo_id}/resolve/{record.revision}/{record.filename}") in hub.requests
    hub.close()
    assert load(HF_HUB_OFFLINE="1")["params"] == record.num_params
    # The installed command is there too, and refuses to write into the installed package.
    card = subprocess.run([str(python.parent / "zoo"), "card", name], cwd=workdir, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})
    assert card.returncode == 1 and "--output-dir" in card.stderr, card.stderr
