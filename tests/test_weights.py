"""Weights resolution and verification: sources in order, sha256 before parsing, clear errors."""
from __future__ import annotations

import shutil

import pytest
import torch

import zoo
from zoo.weights import CHECKOUT_WEIGHTS, ChecksumError, resolve

from tests.support import smallest


@pytest.fixture()
def record(published):
    return published[smallest(published)]


@pytest.fixture()
def weights_dir(tmp_path, record, monkeypatch):
    """A ZOO_WEIGHTS_DIR holding a copy of the published file."""
    target = tmp_path / "w" / record.name / record.filename
    target.parent.mkdir(parents=True)
    shutil.copyfile(CHECKOUT_WEIGHTS / record.name / record.filename, target)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "w"))
    return target


def test_checkout_copy_is_the_embedded_default(record, monkeypatch):
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    assert resolve(record, download=False) == CHECKOUT_WEIGHTS / record.name / record.filename


def test_zoo_weights_dir_comes_first(weights_dir, record):
    assert resolve(record, download=False) == weights_dir
    model = zoo.get_model(record.name, pretrained=True)
    assert not model.training
    reference = zoo.get_model(record.name).eval()
    reference.load_state_dict(_safetensors(weights_dir))
    x = torch.randn(4, 3, 32, 32)
    assert torch.equal(model(x), reference(x))


def _safetensors(path):
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.parametrize("damage", ["flip_byte", "truncate"])
def test_damaged_file_is_refused_with_both_digests(weights_dir, record, damage):
    data = bytearray(weights_dir.read_bytes())
    if damage == "flip_byte":
        data[-1] ^= 0x01
    else:
        del data[len(data) // 2:]
    weights_dir.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as error:
        zoo.get_model(record.name, pretrained=True)
    message = str(error.value)
    assert str(weights_dir) in message
    assert f"expected {record.sha256}" in message
    # a folder of the user's ($ZOO_WEIGHTS_DIR): the advice is to put a good copy there, not to delete their file
    assert "got " in message and "Put the published file there instead" in message and "Delete" not in message
    # never silently replaced by another source: the bad file is still there, untouched
    assert weights_dir.read_bytes() == bytes(data)


def test_device_argument_places_the_model(record):
    model = zoo.get_model(record.name, pretrained=True, map_location="cpu")
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    from zoo.errors import DeviceError

    with pytest.raises(DeviceError, match="'not-a-device' is not a torch device"):
        zoo.get_model(record.name, pretrained=True, device="not-a-device")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="this machine has no such device"):
            zoo.get_model(record.name, device="cuda")


def test_unpublished_model_is_a_clear_error(published, monkeypatch):
    import zoo.api

    name = smallest(published)  # every model is published: take one record out of the manifest
    monkeypatch.setattr(zoo.api, "published_records", lambda: {n: r for n, r in published.items() if n != name})
    with pytest.raises(ValueError, match="has no published weights yet"):
        zoo.get_model(name, pretrained=True)
    assert zoo.get_model(name).training, "the architecture alone still builds"
