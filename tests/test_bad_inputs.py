"""Bad input through the real entry points: a clear error that says what to do, no traceback, no stray file.

CLI: one line on stderr, exit status 2 for a usage error and 1 for a runtime failure. API: a specific exception
type (zoo.errors) carrying the same message.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.errors import CheckpointError, DeviceError, ManifestError, UnknownModelError

from tests.support import (ARCHITECTURE_NAMES, PUBLISHED_NAMES, REPO, RUNTIME, USAGE, assert_clean_error, installed_copy,
                           missing, zoo_command, zoo_commands)


def files_of_the_run(folder: Path) -> list[str]:
    """What a run left in its output folder, less the (empty) lock file every run holds there."""
    from zoo.rundir import LOCK_NAME

    return sorted(p.name for p in folder.iterdir() if p.name != LOCK_NAME)


@pytest.fixture(scope="module")
def matplotlib():
    if importlib.util.find_spec("matplotlib") is None:
        missing("zoo card needs matplotlib: pip install 'cifar10-zoo[plots]' (the test extra has it)")


@pytest.fixture(scope="module")
def junk_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("junk")
    files = {"text": b"this is not a checkpoint at all", "short": b"\x80\x02", "three-bytes": b"abc",
             "bad-zip": b"PK\x03\x04garbage", "empty": b""}
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pth"
        paths[name].write_bytes(data)
    return paths


USAGE_ERRORS = [
    (["train", "lenet", "--batch-size", "0"], "--batch-size: must be a whole number >= 1, not 0"),
    (["train", "lenet", "--epochs", "-1"], "--epochs: must be a whole number >= 1, not -1"),
    (["train", "lenet", "--epochs", "0"], "--epochs: must be a whole number >= 1, not 0"),
    (["train", "lenet", "--train-subset", "0"], "--train-subset: must be a whole number >= 1, not 0"),
    (["train", "lenet", "--train-subset", "-5"], "--train-subset: must be a whole number >= 1, not -5"),
    (["train", "lenet", "--train-subset", "50001"], "--train-subset 50001 is more than the 50,000 images"),
    (["train", "lenet", "--test-subset", "10001"], "--test-subset 10001 is more than the 10,000 images"),
    (["train", "lenet", "--holdout", "60000"], "--holdout 60000 is more than"),
    (["train", "lenet", "--device", "bogus"], "device='bogus' is not a torch device"),
    (["train", "lenet", "--lr", "nan"], "--lr: must be a number > 0, not nan"),
    (["train", "lenet", "--lr", "fast"], "'fast' is not a number"),
    (["train", "lenet", "--label-smoothing", "1"], "--label-smoothing: must be a number from 0"),
    (["train", "lenet", "--accum-steps", "3"], "--accum-steps 3 must divide the batch size 256"),
    (["train", "lenet", "--stop-after", "61"], "--stop-after 61 is past the recipe's last epoch (60)"),
    (["train", "lenet", "--record", "--train-subset", "100"], "can be neither published nor used as a check"),
    # (--publish, --record's name in the records' stored commands, is the same flag)
    (["train", "lenet", "--publish", "--train-subset", "100"], "can be neither published nor used as a check"),
    (["train", "lenet", "--check", "--holdout", "100"], "can be neither published nor used as a check"),
    (["train", "lenet", "--check", "--epochs", "2"], "--check retrains the published recipe"),
    (["train", "nosuch"], "invalid choice: 'nosuch'"),
    (["predict", "photo.jpg", "--model", "lenet", "--topk", "0"], "--topk: must be a whole number >= 1, not 0"),
    (["predict", "photo.jpg", "--model", "lenet", "--topk", "-2"], "--topk: must be a whole number >= 1, not -2"),
    (["predict", "photo.jpg", "--model", "nosuch"], "invalid choice: 'nosuch'"),
    (["evaluate", "nosuch"], "invalid choice: 'nosuch'"),
    (["card", "nosuch"], "invalid choice: 'nosuch'"),
    (["demo", "--images", "0"], "--images: must be a whole number >= 1, not 0"),
    (["demo", "--images", "-3"], "--images: must be a whole number >= 1, not -3"),
    (["info", "nosuch"], "invalid choice: 'nosuch'"),
    (["download", "nosuch"], "invalid choice: 'nosuch'"),
]
if not torch.cuda.is_available():
    USAGE_ERRORS.append((["train", "lenet", "--device", "cuda"], "device='cuda': this machine has no such device"))


@pytest.mark.parametrize("argv, message", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_and_exit_2(argv, message, tmp_path, cli):
    run = cli(*argv, cwd=tmp_path)  # from an empty folder: a usage error must leave it empty (no runs/ …)
    assert_clean_error(run, USAGE, message, f"zoo {argv[0]}")
    assert list(tmp_path.iterdir()) == []


def test_training_flags_are_checked_before_any_data_is_read(tmp_path, cli):
    run = cli("train", "lenet", "--batch-size", "0", "--data-dir", str(tmp_path / "nowhere"))
    assert_clean_error(run, USAGE, "--batch-size")  # not the missing data: nothing ran


@pytest.mark.parametrize("content", ["junk", "foreign"])
def test_resume_from_a_corrupt_or_foreign_checkpoint_is_refused_and_left_alone(content, tmp_path, data_dir, cli):
    checkpoint = tmp_path / "checkpoint.pt"
    if content == "junk":
        checkpoint.write_bytes(b"\x80\x04not a checkpoint")
        expected = "is not a readable zoo training checkpoint"
    else:
        torch.save({"weights": torch.zeros(3)}, checkpoint)
        expected = "is not a zoo training checkpoint (it lacks"
    original = checkpoint.read_bytes()
    run = cli("train", "lenet", "--resume", "--output-dir", str(tmp_path), "--data-dir", str(data_dir))
    assert_clean_error(run, RUNTIME, expected, "Delete it to start afresh")
    assert checkpoint.read_bytes() == original and files_of_the_run(tmp_path) == ["checkpoint.pt"]


@pytest.mark.parametrize("command", [["predict", "README.md", "--model", "lenet"], ["evaluate", "lenet"]])
def test_a_bad_checkpoint_file_is_a_clear_error_in_the_cli(command, junk_files, data_dir, cli):
    run = cli(*command, "--checkpoint", str(junk_files["text"]), "--data-dir", str(data_dir)) \
        if command[0] == "evaluate" else cli(*command, "--checkpoint", str(junk_files["text"]))
    assert_clean_error(run, RUNTIME, str(junk_files["text"]), "neither a safetensors file nor a torch.save()")
    missing = cli(*command, "--checkpoint", str(junk_files["text"].with_name("absent.pth")))
    assert_clean_error(missing, USAGE, "absent.pth: no such file")  # said while parsing, before any model loads


def test_evaluate_reports_missing_data_before_loading_any_model(tmp_path, junk_files, cli):
    run = cli("evaluate", "lenet", "--checkpoint", str(junk_files["text"]), "--data-dir", str(tmp_path))
    assert_clean_error(run, RUNTIME, f"no CIFAR-10 found in {tmp_path}")  # the data, not the junk checkpoint


def test_unavailable_weights_are_a_clear_error_in_the_cli(tmp_path):
    """No copy anywhere and offline: predict says where it looked and how to fix it, with no traceback."""
    script = ("import sys, zoo.weights as w; from pathlib import Path; w.CHECKOUT_WEIGHTS = Path(sys.argv[1]); "
              "from zoo.cli import main; sys.exit(main(['predict', 'README.md', '--model', 'lenet']))")
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "no-weights")], capture_output=True, text=True,
                         cwd=REPO, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path),
                                                     "ZOO_WEIGHTS_DIR": str(tmp_path / "empty")})
    assert_clean_error(run, RUNTIME, "Cannot get the weights of 'lenet'", "zoo download lenet")


@pytest.mark.parametrize("kind", ["text", "short", "three-bytes", "bad-zip", "empty"])
def test_get_model_on_a_junk_file_raises_checkpoint_error(kind, junk_files):
    with pytest.raises(CheckpointError, match="is neither a safetensors file nor a torch.save"):
        zoo.get_model("lenet", weights=junk_files[kind])


def test_get_model_errors_name_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint file at"):
        zoo.get_model("lenet", weights=tmp_path / "absent.safetensors")
    with pytest.raises(DeviceError, match="'not-a-device' is not a torch device"):
        zoo.get_model("lenet", device="not-a-device")
    with pytest.raises(UnknownModelError, match=f"Available models: {', '.join(ARCHITECTURE_NAMES)}"):
        zoo.get_model("resnet18")


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_models_refuse_raw_uint8_pixels_and_point_to_the_preset(name):
    model = zoo.get_model(name).eval()
    with pytest.raises(ValueError, match=rf"got a torch.uint8 tensor.*zoo.get_weights\('{name}'\).transforms_preset\(\)"):
        model(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"transforms_preset\(\)"):
        model(torch.zeros(2, 1, 32, 32))


def test_save_checkpoint_failure_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    from zoo import checkpoint as zoo_checkpoint

    path = tmp_path / "checkpoint.pt"
    zoo_checkpoint.save_checkpoint(path, {"epoch": 1})
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        zoo_checkpoint.save_checkpoint(path, {"epoch": 2, "weights": torch.zeros(1000)})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


@pytest.fixture()
def package_copy(tmp_path) -> Path:
    """A copy of the zoo package (no checkout around it: an installed copy, with the manifest a build puts in it)
    whose manifest a test may damage."""
    return installed_copy(tmp_path)


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[: len(text) // 2], "is not valid JSON"),
    (lambda text: '{"format_version": 2}', 'has no "models" mapping'),
    (lambda text: text.replace('"format_version": 2', '"format_version": 99', 1), "has format_version 99"),
    # (the first "sha256" of the document is its first record's: the models are written in name order)
    (lambda text: text.replace('"sha256"', '"sha-256"', 1),
     f"bad field, models.{min(PUBLISHED_NAMES)}.sha256: missing"),
])
def test_a_damaged_manifest_still_imports_and_then_says_what_is_wrong(damage, message, package_copy):
    manifest = package_copy / "zoo" / "weights_manifest.json"
    manifest.write_text(damage(manifest.read_text(encoding="utf-8")), encoding="utf-8")
    # the Python API raises the one error type, then the command line says it in one line (one interpreter for both)
    code = ("import sys, zoo, zoo.errors\n"
            "try:\n    zoo.get_model('lenet', pretrained=True)\n"
            "except zoo.errors.ManifestError as error:\n    print('ManifestError:', error)\n"
            "from zoo.cli import main\nsys.exit(main(['list']))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=package_copy, timeout=300)
    assert run.stdout.startswith("ManifestError:") and message in run.stdout and str(manifest) in run.stdout
    assert_clean_error(run, RUNTIME, message)


def test_manifest_error_is_the_type_the_api_raises(tmp_path):
    from zoo.manifest import read_manifest

    (tmp_path / "m.json").write_text("[]")
    with pytest.raises(ManifestError, match='has no "models" mapping'):
        read_manifest(tmp_path / "m.json")
    with pytest.raises(ManifestError, match="cannot read the weights manifest"):
        read_manifest(tmp_path / "absent.json")


def test_predict_turns_phone_photos_upright(tmp_path):
    """A JPEG stored sideways with EXIF orientation 6 (rotate 90° clockwise to view) is classified as shown."""
    from PIL import Image

    from zoo.predict import open_rgb

    stored = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    stored.save(tmp_path / "phone.jpg", exif=exif.tobytes())
    assert open_rgb(tmp_path / "phone.jpg").size == (20, 40)


def test_card_without_matplotlib_says_so_before_scoring(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None  # as if not installed\n"
            "from zoo.cli import main; sys.exit(main(['card', 'lenet', '--data-dir', sys.argv[1], '--output-dir', sys.argv[1]]))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "no-data")], capture_output=True, text=True,
                         cwd=REPO, timeout=300)
    assert_clean_error(run, RUNTIME, "matplotlib, which is not installed: pip install 'cifar10-zoo[plots]'")
    assert not (tmp_path / "no-data").exists()  # nothing scored (no data was needed), nothing written


def test_card_for_several_models_gives_each_its_own_folder(tmp_path, data_dir, matplotlib, cli):
    run = cli("card", "lenet", "cifar_quick", "--output-dir", str(tmp_path), "--data-dir", str(data_dir))
    assert run.returncode == 0, run.stderr
    for name in ("lenet", "cifar_quick"):
        card = (tmp_path / name / "README.md").read_text(encoding="utf-8")
        assert f"# `{name}`" in card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar_quick", "lenet"]


def test_a_corrupt_local_copy_of_the_weights_is_a_clear_error_in_predict(tmp_path, published, cli):
    record = published["lenet"]
    copy = tmp_path / "lenet" / record.filename
    copy.parent.mkdir()
    copy.write_bytes((REPO / "weights" / "lenet" / record.filename).read_bytes()[:1000])  # truncated
    run = cli("predict", "photo.jpg", "--model", "lenet", env={"ZOO_WEIGHTS_DIR": str(tmp_path)})
    assert_clean_error(run, RUNTIME, f"sha256 mismatch for {copy}", "Put the published file there instead")
    assert "Delete" not in run.stderr  # the user's folder: zoo does not advise deleting what it did not download
    assert copy.stat().st_size == 1000  # left as found: never silently replaced


def test_checksum_advice_never_points_at_a_file_outside_zoos_caches(tmp_path, published, cli):
    """A weights 'file' that is a link to a file of the user's (their own run, /etc/passwd): the advice names neither
    the link's target nor deleting it."""
    record = published["lenet"]
    own = tmp_path / "my_precious_run.safetensors"
    own.write_bytes(b"the user's own bytes")
    link = tmp_path / "weights" / "lenet" / record.filename
    link.parent.mkdir(parents=True)
    link.symlink_to(own)
    run = cli("predict", "photo.jpg", "--model", "lenet", env={"ZOO_WEIGHTS_DIR": str(tmp_path / "weights")})
    assert_clean_error(run, RUNTIME, f"sha256 mismatch for {link}")
    assert "Delete" not in run.stderr and str(own) not in run.stderr
    assert own.read_bytes() == b"the user's own bytes"


