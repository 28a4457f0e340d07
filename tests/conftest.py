"""Shared fixtures: the real CIFAR-10 (via ZOO_DATA_DIR), a `git archive` of the repo, a loopback Hub."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support import GITHUB_REPO, REPO, RUN_SLOW, missing
from tests.support.loopback_github import LoopbackGitHub
from tests.support.loopback_hub import LoopbackHub
from zoo.manifest import published_records


def slow_tier_may_run(config) -> bool:
    """``-m slow`` runs the slow tier (CI does, after the default tier), ZOO_RUN_SLOW=1 both tiers; a ``-m`` choice
    runs what it names."""
    return RUN_SLOW or bool(config.getoption("markexpr"))


def pytest_xdist_auto_num_workers(config) -> int | None:
    """``-n auto`` (setup.cfg): one worker per core (pytest-xdist's count) for the default tier, but none — the tests
    one after the other, in this process — where the slow tier may run (a ``-m`` choice, as CI's ``-m slow``, or
    ZOO_RUN_SLOW=1): its training runs and benchmarks own the cores. Measured in CI on the Intel AMX class with two
    workers: airbench94's full retrain (now the retrain tier's) got one core for most of its 56 minutes while the other
    worker ran the rest."""
    return 0 if slow_tier_may_run(config) else None


def pytest_configure(config) -> None:
    """With tests side by side (pytest-xdist's workers, setup.cfg's addopts), torch's OpenMP threads sleep while they
    wait instead of spinning: a 2-thread run sharing a core with another busy process was measured 4-8x slower. Set
    here, before the workers start (each reads it once, when torch loads); a setting of the caller's is kept."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_collection_modifyitems(config, items) -> None:
    """The slow tier (whole-test-set scoring, first epochs of the recipes, benchmarks: minutes each) runs when ``-m``
    names it (CI: ``-m slow`` after the default tier) or with ZOO_RUN_SLOW=1; the retrain tier (full retrains: an hour
    and more) only when ``-m`` names it; the gpu tier runs wherever CUDA is."""
    import torch

    run_slow = slow_tier_may_run(config)
    run_retrain = "retrain" in (config.getoption("markexpr") or "")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow tier (minutes): `python -m pytest -m slow` runs it, as CI does"))
        if "retrain" in item.keywords and not run_retrain:
            item.add_marker(pytest.mark.skip(reason="retrain tier (an hour and more): `python -m pytest -m retrain` runs "
                                                    "it, before a release"))
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(pytest.mark.skip(reason="gpu tier: this machine has no CUDA device"))


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
    """A loopback Hub serving every published file (weights, int8 calibration, history), from the checkout's
    weights/, at its record's revision."""
    server = LoopbackHub()
    for record in published.values():
        files = {}
        for file in record.published_files():
            source = REPO / "weights" / record.name / file.filename
            if not source.is_file():
                missing(f"{source} is not in this checkout")
            files[file.filename] = source.read_bytes()
        server.seed(record.repo_id, files, revision=record.revision)
    yield server
    server.close()


@pytest.fixture()
def cli(capsys, monkeypatch):
    """The ``zoo`` command line in this interpreter, as a ``CompletedProcess`` (no interpreter start: a second or two
    saved a command): ``cli(*args, cwd=None, env=None)``. Torch's global settings that a command may change (threads,
    deterministic algorithms) are put back afterwards; environment and working folder through ``monkeypatch``.
    For what an interpreter reads once at import (HF_* settings) or a hidden package, use ``tests.support.zoo_command``."""
    import torch

    from zoo.cli import main

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()  # (what the test printed before is not the command's)
        try:
            status = main(list(args))
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["zoo", *args], status, out, err)

    return run
