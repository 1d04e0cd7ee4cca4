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
as tilted (`_alike`: a rule of a ruled page through the middle of heavy digits written close together,
which cover more than half of it). A narrow
box's short sides are found between the ends of its long ones (`_sides`); the walls between a
form's cells from one line to the next (`_walls`), and a comb's ticks rising from a line between
the digits' places (`_combs`), by their being thin, at least three and evenly spaced (and ticks as
high as each other and shorter than the digits). A line must also be longer than the digits it lies
among are wide (or high, for a column), as an underline or a box's side is (a steep line's and a
box side's both measured along its own tilt: a tight box turned with the page). It is taken out, and
where a stroke crosses it or rests on it, the stroke is drawn on through it. Underlines drawn by
hand and dotted lines, too short or broken for a printed line, go last (lenet5/underlines.py).
All of it is looked for in the ink above the paper's grain (`specks.grain_floor`, from weak pieces
too small to be a line's): a photo's grain, inking a fifth of the paper faintly, thickens every line
found through it and covers the paper beside it. A squared page's columns in a strip a few squares
high, blurred thick, can be shorter than LINE_SHAPE allows; where the rows found across them are a
page's, columns on their grid, as thick and across all the rows, are kept at SQUARE_SHAPE (`_squares`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from lenet5.specks import grain_floor
from lenet5.underlines import not_specks, without_underlines

SOLID = 0.5  # ink above this share of the strokes' level is a stroke's
STROKE_OVER = 0.2  # where a stroke lies along a line, its ink is this much darker than the line's own (`_over_the_line`)
STROKE_ALONG = 1.5  # ... or, as dark as the line, a column's stretch of it holds at least this many pixels' worth of ink
# more than the line's own, where no solid ink lies beyond the stretch to draw it from (a turned line's steps add one
# pixel's; on held-out amounts on squared paper a 0.8-dark stroke along a rule went with it: composed squares
# 85.0 -> 91.3% read exactly, lined 89.3 -> 92.7%)
LINE_SHAPE = 25  # along a printed line, the run of ink is at least this many times the run across it
SQUARE_SHAPE = 20  # a squared page's columns where its rows vouch for them (`_squares`); a pen's stroke stays under it
SEED_SHAPE = 8  # a line's pieces: pixels whose run along is at least this many times the run across
STEEP = 6.0  # degrees: a line tilted more is kept only beside another found line tilted within STEEP_SAME of it
STEEP_SAME = 2.0  # degrees
SAME_TILT = 0.5  # degrees: a line without paper on both sides is kept beside one found as tilted within this (`_alike`)
SAME_ENDS = 0.05  # ... and ending where it does within this share of its length (or twice its thickness)
GRID = 3  # a ruled or squared page's lines found alike and evenly spaced, at least this many, show where the others lie
GRID_SPACING = 4  # px: ... at least this far apart (`_missing`)
GRID_SLACK = 0.15  # ... every gap between them within this share of a spacing of a whole number of spacings
HELD = 0.8  # ... and a line looked for there is ink along at least this share of its length (a rule is, under the digits too;
# a row through the strokes of the digits at its ends is not)
STEEP_SEED_SHAPE = 5  # pieces of lines tilted up to about 11 degrees (between what SEED_SHAPE finds and what
# lenet5/read/line.py turns upright, an amount in a box photographed 7-10 degrees askew read 54-81%, level 92%)
CROSSING = 4  # px: where another line crosses a line, a pixel joins the line's pieces that lie within this of it along
# the row on both sides
GAP = 2  # a line followed along its band may be broken for this many pixels (a scan's dropouts)
BARE = 0.5  # a line has paper on both sides of its band along at least this share of it
SIDE_HELD = 0.9  # a box's side found between two lines' ends is ink along this share of it
WALL = 2.0  # a wall between a form's cells is at most this many times as thick as the lines it joins
WALLS = 3  # a form's cells show at least this many walls between the same two lines (two cells, or a
# digit's stroke from rule to rule on ruled paper would be taken for one)
WALLS_AT_ONCE = 128  # walls looked for together (over the rows between the two lines there: a tilted page's lines
# span many more rows than lie between them in any one place)
SPACING = 0.25  # ... evenly spaced: each gap within this share of their median
TICK_SAME = 0.25  # a comb's ticks are as high as each other, within this share of their median
TICK = 0.6  # ... and at most this share of the height of the digits over their line (three 1s standing on a
# line beside other digits are no comb)
FRAGMENT = 10  # a piece of ink this many times as long as it is wide is a fragment of a line, not of digits
DIGITS_LEFT = 0.05  # what the lines leave must be at least this share of the ink, or nothing is taken out


@dataclass(frozen=True)
class Line:
    """A printed line along the rows of an image (H, W); a column's is one of the transposed image."""
    band: np.ndarray  # (H, stop - start + 1) bool: the pixels it covers, from column `start` on
    start: int  # its first column
    stop: int  # its last
    ends: tuple[float, float]  # the row of its middle at start and at stop
    thickness: float
    along_tilt: bool = False  # measured against the digits along its own tilt (`_longer`): a steep line, a box's side

    @property
    def length(self) -> int:
        return self.stop - self.start + 1


