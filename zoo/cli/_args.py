"""The command line's arguments, defined once: value types that refuse bad input while parsing, and the options
several commands share. Every path is checked while parsing, by :mod:`zoo.paths`, before any work (a folder that
cannot be written is said in the first second, not after an epoch of training)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from ..data import default_data_dir
from ..errors import DeviceError, parse_device
from ..paths import PathError, expanded, readable_file, writable_dir, writable_file

MAX_SEED = 2**64 - 1  # torch.manual_seed's range


def _number(text: str, kind: type):
    try:
        return kind(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole number' if kind is int else 'number'}") from None


FLOAT32 = torch.finfo(torch.float32)  # what training computes in: a setting it cannot hold overflows or vanishes


def _bounded(kind: type, low: float, high: float = float("inf"), low_inclusive: bool = True):
    """An argparse type: a number of ``kind`` from ``low`` up to (not including) ``high``, said in words when it is
    not (NaN and infinity are never in range). A float must also be one float32 holds: finite there, and not rounded
    to 0 where 0 is out of range (``--lr 1e39`` would overflow in the optimizer, ``--lr 1e-50`` would be 0)."""
    noun = "whole number" if kind is int else "number"
    says = (f"from {low:g} up to (not including) {high:g}" if high != float("inf")
            else f"{'>=' if low_inclusive else '>'} {low:g}")

    def parse(text: str):
        value = _number(text, kind)
        if not ((value >= low if low_inclusive else value > low) and value < high):
            raise argparse.ArgumentTypeError(f"must be a {noun} {says}, not {text}")
        if kind is float and abs(value) > FLOAT32.max:
            raise argparse.ArgumentTypeError(f"{text} is beyond float32's largest number ({FLOAT32.max:g}), in which "
                                             "training computes: it would overflow; give a smaller number")
        if kind is float and value != 0 and abs(value) < FLOAT32.tiny:
            raise argparse.ArgumentTypeError(f"{text} is below float32's smallest normal number ({FLOAT32.tiny:g}), "
                                             "in which training computes: it would vanish; give a larger number")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


positive_int = _bounded(int, 1)
non_negative_int = _bounded(int, 0)
positive_float = _bounded(float, 0, low_inclusive=False)
non_negative_float = _bounded(float, 0)
fraction = _bounded(float, 0, 1)


def corruption_names(text: str) -> list[str]:
    """argparse type: ``all`` or comma-separated names of CIFAR-10-C corruptions."""
    from ..corruptions import CORRUPTIONS

    if text == "all":
        return list(CORRUPTIONS)
    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in CORRUPTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown corruption {', '.join(map(repr, unknown or [text]))}; choose from "
                                         f"{', '.join(CORRUPTIONS)} (comma-separated) or all")
    return list(dict.fromkeys(names))


def severity(text: str) -> int:
    """argparse type: a CIFAR-10-C severity, 1 to 5."""
    value = _number(text, int)
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError(f"severity {text} is out of range: CIFAR-10-C has severities 1 to 5")
    return value


def threads(text: str) -> int:
    """argparse type: a thread count from 1 to this machine's cores (more would only oversubscribe them; 100,000
    OpenMP threads would exhaust the process before training)."""
    value = positive_int(text)
    cores = os.cpu_count() or 1
    if value > cores:
        raise argparse.ArgumentTypeError(f"{value} threads on a machine with {cores} cores: use at most {cores}")
    return value


def seed(text: str) -> int:
    """argparse type: a seed torch takes (0 to 2**64 - 1)."""
    value = _number(text, int)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**64 - 1, not {text}")
    return value


def device(text: str) -> str:
    """argparse type: a device name torch can parse (whether this machine has it is checked when the command runs, so
    that a recorded command line like ``--device cuda`` still parses on a CPU)."""
    try:
        parse_device(text)
    except DeviceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _path_type(check):
    """An argparse type from a :mod:`zoo.paths` check: its PathError becomes argparse's usage error."""
    def parse(text: str) -> Path:
        try:
            return check(text)
        except PathError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = check.__name__
    return parse


output_dir = _path_type(writable_dir)
output_file = _path_type(writable_file)
input_file = _path_type(readable_file)


def _folder(what: str, name: str):
    """An argparse type: a folder path, ``~`` and variables expanded (what it holds is checked by its reader)."""
    def parse(text: str) -> Path:
        if not text:
            raise argparse.ArgumentTypeError(f"an empty path: give {what}")
        try:
            return expanded(text)
        except PathError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = name
    return parse


data_dir = _folder("the folder holding cifar-10-batches-bin/", "data_dir")  # a CIFAR-10 root
picture_folder = _folder("the folder holding one sub-folder of pictures per class", "picture_folder")


# ---- options shared by several commands ------------------------------------------------------------------------


def add_data_dir(parser: argparse.ArgumentParser, purpose: str = "") -> None:
    try:
        default = str(default_data_dir())
    except PathError:  # no home folder: --help still works, and says where the default would be
        default = "$XDG_CACHE_HOME/zoo/data"
    parser.add_argument("--data-dir", type=data_dir, metavar="DIR",
                        help=f"CIFAR-10 root{' ' + purpose if purpose else ''} (default: $ZOO_DATA_DIR or {default})")


def add_checkpoint(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument("--checkpoint", type=input_file, metavar="FILE",
                        help=f"{purpose} your own safetensors or state_dict .pth file instead of the published weights")


def add_json(parser: argparse.ArgumentParser, what: str = "the result") -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def add_published_models(parser: argparse.ArgumentParser, names: list[str], nargs: str | None = None,
                         dest: str = "model") -> None:
    """The positional NAME(s) of models with published weights."""
    if nargs is None:
        parser.add_argument(dest, metavar="NAME", choices=names)
    else:
        parser.add_argument(dest, metavar="NAME", choices=names, nargs=nargs)


def add_record(parser, help: str) -> None:
    """``--record`` (``args.record``): write this command's figures or file into a clone's manifest. ``--publish``, its
    name before issue 38 and the word in the records' stored commands, still works, unlisted (``zoo publish`` is the
    command that uploads)."""
    parser.add_argument("--record", action="store_true", help=help)
    parser.add_argument("--publish", dest="record", action="store_true", help=argparse.SUPPRESS)
