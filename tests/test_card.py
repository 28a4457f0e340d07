"""Model cards: present for every published model, generated (not hand-edited), numbers from the manifest."""
from __future__ import annotations

import json

import pytest

from zoo.release.card import BENCHMARKS, CONFUSION_PNG, CURVES_PNG, render_card, write_card
from zoo.release.card_beyond import RELIABILITY_PNG, has_figures
from zoo.weights import CHECKOUT_WEIGHTS

from tests.support import PUBLISHED_NAMES, REPO, smallest


@pytest.mark.slow
@pytest.mark.parametrize("name", PUBLISHED_NAMES)
def test_card_is_what_the_generator_writes_today(name, published):
    from huggingface_hub import ModelCard

    if name not in published:
        pytest.skip(f"{name} is not published")
    record = published[name]
    card = (CHECKOUT_WEIGHTS / name / "README.md").read_text(encoding="utf-8")
    assert card == render_card(record), f"regenerate with: zoo card {name}"
    # The card's per-class table is rendered from the record, whose figures tests/test_published.py checks against
    # the published file's scores, image by image (not scored again here: minutes for VGG-16 on an AVX2-only CPU).
    # The metadata is what huggingface_hub reads back: the model-index carries the manifest's figure.
    results = ModelCard(card).data.eval_results
    assert (results[0].dataset_type, results[0].dataset_split, results[0].metric_type) == (
        "uoft-cs/cifar10", "test", "accuracy")
    assert results[0].metric_value == record.top1
    assert [r.metric_value for r in results[1:]] == [record.metrics[k] for k in (
        "cifar10_test_top1_multicrop_tta", "cifar10_test_top1_flip_tta") if k in record.metrics]
    assert record.sha256 in card and f"`{record.recipe['command']}`" in card
    assert f'hf_hub_download("{record.repo_id}", "{record.filename}")' in card
    figures = (CONFUSION_PNG, CURVES_PNG) + ((RELIABILITY_PNG,) if has_figures(record) else ())
    for figure in figures:
        assert (CHECKOUT_WEIGHTS / name / figure).read_bytes().startswith(b"\x89PNG")
    for path in sorted((REPO / "benchmarks").glob(BENCHMARKS)):  # the speed rows are the benchmark files'
        inference = json.loads(path.read_text())["models"].get(name, {}).get("inference", {})
        if "fast" in inference:
            fast = inference["fast"]
            assert f"(`benchmarks/{path.name}`) | " in card and \
                f"{fast['batch256_img_s']:,.0f} / {fast['batch1_ms']:.2f}" in card, path.name
            for batch, ratio in inference.get("best_zoo_over_best_peer", {}).items():
                assert (f"{1 / ratio:.1f}x faster than zoo's fastest path" in card) == (ratio < 1), (path.name, batch)
    for key, flag in (("openvino", ""), ("openvino_int8", " --int8")):  # the exports' rows: the record's figures
        if key in record.extra:
            assert (f"{record.extra[key]['cifar10_test_top1']:.2%} | `zoo export {name} --format openvino{flag} "
                    "--evaluate` |") in card, key
    if has_figures(record):  # the section's headline figures are the record's
        corruptions, calibration = record.extra["cifar10_c"], record.extra["calibration"]
        assert f"**{corruptions['float']['mean']:.2%}** float, **{corruptions['int8']['mean']:.2%}** int8" in card
        assert f"**Temperature {calibration['float']['temperature']}**" in card
        assert f"![Reliability diagram]({RELIABILITY_PNG})" in card


def test_card_command_writes_card_and_figures(published, data_dir, tmp_path):
    pytest.importorskip("matplotlib", reason="pip install 'cifar10-zoo[plots]'")
    from PIL import Image

    name = smallest(published)
    card = write_card(name, str(data_dir), tmp_path)
    assert card.read_text(encoding="utf-8") == (CHECKOUT_WEIGHTS / name / "README.md").read_text(encoding="utf-8")
    for figure in (CONFUSION_PNG, CURVES_PNG) + ((RELIABILITY_PNG,) if has_figures(published[name]) else ()):
        with Image.open(tmp_path / figure) as image:
            assert image.format == "PNG" and image.width >= 600
