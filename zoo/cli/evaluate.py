"""zoo evaluate — score a checkpoint on the full CIFAR-10 test set (also ``python -m zoo.evaluate NAME``).

Beyond clean top-1: --corruptions scores the CIFAR-10-C-style corruptions that zoo regenerates (15 corruptions x 5
severities of the test set, made once and cached; needs the corruptions extra), --calibration the ECE (15 bins),
NLL and Brier score on test images 5,000-9,999 before and after temperature scaling with the temperature fitted on
images 0-4,999. --int8 scores the published int8 model instead of the float one. Minutes of work: progress goes
to stderr."""
from __future__ import annotations

import argparse
import json
import sys

import torch

from ..api import get_model
from ..data import CATEGORIES, check_cifar10_test, load_cifar10
from ..errors import ZooError
from ..metrics import score_views
from ..models import ARCHITECTURES
from ._args import (add_checkpoint, add_data_dir, add_json, add_record, corruption_names, picture_folder, positive_int,
                    severity)
from ._errors import UsageError


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="score a checkpoint on the CIFAR-10 test set (python -m zoo.evaluate)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m zoo.evaluate lenet\n"
               "  python -m zoo.evaluate lenet --checkpoint runs/lenet/model.safetensors --json\n"
               "  zoo evaluate vgg16_cifar10 --corruptions --calibration\n"
               "  zoo evaluate lenet --int8 --corruptions fog,contrast --severity 5\n"
               "  python -m zoo.evaluate lenet --corruptions --calibration --record   (a clone: writes the manifest)")
    parser.add_argument("model", metavar="NAME", choices=sorted(ARCHITECTURES))
    add_checkpoint(parser, "score")
    add_data_dir(parser)
    parser.add_argument("--flip-tta", action="store_true", help="also report flip test-time augmentation")
    parser.add_argument("--tta", action="store_true",
                        help="also report multi-crop test-time augmentation (flip and 1-pixel translations, as "
                             "Jordan 2024 counts it)")
    parser.add_argument("--folder", type=picture_folder, metavar="DIR",
                        help="score on your own pictures instead (one sub-folder per class, named as the checkpoint's "
                             "classes: a `zoo finetune` checkpoint's, or CIFAR-10's)")
    parser.add_argument("--size", type=positive_int, metavar="PIXELS",
                        help="resize the test images to PIXELS x PIXELS (bilinear) first: for the models that take "
                             "any size (model.input_size)")
    parser.add_argument("--int8", action="store_true", help="score the published int8 model (needs the int8 extra)")
    parser.add_argument("--corruptions", nargs="?", const="all", type=corruption_names, metavar="LIST",
                        help="score CIFAR-10-C-style corruptions: all (the default), or names, comma-separated")
    parser.add_argument("--severity", type=severity, action="append", metavar="S",
                        help="only this severity (1-5; repeat for several; default all five)")
    parser.add_argument("--calibration", action="store_true",
                        help="ECE (15 bins), NLL and Brier score before and after temperature scaling")
    add_record(parser, "score float and int8 on everything and write the figures into the manifest (a clone)")
    add_json(parser)
    parser.set_defaults(run=run)


def _check(args: argparse.Namespace) -> None:
    from ..manifest import in_checkout, published_records

    if args.folder is not None and (args.int8 or args.record or args.corruptions is not None or args.calibration
                                    or args.size is not None or args.tta or args.flip_tta):
        raise UsageError("--folder scores the float model on your pictures, single crop: give it with --checkpoint "
                         "and --json only")
    if args.size is not None and (args.int8 or args.record or args.corruptions is not None or args.calibration):
        raise UsageError("--size scores the float model on the clean test set: drop --int8, --record, --corruptions "
                         "and --calibration")
    if args.severity and args.corruptions is None:
        raise UsageError("--severity chooses among corruptions: add --corruptions")
    if (args.int8 or args.record) and args.checkpoint is not None:
        raise UsageError(f"--{'int8' if args.int8 else 'record'} works on the published weights: drop --checkpoint")
    if (args.int8 or args.record) and args.model not in published_records():
        raise UsageError(f"{args.model} has no published weights to {'quantize' if args.int8 else 'record'}")
    if args.record:
        if (args.int8 or args.flip_tta or args.tta or args.severity
                or args.corruptions not in (None, corruption_names("all"))):
            raise UsageError("--record scores everything (float and int8, all corruptions and severities): give it "
                             "with NAME alone")
        if not in_checkout():
            raise ZooError("--record writes the manifest of a clone; this zoo is an installed copy")
    if args.corruptions is not None or args.record:
        from ..corruptions import require_corruption_extra

        require_corruption_extra()
    if args.int8 or args.record:
        from ..int8 import check_compiler
        from ..errors import require_extra

        require_extra("the int8 model", "torchao", extra="int8")
        check_compiler()


