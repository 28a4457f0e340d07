"""Where published weights come from, and whether they are the right bytes.

Resolution order for a record's file:

1. ``$ZOO_WEIGHTS_DIR/<model>/<filename>`` when ``ZOO_WEIGHTS_DIR`` is set and the file is there;
2. the checkout's own ``weights/<model>/<filename>`` (offline work from a clone);
3. the Hugging Face Hub through ``huggingface_hub.hf_hub_download`` (its cache, ``HF_HOME``,
   ``HF_ENDPOINT`` mirrors, ``HF_HUB_OFFLINE``, file locks and progress bar), cache first.

Whatever the source, the sha256 of the bytes is checked before they are parsed; a mismatch is an
error, never a fallback to another source. Only safetensors are read.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import torch

from .errors import CheckpointError, ZooError
from .manifest import CHECKOUT_ROOT, WeightsRecord

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
CHECKOUT_WEIGHTS = CHECKOUT_ROOT / "weights"


class ChecksumError(ZooError, RuntimeError):
    """A weights file is present but its sha256 is not the published one."""


class WeightsUnavailableError(ZooError, RuntimeError):
    """No copy of a published weights file could be found or downloaded."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_candidates(record: WeightsRecord) -> list[Path]:
    """Steps 1 and 2 of the resolution order, in order (files that may or may not exist)."""
    candidates = []
    if os.environ.get(WEIGHTS_DIR_ENV):
        candidates.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser() / record.name / record.filename)
    candidates.append(CHECKOUT_WEIGHTS / record.name / record.filename)
    return candidates


def resolve(record: WeightsRecord, download: bool = True) -> Path:
    """Path of a local copy of ``record``'s file, downloading it from the Hub if needed (step 3)."""
    for candidate in local_candidates(record):
        if candidate.is_file():
            return candidate
    return _hub_download(record, local_files_only=not download)


def _hub_download(record: WeightsRecord, local_files_only: bool) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    kwargs = dict(repo_id=record.repo_id, filename=record.filename, revision=record.revision, library_name="zoo")
    try:
        # Cache first: a pinned file already in the cache needs no request (and works without a network).
        return Path(hf_hub_download(**kwargs, local_files_only=True))
    except LocalEntryNotFoundError:
        if local_files_only:
            raise WeightsUnavailableError(_unavailable_message(record, "it is not in the Hugging Face cache")) from None
    try:
        return Path(hf_hub_download(**kwargs))
    except (LocalEntryNotFoundError, EntryNotFoundError, HfHubHTTPError, OSError) as error:
        raise WeightsUnavailableError(_unavailable_message(record, f"{type(error).__name__}: {error}")) from error


def _unavailable_message(record: WeightsRecord, reason: str) -> str:
    from huggingface_hub import constants

    return (
        f"Cannot get the weights of {record.name!r} ({record.repo_id}@{record.revision}/{record.filename}): {reason}. "
        f"Looked in ${WEIGHTS_DIR_ENV}, {CHECKOUT_WEIGHTS / record.name}, the Hugging Face cache "
        f"({constants.HF_HUB_CACHE}) and the Hub at {constants.ENDPOINT} "
        f"(offline mode: {'on' if constants.HF_HUB_OFFLINE else 'off'}). To fix: connect and load again "
        f"(run `zoo download {record.name}` while online to cache it for offline use); or set HF_ENDPOINT to a Hub "
        f"mirror you can reach; or copy {record.filename} to ${WEIGHTS_DIR_ENV}/{record.name}/ "
        f"(sha256 {record.sha256})."
    )


def verified_bytes(record: WeightsRecord, path: Path) -> bytes:
    """The file's bytes, only if their sha256 is the published one."""
    data = path.read_bytes()
    actual = sha256_bytes(data)
    if actual != record.sha256:
        raise ChecksumError(
            f"sha256 mismatch for {path} (weights of {record.name!r}): expected {record.sha256}, got {actual} "
            f"({len(data)} bytes, expected {record.file_size}). The file is corrupt, truncated or not the published "
            f"checkpoint; it was not loaded. Delete it (for a Hub cache entry, also the blob it links to: "
            f"{path.resolve()}) and load again to re-download, or point ${WEIGHTS_DIR_ENV} at a good copy."
        )
    return data


def load_state_dict(record: WeightsRecord, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Resolve, verify and parse ``record``'s safetensors file into a ``state_dict`` on ``device``."""
    from safetensors.torch import load as load_safetensors

    path = resolve(record)
    state_dict = load_safetensors(verified_bytes(record, path))
    # A file stored in half precision loads as float32, like every other zoo checkpoint.
    return {k: v.to(device, torch.float32 if v.is_floating_point() else v.dtype) for k, v in state_dict.items()}


def load_tensors_only(path: Path, what: str, fix: str = "", map_location: str | torch.device = "cpu",
                      allowed: Sequence[type] = (), pickled_object: str | None = None) -> Any:
    """``torch.load(path, weights_only=True)`` of a file that may hold anything: :class:`~zoo.errors.CheckpointError`
    whatever goes wrong, saying ``what`` the file is not, why, and the ``fix`` (or ``pickled_object`` where the file
    pickles objects other than tensors and ``allowed`` types). torch's own advice, to retry with
    ``weights_only=False``, is not passed on."""
    import pickle

    try:
        with torch.serialization.safe_globals(list(allowed)), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about the pickle protocol of junk before failing on it
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        refused_object = "unsupported global" in str(error).lower()
        raise CheckpointError(pickled_object if refused_object and pickled_object else
                              f"{what} (UnpicklingError while reading it, tensors only){fix}") from None
    except Exception as error:  # the weights-only unpickler fails on junk in many ways (EOFError, IndexError, …)
        raise CheckpointError(f"{what} ({type(error).__name__} while reading it, tensors only){fix}") from None


def read_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A ``state_dict`` from a user's file: safetensors, or a ``.pth`` read with ``weights_only=True``.

    A ``.pth`` holding a whole pickled model (``torch.save(model)``) is refused: unpickling it could run code.
    Anything that is not a readable state_dict raises :class:`~zoo.errors.CheckpointError` saying what was found.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}: give the path of a .safetensors or state_dict .pth file")
    with open(path, "rb") as f:
        head = f.read(8)
    what = (f"{path} ({path.stat().st_size} bytes) is neither a safetensors file nor a torch.save() state_dict; "
            "it may be truncated or another kind of file")
    if len(head) == 8 and not head.startswith((b"PK", b"\x80")):  # safetensors: u64 header length, then JSON
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{what} ({error}). Re-save it with safetensors.torch.save_file(model.state_dict(), "
                                  "PATH).") from None
    state_dict = load_tensors_only(path, what, ".", pickled_object=(
        f"{path} holds more than tensors (probably a whole model saved with torch.save(model)); it was not "
        "unpickled because that could run code. Re-save it as a state_dict where it was made: "
        "torch.save(model.state_dict(), 'model.pth'), or better safetensors.torch.save_file(model.state_dict(), "
        "'model.safetensors')."))
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{path} is not a state_dict (a mapping of parameter names to tensors)")
    return state_dict
