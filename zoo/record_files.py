"""The JSON files a record publishes beside its weights, each pinned by sha256 in the record and fetched and verified
as the weights are (:mod:`zoo.weights`):

- ``weights/NAME/history.json``, the run's per-epoch log (loss, accuracy, learning rate, seconds and the weights'
  sha256 after every epoch); the record's ``history`` pin also says how many epochs it has and how many carry a
  weight fingerprint, which is what ``--check`` decides with;
- ``weights/NAME/evaluation.json``, the detail of the record's robustness and calibration figures: accuracy per
  corruption and severity, the CI subset's counts, the reliability bins; the record keeps their summaries (means,
  per severity, ECE, NLL, temperature).

The manifest stays an index that a person can read and a reviewer can diff; the detail is a file away.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from .errors import ManifestError
from .manifest import CALIBRATION_KEY, CORRUPTIONS_KEY, DETAILS_FILE, DETAILS_KEY, HISTORY_FILE, HISTORY_KEY, \
    WeightsRecord

Epochs = list[dict[str, Any]]
# The per-runtime fields of the record's entries that evaluation.json holds instead: {entry: fields}.
DETAIL_FIELDS = {CORRUPTIONS_KEY: ("accuracy", "subset_correct"),
                 CALIBRATION_KEY: ("reliability_before", "reliability_after")}


def json_bytes(value: Any) -> bytes:
    """A published JSON file's bytes (JSON proper: a NaN is refused, never written bare)."""
    return (json.dumps(value, indent=1, allow_nan=False) + "\n").encode("utf-8")


def pin(filename: str, data: bytes) -> dict[str, Any]:
    """A record's pin of a file it publishes: name, sha256 and size."""
    from .weights import sha256_bytes

    return {"filename": filename, "sha256": sha256_bytes(data), "file_size": len(data)}


def history_bytes(history: Epochs) -> bytes:
    return json_bytes(history)


def history_entry(history: Epochs) -> dict[str, Any]:
    """The record's pin of ``history`` as :func:`history_bytes` writes it."""
    return {**pin(HISTORY_FILE, history_bytes(history)), "epochs": len(history),
            "fingerprinted_epochs": sum(1 for h in history if h.get("weights_sha256"))}


def read_pinned(record: WeightsRecord, key: str) -> Any:
    """The JSON file that ``record``'s ``key`` pins, from wherever the weights resolver finds it, verified."""
    from .weights import resolve, verified_bytes

    entry = record.extra.get(key)
    if not entry:
        raise ManifestError(f"the record of {record.name!r} pins no {key} file")
    pinned = record.companion(entry)
    return json.loads(verified_bytes(pinned, resolve(pinned)))


def published_history(record: WeightsRecord) -> Epochs:
    """The per-epoch log of ``record``'s run."""
    history = read_pinned(record, HISTORY_KEY)
    if not isinstance(history, list) or not all(isinstance(h, dict) and "epoch" in h for h in history):
        raise ManifestError(f"the history of {record.name!r} is not a list of epochs")
    return history


def split_details(entries: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measured entries (:func:`zoo.beyond_clean.measure`'s) as the record keeps them, and the detail that
    evaluation.json holds: ``{entry: {runtime: {field: value}}}``."""
    kept, details = {}, {}
    for key, entry in entries.items():
        fields = DETAIL_FIELDS.get(key, ())
        kept[key] = {runtime: ({k: v for k, v in value.items() if k not in fields} if isinstance(value, dict) else value)
                     for runtime, value in entry.items()}
        moved = {runtime: {k: value[k] for k in fields if k in value} for runtime, value in entry.items()
                 if isinstance(value, dict) and any(k in value for k in fields)}
        if moved:
            details[key] = moved
    return kept, details


def details_entry(details: dict[str, Any]) -> dict[str, Any]:
    return pin(DETAILS_FILE, json_bytes(details))


def with_details(record: WeightsRecord) -> WeightsRecord:
    """``record`` with its evaluation details back in its entries (as measured); itself where it pins none."""
    if DETAILS_KEY not in record.extra:
        return record
    details = read_pinned(record, DETAILS_KEY)
    extra = dict(record.extra)
    for key, runtimes in details.items():
        extra[key] = {**extra[key], **{runtime: {**extra[key][runtime], **fields} for runtime, fields in runtimes.items()}}
    return replace(record, extra=extra)
