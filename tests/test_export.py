"""ONNX export, verified in onnxruntime on real CIFAR-10 test images against the PyTorch model."""
from __future__ import annotations

import pytest
import torch

import zoo
from tests.support import AGREEMENT_IMAGES, ONE_PER_MODEL_FILE, confusion_distance, missing, zoo_command
from zoo.data import normalize
from zoo.metrics import score

# Logits of the exported graph vs PyTorch's, both fp32 on the CPU: the same arithmetic in another order
# (onnxruntime's kernels), so differences are float rounding. Measured on the first 1,000 test images (AMD EPYC
# class): max |difference| 3.3e-6 / 4.3e-6 / 3.7e-6 (lenet / cifar_quick / VGG-16) with logits up to 9.3 in size;
# the tolerance leaves 20× room for other CPUs' kernels.
LOGIT_ATOL = 1e-4


@pytest.fixture(scope="module")
def onnx_runtime():
    for module in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing(f"{module} is not installed: pip install 'cifar10-zoo[onnx]' (the test extra has it)")


@pytest.mark.slow
@pytest.mark.parametrize("name", ONE_PER_MODEL_FILE)
def test_exported_file_matches_pytorch_on_real_test_images(name, onnx_runtime, published, test_split, tmp_path):
    import onnx

    from zoo.export import OPSET, export_onnx, onnx_session, score_onnx

    record = published[name]
    path = export_onnx(name, tmp_path / f"{name}.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # one self-contained file, no temp left
    proto = onnx.load(str(path))
    assert {o.domain: o.version for o in proto.opset_import}[""] == OPSET
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["zoo.model"] == name and props["zoo.weights_sha256"] == record.sha256

    model = zoo.get_model(name, pretrained=True)
    session = onnx_session(path)
    for batch in (1, 7, 64):  # the batch dimension is dynamic
        x = normalize(test_split.images[:batch], channels_last=False)
        onnx_logits = torch.from_numpy(session.run(None, {"images": x.numpy()})[0])
        with torch.inference_mode():
            torch_logits = model(x)
        assert onnx_logits.shape == (batch, 10)
        assert torch.allclose(onnx_logits, torch_logits, rtol=0, atol=LOGIT_ATOL), \
            (onnx_logits - torch_logits).abs().max()
    subset = test_split.subset(AGREEMENT_IMAGES)
    onnx_score, torch_score = score_onnx(path, subset), score(model, subset)
    assert onnx_score.count == AGREEMENT_IMAGES
    # the same confusion matrix but for at most one near tie of 2,000 turned by float rounding in another order
    assert confusion_distance(onnx_score, torch_score) <= 2
    recorded = record.extra["onnx"]  # the figure the README and the card give, scored by `zoo release`
    assert recorded["opset"] == OPSET and abs(recorded["cifar10_test_top1"] - record.top1) <= 0.0005


def test_export_command_writes_the_file_and_refuses_bad_outputs(onnx_runtime, published, tmp_path, cli):
    ok = cli("export", "lenet", "--output", str(tmp_path / "lenet.onnx"))
    assert ok.returncode == 0, ok.stderr
    assert "opset 18" in ok.stdout and (tmp_path / "lenet.onnx").stat().st_size > 400_000
    (tmp_path / "a_file").write_text("")
    for args, message in [((str(tmp_path / "a_file" / "x.onnx"),), "which is not a folder"),
                          ((str(tmp_path),), "is a folder")]:
        bad = cli("export", "lenet", "--output", *args)  # refused while parsing: exit 2, before any export
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    nested = cli("export", "lenet", "--output", str(tmp_path / "new" / "folders" / "x.onnx"))
    assert nested.returncode == 0 and (tmp_path / "new" / "folders" / "x.onnx").is_file(), nested.stderr
    unknown = cli("export", "resnet50")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr


def test_export_without_the_onnx_extra_says_what_to_install(tmp_path):
    run = zoo_command("export", "lenet", "--output", str(tmp_path / "x.onnx"),
                      setup="sys.modules['onnxscript'] = None  # as if not installed")
    assert run.returncode == 1 and "pip install 'cifar10-zoo[onnx]'" in run.stderr, run.stderr
    assert not list(tmp_path.iterdir())
