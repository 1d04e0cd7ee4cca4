"""The page a condition draws on: an MNIST digit enlarged, as dark ink on light paper, and what a
condition is (a name, a drawing, a line saying what it does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

SCALE = 5  # the digit's 28 px field is drawn 140 px wide
PAPER, INK = 240, 25  # grey levels of paper and of full ink


def enlarged(digit: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 (28, 28) -> float ink [0, 1] (28 scale, 28 scale), bilinear."""
    size = 28 * scale
    return np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255


def on_paper(ink: np.ndarray, canvas: tuple[int, int] | None = None, at: tuple[int, int] = (0, 0)) -> Image.Image:
    """Ink [0, 1] (h, w) as dark ink on light paper; on a larger canvas (H, W) at (top, left)."""
    if canvas is not None:
        page = np.zeros(canvas, np.float32)
        page[at[0]: at[0] + ink.shape[0], at[1]: at[1] + ink.shape[1]] = ink
        ink = page
    return Image.fromarray(np.round(PAPER - (PAPER - INK) * np.clip(ink, 0, 1)).astype(np.uint8))


def with_margin(ink: np.ndarray, margin: int = 60) -> Image.Image:
    h, w = ink.shape
    return on_paper(ink, (h + 2 * margin, w + 2 * margin), (margin, margin))

@dataclass(frozen=True)
class Condition:
    name: str
    draw: Callable[[np.ndarray, np.random.Generator], Image.Image]
    description: str
