"""CIFAR-10 readers (both on-disk formats), their error paths, and batched augmentation."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from zoo.data import (CATEGORIES, DataError, MEAN, STD, cutout, load_cifar10, normalize, random_crop_flip)


def fake_batches(seed: int, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 256, (10_000, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 10_000))
            for _ in range(count)]


def write_bin(folder, batches, names):
    folder.mkdir(parents=True)
    for (images, labels), name in zip(batches, names):
        records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
        records.tofile(folder / f"{name}.bin")


def write_py(folder, batches, names):
    folder.mkdir(parents=True)
    for (images, labels), name in zip(batches, names):
        with open(folder / name, "wb") as f:  # what torchvision's download unpacks: protocol-2 pickled dicts
            pickle.dump({"batch_label": name, "labels": labels.tolist(),
                         "data": images.reshape(len(images), -1)}, f, protocol=2)


NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


@pytest.fixture(scope="module")
def batches():
    return fake_batches(0, 6)


@pytest.mark.parametrize("fmt, writer", [("bin", write_bin), ("py", write_py)])
def test_both_formats_read_the_same_tensors(tmp_path, batches, fmt, writer):
    writer(tmp_path / f"cifar-10-batches-{fmt}", batches, NAMES)
    train, test = load_cifar10(tmp_path, train=True), load_cifar10(tmp_path, train=False)
    assert train.images.dtype == torch.uint8 and train.images.shape == (50_000, 3, 32, 32)
    assert train.labels.dtype == torch.int64 and test.images.shape == (10_000, 3, 32, 32)
    assert np.array_equal(train.images[10_000:20_000].numpy(), batches[1][0])
    assert np.array_equal(test.labels.numpy(), batches[5][1])


def test_format_does_not_change_the_data_digest(tmp_path, batches):
    write_bin(tmp_path / "a" / "cifar-10-batches-bin", batches, NAMES)
    write_py(tmp_path / "b" / "cifar-10-batches-py", batches, NAMES)
    assert load_cifar10(tmp_path / "a").sha256() == load_cifar10(tmp_path / "b").sha256()


def test_partial_data_says_how_many_batches_were_found(tmp_path, batches):
    write_bin(tmp_path / "cifar-10-batches-bin", batches[:3], NAMES[:3])
    with pytest.raises(DataError, match=r"found 3 of 5 training batches in .*cifar-10-batches-bin; missing: "
                                        r"data_batch_4.bin, data_batch_5.bin"):
        load_cifar10(tmp_path)


def test_missing_data_says_where_it_looked_and_what_to_do(tmp_path):
    with pytest.raises(DataError, match=r"no CIFAR-10 found in .*--data-dir.*ZOO_DATA_DIR.*--download"):
        load_cifar10(tmp_path / "nowhere")


def test_truncated_bin_file_is_reported(tmp_path, batches):
    write_bin(tmp_path / "cifar-10-batches-bin", batches, NAMES)
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="test_batch.bin is 30729900 bytes, not a whole number of 3073-byte records"):
        load_cifar10(tmp_path, train=False)


def test_py_batch_that_would_run_code_is_refused(tmp_path, batches):
    write_py(tmp_path / "cifar-10-batches-py", batches, NAMES)

    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({"data": Exploit(), "labels": []}, f)
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        load_cifar10(tmp_path, train=False)


def test_real_data_is_the_standard_cifar10(data_dir):
    train, test = load_cifar10(data_dir), load_cifar10(data_dir, train=False)
    assert train.labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert test.labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert torch.bincount(train.labels).tolist() == [5000] * 10
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    pixels = train.images.double() / 255
    assert torch.allclose(pixels.mean((0, 2, 3)), torch.tensor(MEAN, dtype=torch.float64), atol=5e-5)
    assert torch.allclose(pixels.std((0, 2, 3)), torch.tensor(STD, dtype=torch.float64), atol=5e-5)
    meta = data_dir / "cifar-10-batches-bin" / "batches.meta.txt"
    if meta.is_file():
        assert tuple(line for line in meta.read_text().split() if line) == CATEGORIES


def test_crop_flip_moves_pixels_but_keeps_them():
    images = torch.arange(2 * 3 * 32 * 32, dtype=torch.int64).remainder(251).to(torch.uint8).view(2, 3, 32, 32)
    generator = torch.Generator().manual_seed(0)
    unpadded = random_crop_flip(images, 0, generator, flip=False)
    assert torch.equal(unpadded, images)
    flipped_or_not = random_crop_flip(images.repeat(16, 1, 1, 1), 0, generator)
    assert {bool(torch.equal(x, images[i % 2].flip(2))) for i, x in enumerate(flipped_or_not)} == {True, False}
    cropped = random_crop_flip(images, 4, torch.Generator().manual_seed(1), flip=False)
    assert cropped.shape == images.shape and cropped.dtype == torch.uint8
    again = random_crop_flip(images, 4, torch.Generator().manual_seed(1), flip=False)
    assert torch.equal(cropped, again)


def test_cutout_blanks_one_clipped_square_per_image_with_the_mean_colour():
    images = torch.full((64, 3, 32, 32), 7, dtype=torch.uint8)
    out = cutout(images, 8, torch.Generator().manual_seed(0))
    blanked = (out != images).any(1)  # (N, H, W)
    mean_colour = torch.tensor([round(c * 255) for c in MEAN], dtype=torch.uint8)
    sizes = set()
    for mask, image in zip(blanked, out):
        rows, cols = mask.nonzero().unbind(1)
        height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
        assert mask.sum() == height * width, "one solid rectangle"
        assert height <= 8 and width <= 8
        assert torch.equal(image[:, mask], mean_colour[:, None].expand(3, int(mask.sum())))
        sizes.add((height, width))
    assert (8, 8) in sizes and len(sizes) > 1, "whole squares inside the image, clipped ones at its borders"
    assert torch.equal(out, cutout(images, 8, torch.Generator().manual_seed(0)))
    assert normalize(mean_colour.view(1, 3, 1, 1)).abs().max() < 0.01, "the mean colour normalises to ~0"


def test_normalize_matches_torchvision():
    from torchvision.transforms import functional as TF

    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    expected = TF.normalize(images.float() / 255, MEAN, STD)
    assert torch.allclose(normalize(images), expected, atol=1e-5)
    assert normalize(images).is_contiguous(memory_format=torch.channels_last)
