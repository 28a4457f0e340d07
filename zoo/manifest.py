"""Published-checkpoint records: one typed record per model, parsed from / written to the manifest.

The manifest is the repository's ``weights_manifest.json``, the one committed copy. Building the package (sdist to
wheel, ``setup.py``) copies it into the package as ``zoo/weights_manifest.json``, which an installed ``zoo`` reads;
a clone (an editable install, Torch Hub's archive) reads the repository's. :func:`zoo.release.records.write_record`
is the only writer; the library reads records and never writes them.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from .errors import ManifestError
from .manifest_schema import SchemaError, check_record

MANIFEST_NAME = "weights_manifest.json"
PACKAGE_MANIFEST = Path(__file__).with_name(MANIFEST_NAME)  # an installed package's copy, made when it was built
CHECKOUT_ROOT = Path(__file__).resolve().parent.parent
FORMAT_VERSION = 2  # 2: the per-epoch history and the evaluation details moved to files beside the weights
CORRUPTIONS_KEY = "cifar10_c"  # a record's CIFAR-10-C-style figures (zoo.beyond_clean)
CALIBRATION_KEY = "calibration"  # a record's calibration figures and published temperature
HISTORY_KEY = "history"  # a record's pin of its per-epoch log (zoo.record_files)
HISTORY_FILE = "history.json"
DETAILS_KEY = "evaluation"  # a record's pin of the detail of its robustness and calibration figures (zoo.record_files)
DETAILS_FILE = "evaluation.json"
INT8_KEY = "int8"  # a record's int8 figures and the pin of its calibration file (zoo.int8)


@dataclass(frozen=True)
class WeightsRecord:
    """Everything known about one published checkpoint (cf. torchvision's ``Weights``, timm's ``pretrained_cfg``)."""

    name: str
    repo_id: str
    revision: str
    filename: str
    sha256: str
    file_size: int
    num_params: int
    metrics: dict[str, Any]
    transforms: dict[str, Any]
    categories: tuple[str, ...]
    recipe: dict[str, Any]
    license: str = "MIT"
    # The independent mirror: {"repo": GitHub owner/name, "revision": a commit whose weights/NAME/ holds the files}.
    mirror: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def top1(self) -> float:
        """Top-1 accuracy (fraction) on all 10,000 CIFAR-10 test images, final epoch."""
        return float(self.metrics["cifar10_test_top1"])

    @property
    def temperature(self) -> float:
        """The published temperature of the float model (divide the logits by it before the softmax for calibrated
        probabilities); 1.0 where none was measured."""
        return float(self.extra.get(CALIBRATION_KEY, {}).get("float", {}).get("temperature", 1.0))

    @property
    def mean(self) -> tuple[float, float, float]:
        return tuple(self.transforms["mean"])

    @property
    def std(self) -> tuple[float, float, float]:
        return tuple(self.transforms["std"])

    def transforms_preset(self):
        """The preprocessing this checkpoint expects, as torchvision transforms (like ``weights.transforms()``): a PIL
        image, or a tensor ``(3, H, W)`` / ``(N, 3, H, W)`` — uint8 pixels or floats in [0, 1] — of any size in; a
        normalised float tensor ``(3, 32, 32)`` (``(N, 3, 32, 32)``) out, resized (shorter side) and centre-cropped."""
        from torchvision import transforms as T
        from torchvision.transforms import v2

        size = int(self.transforms.get("size", 32))
        return T.Compose([
            T.Resize(size, antialias=True),
            T.CenterCrop(size),
            v2.ToImage(),  # a PIL image becomes a uint8 tensor; a tensor stays as it is
            v2.ToPureTensor(),
            T.ConvertImageDtype(torch.float32),  # uint8 / 255 (as PILToTensor did); floats pass
            T.Normalize(self.mean, self.std),
        ])

    def companion(self, pin: dict[str, Any]) -> "WeightsRecord":
        """This record pointed at another file it publishes (``pin``: its ``filename``, ``sha256`` and ``file_size``;
        same repo, revision and mirror), for the weights resolver."""
        return replace(self, filename=pin["filename"], sha256=pin["sha256"], file_size=pin["file_size"])

    def published_files(self) -> list["WeightsRecord"]:
        """Every file this record publishes, each as a record the weights resolver takes: the weights, then the int8
        calibration, the per-epoch history and the evaluation details where the record pins them."""
        pins = [self.extra.get(INT8_KEY, {}).get("calibration"), self.extra.get(HISTORY_KEY), self.extra.get(DETAILS_KEY)]
        return [self] + [self.companion(pin) for pin in pins if pin]

    @classmethod
    def from_dict(cls, name: str, entry: dict[str, Any]) -> "WeightsRecord":
        known = {f for f in cls.__dataclass_fields__ if f not in ("name", "extra")}
        missing = sorted(known - {"license", "mirror"} - entry.keys())
        if missing:
            raise ValueError(f"manifest entry {name!r} lacks required keys: {', '.join(missing)}")
        values = {k: entry[k] for k in known if k in entry}
        values["categories"] = tuple(values["categories"])
        return cls(name=name, extra={k: v for k, v in entry.items() if k not in known}, **values)

    def to_dict(self) -> dict[str, Any]:
        entry = asdict(self)
        entry.pop("name")
        entry["categories"] = list(self.categories)
        entry.update(entry.pop("extra"))
        return entry


def read_manifest(path: str | os.PathLike | None = None) -> dict[str, WeightsRecord]:
    """Parse a manifest file (default: :func:`shipped_manifest`) into records keyed by model name;
    :class:`ManifestError` if it is damaged."""
    return _read_document(path or shipped_manifest())[0]


def read_datasets(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """The manifest's ``datasets``: data that zoo generates and scores on (the regenerated CIFAR-10-C), by key."""
    return _read_document(path or shipped_manifest())[1]


