"""CIFAR-10 in memory: readers for both on-disk formats, and batched augmentation on tensors.

Images come back as ``uint8`` tensors ``(N, 3, 32, 32)`` and labels as ``int64`` ``(N,)``, whether
the root holds ``cifar-10-batches-bin/`` (the official binary version) or ``cifar-10-batches-py/``
(the python version that torchvision's ``CIFAR10(download=True)`` fetches).
"""
from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import ZooError

CATEGORIES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
IMAGES_PER_BATCH = 10_000
BIN_RECORD_BYTES = 1 + 3 * 32 * 32
DATA_DIR_ENV = "ZOO_DATA_DIR"


class DataError(ZooError, RuntimeError):
    """CIFAR-10 is missing, partial or corrupt; the message says what was found where and what to do."""


class DataNotFoundError(DataError):
    """No CIFAR-10 at all where zoo looked (as opposed to a copy that is there but damaged)."""


# Split.sha256() of CIFAR-10's test set, the same from the binary and the python version (the archives' own md5s are
# checked by torchvision on download; this checks the pixels and labels a score is computed on).
CIFAR10_TEST_SHA256 = "2c33b053d1cd726af8d86e174a96dd89d7000ba1412add026d68142375b89d51"


@dataclass(frozen=True)
class Split:
    """One split of CIFAR-10 held in memory."""

    images: torch.Tensor  # uint8 (N, 3, 32, 32)
    labels: torch.Tensor  # int64 (N,)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, count: int) -> "Split":
        """The first ``count`` images (the files' own order)."""
        return Split(self.images[:count], self.labels[:count])

    def sha256(self) -> str:
        """Digest of the pixels and labels: identical for the binary and the python format."""
        digest = hashlib.sha256(self.images.numpy().tobytes())
        digest.update(self.labels.numpy().tobytes())
        return digest.hexdigest()


def check_cifar10_test(split: Split) -> str | None:
    """``None`` if ``split`` is CIFAR-10's whole test set, else a sentence saying how it differs (a score on it is not
    a CIFAR-10 test figure)."""
    if len(split) != IMAGES_PER_BATCH:
        return f"these are {len(split):,} images, not the 10,000 of CIFAR-10's test set"
    digest = split.sha256()
    if digest == CIFAR10_TEST_SHA256:
        return None
    counts = torch.bincount(split.labels, minlength=len(CATEGORIES)).tolist()
    return (f"these 10,000 images are not CIFAR-10's test set (sha256 {digest[:16]}…, expected "
            f"{CIFAR10_TEST_SHA256[:16]}…; images per class {counts}, CIFAR-10 has 1,000 each): a modified or damaged "
            "copy. Re-extract the CIFAR-10 archive, or fetch it with --download")


def require_cifar10_test(split: Split, purpose: str) -> None:
    """Raise a :class:`DataError` unless ``split`` is CIFAR-10's test set (published figures are scored on it)."""
    difference = check_cifar10_test(split)
    if difference is not None:
        raise DataError(f"{purpose} needs CIFAR-10's test set, and {difference}")


def load_cifar10_test(root: str | os.PathLike | None, purpose: str) -> Split:
    """The test split, refused (:class:`DataError`) unless it is CIFAR-10's own: what published figures are scored on."""
    split = load_cifar10(root, train=False)
    require_cifar10_test(split, purpose)
    return split


EXAMPLES_DIR = Path(__file__).with_name("examples")


def shipped_examples() -> tuple[Split, list[int]]:
    """The ten pictures shipped inside the package (the first CIFAR-10 test image of each class, lossless PNG named
    ``INDEX_CLASS.png``) and their indices in the test set: what ``zoo demo`` classifies where no data set is."""
    from PIL import Image

    files = sorted(EXAMPLES_DIR.glob("*.png"))
    images = [torch.from_numpy(np.array(Image.open(f).convert("RGB"))).permute(2, 0, 1) for f in files]
    labels = [CATEGORIES.index(f.stem.split("_", 1)[1]) for f in files]
    indices = [int(f.stem.split("_", 1)[0]) for f in files]
    return Split(torch.stack(images).contiguous(), torch.tensor(labels, dtype=torch.int64)), indices


