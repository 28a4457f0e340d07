"""The fast CPU inference path keeps the published accuracy and agrees with the plain model."""
from __future__ import annotations

import copy

import pytest
import torch

import zoo
from tests.support import AGREEMENT_IMAGES, ONE_PER_MODEL_FILE, REPO, run_python
from zoo.data import normalize


@pytest.mark.slow
@pytest.mark.parametrize("name", ONE_PER_MODEL_FILE)
def test_fast_path_predicts_as_the_plain_model(name, published, test_split):
    """On the first test images the fast path (bf16 where the CPU has it natively) predicts as the plain fp32 model but
    for near ties, which turn either way: at most 1 % of the predictions differ and its top-1 is the plain model's
    within half a point there. Measured on the first 2,000 (Intel AMX class, bf16): 1 (airbench94), 6 (cifar_quick),
    1 (lenet), 3 (ResNet-20), 1 (VGG-16) predictions differ, top-1 +1, +3, 0, +1, −1 images; on all 10,000, 7 to 24
    differ (onnxruntime and OpenVINO f32: none)."""
    if name not in published:
        pytest.skip(f"{name} is not published")
    subset = test_split.subset(AGREEMENT_IMAGES)
    model = zoo.get_model(name, pretrained=True)
    fast = zoo.prepare_for_cpu_inference(zoo.get_model(name, pretrained=True))
    plain_predictions, fast_predictions = [], []
    for start in range(0, len(subset), 500):
        x = normalize(subset.images[start:start + 500], channels_last=False)
        with torch.no_grad():
            plain_predictions.append(model(x).argmax(1))
        fast_predictions.append(fast(x).argmax(1))
    plain, quick = torch.cat(plain_predictions), torch.cat(fast_predictions)
    assert (plain == quick).double().mean().item() >= 0.99
    correct_plain, correct_fast = int((plain == subset.labels).sum()), int((quick == subset.labels).sum())
    assert abs(correct_fast - correct_plain) <= len(subset) // 200, (correct_plain, correct_fast)


def test_fast_path_checks_input_like_the_model():
    fast = zoo.prepare_for_cpu_inference(zoo.lenet(), compile=False)
    with pytest.raises(ValueError, match="expects a batch of RGB 32x32 images"):
        fast(torch.randn(1, 1, 32, 32))
    assert fast(torch.randn(2, 3, 32, 32)).dtype == torch.float32


@pytest.mark.parametrize("name", ["lenet", "vgg16_cifar10"])
def test_fast_path_picks_its_options_for_this_machine(name):
    native = zoo.machine_class().native_bf16
    fast = zoo.prepare_for_cpu_inference(zoo.get_model(name), compile=False)
    assert fast.bf16 == native
    # lenet's narrow convolutions run faster in NCHW in fp32; VGG-16 needs channels_last at batch 1, and its
    # pre-packed weights (freezing) halve its single-image latency
    assert fast.channels_last == (native or name == "vgg16_cifar10")
    assert fast.freezing == (name == "vgg16_cifar10")
    assert zoo.prepare_for_cpu_inference(zoo.get_model(name), bf16=False, channels_last=False, compile=False).bf16 is False


def test_freezing_prepacks_the_weights_and_keeps_the_logits():
    """``freezing=True`` must reach dynamo, not inductor alone: as a torch.compile option it froze nothing (the
    convolutions stayed aten's, unpacked), which benchmarks/investigations/levers.py once measured as "frozen"."""
    torch.manual_seed(0)
    model = zoo.lenet().eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        reference = model(x)

    def convolutions(fast) -> set[str]:
        fast(x)  # compiles
        with torch.profiler.profile() as profile:
            logits = fast(x)
        assert torch.allclose(logits, reference, atol=1e-4)
        return {event.key for event in profile.key_averages() if "conv" in event.key.lower()}

    frozen = convolutions(zoo.prepare_for_cpu_inference(copy.deepcopy(model), bf16=False, freezing=True))
    assert torch._inductor.config.freezing is False  # restored after the call
    unfrozen = convolutions(zoo.prepare_for_cpu_inference(copy.deepcopy(model), bf16=False))
    # frozen, the graph calls oneDNN's convolution on weights packed once; unfrozen, aten's convolution
    assert "mkldnn::_convolution_pointwise" in frozen and not any(key.startswith("aten::") for key in frozen), frozen
    assert "aten::_convolution" in unfrozen, unfrozen


def test_freezing_stays_on_while_any_caller_is_inside():
    """Two threads calling frozen models overlap: the first to leave must not switch freezing off under the other's
    compile, and the last to leave restores the setting from before (not leave it on for every later compile)."""
    from zoo.fast import inductor_freezing

    first, second = inductor_freezing(), inductor_freezing()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first caller leaves while the second is still inside
    assert torch._inductor.config.freezing is True
    second.__exit__(None, None, None)
    assert torch._inductor.config.freezing is False


def test_small_batches_run_in_fp32_even_where_bf16_is_chosen():
    from zoo.fast import BF16_MIN_BATCH

    torch.manual_seed(0)
    model = zoo.lenet().eval()
    fast = zoo.prepare_for_cpu_inference(model, bf16=True, compile=False)
    x = torch.randn(BF16_MIN_BATCH, 3, 32, 32)
    with torch.no_grad():
        reference = model(x)
    small, large = fast(x[:BF16_MIN_BATCH - 1]), fast(x)
    assert torch.allclose(small, reference[:BF16_MIN_BATCH - 1], atol=1e-5)  # fp32: equal up to kernel order
    assert (large - reference).abs().max() > 1e-4  # bf16: rounded


def test_without_a_cpp_compiler_the_fast_path_runs_eagerly_and_says_so_in_one_line():
    code = """
import torch, zoo
torch.manual_seed(0)
model = zoo.lenet().eval()
x = torch.randn(4, 3, 32, 32)
fast = zoo.prepare_for_cpu_inference(model, bf16=False)
with torch.no_grad():
    print(torch.equal(fast(x), model(x)), type(fast.model).__name__)
"""
    run = run_python(code, REPO, {"CXX": "/nonexistent/c++"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "LeNet"]  # eager: the model itself, same numbers
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no C++ compiler" in lines[0] and "runs eagerly" in lines[0], run.stderr
