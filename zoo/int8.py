"""Post-training static int8 quantization for x86 CPUs: ``zoo.quantize(model, calibration)``, ``zoo quantize NAME``.

The PT2E flow torch 2.13 recommends (the eager/FX ``torch.ao.quantization`` APIs are deprecated): ``torch.export``
with a dynamic batch, ``prepare_pt2e`` with torchao's ``X86InductorQuantizer``, calibration, ``convert_pt2e``, then
``torch.compile`` (inductor, constant folding via ``freezing``) turns the quantize/dequantize pairs into int8
oneDNN kernels (VNNI where the CPU has it). The scheme, in the tutorials' terms:

- **weights**: int8, **per output channel, symmetric** (zero point 0). Trained weights are centred on zero, so a zero
  point would buy nothing and would add cross terms to every integer dot product; one scale per output channel,
  because channel ranges differ many-fold.
- **activations**: uint8, **per tensor, asymmetric** (scale and zero point). Inputs of convolutions and linears
  are mostly post-ReLU (all ≥ 0) or skewed; a zero point maps the observed [min, max] onto the full 0…255 instead of
  wasting half the codes on values that never occur. Ranges come from histogram observers (which trim outliers to
  minimise quantization error) on the calibration images.
  On a CPU without VNNI the codes are 0…127 (:func:`activation_max`): oneDNN's int8 kernels there would saturate.

Calibration is deterministic: the first :data:`CALIBRATION_IMAGES` CIFAR-10 *training* images, unaugmented (never
test images). Its result — the observers' statistics — is stored as safetensors next to the published weights
(``weights/NAME/int8_calibration.safetensors``, sha256 in the manifest), so ``zoo.quantized_model(NAME)`` builds the
int8 model offline from two verified files without any data and without unpickling anything.
Needs ``torchao`` (``pip install 'cifar10-zoo[int8]'``) and, for compiled int8 kernels, a C++ compiler.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .api import get_model, get_weights
from .data import Split, load_cifar10, load_cifar10_test, normalize
from .errors import InputError, InputTypeError, ZooError, require_extra
from .fast import inductor_freezing
from .manifest import INT8_KEY, WeightsRecord
from .metrics import Score, score_runtime
from .models._input import check_cifar_input, check_module
from .weights import sha256_bytes

CALIBRATION_IMAGES = 512
CALIBRATION_FILE = "int8_calibration.safetensors"
RECORD_KEY = INT8_KEY  # the manifest record's entry for the int8 model


def _pt2e():
    """torchao's PT2E entry points and the x86 quantizer, or a ZooError naming the extra to install."""
    import logging

    pytree_log = logging.getLogger("torch.utils._pytree")
    level = pytree_log.level
    pytree_log.setLevel(logging.ERROR)  # torchao's import warns about a torch deprecation users can do nothing about
    try:
        require_extra("int8 quantization", "torchao", extra="int8")
    finally:
        pytree_log.setLevel(level)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as x86

    config = x86.get_default_x86_inductor_quantization_config(reduce_range=activation_max() < 255)
    quantizer = x86.X86InductorQuantizer().set_global(config)
    return prepare_pt2e, convert_pt2e, quantizer


def activation_max() -> int:
    """The largest uint8 code activations get on this CPU: 255, or 127 where it has no VNNI.

    Without VNNI, oneDNN's int8 convolutions add pairs of uint8 x int8 products into int16 (``vpmaddubsw``), which
    saturates once activations use all eight bits: lenet's compiled int8 model scored 63.73 % instead of 82.12 % on
    an AMD EPYC family 23 (AVX2, no VNNI). Seven-bit activations (torchao's ``reduce_range``, what fbgemm did on
    such CPUs) keep every pair sum in range; the published calibration statistics serve both ranges."""
    from .machine import machine_class

    return 255 if machine_class().vnni else 127


def scheme() -> str:
    """The quantization scheme on this CPU, in the words the record and the card use."""
    bits = "" if activation_max() == 255 else ", 7-bit codes (0-127: this CPU has no VNNI)"
    return f"weights int8 per-channel symmetric; activations uint8 per-tensor affine{bits} (histogram observer)"


