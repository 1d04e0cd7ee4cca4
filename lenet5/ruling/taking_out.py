"""Taking the lines out of the ink: the digits' pixels among what they leave (`digits`), whether a line
is longer than the digits (`longer`), the pixels that lines' bands cover (`covered`), and each line
cleared, the strokes that cross it or rest on it drawn on through it and those along it kept
(`take_out`)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from lenet5.ruling.line import Line, middle_of, run_lengths, slope_of
from lenet5.underlines import not_specks

SOLID = 0.5  # ink above this share of the strokes' level is a stroke's
STROKE_OVER = 0.2  # where a stroke lies along a line, its ink is this much darker than the line's own (`_over_the_line`)
STROKE_ALONG = 1.5  # ... or, as dark as the line, a column's stretch of it holds at least this many pixels' worth of ink
# more than the line's own, where no solid ink lies beyond the stretch to draw it from (a turned line's steps add one
# pixel's; on held-out amounts on squared paper a 0.8-dark stroke along a rule went with it: composed squares
# 85.0 -> 91.3% read exactly, lined 89.3 -> 92.7%)
FRAGMENT = 10  # a piece of ink this many times as long as it is wide is a fragment of a line, not of digits


def covered(shape: tuple[int, int], rows: list[Line], cols: list[Line]) -> np.ndarray:
    """How many lines' bands cover each pixel of an image (H, W), int16: `rows` along its rows, `cols`
    lines of the transposed image (columns, a form's walls, a comb's ticks)."""
    count = np.zeros(shape, np.int16)
    for line in rows:
        count[:, line.start: line.stop + 1] += line.band
    for line in cols:
        count[line.start: line.stop + 1] += line.band.T
    return count


def digits(rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of the digits' pixels among the ink the lines leave (bool, H x W): specks
    of it (`not_specks`) do not count, nor pieces FRAGMENT times as long as they are wide (what is left
    of a line cut short by the image's corner, say)."""
    labels, n = ndimage.label(rest, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel())[1:]
    spans = np.array([(b[0].stop - b[0].start, b[1].stop - b[1].start) for b in ndimage.find_objects(labels)]).reshape(-1, 2)
    shaped = np.maximum(spans[:, 0], spans[:, 1]) < FRAGMENT * np.minimum(spans[:, 0], spans[:, 1])
    ys, xs = np.nonzero(np.isin(labels, 1 + np.nonzero(not_specks(sizes) & shaped)[0]))
    if len(ys) == 0:  # nothing but specks and fragments
        ys, xs = np.nonzero(rest)
    return ys, xs


def longer(line: Line, along: np.ndarray, across: np.ndarray) -> bool:
    """Whether a line (along the rows) is longer than the digits reach along the rows, their pixels'
    columns `along` and rows `across` (an underline or a box's side is; a digit's straight stroke is
    not); a steep line's and a box's side's both measured along its own slope instead: a tight box's
    sides turned 10 degrees are shorter by rows than the 1 inside, turned with them. (Along the slope
    of every line, a 1 as tall as the 0s beside it on a page turned 2-7 degrees went as a line, as it
    does level.)"""
    slope = slope_of(line) if line.along_tilt else 0.0
    norm = float(np.hypot(1.0, slope))
    return line.length * norm > np.ptp((along + slope * across) / norm) + 1


