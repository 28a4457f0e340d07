"""The ``zoo`` command line (also ``python -m zoo``): thin wrappers over the modules."""
from __future__ import annotations

import argparse
import json
import sys

from . import card, evaluate, export, int8, predict, publish, train
from .api import get_model, get_weights, list_models
from .check import plan_check_here
from .data import CATEGORIES, DataError, load_cifar10, shipped_examples
from .errors import CliParser, positive_int, run_cli
from .fast import fast_path_options
from .machine import machine_class, training_precision
from .manifest import WeightsRecord
from .models import build_model
from .recipes import get_recipe
from .metrics import predict_classes
from .weights import local_candidates, resolve, verified_bytes

EXAMPLES = """examples:
  zoo list                                   models, parameters, top-1, size, cached?
  zoo info lenet                             the published record (JSON)
  zoo env                                    this machine's class, and what it means for training and --check
  zoo download lenet cifar_quick             cache the weights for offline use
  zoo predict photo.jpg --model lenet        classify your own pictures
  zoo evaluate lenet                         score on the CIFAR-10 test set
  zoo train lenet --check                    retrain, compare with the published bytes
  zoo card lenet                             regenerate weights/lenet/README.md and its figures
  zoo quantize lenet --evaluate              int8 model from the published calibration, scored beside float
  zoo export lenet --evaluate                lenet.onnx, scored with onnxruntime beside PyTorch
  zoo publish --dry-run                      what a release would upload to the Hugging Face Hub
  HF_HUB_OFFLINE=1 zoo demo                  load every published model offline, classify test images
run `zoo COMMAND --help` for a command's options"""

# Commands whose parser lives in their own module: `zoo train ...` is `python -m zoo.train ...`.
DELEGATED = {"train": train.main, "evaluate": evaluate.main, "predict": predict.main, "card": card.main,
             "publish": publish.main, "export": export.main, "quantize": int8.main}


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


def cmd_info(args: argparse.Namespace) -> int:
    print(json.dumps({"name": args.model, **get_weights(args.model).to_dict()}, indent=2))
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """This machine's class and what follows from it: training precision, the kind of --check, fast-path options."""
    here = machine_class()
    report: dict = {"machine_class": here.to_dict(), "models": {}}
    lines = [f"machine class: {here.summary()}", "native bf16: " + (
        "yes" if here.native_bf16 else "no: bf16 is emulated here, so recipes in bf16 train in fp32 (--precision bf16 "
                                       "forces them)")]
    for name in list_models():
        recipe = get_recipe(name)
        precision = training_precision(recipe.precision, "cpu", here)
        entry = {"training_precision": precision, "fast_path": fast_path_options(build_model(name), here),
                 "check": {"kind": None, "reason": "no published weights"}}
        if name in list_models(pretrained=True):
            try:
                plan = plan_check_here(get_weights(name))
                entry["check"] = {"kind": plan.kind, "reason": plan.reason}
            except ValueError as error:
                entry["check"] = {"kind": None, "reason": str(error)}
        report["models"][name] = entry
        lines.append(f"{name}: trains in {precision} (recipe: {recipe.precision}); --check here: "
                     f"{entry['check']['kind'] or 'not possible'} ({entry['check']['reason']}); fast path: "
                     f"bf16 {entry['fast_path']['bf16']}, channels_last {entry['fast_path']['channels_last']}")
    print(json.dumps(report, indent=2) if args.json else "\n".join(lines))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Fetch published weights into the Hugging Face cache (for later offline use) and verify them."""
    for name in args.models:
        record = get_weights(name)
        path = resolve(record)
        verified_bytes(record, path)
        print(f"{name}: {path} (sha256 verified)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Load every published model (sha256-verified) and classify test images: the first ``--images`` of CIFAR-10 where
    the data set is, else the ten pictures shipped with zoo (one per class)."""
    try:
        test = load_cifar10(args.data_dir, train=False).subset(args.images)
        indices = list(range(len(test)))
        source = f"the first {len(test)} CIFAR-10 test images"
    except DataError:
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


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="zoo", description="CIFAR-10 model zoo: verified pretrained models.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="models, parameters, top-1, file size, cached?").set_defaults(run=cmd_list)
    info = commands.add_parser("info", help="the published record of a model (JSON)")
    info.add_argument("model", choices=list_models(pretrained=True))
    info.set_defaults(run=cmd_info)
    env = commands.add_parser("env", help="this machine's class and what follows from it (precision, --check, fast path)")
    env.add_argument("--json", action="store_true", help="print the report as JSON")
    env.set_defaults(run=cmd_env)
    download = commands.add_parser("download", help="fetch published weights for offline use, verified")
    download.add_argument("models", nargs="+", metavar="NAME", choices=list_models(pretrained=True))
    download.set_defaults(run=cmd_download)
    demo = commands.add_parser("demo", help="load the published models and classify a few test images")
    demo.add_argument("--images", type=positive_int, default=8, help="test images to classify (default 8)")
    demo.add_argument("--data-dir", help="CIFAR-10 root (default: $ZOO_DATA_DIR or the per-user cache)")
    demo.set_defaults(run=cmd_demo)
    for name, summary in (("train", "train a model with its recipe (python -m zoo.train)"),
                          ("evaluate", "score a checkpoint on the CIFAR-10 test set (python -m zoo.evaluate)"),
                          ("predict", "classify your own pictures (python -m zoo.predict)"),
                          ("card", "write a model card and its figures (python -m zoo.card)"),
                          ("export", "write a model as one ONNX file (python -m zoo.export)"),
                          ("quantize", "the int8 model: build, evaluate, calibrate (python -m zoo.int8)"),
                          ("publish", "upload weights to the Hub, pin the manifest to the commit (python -m zoo.publish)")):
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``zoo`` command: errors zoo can explain are one line on stderr (exit 1; usage errors exit 2)."""
    return run_cli(_dispatch, sys.argv[1:] if argv is None else argv)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in DELEGATED:
        return DELEGATED[argv[0]](argv[1:], prog=f"zoo {argv[0]}")
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
