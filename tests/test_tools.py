"""Every model fits the tools users already use: timm's classifier surface and fine-tuning in one argument, FX feature
extraction, TorchScript, torch.export and torch.compile agreeing with eager, and the image sizes each one takes."""
from __future__ import annotations

import json
import logging

import pytest
import torch
import zoo

from tests.support import ARCHITECTURE_NAMES, ONE_PER_MODEL_FILE, PUBLISHED_NAMES, run_python


def _model(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = zoo.get_model(name).eval()
    with torch.no_grad():  # batch norms with statistics of their own: eval mode computes something non-trivial
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model


def _images(height: int = 32, width: int = 32) -> torch.Tensor:
    return torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(1))


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_features_head_and_classifier_compose_to_the_logits(name):
    model, x = _model(name), _images()
    logits = model(x)
    features = model.forward_features(x)
    assert features.dim() == 4 and features.shape[:2] == (2, model.num_features)
    pre_logits = model.forward_head(features, pre_logits=True)
    assert pre_logits.shape == (2, model.head_hidden_size)
    classifier = model.get_classifier()
    assert isinstance(classifier, torch.nn.Linear) and classifier.in_features == model.head_hidden_size
    assert torch.equal(model.forward_head(features), logits)
    # the classifier is the last step: what it makes of the pre-logits ranks the classes as the logits do
    assert torch.equal(classifier(pre_logits).argmax(1), logits.argmax(1))


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_reset_classifier_replaces_the_last_layer_only_and_keeps_the_names(name):
    model = _model(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    new = model.reset_classifier(5)
    assert new is model.get_classifier() and new.out_features == 5
    assert model(_images()).shape == (2, 5)
    after = model.state_dict()
    assert after.keys() == before.keys()  # the same parameter names (tutorial state_dicts keep loading)
    changed = {k for k in before if before[k].shape != after[k].shape or not torch.equal(before[k], after[k])}
    assert changed == {f"{model.classifier_name}.{p}" for p, _ in new.named_parameters()}
    with pytest.raises(ValueError, match="num_classes must be 1 or more"):
        model.reset_classifier(0)


@pytest.mark.parametrize("name", PUBLISHED_NAMES)
def test_pretrained_with_other_num_classes_is_the_pretrained_body_and_a_new_head(name, caplog):
    pretrained = zoo.get_model(name, pretrained=True)
    with caplog.at_level(logging.WARNING, logger="zoo"):
        model = zoo.get_model(name, pretrained=True, num_classes=3)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("zoo")]
    assert len(lines) == 1 and model.classifier_name in lines[0] and "Linear" in lines[0], lines
    assert model.get_classifier().out_features == 3 and model(_images()).shape == (2, 3)
    head = model.classifier_name + "."
    ours, theirs = model.state_dict(), pretrained.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs if not k.startswith(head))
    assert not model.training  # pretrained models come back in eval mode, as with num_classes=10


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_fx_feature_extraction_on_every_node_agrees_with_eager(name):
    from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

    model, x = _model(name), _images()
    nodes = get_graph_node_names(model)[1]
    outputs = create_feature_extractor(model, return_nodes=nodes)(x)
    assert set(outputs) == set(nodes)
    assert _close(outputs[nodes[-1]], model(x))
    features = model.forward_features(x)
    assert any(isinstance(out, torch.Tensor) and _close(out, features) for out in outputs.values())


_SCRIPT_EVERY_ARCHITECTURE = """
import torch
from tests.test_tools import ARCHITECTURE_NAMES, _close, _images, _model
for name in ARCHITECTURE_NAMES:
    model, x = _model(name), _images()
    assert _close(torch.jit.script(model)(x), model(x)), name
"""


def test_torchscript_scripts_every_architecture_and_agrees_with_eager():
    # In an interpreter of its own, where nothing has compiled yet: TorchScript looks builtins up by id() in a table
    # (torch/jit/_builtins.py) that keeps the ids of ops torch.library re-registers and frees (inductor's freezing
    # does, in tests/test_fast.py), so after it a new object can take a freed op's address and be taken for that op,
    # by chance: "builtin cannot be used as a value" at Conv2d's padding list (torch 2.6, CI, after test_fast.py).
    run = run_python(_SCRIPT_EVERY_ARCHITECTURE)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")  # (torch 2.13 on) but works
