"""zoo annotate — maintainers: add a retrain's per-epoch fingerprints, a seed spread, or the sizes the model takes
(with its top-1 at 64x64 where it takes any size), to a published record."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..annotate import with_fingerprints, with_seed_spread
from ..errors import InputError
from ..manifest import published_records
from ..release.records import write_record, write_record_and_history
from ._args import add_data_dir, add_published_models


def add_parser(commands) -> None:
    parser = commands.add_parser("annotate", help="maintainers: fingerprints or a seed spread into a record",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    fingerprints = kinds.add_parser("fingerprints", help="per-epoch weight sha256 and machine class from a retrain")
    add_published_models(fingerprints, sorted(published_records()))
    fingerprints.add_argument("run_dir", type=Path)
    spread = kinds.add_parser("seed-spread", help="final top-1 spread of several seeds of the published recipe")
    add_published_models(spread, sorted(published_records()))
    spread.add_argument("run_dirs", type=Path, nargs="+")
    add_data_dir(spread)
    sizes = kinds.add_parser("input-size", help="min_size, and top-1 on the test set at 64x64 for a model that takes "
                                                "any size")
    add_published_models(sizes, sorted(published_records()))
    add_data_dir(sizes)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.kind == "input-size":
        from ..data import load_cifar10_test
        from ..release.records import record_input_size
        from ..sizes import RECORD_KEY

        entry = record_input_size(args.model, load_cifar10_test(args.data_dir, "the 64x64 figure")).extra[RECORD_KEY]
        print(f"updated the manifest record of {args.model}: {entry}")
        return 0
    record = published_records()[args.model]
    try:
        if args.kind == "fingerprints":
            write_record_and_history(*with_fingerprints(record, args.run_dir))
        else:
            write_record(with_seed_spread(record, args.run_dirs, args.data_dir,
                                          log=lambda line: print(line, flush=True)))
    except ValueError as error:  # the annotators' own checks (too few seeds, runs of another recipe)
        raise InputError(str(error)) from None
    print(f"updated the manifest record of {args.model}")
    return 0
