"""Classifying your own pictures (``zoo predict``): reading any image Pillow opens as 8-bit RGB, and top-k.

Any file Pillow opens (any size; grayscale, RGBA, palette, 16-bit and float; JPEG, PNG, TIFF, …) becomes 8-bit RGB —
high-bit-depth and float pixels scaled, not clipped — and is resized to 32×32 the way the checkpoint's transform
says (shorter side to 32, centre crop); then all images go through the model as one batch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from .errors import InputError, ZooError


class ImageError(ZooError, ValueError):
    """A file that is not an image zoo can read (missing, unreadable, not an image, too large)."""


@dataclass(frozen=True)
class Prediction:
    file: str
    top: list[tuple[str, float]]

    def to_dict(self) -> dict:
        return {"file": self.file, "top": [{"label": label, "prob": round(prob, 6)} for label, prob in self.top]}


def open_rgb(path: str | os.PathLike):
    """The image at ``path`` as 8-bit RGB, upright (EXIF orientation applied, as a phone photo is shown); transparent
    areas are composited on white, as a viewer shows them. :class:`ImageError` if it is not a readable image."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            image.load()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: refused, too many pixels to be a picture to classify ({error})") from None
    except (OSError, ValueError, SyntaxError, MemoryError) as error:  # UnidentifiedImageError, truncated, damaged
        raise ImageError(f"{path}: not an image Pillow can read ({type(error).__name__}: {error})") from None
    try:
        return _as_rgb(to_8_bit(ImageOps.exif_transpose(image)))
    except (OSError, ValueError) as error:  # a mode Pillow cannot convert, EXIF it cannot read
        raise ImageError(f"{path}: an image Pillow cannot turn into RGB ({type(error).__name__}: {error})") from None


def _as_rgb(image):
    """``image`` as RGB, transparent areas on white."""
    from PIL import Image

    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


# Pillow modes of more than 8 bits per channel, and the nominal largest value of each (see to_8_bit for floats).
_HIGH_BIT_DEPTH = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": 65535, "F": 1.0}


def to_8_bit(image):
    """A 16-bit, 32-bit integer or float grey image as an 8-bit one ("L"), scaled to the full range (convert("RGB")
    would clip it: a mid-grey 16-bit picture would come out white); other images as they are."""
    from PIL import Image

    if image.mode not in _HIGH_BIT_DEPTH:
        return image
    pixels = np.asarray(image, dtype=np.float64)
    top = _HIGH_BIT_DEPTH[image.mode]
    largest = float(np.nanmax(pixels)) if pixels.size and not np.isnan(pixels).all() else 0.0
    if image.mode == "F" and largest > 1:  # float pictures come as 0..1, or in 8- or 16-bit units
        top = 255.0 if largest <= 255 else 65535.0
    if largest > top:  # beyond its nominal range: its own
        top = largest
    pixels = np.nan_to_num(pixels, nan=0.0, posinf=top, neginf=0.0)
    return Image.fromarray(np.clip(np.rint(pixels / top * 255), 0, 255).astype(np.uint8), mode="L")


def predict(model: torch.nn.Module, images: list, preprocess, categories: tuple[str, ...], topk: int = 3,
            temperature: float = 1.0) -> list[list[tuple[str, float]]]:
    """Top-``topk`` (label, probability) for each PIL image, computed in one batch; the probabilities are
    ``softmax(logits / temperature)`` (a published model's temperature: ``zoo.get_weights(NAME).temperature``)."""
    if not (isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and 0 < temperature < float("inf")):
        raise InputError(f"temperature must be a number > 0, not {temperature!r}")
    if not images:
        return []
    batch = torch.stack([preprocess(image) for image in images]).to(next(model.parameters()).device)
    with torch.inference_mode():
        probabilities = (model(batch).float() / temperature).softmax(1)
    values, indices = probabilities.topk(min(topk, len(categories)), dim=1)
    return [[(categories[i], float(p)) for p, i in zip(row_p, row_i)] for row_p, row_i in zip(values.tolist(), indices.tolist())]
