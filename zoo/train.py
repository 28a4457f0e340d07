"""``python -m zoo.train NAME``: the ``zoo train`` command (:mod:`zoo.cli.train`), under the name the published
records' commands use."""
import sys

if __name__ == "__main__":
    from .cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
