"""zoo list, info, env, download, demo: the commands that look at what zoo has."""
from __future__ import annotations

import argparse
import json

from ..api import get_model, get_weights, list_models
from ..check import plan_check_here
from ..data import CATEGORIES, DataNotFoundError, load_cifar10, shipped_examples
from ..fast import fast_path_options
from ..machine import machine_class, training_precision
from ..manifest import WeightsRecord
from ..metrics import predict_classes
from ..models import build_model
from ..recipes import RECIPES
from ..weights import local_candidates, resolve, verified_bytes
from ._args import add_data_dir, add_json, add_published_models, positive_int

def where_cached(record: WeightsRecord) -> str:
    """Where a copy already is, without any network request: a local folder, the Hub cache, or nowhere."""
    for candidate in local_candidates(record):
        if candidate.is_file():
            return str(candidate.parent)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(record.repo_id, record.filename, revision=record.revision)
    return "hub cache" if isinstance(cached, str) else "no"


def cmd_list(args: argparse.Namespace) -> int:
    print(f"{'model':<15} {'params':>11} {'top-1':>7} {'size':>9}  cached")
    for name in list_models():
        try:
            record = get_weights(name)
        except ValueError:
            print(f"{name:<15} {'':>11} {'-':>7} {'-':>9}  (no published weights)")
            continue
        print(f"{name:<15} {record.num_params:>11,} {record.top1:>7.2%} {record.file_size / 1e6:>7.2f}MB  "
              f"{where_cached(record)}")
    return 0


def info_summary(record: WeightsRecord) -> dict:
    """What a user asks of a published model first, from its record (``zoo info --full`` prints all of it)."""
    spread = record.metrics.get("seed_spread")
    size = record.extra.get("input_size")
    figures = {"top-1": f"{record.top1:.2%} (all 10,000 CIFAR-10 test images, final epoch, single crop)"}
    if "cifar10_test_top1_multicrop_tta" in record.metrics:
        figures["top-1, multi-crop TTA"] = f"{record.metrics['cifar10_test_top1_multicrop_tta']:.2%}"
    if spread:
        figures["seed spread"] = f"{spread['mean']:.2%} ± {spread['std']:.2%} over {len(spread['seeds'])} seeds"
    for key, label in (("int8", "int8"), ("onnx", "ONNX"), ("openvino", "OpenVINO"), ("openvino_int8", "OpenVINO int8")):
        entry = record.extra.get(key)
        if entry:
            top1 = entry["metrics"]["cifar10_test_top1"] if key == "int8" else entry["cifar10_test_top1"]
            figures[f"top-1, {label}"] = f"{top1:.2%}"
    corruptions = record.extra.get("cifar10_c", {}).get("float")
    if corruptions:
        figures["corruptions (CIFAR-10-C style)"] = f"{corruptions['mean']:.2%} mean of 75"
    if record.temperature != 1.0:
        figures["temperature"] = f"{record.temperature} (calibrated probabilities: softmax(logits / T))"
    return {
        "name": record.name, **figures,
        "parameters": f"{record.num_params:,}",
        "file": f"{record.filename}, {record.file_size / 1e6:.2f} MB, sha256 {record.sha256}",
        "hub": f"{record.repo_id}@{record.revision}",
        **({"input sizes": (f"any from {size['min_size'][0]}x{size['min_size'][1]}" if size["any_size"]
                            else "32x32 only") + f" ({size['why']})"} if size else {}),
        "classes": ", ".join(record.categories),
        "trained by": f"{record.recipe['command']} ({record.recipe.get('wall_time_s', '?')} s on "
                      f"{record.recipe.get('machine', '?')})",
        "license": record.license,
    }