def default_data_dir() -> Path:
    """``$ZOO_DATA_DIR`` if set, else the per-user cache ``$XDG_CACHE_HOME/zoo/data`` (``~/.cache/zoo/data``)."""
    from .paths import expanded, user_cache_dir

    if os.environ.get(DATA_DIR_ENV):
        return expanded(os.environ[DATA_DIR_ENV], DATA_DIR_ENV)
    return user_cache_dir() / "zoo" / "data"


def download_cifar10(root: str | os.PathLike) -> None:
    """Fetch the python version with torchvision (needs internet; md5-checked by torchvision)."""
    from torchvision.datasets import CIFAR10

    for train in (True, False):
        CIFAR10(str(root), train=train, download=True)


def load_cifar10(root: str | os.PathLike | None = None, train: bool = True) -> Split:
    """Load the training (50,000) or test (10,000) split from ``root`` (default :func:`default_data_dir`)."""
    from .paths import expanded

    root = expanded(root) if root is not None else default_data_dir()
    folder, reader = _find_format(root)
    names = TRAIN_BATCHES if train else (TEST_BATCH,)
    missing = [n for n in names if not (folder / _file_name(n, reader)).is_file()]
    if missing:
        found = len(names) - len(missing)
        raise DataError(
            f"found {found} of {len(names)} {'training' if train else 'test'} batches in {folder}; missing: "
            f"{', '.join(_file_name(n, reader) for n in missing)}. Re-extract the CIFAR-10 archive there, "
            f"or pass --data-dir / set {DATA_DIR_ENV} to a complete copy."
        )
    parts = [reader(folder / _file_name(n, reader)) for n in names]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]).astype(np.int64))
    return Split(images, labels)


def _find_format(root: Path):
    for folder, reader in ((root / "cifar-10-batches-bin", _read_bin_batch), (root / "cifar-10-batches-py", _read_py_batch)):
        if folder.is_dir():
            return folder, reader
    if root.name == "cifar-10-batches-bin" and root.is_dir():
        return root, _read_bin_batch
    if root.name == "cifar-10-batches-py" and root.is_dir():
        return root, _read_py_batch
    raise DataNotFoundError(
        f"no CIFAR-10 found in {root}: expected a folder cifar-10-batches-bin/ (official binary version) or "
        f"cifar-10-batches-py/ (python version) inside it. Pass --data-dir DIR or set {DATA_DIR_ENV}=DIR, "
        f"or, with internet, run `python -m zoo.train NAME --download` to fetch it with torchvision."
    )


def _file_name(batch: str, reader) -> str:
    return f"{batch}.bin" if reader is _read_bin_batch else batch


def _check_batch(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    if len(images) != IMAGES_PER_BATCH or len(labels) != IMAGES_PER_BATCH:
        raise DataError(
            f"{path} holds {len(labels)} images, expected {IMAGES_PER_BATCH}: the file is truncated or not a "
            "CIFAR-10 batch. Re-extract the archive."
        )
    if labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path} has labels outside 0..9: the file is corrupt. Re-extract the archive.")


def _read_bin_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % BIN_RECORD_BYTES:
        raise DataError(
            f"{path} is {raw.size} bytes, not a whole number of {BIN_RECORD_BYTES}-byte records: the file is "
            "truncated or corrupt. Re-extract the archive."
        )
    records = raw.reshape(-1, BIN_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    images = np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32)
    _check_batch(path, images, labels)
    return images, labels


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, nothing else: no code from the file ever runs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol 2 stores bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays")


def _read_py_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            entry = _NumpyOnlyUnpickler(f, encoding="latin1").load()
        data, labels = entry["data"], entry.get("labels", entry.get("fine_labels"))
    except Exception as error:  # junk fails in many ways (found by tests/test_fuzz.py: OverflowError, MemoryError…)
        raise DataError(f"{path} is not a readable CIFAR-10 python batch ({type(error).__name__}: {error}). "
                        "Re-extract the archive.") from None
    images = _python_pixels(path, data).reshape(-1, 3, 32, 32)
    labels = _python_labels(path, labels)
    _check_batch(path, images, labels)
    return images, labels


