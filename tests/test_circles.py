"""A ring drawn around the digits (lenet5/circles.py): it goes; a digit's own loops and what they hold stay."""

import numpy as np
import pytest

from lenet5.circles import without_circles
from lenet5.preprocess import inked
from tests.test_ruling import bar, ring


def loop(side=200, centre=(100, 100), radii=(80, 60), width=3, gap_degrees=0.0) -> np.ndarray:
    """A loop drawn by hand around the middle: an ellipse `width` px thick, open by `gap_degrees` on the right."""
    ys, xs = np.mgrid[:side, :side]
    r = np.hypot((ys - centre[0]) / radii[1], (xs - centre[1]) / radii[0])
    angle = np.degrees(np.abs(np.arctan2(ys - centre[0], xs - centre[1])))
    return ((np.abs(r - 1) * min(radii) < width / 2) & (angle >= gap_degrees / 2)).astype(np.float32)


@pytest.mark.parametrize("gap", [0, 30])
def test_a_ring_around_the_digit_goes_even_if_not_closed(gap):
    digit = bar(top=55, bottom=145)
    ink = np.maximum(digit, loop(gap_degrees=gap))
    assert np.array_equal(without_circles(ink), digit)


def test_the_ink_says_when_a_ring_was_taken_out_of_it():
    digit = bar(top=55, bottom=145)
    assert inked(1 - 0.9 * np.maximum(digit, loop())).taken_out == ("ring",)
    assert inked(1 - 0.9 * digit).taken_out == ()


def test_a_ring_around_a_whole_amount_goes():
    amount = np.zeros((120, 400), np.float32)
    for left in (100, 160, 220, 280):  # four 1s
        amount[35:85, left: left + 8] = 1
    ink = np.maximum(amount, loop(side=400, centre=(60, 200), radii=(180, 52))[:120])
    assert np.array_equal(without_circles(ink), amount)


def test_a_ring_open_on_one_side_is_not_a_ring():
    digit = bar(top=55, bottom=145)
    c = np.maximum(digit, loop(gap_degrees=120))  # a C around the 1, or a digit's own stroke
    assert without_circles(c) is c


def test_a_digits_own_loop_and_what_it_holds_stay():
    zero = ring()
    speck = zero.copy()
    speck[98:102, 98:102] = 1  # a speck in the 0's loop: held, but no digit
    assert without_circles(speck) is speck
    snug = np.maximum(ring(outer=45, inner=40), bar(top=62, bottom=138, width=6))  # a loop snug around a stroke: no room
    assert without_circles(snug) is snug


def test_a_ring_touching_the_digit_goes_but_a_slashed_zero_stays():
    digit = bar(top=55, bottom=145)
    ink = np.maximum(digit, loop(radii=(60, 46), width=5))  # the loop touches the 1's ends
    assert (without_circles(ink) > 0).sum() >= 0.8 * (digit > 0).sum()  # less the band where they touch
    assert (without_circles(ink) * (1 - digit)).sum() == 0
    slashed = ring()
    ys, xs = np.mgrid[:200, :200]
    slashed[np.abs((ys - 100) + 1.6 * (xs - 100)) < 6] = 1  # a slash through the 0, out beyond it
    slashed[(ys < 30) | (ys > 170)] = 0
    assert without_circles(slashed) is slashed


def test_a_stroke_reaching_through_the_ring_keeps_it():
    ink = np.maximum(bar(top=15, bottom=185), loop())  # the 1 reaches through the loop: no ring around it
    assert without_circles(ink) is ink
