"""Over-segmentation: cuts between touching digits, candidate segments, and the field each is read in."""


import numpy as np

from lenet5.read.line import DIGIT_HEIGHT, Line
from lenet5.read.oversegment import CONTEXT, FIELD, Atom, candidates, cut_columns, render


def test_a_component_is_cut_where_two_blobs_touch():
    projection = np.array([8, 9, 10, 10, 9, 8, 2, 8, 9, 10, 10, 9, 8])
    cuts = cut_columns(projection)
    assert 6 in cuts  # the thinnest column, where the two touch
    assert all(3 <= c <= len(projection) - 3 for c in cuts)
    assert all(b - a >= 2 for a, b in zip(cuts, cuts[1:]))


def test_candidates_are_runs_of_neighbouring_atoms_within_the_width_limit():
    pieces = [Atom(np.array([0, 1]), np.array([x, x + 1])) for x in range(0, 60, 3)]
    spans = candidates(pieces)
    assert all((i, i + 1) in spans for i in range(len(pieces)))
    assert all(pieces[j - 1].x1 - pieces[i].x0 <= 1.4 * DIGIT_HEIGHT for i, j in spans if j > i + 1)
    assert (0, len(pieces)) not in spans


def test_render_centres_a_segment_at_line_scale_and_dims_its_neighbours():
    ink = np.zeros((24, 60), np.float32)
    ink[2:22, 10:14] = 1.0  # a bar 20 px high
    ink[2:22, 14:30] = 0.8  # touching ink that belongs to another atom
    line = Line(ink, 1.0, (0.0, 0.0))
    ys, xs = np.nonzero(ink[:, :14] > 0.5)
    field = render(line, [Atom(ys, xs)])
    assert field.shape == (FIELD, FIELD)
    rows, cols = np.nonzero(field > 0.9)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 4  # not resized
    assert abs(cols.mean() - (FIELD - 1) / 2) <= 1 and abs(rows.mean() - (FIELD - 1) / 2) <= 1
    neighbour = field[rows.min(): rows.max() + 1, cols.max() + 1:]
    assert np.allclose(neighbour, CONTEXT * 0.8)  # the neighbour's ink, dimmed, up to the field's edge
