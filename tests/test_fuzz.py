"""Property-based pass over everything that reads user input: random arguments and random bytes get a clean error
(a usage exit or zoo's own exception type), never another exception."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo import cli, predict
from zoo.cli import train
from zoo.data import DataError, _read_bin_batch, _read_py_batch
from zoo.errors import CheckpointError, ManifestError
from zoo.manifest import read_manifest
from zoo.weights import read_state_dict_file

from tests.support import ARCHITECTURE_NAMES

FLAGS = ["--epochs", "--batch-size", "--lr", "--weight-decay", "--label-smoothing", "--seed", "--threads",
         "--precision", "--cutout", "--ema-decay", "--weights-dtype", "--device", "--accum-steps", "--train-subset",
         "--test-subset", "--holdout", "--stop-after", "--check-epochs", "--topk", "--model", "--checkpoint",
         "--images", "--output-dir", "--data-dir", "--json", "--flip-tta", "--record", "--publish", "--check",
         "--resume", "-h"]
WORDS = [*ARCHITECTURE_NAMES, "nosuch", "0", "-1", "1", "3", "256", "1e9", "nan", "inf", "-inf",
         "0.5", "1.0", "bf16", "fp32", "float16", "cpu", "cuda", "cuda:7", "bogus", "", "--", "x.png", "\x00", "é"]
arguments = st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(WORDS), st.text(max_size=8)), max_size=8)
COMMANDS = ["train", "predict", "evaluate", "export", "card", None]  # None: the top-level `zoo` parser
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def parse_or_usage_exit(argv: list[str]) -> None:
    """Parsing either succeeds or exits with status 0 (--help) or 2 (usage error); nothing else may escape."""
    try:
        cli.build_parser().parse_args(argv)
    except SystemExit as leaving:
        assert leaving.code in (0, 2), (argv, leaving.code)


@pytest.mark.parametrize("command", COMMANDS)
@FUZZ
@given(argv=arguments)
def test_argument_parsers_give_usage_errors_only(command, argv, capsys):
    parse_or_usage_exit(([command] if command else []) + argv)
    capsys.readouterr()


@FUZZ
@given(argv=arguments)
def test_a_parsed_training_command_line_always_makes_a_valid_recipe(argv, capsys):
    """Whatever parses, the recipe built from it is one train() can run (no ZeroDivision, no bad schedule)."""
    try:
        args = cli.build_parser().parse_args(["train", "lenet", *argv])
    except SystemExit:
        capsys.readouterr()
        return
    recipe = train.recipe_from_args(args)
    assert recipe.epochs >= 1 and recipe.batch_size >= 1 and recipe.lr > 0 and recipe.threads >= 1
    assert 0 <= recipe.label_smoothing < 1 and 0 <= recipe.ema_decay < 1 and recipe.cutout >= 0


def write_temp(data: bytes, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(handle, "wb") as f:
        f.write(data)
    return Path(name)


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), st.sampled_from([b"PK\x03\x04", b"\x80\x02}q\x00.", b"\x89PNG\r\n\x1a\n",
                                                                 b"\xff\xd8\xff\xe0", b"GIF89a", b"{}", b""])))
def test_random_bytes_never_crash_the_readers(data):
    from PIL import Image

    path = write_temp(data, ".bin")
    try:
        with pytest.raises(CheckpointError):
            read_state_dict_file(path)
        with pytest.raises(ManifestError):
            read_manifest(path)
        with pytest.raises(DataError):
            _read_bin_batch(path)
        with pytest.raises(DataError):
            _read_py_batch(path)
        try:
            image = predict.open_rgb(path)  # what zoo predict reads: an RGB image, or an ImageError it reports per file
        except predict.ImageError:
            pass
        else:
            assert isinstance(image, Image.Image) and image.mode == "RGB"
    finally:
        path.unlink()


def test_card_parser_rejects_unknown_names_with_a_usage_error(capsys):
    assert cli.main(["card", "nosuch"]) == 2 and "invalid choice: 'nosuch'" in capsys.readouterr().err
