"""Model cards: present for every published model, generated (not hand-edited), numbers from the manifest."""
from __future__ import annotations

import pytest

from zoo.api import get_model
from zoo.card import CONFUSION_PNG, CURVES_PNG, render_card, write_card
from zoo.metrics import score
from zoo.weights import CHECKOUT_WEIGHTS


@pytest.mark.parametrize("name", ["lenet", "cifar_quick", "vgg16_cifar10"])
def test_card_is_what_the_generator_writes_today(name, published, test_split):
    if name not in published:
        pytest.skip(f"{name} is not published")
    record = published[name]
    confusion = score(get_model(name, pretrained=True), test_split).confusion
    card = (CHECKOUT_WEIGHTS / name / "README.md").read_text(encoding="utf-8")
    assert card == render_card(record, confusion), f"regenerate with: python -m zoo.card {name}"
    assert card.startswith("---\nlibrary_name: pytorch\n")
    assert f"value: {record.top1}" in card and record.sha256 in card
    assert f"python -m zoo.train {name}" in card
    for figure in (CONFUSION_PNG, CURVES_PNG):
        assert (CHECKOUT_WEIGHTS / name / figure).read_bytes().startswith(b"\x89PNG")


def test_card_command_writes_card_and_figures(published, data_dir, tmp_path):
    pytest.importorskip("matplotlib", reason="pip install 'zoo[plots]'")
    from PIL import Image

    name = sorted(published)[0]
    card = write_card(name, str(data_dir), tmp_path)
    assert card.read_text(encoding="utf-8") == (CHECKOUT_WEIGHTS / name / "README.md").read_text(encoding="utf-8")
    for figure in (CONFUSION_PNG, CURVES_PNG):
        with Image.open(tmp_path / figure) as image:
            assert image.format == "PNG" and image.width >= 600
