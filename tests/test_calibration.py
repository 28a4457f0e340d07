"""Calibration: the metrics on cases whose answer is known by construction, the temperature fit recovering a known
temperature, the published figures and temperature re-measured, and zoo predict's calibrated probabilities."""
from __future__ import annotations

import json
import math

import pytest
import torch

from tests.support import ONE_PER_MODEL_FILE


def test_ece_of_known_cases():
    from zoo.calibration import calibration

    labels = torch.tensor([0, 1] * 500)
    # always 90 % sure of class 0, right half the time: ECE |0.5 - 0.9| = 0.4
    p = 0.9
    sure = torch.tensor([math.log(p), math.log((1 - p) / 9)], dtype=torch.float64).repeat(1000, 1)
    sure = torch.cat([sure, torch.full((1000, 8), math.log((1 - p) / 9), dtype=torch.float64)], 1)
    result = calibration(sure, labels)
    assert result.top1 == 0.5 and abs(result.mean_confidence - 0.9) < 1e-9 and abs(result.ece - 0.4) < 1e-9
    # Brier: (0.9 - y0)^2 + (0.1/9 - y1)^2 + 8 (0.1/9)^2, averaged over the two halves
    q = (1 - p) / 9
    right = (p - 1) ** 2 + 9 * q ** 2
    wrong = p ** 2 + (q - 1) ** 2 + 8 * q ** 2
    assert abs(result.brier - (right + wrong) / 2) < 1e-9
    assert abs(result.nll - (-math.log(p) - math.log(q)) / 2) < 1e-9


def test_ece_is_near_zero_for_labels_drawn_from_the_probabilities():
    from zoo.calibration import calibration

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(200_000, 10, generator=generator) * 2
    labels = torch.multinomial(logits.softmax(1), 1, generator=generator).squeeze(1)
    assert calibration(logits, labels).ece < 0.005
    assert calibration(logits * 2, labels).ece > 0.05  # the same logits made over-confident are not


def test_fit_recovers_the_temperature_that_made_the_labels():
    from zoo.calibration import fit_temperature

    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(100_000, 10, generator=generator) * 3
    for true_t in (0.7, 1.0, 1.8):
        labels = torch.multinomial((logits / true_t).softmax(1), 1, generator=generator).squeeze(1)
        assert abs(fit_temperature(logits, labels) - true_t) / true_t < 0.03


def test_bad_logits_are_refused():
    from zoo.calibration import calibration
    from zoo.errors import InputError

    with pytest.raises(InputError, match="NaN or infinite"):
        calibration(torch.tensor([[float("nan"), 0.0]]), torch.tensor([0]))
    with pytest.raises(InputError, match="N labels"):
        calibration(torch.zeros(3, 10), torch.zeros(2, dtype=torch.long))


@pytest.mark.slow
@pytest.mark.parametrize("name", ONE_PER_MODEL_FILE)
def test_published_calibration_figures_are_measured_again(name, published, test_split):
    """The record's calibration entry is what the published model's logits give on the records' class; elsewhere the
    temperature and ECE are close to it."""
    from zoo import beyond_clean
    from zoo.machine import machine_class
    from zoo.manifest import CALIBRATION_KEY
    from zoo.record_files import with_details

    entry = with_details(published[name]).extra[CALIBRATION_KEY]  # (the reliability bins: weights/NAME/evaluation.json)
    measured = beyond_clean.calibration_figures(beyond_clean.float_runtime(name), test_split)
    if machine_class().differences(entry["machine_class"]):
        assert abs(measured["temperature"] - entry["float"]["temperature"]) < 0.01
        assert abs(measured["after"]["ece"] - entry["float"]["after"]["ece"]) < 0.005
        pytest.skip("recorded on another machine class: close, not exact")
    assert measured == entry["float"]
    assert published[name].temperature == entry["float"]["temperature"]
    # the temperature was fitted on one half and helps on the other: the point of publishing it
    assert entry["float"]["after"]["nll"] < entry["float"]["before"]["nll"]
    assert entry["float"]["after"]["ece"] < entry["float"]["before"]["ece"]


def test_predict_prints_calibrated_probabilities_unless_asked_not_to(published, tmp_path, cli):
    from PIL import Image

    from zoo import get_model, get_weights
    from zoo.data import EXAMPLES_DIR

    picture = sorted(EXAMPLES_DIR.glob("*.png"))[0]
    record = get_weights("lenet")
    with torch.inference_mode():
        logits = get_model("lenet", pretrained=True)(record.transforms_preset()(Image.open(picture).convert("RGB"))[None])
    env = {"ZOO_DATA_DIR": str(tmp_path)}
    shown = {}
    for flag in ([], ["--uncalibrated"]):
        run = cli("predict", str(picture), "--model", "lenet", "--topk", "1", "--json", *flag, env=env)
        assert run.returncode == 0, run.stderr
        shown[bool(flag)] = json.loads(run.stdout)[0]["top"][0]["prob"]
    assert shown[True] == pytest.approx(float(logits.softmax(1).max()), abs=1e-6)
    if record.temperature != 1.0:
        assert shown[False] == pytest.approx(float((logits / record.temperature).softmax(1).max()), abs=1e-6)
        assert shown[False] != pytest.approx(shown[True], abs=1e-4)


@pytest.mark.parametrize("temperature", [0, -0.7, "0.7", None, float("inf")])
def test_a_bad_published_temperature_is_named_where_the_manifest_is_read(temperature, tmp_path):
    """zoo predict divides logits by it: the schema refuses what it cannot divide by, naming the field."""
    from zoo.errors import ManifestError
    from zoo.manifest import read_manifest, shipped_manifest

    document = json.loads(shipped_manifest().read_text(encoding="utf-8"))
    document["models"]["lenet"]["calibration"]["float"]["temperature"] = temperature
    path = tmp_path / "weights_manifest.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"models\.lenet\.calibration\.float\.temperature: .*a number > 0"):
        read_manifest(path)
