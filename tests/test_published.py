"""The published checkpoints: the manifest tells the truth about every file and every number."""
from __future__ import annotations

import json

import pytest
import torch

import zoo
from zoo.data import CATEGORIES, MEAN, STD
from zoo.record_files import history_entry, published_history
from zoo.manifest import MANIFEST_NAME, PACKAGE_MANIFEST, shipped_manifest
from zoo.metrics import score_views
from zoo.weights import CHECKOUT_WEIGHTS, sha256_file

from tests.support import ONE_PER_MODEL_FILE, PUBLISHED_NAMES, REPO, smallest


def test_a_clone_reads_the_one_committed_manifest():
    """The repository's manifest is the one copy (the wheel's is made from it when it is built, tests/test_packaging.py)."""
    assert shipped_manifest() == REPO / MANIFEST_NAME and not PACKAGE_MANIFEST.exists()
    document = json.loads((REPO / MANIFEST_NAME).read_text())
    assert set(document["models"]) <= set(zoo.list_models())


def test_every_record_describes_its_file(published):
    for name, record in published.items():
        path = CHECKOUT_WEIGHTS / name / record.filename
        assert sha256_file(path) == record.sha256
        assert path.stat().st_size == record.file_size
        assert record.num_params == sum(p.numel() for p in zoo.get_model(name).parameters())
        assert record.categories == CATEGORIES
        assert record.mean == MEAN and record.std == STD
        assert len(record.revision) > 0 and record.repo_id.count("/") == 1
        assert 0.1 < record.top1 <= 1
        assert_command_regenerates_settings(record)
        history = published_history(record)  # the clone's weights/NAME/history.json, at its pinned sha256
        assert [h["epoch"] for h in history] == list(range(1, record.recipe["settings"]["epochs"] + 1)), name
        assert record.extra["history"] == history_entry(history), "the pin describes the file"


def assert_command_regenerates_settings(record) -> None:
    """The recorded command, parsed by zoo train's own parser, asks for exactly the recorded recipe."""
    import shlex

    from zoo.recipes import Recipe
    from zoo.cli import build_parser
    from zoo.cli.train import recipe_from_args

    words = shlex.split(record.recipe["command"])
    assert words[:3] == ["python", "-m", "zoo.train"], record.recipe["command"]
    args = build_parser().parse_args(["train", *words[3:]])
    assert args.model == record.name
    # Records older than a setting lack it: it had its default then (from_dict fills it in).
    assert recipe_from_args(args) == Recipe.from_dict(record.recipe["settings"]), record.recipe["command"]
    assert (args.device != "cpu") == bool(record.recipe["machine_class"].get("cuda_device"))


def test_every_record_carries_its_machine_class_and_weight_fingerprints(published):
    from zoo.machine import KEY_FIELDS

    for name, record in published.items():
        machine = record.recipe["machine_class"]
        assert set(KEY_FIELDS) <= set(machine), name
        assert machine["threads"] == record.recipe["threads"] and machine["torch"] == record.recipe["torch_version"]
        history = published_history(record)
        fingerprinted = [h["epoch"] for h in history if h.get("weights_sha256")]
        assert fingerprinted and fingerprinted == list(range(1, len(fingerprinted) + 1)), name  # epochs 1..K
        assert all(len(h["weights_sha256"]) == 64 for h in history[:len(fingerprinted)])
        assert len(fingerprinted) == record.recipe["settings"]["epochs"], name


@pytest.mark.parametrize("name", [name for name, record in zoo.manifest.published_records().items()
                                  if "seed_spread" in record.metrics])
def test_seed_spread_is_recorded_with_the_published_run_among_its_seeds(name, published):
    from zoo.check import seed_spread

    record = published[name]
    spread = record.metrics["seed_spread"]
    assert len(spread["seeds"]) >= 5 and len(set(spread["seeds"])) == len(spread["seeds"])
    assert spread["top1"][spread["seeds"].index(record.recipe["settings"]["seed"])] == record.top1
    recomputed = seed_spread(dict(zip(spread["seeds"], spread["top1"])))
    assert {k: spread[k] for k in recomputed} == recomputed
    assert abs(record.top1 - spread["mean"]) <= spread["tolerance"]