def check_compiler() -> None:
    """Compiled int8 kernels are C++ that inductor builds at first use: say so now if no compiler is there."""
    from .machine import missing_cpp_compiler

    if (reason := missing_cpp_compiler()) is not None:
        raise ZooError(f"int8 inference compiles its kernels with a C++ compiler (torch inductor), which cannot run "
                       f"here: {reason}. Install a compiler (e.g. `apt install g++`, or set CXX) where none is, or pass "
                       "compile=False for the uncompiled reference model (same arithmetic, far slower)")


def prepare(model: nn.Module) -> torch.fx.GraphModule:
    """The model exported with a dynamic batch and instrumented with observers (``prepare_pt2e``)."""
    prepare_pt2e, _, quantizer = _pt2e()
    example = torch.zeros(2, 3, 32, 32)
    with torch.inference_mode(False), torch.no_grad():
        exported = torch.export.export(model.eval(), (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    return prepare_pt2e(exported.module(), quantizer)


def observer_state(prepared: torch.fx.GraphModule) -> dict[str, torch.Tensor]:
    """What calibration learned: every observer's buffers (ranges, histograms), nothing else."""
    return {k: v.detach().clone().contiguous() for k, v in prepared.state_dict().items() if "activation_post_process" in k}


def calibrate(model: nn.Module, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Observer statistics of ``model`` on ``images`` (normalised float, ``(N, 3, 32, 32)``)."""
    check_calibration_images(images)
    prepared = prepare(model)
    _observe(prepared, images)
    return observer_state(prepared)


_CPU_FLOAT32 = torch.empty(0)  # what the int8 graphs take: float32 images on the CPU


def check_calibration_images(images) -> None:
    """Calibration images: a float32 CPU batch ``(N, 3, 32, 32)`` with N >= 1 (no images, no ranges to learn)."""
    check_cifar_input(images, "calibration", like=_CPU_FLOAT32)
    if len(images) == 0:
        raise InputError("an empty calibration set: the int8 ranges are learnt from images; pass at least one (zoo "
                         f"publishes with {CALIBRATION_IMAGES} training images)")
    if not bool(torch.isfinite(images).all()):
        raise InputError("the calibration images hold NaN or infinite values: the int8 ranges would be meaningless")


def _observe(prepared: torch.fx.GraphModule, images: torch.Tensor, batch_size: int = 256) -> None:
    """Run ``images`` through the observers of a prepared model (in batches)."""
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            prepared(images[start:start + batch_size].contiguous())


def quantize(model: nn.Module, calibration: torch.Tensor | dict[str, torch.Tensor], compile: bool = True) -> nn.Module:
    """The int8 version of ``model`` (float, on the CPU): ``calibration`` is normalised images ``(N, 3, 32, 32)`` to
    calibrate on, or observer statistics from :func:`calibrate` / a published calibration file.

    With ``compile=True`` (default) the result runs int8 kernels through ``torch.compile`` (needs a C++ compiler);
    ``compile=False`` returns the converted reference graph (quantize/dequantize around float ops: same numbers up to
    rounding, slow), for inspection or where no compiler is.
    """
    check_module(model, "quantize")
    if not isinstance(calibration, (torch.Tensor, dict)):
        raise InputTypeError(f"calibration must be images (a tensor) or observer statistics (a dict), not "
                             f"{type(calibration).__name__}")
    if isinstance(calibration, torch.Tensor):
        check_calibration_images(calibration)  # before the export and the compiler check: said at once
    _, convert_pt2e, _ = _pt2e()
    if compile:
        check_compiler()
    # Export and calibration need ordinary tensors: under a caller's inference_mode they would be inference tensors.
    with torch.inference_mode(False):
        if any(t.is_inference() for t in model.state_dict().values()):  # a model built under inference_mode
            model = copy.deepcopy(model)  # (copied outside it: ordinary tensors, same values)
        prepared = prepare(model)
        if isinstance(calibration, torch.Tensor):
            _observe(prepared, calibration.clone() if calibration.is_inference() else calibration)
        elif set(calibration) == set(observer_state(prepared)):  # (shapes differ before calibration: observers resize)
            prepared.load_state_dict({k: v.clone() if v.is_inference() else v for k, v in calibration.items()},
                                     strict=False)
        else:
            raise ZooError("these calibration statistics do not fit this model's observers (another model, or another "
                           "torch/torchao version numbering them differently): calibrate again with "
                           "zoo.quantize(model, images) or `zoo quantize NAME`")
        converted = convert_pt2e(prepared)
    return CompiledInt8(converted) if compile else converted


class CompiledInt8(nn.Module):
    """A converted PT2E graph run through ``torch.compile`` with inductor's ``freezing`` (constant-folds the weight
    quantization so the int8 weights are packed once), set only around this model's calls."""

    def __init__(self, converted: torch.fx.GraphModule) -> None:
        super().__init__()
        self.converted = converted
        self.compiled = torch.compile(converted)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_cifar_input(x, "the int8 model", like=_CPU_FLOAT32)

        with inductor_freezing(), torch.no_grad():
            return self.compiled(x)


def calibration_images(data_dir: str | None = None) -> torch.Tensor:
    """The recorded calibration set: the first :data:`CALIBRATION_IMAGES` training images, unaugmented, normalised."""
    train = load_cifar10(data_dir, train=True).subset(CALIBRATION_IMAGES)
    return normalize(train.images, channels_last=False)


def calibration_record(record: WeightsRecord) -> WeightsRecord:
    """The published record pointed at its calibration file (same repo and revision), for the weights resolver."""
    entry = record.extra.get(RECORD_KEY)
    if not entry:
        raise ZooError(f"{record.name!r} has no published int8 calibration: run `zoo quantize {record.name} --record` "
                       "in a clone, or quantize it yourself with zoo.quantize(model, images)")
    return record.companion(entry["calibration"])


def quantized_model(name: str, compile: bool = True) -> nn.Module:
    """Published model ``name`` in int8: its verified float weights plus its verified calibration file; offline."""
    from safetensors.torch import load as load_safetensors

    from .weights import resolve, verified_bytes

    calibration = calibration_record(get_weights(name))
    with torch.inference_mode(False):  # model and statistics of ordinary tensors, whatever the caller's mode
        state = load_safetensors(verified_bytes(calibration, resolve(calibration)))
        return quantize(get_model(name, pretrained=True), state, compile=compile)


def score_int8(model: nn.Module, split: Split) -> Score:
    """Score an int8 model on every image of ``split`` (batches of 256: few shapes for the compiled graph)."""
    return score_runtime(model, split, batch_size=256)


def calibration_release(name: str, data_dir: str | None = None) -> tuple[bytes, dict]:
    """Calibrate ``name`` on the recorded images and score float and int8 on the whole test set: the calibration
    file's bytes (``weights/NAME/int8_calibration.safetensors``) and the record's ``int8`` entry describing them."""
    import importlib.metadata

    from safetensors.torch import save

    from .machine import machine_class

    test = load_cifar10_test(data_dir, f"publishing the int8 figures of {name}")
    float_model = get_model(name, pretrained=True)
    state = calibrate(float_model, calibration_images(data_dir))
    data = save(dict(sorted(state.items())))
    int8 = score_int8(quantize(float_model, state), test)
    entry = {
        "calibration": {"filename": CALIBRATION_FILE, "sha256": sha256_bytes(data), "file_size": len(data),
                        "images": f"CIFAR-10 training images 0-{CALIBRATION_IMAGES - 1}, unaugmented"},
        "scheme": scheme(),
        "metrics": {"cifar10_test_top1": int8.top1, "cifar10_test_per_class": int8.per_class},
        "torch": torch.__version__, "torchao": importlib.metadata.version("torchao"),
        "machine_class": machine_class().to_dict(),
        "command": f"zoo quantize {name} --record",
    }
    return data, entry