# ---- a run's output folder: published files are never replaced, a user's files never deleted ---------------------


def published_folder_cases(tmp_path: Path) -> dict[str, Path]:
    """Output folders a run must refuse: the clone's weights/NAME/, and a folder of the user's holding a copy of a
    published file."""
    copy = tmp_path / "my_copy"
    copy.mkdir()
    shutil.copy(REPO / "weights" / "lenet" / "model.safetensors", copy / "model.safetensors")
    return {"weights/lenet": REPO / "weights" / "lenet", "a copy": copy}


@pytest.mark.parametrize("case", ["weights/lenet", "a copy"])
def test_a_run_refuses_an_output_dir_of_published_files(case, tmp_path, data_dir, cli):
    folder = published_folder_cases(tmp_path)[case]
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    run = cli("train", "lenet", "--epochs", "1", "--train-subset", "256", "--test-subset", "100", "--no-progress",
                  "--data-dir", str(data_dir), "--output-dir", str(folder))
    assert_clean_error(run, RUNTIME, f"--output-dir {folder}", "choose another folder")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


KILLED_WRITE = """
import os, signal, sys
from pathlib import Path
from zoo import manifest
from zoo.rundir import hold_output_dir

def killed(source, target):  # SIGKILL between the last byte and the rename: no cleanup can run
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = killed
with hold_output_dir(Path(sys.argv[1])) as held:
    manifest.atomic_write_bytes(held.folder / "checkpoint.pt", b"x" * 1000, held.ledger)
"""


