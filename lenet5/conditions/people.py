"""The ways people write and scan single digits (`benchmarks/people.py`'s default table): pens,
crops, scan resolutions, a phone's photo, light, compression, a turned page."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

from lenet5.conditions.drawing import INK, PAPER, Condition, enlarged, on_paper, with_margin
from lenet5.strokes import disc_filter


def pen(radius: int) -> Callable[[np.ndarray, np.random.Generator], Image.Image]:
    """Strokes widened (radius > 0, a marker) or narrowed (< 0, a fine pen) by `radius` px per
    side at 5x, on a page with a margin."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        ink = enlarged(digit)
        ink = disc_filter(ink, radius) if radius > 0 else disc_filter(ink, -radius, np.minimum)
        return with_margin(ink)
    return draw


def tight_crop(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """5x, cropped to the ink's bounding box: no paper around the digit."""
    ink = enlarged(digit)
    rows, cols = np.nonzero(ink > 0.25)
    return on_paper(ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1])


def scan(side: int, shown: int = 112, resample=Image.Resampling.NEAREST) -> Callable:
    """The digit's 32x32 field averaged down to side x side (a coarse scan), shown at `shown` px."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        field = Image.fromarray(np.pad(digit, 2))
        small = field.resize((side, side), Image.Resampling.BOX)
        ink = np.asarray(small.resize((shown, shown), resample), np.float32) / 255
        return on_paper(ink)
    return draw


def tiny_file(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A 20x20 file: the digit's field shrunk, nothing more."""
    return on_paper(np.asarray(Image.fromarray(digit).resize((20, 20), Image.Resampling.BOX), np.float32) / 255)


def photo(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A 4000x3000 photo of a page with the digit in a corner (about 250 px high): light falling
    off across the page, sensor noise."""
    ink = enlarged(digit, 12)  # 336 px field, the digit ~240 px high
    height, width = 3000, 4000
    top, left = int(rng.integers(80, 400)), int(rng.integers(width - 800, width - 400))
    ys, xs = np.ogrid[:height, :width]
    light = 0.75 + 0.25 * (xs / width) * (1 - 0.4 * ys / height)  # brighter towards the digit's corner
    page = np.zeros((height, width), np.float32)
    page[top: top + ink.shape[0], left: left + ink.shape[1]] = ink
    grey = light * (PAPER - (PAPER - INK) * page) + rng.normal(0, 4, (height, width)).astype(np.float32)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def uneven_light(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Normal strokes on a page lit from one corner: the paper's level falls by up to half across it."""
    return Image.fromarray(np.clip(_lit_from_a_corner(with_margin(enlarged(digit)), rng), 0, 255).astype(np.uint8))


def _lit_from_a_corner(page: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """The page (grey levels, float32) lit from a corner drawn at random: its light falls by up to half across it."""
    image = np.asarray(page, np.float32)
    h, w = image.shape
    ys, xs = np.ogrid[:h, :w]
    a = rng.uniform(0, 2 * np.pi)
    slope = (np.cos(a) * (xs / w - 0.5) + np.sin(a) * (ys / h - 0.5))  # in [-0.7, 0.7]
    return image * (0.75 + 0.35 * slope)


def dim_light(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Normal strokes photographed in a dim room: the whole page lit at 0.3-0.5 of full light (the
    paper darker than mid-grey, the ink darker still), the sensor's noise on it."""
    return _dimmed(np.asarray(with_margin(enlarged(digit)), np.float32), rng)


def dim_uneven_light(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """`dim_light` on a page lit from one corner (`uneven_light`): the paper darker than mid-grey, and
    lighter by up to twice from one side to the other."""
    return _dimmed(_lit_from_a_corner(with_margin(enlarged(digit)), rng), rng)


def _dimmed(image: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Grey levels lit at 0.3-0.5 of the light, the sensor's noise on them."""
    image = image * rng.uniform(0.3, 0.5)
    return Image.fromarray(np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8))


def hard_shadow(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Normal strokes on a page half in shadow (a hard edge through the digit) and lit from one side."""
    image = np.asarray(with_margin(enlarged(digit)), np.float32)
    h, w = image.shape
    ys, xs = np.ogrid[:h, :w]
    shade = np.where(xs + 0.3 * ys < w * rng.uniform(0.35, 0.65), 0.55, 1.0) * (0.8 + 0.2 * ys / h)
    return Image.fromarray(np.clip(image * shade, 0, 255).astype(np.uint8))


def rotated(degrees: float) -> Callable:
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        ink = Image.fromarray((enlarged(digit) * 255).astype(np.uint8)).rotate(degrees, Image.Resampling.BILINEAR, expand=True)
        return with_margin(np.asarray(ink, np.float32) / 255)
    return draw


def jpeg(quality: int) -> Callable:
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        buffer = io.BytesIO()
        with_margin(enlarged(digit)).save(buffer, format="JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue()))
    return draw


CONDITIONS = [  # each draws with the seed of its place here: a new one goes last
    Condition("mnist-like", pen(0), "140x140, MNIST's stroke, a margin"),
    Condition("tight crop", tight_crop, "5x, cropped to the ink"),
    Condition("marker 1.5x", pen(3), "strokes about 1.5x as wide"),
    Condition("marker 2x", pen(6), "strokes about twice as wide"),
    Condition("marker 3x", pen(12), "strokes about three times as wide"),
    Condition("fine pen", pen(-3), "strokes about half as wide"),
    Condition("scan 8x8", scan(8), "32x32 field averaged in 4x4 blocks, shown at 112x112"),
    Condition("scan 12x12", scan(12), "the field averaged to 12x12, shown at 112x112"),
    Condition("scan 16x16", scan(16), "the field averaged in 2x2 blocks, shown at 112x112"),
    Condition("tiny 20x20", tiny_file, "a 20x20 file"),
    Condition("photo", photo, "4000x3000, the digit in a corner, uneven light, noise"),
    Condition("uneven light", uneven_light, "light falling off by up to half across the page"),
    Condition("hard shadow", hard_shadow, "half the page in a hard-edged shadow, light falling off"),
    Condition("jpeg q20", jpeg(20), "JPEG at quality 20"),
    Condition("rotated +15", rotated(15), "turned 15 degrees anticlockwise"),
    Condition("rotated -15", rotated(-15), "turned 15 degrees clockwise"),
    Condition("dim light", dim_light, "the page lit at 0.3-0.5 of full light, noise"),
    Condition("dim, uneven light", dim_uneven_light, "dim light, the light falling off by up to half across the page"),
]
