"""The release path to the Hub: `zoo publish` through the real huggingface_hub client against the loopback Hub,
then back down through hf_hub_download at the pinned commit, sha256-checked, and offline from the cache."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.support import GITHUB_REPO, REPO, run_python, zoo_command
from tests.support.loopback_hub import LoopbackHub
from zoo.release.card_beyond import has_figures

# The maintainers' upload (zoo publish) against the loopback Hub: round trips of a few seconds each, in CI.
pytestmark = pytest.mark.slow

TOKEN = "hf_loopback_write_token"
SMALL = ["cifar_quick", "lenet"]  # the round trip moves these two (VGG-16's 30 MB adds time, not coverage)


@pytest.fixture()
def checkout(repo_archive, tmp_path, published):
    """A clone of the repository with its weights/ (the archive carries them)."""
    root = tmp_path / "clone"
    shutil.copytree(repo_archive, root)
    return root


@pytest.fixture()
def empty_hub():
    server = LoopbackHub(token=TOKEN)
    yield server
    server.close()


def publish_env(hub, tmp_path, **extra):
    # HF_HUB_DISABLE_XET: the Hub takes uploads by Xet (its own storage service) or by Git LFS; the loopback Hub
    # speaks LFS, which huggingface_hub uses when Xet is off.
    return {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN, **extra}


def zoo(checkout, env, *args):
    return zoo_command(*args, cwd=checkout, env=env)


def manifest(checkout) -> dict:
    assert not (checkout / "zoo" / "weights_manifest.json").exists()  # one manifest: a clone writes no package copy
    return json.loads((checkout / "weights_manifest.json").read_bytes())["models"]


LOAD = """
import json, zoo
model = zoo.get_model({name!r}, pretrained=True)
print(json.dumps({{"training": model.training, "params": sum(p.numel() for p in model.parameters())}}))
"""


def test_publish_round_trip_pins_the_commit_and_loads_it_verified(checkout, empty_hub, tmp_path, published):
    hub, env = empty_hub, publish_env(empty_hub, tmp_path)
    before = manifest(checkout)
    run = zoo(checkout, env, "publish", *SMALL, "--repo-id-prefix", "zoo-tester/cifar10")
    assert run.returncode == 0, run.stderr

    after = manifest(checkout)
    for name in SMALL:
        repo_id = f"zoo-tester/cifar10-{name.replace('_', '-')}"
        repo = hub.repos[repo_id]
        head = repo.refs["main"]
        record = published[name]
        assert after[name] == {**before[name], "repo_id": repo_id, "revision": head}  # only these two changed
        assert f"{name}: {repo_id}@{head}" in run.stdout
        files = repo.commits[head].files
        assert files[record.filename] == (REPO / "weights" / name / record.filename).read_bytes()
        figures = {"reliability.png"} if has_figures(record) else set()  # once a record has calibration figures
        pinned = {file.filename for file in record.published_files()}  # weights, int8 calibration, history, evaluation
        assert set(files) == {".gitattributes", "README.md", "confusion_matrix.png", "training_curves.png", *pinned,
                              *figures}
        card = (checkout / "weights" / name / "README.md").read_bytes()
        assert files["README.md"] == card and f'hf_hub_download("{repo_id}", '.encode() in card
        assert repo.commits[head].parent == next(oid for oid, c in repo.commits.items() if c.parent is None)  # 1 commit
        assert hub.lfs[record.sha256] == files[record.filename]  # the weights went by the LFS transfer

    # The files move on on the Hub's main branch; the manifest's commit does not.
    lenet = published["lenet"]
    hub.repos["zoo-tester/cifar10-lenet"].commit("main", "overwrite", {lenet.filename: b"not the published weights"})
    shutil.rmtree(checkout / "weights")  # loads must now come from the Hub
    load_env = {k: v for k, v in env.items() if k != "HF_TOKEN"}
    first = run_python(LOAD.format(name="lenet"), checkout, load_env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1]) == {"training": False, "params": lenet.num_params}
    pinned = f"/zoo-tester/cifar10-lenet/resolve/{after['lenet']['revision']}/{lenet.filename}"
    assert ("GET", pinned) in hub.requests and not any("/resolve/main/" in path for _, path in hub.requests)

    hub.close()  # offline: the cache has the pinned file
    offline = run_python(LOAD.format(name="lenet"), checkout, {**load_env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 0, offline.stderr


def test_publishing_unchanged_files_again_makes_no_commit_and_pins_the_same_one(checkout, empty_hub, tmp_path):
    env = publish_env(empty_hub, tmp_path)
    assert zoo(checkout, env, "publish", "lenet", "--repo-id-prefix", "zoo-tester/c10").returncode == 0
    first = manifest(checkout)["lenet"]["revision"]
    again = zoo(checkout, env, "publish", "lenet")  # the repo the manifest now names
    assert again.returncode == 0, again.stderr
    assert manifest(checkout)["lenet"]["revision"] == first
    assert len(empty_hub.repos["zoo-tester/c10-lenet"].commits) == 2  # the repo's first commit and ours


def test_dry_run_shows_the_plan_without_network_or_writes(checkout, tmp_path):
    before = (checkout / "weights_manifest.json").read_bytes()
    cards = {name: (checkout / "weights" / name / "README.md").read_bytes() for name in SMALL}
    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf_home")}  # port 9: nothing answers
    run = zoo(checkout, env, "publish", *SMALL, "--dry-run", "--repo-id-prefix", "me/c10")
    assert run.returncode == 0, run.stderr
    for name in SMALL:
        assert f"{name} → me/c10-{name.replace('_', '-')} (now org/" in run.stdout
        assert re.search(rf"weights/{name}/model\.safetensors +[\d,]+ bytes +sha256 [0-9a-f]{{64}} \(= manifest\)",
                         run.stdout)
        assert f"weights/{name}/README.md" in run.stdout and f"weights/{name}/training_curves.png" in run.stdout
        assert (checkout / "weights" / name / "README.md").read_bytes() == cards[name]
    assert "nothing uploaded" in run.stdout
    assert (checkout / "weights_manifest.json").read_bytes() == before


@pytest.mark.parametrize("token, expected", [(None, "no Hugging Face token"), ("hf_wrong", "401")])
def test_publish_without_a_good_token_fails_clearly_and_changes_nothing(checkout, empty_hub, tmp_path, token,
                                                                        expected):
    env = publish_env(empty_hub, tmp_path)
    env.pop("HF_TOKEN")
    if token:
        env["HF_TOKEN"] = token
    before = (checkout / "weights_manifest.json").read_bytes()
    run = zoo(checkout, env, "publish", "lenet")
    assert run.returncode == 1 and expected in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert (checkout / "weights_manifest.json").read_bytes() == before
    assert not empty_hub.repos


def test_publish_refuses_weights_the_manifest_does_not_describe(checkout, empty_hub, tmp_path):
    weights = checkout / "weights" / "lenet" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    run = zoo(checkout, publish_env(empty_hub, tmp_path), "publish", "lenet")
    assert run.returncode == 1 and "refusing to upload" in run.stderr, run.stderr
    assert not empty_hub.requests  # said before any request


def test_publish_pins_the_github_mirror_to_a_head_that_holds_the_files(checkout, empty_hub, tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=checkout, check=True,
                              capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "the release")
    head = git("rev-parse", "HEAD")
    before = manifest(checkout)["lenet"]["mirror"]
    run = zoo(checkout, publish_env(empty_hub, tmp_path), "publish", "lenet", "--repo-id-prefix", "zoo-tester/c10")
    assert run.returncode == 0, run.stderr
    assert before["revision"] != head
    assert manifest(checkout)["lenet"]["mirror"] == {"repo": GITHUB_REPO, "revision": head}


def test_mirror_only_pins_a_committed_head_without_the_hub_and_refuses_one_without_the_files(checkout, tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=checkout, check=True,
                              capture_output=True, text=True).stdout.strip()

    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf_home")}  # port 9: nothing answers
    git("init", "-q")
    weights = checkout / "weights" / "lenet" / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[:-1] + b"\0")  # HEAD holds other bytes than the manifest's
    git("add", "-A")
    git("commit", "-qm", "not the release")
    before = (checkout / "weights_manifest.json").read_bytes()
    refused = zoo(checkout, env, "publish", "lenet", "--mirror-only")
    assert refused.returncode == 1 and "does not hold every file of lenet" in refused.stderr, refused.stderr
    assert (checkout / "weights_manifest.json").read_bytes() == before

    weights.write_bytes(good)
    git("commit", "-qam", "the release")
    run = zoo(checkout, env, "publish", "lenet", "--mirror-only")
    assert run.returncode == 0, run.stderr
    pinned = manifest(checkout)
    assert pinned["lenet"]["mirror"] == {"repo": GITHUB_REPO, "revision": git("rev-parse", "HEAD")}
    assert pinned["cifar_quick"] == json.loads(before)["models"]["cifar_quick"]  # only the model named
