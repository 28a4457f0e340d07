"""The README's Python example runs as written (the fine-tune and feature examples: tests/test_finetune.py; the
install and test blocks: .ci/run)."""
from __future__ import annotations

import ast

from conftest import PUBLISHED_NAMES, REPO, run_python


def readme_block(marker: str) -> str:
    """The code block after the README's ``<!-- test: MARKER ...`` line, as it stands."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split(f"<!-- test: {marker} ", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def test_readme_use_example_runs_as_written(tmp_path):
    # this clone's zoo (CI installs a copy without weights/ beside it), offline: nothing leaves the machine
    done = run_python(readme_block("use"), tmp_path, {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    top, published = (ast.literal_eval(line) for line in done.stdout.splitlines())
    assert published == PUBLISHED_NAMES
    labels, probabilities = zip(*top)
    assert labels[0] == "cat"  # zoo/examples/0000_cat.png, CIFAR-10 test image 0, which resnet20_cifar10 gets right
    assert list(probabilities) == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.001