@dataclass(frozen=True)
class Grid:
    """A ruled or squared page's lines among those found (`_grid`)."""
    first: Line  # the first found line whose lines alike are a page's
    lines: list[Line]  # its lines alike, top to bottom (a line found twice, both)
    at: np.ndarray  # their rows at the middle column, a line found twice counted once
    steps: np.ndarray  # each gap between those, in spacings (int)

    @property
    def spacing(self) -> float:
        return float(np.diff(self.at).sum() / self.steps.sum())


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
    floor = grain_floor(ink, smaller_than=LINE_SHAPE)  # a line's piece is at least LINE_SHAPE long
    inked = ink > floor  # lines are looked for above the paper's grain; a faint rule counts as a dark one does
    along, across = run_lengths(inked), run_lengths(inked.T).T  # each pixel's run of ink along its row, its column
    rows = _lines(inked, along, across)
    cols = _squares(rows[0], _lines(inked.T, across.T, along.T), inked.T, across.T, along.T)
    rows, cols = _turned_together(rows, cols, inked)
    combs = _combs(rows, inked)
    rows, cols = rows + _sides(cols, inked.T) + _walls(cols, inked.T), cols + _sides(rows, inked) + _walls(rows, inked)
    if not (rows or cols):
        return without_underlines(ink, inked)
    lines = _covered(ink.shape, rows, cols) > 0
    rest = inked & ~ndimage.binary_dilation(lines, iterations=2)  # the lines' soft edges are not digits
    if combs:
        ticks = _covered(ink.shape, [], [tick for comb in combs for tick in comb.ticks]) > 0
        without_ticks = rest & ~ndimage.binary_dilation(ticks, iterations=2)
        if without_ticks.sum() >= DIGITS_LEFT * inked.sum():
            rest = without_ticks
        else:  # the ticks were all the digits: 1s standing on a line
            combs = []
    if rest.sum() < DIGITS_LEFT * inked.sum():  # a 1 made of one straight stroke, say: it is the digit
        return ink
    ys, xs = _digits(rest)
    rows, cols = [line for line in rows if _longer(line, xs, ys)], [line for line in cols if _longer(line, ys, xs)]
    ticks = [tick for comb in combs if any(line is comb.base for line in rows) for tick in _short(comb, rest)]
    if not (rows or cols):
        return without_underlines(ink, inked)
    out, bands = ink.copy(), _covered(ink.shape, rows, cols + ticks)
    for line in ticks:  # first, so that the line they stand on is not drawn on through them
        _take_out(out[line.start: line.stop + 1].T, line, bands[line.start: line.stop + 1].T - line.band > 0)
    for line in rows:
        _take_out(out[:, line.start: line.stop + 1], line, bands[:, line.start: line.stop + 1] - line.band > 0)
    for line in cols:
        _take_out(out[line.start: line.stop + 1].T, line, bands[line.start: line.stop + 1].T - line.band > 0)
    return without_underlines(out, out > floor)


def _covered(shape: tuple[int, int], rows: list[Line], cols: list[Line]) -> np.ndarray:
    """How many lines' bands cover each pixel of an image (H, W), int16: `rows` along its rows, `cols`
    lines of the transposed image (columns, a form's walls, a comb's ticks)."""
    count = np.zeros(shape, np.int16)
    for line in rows:
        count[:, line.start: line.stop + 1] += line.band
    for line in cols:
        count[line.start: line.stop + 1] += line.band.T
    return count


def _sides(lines: list[Line], inked: np.ndarray) -> list[Line]:
    """The sides of boxes that `lines` (along the rows of inked, H x W) are the other sides of: where a
    line and the next below it that begins (or ends) square to it are joined there by a column of ink,
    that column, as a line of the transposed image (a narrow box's short sides are not long enough to
    be found as lines themselves)."""
    found = []
    lines = sorted(lines, key=lambda line: line.ends[0])
    for i, a in enumerate(lines):
        for end in (0, 1):
            for b in lines[i + 1:]:
                side = _side(a, b, end, inked)
                if side is not None:
                    found.append(side)
                    break
    return found


def _side(a: Line, b: Line, end: int, inked: np.ndarray) -> Line | None:
    """The column of ink joining lines a and b (a above b) at their starts (end 0) or stops (1), if
    they begin or end together (the one's end square to the other's: a box photographed turned leans)
    and ink joins them there, running from the one's end to the other's."""
    h, w = inked.shape
    reach = int(2 * max(a.thickness, b.thickness) + 2)
    x = (a.start, b.start) if end == 0 else (a.stop, b.stop)
    if abs(x[0] + (_lean(a) + _lean(b)) / 2 * (b.ends[end] - a.ends[end]) - x[1]) > reach:  # square to them
        return None
    top, bottom = max(int(round(a.ends[end])), 0), min(int(round(b.ends[end])), h - 1)
    if bottom - top < 2:
        return None
    rows = np.arange(top, bottom + 1)
    edge = np.round(x[0] + (x[1] - x[0]) * (rows - top) / (bottom - top)).astype(int)  # the lines' ends, joined
    offsets = np.arange(-2, reach + 1) if end == 0 else np.arange(-reach, 3)  # inwards from the ends, and a little out
    cols = edge[None, :] + offsets[:, None]  # (offsets, rows)
    inside = (cols >= 0) & (cols < w)
    strip = inked[rows[None, :], np.clip(cols, 0, w - 1)] & inside
    held = strip.mean(axis=1) >= SIDE_HELD
    if not held.any():
        return None
    band = np.zeros((w, bottom - top + 1), bool)
    along = np.broadcast_to(np.arange(bottom - top + 1), cols.shape)
    band[np.clip(cols[held], 0, w - 1), along[held]] = strip[held]
    inwards = float(np.mean(offsets[held]))
    return Line(band, top, bottom, (x[0] + inwards, x[1] + inwards), float(held.sum()), along_tilt=True)


