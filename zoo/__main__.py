"""``python -m zoo`` is the ``zoo`` command line."""
import sys

from .cli import main

sys.exit(main())