# the test-time views a record may give a figure for (zoo.metrics.VIEWS), and the metric each is recorded under
TTA_FIGURES = {"flip": "cifar10_test_top1_flip_tta", "multi-crop": "cifar10_test_top1_multicrop_tta"}


@pytest.mark.slow
@pytest.mark.parametrize("name", PUBLISHED_NAMES)
def test_published_checkpoint_scores_its_manifest_figure(name, published, test_split):
    """The record's top-1 and, for one model per model file, its test-time views' figures too (VGG-16's flip TTA,
    airbench94's multi-crop TTA), each view in the one sweep that ``zoo evaluate --flip-tta --tta`` makes: the views
    are code the file's models share, and airbench95's multi-crop figure alone would add five passes of the largest
    airbench over the test set."""
    if name not in published:
        pytest.skip(f"{name} is not published yet")
    record = published[name]
    model = zoo.get_model(name, pretrained=True)
    assert {v.dtype for v in model.state_dict().values() if v.is_floating_point()} == {torch.float32}
    recorded = {view: record.metrics[key] for view, key in TTA_FIGURES.items()
                if key in record.metrics and name in ONE_PER_MODEL_FILE}
    scores = score_views(model, test_split, ("single", *recorded))
    result = scores["single"]
    assert result.count == 10_000
    assert result.top1 == record.top1
    assert result.per_class == record.metrics["cifar10_test_per_class"]
    assert {view: scores[view].top1 for view in recorded} == recorded
    if record.recipe["settings"].get("weights_dtype", "float32") != "float32":  # issue 4: rounding costs ≤ 0.02 points
        assert round(abs(record.top1 - record.metrics["cifar10_test_top1_float32_weights"]) * 10_000) <= 2


def test_transforms_preset_turns_a_pil_image_into_the_training_normalisation(published, test_split):
    from PIL import Image

    record = published[smallest(published)]
    image = test_split.images[0]
    pil = Image.fromarray(image.permute(1, 2, 0).numpy())
    expected = (image.float() / 255 - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    assert torch.allclose(record.transforms_preset()(pil), expected, atol=1e-6)
    big = pil.resize((96, 96))
    assert record.transforms_preset()(big).shape == (3, 32, 32)


def test_installed_package_finds_its_manifest_from_any_directory(tmp_path, published):
    import subprocess
    import sys
    from pathlib import Path

    from tests.support import missing

    code = ("import json, zoo, zoo.data; print(json.dumps({'file': zoo.__file__, 'published': "
            "zoo.list_models(pretrained=True), 'pictures': len(zoo.data.shipped_examples()[0])}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    if run.returncode != 0:
        missing(f"zoo is not installed (pip install .): {run.stderr.strip().splitlines()[-1]}")
    result = json.loads(run.stdout)
    if Path(result["file"]).resolve().is_relative_to(REPO):
        pytest.skip("zoo is installed in editable mode from this checkout")
    assert result["published"] == sorted(published)
    assert result["pictures"] == 10  # the demo's pictures are package data


@pytest.mark.xfail(strict=True, reason="the records still name placeholder repos (org/…) at the movable tag v1: "
                                       "`zoo publish --repo-id-prefix OWNER/PREFIX` uploads and pins them (tests/"
                                       "test_publish.py runs it against the loopback Hub), but it needs huggingface.co "
                                       "and a maintainer's write token, neither of which this project's machines have. "
                                       "Strict: on the commit that pins the records this XPASS fails the run; make it "
                                       "a plain test there.")
def test_every_record_points_at_a_hub_repo_pinned_by_commit(published):
    import re

    for name, record in published.items():
        assert not record.repo_id.startswith("org/"), f"{name}: placeholder repo {record.repo_id}"
        assert re.fullmatch(r"[0-9a-f]{40}", record.revision), f"{name}: movable revision {record.revision!r}"
