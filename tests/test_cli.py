"""The zoo command line: predict on real image files of every kind, list, info, download, delegation."""
from __future__ import annotations

import json

import pytest
import torch

import zoo
from zoo.metrics import predict_classes

from tests.support import smallest, zoo_command


@pytest.fixture(scope="module")
def image_files(tmp_path_factory, test_split):
    """Real CIFAR-10 test pictures written the ways users have them, plus two bad files."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    pictures = [Image.fromarray(test_split.images[i].permute(1, 2, 0).numpy()) for i in range(5)]
    files = {
        "exact.png": pictures[0],
        "big.jpg": pictures[1].resize((224, 160), Image.BICUBIC),
        "gray.png": pictures[2].convert("L"),
        "rgba.png": pictures[3].convert("RGBA"),
        "palette.png": pictures[4].convert("P"),
    }
    for name, picture in files.items():
        picture.save(folder / name, quality=95) if name.endswith(".jpg") else picture.save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_predict_json_for_every_kind_of_image_and_errors_for_bad_files(image_files, published, test_split, cli):
    name = smallest(published)
    names = ["exact.png", "big.jpg", "gray.png", "rgba.png", "palette.png", "notes.txt", "missing.png"]
    run = cli("predict", *(str(image_files / n) for n in names), "--model", name, "--topk", "3", "--json")
    assert run.returncode == 1, "a failed file makes the exit code non-zero"
    assert f"error: {image_files / 'notes.txt'}: not an image Pillow can read" in run.stderr
    assert f"error: {image_files / 'missing.png'}: no such file" in run.stderr
    results = json.loads(run.stdout)
    assert [r["file"] for r in results] == [str(image_files / n) for n in names[:5]]
    for result in results:
        assert len(result["top"]) == 3
        probs = [t["prob"] for t in result["top"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
        assert all(t["label"] in zoo.get_weights(name).categories for t in result["top"])
    # the exact 32x32 PNG goes through the same numbers as the tensor path
    model = zoo.get_model(name, pretrained=True)
    expected = zoo.get_weights(name).categories[int(predict_classes(model, test_split.images[:1])[0])]
    assert results[0]["top"][0]["label"] == expected


def test_predict_text_output(image_files, published, cli):
    name = smallest(published)
    run = cli("predict", str(image_files / "exact.png"), "--model", name, "--topk", "2")
    assert run.returncode == 0, run.stderr
    line = run.stdout.strip()
    assert line.startswith(f"{image_files / 'exact.png'}: ") and line.count("%") == 2


def test_list_and_info(published, tmp_path, cli):
    listing = cli("list")
    assert listing.returncode == 0, listing.stderr
    for name, record in published.items():
        assert f"{record.top1:.2%}" in next(row for row in listing.stdout.splitlines() if row.startswith(name))
    name = smallest(published)
    info = json.loads(cli("info", name, "--full").stdout)
    assert info["sha256"] == published[name].sha256 and info["name"] == name
    short = cli("info", name)
    assert short.returncode == 0 and len(short.stdout.splitlines()) < 30  # a screen, not the 1,857 lines of --full
    assert f"{published[name].top1:.2%}" in short.stdout and published[name].sha256 in short.stdout
    assert json.loads(cli("info", name, "--json").stdout)["name"] == name
    unknown = cli("info", "resnet50")
    assert unknown.returncode == 2 and "invalid choice: 'resnet50'" in unknown.stderr


def test_every_command_can_print_its_help():
    """argparse formats help text only when asked (a stray % in a help string fails then, not at import)."""
    import argparse

    from zoo.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert "usage: zoo" in parser.format_help()
    for name, command in commands.items():
        assert f"usage: zoo {name}" in command.format_help()
        for action in command._actions:  # nested commands (zoo annotate KIND)
            if isinstance(action, argparse._SubParsersAction):
                assert all(sub.format_help() for sub in action.choices.values())


def test_weights_argument_loads_a_tutorial_state_dict(tmp_path, published):
    name = smallest(published)
    model = zoo.get_model(name, pretrained=True)
    torch.save(model.state_dict(), tmp_path / "tutorial.pth")
    loaded = zoo.get_model(name, weights=tmp_path / "tutorial.pth")
    assert not loaded.training
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(loaded(x), model(x))
    with pytest.raises(ValueError, match="not both"):
        zoo.get_model(name, pretrained=True, weights=tmp_path / "tutorial.pth")


def test_shipped_pictures_are_the_first_test_image_of_each_class(test_split):
    from zoo.data import CATEGORIES, shipped_examples

    examples, indices = shipped_examples()
    assert sorted(examples.labels.tolist()) == list(range(len(CATEGORIES)))
    for image, label, index in zip(examples.images, examples.labels.tolist(), indices):
        assert torch.equal(image, test_split.images[index]) and test_split.labels[index] == label  # lossless
        assert int((test_split.labels[:index] == label).sum()) == 0  # the first of its class


def test_demo_classifies_the_shipped_pictures_offline_without_the_data_set(tmp_path, published):
    from zoo.data import shipped_examples

    run = zoo_command("demo", "--data-dir", str(tmp_path), env={"HF_HUB_OFFLINE": "1"})  # (read at import)
    assert run.returncode == 0, run.stderr
    assert "classifying the 10 CIFAR-10 test pictures shipped with zoo" in run.stdout
    examples, _ = shipped_examples()
    for name in published:
        right = int((predict_classes(zoo.get_model(name, pretrained=True), examples.images) == examples.labels).sum())
        [line] = [line for line in run.stdout.splitlines() if line.startswith(f"{name}: ")]
        assert line.endswith(f"here {right}/10 right"), line
    assert run.stdout.count("  test image ") == 10 * len(published)
