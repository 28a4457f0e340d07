"""python -m zoo.evaluate, and reading users' checkpoint files safely."""
from __future__ import annotations

import json

import pytest
import torch

import zoo
from zoo.weights import read_state_dict_file


def test_evaluate_scores_a_tutorial_pth_state_dict(tmp_path, data_dir, published, cli):
    name = "lenet"  # the tutorial's network, saved the tutorial's way
    path = tmp_path / "tutorial.pth"
    torch.save(zoo.get_model(name, pretrained=True).state_dict(), path)
    run = cli("evaluate", name, "--checkpoint", str(path), "--data-dir", str(data_dir), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["top1"] == published[name].top1


def test_whole_pickled_model_is_refused_with_how_to_resave(tmp_path):
    path = tmp_path / "whole_model.pth"
    torch.save(zoo.lenet(), path)  # the tutorials' "method 1"
    with pytest.raises(ValueError, match=r"not unpickled.*torch.save\(model.state_dict\(\), 'model.pth'\)"):
        read_state_dict_file(path)


def test_safetensors_file_is_read(tmp_path):
    from safetensors.torch import save_file

    state_dict = zoo.lenet().state_dict()
    save_file(state_dict, str(tmp_path / "m.safetensors"))
    loaded = read_state_dict_file(tmp_path / "m.safetensors")
    assert all(torch.equal(loaded[k], v) for k, v in state_dict.items())


def test_multi_crop_tta_is_reported_and_close_to_the_single_crop_figure(published, data_dir, cli):
    """``--tta`` (flip and 1-pixel translations, Jordan 2024), with ``--flip-tta`` in the same sweep, on a published
    model: above the single crop (lenet: +2.01 points on the Intel AMX class), by less than four points (six views of
    the same pictures; a broken translation or mirror would cost points, not add them). The records' own TTA figures
    (VGG-16's flip, airbench's multi-crop) are scored exactly by tests/test_published.py, with the views this
    command sweeps."""
    run = cli("evaluate", "lenet", "--data-dir", str(data_dir), "--json", "--tta", "--flip-tta")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["images"] == 10_000 and report["checkpoint"] == "published"
    assert report["top1"] == published["lenet"].top1
    assert report["per_class"] == published["lenet"].metrics["cifar10_test_per_class"]
    assert report["top1"] < report["top1_multicrop_tta"] < report["top1"] + 0.04
    assert report["top1"] < report["top1_flip_tta"] < report["top1"] + 0.04  # (two of the six views)


def test_views_swept_together_are_each_their_own_definition(published, test_split):
    """``zoo evaluate --flip-tta --tta`` passes the picture and its mirror image through the model once for all the
    views that use them: each view's predictions are still its own definition, computed here view by view."""
    from zoo.data import normalize
    from zoo.metrics import VIEWS, multi_crop_logits, predict_views

    model = zoo.get_model("lenet", pretrained=True).eval()
    images = test_split.images[:200]
    together = predict_views(model, images, VIEWS, batch_size=200)
    x = normalize(images)
    with torch.inference_mode():
        plain, mirror = model(x).float(), model(x.flip(3)).float()
        alone = {"single": plain.argmax(1), "flip": (plain.softmax(1) + mirror.softmax(1)).argmax(1),
                 "multi-crop": multi_crop_logits(model, x).argmax(1)}
    assert set(together) == set(alone)
    for view in VIEWS:
        assert torch.equal(together[view], alone[view]), view
    assert not torch.equal(alone["single"], alone["multi-crop"])  # (the views differ on these pictures)