def test_the_next_run_removes_only_what_a_killed_run_of_zoo_left(tmp_path, data_dir, cli):
    """A zoo process killed mid-write leaves its temporary; the next run removes that one, named in the folder's
    ledger, and not the user's own files that look the same (``.notes.tmp``)."""
    output = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(output)], cwd=REPO, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    [stale] = [p for p in output.iterdir() if p.name.startswith(".checkpoint.pt.") and p.name.endswith(".tmp")]
    users = output / ".notes.tmp"
    users.write_text("mine")
    run = cli("train", "lenet", "--epochs", "1", "--train-subset", "256", "--test-subset", "100", "--no-progress",
                  "--data-dir", str(data_dir), "--output-dir", str(output))
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"removed 1 temporary file(s) that a killed zoo run left in {output} ({stale.name})" in run.stdout
    assert not stale.exists() and users.read_text() == "mine"


# ---- what is read is checked: data layouts, weights that cannot be numbers -------------------------------------


def python_batch(folder: Path, data: np.ndarray, labels) -> Path:
    import pickle

    batches = folder / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    with open(batches / "test_batch", "wb") as f:
        pickle.dump({"data": data, "labels": labels}, f)
    return folder


@pytest.mark.parametrize("data, says", [
    (lambda u8: u8.astype(np.float32) / 255, "'data' is float32 (10000, 3072)"),  # pixels in [0, 1]
    (lambda u8: u8.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), "'data' is uint8 (10000, 32, 32, 3)"),
    (lambda u8: u8.tolist()[:3], "'data' is list"),
])
def test_a_python_batch_in_another_layout_is_refused_not_coerced(data, says, tmp_path, test_split, cli):
    pixels = test_split.images.numpy().reshape(len(test_split), -1)
    root = python_batch(tmp_path / "data", data(pixels), test_split.labels.tolist())
    run = cli("evaluate", "lenet", "--data-dir", str(root))
    assert_clean_error(run, RUNTIME, says, "uint8 pixels (N, 3072)")


