"""Upload the weights: ``zoo publish [NAME…] [--repo-id-prefix OWNER/PREFIX] [--dry-run]``.

For each model, ``weights/NAME/`` (the files its record pins, its model card and figures) goes to the Hugging Face
Hub repo ``OWNER/PREFIX-NAME`` (created if missing) in one commit, through ``huggingface_hub``'s ``create_repo``
and ``create_commit``. The Hub is asked what it now serves at that commit — the file's sha256 must be the
manifest's — and then the manifest records the repo id and the **commit id** as ``revision``: unlike a branch or a
tag, a commit cannot move, so every later download gets these bytes. Publishing unchanged files again makes no new
commit and pins the commit that has them.

The token comes from where ``huggingface_hub`` looks (``HF_TOKEN``, ``hf auth login``), the Hub from
``HF_ENDPOINT``. ``--dry-run`` shows the plan and needs neither. Runs from a clone (it reads ``weights/`` and
writes the manifest); commit the manifest and cards afterwards.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..api import get_weights
from .card import render_card
from ..errors import ZooError
from ..manifest import WeightsRecord, atomic_write_bytes
from ..weights import CHECKOUT_WEIGHTS, MIRROR_REPO, sha256_file
from .records import write_record

# beside the files the record pins (weights, int8 calibration, history, evaluation): the card and its figures
UPLOADED = ("README.md", "*.png")


class PublishError(ZooError, RuntimeError):
    """Publishing could not be done (no token, refused by the Hub, files that are not the published ones)."""


@dataclass(frozen=True)
class Upload:
    """One model's commit: which files go to which repo, and the record as it will be once published."""

    record: WeightsRecord
    repo_id: str
    folder: Path
    files: tuple[Path, ...]


def repo_id_for(name: str, prefix: str) -> str:
    """``OWNER/PREFIX`` + model → ``OWNER/PREFIX-model`` (Hub repo names take no underscores by convention)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    repo_id = f"{prefix}-{name.replace('_', '-')}"
    try:
        if prefix.count("/") != 1:
            raise HFValidationError("it needs exactly one '/' between the owner and the name prefix")
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ZooError(f"--repo-id-prefix {prefix!r} makes the repo id {repo_id!r}, which the Hub refuses ({error}); "
                       "give OWNER/PREFIX, e.g. my-user/cifar10") from None
    return repo_id


def plan(name: str, repo_id_prefix: str | None = None) -> Upload:
    """What publishing ``name`` uploads, after checking the weights file is the one the manifest describes."""
    record = get_weights(name)
    folder = CHECKOUT_WEIGHTS / name
    weights = folder / record.filename
    if not weights.is_file():
        raise PublishError(f"{weights} is missing: publish uploads the checkout's weights/{name}/ (train it with "
                           f"`python -m zoo.train {name} --record`)")
    for entry in record.published_files():
        path = folder / entry.filename
        actual = sha256_file(path) if path.is_file() else "nothing (no file)"
        if actual != entry.sha256:
            raise PublishError(f"{path} has sha256 {actual}, not the manifest's {entry.sha256}: refusing to upload "
                               f"bytes the manifest does not describe (restore it: `git checkout -- {path}`)")
    files = [folder / entry.filename for entry in record.published_files()] + sorted(
        p for pattern in UPLOADED for p in folder.glob(pattern))
    if folder / "README.md" not in files:
        raise PublishError(f"{folder / 'README.md'} is missing: write the model card first (`zoo card {name}`)")
    repo_id = repo_id_for(name, repo_id_prefix) if repo_id_prefix else record.repo_id
    return Upload(dataclasses.replace(record, repo_id=repo_id), repo_id, folder, tuple(files))


def describe(upload: Upload) -> str:
    old = get_weights(upload.record.name)
    lines = [f"{upload.record.name} → {upload.repo_id}"
             + ("" if upload.repo_id == old.repo_id else f" (now {old.repo_id})") + ", one commit:"]
    for path in upload.files:
        size, note = path.stat().st_size, ""
        if path.name == upload.record.filename:
            note = f"  sha256 {upload.record.sha256} (= manifest)"
        elif path.name == "README.md":
            card = render_card(upload.record).encode("utf-8")
            size, note = len(card), ("" if card == path.read_bytes() else "  (re-rendered for this repo)")
        lines.append(f"  {path.relative_to(upload.folder.parent.parent).as_posix():<45} {size:>12,} bytes{note}")
    lines.append(f"  then {old.name}'s manifest record: repo_id {upload.repo_id}, revision = that commit's id "
                 f"(now {old.revision!r})")
    return "\n".join(lines)


def mirror_pin(record: WeightsRecord) -> dict[str, str] | None:
    """The mirror entry for ``record``: this clone's HEAD, if HEAD holds every file of the record at its published
    sha256 (the raw-file mirror serves the files as committed); ``None`` where it does not (commit them first)."""
    head = _git("rev-parse", "HEAD")
    if head is None or not _commit_holds(head.decode().strip(), record):
        return None
    return {"repo": MIRROR_REPO, "revision": head.decode().strip()}


def mirror_holds(record: WeightsRecord) -> bool:
    """Whether the record names a mirror commit that holds every file of the record at its sha256 (a pin made for
    earlier weights does not)."""
    return record.mirror is not None and _commit_holds(record.mirror["revision"], record)


def _git(*args: str) -> bytes | None:
    import subprocess

    run = subprocess.run(["git", *args], cwd=CHECKOUT_WEIGHTS.parent, capture_output=True)
    return run.stdout if run.returncode == 0 else None


def _commit_holds(revision: str, record: WeightsRecord) -> bool:
    import hashlib

    for item in record.published_files():
        blob = _git("show", f"{revision}:weights/{item.name}/{item.filename}")
        if blob is None or hashlib.sha256(blob).hexdigest() != item.sha256:
            return False
    return True


def pin_mirror(name: str) -> WeightsRecord:
    """Pin ``name``'s GitHub mirror to this clone's HEAD, without the Hub: for weights committed here whose Hub
    upload waits for a maintainer's token (the mirror serves what is committed, so it needs none)."""
    record = get_weights(name)
    mirror = mirror_pin(record)
    if mirror is None:
        raise PublishError(f"this clone's HEAD does not hold every file of {name} at the manifest's sha256: commit "
                           f"weights/{name}/ first, then pin the mirror")
    pinned = dataclasses.replace(record, mirror=mirror)
    write_record(pinned)
    return pinned


