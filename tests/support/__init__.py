"""What the tests (and the benchmarks that time a Hub load) share: where the repository is, which models to test, how
to run zoo in a fresh interpreter, how a bad input must fail, and the loopback servers (``loopback_hub``,
``loopback_github``) and the PyTorch tutorial's own networks (``tutorial_models``) in this package.

The in-process command-line runner is the ``cli`` fixture (``tests/conftest.py``): it costs no interpreter start, so
a test runs a command in a fresh interpreter (:func:`zoo_command`) only where that is the point — environment
variables read at import, a package hidden, an installed copy, a signal."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from zoo.api import list_models
from zoo.weights import MIRROR_REPO

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"
GITHUB_REPO = MIRROR_REPO  # the repository the records' mirror names (README: torch.hub.load("org/zoo", ...))
RUN_SLOW = os.environ.get("ZOO_RUN_SLOW") == "1"  # (CI runs the slow tier by its marker: docs/development.md)

# Tests run over the registry, so a new model is tested without a test edit: every registered architecture, and every
# one with published weights in weights_manifest.json.
ARCHITECTURE_NAMES = list_models()
PUBLISHED_NAMES = list_models(pretrained=True)

USAGE, RUNTIME = 2, 1  # zoo's exit statuses: a usage error, any other failure


def model_file(name: str) -> str:
    """The module of ``zoo/models/`` that holds architecture ``name`` (its variants and their recipes beside it)."""
    from zoo.models import ARCHITECTURES

    return ARCHITECTURES[name].build.__module__


def one_per_model_file(names: list[str]) -> list[str]:
    """Of the published ``names``, the one with the smallest file from each model file (``zoo/models/*.py``: one
    architecture, its variants and their recipes). The slow tests of what a file's models share — the fast path, ONNX,
    OpenVINO, int8, calibration, corruptions, other input sizes — run on it: a change to that code moves its figures
    as well. Every record's own top-1 is scored for every model (``test_published``); its other figures were
    measured by ``zoo release`` (``zoo evaluate NAME --record``...) with the code these tests keep checking."""
    from zoo.manifest import published_records

    records = published_records()
    chosen: dict[str, str] = {}
    for name in sorted(names, key=lambda n: (records[n].file_size, n)):
        chosen.setdefault(model_file(name), name)
    return sorted(chosen.values())


ONE_PER_MODEL_FILE = one_per_model_file(PUBLISHED_NAMES)

# Another runtime of a published model (the fast path, onnxruntime, OpenVINO f32) is compared with PyTorch on the first
# 2,000 test images: a wrong graph, weight or preprocessing changes far more than a few of 2,000 predictions.
# test_published scores PyTorch's predictions on the whole test set, exactly, and the records' figures of the other
# runtimes were measured on it by `zoo release` with the code these tests check.
AGREEMENT_IMAGES = 2_000


def confusion_distance(one, other) -> int:
    """How far two scores' confusion matrices lie apart, cell by cell: a prediction that turns moves one count from
    one cell to another, 2 in this sum."""
    return sum(abs(a - b) for row_one, row_other in zip(one.confusion, other.confusion)
               for a, b in zip(row_one, row_other))


def smallest(published: dict) -> str:
    """The published model with the smallest file: the cheapest to download, load and run, for the tests that are
    about anything but the model."""
    return min(published, key=lambda name: (published[name].file_size, name))


def missing(reason: str):
    """Skip on a developer machine, fail in CI (where everything must be there)."""
    import pytest  # (here: the benchmarks import this package without pytest installed)

    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing test inputs are a failure)")
    pytest.skip(reason)


def same_class(entry: dict) -> list[str]:
    """How this machine's class differs from the one a manifest entry was measured on (empty: the same class)."""
    from zoo.machine import machine_class

    return machine_class().differences(entry["machine_class"])


def run_python(code: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 300,
               unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, without the caller's HF_* and ZOO_WEIGHTS_DIR settings (nor those named in
    ``unset``). It imports the zoo in ``cwd`` where there is one (``python -c`` puts ``cwd`` first), else this clone's
    (PYTHONPATH) — never the copy installed in the venv, which in CI is a non-editable one without weights/ beside
    it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOO_WEIGHTS")) and k not in unset}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def zoo_command(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None,
                setup: str = "") -> subprocess.CompletedProcess:
    """The ``zoo`` command line in a fresh interpreter (the zoo that ``cwd`` imports: this clone's by default);
    ``setup`` is Python run before it (to hide a package, …)."""
    return run_python(f"import os, sys\n{setup}\nfrom zoo.cli import main\nsys.exit(main({list(args)!r}))", cwd, env)


_COMMANDS = """
import contextlib, io, json, sys
{setup}
from zoo.cli import main
ran = []
for args in {commands!r}:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(args)
        except SystemExit as stop:  # argparse's --help and its usage errors end this way
            status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    ran.append([args, status, out.getvalue(), err.getvalue()])
print(json.dumps(ran))
"""


def zoo_commands(*commands: list[str], cwd: Path = REPO, env: dict[str, str] | None = None, setup: str = "",
                 unset: tuple[str, ...] = ()) -> list[subprocess.CompletedProcess]:
    """Several ``zoo`` command lines one after the other in one fresh interpreter (as :func:`run_python` runs it),
    each returned with its own exit status and output: for commands that need a fresh interpreter (as
    :func:`zoo_command`) but not one each."""
    run = run_python(_COMMANDS.format(setup=setup, commands=[list(args) for args in commands]), cwd, env,
                     unset=unset)
    assert run.returncode == 0 and run.stdout, run.stderr[-3000:]
    return [subprocess.CompletedProcess(["zoo", *args], status, out, err)
            for args, status, out, err in json.loads(run.stdout.splitlines()[-1])]


def assert_clean_error(run: subprocess.CompletedProcess, status: int, *fragments: str) -> str:
    """``run`` failed as zoo promises: exit ``status``, no traceback, one line on stderr holding every fragment
    (what was wrong and what to do). Returns the line."""
    assert run.returncode == status, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def readme_block(marker: str) -> str:
    """The code block after the README's ``<!-- test: MARKER ...`` line, as it stands."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split(f"<!-- test: {marker} ", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def installed_copy(folder: Path) -> Path:
    """The zoo package copied into ``folder`` as a build installs it (no checkout around it; the repository's manifest
    copied in, as setup.py does): an installed zoo, without building a wheel. Returns ``folder``."""
    shutil.copytree(REPO / "zoo", folder / "zoo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "weights_manifest.json", folder / "zoo" / "weights_manifest.json")
    return folder
