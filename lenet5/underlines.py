"""Lines under the digits that are not printed lines: an underline drawn by hand, a dotted line.

`lenet5/ruling/` finds a printed line by its shape, straight and at least 25 times as long as it
is thick. A pen's underline under one digit is too short and thick for that, and a dotted line is
no line of ink at all. Each is told by where it lies and what it is made of: a piece of ink apart
from the digits, wholly below them, wider than they are and flat; or a row of like specks, evenly
spaced, under the digits and reaching wider than they do. Specks of noise or dust, faint or
scattered, are neither.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

UNDERLINE_SHAPE = 5  # an underline drawn by hand is at least this many times as wide as it is high
DOTS = 5  # a dotted line: at least this many specks in a row
DOT_INK = 0.5  # ... each as dark as a stroke somewhere (above this share of the strokes' level)
SPECK = 0.01  # a piece of ink under this share of it is a speck, not the digits'


def not_specks(sizes: np.ndarray) -> np.ndarray:
    """Which pieces of ink, by their sizes (pixels), are not specks: each at least SPECK of them all."""
    return sizes >= SPECK * sizes.sum()


def without_underlines(ink: np.ndarray, inked: np.ndarray) -> np.ndarray:
    """Ink (H, W) without a line under the digits that is not long or thin enough to be found as a
    printed line: a stroke drawn by hand (a piece of ink apart from the digits, wholly below them,
    wider than they are and at least UNDERLINE_SHAPE times as wide as it is high), or a dotted line
    (`_dots`, of specks as dark as strokes: faint ones are the paper's noise); ink itself where
    neither is."""
    labels, n = ndimage.label(inked, structure=np.ones((3, 3), bool))
    if n < 2:
        return ink
    sizes = np.bincount(labels.ravel())[1:]
    boxes = ndimage.find_objects(labels)
    pieces = np.nonzero(not_specks(sizes))[0].tolist()
    if not pieces:  # nothing but specks: no digits to be under
        return ink
    lowest = max(pieces, key=lambda k: boxes[k][0].stop)
    others = [k for k in pieces if k != lowest]
    drop = []
    if others:
        bottom, (left, right) = _below_and_across([boxes[k] for k in others])
        rows, cols = boxes[lowest]
        if (rows.start >= bottom and cols.stop - cols.start > right - left
                and cols.stop - cols.start >= UNDERLINE_SHAPE * (rows.stop - rows.start)):
            drop.append(lowest)
    bottom, span = _below_and_across([boxes[k] for k in pieces if k not in drop])
    specks = np.setdiff1d(np.arange(n), pieces)
    peaks = np.zeros(n + 1, ink.dtype)  # each piece's darkest pixel (ndimage.maximum sorts every label: 8 ms on 600x200)
    np.maximum.at(peaks, labels[inked], ink[inked])
    solid = specks[peaks[specks + 1] > DOT_INK].tolist()
    drop += _dots(solid, boxes, sizes, bottom, span)
    if not drop:
        return ink
    out = ink.copy()
    out[np.isin(labels, [k + 1 for k in drop])] = 0
    return out


def box_around(boxes: list[tuple[slice, slice]]) -> tuple[int, int, int, int]:
    """The box (top, bottom, left, right; bottom and right past the end) around pieces' boxes (row and
    column slices)."""
    return (min(b[0].start for b in boxes), max(b[0].stop for b in boxes),
            min(b[1].start for b in boxes), max(b[1].stop for b in boxes))


def _below_and_across(boxes: list) -> tuple[int, tuple[int, int]]:
    """The row below the lowest of these pieces' boxes (row and column slices), and the columns they span."""
    _, bottom, left, right = box_around(boxes)
    return bottom, (left, right)


def _dots(specks: list[int], boxes: list, sizes: np.ndarray, bottom: int, span: tuple[int, int]) -> list[int]:
    """Those of the specks (labels - 1, with their boxes and sizes) that make a dotted line under digits
    whose ink ends at row `bottom` and spans columns `span`: DOTS or more in one row (within 2 px),
    each no higher than it lies below them (it may touch their lowest strokes), alike in size
    (within a factor of 2) and evenly spaced beside the digits (each gap within a third of the usual
    one; under the digits their strokes may have joined a few), reaching wider than the digits.
    Specks of noise or dust lie anywhere."""
    middles = {k: (boxes[k][0].start + boxes[k][0].stop) / 2 for k in specks}
    below = [k for k in specks if middles[k] >= bottom - (boxes[k][0].stop - boxes[k][0].start)]
    if len(below) < DOTS:
        return []
    row = np.median([middles[k] for k in below])
    dots = sorted((k for k in below if abs(middles[k] - row) <= 2), key=lambda k: boxes[k][1].start)
    if len(dots) < DOTS:
        return []
    size = np.median(sizes[dots])
    starts = np.array([boxes[k][1].start for k in dots])
    gaps = np.diff(starts)
    gaps = gaps[~((starts[1:] > span[0]) & (starts[:-1] < span[1]))]  # but where the digits lie over them
    even = len(gaps) >= DOTS - 1 and (np.abs(gaps - np.median(gaps)) <= np.median(gaps) / 3).all()
    alike = all(size / 2 <= sizes[k] <= 2 * size for k in dots)
    reach = boxes[dots[-1]][1].stop - boxes[dots[0]][1].start
    return dots if even and alike and reach > span[1] - span[0] else []
