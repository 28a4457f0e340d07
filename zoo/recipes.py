"""The recipes of the registered models, by name: ``RECIPES[NAME]`` is what ``python -m zoo.train NAME`` runs.
Each recipe lives in its model's file (:mod:`zoo.models`), beside the architecture it trains; the type is
:class:`Recipe`."""
from __future__ import annotations

from .errors import UnknownModelError
from .models import ARCHITECTURES
from .models._recipe import TRIANGLE, Recipe

__all__ = ["OVERRIDABLE", "RECIPES", "TRIANGLE", "Recipe", "get_recipe", "regenerate_command"]

RECIPES: dict[str, Recipe] = {name: architecture.recipe for name, architecture in ARCHITECTURES.items()
                              if architecture.recipe is not None}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise UnknownModelError(f"No training recipe for {name!r}. Available: {', '.join(sorted(RECIPES))}.")
    return RECIPES[name]


# The settings a command line may change (``zoo train NAME --epochs 3``); each is a Recipe field.
OVERRIDABLE = ("epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "seed", "threads", "precision", "cutout",
               "ema_decay", "weights_dtype")


def regenerate_command(recipe: Recipe, device: str = "cpu", accum_steps: int = 1) -> str:
    """The shortest command that trains ``recipe`` again: the settings that differ from the published recipe, the
    device and the gradient accumulation (flags that only say where files go are left out)."""
    published = get_recipe(recipe.model)
    parts = ["python", "-m", "zoo.train", recipe.model]
    for name in OVERRIDABLE:
        if getattr(recipe, name) != getattr(published, name):
            parts += [f"--{name.replace('_', '-')}", str(getattr(recipe, name))]
    if device != "cpu":
        parts += ["--device", device]
    if accum_steps != 1:
        parts += ["--accum-steps", str(accum_steps)]
    return " ".join(parts)