def _walls(lines: list[Line], inked: np.ndarray) -> list[Line]:
    """The walls between a form's cells (a digit in each): columns of ink that join a line along the
    rows of inked (H x W) to the nearest line below it over the same columns, square to them (a form
    photographed turned leans), held for SIDE_HELD of the way, no thicker than WALL times the lines,
    and at least WALLS of them evenly spaced (within SPACING) between the same two lines; each as a
    line of the transposed image."""
    found = []
    for a in lines:
        below = [b for b in lines if _middle(b, np.array([b.start]))[0] > _middle(a, np.array([b.start]))[0] + a.thickness
                 and min(a.stop, b.stop) - max(a.start, b.start) >= 2]
        if below:
            b = min(below, key=lambda b: (b.ends[0] + b.ends[1]) / 2)
            found += _walls_between(a, b, inked)
    return found


def _walls_between(a: Line, b: Line, inked: np.ndarray) -> list[Line]:
    """`_walls` between line a and line b below it."""
    h, w = inked.shape
    x0, x1 = max(a.start, b.start), min(a.stop, b.stop)
    lean = (_lean(a) + _lean(b)) / 2
    cols = np.arange(x0, x1 + 1)  # where each wall crosses the row `first`
    first = int(np.ceil(_middle(a, cols).min() + a.thickness / 2))  # under a's band, over b's
    last = int(np.floor(_middle(b, cols).max() - b.thickness / 2))
    rows = np.arange(max(first, 0), min(last, h - 1) + 1)
    if len(rows) < 3:
        return []
    inside, through = np.zeros(len(cols), int), np.zeros(len(cols), int)  # each wall's rows between the lines, inked
    reach = abs(lean) * len(rows) + 1  # how far a wall strays from its column over the rows
    for k in range(0, len(cols), WALLS_AT_ONCE):  # a block of walls at a time, over the rows between the lines there
        block = cols[k: k + WALLS_AT_ONCE]
        ends = np.array([block[0] - reach, block[-1] + reach])
        near = rows[(rows >= _middle(a, ends).min() + a.thickness / 2 - 1) & (rows <= _middle(b, ends).max() - b.thickness / 2 + 1)]
        at = block[None, :] + np.round(lean * (near[:, None] - first)).astype(int)  # (rows, walls): each wall's column in each row
        between = ((near[:, None] >= _middle(a, at) + a.thickness / 2) & (near[:, None] <= _middle(b, at) - b.thickness / 2)
                   & (at >= 0) & (at < w))
        inside[k: k + len(block)] = between.sum(axis=0)
        through[k: k + len(block)] = (inked[near[:, None], np.clip(at, 0, w - 1)] & between).sum(axis=0)
    held = through >= SIDE_HELD * np.maximum(inside, 1)
    runs = [cols[run] for run in _runs(held & (inside >= 3)) if len(run) <= WALL * max(a.thickness, b.thickness)]
    if not _evenly_spaced(runs):
        return []  # a digit's upright stroke from rule to rule, or two: not a row of cells
    return [_upright(inked, run, max(int(np.floor(_middle(a, run).mean() - a.thickness / 2)), 0),  # through the lines'
                     min(int(np.ceil(_middle(b, run).mean() + b.thickness / 2)), h - 1), lean, first)  # bands: where they
            for run in runs]  # cross, the lines drew it on


def _upright(inked: np.ndarray, run: np.ndarray, y0: int, y1: int, lean: float, first: int) -> Line:
    """The column line of a wall or tick: the ink of columns `run` from row y0 to y1 of inked (H x W),
    shifted by `lean` columns a row from row `first` on (a form photographed turned), as a line of the
    transposed image."""
    w = inked.shape[1]
    ys = np.arange(y0, y1 + 1)
    xs = run[None, :] + np.round(lean * (ys[:, None] - first)).astype(int)  # (rows, run)
    inside = (xs >= 0) & (xs < w)
    band = np.zeros((w, y1 - y0 + 1), bool)
    along = np.broadcast_to((ys - y0)[:, None], xs.shape)
    band[xs[inside], along[inside]] = inked[np.broadcast_to(ys[:, None], xs.shape)[inside], xs[inside]]
    return Line(band, y0, y1, (float(run.mean() + lean * (y0 - first)), float(run.mean() + lean * (y1 - first))), float(len(run)))


def _slope(line: Line) -> float:
    """Rows a column by which a line along the rows falls (down to the right: positive)."""
    return (line.ends[1] - line.ends[0]) / max(line.stop - line.start, 1)


def _lean(line: Line) -> float:
    """Columns a row by which a line square to `line` (along the rows) leans: minus its slope."""
    return -_slope(line)


def _runs(mask: np.ndarray) -> list[np.ndarray]:
    """The runs of True in a 1-D mask, each as its indices, left to right."""
    return [np.arange(run.start, run.stop) for run, in ndimage.find_objects(ndimage.label(mask)[0])]


def _evenly_spaced(runs: list[np.ndarray]) -> bool:
    """Whether runs of columns are at least WALLS, evenly spaced (each gap within SPACING of their median)."""
    gaps = np.diff([run.mean() for run in runs])
    return len(runs) >= WALLS and np.abs(gaps - np.median(gaps)).max() <= SPACING * np.median(gaps)