def cmd_info(args: argparse.Namespace) -> int:
    record = get_weights(args.model)
    if args.full:
        print(json.dumps({"name": args.model, **record.to_dict()}, indent=2))
        return 0
    summary = info_summary(record)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        width = max(map(len, summary))
        for key, value in summary.items():
            print(f"{key + ':':<{width + 1}} {value}")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """This machine's class and what follows from it: training precision, the kind of --check, fast-path options."""
    here = machine_class()
    report: dict = {"machine_class": here.to_dict(), "models": {}}
    lines = [f"machine class: {here.summary()}", "native bf16: " + (
        "yes" if here.native_bf16 else "no: bf16 is emulated here, so recipes in bf16 train in fp32 (--precision bf16 "
                                       "forces them)")]
    for name in list_models():
        # An architecture is registered before its recipe is chosen (CONTRIBUTING's steps 1 and 2).
        recipe = RECIPES.get(name)
        precision = training_precision(recipe.precision, "cpu", here) if recipe else None
        entry = {"training_precision": precision, "fast_path": fast_path_options(build_model(name), here),
                 "check": {"kind": None, "reason": "no published weights"}}
        if name in list_models(pretrained=True):
            try:
                plan = plan_check_here(get_weights(name))
                entry["check"] = {"kind": plan.kind, "reason": plan.reason}
            except ValueError as error:
                entry["check"] = {"kind": None, "reason": str(error)}
        report["models"][name] = entry
        training = f"trains in {precision} (recipe: {recipe.precision})" if recipe else "no training recipe yet"
        lines.append(f"{name}: {training}; --check here: "
                     f"{entry['check']['kind'] or 'not possible'} ({entry['check']['reason']}); fast path: "
                     f"bf16 {entry['fast_path']['bf16']}, channels_last {entry['fast_path']['channels_last']}")
    print(json.dumps(report, indent=2) if args.json else "\n".join(lines))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Fetch every file a record publishes (weights, int8 calibration, per-epoch history, evaluation details) into the
    Hugging Face cache, for later offline use (``zoo train --check`` reads the history), and verify them."""
    for name in args.models:
        for published in get_weights(name).published_files():
            path = resolve(published)
            verified_bytes(published, path)
            print(f"{name}: {path} (sha256 verified)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Load every published model (sha256-verified) and classify test images: the first ``--images`` of CIFAR-10 where
    the data set is, else the ten pictures shipped with zoo (one per class)."""
    try:
        test = load_cifar10(args.data_dir, train=False).subset(args.images)
        indices = list(range(len(test)))
        source = f"the first {len(test)} CIFAR-10 test images"
    except DataNotFoundError:  # no data set at all (a damaged one is an error: it is said, not papered over)
        test, indices = shipped_examples()
        source = (f"the {len(test)} CIFAR-10 test pictures shipped with zoo (no data set here: set ZOO_DATA_DIR or "
                  "--data-dir to classify more)")
    print(f"classifying {source}\n")
    for name in list_models(pretrained=True):
        record = get_weights(name)
        model = get_model(name, pretrained=True)
        predicted = predict_classes(model, test.images, mean=record.mean, std=record.std)
        right = int((predicted == test.labels).sum())
        print(f"{name}: {record.num_params:,} parameters, {record.top1:.2%} top-1 on the CIFAR-10 test set, "
              f"weights verified (sha256 {record.sha256[:16]}…); here {right}/{len(test)} right")
        for i, p, t in zip(indices, predicted.tolist(), test.labels.tolist()):
            print(f"  test image {i}: predicted {CATEGORIES[p]:<10} true {CATEGORIES[t]:<10} {'ok' if p == t else 'x'}")
    return 0


def add_parser(commands) -> None:
    commands.add_parser("list", help="models, parameters, top-1, file size, cached?").set_defaults(run=cmd_list)
    info = commands.add_parser("info", help="a published model's figures and provenance (--full: its whole record)")
    add_published_models(info, list_models(pretrained=True))
    info.add_argument("--full", action="store_true", help="print the whole manifest record (JSON)")
    add_json(info, "the summary")
    info.set_defaults(run=cmd_info)
    env = commands.add_parser("env", help="this machine's class and what follows from it (precision, --check, fast path)")
    add_json(env, "the report")
    env.set_defaults(run=cmd_env)
    download = commands.add_parser("download",
                                   help="fetch published weights (and the files beside them) for offline use, verified")
    add_published_models(download, list_models(pretrained=True), nargs="+", dest="models")
    download.set_defaults(run=cmd_download)
    demo = commands.add_parser("demo", help="load the published models and classify a few test images")
    demo.add_argument("--images", type=positive_int, default=8, help="test images to classify (default 8)")
    add_data_dir(demo)
    demo.set_defaults(run=cmd_demo)
