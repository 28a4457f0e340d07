"""Fine-tuning on a folder of pictures (``zoo finetune``), end to end, and the README's fine-tune and feature examples
run as written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.support import REPO, readme_block, run_python

CATS, DOGS = 3, 5  # CIFAR-10's labels


def _write_pictures(test_split, folder: Path, per_class: int) -> None:
    """Cats and dogs of CIFAR-10's test set as PNG files, one sub-folder per class (an ImageFolder)."""
    from PIL import Image

    for label, name in ((CATS, "cat"), (DOGS, "dog")):
        (folder / name).mkdir(parents=True)
        picked = (test_split.labels == label).nonzero().flatten()[:per_class]
        for number, index in enumerate(picked.tolist()):
            Image.fromarray(test_split.images[index].permute(1, 2, 0).numpy()).save(folder / name / f"{number}.png")


@pytest.mark.slow  # (CI: three `zoo` commands and ten epochs, ~22 s of the default tier; the finetune tests below stay)
def test_readme_finetune_commands_run_as_written(test_split, tmp_path):
    _write_pictures(test_split, tmp_path / "pictures", per_class=250)
    # the `zoo` command of this environment, running this clone's zoo (where CI has installed a copy without weights/
    # beside it, the clone's finds them there; HF_HUB_OFFLINE: nothing leaves the machine)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    outputs = []
    for line in readme_block("finetune").strip().splitlines():
        done = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    record = json.loads((tmp_path / "runs" / "pets" / "finetune.json").read_text(encoding="utf-8"))
    assert record["categories"] == ["cat", "dog"] and record["data"]["per_class"] == {"cat": 250, "dog": 250}
    assert (record["data"]["train"], record["data"]["validation"]) == (450, 50)
    assert len(record["history"]) == 10 and record["finetuned_from"]["sha256"] == json.loads(
        (REPO / "weights_manifest.json").read_text(encoding="utf-8"))["models"]["resnet20_cifar10"]["sha256"]
    # A pretrained body tells CIFAR-10's cats from its dogs far better than chance (a head left untrained, or labels
    # shuffled by the split, would score about 50 %)
    assert record["val_top1"] >= 0.75, record["history"]
    assert outputs[1].startswith("pictures/cat/0.png: ") and outputs[1].split(": ")[1].split()[0] in ("cat", "dog")
    assert "dog" in outputs[1] and "truck" not in outputs[1]  # its own two classes, not CIFAR-10's ten
    top1 = float(outputs[2].split("top-1 ")[1].split()[0])
    assert top1 >= 0.75 and "cat" in outputs[2] and "dog" in outputs[2]


def test_readme_feature_example_runs_as_written(tmp_path):
    done = run_python(readme_block("features"), tmp_path, {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Linear(in_features=64, out_features=5, bias=True)"
    assert lines[1] == "torch.Size([8, 5])"
    assert lines[2] == "{'middle': (8, 32, 16, 16), 'last': (8, 64, 8, 8)}"
    assert "new classifier fc = Linear(64, 5)" in done.stderr  # the one logged line


def _settings(**overrides):
    from zoo.finetune import FinetuneSettings

    return FinetuneSettings(**{"epochs": 3, "batch_size": 32, **overrides})


def test_a_stopped_finetune_resumes_to_the_same_bytes(test_split, tmp_path):
    from zoo.finetune import finetune

    _write_pictures(test_split, tmp_path / "pictures", per_class=40)
    whole = finetune("lenet", tmp_path / "pictures", tmp_path / "whole", _settings(), progress=False)

    class Stop(Exception):
        pass

    def stop_after_first_epoch(line: str) -> None:
        if json.loads(line)["epoch"] == 1:
            raise Stop
    with pytest.raises(Stop):
        finetune("lenet", tmp_path / "pictures", tmp_path / "stopped", _settings(), progress=False,
                 log=stop_after_first_epoch)
    assert not (tmp_path / "stopped" / "model.safetensors").exists()
    said = []
    resumed = finetune("lenet", tmp_path / "pictures", tmp_path / "stopped", _settings(), resume=True, progress=False,
                       log=said.append)
    assert said[0].startswith("resumed from") and len(said) == 3  # epochs 2 and 3 only
    assert resumed.weights_path.read_bytes() == whole.weights_path.read_bytes()
    assert resumed.history == whole.history
    from zoo.finetune import finetuned_categories

    assert finetuned_categories(whole.weights_path) == ("cat", "dog")
    with pytest.raises(ValueError, match="a fine-tune of other pictures, another model or other settings"):
        finetune("lenet", tmp_path / "pictures", tmp_path / "stopped", _settings(lr=0.02), resume=True, progress=False)


@pytest.mark.parametrize("layout, says", [
    ({}, "has 0 class folders; a classifier needs two or more"),
    ({"cat/a.png": "picture"}, "has 1 class folder; a classifier needs two or more"),
    ({"cat/a.png": "picture", "dog/notes.txt": "text"}, "holds no pictures"),
    ({"cat/a.png": "picture", "dog/b.png": "text"}, "1 of 2 files in .* are not readable pictures"),
])
def test_bad_picture_folders_are_one_clear_line(tmp_path, layout, says):
    from PIL import Image
    from zoo.finetune import read_image_folder

    for relative, kind in layout.items():
        path = tmp_path / "pictures" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "picture":
            Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
        else:
            path.write_text("not a picture", encoding="utf-8")
    (tmp_path / "pictures").mkdir(exist_ok=True)
    with pytest.raises(ValueError, match=says):
        read_image_folder(tmp_path / "pictures")


def test_the_split_is_stratified_seeded_and_keeps_a_picture_of_each_class_for_training():
    from zoo.finetune import FolderImages, split_folder

    labels = torch.tensor([0] * 10 + [1] * 3 + [2] * 1)
    folder = FolderImages(torch.arange(len(labels), dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 3, 32, 32),
                          labels, ("a", "b", "c"), tuple(map(str, range(len(labels)))))
    train, val = split_folder(folder, 0.2, seed=0)
    assert torch.bincount(val.labels, minlength=3).tolist() == [2, 1, 0]
    assert torch.bincount(train.labels, minlength=3).tolist() == [8, 2, 1]
    images = set(train.images[:, 0, 0, 0].tolist()) | set(val.images[:, 0, 0, 0].tolist())
    assert images == set(range(len(labels)))  # every picture in exactly one of them
    assert torch.equal(split_folder(folder, 0.2, seed=0)[1].images, val.images)
    assert not torch.equal(split_folder(folder, 0.2, seed=1)[1].images, val.images)
