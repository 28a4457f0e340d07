"""Loading published weights end to end: the real huggingface_hub and torch.hub clients, a loopback Hub."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from tests.support.loopback_github import TORCH_HUB_TO_LOOPBACK
from tests.support.loopback_hub import LoopbackHub
from tests.support import (ARCHITECTURE_NAMES, GITHUB_REPO, REPO, missing, run_python, smallest, zoo_command,
                           zoo_commands)
from zoo.weights import MIRROR_ENDPOINT_ENV as ZOO_MIRROR_ENDPOINT, sha256_file
from zoo.models import ARCHITECTURES

LOAD = """
import json, time, torch
t = time.perf_counter()
model = torch.hub.load({repo!r}, {name!r}, source="local", pretrained=True, trust_repo=True)
elapsed = time.perf_counter() - t
print(json.dumps({{"training": model.training, "device": str(next(model.parameters()).device),
                   "module": type(model).__module__, "seconds": elapsed}}))
"""


GITHUB_LOAD = """
import json
loaded = {{}}
for name in {names!r}:
    model = torch.hub.load("org/zoo", name, pretrained=True, trust_repo=True)
    loaded[name] = {{"training": model.training, "params": sum(p.numel() for p in model.parameters())}}
print(json.dumps(loaded))
"""


@pytest.fixture()
def gone_hub():
    """A Hub that holds no such repo any more (deleted, renamed): the dead link the mirror is for."""
    server = LoopbackHub()
    yield server
    server.close()


def all_files(published):
    return [file for record in published.values() for file in record.published_files()]


def hub_env(hub, tmp_path, **extra):
    return {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_ETAG_TIMEOUT": "5", "TORCH_HOME": str(tmp_path / "torch_home"),
            ZOO_MIRROR_ENDPOINT: "http://127.0.0.1:9", **extra}  # the mirror answers only where a test serves it


def test_archive_carries_code_manifest_and_the_published_weights(repo_archive, published):
    assert (repo_archive / "hubconf.py").is_file()
    assert (repo_archive / "weights_manifest.json").is_file()
    assert not (repo_archive / "zoo" / "weights_manifest.json").exists()  # the archive's zoo reads the one above
    for record in all_files(published):
        assert sha256_file(repo_archive / "weights" / record.name / record.filename) == record.sha256


def test_torch_hub_load_from_the_github_archive_alone_then_offline(github, tmp_path, published):
    """The user's one line, torch.hub.load("org/zoo", NAME, pretrained=True), with GitHub the only host there is."""
    env = {"TORCH_HOME": str(tmp_path / "torch_home"), "HF_HOME": str(tmp_path / "hf_home"),
           "HF_ENDPOINT": "http://127.0.0.1:9", ZOO_MIRROR_ENDPOINT: "http://127.0.0.1:9"}  # nothing answers there
    code = TORCH_HUB_TO_LOOPBACK.format(endpoint=github.endpoint) + GITHUB_LOAD.format(names=sorted(published))
    first = run_python(code, tmp_path, env)
    assert first.returncode == 0, first.stderr
    loaded = json.loads(first.stdout.splitlines()[-1])
    assert loaded == {name: {"training": False, "params": published[name].num_params} for name in published}
    zipballs = [path for method, path in github.requests if "/zipball/" in path]
    assert zipballs == ["/org/zoo/zipball/main"], github.requests
    github.close()  # and then: no network at all, torch's cache alone
    offline = run_python(code, tmp_path, {**env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout.splitlines()[-1]) == loaded


def test_the_mirror_serves_pip_users_when_the_hub_cannot(pip_copy, github, gone_hub, tmp_path, published):
    name = smallest(published)
    record = published[name]
    env = hub_env(gone_hub, tmp_path, **{ZOO_MIRROR_ENDPOINT: github.endpoint})
    code = LOAD.format(repo=str(pip_copy), name=name)
    first = run_python(code, tmp_path, env)
    assert first.returncode == 0, first.stderr
    raw = f"/{record.mirror['repo']}/{record.mirror['revision']}/weights/{name}/{record.filename}"
    assert github.requests == [("GET", raw)]
    assert any("/resolve/" in path for method, path in gone_hub.requests), "the Hub was not asked first"
    kept = list((tmp_path / "torch_home").rglob("*.safetensors"))
    assert len(kept) == 1 and sha256_file(kept[0]) == record.sha256
    github.close()
    offline = run_python(code, tmp_path, {**env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 0, offline.stderr


def test_a_mirror_serving_other_bytes_is_an_error_and_leaves_no_file(pip_copy, github, gone_hub, tmp_path, published):
    name = smallest(published)
    github.raw = "corrupt"
    env = hub_env(gone_hub, tmp_path, **{ZOO_MIRROR_ENDPOINT: github.endpoint})
    run = run_python(LOAD.format(repo=str(pip_copy), name=name), tmp_path, env)
    assert run.returncode != 0
    assert "zoo.weights.ChecksumError" in run.stderr and published[name].sha256 in run.stderr
    assert [p for p in (tmp_path / "torch_home").rglob("*") if p.is_file() and not p.name.endswith(".lock")] == []


@pytest.mark.parametrize("answer, says", [("silent", "no answer within 2 s (HF_HUB_DOWNLOAD_TIMEOUT"),
                                          ("endless", "sent more than the")])
def test_a_mirror_that_never_answers_or_never_ends_is_bounded(answer, says, pip_copy, github, gone_hub, tmp_path,
                                                              published):
    """A server that accepts and says nothing, or sends without end: the download gives up (HF_HUB_DOWNLOAD_TIMEOUT,
    the record's file_size), says why in one line, and leaves no file."""
    name = smallest(published)
    github.raw = answer
    env = hub_env(gone_hub, tmp_path, **{ZOO_MIRROR_ENDPOINT: github.endpoint, "HF_HUB_DOWNLOAD_TIMEOUT": "2"})
    run = zoo_command("predict", str(REPO / "zoo" / "examples" / "0000_cat.png"), "--model", name, cwd=pip_copy, env=env)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert len(run.stderr.strip().splitlines()) == 1 and says in run.stderr, run.stderr
    if answer == "endless":
        assert f"{published[name].file_size:,} bytes" in run.stderr
    left = [p for p in (tmp_path / "torch_home").rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert left == []


HUB_LOAD_BESIDE_ANOTHER_ZOO = """
import json, sys, torch
sys.path.insert(0, {first!r})
import zoo  # a notebook's zoo: another copy of the code, without weights beside it
model = torch.hub.load({second!r}, "lenet", source="local", pretrained=True, trust_repo=True)
print(json.dumps({{"zoo": zoo.__file__, "model": sys.modules[type(model).__module__].__file__}}))
"""


def test_hubconf_runs_the_zoo_beside_it_whatever_zoo_is_imported(pip_copy, repo_archive, tmp_path):
    """``import zoo`` from one copy, then Torch Hub loads another: its model and its weights (offline, from its own
    weights/ folder: the first copy has none) come from the copy Torch Hub was given."""
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "TORCH_HOME": str(tmp_path / "torch_home")}
    run = run_python(HUB_LOAD_BESIDE_ANOTHER_ZOO.format(first=str(pip_copy), second=str(repo_archive)), tmp_path, env)
    assert run.returncode == 0, run.stderr[-3000:]
    files = json.loads(run.stdout.splitlines()[-1])
    assert files["zoo"].startswith(str(pip_copy))
    assert files["model"].startswith(str(repo_archive / "zoo")), files


def test_every_mirror_revision_holds_the_published_bytes(published):
    """The pinned commits are in this repository's history, with every file of every record at its sha256."""
    for record in all_files(published):
        assert record.mirror is not None and record.mirror["repo"] == GITHUB_REPO, record.name
        blob = subprocess.run(["git", "show", f"{record.mirror['revision']}:weights/{record.name}/{record.filename}"],
                              cwd=REPO, capture_output=True)
        if blob.returncode != 0:
            missing(f"commit {record.mirror['revision']} is not in this clone ({blob.stderr.decode().strip()})")
        assert hashlib.sha256(blob.stdout).hexdigest() == record.sha256, (record.name, record.filename)


def test_torch_hub_load_downloads_once_then_uses_the_cache_and_works_offline(pip_copy, hub, tmp_path, published):
    name = smallest(published)
    code = LOAD.format(repo=str(pip_copy), name=name)

    first = run_python(code, tmp_path, hub_env(hub, tmp_path))
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout.splitlines()[-1])
    assert result == {**result, "training": False, "device": "cpu"}
    assert result["module"].startswith("zoo.models")
    assert hub.downloads() == 1, hub.requests

    second = run_python(code, tmp_path, hub_env(hub, tmp_path))
    assert second.returncode == 0, second.stderr
    assert hub.downloads() == 1, "the second load re-downloaded"

    hub.close()  # nothing answers now: the cache alone must do
    offline = run_python(code, tmp_path, hub_env(hub, tmp_path, HF_HUB_OFFLINE="1"))
    assert offline.returncode == 0, offline.stderr


def test_offline_without_a_copy_says_what_to_do(pip_copy, hub, tmp_path, published):
    name = smallest(published)
    run = run_python(LOAD.format(repo=str(pip_copy), name=name), tmp_path, hub_env(hub, tmp_path, HF_HUB_OFFLINE="1"))
    assert run.returncode != 0
    assert "zoo.weights.WeightsUnavailableError" in run.stderr
    assert f"Cannot get the weights of '{name}'" in run.stderr
    for hint in ("HF_ENDPOINT", "ZOO_WEIGHTS_DIR", "offline mode: on", "zoo download"):
        assert hint in run.stderr
    assert hub.downloads() == 0


@pytest.mark.slow  # (huggingface_hub retries the refused connection with back-off: 25 s)
def test_unreachable_hub_without_a_copy_is_a_clear_error(pip_copy, tmp_path, published):
    name = smallest(published)
    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_ETAG_TIMEOUT": "2",
           "TORCH_HOME": str(tmp_path / "torch_home"), ZOO_MIRROR_ENDPOINT: "http://127.0.0.1:7"}
    run = run_python(LOAD.format(repo=str(pip_copy), name=name), tmp_path, env)
    assert run.returncode != 0
    assert "WeightsUnavailableError" in run.stderr and "the Hub: " in run.stderr and "the mirror: " in run.stderr
    assert "http://127.0.0.1:9" in run.stderr and f"http://127.0.0.1:7/{GITHUB_REPO}/" in run.stderr


def test_corrupt_file_in_the_hub_cache_is_an_error_not_a_silent_redownload(pip_copy, hub, tmp_path, published):
    name = smallest(published)
    code = LOAD.format(repo=str(pip_copy), name=name)
    assert run_python(code, tmp_path, hub_env(hub, tmp_path)).returncode == 0
    blobs = list((tmp_path / "hf_home" / "hub").rglob("blobs/*"))
    assert len(blobs) == 1
    data = bytearray(blobs[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    blobs[0].write_bytes(bytes(data))
    run = run_python(code, tmp_path, hub_env(hub, tmp_path))
    assert run.returncode != 0
    assert "zoo.weights.ChecksumError: sha256 mismatch" in run.stderr
    assert published[name].sha256 in run.stderr
    assert hub.downloads() == 1


def test_hub_list_and_help_through_the_github_code_path(repo_archive, tmp_path, published):
    """torch.hub's GitHub flow, with the archive already in its cache (as after the download)."""
    torch_home = tmp_path / "torch_home"
    (torch_home / "hub").mkdir(parents=True)
    shutil.copytree(repo_archive, torch_home / "hub" / "org_zoo_main")
    code = """
import json, torch
entries = torch.hub.list("org/zoo:main", trust_repo=True, skip_validation=True)
help = torch.hub.help("org/zoo:main", "lenet", trust_repo=True, skip_validation=True)
import importlib.util, os, sys  # the hubconf torch.hub ran, from its cache: its entries are zoo's builders, re-exported
hub_dir = os.path.join(torch.hub.get_dir(), "org_zoo_main")
sys.path.insert(0, hub_dir)
spec = importlib.util.spec_from_file_location("hubconf", os.path.join(hub_dir, "hubconf.py"))
hubconf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hubconf)
zoo = sys.modules["zoo"]
assert zoo.__file__.startswith(hub_dir), zoo.__file__
print(json.dumps({"entries": entries, "help": help, "reexported": all(getattr(hubconf, name) is getattr(zoo, name)
                  for name in entries), "same_help": help == zoo.lenet.__doc__}))
"""
    run = run_python(code, tmp_path, {"TORCH_HOME": str(torch_home)})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["entries"] == ARCHITECTURE_NAMES  # torch.hub finds one entry point per registered architecture
    assert result["reexported"] and result["same_help"]
    assert ARCHITECTURES["lenet"].description in result["help"] and "mean (0.4914, 0.4822, 0.4465)" in result["help"]
    if "lenet" in published:
        assert f"{published['lenet'].top1:.2%} top-1" in result["help"]


def test_importing_hubconf_does_no_network_and_no_hub_import(repo_archive, tmp_path):
    code = """
import json, sys, time
t = time.perf_counter(); import torch; t_torch = time.perf_counter() - t
t = time.perf_counter(); import hubconf; t_hubconf = time.perf_counter() - t
print(json.dumps({"heavy": sorted(m for m in ("huggingface_hub", "safetensors", "httpx", "requests", "torchvision") if m in sys.modules),
                  "import_torch_s": t_torch, "import_hubconf_s": t_hubconf}))
"""
    run = run_python(code, repo_archive, {"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["heavy"] == [], "importing hubconf pulled in download machinery"
    print(result)


def test_zoo_download_fetches_through_the_hub_into_the_cache_then_works_offline(pip_copy, hub, tmp_path, published):
    """From a copy without weights/ (Torch Hub's archive): `zoo list` says where each model is, the download really
    goes over the loopback socket, and then the hub is gone: the cache serves `zoo list`, `zoo download`, a Torch Hub
    load and the per-epoch log that --check reads."""
    name = smallest(published)
    env = hub_env(hub, tmp_path)
    before, first = zoo_commands(["list"], ["download", name], cwd=pip_copy, env=env)
    assert before.returncode == 0, before.stderr
    assert next(line for line in before.stdout.splitlines() if line.startswith(name)).endswith("no")
    assert first.returncode == 0, first.stderr
    files = published[name].published_files()
    assert [line.rsplit("/", 1)[-1] for line in first.stdout.splitlines()] == [
        f"{file.filename} (sha256 verified)" for file in files]  # the weights and every file beside them
    assert all(str(tmp_path / "hf_home") in line for line in first.stdout.splitlines())
    assert hub.downloads() == len(files), hub.requests
    hub.close()
    after, offline = zoo_commands(["list"], ["download", name], cwd=pip_copy, env={**env, "HF_HUB_OFFLINE": "1"})
    assert next(line for line in after.stdout.splitlines() if line.startswith(name)).endswith("hub cache")
    assert offline.returncode == 0 and offline.stdout.count("sha256 verified") == len(files), offline.stderr
    load = LOAD.format(repo=str(pip_copy), name=name) + (
        "from zoo.record_files import published_history\nfrom zoo.api import get_weights\n"
        f"print(len(published_history(get_weights({name!r}))))\n")
    loaded = run_python(load, tmp_path, {**env, "HF_HUB_OFFLINE": "1"})
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.splitlines()[-2])["training"] is False
    assert int(loaded.stdout.splitlines()[-1]) == published[name].recipe["settings"]["epochs"]


# What loading a model never needs, each costing from a tenth of a second to seconds to import: importing zoo (every
# Torch Hub load does, through hubconf) must not bring them in, nor importing the command line (every `zoo` command
# does). torch._inductor did (1.2-1.4 s beyond torch, issue 37; through zoo env's fast-path options, the command line).
HEAVY_MODULES = ("torch._inductor", "torch._dynamo", "torchao", "onnx", "onnxruntime", "openvino", "nncf",
                 "matplotlib", "scipy")


def test_importing_zoo_and_hubconf_leaves_the_heavy_modules_unimported(tmp_path):
    code = ("import json, sys, hubconf, zoo, zoo.cli\n"
            "model = zoo.get_model('lenet')\n"
            f"print(json.dumps([name for name in {HEAVY_MODULES!r} if name in sys.modules]))\n"
            # the lazy names still resolve (what they need comes in when they run: tests/test_fast.py)
            "print(json.dumps([callable(zoo.prepare_for_cpu_inference), callable(zoo.quantized_model)]))")
    run = run_python(code, REPO, {})
    assert run.returncode == 0, run.stderr
    imported, resolved = (json.loads(line) for line in run.stdout.splitlines())
    assert imported == [] and resolved == [True, True]
