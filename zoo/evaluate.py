"""``python -m zoo.evaluate NAME``: the ``zoo evaluate`` command (:mod:`zoo.cli.evaluate`)."""
import sys

if __name__ == "__main__":
    from .cli import main

    sys.exit(main(["evaluate", *sys.argv[1:]]))