@dataclass(frozen=True)
class Comb:
    """A comb: the line it stands on, its ticks (lines of the transposed image), and the first row of
    the room above the line (below the line above it, or the image's top)."""
    base: Line
    ticks: list[Line]
    room: int


def _combs(lines: list[Line], inked: np.ndarray) -> list[Comb]:
    """The combs among lines along the rows of inked (H x W) (a line to write on with short upright
    strokes between the digits' places): on a line, columns of ink rising from its top edge, square to
    it, each a piece of ink alone (`_alone`: a 1 leaning goes on past its column), no thicker than
    WALL times the line, at least WALLS of them evenly spaced (within SPACING) and as high as each
    other (within TICK_SAME). Whether they are shorter than the digits (TICK) is for the caller."""
    found = []
    for b in lines:
        cols = np.arange(b.start, b.stop + 1)
        lean = _lean(b)
        foot = np.minimum(np.round(_middle(b, cols) - b.thickness / 2).astype(int) - 1,  # the row just above the band
                          inked.shape[0] - 1)  # (a tilted line's middle may run past the image's last row)
        above = [_middle(a, cols).max() for a in lines if a.stop >= b.start and a.start <= b.stop
                 and (a.ends[0] + a.ends[1]) / 2 < (b.ends[0] + b.ends[1]) / 2]
        room = int(np.ceil(max(above))) + 1 if above else 0  # no tick rises past the line above
        risen = _risen(inked, foot, cols, lean, room)
        runs = [run for run in _runs(risen >= 3) if len(run) <= WALL * b.thickness]
        if len(runs) < WALLS:
            continue
        standing = _standing(inked, foot, cols, room)
        boxes = ndimage.find_objects(standing)
        runs = [run for run in runs if _alone(standing, boxes, foot, room, risen, run)]
        if len(runs) < WALLS:
            continue
        heights = np.array([risen[run].max() for run in runs])  # a turned tick's steps leave some columns short
        same = np.abs(heights - np.median(heights)) <= TICK_SAME * np.median(heights)
        runs, heights = [run for run, ok in zip(runs, same) if ok], heights[same]
        if not _evenly_spaced(runs):
            continue
        ticks = [_upright(inked, cols[run], max(int(foot[run].min()) - int(height) + 1, 0), int(foot[run].max()), lean,
                          int(foot[run].max())) for run, height in zip(runs, heights)]
        found.append(Comb(b, ticks, room))
    return found


def _risen(inked: np.ndarray, foot: np.ndarray, cols: np.ndarray, lean: float, room: int) -> np.ndarray:
    """For each of `cols`, how many rows of unbroken ink rise from its row `foot`, no higher than row
    `room`, the column shifted by `lean` a row; climbed row by row until every run has ended."""
    w = inked.shape[1]
    risen = np.zeros(len(cols), np.int64)
    alive = np.ones(len(cols), bool)
    for up in range(max(int(foot.max()) - room + 1, 0)):
        ys, xs = foot - up, cols - int(round(lean * up))
        alive &= (ys >= room) & (xs >= 0) & (xs < w)
        alive[alive] = inked[ys[alive], xs[alive]]
        if not alive.any():
            break
        risen += alive
    return risen


def _standing(inked: np.ndarray, foot: np.ndarray, cols: np.ndarray, room: int) -> np.ndarray:
    """The pieces of ink standing on a line (8-connected labels): the ink above it (its rows just above
    the line are `foot` in `cols`) and from row `room` down, over its columns."""
    rows = np.arange(room, int(foot.max()) + 1)[:, None]
    region = inked[room: int(foot.max()) + 1, cols[0]: cols[-1] + 1] & (rows <= foot[None, :])
    return ndimage.label(region, structure=np.ones((3, 3), bool))[0]


def _alone(standing: np.ndarray, boxes: list, foot: np.ndarray, room: int, risen: np.ndarray, run: np.ndarray) -> bool:
    """Whether the ink rising from a line at its columns `run` is a tick alone: the pieces standing
    there (`_standing`, with their `boxes`) are no higher than those columns rise (`risen`), with 2 px
    to spare (a leaning 1 goes on past its column; a digit touching a tick makes the piece higher)."""
    if (foot[run] < room).any():
        return False
    pieces = [boxes[k - 1][0] for k in np.unique(standing[foot[run] - room, run]) if k > 0]
    if not pieces:
        return False
    return max(p.stop for p in pieces) - min(p.start for p in pieces) <= int(risen[run].max()) + 2


