"""A neighbour's sliver at the crop's edge (lenet5/neighbours.py): cleared; the digit's own ink kept."""

import numpy as np

from lenet5.neighbours import without_neighbours
from lenet5.preprocess import INK_THRESHOLD, grey_to_digit


def zero(height=100, width=70) -> np.ndarray:
    """Ink [0, 1]: an 0, 100 px high and 70 wide, strokes 10 px wide, touching the picture's edges."""
    ys, xs = np.mgrid[:height, :width]
    r = np.hypot((ys - (height - 1) / 2) / (height / 2), (xs - (width - 1) / 2) / (width / 2))
    return ((r > 0.8) & (r <= 1.0)).astype(np.float32)


def beside(ink: np.ndarray, sliver_width: int, gap: int, rows=(20, 80), left=True) -> np.ndarray:
    """`ink` with a sliver `sliver_width` px wide of full ink over `rows`, `gap` px of paper off it."""
    sliver = np.zeros((ink.shape[0], sliver_width + gap), np.float32)
    sliver[rows[0]: rows[1], :sliver_width] = 1
    return np.concatenate([sliver, ink] if left else [ink, sliver[:, ::-1]], axis=1)


def test_a_sliver_at_either_edge_is_cleared_with_the_paper_before_the_digit():
    digit = zero()
    for left in (True, False):
        ink = beside(digit, 12, 6, left=left)
        out = without_neighbours(ink, INK_THRESHOLD)
        kept = out[:, 18:] if left else out[:, :-18]
        assert np.array_equal(kept, digit) and out.sum() == digit.sum()
    both = beside(beside(digit, 8, 5), 20, 4, left=False)
    assert without_neighbours(both, INK_THRESHOLD).sum() == digit.sum()


def test_the_digits_own_ink_stays():
    digit = zero()
    assert without_neighbours(digit, INK_THRESHOLD) is digit  # one run of columns
    loose = np.pad(beside(digit, 12, 6), ((0, 0), (10, 10)))  # a mark apart from the edge: not cut by the crop
    assert without_neighbours(loose, INK_THRESHOLD) is loose
    wide = beside(digit, 40, 6)  # a whole neighbour, as wide as 0.4 of the rest's height
    assert without_neighbours(wide, INK_THRESHOLD) is wide
    heavy = beside(digit, 30, 6, rows=(0, 100))  # narrow enough but as much ink as the 0's
    assert without_neighbours(heavy, INK_THRESHOLD) is heavy
    one = np.zeros((100, 12), np.float32)
    one[:, 2:10] = 1  # a 1 beside a sliver shorter than it: the 1 is no sliver of the other
    pair = beside(one, 6, 8, rows=(30, 70))
    assert np.array_equal(without_neighbours(pair, INK_THRESHOLD)[:, 14:], one)
    thin = np.zeros((100, 5), np.float32)
    thin[5:95] = 1  # a thin 1 cropped tight, touching the edge, beside a bold 0's left side cut by the crop
    bold = np.zeros((100, 25), np.float32)
    bold[10:90, :15] = 1  # 2.7 times the 1's ink
    pair = np.concatenate([thin, np.zeros((100, 10), np.float32), bold], axis=1)
    assert np.array_equal(without_neighbours(pair, INK_THRESHOLD)[:, :5], thin)


def test_a_tight_crop_with_a_sliver_reads_as_without_it():
    grey = 0.94 - 0.84 * zero()
    with_sliver = 0.94 - 0.84 * beside(zero(), 10, 6)
    a, b = grey_to_digit(grey).float(), grey_to_digit(with_sliver).float()
    assert (a - b).abs().mean() < 2  # grey levels 0-255, the same digit
