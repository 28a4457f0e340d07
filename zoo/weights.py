"""Where published weights come from, and whether they are the right bytes.

Resolution order for a record's file:

1. ``$ZOO_WEIGHTS_DIR/<model>/<filename>`` when ``ZOO_WEIGHTS_DIR`` is set and the file is there;
2. the checkout's own ``weights/<model>/<filename>`` (offline work from a clone);
3. the Hugging Face Hub through ``huggingface_hub.hf_hub_download`` (its cache, ``HF_HOME``,
   ``HF_ENDPOINT`` mirrors, ``HF_HUB_OFFLINE``, file locks and progress bar), cache first;
4. the independent mirror: the file as committed in this repository on GitHub, at the pinned commit the record
   names (``raw.githubusercontent.com``, or ``$ZOO_MIRROR_ENDPOINT``), downloaded with
   ``torch.hub.download_url_to_file`` into torch's cache (``$TORCH_HOME/hub/checkpoints/zoo/``), cache first.
   It is asked only when the Hub has no copy to give (down, gone, unreachable), never in offline mode.

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
from .manifest import CHECKOUT_ROOT, WeightsRecord, atomic_write_bytes
from .paths import expanded, lies_within

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
MIRROR_ENDPOINT_ENV = "ZOO_MIRROR_ENDPOINT"
MIRROR_ENDPOINT = "https://raw.githubusercontent.com"
MIRROR_REPO = "org/zoo"  # this repository on GitHub (Torch Hub's "org/zoo"), whose commits the mirror serves
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
        candidates.append(expanded(os.environ[WEIGHTS_DIR_ENV], WEIGHTS_DIR_ENV) / record.name / record.filename)
    candidates.append(CHECKOUT_WEIGHTS / record.name / record.filename)
    return candidates


def resolve(record: WeightsRecord, download: bool = True) -> Path:
    """Path of a local copy of ``record``'s file: steps 1-2, then the caches of steps 3-4, then their downloads."""
    from huggingface_hub import constants

    for candidate in local_candidates(record):
        if candidate.is_file():
            return candidate
    expanded(constants.HF_HUB_CACHE, "HF_HOME")  # (not a folder named "~" in the working directory)
    expanded(torch.hub.get_dir(), "TORCH_HOME")
    cached = _hub_cached(record) or _mirror_cached(record)
    if cached is not None:
        return cached
    if not download or constants.HF_HUB_OFFLINE:
        raise WeightsUnavailableError(_unavailable_message(record, "it is in neither cache"))
    try:
        return _hub_download(record)
    except WeightsUnavailableError as hub_error:
        if record.mirror is None:
            raise
        try:
            return _mirror_download(record)
        except WeightsUnavailableError as mirror_error:
            raise WeightsUnavailableError(_unavailable_message(
                record, f"the Hub: {hub_error.__cause__}; the mirror: {mirror_error.__cause__}")) from None


def _hub_cached(record: WeightsRecord) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(record.repo_id, record.filename, revision=record.revision)
    return Path(cached) if isinstance(cached, str) else None


def _hub_download(record: WeightsRecord) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id=record.repo_id, filename=record.filename, revision=record.revision,
                                    library_name="zoo"))
    except (LocalEntryNotFoundError, EntryNotFoundError, HfHubHTTPError, OSError, *transport_errors()) as error:
        raise WeightsUnavailableError(_unavailable_message(record, f"{type(error).__name__}: {error}")) from error


def transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client libraries' own error bases (not all of them OSErrors): huggingface_hub speaks through httpx2,
    httpx or requests, depending on its release; an endpoint like HF_ENDPOINT=notaurl fails in them."""
    import importlib

    found = []
    for module, names in (("httpx2", ("HTTPError", "InvalidURL")), ("httpx", ("HTTPError", "InvalidURL")),
                          ("requests", ("RequestException",))):
        try:
            library = importlib.import_module(module)
        except ImportError:
            continue
        found += [getattr(library, name) for name in names if isinstance(getattr(library, name, None), type)]
    return tuple(found)


def mirror_url(record: WeightsRecord) -> str | None:
    """Where the independent mirror serves ``record``'s file: the file as committed in the repository the record
    names, at its pinned commit (``None`` for a record without a mirror)."""
    if record.mirror is None:
        return None
    endpoint = os.environ.get(MIRROR_ENDPOINT_ENV, MIRROR_ENDPOINT).rstrip("/")
    return f"{endpoint}/{record.mirror['repo']}/{record.mirror['revision']}/weights/{record.name}/{record.filename}"


def mirror_cache_root() -> Path:
    """The folder of every mirror download: zoo's own part of torch's cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / "zoo"


def download_caches() -> list[Path]:
    """The caches zoo downloads published files into: huggingface_hub's and the mirror's."""
    from huggingface_hub import constants

    return [Path(constants.HF_HUB_CACHE), mirror_cache_root()]


def mirror_cache_path(record: WeightsRecord) -> Path:
    """Where a mirror download is kept: torch's cache, one folder per model and sha256 (no stale copy is reused)."""
    return mirror_cache_root() / record.name / record.sha256 / record.filename


def _mirror_cached(record: WeightsRecord) -> Path | None:
    path = mirror_cache_path(record)
    return path if path.is_file() else None


def download_timeout() -> float:
    """Seconds a download waits to connect and for each read: huggingface_hub's own ``HF_HUB_DOWNLOAD_TIMEOUT``, so
    one setting bounds the Hub and the mirror alike."""
    from huggingface_hub import constants

    return float(constants.HF_HUB_DOWNLOAD_TIMEOUT)


