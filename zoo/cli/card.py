"""zoo card — write a model card (weights/NAME/README.md) and its figures."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..release.card import write_card
from ..errors import ZooError, require_extra
from ..manifest import in_checkout, published_records
from ._args import add_data_dir, add_published_models, output_dir


def add_parser(commands) -> None:
    parser = commands.add_parser("card", help="write a model card and its figures",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  zoo card lenet cifar_quick")
    add_published_models(parser, sorted(published_records()), nargs="+", dest="models")
    add_data_dir(parser)
    parser.add_argument("--output-dir", type=output_dir, metavar="DIR",
                        help="write here instead of weights/NAME/ (with several models: DIR/NAME/)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    require_extra("zoo card (its figures)", "matplotlib", extra="plots")  # before the scoring, not after it
    if args.output_dir is None and not in_checkout():  # never write into an installed package
        raise ZooError(f"zoo runs from an installed copy ({Path(__file__).parents[1]}), not a clone of the repository, "
                       "so there is no weights/NAME/ to write: pass --output-dir DIR")
    for name in dict.fromkeys(args.models):
        folder = args.output_dir / name if args.output_dir and len(set(args.models)) > 1 else args.output_dir
        print(write_card(name, args.data_dir, folder))
    return 0