def test_float_labels_in_a_python_batch_are_refused(tmp_path, test_split, cli):
    pixels = test_split.images.numpy().reshape(len(test_split), -1)
    root = python_batch(tmp_path / "data", pixels, [float(v) + 0.5 for v in test_split.labels.tolist()])
    run = cli("evaluate", "lenet", "--data-dir", str(root))
    assert_clean_error(run, RUNTIME, "'labels' is float64", "whole numbers 0-9")


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
@pytest.mark.parametrize("command", [["predict", str(REPO / "zoo" / "examples" / "0000_cat.png"), "--model", "lenet"],
                                     ["evaluate", "lenet", "--data-dir", "DATA"]])
def test_a_checkpoint_with_nan_weights_is_refused(suffix, command, tmp_path, data_dir, cli):
    from safetensors.torch import save_file

    state = zoo.lenet(pretrained=True).state_dict()
    state["fc3.bias"][3] = float("nan")
    path = tmp_path / f"diverged{suffix}"
    save_file(state, str(path)) if suffix == ".safetensors" else torch.save(state, path)
    run = cli(*[str(data_dir) if arg == "DATA" else arg for arg in command], "--checkpoint", str(path))
    assert_clean_error(run, RUNTIME, f"{path}: fc3.bias holds 1 NaN or infinite value(s) of 10")