def run(args: argparse.Namespace) -> int:
    _check(args)  # before the data: a wrong combination or a missing extra is said before minutes of work
    if args.folder is not None:
        return _score_folder(args)
    test = load_cifar10(args.data_dir, train=False)  # first: missing data is said before any model is loaded
    identity = check_cifar10_test(test)  # None: it is CIFAR-10's test set; else what differs
    if identity is not None:
        print(f"warning: {identity}", file=sys.stderr)
    if args.record:
        return _record(args, test, identity)
    report = _top1(args, test, identity)
    if args.corruptions is not None or args.calibration:
        from .. import beyond_clean

        logits_of = beyond_clean.runtime(args.model, "int8" if args.int8 else "float", args.checkpoint)
        if args.corruptions is not None:
            report["corruptions"] = _score_corruptions(logits_of, test, args.corruptions, args.severity or None)
        if args.calibration:
            report["calibration"] = beyond_clean.calibration_figures(logits_of, test)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report, identity)
    return 0


def _top1(args: argparse.Namespace, test, identity) -> dict:
    runtime = "int8" if args.int8 else "float"
    report = {"model": args.model, "checkpoint": str(args.checkpoint or "published"), "runtime": runtime,
              "images": len(test), "cifar10_test_set": identity is None}
    if args.int8:
        from ..int8 import quantized_model, score_int8

        result = score_int8(quantized_model(args.model), test)
    else:
        model = get_model(args.model, pretrained=args.checkpoint is None, weights=args.checkpoint)
        if args.size is not None:
            if not model.input_size.takes(args.size, args.size):
                raise UsageError(f"{args.model} does not take {args.size}x{args.size} images: {model.input_size.why}")
            report["size"] = args.size
        views = ("single",) + ("flip",) * args.flip_tta + ("multi-crop",) * args.tta
        scores = score_views(model, test, views, size=args.size)  # one sweep: the views share the model's passes
        result = scores["single"]
        if args.flip_tta:
            report["top1_flip_tta"] = scores["flip"].top1
        if args.tta:
            report["top1_multicrop_tta"] = scores["multi-crop"].top1
    report.update(top1=result.top1, per_class=result.per_class)
    return report


def _score_folder(args: argparse.Namespace) -> int:
    from ..finetune import checkpoint_categories, read_image_folder
    from ..metrics import predict_classes

    categories = checkpoint_categories(args.checkpoint, CATEGORIES)
    folder = read_image_folder(args.folder)
    unknown = [name for name in folder.classes if name not in categories]
    if unknown:
        raise ZooError(f"{args.folder} has class folders the checkpoint does not know ({', '.join(unknown)}); its "
                       f"classes are {', '.join(categories)}")
    model = get_model(args.model, pretrained=args.checkpoint is None, weights=args.checkpoint,
                      num_classes=len(categories))
    labels = torch.tensor([categories.index(folder.classes[i]) for i in folder.labels.tolist()])
    hits = predict_classes(model, folder.images) == labels
    per_class = {name: round(float(hits[labels == categories.index(name)].double().mean()), 4) for name in folder.classes}
    report = {"model": args.model, "checkpoint": str(args.checkpoint or "published"), "folder": str(args.folder),
              "images": len(labels), "top1": float(hits.double().mean()), "per_class": per_class}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.model} ({report['checkpoint']}): top-1 {report['top1']:.4f} on {len(labels)} pictures of "
              f"{args.folder}")
        for name, accuracy in per_class.items():
            print(f"  {name:<11} {accuracy:.4f}")
    return 0


