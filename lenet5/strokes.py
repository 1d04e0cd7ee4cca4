"""Stroke width and resolution, brought to MNIST's before a digit reaches the network.

A marker's strokes are two or three times as wide as MNIST's, a fine pen's half as wide, and the
network knows MNIST's widths only (docs/reading.md's robustness table: 1 px thicker per side, a third
of the digits wrong). OCR systems normalize the stroke width; so do we: a digit whose strokes
are wider than nearly all of MNIST's is eroded, one whose strokes are finer is dilated, at four
times the 20 px box (so a fraction of an MNIST pixel can be taken off), and only as far as the
edge of MNIST's own range, so a digit MNIST could have held is left as it is.

A coarse scan shown enlarged by pixel repetition (an 8x8 scan as a 112x112 file) arrives as
blocks whose edges look like strokes: `unblock` finds the repetition and enlarges the scan smoothly instead.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

# Stroke width of MNIST's training digits (`stroke_width` on the 28x28 images, where the digit's box
# is 20 px): 5th percentile 1.99, median 2.60, 95th percentile 3.87 (the first 20,000 digits).
MNIST_WIDTH = (1.99, 3.87)
MAX_CHANGE = 3  # MNIST px per side at most: past that the "strokes" are blots or noise, not a pen
WORK = 4  # the stroke is normalized with the digit's box WORK x 20 px on its long side


def stroke_width(ink: np.ndarray) -> float:
    """Mean width of the strokes of a grey ink image (H, W) in [0, 1], px: twice the ink over the
    length of its outline, the outline measured as the total gradient (a stroke of width w and
    length L holds wL of ink and has 2L of outline; blur leaves both unchanged)."""
    gy = np.zeros_like(ink)
    gx = np.zeros_like(ink)
    gy[1:-1] = (ink[2:] - ink[:-2]) / 2
    gx[:, 1:-1] = (ink[:, 2:] - ink[:, :-2]) / 2
    outline = float(np.hypot(gx, gy).sum())
    return 2 * float(ink.sum()) / outline if outline > 0 else 0.0


def disc_filter(ink: np.ndarray, radius: int, reduce=np.maximum) -> np.ndarray:
    """Grey dilation (np.maximum) or erosion (np.minimum) of `ink` (H, W) by a disc of `radius`
    px; outside the image is paper (0).

    The disc is taken row by row: its row at height dy spans `isqrt(radius**2 - dy**2)` px either
    side, and the reduction over a row segment k px either side comes from the one k - 1 px either
    side by two shifted reductions. About 4 `radius` passes over the image instead of the disc's
    3 `radius`**2 points, each pass in place; max and min are exact, so the result is the same to the bit."""
    h, w = ink.shape
    pad = np.pad(ink, radius)
    rows_of = {}  # half-width -> the disc's rows that span it
    for dy in range(-radius, radius + 1):
        rows_of.setdefault(math.isqrt(radius * radius - dy * dy), []).append(dy)
    run, spare = pad.copy(), np.empty_like(pad)  # run[:, x]: `pad` reduced over [x - k, x + k] (valid k <= x < W - k)
    out = None
    for k in range(radius + 1):
        if k == 1:
            reduce(pad[:, :-2], pad[:, 2:], out=run[:, 1:-1])
            reduce(run[:, 1:-1], pad[:, 1:-1], out=run[:, 1:-1])
        elif k > 1:  # [x - k, x + k - 2] and [x - k + 2, x + k] cover [x - k, x + k]
            reduce(run[:, :-2], run[:, 2:], out=spare[:, 1:-1])
            run, spare = spare, run
        for dy in rows_of.get(k, ()):
            piece = run[radius + dy: radius + dy + h, radius: radius + w]
            out = piece.copy() if out is None else reduce(out, piece, out=out)
    return out


def in_range(width: float, widths: tuple[float, float] = MNIST_WIDTH) -> bool:
    """Whether a stroke width (in MNIST's units: px where the digit is 20 px high) lies in
    `widths` (or is 0: no outline to measure)."""
    return widths[0] <= width <= widths[1] or width == 0


def normalize_width(ink: np.ndarray, box: float, widths: tuple[float, float] = MNIST_WIDTH,
                    target: float | None = None) -> np.ndarray:
    """Ink [0, 1] (H, W) of one digit whose box is `box` px on its long side (or a line whose
    digits are `box` px high), at least 20 WORK px -> the same with its strokes' width brought
    to `target` (MNIST's units; default: the nearest edge of `widths`) where it lies outside `widths`."""
    width = stroke_width(ink) * 20 / box  # in MNIST's units
    if in_range(width, widths):
        return ink
    low, high = widths
    if target is None:
        target = high if width > high else low
    radius = min(round(abs(width - target) / 2 * box / 20), round(MAX_CHANGE * box / 20))  # px per side, at this scale
    if radius == 0:
        return ink
    return disc_filter(ink, radius, np.minimum if width > high else np.maximum)


def block_size(grey: np.ndarray, tolerance: float = 2 / 255) -> float | None:
    """The side of the blocks of an image enlarged by pixel repetition (nearest neighbour), px,
    or None where it is not one: between the first and the last change of level along its rows
    (and its columns), levels change only every block, and blocks are all of one size to a pixel."""
    sides = []
    for image in (grey, grey.T):
        changes = np.nonzero((np.abs(np.diff(image, axis=1)) > tolerance).any(axis=0))[0]
        if len(changes) < 3:
            return None
        gaps = np.diff(changes)
        if gaps.min() < 2:
            return None
        blocks = np.round(gaps / gaps.min())  # two neighbouring blocks of one level make one gap
        if np.abs(gaps - blocks * gaps.min()).max() > blocks.max():  # blocks of one size, to a pixel each
            return None
        sides.append(float(gaps.sum() / blocks.sum()))
    return float(np.mean(sides)) if abs(sides[0] - sides[1]) <= 1 else None


def unblock(grey: np.ndarray) -> np.ndarray:
    """A grey image (H, W) enlarged by pixel repetition -> the same size, enlarged smoothly from
    its blocks (one sample at each block's centre); any other image is returned as it is."""
    side = block_size(grey)
    if side is None:
        return grey
    h, w = grey.shape
    rows = np.clip(np.round(np.arange(side / 2, h, side)).astype(int), 0, h - 1)
    cols = np.clip(np.round(np.arange(side / 2, w, side)).astype(int), 0, w - 1)
    small = grey[np.ix_(rows, cols)].astype(np.float32)
    return np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32).clip(0, 1)
