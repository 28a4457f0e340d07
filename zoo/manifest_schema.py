"""The schema of a manifest record, checked where the manifest is read: a bad field is named (``models.NAME.FIELD``)
with what it must be, before anything uses it (a 12-character sha256 must not make zoo call good weights corrupt)."""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from .models._input import CIFAR10_INPUT_SHAPE

SHA256 = re.compile(r"[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}")
REPO = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
FILE_NAME = re.compile(r"[\w][\w.-]*")
CIFAR10_CLASSES = 10


class SchemaError(ValueError):
    """One field of a record that is not what the schema says; ``field`` is its dotted path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _text(pattern: re.Pattern, says: str) -> tuple[Callable[[Any], bool], str]:
    return (lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None), says


# huggingface_hub's rule for a repo id (utils.validate_repo_id: each part 1 to 96 ASCII word characters, '-' and '.',
# starting and ending with a word character; no '--' or '..'; no '.git' at the end), here as OWNER/NAME; its current
# releases' (ASCII only, the namespace at most 96 too: 0.26 was laxer on both).
# Written out, not imported: reading the manifest must not import huggingface_hub (import hubconf stays cheap);
# tests/test_probe.py holds the two to the same verdicts.
HUB_PART = re.compile(r"\b[\w\-.]{1,96}\b", re.ASCII)


def _hub_repo_id(value: Any) -> bool:
    if not isinstance(value, str) or value.count("/") != 1 or "--" in value or ".." in value or value.endswith(".git"):
        return False
    owner, name = value.split("/")
    return HUB_PART.fullmatch(owner) is not None and HUB_PART.fullmatch(name) is not None


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|@\{|//|\.\.")


def _git_ref(value: Any) -> bool:
    """A branch, tag or commit name by git's rules (``git check-ref-format``): huggingface_hub has no validator for
    revisions and puts them in cache paths, where ``../../x`` would leave the cache."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or value == "@" or _REF_FORBIDDEN.search(value):
        return False
    parts = value.split("/")
    return all(part and not part.startswith(".") and not part.endswith((".lock", ".")) for part in parts)


def _github_repo(value: Any) -> bool:
    return (isinstance(value, str) and REPO.fullmatch(value) is not None
            and all(part not in (".", "..") for part in value.split("/")))


FRACTION = (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1 (a fraction, not a percentage)")
COUNT = (_is_count, "a whole number >= 1")
TEXT = (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string")
MAPPING = (lambda v: isinstance(v, dict), "a JSON object")
SHA256_TEXT = _text(SHA256, "64 lowercase hexadecimal digits (a sha256)")
FILE = _text(FILE_NAME, "a plain file name (no folders)")

# field -> (test, what it must be); fields not listed are free (the record keeps them as they are).
RECORD = {
    "repo_id": (_hub_repo_id, "a Hugging Face repo id, OWNER/NAME (huggingface_hub's rules: letters, digits, '-', "
                              "'_' and '.', no '--' or '..')"),
    "revision": (_git_ref, "a branch, tag or commit name (git's rules: no '..', spaces, '~^:?*[\\' or leading '.')"),
    "filename": FILE,
    "sha256": SHA256_TEXT,
    "file_size": COUNT,
    "num_params": COUNT,
    "metrics": MAPPING,
    "metrics.cifar10_test_top1": FRACTION,
    "transforms": MAPPING,
    "transforms.mean": (lambda v: isinstance(v, list) and len(v) == 3 and all(_is_number(x) and 0 <= x <= 1 for x in v),
                        "three numbers from 0 to 1 (R, G, B)"),
    "transforms.std": (lambda v: isinstance(v, list) and len(v) == 3 and all(_is_number(x) and x > 0 for x in v),
                       "three numbers > 0 (R, G, B)"),
    "categories": (lambda v: isinstance(v, list) and len(v) == CIFAR10_CLASSES and len(set(v)) == CIFAR10_CLASSES
                   and all(isinstance(c, str) and c for c in v), f"{CIFAR10_CLASSES} different class names"),
    "recipe": MAPPING,
    "license": TEXT,
    # the per-epoch log beside the weights (zoo.record_files); --check reads the fingerprint count without fetching it
    "history": MAPPING,
    "history.filename": FILE,
    "history.sha256": SHA256_TEXT,
    "history.file_size": COUNT,
    "history.epochs": COUNT,
    "history.fingerprinted_epochs": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                                     "a whole number >= 0"),
}
OPTIONAL = {  # checked where present
    "transforms.size": (lambda v: v == CIFAR10_INPUT_SHAPE[-1] and not isinstance(v, bool),
                        f"{CIFAR10_INPUT_SHAPE[-1]} (the models take 32x32 images)"),
    "metrics.cifar10_test_per_class": (lambda v: isinstance(v, dict) and all(FRACTION[0](x) for x in v.values()),
                                       "class names mapped to fractions from 0 to 1"),
    "mirror": (lambda v: v is None or isinstance(v, dict), "null or a JSON object"),
    "input_size": MAPPING,
    "int8": MAPPING,
    "onnx": MAPPING,
    "openvino": MAPPING,
    "openvino_int8": MAPPING,
    "cifar10_c": MAPPING,
    "calibration": MAPPING,
    "evaluation": MAPPING,
}
WITHIN = {  # required once the entry around them is there (an int8 entry without its calibration's sha256…)
    "mirror.repo": (_github_repo, "a GitHub repository, OWNER/NAME"),
    "mirror.revision": _text(COMMIT, "a full 40-digit commit id"),
    "input_size.min_size": (lambda v: isinstance(v, list) and len(v) == 2 and all(_is_count(x) for x in v),
                            "[height, width], whole numbers >= 1"),
    "input_size.any_size": (lambda v: isinstance(v, bool), "true or false"),
    "int8.calibration": MAPPING,
    "int8.calibration.filename": FILE,
    "int8.calibration.sha256": SHA256_TEXT,
    "int8.calibration.file_size": COUNT,
    "evaluation.filename": FILE,
    "evaluation.sha256": SHA256_TEXT,
    "evaluation.file_size": COUNT,
    "int8.metrics.cifar10_test_top1": FRACTION,
    "cifar10_c.float": MAPPING,
    "cifar10_c.float.mean": FRACTION,
    "calibration.float": MAPPING,
    # zoo predict divides the logits by it: 0, a negative number or a string must not reach it
    "calibration.float.temperature": (lambda v: _is_number(v) and 0 < v, "a number > 0 (the published temperature)"),
    "onnx.opset": COUNT,
    "onnx.cifar10_test_top1": FRACTION,
    "openvino.cifar10_test_top1": FRACTION,
    "openvino_int8.cifar10_test_top1": FRACTION,
}


def _lookup(entry: dict, field: str) -> tuple[bool, Any]:
    value: Any = entry
    for key in field.split("."):
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


def check_record(entry: Any) -> None:
    """Raise :class:`SchemaError` for the first field of ``entry`` (one model's record) the schema refuses."""
    if not isinstance(entry, dict):
        raise SchemaError("(record)", "must be a JSON object")
    for fields in (RECORD, OPTIONAL, WITHIN):
        for field, (test, says) in fields.items():
            present, value = _lookup(entry, field)
            if not present:
                around = _lookup(entry, field.rsplit(".", 1)[0])[1] if "." in field else None
                if fields is RECORD or (fields is WITHIN and isinstance(around, dict)):
                    raise SchemaError(field, f"missing (must be {says})")
                continue
            if not test(value):
                raise SchemaError(field, f"is {value!r:.80}; must be {says}")
