"""The code passes the linter CI runs (ruff, configured in pyproject.toml): unused imports and names, undefined
names, syntax errors, statements that do nothing."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from tests.support import REPO, missing


def test_ruff_finds_nothing():
    if importlib.util.find_spec("ruff") is None:
        missing("ruff is not installed: pip install ruff (the test extra has it)")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
