"""Combs: a line to write on with short upright ticks rising from it between the digits' places
(`combs_of`), and a comb's ticks where they are shorter than the digits over its line (`short`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lenet5.ruling.boxes import WALL, WALLS, evenly_spaced, upright
from lenet5.ruling.line import Line, lean_of, middle_of, runs_of
from lenet5.underlines import not_specks

TICK_SAME = 0.25  # a comb's ticks are as high as each other, within this share of their median
TICK = 0.6  # ... and at most this share of the height of the digits over their line (three 1s standing on a
# line beside other digits are no comb)


@dataclass(frozen=True)
class Comb:
    """A comb: the line it stands on, its ticks (lines of the transposed image), and the first row of
    the room above the line (below the line above it, or the image's top)."""
    base: Line
    ticks: list[Line]
    room: int


def combs_of(lines: list[Line], inked: np.ndarray) -> list[Comb]:
    """The combs among lines along the rows of inked (H x W) (a line to write on with short upright
    strokes between the digits' places): on a line, columns of ink rising from its top edge, square to
    it, each a piece of ink alone (`_alone`: a 1 leaning goes on past its column), no thicker than
    WALL times the line, at least WALLS of them evenly spaced (within boxes.SPACING) and as high as each
    other (within TICK_SAME). Whether they are shorter than the digits (TICK) is for the caller."""
    found = []
    for b in lines:
        cols = np.arange(b.start, b.stop + 1)
        lean = lean_of(b)
        foot = np.minimum(np.round(middle_of(b, cols) - b.thickness / 2).astype(int) - 1,  # the row just above the band
                          inked.shape[0] - 1)  # (a tilted line's middle may run past the image's last row)
        above = [middle_of(a, cols).max() for a in lines if a.stop >= b.start and a.start <= b.stop
                 and (a.ends[0] + a.ends[1]) / 2 < (b.ends[0] + b.ends[1]) / 2]
        room = int(np.ceil(max(above))) + 1 if above else 0  # no tick rises past the line above
        risen = _risen(inked, foot, cols, lean, room)
        runs = [run for run in runs_of(risen >= 3) if len(run) <= WALL * b.thickness]
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
        if not evenly_spaced(runs):
            continue
        ticks = [upright(inked, cols[run], max(int(foot[run].min()) - int(height) + 1, 0), int(foot[run].max()), lean,
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


def short(comb: Comb, rest: np.ndarray) -> list[Line]:
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