def take_out(ink: np.ndarray, line: Line, others: np.ndarray) -> None:
    """Take a line along the rows out of ink (H, W), in place: each column's stretch of line (with a
    pixel of its soft edge either side) is cleared, or, where a stroke's ink lies just above or below
    it (a stroke crossing the line or resting on it), drawn from the ink there. Where a stroke lies
    along the line, over it (`_over_the_line`: a 9's loop on a rule; not where `others`, H x W bool, says
    another line's band lies: a box's corner), its ink stays, and the stretch is drawn between it and the
    ink above and below."""
    h = ink.shape[0]
    cols = np.nonzero(line.band.any(axis=0))[0]
    if len(cols) == 0:
        return
    band = line.band[:, cols]
    tops = np.maximum(band.argmax(axis=0) - 1, 0)
    bottoms = np.minimum(h - band[::-1].argmax(axis=0), h - 1)  # a row past the band's last
    above = np.where(tops > 0, ink[np.maximum(tops - 1, 0), cols], 0.0)  # (no column's stretch reaches another's)
    below = np.where(bottoms < h - 1, ink[np.minimum(bottoms + 1, h - 1), cols], 0.0)
    drawn = (above > SOLID) | (below > SOLID)  # a stroke crossing it or resting on it: drawn from the ink there
    over = _over_the_line(ink[:, cols], line, cols, tops, bottoms, others[:, cols], drawn)
    for k, x in enumerate(cols):
        top, bottom = tops[k], bottoms[k]
        stroke = over[k, : bottom - top + 1]
        if stroke.any():
            stretch = ink[top: bottom + 1, x]
            at = np.concatenate(([-1], np.nonzero(stroke)[0], [len(stroke)]))  # the anchors: above, the stroke, below
            level = np.concatenate(([above[k]], stretch[stroke], [below[k]]))  # (every pixel has the stroke on one side)
            ink[top: bottom + 1, x] = np.where(stroke, stretch, np.interp(np.arange(len(stroke)), at, level))
        elif drawn[k]:
            ink[top: bottom + 1, x] = np.linspace(above[k], below[k], bottom - top + 3)[1:-1]
        else:
            ink[top: bottom + 1, x] = 0.0


def _over_the_line(ink: np.ndarray, line: Line, cols: np.ndarray, tops: np.ndarray, bottoms: np.ndarray,
                   others: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Which pixels of each column's stretch of a line (ink: H x the columns `cols` of the line's band;
    the stretches rows tops..bottoms) are a stroke's lying along the line, over it (columns, longest
    stretch), bool: where solid ink runs down the column through the stretch at least twice as far as the
    line's own solid rows and one more, the pixels solid and STROKE_OVER darker than the line's own ink at
    that place across it (the median over its columns, most of which are bare); and, for a stroke as
    dark as the line, the solid pixels of each column whose stretch holds STROKE_ALONG pixels' worth of
    ink more than the line's own there (a stroke thicker than the line, or beside it in its soft edge),
    where no solid ink lies just beyond the stretch to draw it from (not `drawn`, (columns,) bool: a
    stroke crossing the line at a slant would leave the line's own pixels beside it). A stroke hidden
    under the line's rows cannot be told from it; another line crossing it (`others`, as `ink`) is none."""
    h, length = ink.shape[0], int((bottoms - tops).max()) + 1
    middle = np.round(middle_of(line, line.start + cols)).astype(int)
    reach = int(np.ceil(line.thickness)) + 2
    at = middle[:, None] + np.arange(-reach, reach + 1)  # (columns, offsets from the middle)
    profile = np.median(np.where((at >= 0) & (at < h), ink[np.clip(at, 0, h - 1), np.arange(len(cols))[:, None]], 0.0), axis=0)
    need = 2 * max(int((profile > SOLID).sum()), 1) + 1
    low, high = max(int(tops.min()) - need, 0), min(int(bottoms.max()) + need + 1, h)
    runs = run_lengths((ink[low:high] > SOLID).T).T  # each pixel's run of solid ink down its column (near the line)
    rows = tops[:, None] + np.arange(length)  # (columns, longest stretch)
    inside = rows <= bottoms[:, None]
    each = np.arange(len(cols))[:, None]
    longest = np.where(inside, runs[np.clip(rows - low, 0, high - low - 1), each], 0).max(axis=1)
    stretch = np.where(inside, ink[np.clip(rows, 0, h - 1), each], 0.0)
    expected = profile[np.clip(rows - middle[:, None] + reach, 0, 2 * reach)]
    crossing = others[np.clip(rows, 0, h - 1), each]
    darker = (longest >= need)[:, None] & (stretch > expected + STROKE_OVER)
    more = ~drawn & (np.where(inside & ~crossing, stretch - expected, 0.0).sum(axis=1) >= STROKE_ALONG)  # as dark as the line
    return inside & ~crossing & (darker | more[:, None]) & (stretch > SOLID)
