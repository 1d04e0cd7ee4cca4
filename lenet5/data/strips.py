"""Handwritten amounts made from MNIST digits: one line of digits, as a scan or photo of it.

The paper reads whole strings (Sec. V-VII) from real documents; we have only isolated digits,
so we compose lines from them the way amounts look on cheques and forms: uneven gaps, about a
third of the neighbours touching or overlapping, digits of slightly different sizes on a
drifting baseline, now and then a stroke broken in two; then the line is scanned: enlarged,
blurred, dark ink on light paper (or the reverse), noise and JPEG.

A strip is composed at MNIST's own scale (digits 28 px high) and only then enlarged, so the
owner of every pixel (which digit put its ink there) is known exactly: the reader's training
labels come from it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from lenet5.data.distort import Ranges, pil_affine

FIELD = 28  # MNIST digits are 28x28
STROKE = 0.5  # ink [0, 1] from which a pixel counts as a digit's stroke rather than its faint edge


@dataclass(frozen=True)
class Style:
    """Ranges of a strip's random choices (uniform unless said)."""

    lengths: tuple[int, int] = (3, 6)  # digits per amount, inclusive
    joined: float = 1 / 3  # share of gaps where neighbours touch or overlap
    overlap: tuple[int, int] = (-6, 0)  # gap of joined neighbours, px at 28 px per digit (negative: overlap)
    gap: tuple[int, int] = (2, 12)  # gap of the other neighbours, px
    size: tuple[float, float] = (0.85, 1.15)  # each digit's own scale
    jitter: int = 2  # vertical offset of each digit, +-px
    drift: float = 0.06  # baseline slope, +-px per px
    broken: float = 0.08  # chance that a digit has a stroke cut through
    scale: tuple[float, float] = (2.0, 5.0)  # enlargement of the whole line
    blur: tuple[float, float] = (0.0, 1.5)  # Gaussian blur radius at 28 px scale (scaled with the line)
    dark_on_light: float = 0.75  # chance of dark ink on light paper (else light on dark)
    noise: tuple[float, float] = (0.0, 0.04)  # std of Gaussian noise, in [0, 1] grey
    jpeg: tuple[int, int] = (30, 95)  # JPEG quality
    pens: float = 0.0  # chance that the amount is written with another pen (the same pen for all its digits)
    pen_steps: tuple[int, ...] = (-1, 1, 2, 3)  # that pen's stroke change, half MNIST pixels per side (negative: finer)
    distort: float = 0.0  # chance that a digit is squeezed and sheared first (paper-distort's ranges, Sec. III-A)
    scans: float = 0.0  # chance that the amount was scanned coarsely first (the same side for all its digits)
    scan_sides: tuple[int, ...] = (7, 8, 10)  # that scan's px across a digit's 28 px field (lenet5/data/pens.py's)


TRAINING = Style(lengths=(1, 8))  # the reader learns from every length it may meet


@dataclass
class Strip:
    """One amount: the grey image (H, W) uint8 as a scanner gives it, the digits it shows, for
    each pixel the index of the digit whose ink is there (-1: paper), and which of the source
    digits were written, left to right."""

    image: np.ndarray
    number: str
    owner: np.ndarray
    picks: np.ndarray  # (len(number),) indices into the digits the strip was made from
    # (len(number),) for each digit the share of its strokes that a neighbour's strokes cover too (STROKE and
    # more at MNIST's scale, before the scan): where the two overlap, what is whose cannot be told from the image
    covered: np.ndarray | None = None

    def touching(self) -> list[bool]:
        """For each pair of neighbours, left to right, whether their ink meets: a pixel of one
        beside a pixel of the other, across, along or diagonally (their gap was joined, or
        MNIST's faint edges met across a gap of 0)."""
        near = [ndimage.binary_dilation(self.owner == k, structure=np.ones((3, 3), dtype=bool))  # each digit and the pixels beside it
                for k in range(len(self.number) - 1)]
        return [bool((grown & (self.owner == k + 1)).any()) for k, grown in enumerate(near)]


