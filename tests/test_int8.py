"""int8 models (PT2E + torchao's x86 quantizer): built offline from two verified files, scored on all 10,000 test
images against the manifest, calibrated deterministically on training images only."""
from __future__ import annotations

import importlib.util

import pytest

from tests.support import ONE_PER_MODEL_FILE, REPO, missing, run_python, zoo_command, same_class

MAX_DROP = 0.002  # issue 12's goal: int8 within 0.2 point of the float model


@pytest.fixture(scope="module")
def torchao():
    try:
        import torchao  # noqa: F401
    except ImportError:
        missing("torchao is not installed: pip install 'cifar10-zoo[int8]' (the test extra has it)")


@pytest.mark.slow
@pytest.mark.parametrize("name", ONE_PER_MODEL_FILE)
def test_published_int8_model_scores_its_manifest_figure(name, torchao, published, test_split):
    from zoo.int8 import RECORD_KEY, quantized_model, score_int8

    record = published[name]
    entry = record.extra[RECORD_KEY]
    result = score_int8(quantized_model(name), test_split)
    assert result.count == 10_000
    assert record.top1 - result.top1 <= MAX_DROP and entry["metrics"]["cifar10_test_top1"] >= record.top1 - MAX_DROP
    differences = same_class(entry)
    if differences:  # int8 kernels differ between CPU classes: the goal holds, the exact figure need not
        pytest.skip(f"figures recorded on another machine class ({'; '.join(differences)}); within "
                    f"{100 * MAX_DROP} point of float here: {result.top1:.4f}")
    assert result.top1 == entry["metrics"]["cifar10_test_top1"]
    assert result.per_class == entry["metrics"]["cifar10_test_per_class"]


@pytest.mark.slow  # (CI; compiles int8 twice)
def test_compiled_int8_predicts_as_its_reference_graph_without_vnni(torchao, published, data_dir):
    """The compiled int8 model runs oneDNN's kernels for the CPU; the uncompiled graph does the same arithmetic in
    float. Without VNNI those kernels saturated on 8-bit activations (lenet 63.73 % against 82.12 %), which only this
    comparison, on such a CPU, shows: ``ONEDNN_MAX_CPU_ISA=AVX2`` makes every x86 CPU one (the slow tier scores the
    VNNI kernels against the records)."""
    code = """
import torch, zoo
from zoo.data import load_cifar10, normalize
from zoo.int8 import activation_max, quantized_model
x = normalize(load_cifar10(None, train=False).images[:1000], channels_last=False)
with torch.no_grad():
    reference, compiled = quantized_model("lenet", compile=False)(x), quantized_model("lenet")(x)
print(activation_max(), (reference.argmax(1) == compiled.argmax(1)).double().mean().item())
"""
    run = run_python(code, REPO, {"ZOO_DATA_DIR": str(data_dir), "ONEDNN_MAX_CPU_ISA": "AVX2"})
    assert run.returncode == 0, run.stderr[-3000:]
    codes, agreement = run.stdout.split()
    assert int(codes) == 127  # no VNNI: 7-bit activations
    assert float(agreement) >= 0.99, f"int8 kernels with {codes} as the largest activation code"


def test_calibration_is_deterministic_training_images_only_and_the_published_file(torchao, published, data_dir):
    from safetensors.torch import save

    from zoo import get_model
    from zoo.data import load_cifar10, normalize
    from zoo.int8 import CALIBRATION_IMAGES, RECORD_KEY, calibrate, calibration_images
    from zoo.weights import sha256_bytes

    images = calibration_images(str(data_dir))
    train = load_cifar10(data_dir, train=True)
    assert images.shape == (CALIBRATION_IMAGES, 3, 32, 32)
    assert images.equal(normalize(train.images[:CALIBRATION_IMAGES], channels_last=False))
    model = get_model("lenet", pretrained=True)
    first, second = save(dict(sorted(calibrate(model, images).items()))), save(dict(sorted(calibrate(model, images).items())))
    assert first == second
    entry = published["lenet"].extra[RECORD_KEY]
    if same_class(entry):
        pytest.skip(f"calibration recorded on another machine class: {same_class(entry)}")
    assert sha256_bytes(first) == entry["calibration"]["sha256"]


def test_calibration_of_another_model_is_refused(torchao, published):
    from safetensors.torch import load_file

    import zoo
    from zoo.errors import ZooError
    from zoo.int8 import CALIBRATION_FILE

    lenet_state = load_file(str(REPO / "weights" / "lenet" / CALIBRATION_FILE))
    with pytest.raises(ZooError, match="do not fit this model's observers"):
        zoo.quantize(zoo.get_model("cifar_quick", pretrained=True), lenet_state, compile=False)


def test_corrupted_calibration_file_is_a_checksum_error(torchao, published, tmp_path, cli):
    import shutil

    from zoo.int8 import CALIBRATION_FILE

    copy = tmp_path / "lenet"
    shutil.copytree(REPO / "weights" / "lenet", copy)
    data = bytearray((copy / CALIBRATION_FILE).read_bytes())
    data[-1] ^= 1
    (copy / CALIBRATION_FILE).write_bytes(bytes(data))
    run = cli("quantize", "lenet", env={"ZOO_WEIGHTS_DIR": str(tmp_path)})
    assert run.returncode == 1 and "sha256 mismatch" in run.stderr and CALIBRATION_FILE in run.stderr, run.stderr


@pytest.mark.parametrize("setup, message", [
    ("sys.modules['torchao'] = None", "pip install 'cifar10-zoo[int8]'"),
    ("os.environ['CXX'] = '/nonexistent/c++'", "C++ compiler"),
])
def test_missing_torchao_or_compiler_is_said_clearly(setup, message):
    if "CXX" in setup and importlib.util.find_spec("torchao") is None:
        missing("torchao is not installed: pip install 'cifar10-zoo[int8]' (the test extra has it)")
    run = zoo_command("quantize", "lenet", setup=setup)
    assert run.returncode == 1 and message in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_quantized_model_works_inside_inference_mode(torchao):
    """Where inference code lives: the int8 model built and run under torch.inference_mode() gives the same logits."""
    import torch

    from zoo.int8 import quantized_model

    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = quantized_model("lenet", compile=False)(x)
    with torch.inference_mode():
        inside = quantized_model("lenet", compile=False)(x)
    assert torch.equal(inside, reference)
