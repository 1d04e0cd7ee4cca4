"""Lines under the digits that are not printed lines: an underline drawn by hand, a dotted line.

`lenet5/ruling/` finds a printed line by its shape, straight and at least 25 times as long as it
is thick. A pen's underline under one digit is too short and thick for that, and a dotted line is
no line of ink at all. Each is told by where it lies and what it is made of: a piece of ink apart
from the digits, wholly below them, wider than they are and flat; or a row of like specks, evenly
spaced, under the digits and reaching wider than they do. Specks of noise or dust, faint or
scattered, are neither.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from scipy import ndimage

from lenet5.strokes import stroke_width

UNDERLINE_SHAPE = 5  # an underline drawn by hand is at least this many times as wide as it is high
DOTS = 5  # a dotted line: at least this many specks in a row
DOT_INK = 0.5  # ... each as dark as a stroke somewhere (above this share of the strokes' level)
SPECK = 0.01  # a piece of ink under this share of it is a speck, not the digits'
DASH = 0.25  # a dotted or dashed line's dots are each at most this share of the largest piece of ink
DOT_SHAPE = 1.5  # ... and no longer across the line than this many times their length along it
COLUMN_REACH = 1.25  # a dashed rule along the digits is at least this many times as high as they are
THIN = 0.6  # a printed line's dots are no thicker than this share of the digits' strokes (a pen's dashes are as thick)
EVEN = 0.75  # at least this share of a dotted line's gaps are its usual one (the others twice or more: dots missing)


def not_specks(sizes: np.ndarray) -> np.ndarray:
    """Which pieces of ink, by their sizes (pixels), are not specks: each at least SPECK of them all."""
    return sizes >= SPECK * sizes.sum()


def without_underlines(ink: np.ndarray, inked: np.ndarray) -> np.ndarray:
    """Ink (H, W) without a line under the digits that is not long or thin enough to be found as a
    printed line: a stroke drawn by hand (a piece of ink apart from the digits, wholly below them,
    wider than they are and at least UNDERLINE_SHAPE times as wide as it is high), or dotted and
    dashed lines beside the digits (`_dots`, of dots as dark as strokes: faint ones are the paper's
    noise); ink itself where neither is."""
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
    small = np.nonzero((sizes <= DASH * sizes.max()) & (peaks[1:] > DOT_INK))[0].tolist()
    digits = sorted(set(pieces) - set(drop) - set(small))
    if digits:
        box = box_around([boxes[k] for k in digits])
        drop += _dots([k for k in small if k not in drop], box, _strokes(ink, labels, digits, box), boxes, sizes)
    if not drop:
        return ink
    out = ink.copy()
    out[np.isin(labels, [k + 1 for k in drop])] = 0
    return out


def _strokes(ink: np.ndarray, labels: np.ndarray, digits: list[int], box: tuple[int, int, int, int]) -> Callable[[], float]:
    """The digits' (labels - 1) mean stroke width, px, measured when first asked (only a line of dots
    found needs it; a photo's ink is large), over their box and 2 px around it: `stroke_width` of the
    whole picture with all but the digits cleared, the same sums."""
    top, bottom, left, right = box
    around = slice(max(0, top - 2), bottom + 2), slice(max(0, left - 2), right + 2)

    @functools.cache
    def width() -> float:
        return stroke_width(np.where(np.isin(labels[around], [k + 1 for k in digits]), ink[around], 0))
    return width


def box_around(boxes: list[tuple[slice, slice]]) -> tuple[int, int, int, int]:
    """The box (top, bottom, left, right; bottom and right past the end) around pieces' boxes (row and
    column slices)."""
    return (min(b[0].start for b in boxes), max(b[0].stop for b in boxes),
            min(b[1].start for b in boxes), max(b[1].stop for b in boxes))


def _dots(small: list[int], digits: tuple[int, int, int, int], strokes: Callable[[], float], boxes: list,
          sizes: np.ndarray) -> list[int]:
    """Those of the small pieces (labels - 1, with their boxes and sizes) that make a dotted or dashed
    line beside the digits, whose box (`box_around`'s) is `digits`: a row of flat or round dots under
    them (each no farther into them than it is high: it may touch their strokes) or clear over them
    (not a 7's bar broken by a skipping pen), or a column
    of upright or round ones anywhere along them (a form's dashed rule between or beside them),
    reaching past them at both ends, a column COLUMN_REACH times as high as they are, each line's
    dashes printed thin, under THIN of the digits' `strokes` width (asked only of a line found; a pen that skips leaves dashes as
    wide as its strokes: a 7's bar, a 1), its round dots no thicker than the strokes, but for a row of
    specks under them (`_in_a_row`); and the
    pieces where a row and a column found meet (a dashed box's corners). Specks of noise or dust lie
    anywhere."""
    small = np.asarray(small, dtype=int)
    bounds = np.array([(boxes[k][0].start, boxes[k][0].stop, boxes[k][1].start, boxes[k][1].stop) for k in small],
                      dtype=int).reshape(-1, 2, 2)  # [piece, axis, start / stop]
    speck = ~not_specks(sizes)[small]
    rows, cols = (_in_a_row(bounds, sizes[small], speck, digits, strokes, axis) for axis in (0, 1))
    found = np.zeros(len(small), bool)
    for line in rows + cols:
        found[line] = True
    corner = ~found & _meets(bounds, rows, 0) & _meets(bounds, cols, 1)
    return small[found | corner].tolist()


def _meets(bounds: np.ndarray, lines: list[np.ndarray], axis: int) -> np.ndarray:
    """Which pieces (their `bounds`) reach into the band across `axis` that one of the lines' dots cover."""
    meets = np.zeros(len(bounds), bool)
    for line in lines:
        low, high = bounds[line, axis, 0].min(), bounds[line, axis, 1].max()
        meets |= (bounds[:, axis, 0] < high) & (bounds[:, axis, 1] > low)
    return meets


def _in_a_row(bounds: np.ndarray, areas: np.ndarray, speck: np.ndarray, digits: tuple[int, int, int, int],
              strokes: Callable[[], float], axis: int) -> list[np.ndarray]:
    """The lines of small pieces (their `bounds`, `areas` and whether each is a `speck`) across `axis`
    (0: rows of dots, 1: columns), each (indices into `bounds`) DOTS or more dots no longer across the
    line than DOT_SHAPE times their length along it and, but for a row of specks under the digits,
    no thicker than THIN of the digits' `strokes` (their median; dots as long as they are thick: than
    the strokes), whose middles lie within 2 px of one dot's, alike in size (within a
    factor of 2; the two at its ends may be smaller, cut by the picture's edge), evenly spaced (each
    gap within a third of the usual one) and reaching past the digits at both ends by half a usual
    gap; a column at least COLUMN_REACH times as high as they are, a row under or over them. A gap
    may be two of the usual ones (a dot joined to a crossing line: a dashed box's corner), and where
    a line passes the digits (a row under or over them, whose strokes may touch it; a column between
    them), two or more: their strokes may have joined a few dots; but EVEN of the gaps are the usual one."""
    along = 1 - axis
    top, bottom, left, right = digits
    span, across = ((left, right), (top, bottom)) if axis == 0 else ((top, bottom), (left, right))
    extent = bounds[:, :, 1] - bounds[:, :, 0]
    middle = bounds[:, axis].sum(axis=1) / 2
    shaped = extent[:, axis] <= DOT_SHAPE * extent[:, along]
    under = (middle >= bottom - extent[:, 0]) if axis == 0 else np.zeros(len(bounds), bool)
    if axis == 0:  # under the digits, reaching no farther into them than a dot is high, or clear over them
        shaped &= under | (bounds[:, 0, 1] < top)
    candidates = np.nonzero(shaped)[0]
    ordered = candidates[np.argsort(middle[candidates], kind="stable")]
    middles, begins, ends = middle[ordered], bounds[ordered, along, 0], bounds[ordered, along, 1]
    lo = np.searchsorted(middles, middles - 2, side="left")
    hi = np.searchsorted(middles, middles + 2, side="right")
    lines, free = [], np.ones(len(ordered), bool)  # free: in no line found yet
    for i in range(len(ordered)):
        if hi[i] - lo[i] < DOTS or (i > 0 and lo[i] == lo[i - 1] and hi[i] == hi[i - 1]):
            continue
        at = np.arange(lo[i], hi[i])[free[lo[i]: hi[i]]]
        if len(at) < DOTS:
            continue
        at = at[np.argsort(begins[at], kind="stable")]
        sized = areas[ordered[at]]
        size = np.median(sized)
        if (sized > 2 * size).any() or (sized[1:-1] < size / 2).any():  # alike, the ends perhaps cut short
            continue
        starts = begins[at]
        gaps = np.diff(starts)
        passing = (starts[1:] > span[0]) & (starts[:-1] < span[1]) & (axis == 0 or across[0] <= middles[i] <= across[1])
        usual = float(np.median(gaps[~passing]) if (~passing).sum() >= 2 else np.median(gaps))
        times = np.maximum(np.round(gaps / max(usual, 1.0)), 1)
        times = np.where(passing, times, np.minimum(times, 2))
        even = (np.abs(gaps - times * usual) <= usual / 3).all() and (times == 1).mean() >= EVEN
        first, last = starts[0], ends[at].max()
        past = first <= span[0] - usual / 2 and last >= span[1] + usual / 2
        high = axis == 0 or last - first >= COLUMN_REACH * (span[1] - span[0])
        if not (even and past and high):
            continue
        dots = ordered[at]
        round_dots = (extent[dots, along] <= DOT_SHAPE * extent[dots, axis]).all()  # a dash is thin, a dot no thicker than a stroke
        printed = (np.median(extent[dots, axis]) <= (1.0 if round_dots else THIN) * strokes()
                   or (under[dots] & speck[dots]).all())
        if printed:
            lines.append(ordered[at])
            free[at] = False
    return lines