def _score_corruptions(logits_of, test, names, severities) -> dict:
    from tqdm.auto import tqdm

    from ..corruptions import SEVERITIES
    from ..robustness import score_corruptions

    severities = severities or list(SEVERITIES)
    with tqdm(total=len(names) * len(severities), desc="corruptions", unit="array", file=sys.stderr,
              disable=None) as bar:
        return score_corruptions(logits_of, test, names, sorted(set(severities)), progress=lambda line: bar.write(line, file=sys.stderr),
                                 advance=lambda: bar.update(1))


def _record(args: argparse.Namespace, test, identity) -> int:
    from tqdm.auto import tqdm

    from .. import beyond_clean
    from ..corruptions import CORRUPTIONS, SEVERITIES
    from ..release.records import record_beyond_clean

    if identity is not None:
        raise ZooError(f"--record scores CIFAR-10's test set, and this is not it: {identity}")
    total = len(beyond_clean.RUNTIMES) * len(CORRUPTIONS) * len(SEVERITIES)
    with tqdm(total=total, desc=f"{args.model} float+int8", unit="array", file=sys.stderr, disable=None) as bar:
        record = record_beyond_clean(args.model, test, progress=lambda line: bar.write(line, file=sys.stderr),
                                     advance=lambda: bar.update(1))
    figures = {which: {"clean": record.extra[beyond_clean.CORRUPTIONS_KEY][which]["clean"],
                       "corruption_mean": record.extra[beyond_clean.CORRUPTIONS_KEY][which]["mean"],
                       "ece_before": record.extra[beyond_clean.CALIBRATION_KEY][which]["before"]["ece"],
                       "ece_after": record.extra[beyond_clean.CALIBRATION_KEY][which]["after"]["ece"],
                       "temperature": record.extra[beyond_clean.CALIBRATION_KEY][which]["temperature"]}
               for which in beyond_clean.RUNTIMES}
    print(json.dumps({"model": args.model, **figures}, indent=2))
    return 0


def _print(report: dict, identity) -> None:
    where = "test images" if identity is None else "images that are NOT CIFAR-10's test set"
    runtime = " int8" if report["runtime"] == "int8" else ""
    resized = f" resized to {report['size']}x{report['size']}" if "size" in report else ""
    print(f"{report['model']}{runtime} ({report['checkpoint']}): top-1 {report['top1']:.4f} on {report['images']} "
          f"{where}{resized}")
    if "top1_flip_tta" in report:
        print(f"  with flip test-time augmentation: {report['top1_flip_tta']:.4f}")
    if "top1_multicrop_tta" in report:
        print(f"  with multi-crop test-time augmentation: {report['top1_multicrop_tta']:.4f}")
    for name, accuracy in report["per_class"].items():
        print(f"  {name:<11} {accuracy:.4f}")
    if "corruptions" in report:
        from ..robustness import LABEL

        figures = report["corruptions"]
        print(f"\n{LABEL}: accuracy by severity (clean {figures['clean']:.4f}, this path)")
        print(f"  {'corruption':<18} " + " ".join(f"{s:>6}" for s in figures["severities"]) + "    mean")
        for name, row in figures["accuracy"].items():
            print(f"  {name:<18} " + " ".join(f"{a:6.4f}" for a in row) + f"  {sum(row) / len(row):6.4f}")
        if "mean" in figures:
            print(f"  mean of all 75: {figures['mean']:.4f} (relative drop from clean {figures['relative_drop']:.1%});"
                  f" per severity " + " / ".join(f"{v:.4f}" for v in figures["per_severity"])
                  + f"; worst {figures['worst'][0]} {figures['worst'][1]:.4f}")
    if "calibration" in report:
        c = report["calibration"]
        print(f"\ncalibration on {c['scored_on']} ({c['ece_bins']} bins), temperature {c['temperature']} "
              f"fitted on {c['temperature_fitted_on']} (other half: {c['temperature_other_half']})")
        for when in ("before", "after"):
            f = c[when]
            print(f"  {when:<6} ECE {f['ece']:.2%}  NLL {f['nll']:.4f}  Brier {f['brier']:.4f}  mean confidence "
                  f"{f['mean_confidence']:.2%}  top-1 {f['top1']:.4f}")