def _short(comb: Comb, rest: np.ndarray) -> list[Line]:
    """A comb's ticks where they are at most TICK of the height of the digits standing over its line
    (the median height of the tall pieces of `rest`, the ink that lines and ticks leave, between its
    room's top and its line, over its columns); none where no digit stands there."""
    b = comb.base
    region = rest[comb.room: int(np.ceil(max(b.ends))) + 1, b.start: b.stop + 1]
    labels, n = ndimage.label(region, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    sizes = np.bincount(labels.ravel())[1:]
    heights = np.array([box[0].stop - box[0].start for box in ndimage.find_objects(labels)])[not_specks(sizes)]
    if len(heights) == 0:
        return []
    height = float(np.median(heights[heights >= 0.5 * heights.max()]))
    return comb.ticks if max(tick.length for tick in comb.ticks) <= TICK * height else []


def _middle(line: Line, cols: np.ndarray) -> np.ndarray:
    """The row of a line's middle in each of `cols` (straight from its start to its stop; any shape)."""
    return line.ends[0] + (line.ends[1] - line.ends[0]) * (cols - line.start) / max(line.stop - line.start, 1)


def run_lengths(inked: np.ndarray) -> np.ndarray:
    """For each inked pixel of (H, W), the length of the unbroken run of ink along its row it lies in
    (int32; 0 off the ink)."""
    edges = np.diff(np.pad(inked, ((0, 0), (1, 1))).astype(np.int8), axis=1)  # +1 where a run starts, -1 past its end
    lengths = np.nonzero(edges == -1)[1] - np.nonzero(edges == 1)[1]  # run by run, row by row
    out = np.zeros(inked.shape, np.int32)
    out[inked] = np.repeat(lengths, lengths)  # the inked pixels, row by row, are the runs one after another
    return out


def _lines(inked: np.ndarray, along: np.ndarray, across: np.ndarray) -> tuple[list[Line], list[Line]]:
    """The printed lines along the rows of inked (H, W), or tilted from them by up to about 7 degrees
    (`_level`), and those tilted by STEEP to about 11 degrees that only pieces at STEEP_SEED_SHAPE find
    (`_steep`; `_turned_together` chooses among them); `along`, `across`: each pixel's run of ink
    along its row, its column."""
    found, covered = _level(inked, along, across)
    return found, _steep(inked, inked & (along >= STEEP_SEED_SHAPE * across), across, covered)


def _level(inked: np.ndarray, along: np.ndarray, across: np.ndarray,
           shape: float = LINE_SHAPE) -> tuple[list[Line], np.ndarray]:
    """The printed lines along the rows of inked (H, W), or tilted from them by up to about 7 degrees,
    each at least `shape` times as long as it is thick, and the pixels their bands cover (H, W bool)."""
    covered = np.zeros_like(inked)
    like = inked & (along >= SEED_SHAPE * across)
    crossing = (along >= LINE_SHAPE) & (across >= LINE_SHAPE)  # where another line crosses it, a piece goes on through:
    # graph paper's squares can be smaller than LINE_SHAPE, and so each line's pieces between them
    if crossing.any():
        like |= crossing & _between_along(like, CROSSING)
    return _followed_pieces(inked, like, across, covered, shape=shape), covered


def _between_along(mask: np.ndarray, reach: int) -> np.ndarray:
    """The pixels of (H, W) with a pixel of `mask` within `reach` of them along the row on either side."""
    left, right = np.zeros_like(mask), np.zeros_like(mask)
    for shift in range(1, reach + 1):
        left[:, shift:] |= mask[:, :-shift]
        right[:, :-shift] |= mask[:, shift:]
    return left & right


def _followed_pieces(inked: np.ndarray, like: np.ndarray, across: np.ndarray, covered: np.ndarray,
                     steeper: float = 0.0, shape: float = LINE_SHAPE) -> list[Line]:
    """The lines that the pieces of `like` (`_pieces`) lie on, each piece not yet `covered` (H, W
    bool: every found line's band goes into it) followed through inked and kept where it is `shape`
    times as long as it is thick; pieces fitted to a slope under `steeper` are passed over. Then (not
    for steeper pieces) a piece whose band lacks paper on both sides (BARE), and the lines a page's
    evenly spaced ones say are missing (`_missing`), are followed anyway, and kept where they lie as
    one found does (`_keep_alike`)."""
    found: list[Line] = []
    refused: list[tuple[np.ndarray, np.ndarray]] = []
    for ys, xs in _pieces(like):
        if covered[ys[0], xs[0]]:  # a piece of a line already followed
            continue
        if steeper and abs(np.polyfit(xs, ys, 1)[0]) < steeper:
            continue
        line = _followed(inked, ys, xs, across, shape=shape)
        if line is not None:
            covered[:, line.start: line.stop + 1] |= line.band
            found.append(line)
        else:
            refused.append((ys, xs))
    if not steeper and found:
        _keep_alike(refused, found, inked, across, covered, shape=shape)
        _keep_alike(list(_missing(found, inked, across, shape)), found, inked, across, covered,
                    held=HELD, scattered=True, shape=shape)
    return found


def _keep_alike(pieces: list[tuple[np.ndarray, np.ndarray]], found: list[Line], inked: np.ndarray, across: np.ndarray,
                covered: np.ndarray, held: float = 0.0, scattered: bool = False, shape: float = LINE_SHAPE) -> None:
    """Each of `pieces` not yet `covered` (a piece of ink: its first pixel; `scattered` pixels along a
    place: any of them) followed without asking for paper on both sides, and its line added to `found`
    (its band to `covered`) where it lies as a found one does (`_alike`) and is ink along at least
    `held` of its length (`_held`)."""
    for ys, xs in pieces:
        if covered[ys, xs].any() if scattered else covered[ys[0], xs[0]]:  # a line followed meanwhile
            continue
        line = _followed(inked, ys, xs, across, bare=0.0, shape=shape)
        if line is not None and (not held or _held(line, inked) >= held) and any(_alike(line, other) for other in found):
            covered[:, line.start: line.stop + 1] |= line.band
            found.append(line)


def _missing(found: list[Line], inked: np.ndarray, across: np.ndarray,
             shape: float = LINE_SHAPE) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Where a ruled or squared page's lines (along the rows of inked, H x W) that no piece found lie, as
    pieces to follow: a page's lines among those found (`_grid`) give one at each spacing between them
    and beyond them to the image's edges. A piece is the pixels of ink on such a place (within 2 px)
    where the ink across it is no thicker than the lines, spanning `shape` times their thickness:
    digits that cover a line in part, or a short line's pieces shorter than LINE_SHAPE (a squared
    page's columns in a narrow strip)."""
    h, w = inked.shape
    if (grid := _grid(found, w)) is None:
        return
    line, alike, at, spacing = grid.first, grid.lines, grid.at, grid.spacing
    places = [a + (b - a) * j / m for a, b, m in zip(at, at[1:], grid.steps) for j in range(1, m)]
    places += list(np.arange(at[0] - spacing, -1, -spacing)) + list(np.arange(at[-1] + spacing, h, spacing))
    slope = float(np.mean([_slope(other) for other in alike]))
    xs = np.arange(min(other.start for other in alike), max(other.stop for other in alike) + 1)
    thin = 1.5 * max(other.thickness for other in alike) + 1
    for place in places:
        best = None
        for shift in range(-2, 3):
            ys = np.round(place + shift + slope * (xs - w / 2)).astype(int)
            on = (ys >= 0) & (ys < h)
            on[on] = inked[ys[on], xs[on]] & (across[ys[on], xs[on]] <= thin)
            if best is None or on.sum() > best[1].sum():
                best = ys, on
        ys, on = best
        if on.sum() >= 2 and np.ptp(xs[on]) >= shape * line.thickness:
            yield ys[on], xs[on]


def _squares(rows: list[Line], cols: tuple[list[Line], list[Line]], inked: np.ndarray, along: np.ndarray,
             across: np.ndarray) -> tuple[list[Line], list[Line]]:
    """A squared page's columns where the crop leaves them too short for LINE_SHAPE (a strip four
    squares high, its rules blurred as thick as a tenth of a square): where the `rows` found are a
    page's (`_grid`), the columns are looked for again at SQUARE_SHAPE. Where those are a page's too,
    at the rows' spacing (squares) and as thick as the rows, each that lies on their grid (within the
    grid's thickness), runs across all the rows (as far as the image goes) and is at most twice as
    thick (a stroke along it) is kept beside the lines LINE_SHAPE finds, where none of those lies (not
    looked for where those leave no place for another: `_whole`). `cols`: `_lines`' (found, steep) of
    the columns; inked (W, H), the image transposed, and its pixels' runs `along` its columns and
    `across` them."""
    if (page_rows := _grid(rows, inked.shape[0])) is None or _whole(cols[0], inked.shape):
        return cols
    found = _level(inked, along, across, shape=SQUARE_SHAPE)[0]
    if (page_cols := _grid(found, inked.shape[1])) is None:
        return cols
    col, places, spacing = page_cols.first, page_cols.at, page_cols.spacing
    square, alike = page_rows.spacing / spacing, col.thickness / page_rows.first.thickness  # the rows' to the columns'
    if abs(square - 1) > GRID_SLACK or not 2 / 3 <= alike <= 3 / 2:
        return cols
    centre, last = np.array([inked.shape[1] / 2]), inked.shape[1] - 1
    taken = [(float(_middle(line, centre)[0]), line.thickness) for line in cols[0] + cols[1]]

    def on_the_grid(line: Line) -> bool:
        x = float(_middle(line, centre)[0])
        top, bottom = (float(_middle(row, np.array([x]))[0]) for row in (page_rows.lines[0], page_rows.lines[-1]))
        off = abs((x - places[0]) / spacing - round((x - places[0]) / spacing)) * spacing
        return (off <= col.thickness and line.thickness <= 2 * col.thickness
                and line.start <= max(top - col.thickness, 0) and line.stop >= min(bottom + col.thickness, last)
                and all(abs(x - y) > (line.thickness + t) / 2 for y, t in taken))

    return cols[0] + [line for line in found if on_the_grid(line)], cols[1]


def _whole(found: list[Line], shape: tuple[int, int]) -> bool:
    """Whether a page's lines among those found (`_grid`; along the rows of an image of `shape`, H x W)
    leave no place between them, or beyond them to the image's edges, where another of them would lie."""
    if (grid := _grid(found, shape[1])) is None:
        return False
    reach = grid.spacing + grid.first.thickness / 2
    return bool((grid.steps == 1).all() and grid.at[0] < reach and grid.at[-1] > shape[0] - 1 - reach)


def _grid(found: list[Line], w: int) -> Grid | None:
    """A ruled or squared page's lines among those found (along the rows of an image W wide): the first
    found line whose lines alike (`_alike`) are at least GRID, evenly spaced (every gap within GRID_SLACK
    of a whole number of spacings, the least gap at least GRID_SPACING), and they; None where no found
    lines are so."""
    centre = np.array([w / 2])
    for line in found:
        alike = sorted((other for other in found if _alike(other, line)), key=lambda other: float(_middle(other, centre)[0]))
        at = np.array([float(_middle(other, centre)[0]) for other in alike])
        once = np.concatenate([[True], np.diff(at) >= GRID_SPACING])  # a line followed twice (a piece beside its band)
        if once.sum() >= GRID and (steps := _spacings(np.diff(at[once]))) is not None:
            return Grid(line, alike, at[once], steps)
    return None


def _spacings(gaps: np.ndarray) -> np.ndarray | None:
    """Gaps between lines in whole spacings (int), the least gap being one, where they are so: each
    within GRID_SLACK of a whole number of it, and it at least GRID_SPACING; None where they are not."""
    if gaps.min() < GRID_SPACING:
        return None
    steps = gaps / gaps.min()
    return np.round(steps).astype(int) if (np.abs(steps - np.round(steps)) <= GRID_SLACK).all() else None


def _alike(line: Line, other: Line) -> bool:
    """Whether a line lies as another does: from the same column to the same (within twice the thicker's
    thickness, or SAME_ENDS of the longer's length), as thick (within a factor of 1.5) and tilted alike
    (within SAME_TILT), as the rules of one page lie. On 300 held-out amounts on narrow rules (`composed_amounts.py lined --held-out`), where a
    rule through the digits' middles had been left in, 76.0% read exactly before, 87.0% with it."""
    slack = max(2 * max(line.thickness, other.thickness), SAME_ENDS * max(line.length, other.length))
    return (abs(line.start - other.start) <= slack and abs(line.stop - other.stop) <= slack
            and 2 / 3 <= line.thickness / other.thickness <= 3 / 2 and abs(_tilt(line) - _tilt(other)) <= SAME_TILT)


def _steep(inked: np.ndarray, like: np.ndarray, across: np.ndarray, covered: np.ndarray) -> list[Line]:
    """The lines along the rows of inked (H, W) tilted by STEEP to about 11 degrees, from the pieces
    of `like` (pixels whose run along is STEEP_SEED_SHAPE times the run across) not `covered` by the
    lines SEED_SHAPE finds, where their band is filled at a stretch (`_filled_along`)."""
    return [replace(line, along_tilt=True) for line in _followed_pieces(inked, like, across, covered,
                                                                   steeper=np.tan(np.radians(STEEP - STEEP_SAME)))
            if abs(_tilt(line)) > STEEP and _filled_along(line, inked)]


def _turned_together(rows: tuple[list[Line], list[Line]], cols: tuple[list[Line], list[Line]],
                     inked: np.ndarray) -> tuple[list[Line], list[Line]]:
    """The lines along the rows and along the columns of inked (H, W), from `_lines`' (found, steep) of
    each: every line found, and each steep one that lies as a page photographed askew lays its lines,
    turned together: a steep row beside another row tilted within STEEP_SAME of it, or beside a column
    tilted as much the other way (turning a page tilts its columns against its rows); a steep column
    beside such a row, or beside another column so tilted where a box's side joins their ends (a tight
    box's short sides are no lines). Slanted writing leans its strokes down the columns and leaves
    those along the rows level, so the stems of a 1 and a 7 slanted alike are no lines."""
    (found_rows, steep_rows), (found_cols, steep_cols) = rows, cols
    all_rows, all_cols = found_rows + steep_rows, found_cols + steep_cols

    def beside(line: Line, tilt: float, lines: list[Line]) -> list[Line]:
        return [other for other in lines if other is not line and abs(_tilt(other) - tilt) <= STEEP_SAME]

    def boxed(col: Line) -> bool:
        return any(_side(*sorted((col, other), key=lambda line: line.ends[0]), end, inked.T) is not None
                   for other in beside(col, _tilt(col), all_cols) for end in (0, 1))

    return (found_rows + [r for r in steep_rows if beside(r, _tilt(r), all_rows) or beside(r, -_tilt(r), all_cols)],
            found_cols + [c for c in steep_cols if beside(c, -_tilt(c), all_rows) or boxed(c)])


def _tilt(line: Line) -> float:
    """A line's tilt from the rows, in degrees (down to the right: positive)."""
    return float(np.degrees(np.arctan(_slope(line))))


def _filled_along(line: Line, inked: np.ndarray) -> bool:
    """Whether a line's band is ink across at least half its thickness along LINE_SHAPE times its
    thickness at a stretch (gaps of GAP pixels bridged): a printed line is, dashed in part or not; a
    thin stroke followed on through a photo's noise is not."""
    return max((len(run) for run in _runs(_filled(line, inked))), default=0) >= LINE_SHAPE * line.thickness


def _held(line: Line, inked: np.ndarray) -> float:
    """The share of a line's length along which its band is ink across at least half its thickness (`_filled`)."""
    return float(_filled(line, inked).mean())


def _filled(line: Line, inked: np.ndarray) -> np.ndarray:
    """Along a line, where its band is ink across at least half its thickness (gaps of GAP pixels bridged)."""
    return _bridged((line.band & inked[:, line.start: line.stop + 1]).sum(axis=0) >= line.thickness / 2)


def _bridged(mask: np.ndarray) -> np.ndarray:
    """A 1-D mask with its gaps of up to GAP pixels filled (a scan's dropouts along a line)."""
    return ndimage.binary_closing(np.pad(mask, GAP), np.ones(GAP + 1, bool))[GAP:-GAP] | mask


def _pieces(like: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The line-like pieces of ink (H, W), each as its pixels' rows and columns: `like` holds the
    pixels whose run of ink along the row is at least so many times the run across it (at SEED_SHAPE a
    line tilted by up to about 7 degrees is so in every pixel; at STEEP_SEED_SHAPE, up to about 11), in
    pieces at least LINE_SHAPE long (shorter ones are specks)."""
    if max(map(len, _runs(like.any(axis=0))), default=0) < LINE_SHAPE:  # a piece spans unbroken columns, each holding some of it
        return
    labels, n = ndimage.label(like, structure=np.ones((3, 3), bool))
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        if box[1].stop - box[1].start < LINE_SHAPE:
            continue
        ys, xs = np.nonzero(labels[box] == k)
        yield ys + box[0].start, xs + box[1].start


def _followed(inked: np.ndarray, ys: np.ndarray, xs: np.ndarray, across: np.ndarray, bare: float = BARE,
              shape: float = LINE_SHAPE) -> Line | None:
    """The line that a line-like piece (its pixels' rows and columns) lies on, followed along its
    straight band both ways while ink lies in it; as thick as the ink across its middle (a tilted
    line's steps are thicker than the piece of each row's longest runs); None where it is not `shape`
    times as long as it is thick, or lacks paper on both sides along `bare` of it."""
    h, w = inked.shape
    slope, at = np.polyfit(xs, ys, 1) if np.ptp(xs) > 0 else (0.0, float(ys.mean()))
    middle = at + slope * np.arange(w)
    runs = across[np.clip(np.round(middle[xs]).astype(int), 0, h - 1), xs]
    thickness = float(np.median(runs[runs < LINE_SHAPE] if (runs < LINE_SHAPE).any() else runs))  # not where lines cross
    if thickness == 0:  # the fitted middle runs between two rows of the piece
        thickness = len(xs) / (np.ptp(xs) + 1)
    x0, x1 = int(xs.min()), int(xs.max())
    for _ in range(2):  # fitted again to the line's own middle, then followed again, over what it reaches
        middle = _refitted(inked, middle, thickness, x0, x1)
        rows, x0, x1 = _along(inked, middle, thickness, int(xs.min()), int(xs.max()))
    if x1 - x0 + 1 < shape * thickness:
        return None
    rows = rows[:, x0: x1 + 1]
    inside = rows < h
    above, below = rows[0] - 1, rows[-1] + 1
    span = np.arange(x0, x1 + 1)
    crossing = LINE_SHAPE * thickness  # a run of ink across it this long is another line crossing it (graph paper)
    up, down = np.maximum(above, 0), np.minimum(below, h - 1)
    paper = (((above < 0) | ~inked[up, span] | (across[up, span] >= crossing))  # paper (or the image's edge, or a
            & ((below >= h) | ~inked[down, span] | (across[down, span] >= crossing)))  # line crossing) on both sides
    if paper.mean() < bare:  # a band inside a broad stroke, not a line
        return None
    band = np.zeros((h, x1 - x0 + 1), bool)
    band[rows[inside], np.broadcast_to(np.arange(x1 - x0 + 1), rows.shape)[inside]] = True
    return Line(band & inked[:, x0: x1 + 1], x0, x1, (float(middle[x0]), float(middle[x1])), thickness)


def _along(inked: np.ndarray, middle: np.ndarray, thickness: float, x0: int, x1: int) -> tuple[np.ndarray, int, int]:
    """The band of a line through `middle` (W,), `thickness` thick: its rows in each column (t + 1, W),
    and how far it holds ink from columns x0..x1 on, either way (gaps of GAP pixels bridged)."""
    h, w = inked.shape
    top = np.clip(np.floor(middle - thickness / 2 + 0.5).astype(int), 0, h - 1)
    rows = top[None, :] + np.arange(int(np.ceil(thickness)) + 1)[:, None]  # (t + 1, W)
    held = (inked[np.minimum(rows, h - 1), np.arange(w)] & (rows < h)).any(axis=0)  # (W,)
    held = _bridged(held)
    while x0 > 0 and held[x0 - 1]:
        x0 -= 1
    while x1 < w - 1 and held[x1 + 1]:
        x1 += 1
    return rows, x0, x1


def _refitted(inked: np.ndarray, middle: np.ndarray, thickness: float, x0: int, x1: int) -> np.ndarray:
    """A line's middle row in each column (W,) fitted again, straight, to the middles of the ink near it
    (within its thickness and 2 px) in columns x0..x1 where that ink is no thicker than the line (no
    stroke crosses it there): a piece of line that a stroke touches gives its slope only roughly, and
    far from the piece the band would leave the line."""
    h, w = inked.shape
    reach = int(np.ceil(thickness)) + 2
    cols = np.arange(x0, x1 + 1)
    rows = np.round(middle[cols]).astype(int)[None, :] + np.arange(-reach, reach + 1)[:, None]  # (2 reach + 1, x1 - x0 + 1)
    near = inked[np.clip(rows, 0, h - 1), cols] & (rows >= 0) & (rows < h)
    count = near.sum(axis=0)
    alone = (count > 0) & (count <= 1.5 * thickness + 1)
    if alone.sum() < 2:
        return middle
    slope, at = np.polyfit(cols[alone], (rows * near).sum(axis=0)[alone] / count[alone], 1)
    return at + slope * np.arange(w)


def _digits(rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _longer(line: Line, along: np.ndarray, across: np.ndarray) -> bool:
    """Whether a line (along the rows) is longer than the digits reach along the rows, their pixels'
    columns `along` and rows `across` (an underline or a box's side is; a digit's straight stroke is
    not); a steep line's and a box's side's both measured along its own slope instead: a tight box's
    sides turned 10 degrees are shorter by rows than the 1 inside, turned with them. (Along the slope
    of every line, a 1 as tall as the 0s beside it on a page turned 2-7 degrees went as a line, as it
    does level.)"""
    slope = _slope(line) if line.along_tilt else 0.0
    norm = float(np.hypot(1.0, slope))
    return line.length * norm > np.ptp((along + slope * across) / norm) + 1


def _take_out(ink: np.ndarray, line: Line, others: np.ndarray) -> None:
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
    middle = np.round(_middle(line, line.start + cols)).astype(int)
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
