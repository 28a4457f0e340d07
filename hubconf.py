"""Torch Hub entry points of zoo: ``torch.hub.load("org/zoo", "lenet", pretrained=True)``."""
import zoo as _zoo

dependencies = ["torch", "torchvision", "safetensors", "huggingface_hub"]


def cifar_quick(pretrained: bool = False, **kwargs):
    return _zoo.cifar_quick(pretrained=pretrained, **kwargs)


def lenet(pretrained: bool = False, **kwargs):
    return _zoo.lenet(pretrained=pretrained, **kwargs)


def vgg16_cifar10(pretrained: bool = False, **kwargs):
    return _zoo.vgg16_cifar10(pretrained=pretrained, **kwargs)


cifar_quick.__doc__ = _zoo.cifar_quick.__doc__
lenet.__doc__ = _zoo.lenet.__doc__
vgg16_cifar10.__doc__ = _zoo.vgg16_cifar10.__doc__
