"""The line at digit scale, shared by both readers: a grey image of one line of digits -> its
ink, scaled so that its digits are as high as MNIST's (20 px), with the map back to the image's
pixels. The SDNN (sdnn.py) sweeps LeNet-5 along it; over-segmentation (oversegment.py) cuts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from lenet5.preprocess import ink_map
from lenet5.strokes import WORK, normalize_width, stroke_width, unblock

DIGIT_HEIGHT = 20  # px: a digit's height in the work image, as in MNIST's 20x20 box
INK = 0.3  # ink above this counts for components and boxes
HEIGHTS_RANGE = (12.0, 28.0)  # px: the digit heights a reader may read the line at (`check_heights`): the 32 px band holds 28
MOST_HEIGHTS = 8  # heights a reader may read one line at
COARSE_HEIGHT = 64  # px: the ink's height when the digits' height is first estimated
MARGIN = 2  # px of paper kept around the ink
# Stroke width of the readers' training lines at work scale (`stroke_width`, MNIST's units), over 150
# strips of held-out training digits in lenet5/data/strips.py's style: median 3.48, 85th percentile
# about 4.2 (a marker's lines: median 4.63). Lines wider than 4.0 are thinned to 3.2: on 300 held-out
# amounts (seed 99) normal / marker read exactly 91.0 / 86.3%; thinning above 4.2 to 3.48: 91.0 / 86.0%;
# never thinning: 91.3 / 83.3%.
LINE_WIDTH, LINE_WIDTH_TARGET = (0.0, 4.0), 3.2


def check_heights(heights: object) -> tuple[float, ...]:
    """The digit heights a reader reads each line at, checked (ValueError): 1 to MOST_HEIGHTS distinct
    numbers in HEIGHTS_RANGE; the first one's line places the digits."""
    low, high = HEIGHTS_RANGE
    if (not isinstance(heights, (list, tuple)) or not 1 <= len(heights) <= MOST_HEIGHTS
            or not all(isinstance(h, (int, float)) and not isinstance(h, bool) and low <= h <= high for h in heights)
            or len(set(heights)) != len(heights)):
        raise ValueError(f"heights must be 1 to {MOST_HEIGHTS} distinct numbers of px from {low:g} to {high:g}, "
                         f"got {str(heights)[:100]}")
    return tuple(float(h) for h in heights)


@dataclass
class Line:
    """A line of ink at work scale: ink [0, 1] (H, W) with paper 0; a work pixel (y, x) came
    from (y, x) * scale + offset in the image (offset = (top, left))."""

    ink: np.ndarray
    scale: float
    offset: tuple[float, float]

    # Both maps take and give continuous coordinates, pixel i spanning [i, i + 1): a pixel's centre is i + 0.5.
    def to_image(self, y: float | np.ndarray, x: float | np.ndarray) -> tuple[float | np.ndarray, float | np.ndarray]:
        """Work coordinates (y, x) (numbers or arrays) -> the image's."""
        return y * self.scale + self.offset[0], x * self.scale + self.offset[1]

    def column_from_image(self, x: float | np.ndarray) -> float | np.ndarray:
        """An image column (a number or an array) -> the work column it lands on."""
        return (x - self.offset[1]) / self.scale


@dataclass(frozen=True)
class Found:
    """A digit read in a line, with its box [x0, x1) x [y0, y1) in work pixels and its probability."""

    digit: int
    x0: int
    x1: int
    y0: int
    y1: int
    p: float


Box = tuple[int, int, int, int]  # rows [top, bottom), columns [left, right)


def label_components(binary: np.ndarray) -> np.ndarray:
    """8-connected components: (H, W) int labels, 0 for paper, 1, 2, ... for the components in the
    order a raster scan first meets them."""
    labels, _ = ndimage.label(binary, structure=np.ones((3, 3), dtype=bool))
    return labels


def resample(ink: np.ndarray, factor: float) -> np.ndarray:
    h, w = ink.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX
                                                                              if factor < 1 else Image.Resampling.BILINEAR))


def ink_box(ink: np.ndarray) -> Box | None:
    """The box around the ink above INK, or None where there is none."""
    rows, cols = np.nonzero(ink > INK)
    if len(rows) == 0:
        return None
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def digit_height(ink: np.ndarray, box: Box) -> float:
    """The height of the line's digits in px of `ink` (its ink inside `box`): the median height of
    its tall components (broken pieces and specks are shorter, and a drifting baseline makes the
    whole line taller)."""
    top, bottom, left, right = box
    factor = min(1.0, COARSE_HEIGHT / (bottom - top))
    coarse = resample(ink[top:bottom, left:right], factor) if factor < 1 else ink[top:bottom, left:right]
    labels = label_components(coarse > INK)
    rows, cols = np.nonzero(labels)
    _, k = np.unique(labels[rows, cols], return_inverse=True)
    lowest, highest = np.full(k.max() + 1, rows.max()), np.zeros(k.max() + 1, dtype=rows.dtype)
    np.minimum.at(lowest, k, rows)
    np.maximum.at(highest, k, rows)
    heights = (highest - lowest + 1).astype(np.float64)
    tall = heights[heights >= 0.5 * heights.max()]
    return float(np.median(tall)) / factor


def normalize(grey: np.ndarray, height: float = DIGIT_HEIGHT) -> Line | None:
    """Grey image [0, 1] (H, W), either polarity -> the line of ink at work scale, its digits
    `height` px high (None: no ink above INK, nothing to read)."""
    lines = normalize_at(grey, (height,))
    return None if lines is None else lines[0]


def normalize_at(grey: np.ndarray, heights: tuple[float, ...]) -> list[Line] | None:
    """`normalize` at each of `heights`, the ink found and its digits measured once (None: no ink)."""
    ink = ink_map(unblock(grey))
    box = ink_box(ink)
    if box is None:
        return None
    measured = digit_height(ink, box)
    return [_scaled(ink, box, height / measured, height) for height in heights]


def _scaled(ink: np.ndarray, box: Box, factor: float, height: float) -> Line:
    """The ink in `box` (and MARGIN around it) scaled by `factor`, so that its digits are `height` px high."""
    top, bottom, left, right = box
    pad = round(MARGIN / factor)
    top, left = max(0, top - pad), max(0, left - pad)
    crop = ink[top: bottom + pad, left: right + pad]
    work = resample(crop, factor).clip(0, 1)
    if stroke_width(work) > LINE_WIDTH[1] * height / DIGIT_HEIGHT:  # a marker's line (in MNIST's units): its strokes thinned at 4x
        fine = normalize_width(resample(crop, WORK * factor), WORK * height, LINE_WIDTH, LINE_WIDTH_TARGET)
        work = np.asarray(Image.fromarray(fine, mode="F").resize(work.shape[::-1], Image.Resampling.BOX)).clip(0, 1)
    return Line(work.astype(np.float32), 1 / factor, (float(top), float(left)))