@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_trace_export_and_compile_agree_with_eager(name):
    model, x = _model(name), _images()
    expected = model(x)
    assert _close(torch.jit.trace(model, x)(x), expected)
    assert _close(torch.export.export(model, (x,)).module()(x), expected)
    torch._dynamo.reset()
    # fullgraph: one graph, no break (the eager input check stays out); the "eager" backend runs dynamo's graph as
    # it captured it, without inductor's minutes of code generation (the fast path's tests compile with inductor)
    assert _close(torch.compile(model, fullgraph=True, backend="eager")(x), expected)
    with pytest.raises(ValueError, match="raw pixels"):  # and the eager model still says what is wrong
        model(x.to(torch.uint8))


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_input_sizes_are_what_the_architecture_allows(name):
    model = _model(name)
    size = model.input_size
    low_h, low_w = size.min_size
    assert model(_images(low_h, low_w)).shape == (2, 10)
    for h, w in [(low_h - 1, low_w), (low_h, low_w - 1)]:  # just below: refused with the architecture's reason
        with pytest.raises(ValueError, match=rf"got \(2, 3, {h}, {w}\): .*{size.why[:30]}"):
            model(_images(h, w))
    if size.any_size:
        for h, w in [(28, 28), (64, 64), (40, 56), (224, 224)]:
            assert model(_images(h, w)).shape == (2, 10)
        # and the minimum is the architecture's: below it the layers themselves fail
        with pytest.raises(RuntimeError):
            model.forward_head(model.forward_features(_images(max(low_h - 1, 0), low_w)))
    else:
        assert size.min_size == (32, 32)
        with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\), got \(2, 3, 64, 64\): "):
            model(_images(64, 64))
        with pytest.raises(RuntimeError):  # the refusal is the architecture's: the layers cannot take 64x64
            model.forward_head(model.forward_features(_images(64, 64)))


@pytest.mark.parametrize("name", PUBLISHED_NAMES)
def test_records_say_the_sizes_the_models_take(name):
    record = zoo.get_weights(name)
    entry = record.extra["input_size"]
    size = zoo.get_model(name).input_size
    assert (tuple(entry["min_size"]), entry["any_size"]) == (size.min_size, size.any_size)
    if size.any_size:  # and what to expect at twice the size: less than at the trained size, better than chance
        assert 0.1 < entry["cifar10_test_top1_64px"] < record.top1
    else:
        assert "cifar10_test_top1_64px" not in entry


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ONE_PER_MODEL_FILE if zoo.get_model(n).input_size.any_size])
def test_the_64px_figure_is_what_zoo_evaluate_measures(name, data_dir, cli):
    entry = zoo.get_weights(name).extra["input_size"]
    done = cli(*entry["command"].split()[1:] + ["--json", "--data-dir", str(data_dir)])
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)["top1"]
    if zoo.machine_class().differences(entry["machine_class"]):  # other kernels: a few pictures may turn
        assert abs(measured - entry["cifar10_test_top1_64px"]) <= 0.002
        pytest.skip(f"recorded on another machine class: {measured} here, {entry['cifar10_test_top1_64px']} there")
    assert measured == entry["cifar10_test_top1_64px"]


def test_transforms_preset_takes_pil_images_and_tensors_alike():
    from PIL import Image

    preset = zoo.get_weights(PUBLISHED_NAMES[0]).transforms_preset()
    pixels = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    picture = Image.fromarray(pixels.permute(1, 2, 0).numpy())
    from_pil = preset(picture)
    assert type(from_pil) is torch.Tensor and from_pil.dtype == torch.float32 and from_pil.shape == (3, 32, 32)
    assert torch.equal(preset(pixels), from_pil)  # uint8 tensor
    assert torch.allclose(preset(pixels.float() / 255), from_pil, atol=1e-6)  # floats in [0, 1]
    assert torch.equal(preset(pixels[None].repeat(4, 1, 1, 1)), from_pil[None].repeat(4, 1, 1, 1))  # a batch
    large = torch.randint(0, 256, (3, 96, 64), dtype=torch.uint8)
    assert preset(large).shape == (3, 32, 32) and preset(Image.fromarray(large.permute(1, 2, 0).numpy())).shape == (
        3, 32, 32)


@pytest.mark.parametrize("name", sorted(set(ARCHITECTURE_NAMES) - set(PUBLISHED_NAMES)))
def test_the_hub_offers_pretrained_weights_only_where_they_are_published(name):
    assert "No published weights yet" in getattr(zoo, name).__doc__  # what torch.hub.help shows
    with pytest.raises(ValueError, match=f"'{name}' has no published weights yet .* Build it untrained"):
        zoo.get_model(name, pretrained=True)
