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
DASH = 0.25  # a dotted or dashed line's dots are each at most this share of the largest piece of ink


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
        _, bottom, left, right = box_around([boxes[k] for k in others])
        rows, cols = boxes[lowest]
        if (rows.start >= bottom and cols.stop - cols.start > right - left
                and cols.stop - cols.start >= UNDERLINE_SHAPE * (rows.stop - rows.start)):
            drop.append(lowest)
    peaks = np.zeros(n + 1, ink.dtype)  # each piece's darkest pixel (ndimage.maximum sorts every label: 8 ms on 600x200)
    np.maximum.at(peaks, labels[inked], ink[inked])
    small = np.nonzero((sizes <= DASH * sizes.max()) & (peaks[1:] > DOT_INK))[0]
    digits = [k for k in pieces if k not in drop]
    drop += _dots([k for k in small.tolist() if k not in drop], digits, boxes, sizes)
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


def _dots(small: list[int], pieces: list[int], boxes: list, sizes: np.ndarray) -> list[int]:
    """Those of the small pieces (labels - 1, with their boxes and sizes) that make a dotted or dashed
    line beside the digits, the other `pieces` that are no specks: a row of them under or over the
    digits (each no farther into them than it is high: it may touch their strokes), reaching wider
    than they do, or a column of them anywhere along the digits (a form's dashed rule between or
    beside them), reaching higher than they do (`_in_a_row`). Specks of noise or dust lie anywhere."""
    found = _in_a_row(small, pieces, boxes, sizes, 0)
    return found + _in_a_row([k for k in small if k not in found], pieces, boxes, sizes, 1)


def _middle(box: tuple[slice, slice], axis: int) -> float:
    return (box[axis].start + box[axis].stop) / 2


def _extent(box: tuple[slice, slice], axis: int) -> int:
    return box[axis].stop - box[axis].start


def _in_a_row(small: list[int], pieces: list[int], boxes: list, sizes: np.ndarray, axis: int) -> list[int]:
    """The small pieces that lie in lines across `axis` (0: rows of dots, 1: columns): DOTS or more
    whose middles lie within 2 px of one's, alike in size (within a factor of 2; the two at its ends
    may be smaller, cut by the picture's edge), evenly spaced (each gap within a third of the usual
    one) and reaching farther along the line than the digits (the `pieces` not in it) do. A row must
    lie under or over the digits. Where a line passes the digits (a row under them, which their
    strokes may touch; a column between them), a gap along the digits may be two or more of the
    usual ones: their strokes may have joined a few dots."""
    along = 1 - axis
    middles = np.array([_middle(boxes[k], axis) for k in small])
    order = np.argsort(middles, kind="stable")
    middles, ordered = middles[order], np.asarray(small, dtype=int)[order]
    lo = np.searchsorted(middles, middles - 2, side="left")
    hi = np.searchsorted(middles, middles + 2, side="right")
    found: set[int] = set()
    for i in range(len(ordered)):
        if hi[i] - lo[i] < DOTS or (i > 0 and lo[i] == lo[i - 1] and hi[i] == hi[i - 1]):
            continue
        dots = sorted(ordered[lo[i]: hi[i]].tolist(), key=lambda k: boxes[k][along].start)
        digits = [boxes[k] for k in pieces if k not in dots]
        if not digits:
            continue
        top, bottom, left, right = box_around(digits)
        span, across = ((left, right), (top, bottom)) if axis == 0 else ((top, bottom), (left, right))
        if axis == 0:  # under the digits or over them, reaching no farther into them than a dot is high
            dots = [k for k in dots if _middle(boxes[k], 0) >= bottom - _extent(boxes[k], 0)
                    or _middle(boxes[k], 0) <= top + _extent(boxes[k], 0)]
            if len(dots) < DOTS:
                continue
        starts = np.array([boxes[k][along].start for k in dots])
        gaps = np.diff(starts)
        passing = (starts[1:] > span[0]) & (starts[:-1] < span[1]) & (axis == 0 or across[0] <= middles[i] <= across[1])
        usual = np.median(gaps[~passing]) if (~passing).sum() >= 2 else np.median(gaps)
        times = np.where(passing, np.maximum(np.round(gaps / max(usual, 1)), 1), 1)
        size = np.median(sizes[dots])
        even = (np.abs(gaps - times * usual) <= usual / 3).all()
        alike = all(size / 2 <= sizes[k] <= 2 * size for k in dots[1:-1]) and all(sizes[k] <= 2 * size for k in dots)
        reach = boxes[dots[-1]][along].stop - boxes[dots[0]][along].start
        if even and alike and reach > span[1] - span[0]:
            found.update(dots)
    return sorted(found)