def make_strip(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator, style: Style = Style()) -> Strip:
    """A random amount written with digits drawn from `digits` (N, 28, 28) uint8 (ink bright)."""
    n = int(rng.integers(style.lengths[0], style.lengths[1] + 1))
    picks = rng.integers(0, len(digits), size=n)
    # drawn only where pens are asked for, so the strips of every other style stay as they were
    pen = int(rng.choice(style.pen_steps)) if style.pens > 0 and rng.random() < style.pens else 0
    side = int(rng.choice(style.scan_sides)) if style.scans > 0 and rng.random() < style.scans else 0
    ink, owner, covered = compose([restroke(digit_ink(coarse(digits[i], side), rng, style), pen) for i in picks], rng, style)
    image, owner = scan(ink, owner, rng, style)
    return Strip(image, "".join(str(int(labels[i])) for i in picks), owner, picks, covered)


def coarse(digit: np.ndarray, side: int) -> np.ndarray:
    """The digit (28, 28) uint8 as a coarse scan shows it: its field averaged down to side x side px,
    enlarged back smoothly and its ink stretched to full strength again, as `lenet5 predict` stretches
    a person's image (side 0: as it came)."""
    if side == 0 or not digit.any():
        return digit
    small = Image.fromarray(digit).resize((side, side), Image.Resampling.BOX)
    big = np.asarray(small.resize(digit.shape[::-1], Image.Resampling.BILINEAR), dtype=np.float32)
    if not big.any():  # ink too faint to survive the averaging: left as it came rather than erased
        return digit
    return (big * (255 / big.max())).round().astype(np.uint8)


def digit_ink(digit: np.ndarray, rng: np.random.Generator, style: Style) -> np.ndarray:
    """One MNIST digit, maybe squeezed and sheared, cropped to its ink, resized by its own random
    scale, maybe broken; float [0, 1]."""
    # drawn only where distortions are asked for, so the strips of every other style stay as they were
    if style.distort > 0 and rng.random() < style.distort:
        digit = squeeze_and_shear(digit, rng)
    rows, cols = np.nonzero(digit)
    crop = digit[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1].astype(np.float32) / 255
    s = rng.uniform(*style.size)
    h, w = crop.shape
    size = (max(1, round(w * s)), max(1, round(h * s)))
    ink = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BILINEAR)).clip(0, 1)
    if rng.random() < style.broken:
        ink = cut_stroke(ink, rng)
    return ink


def squeeze_and_shear(digit: np.ndarray, rng: np.random.Generator, ranges: Ranges = Ranges()) -> np.ndarray:
    """The digit (28, 28) uint8 squeezed and sheared as `paper-distort` distorts its digits (its
    ranges and map; no shift or scale: the strip places and sizes each digit itself), in a field
    8 px wider and taller so that no ink leaves it; uint8, ink bright."""
    squeeze, shear = rng.uniform(-ranges.squeeze, ranges.squeeze), rng.uniform(-ranges.shear, ranges.shear)
    field = Image.fromarray(np.pad(digit, 4))
    out = np.asarray(field.transform(field.size, Image.Transform.AFFINE, pil_affine(squeeze, shear, field.size[0]),
                                     resample=Image.Resampling.BILINEAR))
    return out if out.any() else digit  # (a squeeze cannot erase a digit, but a blank field stays as it came)


def restroke(ink: np.ndarray, half_pixels: int) -> np.ndarray:
    """Ink [0, 1] with its strokes `half_pixels` / 2 px wider per side (negative: finer), at 2x."""
    if half_pixels == 0:
        return ink
    pad = abs(half_pixels)
    big = Image.fromarray(np.pad(ink, pad), mode="F").resize(((ink.shape[1] + 2 * pad) * 2, (ink.shape[0] + 2 * pad) * 2),
                                                           Image.Resampling.BILINEAR)
    grow = ImageFilter.MaxFilter(3) if half_pixels > 0 else ImageFilter.MinFilter(3)
    for _ in range(abs(half_pixels)):
        big = big.filter(grow)
    return np.asarray(big.resize((ink.shape[1] + 2 * pad, ink.shape[0] + 2 * pad), Image.Resampling.BOX)).clip(0, 1).astype(np.float32)


