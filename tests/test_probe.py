"""The bad-input probe: more than a hundred inputs nobody listed in issue 15, by class, through the real entry points.

Every case must end cleanly: a command line gives exit status 2 (usage) or 1 (failure) with one line on stderr that
says what to do, never a traceback, and leaves no temporary or half-written file; the API raises one of zoo's
documented errors (a ``ZooError`` that is also a ``ValueError`` or ``TypeError``) with a one-line message. Commands
run in-process through the ``cli`` fixture (``zoo.cli.main``, the same code as the ``zoo`` script, without an
interpreter start per case) and are judged by ``tests.support.assert_clean_error``, as in test_bad_inputs.py; the
environment cases that need a process of their own (closed stdout, a held lock) run one.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.errors import ZooError
from zoo.manifest import read_manifest, shipped_manifest

from tests.support import REPO, RUNTIME, USAGE, assert_clean_error, installed_copy, missing



# ---- the world the cases run in: bad paths, bad files, bad data sets, prepared once ------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels (Pillow refuses it on open, before any pixel is read)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def world(tmp_path_factory, data_dir):
    from PIL import Image
    from safetensors.torch import save_file

    root = tmp_path_factory.mktemp("world")
    w = {"root": root, "data": data_dir}
    (root / "a_file").write_text("not a folder")
    (root / "a_dir").mkdir()
    os.mkfifo(root / "a_fifo")
    os.symlink(root / "nowhere", root / "broken_link")
    w["ro"], w["full"] = root / "read_only", root / "full"
    w["mounted"] = mount_tmpfs(w["ro"], "ro,size=1m") and mount_tmpfs(w["full"], "size=64k")
    # checkpoints that are not what the command needs
    save_file(zoo.vgg16_cifar10().state_dict(), str(root / "vgg.safetensors"))
    torch.save(zoo.lenet(num_classes=5).state_dict(), root / "lenet_head5.pth")
    torch.save(zoo.lenet(), root / "whole_model.pth")  # a pickled module: refused, never unpickled
    (root / "truncated.safetensors").write_bytes((root / "vgg.safetensors").read_bytes()[:5000])
    torch.save({"conv1.weight": [1, 2, 3]}, root / "lists.pth")
    (root / "empty.pth").write_bytes(b"")
    # data sets: right size but not CIFAR-10's, truncated, impossible labels, a pickle that would run code
    for name, make in {"zeros": lambda: np.zeros((10_000, 3073), np.uint8),
                       "truncated": lambda: np.zeros((9_999, 3073), np.uint8),
                       "labels": lambda: np.full((10_000, 3073), 200, np.uint8)}.items():
        folder = root / f"data_{name}" / "cifar-10-batches-bin"
        folder.mkdir(parents=True)
        make().tofile(folder / "test_batch.bin")
    (root / "data_empty" / "cifar-10-batches-bin").mkdir(parents=True)
    evil = root / "data_evil" / "cifar-10-batches-py"
    evil.mkdir(parents=True)
    (evil / "test_batch").write_bytes(b"cos\nsystem\n(S'touch /tmp/zoo-probe-pwned'\ntR.")
    # images
    Image.new("RGB", (40, 30), (200, 30, 30)).save(root / "good.png")
    (root / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (root / "text.png").write_text("not an image")
    (root / "zero.jpg").write_bytes(b"")
    (root / "cut.png").write_bytes((root / "good.png").read_bytes()[:60])
    grey16 = np.full((32, 32), 32768, np.uint16)
    Image.fromarray(grey16).save(root / "grey16.png")
    Image.fromarray(np.full((32, 32), 128, np.uint8)).save(root / "grey8.png")
    Image.fromarray(np.full((32, 32), 0.5, np.float32)).save(root / "float.tiff")
    Image.fromarray(np.full((32, 32), 128.0, np.float32)).save(root / "float255.tiff")  # float in 8-bit units
    yield w
    for folder in (w["ro"], w["full"]):
        subprocess.run(["umount", str(folder)], capture_output=True)


def leftovers(root: Path) -> list[str]:
    """Temporary files anywhere under ``root`` (what an interrupted atomic write would leave)."""
    return sorted(str(p) for p in root.rglob("*.tmp")) + sorted(str(p) for p in root.rglob("*.part"))


# ---- class 1: values on the command line (parse time) ----------------------------------------------------------

VALUES = [
    (["train", "lenet", "--epochs", "1.5"], "--epochs: '1.5' is not a whole number"),
    (["train", "lenet", "--epochs", "-1"], "must be a whole number >= 1"),
    (["train", "lenet", "--batch-size", "0"], "must be a whole number >= 1"),
    (["train", "lenet", "--lr", "-0.1"], "must be a number > 0"),
    (["train", "lenet", "--lr", "1e400"], "must be a number > 0"),  # inf after parsing
    (["train", "lenet", "--lr", "0x10"], "is not a number"),
    (["train", "lenet", "--lr", "1e39"], "beyond float32's largest number"),  # it would overflow in the optimizer
    (["train", "lenet", "--lr", "1e-50"], "below float32's smallest normal number"),  # float32 holds it as 0
    (["train", "lenet", "--weight-decay", "1e308"], "beyond float32's largest number"),
    (["train", "lenet", "--weight-decay", "nan"], "must be a number >= 0"),
    (["train", "lenet", "--label-smoothing", "-0.1"], "from 0 up to (not including) 1"),
    (["train", "lenet", "--ema-decay", "1"], "from 0 up to (not including) 1"),
    (["train", "lenet", "--seed", "-1"], "--seed: must be a whole number from 0 to 2**64 - 1"),
    (["train", "lenet", "--seed", "99999999999999999999999"], "from 0 to 2**64 - 1"),
    (["train", "lenet", "--seed", "1e3"], "is not a whole number"),
    (["train", "lenet", "--threads", "0"], "must be a whole number >= 1"),
    (["train", "lenet", "--threads", "100000"], "100000 threads on a machine with"),
    (["train", "lenet", "--cutout", "-2"], "must be a whole number >= 0"),
    (["train", "lenet", "--precision", "fp8"], "invalid choice: 'fp8'"),
    (["train", "lenet", "--weights-dtype", "int8"], "invalid choice: 'int8'"),
    (["train", "lenet", "--device", "tpu"], "is not a torch device"),
    (["train", "lenet", "--device", "cuda:99"], "no such device"),
    (["train", "lenet", "--accum-steps", "0"], "--accum-steps: must be a whole number >= 1"),
    (["train", "lenet", "--holdout", "50000"], "--holdout 50000 is more than"),
    (["train", "lenet", "--holdout", "49872"], "--holdout 49872 is more than"),  # leaves less than one batch
    (["train", "lenet", "--stop-after", "999"], "past the recipe's last epoch"),
    (["train", "lenet", "--check-epochs", "1"], "--check-epochs goes with --check"),
    (["train", "lenet", "--check", "--lr", "0.5"], "drop the recipe overrides"),
    (["train", "lenet", "--record", "--holdout", "100"], "can be neither published nor used as a check"),
    (["train", "resnet1000"], "invalid choice: 'resnet1000'"),
    (["predict", "x.png", "--model", "lenet", "--topk", "0"], "must be a whole number >= 1"),
    (["predict", "x.png", "--model", "lenet", "--topk", "2.5"], "is not a whole number"),
    (["predict", "x.png"], "the following arguments are required: --model"),
    (["demo", "--images", "0"], "must be a whole number >= 1"),
    (["export", "lenet", "--opset", "0"], "must be a whole number >= 1"),
    (["export", "lenet", "--format", "tflite"], "invalid choice: 'tflite'"),
    (["export", "lenet", "--record"], "--record goes with --evaluate"),
    (["info"], "the following arguments are required: NAME"),
    (["download", "nosuch"], "invalid choice: 'nosuch'"),
    (["quantize", "resnet50"], "invalid choice: 'resnet50'"),
    (["publish", ""], "no published weights to publish"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["evaluate", "lenet", "--data-dir", ""], "an empty path"),
    (["train", "lenet", "--output-dir", ""], "an empty path"),
]


@pytest.mark.parametrize("argv, fragment", VALUES, ids=[" ".join(a) for a, _ in VALUES])
def test_values(argv, fragment, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)  # a usage error leaves the folder it ran in empty (no runs/, no NAME.onnx)
    assert_clean_error(cli(*argv), USAGE, fragment)
    assert list(tmp_path.iterdir()) == []


# ---- class 2: paths given to the command line (parse time: before any work) --------------------------------------

PATHS = [
    (["train", "lenet", "--output-dir", "{root}/a_file"], "is a file: give a folder"),
    (["train", "lenet", "--output-dir", "{root}/a_file/run"], "lies under"),
    (["train", "lenet", "--output-dir", "{root}/a_fifo"], "is a file: give a folder"),
    (["train", "lenet", "--output-dir", "{ro}/run"], "cannot write in"),
    (["train", "lenet", "--tensorboard", "{root}/a_file"], "is a file: give a folder"),
    (["train", "lenet", "--tensorboard", "{ro}/tb"], "cannot write in"),
    (["card", "lenet", "--output-dir", "{root}/a_file"], "is a file: give a folder"),
    (["card", "lenet", "--output-dir", "{ro}"], "cannot write in"),
    (["export", "lenet", "--output", "{root}/a_dir"], "is a folder: give a file name"),
    (["export", "lenet", "--output", "/dev/null"], "is not a regular file"),
    (["export", "lenet", "--output", "{root}/a_fifo"], "is not a regular file"),
    (["export", "lenet", "--output", "{root}/broken_link"], "is not a regular file"),
    (["export", "lenet", "--output", "{root}/a_file/x.onnx"], "lies under"),
    (["export", "lenet", "--output", "{ro}/x.onnx"], "cannot write in"),
    (["export", "lenet", "--output", ""], "an empty path"),
    (["export", "lenet", "--format", "openvino", "--output", ""], "an empty path"),
    (["export", "lenet", "--format", "openvino", "--output", "{root}/a_file"], "is a file: give a folder"),
    (["evaluate", "lenet", "--checkpoint", "{root}/absent.pth"], "absent.pth: no such file"),
    (["evaluate", "lenet", "--checkpoint", "{root}/a_dir"], "is a folder: give a file"),
    (["evaluate", "lenet", "--checkpoint", "{root}/a_fifo"], "is not a regular file"),
    (["predict", "{root}/good.png", "--model", "lenet", "--checkpoint", "{root}/a_dir"], "is a folder"),
    (["predict", "{root}/good.png", "--model", "lenet", "--checkpoint", "{root}/broken_link"], "no such file"),
]


@pytest.mark.parametrize("argv, fragment", PATHS, ids=[" ".join(a) for a, _ in PATHS])
def test_paths(argv, fragment, world, cli):
    if "{ro}" in " ".join(argv):
        need_mounts(world)
    before = sorted(world["root"].rglob("*"))
    argv = [a.format(**world) for a in argv]
    assert_clean_error(cli(*argv), USAGE, fragment)
    assert sorted(world["root"].rglob("*")) == before  # nothing made, nothing left


# ---- class 3: files and data sets that are not what they claim (run time) ---------------------------------------

FILES = [
    (["evaluate", "lenet", "--checkpoint", "{root}/vgg.safetensors", "--data-dir", "{data}"], "does not fit lenet"),
    (["evaluate", "lenet", "--checkpoint", "{root}/lenet_head5.pth", "--data-dir", "{data}"], "other shapes: fc3"),
    (["evaluate", "lenet", "--checkpoint", "{root}/whole_model.pth", "--data-dir", "{data}"], "holds more than tensors"),
    (["evaluate", "lenet", "--checkpoint", "{root}/truncated.safetensors", "--data-dir", "{data}"],
     "neither a safetensors file nor"),
    (["evaluate", "lenet", "--checkpoint", "{root}/lists.pth", "--data-dir", "{data}"], ""),
    (["evaluate", "lenet", "--checkpoint", "{root}/empty.pth", "--data-dir", "{data}"], "neither a safetensors"),
    (["predict", "{root}/good.png", "--model", "vgg16_cifar10", "--checkpoint", "{root}/lenet_head5.pth"],
     "does not fit vgg16_cifar10"),
    (["evaluate", "lenet", "--data-dir", "{root}/a_dir"], "no CIFAR-10 found"),
    (["evaluate", "lenet", "--data-dir", "{root}/a_file"], "no CIFAR-10 found"),
    (["evaluate", "lenet", "--data-dir", "{root}/data_empty"], "found 0 of 1 test batches"),
    (["evaluate", "lenet", "--data-dir", "{root}/data_truncated"], "holds 9999 images, expected 10000"),
    (["evaluate", "lenet", "--data-dir", "{root}/data_labels"], "labels outside 0..9"),
    (["evaluate", "lenet", "--data-dir", "{root}/data_evil"], "refusing to load"),
    (["demo", "--data-dir", "{root}/data_truncated"], "holds 9999 images"),  # damaged: said, not papered over
    (["train", "lenet", "--check", "--data-dir", "{root}/data_zeros"], "--check needs CIFAR-10's test set"),
    (["train", "lenet", "--data-dir", "{root}/data_zeros", "--output-dir", "{root}/run_zeros"], "found 0 of 5 training"),
    (["quantize", "lenet", "--evaluate", "--data-dir", "{root}/data_labels"], "labels outside 0..9"),
]


@pytest.mark.parametrize("argv, fragment", FILES, ids=[" ".join(a) for a, _ in FILES])
def test_files_and_data(argv, fragment, world, cli):
    argv = [a.format(**world) for a in argv]
    assert_clean_error(cli(*argv), RUNTIME, fragment)
    assert leftovers(world["root"]) == [] and not Path("/tmp/zoo-probe-pwned").exists()


def test_a_test_set_that_is_not_cifar10s_is_said_to_be_so(world, cli):
    """Scoring the zeros still runs (a user's own data in CIFAR's format), but the figure is labelled."""
    run = cli("evaluate", "lenet", "--data-dir", str(world["root"] / "data_zeros"), "--json")
    assert run.returncode == 0 and run.stderr.startswith("warning: these 10,000 images are not CIFAR-10's test set"), \
        run.stderr
    assert json.loads(run.stdout)["cifar10_test_set"] is False


# ---- class 4: pictures for zoo predict ---------------------------------------------------------------------------

IMAGES = [("bomb.png", "too many pixels"), ("text.png", "not an image Pillow can read"),
          ("zero.jpg", "not an image Pillow can read"), ("cut.png", "not an image Pillow can read"),
          ("absent.png", "no such file"), ("a_dir", "not an image Pillow can read")]


@pytest.mark.parametrize("name, fragment", IMAGES)
def test_a_bad_picture_is_one_line_and_the_good_ones_are_still_answered(name, fragment, world, cli):
    good = str(world["root"] / "good.png")
    run = cli("predict", str(world["root"] / name), good, "--model", "lenet", "--json")
    assert_clean_error(run, RUNTIME, fragment)
    assert [entry["file"] for entry in json.loads(run.stdout)] == [good]


@pytest.mark.parametrize("name", ["grey16.png", "float.tiff", "float255.tiff"])
def test_high_bit_depth_pictures_are_scaled_not_clipped(name, world):
    """A mid-grey 16-bit or float picture reads as the mid-grey 8-bit one (clipping made it white)."""
    from zoo.predict import open_rgb

    assert np.abs(np.asarray(open_rgb(world["root"] / name), np.int16) -
                  np.asarray(open_rgb(world["root"] / "grey8.png"), np.int16)).max() <= 1


# ---- class 5: a damaged manifest -------------------------------------------------------------------------------


def _set(path: str, value):
    def damage(entry: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            entry = entry[key]
        entry[last] = value
    return damage


def _delete(path: str):
    def damage(entry: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            entry = entry[key]
        del entry[last]
    return damage


MANIFEST = [  # (damage, the field named, what the message says of it)
    (_delete("metrics.cifar10_test_top1"), "metrics.cifar10_test_top1", "missing"),
    (_set("metrics.cifar10_test_top1", "82%"), "metrics.cifar10_test_top1", "is '82%'"),
    (_set("metrics.cifar10_test_top1", 82.17), "metrics.cifar10_test_top1", "not a percentage"),
    (_set("sha256", "96bf53246795"), "sha256", "is '96bf53246795'"),
    (_set("sha256", "96BF53246795CA652F337C1E01AC9AB85D9B39C221A0000ECE3B18727CBAC104"), "sha256", "lowercase hex"),
    (_set("transforms.mean", [0.5, 0.5]), "transforms.mean", "three numbers"),
    (_set("transforms.std", [0.2, 0.0, 0.2]), "transforms.std", "three numbers > 0"),
    (_set("transforms.size", 0), "transforms.size", "the models take 32x32"),
    (_set("categories", ["cat"] * 10), "categories", "10 different class names"),
    (lambda entry: entry["categories"].pop(), "categories", "10 different class names"),
    (_set("file_size", -5), "file_size", "is -5"),
    (_set("file_size", "583152"), "file_size", "a whole number"),
    (_set("num_params", 0), "num_params", "a whole number >= 1"),
    (_set("repo_id", "no-owner"), "repo_id", "OWNER/NAME"),
    (_set("filename", "../../etc/passwd"), "filename", "a plain file name"),
    (_set("revision", ""), "revision", "a branch, tag or commit"),
    (_set("revision", "../../../x"), "revision", "git's rules"),  # huggingface_hub would write outside its cache
    (_set("revision", "v1 "), "revision", "git's rules"),
    (_set("repo_id", "org/zoo--lenet"), "repo_id", "huggingface_hub's rules"),
    (_set("repo_id", "org/zoo.git"), "repo_id", "huggingface_hub's rules"),
    (_set("mirror.repo", "org/.."), "mirror.repo", "a GitHub repository"),
    (_set("mirror.revision", "cd47b85"), "mirror.revision", "40-digit commit"),
    (_delete("mirror.repo"), "mirror.repo", "missing"),
    (_set("int8.calibration.sha256", "x" * 64), "int8.calibration.sha256", "hexadecimal"),
    (_delete("int8.calibration.file_size"), "int8.calibration.file_size", "missing"),
    (_set("onnx.opset", "18"), "onnx.opset", "is '18'"),
    (_set("license", None), "license", "a non-empty string"),
    (_set("recipe", []), "recipe", "a JSON object"),
    (_delete("transforms"), "transforms", "missing"),
]


@pytest.mark.parametrize("damage, field, fragment", MANIFEST, ids=[f"{f} {w}" for _, f, w in MANIFEST])
def test_a_damaged_manifest_names_the_field(damage, field, fragment, tmp_path):
    document = json.loads(shipped_manifest().read_text(encoding="utf-8"))
    damage(document["models"]["cifar_quick"])
    path = tmp_path / "weights_manifest.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(zoo.errors.ManifestError) as raised:
        read_manifest(path)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message, message
    assert f"models.cifar_quick.{field}: " in message and fragment in message, message


REPO_IDS = ["org/zoo-lenet", "org/zoo--x", "org/..", "a", "org/x.git", "a/b", "-a/b", "a-/b", "a/.b", "a.b/c.d",
            "org/zoo_lenet", "o/" + "x" * 96, "o/" + "x" * 97, "org/zo..o", "Org/Zoo", "org/zoo/x", "org/x.gitx", "org/.git", "org/x_", "_o/x", "/x", "x/", "", "org/zoo lenet"]


@pytest.mark.parametrize("repo_id", REPO_IDS)
def test_the_schema_judges_a_repo_id_as_huggingface_hub_does(repo_id):
    """The schema writes huggingface_hub's rule out (reading the manifest must not import it): both say the same, with
    every huggingface_hub setup.cfg allows. (Its newer releases also refuse non-ASCII names, as the schema does;
    0.26 took them: no such case here.)"""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from zoo.manifest_schema import RECORD

    try:
        validate_repo_id(repo_id)
        hub_accepts = repo_id.count("/") == 1  # (huggingface_hub also takes a bare name; a record names OWNER/NAME)
    except HFValidationError:
        hub_accepts = False
    assert RECORD["repo_id"][0](repo_id) == hub_accepts


def test_the_published_manifest_passes_its_own_schema():
    assert set(read_manifest(shipped_manifest())) == set(zoo.list_models(pretrained=True))


# ---- class 6: the Python API ---------------------------------------------------------------------------------


def _lenet():
    return zoo.lenet()


API = [
    ("pretrained='False'", lambda: zoo.get_model("lenet", pretrained="False"), TypeError, "True or False"),
    ("pretrained=1", lambda: zoo.lenet(pretrained=1), TypeError, "True or False"),
    ("pretrained=None", lambda: zoo.lenet(pretrained=None), TypeError, "True or False"),
    ("num_classes=-3", lambda: zoo.get_model("lenet", num_classes=-3), ValueError, "1 or more"),
    ("num_classes='10'", lambda: zoo.get_model("lenet", num_classes="10"), TypeError, "must be an int"),
    ("num_classes=True", lambda: zoo.get_model("lenet", num_classes=True), TypeError, "must be an int"),
    ("num_classes=2.5", lambda: zoo.get_model("lenet", num_classes=2.5), TypeError, "must be an int"),
    ("weights=123", lambda: zoo.get_model("lenet", weights=123), TypeError, "file path"),
    ("weights and pretrained", lambda: zoo.get_model("lenet", True, weights="x.pth"), ValueError, "not both"),
    ("name list", lambda: zoo.get_model(["lenet"]), TypeError, "a model name is a string"),
    ("name None", lambda: zoo.get_model(None), TypeError, "a model name is a string"),
    ("name LeNet", lambda: zoo.get_model("LeNet"), ValueError, "Unknown model 'LeNet'"),
    ("get_weights(5)", lambda: zoo.get_weights(5), TypeError, "a model name is a string"),
    ("device=99", lambda: zoo.lenet(device=99), ValueError, "cuda:99"),  # an int is a CUDA index, on any machine
    ("device=True", lambda: zoo.lenet(device=True), ValueError, "not a torch device"),
    ("device='gpu'", lambda: zoo.lenet(device="gpu"), ValueError, "not a torch device"),
    ("device=1.5", lambda: zoo.lenet(device=1.5), ValueError, "not a torch device"),
    ("device and map_location", lambda: zoo.lenet(device="cpu", map_location="cpu"), ValueError, "not both"),
    ("numpy input", lambda: _lenet()(np.zeros((1, 3, 32, 32), np.float32)), TypeError, "torch.from_numpy"),
    ("list input", lambda: _lenet()([[0.0]]), TypeError, "expects a torch.Tensor"),
    ("float16 input", lambda: _lenet()(torch.zeros(1, 3, 32, 32, dtype=torch.float16)), ValueError, "float16"),
    ("bfloat16 input", lambda: _lenet()(torch.zeros(1, 3, 32, 32, dtype=torch.bfloat16)), ValueError, "bfloat16"),
    ("float64 input", lambda: _lenet()(torch.zeros(1, 3, 32, 32, dtype=torch.float64)), ValueError, "float64"),
    ("uint8 input", lambda: _lenet()(torch.zeros(1, 3, 32, 32, dtype=torch.uint8)), ValueError, "raw pixels"),
    ("3-D input", lambda: _lenet()(torch.zeros(3, 32, 32)), ValueError, "unsqueeze(0)"),
    ("28x28 input", lambda: zoo.vgg16_cifar10()(torch.zeros(1, 3, 28, 28)), ValueError, "(N, 3, 32, 32)"),
    ("1 channel", lambda: zoo.cifar_quick()(torch.zeros(1, 1, 32, 32)), ValueError, "(N, 3, 32, 32)"),
    ("fast path 3-D", lambda: zoo.prepare_for_cpu_inference(_lenet(), compile=False)(torch.zeros(3, 32, 32)),
     ValueError, "unsqueeze(0)"),
    ("fast path float16", lambda: zoo.prepare_for_cpu_inference(_lenet(), compile=False)(
        torch.zeros(2, 3, 32, 32, dtype=torch.float16)), ValueError, "float16"),
    ("fast path of a name", lambda: zoo.prepare_for_cpu_inference("lenet"), TypeError, "torch.nn.Module"),
    ("quantize a name", lambda: zoo.quantize("lenet", torch.zeros(1, 3, 32, 32), compile=False), TypeError,
     "torch.nn.Module"),
    ("empty calibration", lambda: zoo.quantize(_lenet(), torch.zeros(0, 3, 32, 32), compile=False), ValueError,
     "an empty calibration set"),
    ("uint8 calibration", lambda: zoo.quantize(_lenet(), torch.zeros(4, 3, 32, 32, dtype=torch.uint8),
                                               compile=False), ValueError, "raw pixels"),
    ("NaN calibration", lambda: zoo.quantize(_lenet(), torch.full((4, 3, 32, 32), float("nan")), compile=False),
     ValueError, "NaN"),
    ("list calibration", lambda: zoo.quantize(_lenet(), [1, 2], compile=False), TypeError, "calibration must be"),
]


@pytest.mark.parametrize("case, call, kind, fragment", API, ids=[c[0] for c in API])
def test_api(case, call, kind, fragment):
    if "calibration" in case or "quantize" in case:
        need_extra("torchao")
    with pytest.raises(ZooError) as raised:
        call()
    assert isinstance(raised.value, kind) and "\n" not in str(raised.value)
    assert fragment in str(raised.value), str(raised.value)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


EXTRAS = {"torchao": ("zoo.quantize", "int8"), "onnxscript": ("zoo export", "onnx"), "matplotlib": ("zoo card", "plots")}


def need_extra(module: str) -> None:
    """Skip (fail in CI) unless the extra that brings ``module`` is installed."""
    if not _has(module):
        user, extra = EXTRAS[module]
        missing(f"{user} needs {module}: pip install 'cifar10-zoo[{extra}]'")


def need_mounts(world) -> None:
    """Skip (fail in CI) unless the read-only and the full tmpfs are mounted."""
    if not world["mounted"]:
        missing("mounting a tmpfs needs root (CI runs as root)")


# ---- class 7: the environment: full disk, closed output, another run, a killed run, no network -----------------


def test_a_full_disk_while_exporting_is_one_line_and_leaves_no_file(world, cli):
    need_mounts(world)
    need_extra("onnxscript")
    assert_clean_error(cli(*["export", "lenet", "--output", str(world["full"] / "lenet.onnx")]), RUNTIME, "No space left on device (ENOSPC); the disk is full")
    assert list(world["full"].iterdir()) == []


def test_a_full_tmpdir_before_compiled_int8_is_one_line(world, monkeypatch, cli):
    """g++ writes its temporary files in $TMPDIR: full, it failed deep in inductor ("internal error (InductorError)")."""
    need_mounts(world)
    need_extra("torchao")
    monkeypatch.setenv("TMPDIR", str(world["full"]))
    assert_clean_error(cli(*["quantize", "lenet", "--evaluate"]), RUNTIME, f"TMPDIR={world['full']}, which cannot take them")
    assert list(world["full"].iterdir()) == []


def test_an_opset_the_exporter_does_not_write_is_refused_and_no_file_is_left(world, cli):
    """torch's dynamo exporter writes opset 18 when asked for 7 (it logs that and a traceback): zoo checks the file's
    own opset and refuses it, instead of writing 18 labelled 7."""
    need_extra("onnxscript")
    assert_clean_error(cli(*["export", "lenet", "--opset", "7", "--output", str(world["root"] / "x7.onnx")]), RUNTIME, "wrote opset 18, not the opset 7 asked for")
    assert not (world["root"] / "x7.onnx").exists() and leftovers(world["root"]) == []


def test_a_full_disk_while_writing_a_card_leaves_no_half_a_figure(world, cli):
    need_mounts(world)
    need_extra("matplotlib")
    assert_clean_error(cli(*["card", "lenet", "--data-dir", str(world["data"]), "--output-dir",
                               str(world["full"] / "card")]), RUNTIME, "No space left on device")
    assert leftovers(world["full"]) == []  # the files that fitted are whole (a figure is written at once, or not)
    assert all(p.read_bytes().endswith(b"IEND\xaeB`\x82") for p in world["full"].rglob("*.png"))
    shutil.rmtree(world["full"] / "card")


def test_a_full_disk_while_training_is_one_line_and_leaves_no_temporary_file(world, cli):
    need_mounts(world)
    run = world["full"] / "run"
    assert_clean_error(cli(*["train", "lenet", "--epochs", "1", "--train-subset", "256", "--test-subset", "100",
                               "--no-progress", "--data-dir", str(world["data"]), "--output-dir", str(run)]), RUNTIME, "No space left on device")
    assert leftovers(world["full"]) == []
    shutil.rmtree(run)


def test_a_second_run_into_a_held_output_dir_is_refused(world, tmp_path, cli):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time, filelock; lock = filelock.FileLock(sys.argv[1]); "
                               "lock.acquire(); print('held', flush=True); time.sleep(120)",
                               str(tmp_path / ".zoo-train.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        run = cli("train", "lenet", "--epochs", "1", "--train-subset", "256", "--data-dir", str(world["data"]),
                  "--output-dir", str(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert_clean_error(run, RUNTIME, "another zoo run is writing into")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".zoo-train.lock"]


def test_no_network_for_download_is_one_line(world, tmp_path, monkeypatch, cli):
    """The internet is the edge of the world: a proxy on a closed local port stands for it being unreachable."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert_clean_error(cli("train", "lenet", "--download", "--data-dir", str(tmp_path / "data"), "--output-dir",
                           str(tmp_path / "run")), RUNTIME, "network error")
    assert leftovers(tmp_path) == []


