"""The architecture registry: each model module registers its builder, and the recipe that trains it, with
``@register_model``; everything else in zoo (hub entry points, CLI choices, recipes, cards, tests, benchmarks) reads
:data:`ARCHITECTURES`."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from torch import nn

if TYPE_CHECKING:
    from ._recipe import Recipe


@dataclass(frozen=True)
class Architecture:
    """A registered model: its name (the builder's), the builder, the sentence that describes it (the hub entry
    point's docstring and the model card start with it) and the recipe ``python -m zoo.train NAME`` runs (none for
    an architecture registered without one)."""

    name: str
    build: Callable[..., nn.Module]
    description: str
    recipe: Recipe | None = None
    reference: str = ""  # the paper (or tutorial) the architecture comes from, as its card cites it


ARCHITECTURES: dict[str, Architecture] = {}


def register_model(description: str, recipe: Recipe | None = None, reference: str = ""
                   ) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator for a builder ``NAME(num_classes: int = 10) -> nn.Module``: registers it as model ``NAME``, trained
    by ``recipe`` (whose ``model`` must be ``NAME``); ``reference`` is the work its card cites."""
    def register(build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if build.__name__ in ARCHITECTURES:
            raise RuntimeError(f"two zoo architectures are named {build.__name__!r}")
        if recipe is not None and recipe.model != build.__name__:
            raise RuntimeError(f"the recipe registered with {build.__name__!r} trains {recipe.model!r}")
        ARCHITECTURES[build.__name__] = Architecture(build.__name__, build, " ".join(description.split()), recipe,
                                                     " ".join(reference.split()))
        return build
    return register


def import_model_modules() -> None:
    """Import every public module of ``zoo.models``: adding a model is adding its file, nothing else."""
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and module.name != "registry":
            importlib.import_module(f"{__package__}.{module.name}")
