"""Architectures: tutorial compatibility, torchvision compatibility, input checks, the registry."""
from __future__ import annotations

import pytest
import torch
import zoo
from tests.support.tutorial_models import TutorialLeNet, TutorialQuick
from zoo.models import CifarQuick, LeNet, VGG16CIFAR10

from tests.support import ARCHITECTURE_NAMES


@pytest.mark.parametrize("ours, theirs", [(LeNet, TutorialLeNet), (CifarQuick, TutorialQuick)])
def test_tutorial_state_dicts_load_both_ways_and_compute_the_same(ours, theirs):
    torch.manual_seed(0)
    tutorial, model = theirs(), ours()
    assert {k: v.shape for k, v in tutorial.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    model.load_state_dict(tutorial.state_dict(), strict=True)
    x = torch.randn(8, 3, 32, 32)
    assert torch.equal(model(x), tutorial(x))
    fresh_tutorial = theirs()
    fresh_tutorial.load_state_dict(ours().state_dict(), strict=True)


def test_cifar_quick_keys_are_the_tutorial_ones():
    keys = {k.rsplit(".", 1)[0] for k in CifarQuick().state_dict()}
    assert keys == {"model1.0", "model1.2", "model1.4", "model1.7", "model1.8"}


@pytest.mark.parametrize("name, blocks, params", [("resnet20_cifar10", 3, 269_722), ("resnet56_cifar10", 9, 853_018)])
def test_cifar_resnets_are_the_papers_architecture(name, blocks, params):
    """He et al. (2016) section 4.2: 6n+2 weighted layers, 16/32/64 channels on 32/16/8-pixel maps, option-A
    shortcuts (no parameters), 0.27 M / 0.85 M parameters (the paper's Table 6)."""
    model = zoo.get_model(name).eval()
    assert sum(p.numel() for p in model.parameters()) == params
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(convs) + len(linears) == 6 * blocks + 2  # no 1×1 projection convolutions: option A
    assert all(c.kernel_size == (3, 3) and c.bias is None for c in convs)
    x = torch.relu(model.bn1(model.conv1(torch.randn(2, 3, 32, 32))))
    shapes = {}
    for stage in ("layer1", "layer2", "layer3"):
        x = getattr(model, stage)(x)
        shapes[stage] = tuple(x.shape[1:])
    assert shapes == {"layer1": (16, 32, 32), "layer2": (32, 16, 16), "layer3": (64, 8, 8)}
    assert [len(getattr(model, stage)) for stage in ("layer1", "layer2", "layer3")] == [blocks] * 3
    assert tuple(model.fc.weight.shape) == (10, 64)


def test_option_a_shortcut_subsamples_and_zero_pads_the_new_channels():
    from zoo.models.resnet import BasicBlock

    block = BasicBlock(16, 32, stride=2)
    x = torch.randn(1, 16, 8, 8)
    shortcut = block.shortcut(x)
    assert shortcut.shape == (1, 32, 4, 4)
    assert torch.equal(shortcut[:, 8:24], x[:, :, ::2, ::2])  # the identity, between 8 zero channels on each side
    assert not shortcut[:, :8].any() and not shortcut[:, 24:].any()


def test_vgg_features_match_torchvision_vgg16_bn():
    from torchvision.models import vgg16_bn

    reference = vgg16_bn(weights=None).features.state_dict()
    ours = VGG16CIFAR10().features.state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in reference.items()}
    params = sum(p.numel() for p in VGG16CIFAR10().parameters())
    assert 14_500_000 < params < 15_500_000
    assert VGG16CIFAR10().eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (3, 32, 32), (2, 3, 32)])
def test_wrong_input_shape_says_what_the_model_expects(name, shape):
    model = zoo.get_model(name).eval()
    with pytest.raises(ValueError, match=r"expects a batch of RGB (32x32 )?images shaped \(N, 3, (32, 32\)|H, W\) with "
                                         r"H >= \d+ and W >= \d+)"):
        model(torch.randn(*shape))


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_num_classes_builds_a_fresh_head(name):
    for num_classes in (1, 7, 100):
        assert getattr(zoo, name)(num_classes=num_classes).eval()(torch.randn(2, 3, 32, 32)).shape == (2, num_classes)


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(ValueError, match="Unknown model 'resnet50'. Available models: airbench94_cifar10, "
                                         "airbench95_cifar10, cifar_quick, lenet, "):
        zoo.get_model("resnet50")
    assert {"cifar_quick", "lenet", "vgg16_cifar10"} <= set(zoo.list_models())  # the tutorials' three, at least


def test_every_model_module_registers_an_entry_point_that_builds_it():
    """A model file in zoo/models/ is found by the registry and becomes zoo.NAME, the hub's NAME and a CLI choice."""
    import importlib
    import pkgutil

    from zoo.cli import build_parser
    from zoo.models import ARCHITECTURES

    modules = [m.name for m in pkgutil.iter_modules(importlib.import_module("zoo.models").__path__)
               if not m.name.startswith("_") and m.name != "registry"]
    registered_by = {importlib.import_module(arch.build.__module__).__name__ for arch in ARCHITECTURES.values()}
    assert registered_by == {f"zoo.models.{m}" for m in modules}  # every module registers, nothing else does
    for name, arch in ARCHITECTURES.items():
        model = getattr(zoo, name)()
        assert type(model) is type(arch.build()) and arch.description in getattr(zoo, name).__doc__
        assert build_parser().parse_args(["evaluate", name]).model == name