def test_a_cpu_allocation_that_fails_is_out_of_memory_not_a_bug(capsys):
    """torch raises a plain RuntimeError when the CPU allocator fails; the table still knows it."""
    from zoo.cli._errors import run_cli


    def allocate() -> int:
        torch.empty(2**62, dtype=torch.uint8)  # 4 EiB: no machine has it
        return 0
    status = run_cli(allocate)
    assert_clean_error(subprocess.CompletedProcess([], status, "", capsys.readouterr().err), RUNTIME, "out of memory")


def _zoo_process(args: list[str], **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output="stdout" not in options, text=True,
                          timeout=300, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, **options)


def test_a_malformed_hub_endpoint_in_an_installed_copy_is_one_line(tmp_path):
    """An installed copy (no checkout weights) with HF_ENDPOINT=notaurl: the HTTP client's own error (httpx2's, not an
    OSError) was a traceback."""
    installed_copy(tmp_path)
    run = subprocess.run([sys.executable, "-m", "zoo", "predict", str(REPO / "zoo" / "examples" / "0000_cat.png"),
                          "--model", "lenet"], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={**os.environ, "HF_ENDPOINT": "notaurl", "ZOO_MIRROR_ENDPOINT": "notaurl",
                              "HF_HOME": str(tmp_path / "hf"), "TORCH_HOME": str(tmp_path / "torch"),
                              "ZOO_WEIGHTS_DIR": str(tmp_path / "none")})
    assert_clean_error(run, RUNTIME, "Cannot get the weights of 'lenet'")


