"""The ``zoo`` command line (also ``python -m zoo``): one parser owns every command's arguments.

One module per command (``add_parser`` registers it, ``run`` does it); arguments and path checks shared by
several are in :mod:`zoo.cli._args`, and :mod:`zoo.cli._errors` turns every failure into one line. Library modules
raise; only this package parses arguments and sets exit statuses.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from . import annotate, basic, card, docs, evaluate, export, finetune, predict, publish, quantize, release, train
from ._errors import CliParser, UsageError, run_cli

EXAMPLES = """examples:
  zoo list                                   models, parameters, top-1, size, cached?
  zoo info lenet                             figures and provenance (--full: the whole record, JSON)
  zoo env                                    this machine's class, and what it means for training and --check
  zoo download lenet cifar_quick             cache the weights for offline use
  zoo predict photo.jpg --model lenet        classify your own pictures
  zoo finetune lenet --data DIR --output-dir OUT   train on your own pictures (a folder per class)
  zoo evaluate lenet                         score on the CIFAR-10 test set
  zoo train lenet --check                    retrain, compare with the published bytes
  zoo card lenet                             regenerate weights/lenet/README.md and its figures
  zoo quantize lenet --evaluate              int8 model from the published calibration, scored beside float
  zoo export lenet --evaluate                lenet.onnx, scored with onnxruntime beside PyTorch
  zoo release NAME RUN_DIR                   maintainers: a finished run becomes a published model
  zoo docs                                   maintainers: render README/docs tables and model-card text
  zoo publish --dry-run                      what a release would upload to the Hugging Face Hub
  HF_HUB_OFFLINE=1 zoo demo                  load every published model offline, classify test images
run `zoo COMMAND --help` for a command's options"""

COMMANDS = (basic, train, finetune, evaluate, predict, card, export, quantize, release, publish, annotate, docs)


def build_parser() -> argparse.ArgumentParser:
    """The ``zoo`` parser with every command (``python -m zoo.train ARGS`` is ``zoo train ARGS``)."""
    parser = CliParser(prog="zoo", description="CIFAR-10 model zoo: verified pretrained models.", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    for subparser in commands.choices.values():  # a command's UsageError is said as its parser says usage errors
        subparser.set_defaults(usage_error=subparser.error)
    return parser


def _version() -> str:
    import torch

    from .. import __version__

    return f"zoo {__version__} (torch {torch.__version__}, Python {sys.version.split()[0]})"


def main(argv: list[str] | None = None) -> int:
    """The ``zoo`` command: failures are one line on stderr (exit 1; usage errors 2), never a traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    for stream in (sys.stdout, sys.stderr):  # an ASCII or Latin-1 terminal or pipe gets \u2026 for what it cannot show
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, OSError, ValueError):  # not a text stream, or closed under the process
            pass
    if not os.environ.get("HF_HUB_VERBOSITY"):  # its retry warnings would be more lines than zoo's one (opt back in)
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    return run_cli(lambda: _run(argv))


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)  # (inside run_cli: a damaged manifest is one line too)
    try:
        return args.run(args)
    except UsageError as error:
        args.usage_error(str(error))  # one line, exit status 2


if __name__ == "__main__":
    sys.exit(main())