def _read_document(path: str | os.PathLike) -> tuple[dict[str, WeightsRecord], dict[str, dict[str, Any]]]:
    fix = (f"Restore it (`git checkout -- {MANIFEST_NAME}` in a checkout) or reinstall zoo; the published copy is "
           "the one in the repository")
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except OSError as error:
        raise ManifestError(f"cannot read the weights manifest {path} ({error.strerror or error}). {fix}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ManifestError(f"the weights manifest {path} is not valid JSON ({error}). {fix}.") from None
    if not isinstance(document, dict) or not isinstance(document.get("models"), dict):
        raise ManifestError(f"the weights manifest {path} has no \"models\" mapping. {fix}.")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ManifestError(f"the weights manifest {path} has format_version {version!r}; this zoo reads version "
                            f"{FORMAT_VERSION}. Use the zoo release that wrote it, or upgrade zoo.")
    records = {}
    for name, entry in document["models"].items():
        try:
            check_record(entry)
        except SchemaError as error:
            raise ManifestError(f"the weights manifest {path} has a bad field, models.{name}.{error}. {fix}.") from None
        records[name] = WeightsRecord.from_dict(name, entry)
    datasets = document.get("datasets", {})
    if not isinstance(datasets, dict) or not all(isinstance(v, dict) for v in datasets.values()):
        raise ManifestError(f"the weights manifest {path} has a bad \"datasets\" entry (must map keys to JSON objects). "
                            f"{fix}.")
    return records, datasets


def shipped_manifest(root: Path = CHECKOUT_ROOT) -> Path:
    """The manifest this zoo reads: the repository's in a clone, else the copy the package was built with."""
    return root / MANIFEST_NAME if in_checkout(root) else PACKAGE_MANIFEST


@lru_cache(maxsize=None)
def published_records() -> dict[str, WeightsRecord]:
    """The records this zoo publishes (:func:`shipped_manifest`, parsed once)."""
    return read_manifest(shipped_manifest())


@lru_cache(maxsize=None)
def published_datasets() -> dict[str, dict[str, Any]]:
    """The ``datasets`` of :func:`shipped_manifest` (parsed once)."""
    return read_datasets(shipped_manifest())


def in_checkout(root: Path = CHECKOUT_ROOT) -> bool:
    """Whether this zoo runs from a clone of the repository (editable install or source tree), not an installed copy."""
    return (root / "setup.cfg").is_file() and (root / "hubconf.py").is_file()


def manifest_paths(root: Path = CHECKOUT_ROOT) -> list[Path]:
    """What :func:`zoo.release.records.write_record` writes: the clone's manifest (an installed copy's is the build's,
    and is never written)."""
    return [root / MANIFEST_NAME]


def render_manifest(records: dict[str, WeightsRecord], datasets: dict[str, dict[str, Any]] | None = None) -> str:
    document: dict[str, Any] = {"format_version": FORMAT_VERSION,
                                "models": {n: records[n].to_dict() for n in sorted(records)}}
    if datasets:
        document["datasets"] = {k: datasets[k] for k in sorted(datasets)}
    return compact_json(document) + "\n"


def compact_json(value: Any, indent: int = 0, width: int = 118, lead: int = 0) -> str:
    """JSON indented by two spaces a level, with every object or list that fits in ``width`` columns (after ``lead``
    columns of key on its first line) on one line, and lists of numbers filled line by line: a record reads and diffs
    line by line, without a line per number."""
    flat = json.dumps(value, allow_nan=False)
    if indent + lead + len(flat) <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = " " * (indent + 2)
    if isinstance(value, dict):
        lines = [f"{inner}{json.dumps(k)}: {compact_json(v, indent + 2, width, len(json.dumps(k)) + 2)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"
    if not any(isinstance(v, (dict, list)) for v in value):  # numbers and strings: as many to a line as fit
        lines, line = [], ""
        for item in (json.dumps(v, allow_nan=False) for v in value):
            if line and len(inner) + len(line) + len(item) + 2 > width:
                lines.append(inner + line + ",")
                line = ""
            line += (", " if line else "") + item
        return "[\n" + "\n".join(lines + [inner + line]) + "\n" + " " * indent + "]"
    lines = [inner + compact_json(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(lines) + "\n" + " " * indent + "]"


def atomic_write_bytes(path: Path, data: bytes, ledger: Path | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

    With a ``ledger`` (a held run folder's, :mod:`zoo.rundir`), the temporary's name is appended to it before any byte
    is written: what a SIGKILL leaves behind is then provably zoo's, and the next run removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if ledger is not None:
            with open(ledger, "a", encoding="utf-8") as entries:
                entries.write(Path(tmp).name + "\n")
                entries.flush()
                os.fsync(entries.fileno())
        if hasattr(os, "fchmod"):  # mkstemp makes it private (0600); give the file the usual permissions
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
