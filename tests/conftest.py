"""Shared fixtures: the real CIFAR-10 (via ZOO_DATA_DIR), a `git archive` of the repo, a loopback Hub."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from loopback_github import LoopbackGitHub
from loopback_hub import LoopbackHub
from zoo.api import list_models
from zoo.manifest import published_records
from zoo.weights import MIRROR_REPO

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
GITHUB_REPO = MIRROR_REPO  # the repository the records' mirror names (README: torch.hub.load("org/zoo", ...))


# Tests run over the registry, so a new model is tested without a test edit: every registered architecture, and every
# one with published weights in weights_manifest.json.
ARCHITECTURE_NAMES = list_models()
PUBLISHED_NAMES = list_models(pretrained=True)

RUN_SLOW = IN_CI or os.environ.get("ZOO_RUN_SLOW") == "1"


def pytest_collection_modifyitems(config, items) -> None:
    """The slow tier (whole-test-set scoring, retraining, benchmarks: minutes each) runs in CI or with ZOO_RUN_SLOW=1,
    or when ``-m`` names the tiers to run; the gpu tier runs wherever CUDA is."""
    import torch

    chosen = bool(config.getoption("markexpr"))
    for item in items:
        if "slow" in item.keywords and not (RUN_SLOW or chosen):
            item.add_marker(pytest.mark.skip(reason="slow tier (minutes): runs in CI, or set ZOO_RUN_SLOW=1"))
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(pytest.mark.skip(reason="gpu tier: this machine has no CUDA device"))


def same_class(entry: dict) -> list[str]:
    """How this machine's class differs from the one a manifest entry was measured on (empty: the same class)."""
    from zoo.machine import machine_class

    return machine_class().differences(entry["machine_class"])


def missing(reason: str):
    """Skip on a developer machine, fail in CI (where everything must be there)."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing test inputs are a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real CIFAR-10 root, from ZOO_DATA_DIR (CI: ../shared/data)."""
    root = os.environ.get("ZOO_DATA_DIR")
    if not root:
        missing("set ZOO_DATA_DIR to a folder holding cifar-10-batches-bin/ or cifar-10-batches-py/")
    if not any((Path(root) / name).is_dir() for name in ("cifar-10-batches-bin", "cifar-10-batches-py")):
        missing(f"ZOO_DATA_DIR={root} holds no cifar-10-batches-bin/ or cifar-10-batches-py/")
    return Path(root)


@pytest.fixture(scope="session")
def test_split(data_dir):
    from zoo.data import load_cifar10

    return load_cifar10(data_dir, train=False)


@pytest.fixture(scope="session")
def repo_commit() -> str:
    """The commit GitHub would serve as ``main``: HEAD, or a commit of HEAD plus the uncommitted tracked edits."""
    if not (REPO / ".git").exists():
        missing("not a git checkout: cannot build the archive Torch Hub would download")
    tree = subprocess.run(["git", "stash", "create"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    return tree or subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout.strip()


@pytest.fixture(scope="session")
def repo_archive(repo_commit, tmp_path_factory) -> Path:
    """The repo as GitHub's archive would serve it (export-ignore applied), unpacked."""
    target = tmp_path_factory.mktemp("archive") / "zoo-main"
    target.mkdir()
    tar_path = target.parent / "repo.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(tar_path), repo_commit], cwd=REPO, check=True)
    with tarfile.open(tar_path) as tar:  # (extraction filters came with Python 3.11.4 and 3.10.12)
        tar.extractall(target, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return target


@pytest.fixture(scope="session")
def pip_copy(repo_archive, tmp_path_factory) -> Path:
    """The code as pip installs it: the archive without its weights/ (the wheel carries none)."""
    target = tmp_path_factory.mktemp("package") / "zoo"
    shutil.copytree(repo_archive, target, ignore=lambda folder, names: ["weights"] if Path(folder) == repo_archive else [])
    return target


@pytest.fixture()
def github(repo_commit):
    """A loopback GitHub serving this repository: ``main`` is ``repo_commit``, raw files at any of its commits."""
    server = LoopbackGitHub(REPO, GITHUB_REPO, {"main": repo_commit})
    yield server
    server.close()


@pytest.fixture(scope="session")
def published():
    records = published_records()
    if not records:
        missing("no published checkpoint in weights_manifest.json")
    return records


@pytest.fixture()
def hub(published):
    """A loopback Hub serving every published checkpoint, from the checkout's weights/, at its recorded revision."""
    server = LoopbackHub()
    for record in published.values():
        source = REPO / "weights" / record.name / record.filename
        if not source.is_file():
            missing(f"{source} is not in this checkout")
        server.seed(record.repo_id, {record.filename: source.read_bytes()}, revision=record.revision)
    yield server
    server.close()


def run_python(code: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (huggingface_hub reads HF_* at import) and return the result."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOO_WEIGHTS"))}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def run_zoo(args: list[str], cwd: Path, env: dict[str, str], setup: str = "") -> subprocess.CompletedProcess:
    """The ``zoo`` command line in a fresh interpreter; ``setup`` is Python run before it (to hide a package, …)."""
    return run_python(f"import os, sys\n{setup}\nfrom zoo.cli import main\nsys.exit(main({list(args)!r}))", cwd, env)


def installed_copy(folder: Path) -> Path:
    """The zoo package copied into ``folder`` as a build installs it (no checkout around it; the repository's manifest
    copied in, as setup.py does): an installed zoo, without building a wheel. Returns ``folder``."""
    shutil.copytree(REPO / "zoo", folder / "zoo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "weights_manifest.json", folder / "zoo" / "weights_manifest.json")
    return folder
