"""zoo docs — maintainers: render the generated parts of the documentation from the manifest and the speed files
of benchmarks/ (``python -m benchmarks.run --out FILE``, one per machine class): the tables of README.md and docs/
(between their ``<!-- zoo:NAME -->`` markers) and the text of every model card (weights/NAME/README.md; ``zoo card
NAME`` also redraws its figures). ``--check`` writes nothing and exits 1 if anything is stale."""
from __future__ import annotations

import argparse

from ..errors import ZooError


def add_parser(commands) -> None:
    parser = commands.add_parser("docs", help="maintainers: render README/docs tables and model-card text",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a document is stale")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..release.card import render_card
    from ..manifest import atomic_write_bytes, published_records
    from ..release.records import require_checkout
    from ..release.tables import rendered_documents
    from ..weights import CHECKOUT_WEIGHTS

    require_checkout("zoo docs")
    records = published_records()
    wanted = dict(rendered_documents(records))
    wanted.update({CHECKOUT_WEIGHTS / name / "README.md": render_card(record) for name, record in records.items()})
    stale = [path for path, text in wanted.items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if args.check:
        if stale:
            raise ZooError(f"stale: {', '.join(str(p) for p in stale)}: run `zoo docs`")
        print(f"{len(wanted)} documents are what the manifest renders")
        return 0
    for path in stale:
        atomic_write_bytes(path, wanted[path].encode("utf-8"))
        print(f"rendered {path}")
    print(f"{len(stale)} of {len(wanted)} documents rendered; the rest were current")
    return 0