def _python_pixels(path: Path, data: object) -> np.ndarray:
    """The batch's ``data`` as the python version stores it, uint8 ``(N, 3072)`` (rows: 1,024 red, green, blue
    values), or :class:`DataError`: float pixels in [0, 1] or pictures in another layout are not coerced (they would
    train as black or scrambled pictures)."""
    found = (f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__)
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == BIN_RECORD_BYTES - 1):
        raise DataError(f"{path}: 'data' is {found}; a CIFAR-10 python batch holds uint8 pixels (N, 3072), each row "
                        "1,024 red, then green, then blue values. Write the batch in that layout (or re-extract the "
                        "archive).")
    return data


def _python_labels(path: Path, labels: object) -> np.ndarray:
    """The batch's labels, a list of ints (or an integer array), or :class:`DataError`."""
    try:
        array = np.asarray(labels) if isinstance(labels, (list, tuple, np.ndarray)) else None
    except (ValueError, TypeError, OverflowError):  # ragged lists, …
        array = None
    if array is None or array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        found = f"{array.dtype} {array.shape}" if array is not None else type(labels).__name__
        raise DataError(f"{path}: 'labels' is {found}; a CIFAR-10 python batch holds a list of whole numbers 0-9. "
                        "Re-extract the archive.")
    return array.astype(np.int64)


# ---- batched augmentation and normalisation on tensors ------------------------------------------


def random_crop_flip(images: torch.Tensor, padding: int, generator: torch.Generator, flip: bool = True,
                     fill: str = "zeros", flipped: torch.Tensor | None = None) -> torch.Tensor:
    """Random crop of the ``padding``-pixel padded images (``fill``: zeros, or ``"reflect"``: the mirrored border) and
    horizontal flip, as one gather: random with ``flip``, or of the images where the bool mask ``flipped`` is set."""
    n, _, h, w = images.shape
    if padding:
        if fill == "reflect":  # (torch reflect-pads floats only; uint8 values round-trip exactly)
            images = torch.nn.functional.pad(images.float(), (padding,) * 4, mode="reflect").to(images.dtype)
        else:
            images = torch.nn.functional.pad(images, (padding,) * 4)
        dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
        dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    else:
        dy = dx = torch.zeros(n, dtype=torch.long)
    if flipped is None:
        flipped = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    rows = dy[:, None] + torch.arange(h)
    cols = dx[:, None] + torch.arange(w)
    cols = torch.where(flipped[:, None], cols.flip(1), cols)
    return images[torch.arange(n)[:, None, None, None], torch.arange(3)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def cutout(images: torch.Tensor, size: int, generator: torch.Generator, fill=MEAN) -> torch.Tensor:
    """Cutout (DeVries & Taylor, 2017): one ``size``×``size`` square per image, centred anywhere in the image
    (clipped at the borders), set to the dataset mean colour — zero once normalised.

    Batched and driven by ``generator`` so that a training run stays reproducible; torchvision's
    ``RandomErasing`` draws from the global RNG and, on a batch, erases the same box in every image.
    """
    n, _, h, w = images.shape
    cy = torch.randint(0, h, (n, 1, 1, 1), generator=generator)
    cx = torch.randint(0, w, (n, 1, 1, 1), generator=generator)
    ys = torch.arange(h).view(1, 1, h, 1)
    xs = torch.arange(w).view(1, 1, 1, w)
    inside = (ys >= cy - size // 2) & (ys < cy - size // 2 + size) & (xs >= cx - size // 2) & (xs < cx - size // 2 + size)
    colour = torch.tensor([round(c * 255) for c in fill], dtype=images.dtype).view(1, 3, 1, 1)
    return torch.where(inside, colour, images)


def normalize(images: torch.Tensor, mean=MEAN, std=STD, channels_last: bool = True) -> torch.Tensor:
    """uint8 ``(N, 3, H, W)`` → float32 normalised, channels_last by default."""
    mean_t = torch.tensor(mean).view(1, 3, 1, 1) * 255
    std_t = torch.tensor(std).view(1, 3, 1, 1) * 255
    out = (images.float() - mean_t) / std_t
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out
