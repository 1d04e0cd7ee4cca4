"""Heuristic over-segmentation of one line of digits (Sec. VI-A, Fig. 18 and 19).

A line is scaled so its digits are as high as MNIST's (20 px), then cut into *atoms*: its
connected components, and the pieces of each component between the columns where its ink is
thinnest (touching digits are joined there, and so are a few strokes of single digits: cutting
too often is harmless, the recognizer and the search put the pieces back together). Any run of
up to `MAX_ATOMS` neighbouring atoms is a candidate segment; the recognizer scores each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from lenet5.errors import Lenet5Error
from lenet5.preprocess import ink_map
from lenet5.strokes import WORK, normalize_width, stroke_width, unblock

DIGIT_HEIGHT = 20  # px: a digit's height in the work image, as in MNIST's 20x20 box
FIELD = 32  # the recognizer's input, as LeNet-5's
INK = 0.3  # ink above this counts for components
MIN_AREA = 4  # px at work scale; smaller components are specks of noise
MIN_PIECE = 3  # px: the narrowest piece a cut may leave at a component's ends
CUT_STEP = 2  # px: the densest cuts (400 strips of held-out training digits: the right segmentation
# is among the candidates for 94% of them at 2 px, for 84% at 3 px)
MAX_ATOMS = 12  # atoms in one candidate segment
MAX_WIDTH = 1.4 * DIGIT_HEIGHT  # widest candidate segment, px
COARSE_HEIGHT = 64  # px: the ink's height when the digits' height is first estimated
MARGIN = 2  # px of paper kept around the ink
# Stroke width of the readers' training lines at work scale (`stroke_width`, MNIST's units), over 150
# strips of held-out training digits in lenet5/data/strips.py's style: median 3.48, 85th percentile
# about 4.2 (a marker's lines: median 4.63). Lines wider than 4.0 are thinned to 3.2: on 300 held-out
# amounts (seed 99) normal / marker read exactly 91.0 / 86.3%; thinning above 4.2 to 3.48: 91.0 / 86.0%;
# never thinning: 91.3 / 83.3%.
LINE_WIDTH, LINE_WIDTH_TARGET = (0.0, 4.0), 3.2
CONTEXT = 0.3  # the neighbours' ink in a segment's field, relative to its own


@dataclass
class Line:
    """A line of ink at work scale: ink [0, 1] (H, W) with paper 0; a work pixel (y, x) came
    from (y, x) * scale + offset in the image (offset = (top, left))."""

    ink: np.ndarray
    scale: float
    offset: tuple[float, float]


@dataclass
class Atom:
    """Ink pixels of one piece (work coordinates), and its columns [x0, x1)."""

    ys: np.ndarray
    xs: np.ndarray

    @property
    def x0(self) -> int:
        return int(self.xs.min())

    @property
    def x1(self) -> int:
        return int(self.xs.max()) + 1

    @property
    def centre(self) -> float:
        return float(self.xs.mean())


def label_components(binary: np.ndarray) -> np.ndarray:
    """8-connected components: (H, W) int labels, 0 for paper, each component one positive value.
    Every pixel takes the smallest label in its 3x3 window, then jumps to the label of the pixel
    that label names (pointer jumping), until nothing changes."""
    h, w = binary.shape
    big = h * w + 1
    labels = np.where(binary, np.arange(1, h * w + 1).reshape(h, w), big)
    padded = np.full((h + 2, w + 2), big, dtype=labels.dtype)
    while True:
        padded[1:-1, 1:-1] = labels
        smallest = padded[:h, :w].copy()
        for dy, dx in [(dy, dx) for dy in range(3) for dx in range(3)][1:]:
            np.minimum(smallest, padded[dy: dy + h, dx: dx + w], out=smallest)
        flat = np.append(np.where(binary, smallest, big).ravel(), big)
        jumped = np.where(binary, flat[np.minimum(flat[:-1], big) - 1].reshape(h, w), big)
        if np.array_equal(jumped, labels):
            return np.where(binary, labels, 0)
        labels = jumped


def resample(ink: np.ndarray, factor: float) -> np.ndarray:
    h, w = ink.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX
                                                                              if factor < 1 else Image.Resampling.BILINEAR))


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(ink > INK)
    if len(rows) == 0:
        raise Lenet5Error("no digits found (no ink above the paper's level)")
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def digit_height(ink: np.ndarray) -> float:
    """The height of the line's digits in px of `ink`: the median height of its tall components
    (broken pieces and specks are shorter, and a drifting baseline makes the whole line taller)."""
    top, bottom, left, right = ink_box(ink)
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


def normalize(grey: np.ndarray) -> Line:
    """Grey image [0, 1] (H, W), either polarity -> the line of ink at work scale."""
    ink = ink_map(unblock(grey))
    factor = DIGIT_HEIGHT / digit_height(ink)
    top, bottom, left, right = ink_box(ink)
    pad = round(MARGIN / factor)
    top, left = max(0, top - pad), max(0, left - pad)
    crop = ink[top: bottom + pad, left: right + pad]
    work = resample(crop, factor).clip(0, 1)
    if stroke_width(work) > LINE_WIDTH[1]:  # a marker's line: its strokes thinned at 4x
        fine = normalize_width(resample(crop, WORK * factor), WORK * DIGIT_HEIGHT, LINE_WIDTH, LINE_WIDTH_TARGET)
        work = np.asarray(Image.fromarray(fine, mode="F").resize(work.shape[::-1], Image.Resampling.BOX)).clip(0, 1)
    return Line(work.astype(np.float32), 1 / factor, (float(top), float(left)))


def cut_columns(projection: np.ndarray) -> list[int]:
    """Columns where a component is cut: the local minima of its ink per column (smoothed),
    where touching digits usually join, and then every CUT_STEP columns where no minimum is
    near, since overlapping digits join where a column's ink is not thin at all. Every piece
    keeps at least MIN_PIECE columns."""
    smooth = np.convolve(np.pad(projection, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    inner = range(MIN_PIECE, len(smooth) - MIN_PIECE + 1)
    minima = [c for c in inner if smooth[c] <= smooth[c - 1] and smooth[c] <= smooth[min(c + 1, len(smooth) - 1)]]
    chosen: list[int] = []
    for c in sorted(minima, key=lambda c: smooth[c]) + list(inner)[::CUT_STEP]:
        if all(abs(c - d) >= CUT_STEP for d in chosen):
            chosen.append(c)
    return sorted(chosen)


def atoms(line: Line) -> list[Atom]:
    """The line's atoms, ordered left to right by their centre of mass."""
    labels = label_components(line.ink > INK)
    out = []
    for k in np.unique(labels[labels > 0]):
        ys, xs = np.nonzero(labels == k)
        if len(ys) < MIN_AREA:
            continue
        x0 = xs.min()
        projection = np.bincount(xs - x0)
        bounds = [0, *cut_columns(projection), len(projection)]
        for a, b in zip(bounds, bounds[1:]):
            keep = (xs - x0 >= a) & (xs - x0 < b)
            if keep.any():
                out.append(Atom(ys[keep], xs[keep]))
    if not out:
        raise Lenet5Error("no digits found (only specks of ink)")
    return sorted(out, key=lambda a: a.centre)