def cut_stroke(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Erase a 1-2 px band at a random angle through the middle half of the digit."""
    h, w = ink.shape
    ys, xs = np.indices(ink.shape)
    cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
    angle = rng.uniform(0, np.pi)
    distance = (xs - cx) * np.sin(angle) - (ys - cy) * np.cos(angle)
    return np.where(np.abs(distance) < rng.uniform(0.5, 1.0), 0, ink).astype(np.float32)


def compose(inks: list[np.ndarray], rng: np.random.Generator, style: Style) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place digits left to right on one drifting line; ink is the maximum where they overlap. Returns
    the ink, each pixel's owner and each digit's share of strokes covered by another's (Strip.covered)."""
    margin = 6
    gaps = [0] + [max(int(rng.integers(style.overlap[0], style.overlap[1] + 1)), -min(a.shape[1], b.shape[1]) // 2)
                  if rng.random() < style.joined else int(rng.integers(style.gap[0], style.gap[1] + 1))
                  for a, b in zip(inks, inks[1:])]  # an overlap covers at most half the narrower digit
    lefts = np.cumsum([margin] + [inks[i - 1].shape[1] + gaps[i] for i in range(1, len(inks))])
    lefts -= min(0, lefts.min() - margin)
    width = int(max(left + ink.shape[1] for left, ink in zip(lefts, inks)) + margin)
    slope = rng.uniform(-style.drift, style.drift)
    centres = [FIELD / 2 + slope * (left - width / 2) + rng.integers(-style.jitter, style.jitter + 1) for left in lefts]
    tops = [round(c - ink.shape[0] / 2) for c, ink in zip(centres, inks)]
    shift = margin - min(tops)
    height = max(t + ink.shape[0] for t, ink in zip(tops, inks)) + shift + margin
    canvas = np.zeros((len(inks), height, width), dtype=np.float32)
    for k, (left, top, ink) in enumerate(zip(lefts, tops, inks)):
        canvas[k, top + shift: top + shift + ink.shape[0], left: left + ink.shape[1]] = ink
    owner = np.where(canvas.max(axis=0) > 0, canvas.argmax(axis=0), -1)
    strokes = canvas >= STROKE
    others = strokes.sum(axis=0, keepdims=True) - strokes  # (digits, H, W): how many other digits' strokes are there
    covered = (strokes & (others > 0)).sum(axis=(1, 2)) / np.maximum(strokes.sum(axis=(1, 2)), 1)
    return canvas.max(axis=0), owner, covered


def scan(ink: np.ndarray, owner: np.ndarray, rng: np.random.Generator, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """Enlarge, blur, set polarity and paper/ink levels, add noise, JPEG-encode and decode."""
    s = rng.uniform(*style.scale)
    h, w = ink.shape
    size = (round(w * s), round(h * s))
    big = Image.fromarray((ink * 255).round().astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    owner = np.asarray(Image.fromarray(owner.astype(np.int32), mode="I").resize(size, Image.Resampling.NEAREST))
    radius = rng.uniform(*style.blur) * s
    if radius > 0.3:
        big = big.filter(ImageFilter.GaussianBlur(radius))
    ink = np.asarray(big, dtype=np.float32) / 255
    paper, pen = rng.uniform(0.75, 1.0), rng.uniform(0.0, 0.3)
    if rng.random() >= style.dark_on_light:
        paper, pen = 1 - paper, 1 - pen
    grey = paper + (pen - paper) * ink + rng.normal(0, rng.uniform(*style.noise), ink.shape)
    image = Image.fromarray((grey.clip(0, 1) * 255).round().astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(style.jpeg[0], style.jpeg[1] + 1)))
    return np.asarray(Image.open(buffer).convert("L")), owner.astype(np.int16)
