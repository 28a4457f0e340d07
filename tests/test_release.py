"""``zoo release``: a finished run becomes a published model through every step, in a copy of the repository, and
the same command continues where it stopped; the README's tables are what the manifest renders."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import zoo_command
from zoo.models import LeNet

# Every step but the corruption figures: those need the 75 regenerated corruption arrays (minutes to make; CI's
# tests/test_corruptions.py checks the arrays and the published figures).
STEPS = ["record", "seed-spread", "input-size", "int8", "onnx", "openvino", "openvino-int8", "card", "readme", "mirror"]


def test_the_tables_of_readme_and_docs_are_what_the_manifest_renders(published):
    """The Models and Deployment tables of README.md and docs/ are rendered from the records: a record changed
    without re-rendering them (``zoo release NAME RUN_DIR --only readme``, or ``zoo docs``) fails here."""
    from zoo.release.tables import README, rendered_documents

    for path, text in rendered_documents(published).items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `zoo docs`"
    readme = README.read_text(encoding="utf-8")
    full = (README.parent / "docs" / "models.md").read_text(encoding="utf-8")
    for name, record in published.items():  # and each published model has its rows, with its figures
        row = next(line for line in readme.splitlines() if line.startswith(f"| [`{name}`]"))
        assert f"**{100 * record.top1:.2f} %**" in row and f"(weights/{name}/README.md)" in row
        row = next(line for line in full.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"**{100 * record.top1:.2f} %**" in row and f"`{record.recipe['command']}`" in row


@pytest.fixture()
def checkout(repo_archive, tmp_path, published):
    import shutil

    root = tmp_path / "clone"
    shutil.copytree(repo_archive, root)
    return root


def zoo(checkout, data_dir, *args):
    return zoo_command(*args, cwd=checkout, env={"ZOO_DATA_DIR": str(data_dir)})


def manifest(checkout) -> dict:
    assert not (checkout / "zoo" / "weights_manifest.json").exists()  # one manifest: a clone writes no package copy
    return json.loads((checkout / "weights_manifest.json").read_bytes())["models"]


def outcomes(run) -> dict[str, str]:
    """step → what `zoo release` said of it (done, done before, WAITING, skipped)."""
    said = {}
    for line in run.stdout.splitlines():
        if line.startswith("[") and "] " in line and ": " in line:
            step, rest = line.split("] ", 1)[1].split(": ", 1)
            said[step] = rest.split(" — ")[0]
    return said


@pytest.mark.slow  # (CI; maintainers' release)
def test_release_refuses_a_run_it_cannot_publish(checkout, data_dir, tmp_path):
    """On a subset, another model's, no run at all: one line each, nothing written (an unfinished run and another
    recipe: the slow test below)."""
    before = (checkout / "weights_manifest.json").read_bytes()
    subset = tmp_path / "subset"
    trained = zoo(checkout, data_dir, "train", "lenet", "--epochs", "1", "--output-dir", str(subset), "--train-subset",
                  "2048", "--test-subset", "500", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    cases = [(["lenet", str(subset), "--recipe-overrides"], "trained or scored on a subset or a holdout"),
             (["cifar_quick", str(subset)], f"{subset} is a run of lenet, not of cifar_quick"),
             (["lenet", str(tmp_path)], "holds no training checkpoint")]
    for args, message in cases:
        run = zoo(checkout, data_dir, "release", *args)
        assert run.returncode == 1 and message in run.stderr, (args, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert (checkout / "weights_manifest.json").read_bytes() == before


@pytest.mark.slow
def test_release_publishes_a_run_in_order_and_continues_where_it_stopped(checkout, data_dir, tmp_path):
    """A real lenet run (two epochs of the full data: a recipe override, recorded as such), refused while stopped,
    finished with the command the refusal gives, released into a copy of the repository; then the same command does
    nothing; a removed figure is measured again, alone; the mirror step waits for the commit and pins it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=checkout, check=True,
                              capture_output=True, text=True).stdout.strip()

    from zoo.machine import machine_class, training_precision
    from zoo.recipes import get_recipe

    # The command that trains this run again: its override, and, on a class where bf16 is emulated (AVX2 only, the
    # Intel Xeons without it), the fp32 that zoo train falls back to there for lenet's bf16 recipe
    published = get_recipe("lenet").precision
    here = training_precision(published, "cpu", machine_class())
    command = "python -m zoo.train lenet --epochs 2" + ("" if here == published else f" --precision {here}")
    run_dir = tmp_path / "lenet-2-epochs"
    stopped = zoo(checkout, data_dir, "train", "lenet", "--epochs", "2", "--stop-after", "1", "--output-dir",
                  str(run_dir), "--no-progress")
    assert stopped.returncode == 0, stopped.stderr
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "before the release")
    before = (checkout / "weights_manifest.json").read_bytes()
    refused = zoo(checkout, data_dir, "release", "lenet", str(run_dir))
    assert refused.returncode == 1 and "stopped after epoch 1 of 2: finish it first with `" in refused.stderr
    finish = refused.stderr.split("`")[1]  # the command it gives, run as given
    assert finish == f"{command} --output-dir {run_dir} --resume", finish
    assert zoo(checkout, data_dir, "train", *finish.split()[3:], "--no-progress").returncode == 0
    refused = zoo(checkout, data_dir, "release", "lenet", str(run_dir))
    assert refused.returncode == 1 and "with epochs 2 (recipe: 60)" in refused.stderr, refused.stderr
    assert "pass --recipe-overrides" in refused.stderr
    assert (checkout / "weights_manifest.json").read_bytes() == before

    release = ["release", "lenet", str(run_dir), "--recipe-overrides", "--overwrite", "--only", *STEPS]
    first = zoo(checkout, data_dir, *release)
    assert first.returncode == 0, first.stdout + first.stderr
    assert outcomes(first) == {"record": "done", "seed-spread": "WAITING", "input-size": "done", "int8": "done", "onnx": "done",
                               "openvino": "done", "openvino-int8": "done", "corruptions": "skipped", "card": "done",
                               "readme": "done", "mirror": "WAITING"}, first.stdout
    record = manifest(checkout)["lenet"]
    weights = (run_dir / "model.safetensors").read_bytes()
    assert (checkout / "weights" / "lenet" / "model.safetensors").read_bytes() == weights
    assert record["recipe"]["command"] == command
    kept = json.loads((run_dir / "result.json").read_text())  # what a seed spread may count of this run alone
    assert (kept["sha256"], kept["top1"]) == (record["sha256"], record["metrics"]["cifar10_test_top1"])
    assert "seed_spread" not in record["metrics"] and "cifar10_c" not in record  # the old weights' figures went
    assert record["input_size"] == {"min_size": [32, 32], "any_size": False, "why": LeNet.input_size.why}
    calibration = (checkout / "weights" / "lenet" / "int8_calibration.safetensors").read_bytes()
    assert record["int8"]["calibration"]["file_size"] == len(calibration)
    for key in ("onnx", "openvino"):  # float exports score as the float model (within 0.05 point)
        assert abs(record[key]["cifar10_test_top1"] - record["metrics"]["cifar10_test_top1"]) <= 5e-4, key
    card = (checkout / "weights" / "lenet" / "README.md").read_text(encoding="utf-8")
    assert record["sha256"] in card and command in card
    readme = (checkout / "docs" / "models.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `lenet` |"))
    assert f"**{100 * record['metrics']['cifar10_test_top1']:.2f} %**" in row and "| — |" in row  # no spread yet

    again = zoo(checkout, data_dir, *release)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {step: said for step, said in outcomes(again).items() if said != "skipped"} == {
        **{step: "done before" for step in STEPS}, "seed-spread": "WAITING", "mirror": "WAITING"}
    assert manifest(checkout)["lenet"] == record

    for path in (checkout / "weights_manifest.json",):
        document = json.loads(path.read_text(encoding="utf-8"))
        del document["models"]["lenet"]["onnx"]
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    git("add", "-A")
    git("commit", "-qm", "the release")
    resumed = zoo(checkout, data_dir, *release)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    said = outcomes(resumed)
    assert said["onnx"] == "done" and said["mirror"] == "done", resumed.stdout
    assert [step for step, what in said.items() if what == "done"] == ["onnx", "mirror"], resumed.stdout
    pinned = manifest(checkout)["lenet"]
    assert pinned["onnx"] == record["onnx"]  # measured again: the same figure
    assert pinned["mirror"]["revision"] == git("rev-parse", "HEAD")