# ---- the environment is input too ---------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TORCHRUN_LEFTOVERS = [
    ({"WORLD_SIZE": "abc"}, "WORLD_SIZE='abc' is not a whole number"),
    ({"WORLD_SIZE": "0"}, "WORLD_SIZE=0 is out of range"),
    ({"WORLD_SIZE": "2"}, "RANK is unset, and WORLD_SIZE=2 says"),
    ({"WORLD_SIZE": "2", "RANK": "2"}, "RANK=2 is out of range (it must be from 0 to 1)"),
    ({"WORLD_SIZE": "2", "RANK": "0"}, "MASTER_ADDR is unset"),
    ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "99999"}, "MASTER_PORT=99999 is out"),
    ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "x"}, "LOCAL_RANK='x' is not a whole number"),
]


@pytest.mark.parametrize("variables, says", TORCHRUN_LEFTOVERS, ids=[" ".join(f"{k}={v}" for k, v in c.items())
                                                                     for c, _ in TORCHRUN_LEFTOVERS])
def test_torchruns_variables_left_in_a_shell_are_named(variables, says, tmp_path, data_dir, cli):
    run = cli("train", "lenet", "--epochs", "1", "--train-subset", "256", "--data-dir", str(data_dir),
              "--output-dir", str(tmp_path / "run"), env=variables)
    assert_clean_error(run, RUNTIME, says, "unset WORLD_SIZE")


def test_a_rank_waiting_for_others_that_never_come_gives_up_and_says_so(tmp_path, data_dir):
    port = free_port()
    run = zoo_command("train", "lenet", "--epochs", "1", "--train-subset", "256", "--data-dir", str(data_dir),
                  "--output-dir", str(tmp_path / "run"), env={"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1",
                                                              "MASTER_PORT": str(port), "ZOO_RENDEZVOUS_TIMEOUT": "1"})
    assert_clean_error(run, RUNTIME, f"rank 0 of 2 could not join the others at 127.0.0.1:{port} within 1 s")
    assert "waiting up to 1 s" in run.stdout  # (torch's own wait, 30 minutes, would end in the test's 300 s timeout)


NO_HOME = """
import os, pwd, sys
def no_entry(uid):
    raise KeyError(f"getpwuid(): uid not found: {uid}")
pwd.getpwuid = no_entry  # a container user with no entry in the password database
"""


def test_no_home_folder_is_one_line_that_names_the_variable(pip_copy, tmp_path):
    helped, trained, predicted = zoo_commands(
        ["train", "--help"], ["train", "lenet"],
        ["predict", str(REPO / "zoo" / "examples" / "0000_cat.png"), "--model", "lenet"],
        cwd=pip_copy, env={"HF_HUB_OFFLINE": "1"}, setup=NO_HOME,
        unset=("HOME", "XDG_CACHE_HOME", "TORCH_HOME", "ZOO_DATA_DIR", "ZOO_CACHE_DIR"))
    assert helped.returncode == 0 and "$XDG_CACHE_HOME/zoo/data" in helped.stdout, helped.stderr[-3000:]
    assert_clean_error(trained, RUNTIME, "no home folder", "set XDG_CACHE_HOME (or HOME)")
    assert_clean_error(predicted, RUNTIME, "no home folder", "set HF_HOME (or HOME)")
    assert not (pip_copy / "~").exists()