def publish(upload: Upload) -> WeightsRecord:
    """Upload one model in one commit, check what the Hub serves there, pin the manifest to the commit."""
    from huggingface_hub import CommitOperationAdd, HfApi, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    record = upload.record
    card = render_card(record).encode("utf-8")  # it names the repo: rendered for the one it goes to
    operations = [CommitOperationAdd(path.name, card if path.name == "README.md" else path) for path in upload.files]
    api = HfApi(library_name="zoo")
    message = (f"{record.name}: {record.top1:.2%} top-1 on the CIFAR-10 test set, "
               f"`{record.recipe['command']}`, sha256 {record.sha256[:12]}")
    try:
        api.create_repo(upload.repo_id, repo_type="model", exist_ok=True)
        commit = api.create_commit(upload.repo_id, operations, commit_message=message)
        served = get_hf_file_metadata(hf_hub_url(upload.repo_id, record.filename, revision=commit.oid))
    except (HfHubHTTPError, OSError) as error:
        raise PublishError(f"publishing {record.name} to {upload.repo_id} at {api.endpoint} failed: {error}. Nothing "
                           "was written to the manifest. Check the token (HF_TOKEN or `hf auth login`) can write to "
                           "that owner, and HF_ENDPOINT.") from error
    if served.commit_hash != commit.oid or served.etag != record.sha256:
        raise PublishError(f"{upload.repo_id}@{commit.oid} serves {record.filename} with sha256 {served.etag} (commit "
                           f"{served.commit_hash}), not {record.sha256}: the manifest was left as it was")
    published = dataclasses.replace(record, revision=commit.oid, mirror=mirror_pin(record) or record.mirror)
    write_record(published)
    atomic_write_bytes(upload.folder / "README.md", card)
    return published