def test_a_seed_kept_as_its_result_file_counts_as_its_weights_would(published, tmp_path):
    """A seed trained in an earlier session leaves its result.json alone (runs/NAME/seedS/): from the published
    seeds' figures, kept so, the seed spread is the published one, without a test set; a result of another recipe,
    a seed given twice and a damaged file are each refused in one sentence."""
    from zoo.annotate import with_seed_spread
    from zoo.machine import machine_class

    record = published["lenet"]
    spread = record.metrics["seed_spread"]

    def kept(seed: int, top1: float, folder: str, **changes) -> Path:
        run_dir = tmp_path / folder
        run_dir.mkdir()
        result = {"model": "lenet", "recipe": {**record.recipe["settings"], "seed": seed, **changes},
                  "subsets": [None, None], "sha256": record.sha256, "top1": top1,
                  "trained_on": [{"machine_class": machine_class().to_dict(), "epochs": [1, 60]}]}
        (run_dir / "result.json").write_text(json.dumps(result))
        return run_dir

    runs = [kept(seed, top1, f"seed{seed}") for seed, top1 in zip(spread["seeds"], spread["top1"])]
    remade = with_seed_spread(record, runs, str(tmp_path / "no-data-here")).metrics["seed_spread"]
    assert {key: remade[key] for key in ("seeds", "top1", "mean", "std", "tolerance")} == \
        {key: spread[key] for key in ("seeds", "top1", "mean", "std", "tolerance")}
    assert remade["from_run_results"] == spread["seeds"]
    # The published file is seed 0's finished run: the other four seeds, kept so, make the same spread.
    without_seed_0 = with_seed_spread(record, runs[1:], None).metrics["seed_spread"]
    assert {key: without_seed_0[key] for key in ("seeds", "top1", "mean", "std", "tolerance")} == \
        {key: spread[key] for key in ("seeds", "top1", "mean", "std", "tolerance")}
    with pytest.raises(ValueError, match="needs at least 5 seeds, got 4"):
        with_seed_spread(record, runs[1:4], None)

    other = kept(5, 0.8, "other-recipe", lr=record.recipe["settings"]["lr"] * 2)
    with pytest.raises(ValueError, match=r"did not run the published recipe of lenet .*differs in: lr"):
        with_seed_spread(record, [*runs[:4], other], None)
    with pytest.raises(ValueError, match="seed 0 is given twice"):
        with_seed_spread(record, [*runs, runs[0]], None)
    damaged = runs[1] / "result.json"
    damaged.write_text(damaged.read_text()[:-20])
    with pytest.raises(ValueError, match=r"result.json is not the result.json of a finished zoo.train run .*train the "
                                         r"seed again"):
        with_seed_spread(record, runs, None)
