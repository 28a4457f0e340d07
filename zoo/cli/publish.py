"""zoo publish — upload the weights to the Hugging Face Hub and pin the manifest to the commits."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ZooError
from ..manifest import in_checkout, published_records
from ..release.hub import PublishError, describe, pin_mirror, plan, publish
from ._errors import UsageError


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "publish", help="upload weights to the Hub, pin the manifest to the commit",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  zoo publish --dry-run\n  zoo publish --repo-id-prefix my-user/cifar10")
    parser.add_argument("models", nargs="*", metavar="NAME",
                        help=f"models to publish: {', '.join(sorted(published_records()))} (default: all of them)")
    parser.add_argument("--repo-id-prefix", metavar="OWNER/PREFIX",
                        help="upload to OWNER/PREFIX-NAME (default: the repo the manifest names)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--dry-run", action="store_true", help="show what would be uploaded where; no network")
    only.add_argument("--mirror-only", action="store_true",
                        help="only pin the GitHub mirror to HEAD, which must hold the committed files; no network")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    unknown = [name for name in args.models if name not in published_records()]
    if unknown:  # checked here, not by argparse `choices`, which refuses an empty NAME… (Python < 3.12)
        raise UsageError(f"{', '.join(map(repr, unknown))}: no published weights to publish (choose from "
                         f"{', '.join(sorted(published_records()))})")
    if not in_checkout():
        raise ZooError(f"zoo runs from an installed copy ({Path(__file__).parents[1]}): publish uploads a clone's "
                       "weights/ and writes its manifest; run it from a clone of the repository")
    names = list(dict.fromkeys(args.models) or published_records())
    if args.mirror_only:
        for name in names:
            record = pin_mirror(name)
            print(f"{name}: mirror {record.mirror['repo']}@{record.mirror['revision']}")
        print("\nthe manifest now pins these mirror commits: commit weights_manifest.json")
        return 0
    uploads = [plan(name, args.repo_id_prefix) for name in names]
    if args.dry_run:
        print("\n\n".join(describe(upload) for upload in uploads))
        print("\ndry run: nothing uploaded, nothing written")
        return 0
    from huggingface_hub import get_token

    if not get_token():
        raise PublishError("no Hugging Face token: set HF_TOKEN to a token with write access, or run `hf auth login`")
    for upload in uploads:
        record = publish(upload)
        print(f"{record.name}: {record.repo_id}@{record.revision} (sha256 {record.sha256[:16]}… verified on the Hub)")
    print("\nthe manifest now pins these commits (and, where HEAD holds the files, the GitHub mirror at HEAD): commit "
          "weights_manifest.json and the cards")
    return 0
