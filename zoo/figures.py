"""The plotting both card modules share: matplotlib on its headless backend, and PNG files written whole."""
from __future__ import annotations

import io
from pathlib import Path

from .manifest import atomic_write_bytes


def pyplot():
    """matplotlib.pyplot on the headless Agg backend (cards are written without a screen)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(figure, path: Path) -> None:
    """The figure as PNG, written whole or not at all (a full disk leaves no half a figure)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
