"""A digit cut out of a number: slivers of its neighbours at the crop's left and right edges.

A person who crops one digit out of a written number often leaves a sliver of the next digit at
the crop's edge (the tail of a 3, the upright of a 4). `to_mnist` fits the box around all the ink
into MNIST's 20x20, so a sliver widens the box and squeezes the digit: 84.5 held-out digits in
100 read right (a black sliver; 78-81% cut out of a number drawn otherwise). Numbers run across
the line, so only the left and right edges are looked at; a digit's own detached strokes (a 5's
hat, a 7's bar) lie above the rest, not beside it.

An outermost run of inked columns is a sliver where it touches the edge, stands apart from the
rest of the ink by at least one column of paper, is narrow beside the rest's height (a neighbour
cut by the crop), no taller than the rest (a thin 1 cropped tight beside a bold neighbour's piece
is the digit) and holds little ink beside the rest's.
"""

from __future__ import annotations

import numpy as np

EDGE = 0.02  # the run starts within this share of the picture's width of its edge (it was cut there)
NARROW = 0.35  # ... is at most this share of the rest's height wide
LITTLE = 0.5  # ... and holds at most this share of the rest's ink


def without_neighbours(ink: np.ndarray, threshold: float) -> np.ndarray:
    """Ink [0, 1] (H, W) -> the same with a neighbour's sliver at the left or right edge cleared
    (module docstring; ink above `threshold` counts); `ink` itself where there is none."""
    inked = ink > threshold
    columns = np.nonzero(inked.any(axis=0))[0]
    if len(columns) < 2:
        return ink
    width = ink.shape[1]
    gaps = np.nonzero(np.diff(columns) > 1)[0]  # a run ends at columns[g], the next starts at columns[g + 1]
    if len(gaps) == 0:
        return ink
    out = ink
    for first, last, edge_gap in ((columns[0], columns[gaps[0]], columns[0]),
                                  (columns[gaps[-1] + 1], columns[-1], width - 1 - columns[-1])):
        if edge_gap > EDGE * width:
            continue
        sliver = np.zeros(width, bool)
        sliver[first: last + 1] = True
        rest_rows = np.nonzero(inked[:, ~sliver].any(axis=1))[0]
        if len(rest_rows) == 0:
            continue
        rest_height = rest_rows[-1] - rest_rows[0] + 1
        sliver_rows = np.nonzero(inked[:, sliver].any(axis=1))[0]
        if (last - first + 1 > NARROW * rest_height or sliver_rows[-1] - sliver_rows[0] + 1 > rest_height
                or ink[:, sliver].sum() > LITTLE * ink[:, ~sliver].sum()):
            continue
        out = out.copy() if out is ink else out
        cleared = np.zeros(width, bool)  # the sliver and the paper between it and the rest
        if first == columns[0]:
            cleared[: columns[gaps[0] + 1]] = True
        else:
            cleared[columns[gaps[-1]] + 1:] = True
        out[:, cleared] = 0
    return out
