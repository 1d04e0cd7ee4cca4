"""A box's short sides, found between the ends of its long ones (`sides`), and the walls between a
form's cells, from one line to the next (`walls`): columns of ink square to the lines, each as a line
of the transposed image (`upright`)."""

from __future__ import annotations

import numpy as np

from lenet5.ruling.line import Line, lean_of, middle_of, runs_of

SIDE_HELD = 0.9  # a box's side found between two lines' ends is ink along this share of it
WALL = 2.0  # a wall between a form's cells is at most this many times as thick as the lines it joins
WALLS = 3  # a form's cells show at least this many walls between the same two lines (two cells, or a
# digit's stroke from rule to rule on ruled paper would be taken for one)
WALLS_AT_ONCE = 128  # walls looked for together (over the rows between the two lines there: a tilted page's lines
# span many more rows than lie between them in any one place)
SPACING = 0.25  # ... evenly spaced: each gap within this share of their median


def sides(lines: list[Line], inked: np.ndarray) -> list[Line]:
    """The sides of boxes that `lines` (along the rows of inked, H x W) are the other sides of: where a
    line and the next below it that begins (or ends) square to it are joined there by a column of ink,
    that column, as a line of the transposed image (a narrow box's short sides are not long enough to
    be found as lines themselves)."""
    found = []
    lines = sorted(lines, key=lambda line: line.ends[0])
    for i, a in enumerate(lines):
        for end in (0, 1):
            for b in lines[i + 1:]:
                side = side_between(a, b, end, inked)
                if side is not None:
                    found.append(side)
                    break
    return found


def side_between(a: Line, b: Line, end: int, inked: np.ndarray) -> Line | None:
    """The column of ink joining lines a and b (a above b) at their starts (end 0) or stops (1), if
    they begin or end together (the one's end square to the other's: a box photographed turned leans)
    and ink joins them there, running from the one's end to the other's."""
    h, w = inked.shape
    reach = int(2 * max(a.thickness, b.thickness) + 2)
    x = (a.start, b.start) if end == 0 else (a.stop, b.stop)
    if abs(x[0] + (lean_of(a) + lean_of(b)) / 2 * (b.ends[end] - a.ends[end]) - x[1]) > reach:  # square to them
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


def walls(lines: list[Line], inked: np.ndarray) -> list[Line]:
    """The walls between a form's cells (a digit in each): columns of ink that join a line along the
    rows of inked (H x W) to the nearest line below it over the same columns, square to them (a form
    photographed turned leans), held for SIDE_HELD of the way, no thicker than WALL times the lines,
    and at least WALLS of them evenly spaced (within SPACING) between the same two lines; each as a
    line of the transposed image."""
    found = []
    for a in lines:
        below = [b for b in lines if middle_of(b, np.array([b.start]))[0] > middle_of(a, np.array([b.start]))[0] + a.thickness
                 and min(a.stop, b.stop) - max(a.start, b.start) >= 2]
        if below:
            b = min(below, key=lambda b: (b.ends[0] + b.ends[1]) / 2)
            found += _walls_between(a, b, inked)
    return found


def _walls_between(a: Line, b: Line, inked: np.ndarray) -> list[Line]:
    """`walls` between line a and line b below it."""
    h, w = inked.shape
    x0, x1 = max(a.start, b.start), min(a.stop, b.stop)
    lean = (lean_of(a) + lean_of(b)) / 2
    cols = np.arange(x0, x1 + 1)  # where each wall crosses the row `first`
    first = int(np.ceil(middle_of(a, cols).min() + a.thickness / 2))  # under a's band, over b's
    last = int(np.floor(middle_of(b, cols).max() - b.thickness / 2))
    rows = np.arange(max(first, 0), min(last, h - 1) + 1)
    if len(rows) < 3:
        return []
    inside, through = np.zeros(len(cols), int), np.zeros(len(cols), int)  # each wall's rows between the lines, inked
    reach = abs(lean) * len(rows) + 1  # how far a wall strays from its column over the rows
    for k in range(0, len(cols), WALLS_AT_ONCE):  # a block of walls at a time, over the rows between the lines there
        block = cols[k: k + WALLS_AT_ONCE]
        ends = np.array([block[0] - reach, block[-1] + reach])
        near = rows[(rows >= middle_of(a, ends).min() + a.thickness / 2 - 1) & (rows <= middle_of(b, ends).max() - b.thickness / 2 + 1)]
        at = block[None, :] + np.round(lean * (near[:, None] - first)).astype(int)  # (rows, walls): each wall's column in each row
        between = ((near[:, None] >= middle_of(a, at) + a.thickness / 2) & (near[:, None] <= middle_of(b, at) - b.thickness / 2)
                   & (at >= 0) & (at < w))
        inside[k: k + len(block)] = between.sum(axis=0)
        through[k: k + len(block)] = (inked[near[:, None], np.clip(at, 0, w - 1)] & between).sum(axis=0)
    held = through >= SIDE_HELD * np.maximum(inside, 1)
    runs = [cols[run] for run in runs_of(held & (inside >= 3)) if len(run) <= WALL * max(a.thickness, b.thickness)]
    if not evenly_spaced(runs):
        return []  # a digit's upright stroke from rule to rule, or two: not a row of cells
    return [upright(inked, run, max(int(np.floor(middle_of(a, run).mean() - a.thickness / 2)), 0),  # through the lines'
                    min(int(np.ceil(middle_of(b, run).mean() + b.thickness / 2)), h - 1), lean, first)  # bands: where they
            for run in runs]  # cross, the lines drew it on


def upright(inked: np.ndarray, run: np.ndarray, y0: int, y1: int, lean: float, first: int) -> Line:
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


def evenly_spaced(runs: list[np.ndarray]) -> bool:
    """Whether runs of columns are at least WALLS, evenly spaced (each gap within SPACING of their median)."""
    gaps = np.diff([run.mean() for run in runs])
    return len(runs) >= WALLS and np.abs(gaps - np.median(gaps)).max() <= SPACING * np.median(gaps)