def test_a_closed_pipe_ends_quietly():
    """`zoo demo | head -1`: the reader leaves; zoo stops without a traceback (status 141, like a SIGPIPE death)."""
    demo = subprocess.Popen([sys.executable, "-m", "zoo", "demo", "--images", "50"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    demo.stdout.readline()
    demo.stdout.close()  # what head does after its line
    err = demo.stderr.read().decode()
    assert demo.wait(timeout=300) == 141 and err == "", err


def test_stdout_on_a_full_device_is_one_line():
    with open("/dev/full", "w") as full:
        run = _zoo_process(["list"], stdout=full, stderr=subprocess.PIPE)
    assert_clean_error(run, RUNTIME, "No space left on device")


def test_a_stdout_closed_under_zoo_is_one_line():
    run = subprocess.run([sys.executable, "-c", "import os, sys; os.close(1); from zoo.cli import main; "
                          "sys.exit(main(['list']))"], capture_output=False, stderr=subprocess.PIPE, text=True,
                         cwd=REPO, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert_clean_error(run, RUNTIME, "<stdout>: Bad file descriptor (EBADF)")


# ---- hypothesis: any path kind, in any option that takes a path; any tensor, into any way of running a model ----

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PATH_OPTIONS = [["train", "lenet", "--output-dir"], ["train", "lenet", "--tensorboard"], ["card", "lenet", "--output-dir"],
                ["export", "lenet", "--output"], ["evaluate", "lenet", "--checkpoint"], ["evaluate", "lenet", "--data-dir"],
                ["predict", "x.png", "--model", "lenet", "--checkpoint"], ["demo", "--data-dir"]]
PATH_KINDS = ["{root}/a_file", "{root}/a_file/below", "{root}/a_dir", "{root}/a_fifo", "{root}/broken_link", "/dev/null",
              "{root}/missing/deep/path", "", "{ro}/x", "{full}/x", "{root}/a_dir/../a_file", "{root}/vgg.safetensors"]
ENVIRONMENT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@ENVIRONMENT
@given(option=st.sampled_from(PATH_OPTIONS), kind=st.sampled_from(PATH_KINDS), before=st.booleans())
def test_any_path_in_any_option_is_checked_before_any_work(option, kind, before, world, cli):
    """Every path kind ends parsing in one usage line (the bad path's, or else the unknown flag added after it), and
    creates nothing anywhere: all paths are checked while parsing, before any work."""
    if ("{ro}" in kind or "{full}" in kind) and not world["mounted"]:
        return
    path = kind.format(**world)
    argv = [*option, path, "--no-such-flag"] if not before else [*option[:-1], "--no-such-flag", option[-1], path]
    snapshot = sorted(world["root"].rglob("*"))
    assert_clean_error(cli(*argv), USAGE)
    assert sorted(world["root"].rglob("*")) == snapshot


RUNNERS = {"eager": lambda m: m, "fast path": lambda m: zoo.prepare_for_cpu_inference(m, compile=False)}


@ENVIRONMENT
@given(runner=st.sampled_from(sorted(RUNNERS)), name=st.sampled_from(sorted(zoo.list_models())),
       dtype=st.sampled_from([torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.uint8, torch.int64,
                              torch.bool]),
       # any shape; and image batches half of the time, which random shapes hardly ever are (3 channels, 4 dims)
       shape=st.one_of(st.lists(st.integers(0, 40), min_size=0, max_size=5),
                       st.tuples(st.integers(0, 3), st.just(3), st.integers(0, 40), st.integers(0, 40)).map(list)))
@example(runner="eager", name="resnet20_cifar10", dtype=torch.float32, shape=[0, 3, 1, 1])  # CI found it, 2026-12-07
@example(runner="fast path", name="airbench94_cifar10", dtype=torch.float32, shape=[2, 3, 40, 40])
@example(runner="eager", name="airbench94_cifar10", dtype=torch.float32, shape=[2, 3, 8, 8])
def test_any_tensor_into_any_way_of_running_a_model(runner, name, dtype, shape):
    """A float32 (N, 3, H, W) batch of a size the model takes (32x32; any size from its minimum for the ResNets and
    the airbench nets, which pool globally: test_tools.py checks each minimum against the architecture) gives (N, 10)
    logits; anything else an InputError, never torch's own error."""
    bare = zoo.get_model(name).eval()
    model = RUNNERS[runner](bare)
    takes = dtype == torch.float32 and len(shape) == 4 and shape[1] == 3 and bare.input_size.takes(*shape[2:])
    x = torch.zeros(shape, dtype=dtype)
    try:
        out = model(x)
    except zoo.errors.InputError as error:
        assert "\n" not in str(error)
        assert not (takes and shape[0] > 0)
    else:
        assert takes and out.shape == (shape[0], 10)
