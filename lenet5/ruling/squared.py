"""A squared page's columns in a strip a few squares high, blurred thick, too short for LINE_SHAPE:
looked for again at SQUARE_SHAPE where the rows found are a page's, and kept where they lie on its grid
(`squares`)."""

from __future__ import annotations

import numpy as np

from lenet5.ruling.grids import GRID_SLACK, grid_of, whole
from lenet5.ruling.line import Line, middle_of
from lenet5.ruling.lines import level

SQUARE_SHAPE = 20  # a squared page's columns where its rows vouch for them (`squares`); a pen's stroke stays under it


def squares(rows: list[Line], cols: tuple[list[Line], list[Line]], inked: np.ndarray, along: np.ndarray,
            across: np.ndarray) -> tuple[list[Line], list[Line]]:
    """A squared page's columns where the crop leaves them too short for LINE_SHAPE (a strip four
    squares high, its rules blurred as thick as a tenth of a square): where the `rows` found are a
    page's (`grid_of`), the columns are looked for again at SQUARE_SHAPE. Where those are a page's too,
    at the rows' spacing (squares) and as thick as the rows, each that lies on their grid (within the
    grid's thickness), runs across all the rows (as far as the image goes) and is at most twice as
    thick (a stroke along it) is kept beside the lines LINE_SHAPE finds, where none of those lies (not
    looked for where those leave no place for another: `whole`). `cols`: `lines.lines_of`' (found, steep) of
    the columns; inked (W, H), the image transposed, and its pixels' runs `along` its columns and
    `across` them."""
    if (page_rows := grid_of(rows, inked.shape[0])) is None or whole(cols[0], inked.shape):
        return cols
    found = level(inked, along, across, shape=SQUARE_SHAPE)[0]
    if (page_cols := grid_of(found, inked.shape[1])) is None:
        return cols
    col, places, spacing = page_cols.first, page_cols.at, page_cols.spacing
    square, alike = page_rows.spacing / spacing, col.thickness / page_rows.first.thickness  # the rows' to the columns'
    if abs(square - 1) > GRID_SLACK or not 2 / 3 <= alike <= 3 / 2:
        return cols
    centre, last = np.array([inked.shape[1] / 2]), inked.shape[1] - 1
    taken = [(float(middle_of(line, centre)[0]), line.thickness) for line in cols[0] + cols[1]]

    def on_the_grid(line: Line) -> bool:
        x = float(middle_of(line, centre)[0])
        top, bottom = (float(middle_of(row, np.array([x]))[0]) for row in (page_rows.lines[0], page_rows.lines[-1]))
        off = abs((x - places[0]) / spacing - round((x - places[0]) / spacing)) * spacing
        return (off <= col.thickness and line.thickness <= 2 * col.thickness
                and line.start <= max(top - col.thickness, 0) and line.stop >= min(bottom + col.thickness, last)
                and all(abs(x - y) > (line.thickness + t) / 2 for y, t in taken))

    return cols[0] + [line for line in found if on_the_grid(line)], cols[1]