def _mirror_download(record: WeightsRecord) -> Path:
    """Download from the mirror into torch's cache: bounded in time (:func:`download_timeout` to connect and per read)
    and in size (the record's ``file_size``: the server cannot fill the disk), into a temporary that becomes the file
    only if its sha256 is the record's; whatever fails, nothing is left behind."""
    from filelock import FileLock

    target = mirror_cache_path(record)
    target.parent.mkdir(parents=True, exist_ok=True)
    url = mirror_url(record)
    with FileLock(str(target) + ".lock"):  # two processes loading at once download once
        if not target.is_file():
            data = _bounded_get(url, record.file_size, f"the weights of {record.name!r}")
            if sha256_bytes(data) != record.sha256:
                raise ChecksumError(f"the mirror {url} served bytes that are not the published weights of "
                                    f"{record.name!r} (sha256 {sha256_bytes(data)}, published {record.sha256}); "
                                    "nothing was kept")
            atomic_write_bytes(target, data)
    return target


def _bounded_get(url: str, size: int, what: str) -> bytes:
    """The body of ``url``, which must be exactly ``size`` bytes; :class:`WeightsUnavailableError` (its cause the
    transport's error) for a timeout, a refusal, an HTTP error or a body of another size."""
    import socket
    import urllib.request
    from urllib.error import URLError

    from tqdm.auto import tqdm

    timeout = download_timeout()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            if announced is not None and announced.isdigit() and int(announced) != size:
                raise OversizeError(f"{url} announces {int(announced):,} bytes; {what} are {size:,} bytes")
            chunks, received = [], 0
            with tqdm(total=size, unit="B", unit_scale=True, desc=Path(url).name, leave=False, disable=None) as bar:
                while chunk := response.read(min(1 << 20, size + 1 - received)):
                    received += len(chunk)
                    if received > size:
                        raise OversizeError(f"{url} sent more than the {size:,} bytes of {what}; stopped reading")
                    chunks.append(chunk)
                    bar.update(len(chunk))
            if received != size:
                raise OversizeError(f"{url} sent {received:,} bytes; {what} are {size:,} bytes")
            return b"".join(chunks)
    except (URLError, OSError, ValueError) as error:  # (socket.timeout is an OSError; urlopen wraps it in URLError)
        if isinstance(error, socket.timeout) or isinstance(getattr(error, "reason", None), socket.timeout):
            error = TimeoutError(f"no answer within {timeout:g} s (HF_HUB_DOWNLOAD_TIMEOUT sets how long to wait)")
        raise WeightsUnavailableError(f"{url}: {error}") from error


class OversizeError(ValueError):
    """A download that is not the size the manifest records."""


def _unavailable_message(record: WeightsRecord, reason: str) -> str:
    from huggingface_hub import constants

    mirror = f", the mirror {mirror_url(record)} (cached in {mirror_cache_path(record).parent})" if record.mirror else ""
    return (
        f"Cannot get the weights of {record.name!r} ({record.repo_id}@{record.revision}/{record.filename}): {reason}. "
        f"Looked in ${WEIGHTS_DIR_ENV}, {CHECKOUT_WEIGHTS / record.name}, the Hugging Face cache "
        f"({constants.HF_HUB_CACHE}), the Hub at {constants.ENDPOINT}{mirror} "
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
            f"checkpoint; it was not loaded. {repair_advice(path)}"
        )
    return data


def repair_advice(path: Path) -> str:
    """What to do about a bad copy at ``path``: delete it only where it lies in a cache zoo downloads into (and, for
    the Hub's, the blob it links to only if that lies in the cache too); a file of the user's is never to be deleted."""
    link, target = Path(os.path.abspath(path)), path.resolve()
    for cache in download_caches():
        if lies_within(link, cache) and lies_within(target, cache):
            also = f" and the blob it links to, {target}," if target != link else ""
            return f"Delete {link}{also} (zoo's download cache) and load again to re-download."
    if lies_within(target, CHECKOUT_WEIGHTS):
        return (f"Restore the clone's copy (git checkout -- {target.relative_to(CHECKOUT_ROOT)}), or unset "
                f"${WEIGHTS_DIR_ENV} if it points there.")
    return (f"Put the published file there instead (sha256 above), or point ${WEIGHTS_DIR_ENV} at a folder with a good "
            "copy, or unset it to download one.")


def check_finite(state_dict: dict[str, torch.Tensor], source: str) -> None:
    """Raise :class:`~zoo.errors.CheckpointError` if a floating tensor of ``state_dict`` holds NaN or infinity: such
    weights score 10 % and predict "nan %" without any other sign."""
    for key, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise CheckpointError(f"{source}: {key} holds {bad:,} NaN or infinite value(s) of {tensor.numel():,}; "
                                  "these weights cannot classify anything (a diverged run?). Use a checkpoint "
                                  "from a run that ended with a finite loss.")


def load_state_dict(record: WeightsRecord, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Resolve, verify and parse ``record``'s safetensors file into a ``state_dict`` on ``device``."""
    from safetensors.torch import load as load_safetensors

    path = resolve(record)
    state_dict = load_safetensors(verified_bytes(record, path))
    check_finite(state_dict, f"{path} (weights of {record.name!r})")
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
            state_dict = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{what} ({error}). Re-save it with safetensors.torch.save_file(model.state_dict(), "
                                  "PATH).") from None
    else:
        state_dict = load_tensors_only(path, what, ".", pickled_object=(
            f"{path} holds more than tensors (probably a whole model saved with torch.save(model)); it was not "
            "unpickled because that could run code. Re-save it as a state_dict where it was made: "
            "torch.save(model.state_dict(), 'model.pth'), or better safetensors.torch.save_file(model.state_dict(), "
            "'model.safetensors')."))
        if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
            raise CheckpointError(f"{path} is not a state_dict (a mapping of parameter names to tensors)")
    check_finite(state_dict, str(path))
    return state_dict
