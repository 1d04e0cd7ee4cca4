"""Specks and grain (lenet5/specks.py): dust and the paper's fibres cleared, a digit's own pieces kept."""

import numpy as np

from lenet5.preprocess import grey_to_digit, ink_map
from lenet5.specks import without_specks


def seven(size=200) -> np.ndarray:
    """Ink [0, 1]: a 7 (a bar and a stem), strokes 11 px wide, in the middle of the picture."""
    ink = np.zeros((size, size), np.float32)
    ink[51:62, 57:143] = 1
    ink[62:149, 127:138] = 1
    return ink


def test_specks_of_dust_go_and_the_digit_stays():
    ink = seven()
    dusty = ink.copy()
    dusty[5:8, 5:8] = dusty[190:192, 100:102] = 1  # full-strength dust, far off
    assert np.array_equal(without_specks(dusty), ink)
    assert without_specks(ink) is ink


def test_a_digits_own_pieces_stay():
    ink = seven()
    ink[51:62, 118:125] = 0  # the bar cut from the stem by a pen that skips...
    faint = ink.copy()
    faint[160:170, 127:138] = 0.3  # ... and a faint end of the stem, apart and weak: one small weak piece on clean paper
    assert without_specks(faint) is faint


def test_grain_goes_even_where_it_joins_the_strokes():
    rng = np.random.default_rng(0)
    ink = seven()
    grain = np.zeros_like(ink)
    for _ in range(80):  # fibres: weak streaks all over the page, 7% of it
        y, x = rng.integers(0, 196, 2)
        grain[y, x: x + 40] = rng.uniform(0.15, 0.3)
    grain[100, 100:128] = 0.25  # one reaching the stem
    out = without_specks(np.maximum(ink, grain))
    assert np.array_equal(out[ink > 0], ink[ink > 0])  # the 7 whole...
    assert ((out > 0) & (ink == 0)).sum() < 0.05 * (grain > 0).sum()  # ... and almost none of the grain


def test_a_dust_speck_far_from_the_digit_does_not_shrink_it():
    grey = 0.94 - 0.84 * seven()
    dusty = grey.copy()
    dusty[4:8, 189:192] = 0.1
    dusty[5:7, 192] = 0.5  # a speck of dust 4 px by 3, a soft edge on one side
    assert ink_map(dusty)[5, 190] > 0.5 and without_specks(ink_map(dusty))[5, 190] == 0
    assert (grey_to_digit(grey).float() - grey_to_digit(dusty).float()).abs().mean() < 3  # grey levels 0-255
