"""The training recipe type: every hyper-parameter of a published checkpoint, in code, versioned. Each model file
holds its own recipe (``register_model(..., recipe=...)``); :mod:`zoo.recipes` is the catalogue of them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..errors import RecipeError

# Jordan (2024)'s lr shape, as fractions of the peak: from TRIANGLE[0] up to 1 over the first TRIANGLE[1] of the
# steps, then down to TRIANGLE[2] at the last step.
TRIANGLE = (0.2, 0.23, 0.07)


@dataclass(frozen=True)
class Recipe:
    """One training recipe. ``python -m zoo.train NAME`` runs ``RECIPES[NAME]`` unchanged."""

    model: str
    version: int
    epochs: int
    batch_size: int
    lr: float  # peak learning rate of the one-cycle schedule
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_fraction: float = 0.25  # share of steps rising to ``lr`` (torch OneCycleLR, linear, default divisors)
    crop_padding: int = 4  # random crop of a ``crop_padding``-padded image; 0 disables it
    flip: bool = True
    cutout: int = 0  # side of the square that Cutout sets to the mean colour; 0 disables it
    seed: int = 0
    precision: str = "fp32"  # "fp32" or "bf16" (autocast)
    threads: int = 2
    ema_decay: float = 0.0  # 0 disables the exponential moving average of the weights
    weights_dtype: str = "float32"  # storage precision of the published file; loading always gives float32
    # Jordan (2024)'s methods (arXiv 2404.00498); the defaults leave a recipe as it was before them.
    schedule: str = "one-cycle"  # "one-cycle": torch's OneCycleLR, linear; "triangle": TRIANGLE below
    norm_bias_lr_scale: float = 1.0  # batch norms' biases train at lr × this, with weight decay ÷ this
    drop_last: bool = False  # drop each epoch's last, smaller batch: every step sees batch_size images
    crop_fill: str = "zeros"  # what a crop's padding holds: "zeros", or "reflect" (the mirrored border)
    flip_mode: str = "random"  # "random": p = 1/2 each epoch; "alternating": random in epoch 1, then the opposite
    lookahead_every: int = 0  # Lookahead every K steps on Jordan's schedule (zoo.loop.Lookahead); 0: none
    tta: str = "none"  # test-time augmentation also recorded for the final model: "none" or "multi-crop"

    # Settings that only shape the exported file or what is scored: a checkpoint may be resumed with other values.
    EXPORT_ONLY = frozenset({"weights_dtype", "tta"})

    def __post_init__(self) -> None:
        rules = [("epochs", self.epochs >= 1, ">= 1"), ("batch_size", self.batch_size >= 1, ">= 1"),
                 ("lr", 0 < self.lr < float("inf"), "> 0"), ("weight_decay", 0 <= self.weight_decay < float("inf"), ">= 0"),
                 ("label_smoothing", 0 <= self.label_smoothing < 1, "in [0, 1)"),
                 ("warmup_fraction", 0 < self.warmup_fraction < 1, "in (0, 1)"),
                 ("crop_padding", self.crop_padding >= 0, ">= 0"), ("cutout", self.cutout >= 0, ">= 0"),
                 ("seed", self.seed >= 0, ">= 0"), ("threads", self.threads >= 1, ">= 1"),
                 ("ema_decay", 0 <= self.ema_decay < 1, "in [0, 1)"),
                 ("precision", self.precision in ("fp32", "bf16"), "'fp32' or 'bf16'"),
                 ("weights_dtype", self.weights_dtype in ("float32", "float16", "bfloat16"),
                  "'float32', 'float16' or 'bfloat16'"),
                 ("schedule", self.schedule in ("one-cycle", "triangle"), "'one-cycle' or 'triangle'"),
                 ("norm_bias_lr_scale", 0 < self.norm_bias_lr_scale < float("inf"), "> 0"),
                 ("crop_fill", self.crop_fill in ("zeros", "reflect"), "'zeros' or 'reflect'"),
                 ("flip_mode", self.flip_mode in ("random", "alternating"), "'random' or 'alternating'"),
                 ("lookahead_every", self.lookahead_every >= 0, ">= 0"),
                 ("tta", self.tta in ("none", "multi-crop"), "'none' or 'multi-crop'")]
        wrong = [f"{name}={getattr(self, name)!r} (must be {rule})" for name, ok, rule in rules if not ok]
        if wrong:
            raise RecipeError(f"recipe for {self.model!r} cannot run: {', '.join(wrong)}")

    def with_overrides(self, **overrides: Any) -> "Recipe":
        """A copy with the non-``None`` overrides applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def training_dict(self) -> dict[str, Any]:
        """The settings that decide the trained weights (what a resumed checkpoint must agree with)."""
        return {k: v for k, v in asdict(self).items() if k not in self.EXPORT_ONLY}

    def differences(self, other: "Recipe", training_only: bool = False) -> dict[str, tuple[Any, Any]]:
        """Each setting in which this recipe and ``other`` differ, as ``{key: (this value, other's value)}`` in the
        recipe's order; ``training_only`` leaves out the settings that do not decide the trained weights."""
        mine, theirs = (self.training_dict(), other.training_dict()) if training_only else (self.to_dict(), other.to_dict())
        return {key: (value, theirs[key]) for key, value in mine.items() if theirs[key] != value}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Recipe":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