def test_a_terminal_that_cannot_show_a_character_gets_an_escape_not_a_traceback(tmp_path):
    picture = tmp_path / "chat_noir_\u00e9t\u00e9.png"
    shutil.copy(REPO / "zoo" / "examples" / "0000_cat.png", picture)
    run = zoo_command("predict", str(picture), "--model", "lenet", env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "chat_noir_\\xe9t\\xe9.png" in run.stdout and "cat" in run.stdout


def test_run_options_refuse_counts_that_would_silently_change_the_data(tmp_path):
    from zoo.errors import ZooError
    from zoo.loop import RunOptions

    for field in ("train_subset", "test_subset", "holdout", "accum_steps"):
        for value in (0, -5):
            with pytest.raises(ZooError, match=f"{field}={value}"):
                RunOptions(data_dir=tmp_path, output_dir=tmp_path, **{field: value})


def test_a_run_too_short_for_its_lr_schedule_says_so_before_training(tmp_path, data_dir, cli):
    # lenet's one-cycle schedule over 3 steps (600 images, batches of 256, one epoch): its warm-up is one step long
    run = cli("train", "lenet", "--epochs", "1", "--train-subset", "600", "--data-dir", str(data_dir),
              "--output-dir", str(tmp_path / "run"), "--no-progress")
    assert_clean_error(run, RUNTIME, "warms up over a single step", "train on more images")
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_recipes_refuse_settings_no_run_can_use():
    from zoo.errors import RecipeError
    from zoo.recipes import get_recipe

    with pytest.raises(RecipeError, match=r"batch_size=0 \(must be >= 1\), lr=-0.1 \(must be > 0\)"):
        get_recipe("lenet").with_overrides(batch_size=0, lr=-0.1)
    with pytest.raises(RecipeError, match="precision='fp8'"):
        get_recipe("lenet").with_overrides(precision="fp8")


def test_an_installed_copy_never_writes_into_itself(package_copy, tmp_path, matplotlib):
    """Outside a clone, `zoo card` needs --output-dir and `--record` is refused before any training."""
    before = sorted(p.relative_to(package_copy) for p in package_copy.rglob("*") if "__pycache__" not in p.parts)
    card = subprocess.run([sys.executable, "-m", "zoo", "card", "lenet"], capture_output=True, text=True,
                          cwd=package_copy, timeout=300)
    assert_clean_error(card, RUNTIME, "zoo runs from an installed copy", "pass --output-dir DIR")
    record = subprocess.run([sys.executable, "-m", "zoo.train", "lenet", "--record", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=package_copy, timeout=300)
    assert_clean_error(record, USAGE, "--record writes weights/lenet/", "this zoo is an installed copy")
    after = sorted(p.relative_to(package_copy) for p in package_copy.rglob("*") if "__pycache__" not in p.parts)
    assert after == before


def test_a_diverging_run_stops_with_one_line_and_exports_nothing(tmp_path, data_dir, cli):
    output = tmp_path / "run"
    run = cli("train", "lenet", "--epochs", "2", "--train-subset", "512", "--test-subset", "100", "--lr", "1e30",
                  "--no-progress", "--data-dir", str(data_dir), "--output-dir", str(output))
    assert_clean_error(run, RUNTIME, "the training loss is ", "after epoch 1", "diverged", "lower --lr")
    assert files_of_the_run(output) == []  # no weights, no NaN history.json, no checkpoint of a NaN model


def test_sigterm_unwinds_like_ctrl_c_and_leaves_no_temporary_file(tmp_path, data_dir):
    output = tmp_path / "run"
    command = [sys.executable, "-m", "zoo", "train", "lenet", "--epochs", "40", "--train-subset", "2000",
               "--test-subset", "200", "--no-progress", "--data-dir", str(data_dir), "--output-dir", str(output)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 300
    while not (output / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)  # what kill, timeout, Slurm and docker stop send
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith("terminated (SIGTERM)")
    assert not (output / "model.safetensors").exists(), "the run finished before the signal"
    assert [p.name for p in output.iterdir() if p.name.endswith(".tmp")] == []
