"""Lines among the digits: the rules of ruled and graph paper, a form's boxes, a line to write on, an
underline.

People write digits on lined paper, in the boxes of a form, on a line and underline them. Such a
line is ink to `ink_map`, and the digit's bounding box then takes it in (a boxed 1 read as an 8). A
printed line is told from a stroke by its shape: straight and far longer than it is thick
(LINE_SHAPE: at least 25 times, where a pen's straightest stroke, a 1 or a 7's bar, is at most about
15 times as long as it is wide). It is found from pieces whose every pixel's run of ink along the
row is at least SEED_SHAPE times the run across it (so are the steps of a line tilted by up to about
7 degrees: a photographed page is seldom square), the same along the columns; a line found only
from pieces at STEEP_SEED_SHAPE, tilted by 6 to about 11 degrees, is kept only beside another as
steep (a page photographed askew turns all its lines together; a stroke leaning so, a 7's bar or a
4's stem, stands alone) and where its band is filled along 25 times its thickness at a stretch (no
thin stroke followed on through a photo's noise); each piece's line is
fitted to the line's own ink, followed along its band, through the strokes that cross it, as far as
it goes, and kept where it is 25 times as long as it is thick and has paper on both sides (BARE: not
a band inside a broad stroke; where graph paper's lines cross it, they count as paper), or, without
paper enough, where it lies as another line found does, from the same column to the same, as thick and
as tilted (`line.lie_alike`: a rule of a ruled page through the middle of heavy digits written close together,
which cover more than half of it). A narrow
box's short sides are found between the ends of its long ones (`boxes.sides`); the walls between a
form's cells from one line to the next (`boxes.walls`), and a comb's ticks rising from a line between
the digits' places (`combs.combs_of`), by their being thin, at least three and evenly spaced (and ticks as
high as each other and shorter than the digits). A line must also be longer than the digits it lies
among are wide (or high, for a column), as an underline or a box's side is (a steep line's and a
box side's both measured along its own tilt: a tight box turned with the page). It is taken out, and
where a stroke crosses it or rests on it, the stroke is drawn on through it. Underlines drawn by
hand and dotted lines, too short or broken for a printed line, go last (lenet5/underlines.py).
All of it is looked for in the ink above the paper's grain (`specks.grain_floor`, from weak pieces
too small to be a line's): a photo's grain, inking a fifth of the paper faintly, thickens every line
found through it and covers the paper beside it. A squared page's columns in a strip a few squares
high, blurred thick, can be shorter than LINE_SHAPE allows; where the rows found across them are a
page's, columns on their grid, as thick and across all the rows, are kept at SQUARE_SHAPE (`squared.squares`).

The parts: line.py (a found `Line`, its geometry, and `run_lengths`), lines.py (lines found and followed),
grids.py (a ruled or squared page's grid), squared.py (a squared strip's columns), boxes.py (a box's
sides, a form's walls), combs.py, taking_out.py (the digits, and the lines taken out of the ink); here,
`without_lines`, which puts them together.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from lenet5.ruling.boxes import sides, walls
from lenet5.ruling.combs import combs_of, short
from lenet5.ruling.line import LINE_SHAPE, run_lengths
from lenet5.ruling.lines import lines_of, turned_together
from lenet5.ruling.squared import squares
from lenet5.ruling.taking_out import covered, digits, longer, take_out
from lenet5.specks import grain_floor
from lenet5.underlines import without_underlines

__all__ = ["without_lines", "within_ink_box", "run_lengths"]

DIGITS_LEFT = 0.05  # what the lines leave must be at least this share of the ink, or nothing is taken out


def without_lines(ink: np.ndarray) -> np.ndarray:
    """Ink [0, 1] (H, W), as `ink_map` gives -> the same without the printed lines in it; the same
    array, untouched, where none is found, or where the lines would leave no digits."""
    return within_ink_box(ink, _without_lines)


def within_ink_box(ink: np.ndarray, step: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`step` applied to the box around the ink (every line, ring and digit lies in it: a photo's
    page around it costs nothing); `ink` itself, untouched, where `step` returns its view as it was."""
    inked = ink > 0
    rows, cols = np.nonzero(inked.any(axis=1))[0], np.nonzero(inked.any(axis=0))[0]
    if len(rows) == 0:
        return ink
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    view = ink[box]
    inside = step(view)
    if inside is view:
        return ink
    out = ink.copy()
    out[box] = inside
    return out


def _without_lines(ink: np.ndarray) -> np.ndarray:
    """`without_lines` on the ink's own box."""
    floor = grain_floor(ink, smaller_than=LINE_SHAPE)  # a line is at least LINE_SHAPE long (a steep one's pieces may be
    # shorter, but the grain is judged on connected ink, where they join their line)
    inked = ink > floor  # lines are looked for above the paper's grain; a faint rule counts as a dark one does
    along, across = run_lengths(inked), run_lengths(inked.T).T  # each pixel's run of ink along its row, its column
    rows = lines_of(inked, along, across)
    cols = squares(rows[0], lines_of(inked.T, across.T, along.T), inked.T, across.T, along.T)
    rows, cols = turned_together(rows, cols, inked)
    combs = combs_of(rows, inked)
    rows, cols = rows + sides(cols, inked.T) + walls(cols, inked.T), cols + sides(rows, inked) + walls(rows, inked)
    if not (rows or cols):
        return without_underlines(ink, inked)
    lines = covered(ink.shape, rows, cols) > 0
    rest = inked & ~ndimage.binary_dilation(lines, iterations=2)  # the lines' soft edges are not digits
    if combs:
        ticks = covered(ink.shape, [], [tick for comb in combs for tick in comb.ticks]) > 0
        without_ticks = rest & ~ndimage.binary_dilation(ticks, iterations=2)
        if without_ticks.sum() >= DIGITS_LEFT * inked.sum():
            rest = without_ticks
        else:  # the ticks were all the digits: 1s standing on a line
            combs = []
    if rest.sum() < DIGITS_LEFT * inked.sum():  # a 1 made of one straight stroke, say: it is the digit
        return ink
    ys, xs = digits(rest)
    rows, cols = [line for line in rows if longer(line, xs, ys)], [line for line in cols if longer(line, ys, xs)]
    ticks = [tick for comb in combs if any(line is comb.base for line in rows) for tick in short(comb, rest)]
    if not (rows or cols):
        return without_underlines(ink, inked)
    out, bands = ink.copy(), covered(ink.shape, rows, cols + ticks)
    for line in ticks:  # first, so that the line they stand on is not drawn on through them
        take_out(out[line.start: line.stop + 1].T, line, bands[line.start: line.stop + 1].T - line.band > 0)
    for line in rows:
        take_out(out[:, line.start: line.stop + 1], line, bands[:, line.start: line.stop + 1] - line.band > 0)
    for line in cols:
        take_out(out[line.start: line.stop + 1].T, line, bands[line.start: line.stop + 1].T - line.band > 0)
    return without_underlines(out, out > floor)
