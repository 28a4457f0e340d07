"""The README's Python example runs as written (the fine-tune and feature examples: tests/test_finetune.py; the
install and test blocks: .ci/run)."""
from __future__ import annotations

import ast

from tests.support import PUBLISHED_NAMES, REPO, readme_block, run_python


def test_readme_use_example_runs_as_written(tmp_path):
    # this clone's zoo (CI installs a copy without weights/ beside it), offline: nothing leaves the machine
    done = run_python(readme_block("use"), tmp_path, {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    top, published = (ast.literal_eval(line) for line in done.stdout.splitlines())
    assert published == PUBLISHED_NAMES
    labels, probabilities = zip(*top)
    assert labels[0] == "cat"  # zoo/examples/0000_cat.png, CIFAR-10 test image 0, which resnet20_cifar10 gets right
    assert list(probabilities) == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.001


def test_readme_install_block_offers_setup_cfgs_extras_and_its_torch_hub_line_loads(github, tmp_path):
    """``pip install cifar10-zoo`` names the distribution and extras setup.cfg builds (pip itself needs PyPI: the
    wheel's install is tests/test_packaging.py's); the Torch Hub line runs as written, GitHub being a loopback
    server and the weights coming from the archive it serves."""
    import configparser
    import shlex

    from tests.support.loopback_github import TORCH_HUB_TO_LOOPBACK

    pip_line, hub_line = readme_block("install").strip().splitlines()
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    command, extras = pip_line.split("#")
    assert command.split() == ["pip", "install", setup["metadata"]["name"]]
    offered = {word.strip("[]") for word in extras.split() if word.startswith("[")}
    assert offered == set(setup["options.extras_require"]) - {"test", "core-test"}, offered
    python, flag, code = shlex.split(hub_line)
    assert (python, flag) == ("python", "-c")
    env = {"TORCH_HOME": str(tmp_path / "torch_home"), "HF_HUB_OFFLINE": "1"}
    run = run_python(TORCH_HUB_TO_LOOPBACK.format(endpoint=github.endpoint) + code, tmp_path, env)
    assert run.returncode == 0, run.stderr
    printed = run.stdout[run.stdout.index("LeNet("):]  # (after torch.hub's "Downloading: …" line)
    assert "(conv1): Conv2d(3, " in printed and "(fc3): Linear(in_features=84, out_features=10" in printed


def readme_command_lines(marker: str) -> list[list[str]]:
    """The commands of a README block: each line up to its comment (two or more spaces, or #), split as a shell would."""
    import re
    import shlex

    lines = [re.split(r"\s{2,}|\s#", line.strip())[0] for line in readme_block(marker).strip().splitlines()]
    return [shlex.split(line) for line in lines if line]


def test_readme_commands_parse_and_the_quick_ones_run_as_written(cli, data_dir, tmp_path):
    """Every line of the Command line block is a command zoo's parser takes (a renamed flag fails here); those that
    take seconds run in a folder holding a photo.jpg, and succeed."""
    import shutil

    from zoo.cli import build_parser
    from zoo.data import EXAMPLES_DIR

    shutil.copy(sorted(EXAMPLES_DIR.glob("*.png"))[0], tmp_path / "photo.jpg")
    placeholders = {"NAME": "lenet", "DIR": str(tmp_path), "OUT": str(tmp_path / "out")}
    ran = []
    for words in readme_command_lines("commands"):
        assert words[0] == "zoo", words
        args = [placeholders.get(word, word) for word in words[1:]]
        build_parser().parse_args(args)  # exits (a failed test) on anything it does not take
        if args[0] in ("list", "info", "env", "download", "predict", "evaluate"):
            run = cli(*args, cwd=tmp_path, env={"ZOO_DATA_DIR": str(data_dir)})
            assert run.returncode == 0, (words, run.stderr)
            ran.append(args[0])
    assert sorted(ran) == ["download", "env", "evaluate", "info", "list", "predict"]


def test_readme_reproduce_lines_parse_and_the_first_is_a_records_command(published):
    """The published models' commands are what tests/test_retrain.py runs again (the first epoch in CI, in full in the
    retrain tier); the README line is one of them."""
    from zoo.cli import build_parser

    train, check = readme_command_lines("reproduce")
    assert " ".join(train) in {record.recipe["command"] for record in published.values()}
    for words in (train, check):
        assert words[:3] == ["python", "-m", "zoo.train"], words
        build_parser().parse_args(["train", *words[3:]])
