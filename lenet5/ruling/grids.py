"""A ruled or squared page's grid: its lines among those found, alike and evenly spaced (`grid_of`), and
the places between and beyond them where it says others lie that no piece found (`missing`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lenet5.ruling.line import LINE_SHAPE, Line, lie_alike, middle_of, slope_of

GRID = 3  # a ruled or squared page's lines found alike and evenly spaced, at least this many, show where the others lie
GRID_SPACING = 4  # px: ... at least this far apart (`missing`)
GRID_SLACK = 0.15  # ... every gap between them within this share of a spacing of a whole number of spacings
HELD = 0.8  # a line looked for where a page's grid says one lies (`missing`) is ink along at least this share of its
# length (a rule is, under the digits too; a row through the strokes of the digits at its ends is not), and its
# piece spans at least this share of what a line must (a squared page's column turned 10 degrees in a strip 4
# squares high is about LINE_SHAPE times as long as thick: a digit's stroke along one of its ends left it short)


@dataclass(frozen=True)
class Grid:
    """A ruled or squared page's lines among those found (`grid_of`)."""
    first: Line  # the first found line whose lines alike are a page's
    lines: list[Line]  # its lines alike, top to bottom (a line found twice, both)
    at: np.ndarray  # their rows at the middle column, a line found twice counted once
    steps: np.ndarray  # each gap between those, in spacings (int)

    @property
    def spacing(self) -> float:
        return float(np.diff(self.at).sum() / self.steps.sum())


def grid_of(found: list[Line], w: int) -> Grid | None:
    """A ruled or squared page's lines among those found (along the rows of an image W wide): the first
    found line whose lines alike (`lie_alike`) are at least GRID, evenly spaced (every gap within GRID_SLACK
    of a whole number of spacings, the least gap at least GRID_SPACING), and they; None where no found
    lines are so."""
    centre = np.array([w / 2])
    for line in found:
        alike = sorted((other for other in found if lie_alike(other, line)), key=lambda other: float(middle_of(other, centre)[0]))
        at = np.array([float(middle_of(other, centre)[0]) for other in alike])
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


def missing(found: list[Line], inked: np.ndarray, across: np.ndarray,
            shape: float = LINE_SHAPE) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Where a ruled or squared page's lines (along the rows of inked, H x W) that no piece found lie, as
    pieces to follow: a page's lines among those found (`grid_of`) give one at each spacing between them
    and beyond them to the image's edges. A piece is the pixels of ink on such a place (within 2 px)
    where the ink across it is no thicker than the lines, spanning HELD of `shape` times their thickness
    (the line followed from it must span all of it): digits that cover a line in part, or a short
    line's pieces shorter than LINE_SHAPE (a squared page's columns in a narrow strip)."""
    h, w = inked.shape
    if (grid := grid_of(found, w)) is None:
        return
    line, alike, at, spacing = grid.first, grid.lines, grid.at, grid.spacing
    places = [a + (b - a) * j / m for a, b, m in zip(at, at[1:], grid.steps) for j in range(1, m)]
    places += list(np.arange(at[0] - spacing, -1, -spacing)) + list(np.arange(at[-1] + spacing, h, spacing))
    slope = float(np.mean([slope_of(other) for other in alike]))
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
        if on.sum() >= 2 and np.ptp(xs[on]) >= HELD * shape * line.thickness:
            yield ys[on], xs[on]


def whole(found: list[Line], shape: tuple[int, int]) -> bool:
    """Whether a page's lines among those found (`grid_of`; along the rows of an image of `shape`, H x W)
    leave no place between them, or beyond them to the image's edges, where another of them would lie."""
    if (grid := grid_of(found, shape[1])) is None:
        return False
    reach = grid.spacing + grid.first.thickness / 2
    return bool((grid.steps == 1).all() and grid.at[0] < reach and grid.at[-1] > shape[0] - 1 - reach)