def candidates(pieces: list[Atom]) -> list[tuple[int, int]]:
    """Runs [i, j) of neighbouring atoms that may be one digit: at most MAX_ATOMS, at most MAX_WIDTH wide."""
    spans = []
    for i in range(len(pieces)):
        x0, x1 = pieces[i].x0, pieces[i].x1
        for j in range(i + 1, min(i + MAX_ATOMS, len(pieces)) + 1):
            x0, x1 = min(x0, pieces[j - 1].x0), max(x1, pieces[j - 1].x1)
            if j > i + 1 and x1 - x0 > MAX_WIDTH:
                break
            spans.append((i, j))
    return spans


def render(line: Line, pieces: list[Atom]) -> np.ndarray:
    """The 32x32 field around these atoms, centred on their centre of mass, at line scale:
    (32, 32) float32 [0, 1]. Their ink (with its grey fringe) at full strength, the rest of the
    line's ink at CONTEXT: a stroke standing alone is a "1", the same stroke beside the rest of
    its "4" is not, and only the neighbours tell. Unlike MNIST's preparation nothing is resized:
    a piece of a digit stays small."""
    ys = np.concatenate([a.ys for a in pieces])
    c0 = max(0, int(min(a.x0 for a in pieces)) - FIELD)  # only the columns the field can show
    xs = np.concatenate([a.xs for a in pieces]) - c0
    ink = line.ink[:, c0: max(a.x1 for a in pieces) + FIELD]
    h, w = ink.shape
    mask = np.zeros((h + 2, w + 2), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            mask[ys + dy, xs + dx] = True
    mask = mask[1:-1, 1:-1] & ~((ink > INK) & ~core(h, w, ys, xs))
    own = ink * mask
    total = own.sum()
    cy = own.sum(axis=1) @ np.arange(h) / total
    cx = own.sum(axis=0) @ np.arange(w) / total
    picture = np.where(mask, ink, CONTEXT * ink)
    top, left = round(cy - (FIELD - 1) / 2), round(cx - (FIELD - 1) / 2)
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    y0, y1, x0, x1 = max(top, 0), min(top + FIELD, h), max(left, 0), min(left + FIELD, w)
    field[y0 - top: y1 - top, x0 - left: x1 - left] = picture[y0:y1, x0:x1]
    return field


def core(h: int, w: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    out = np.zeros((h, w), dtype=bool)
    out[ys, xs] = True
    return out
