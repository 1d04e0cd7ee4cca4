"""Lines under the digits that are not printed lines (lenet5/underlines.py): a hand's underline, a dotted line."""

import numpy as np

from lenet5.underlines import without_underlines
from tests.test_ruling import ring


def test_an_underline_by_hand_goes_but_a_stroke_of_the_digit_stays():
    digit = ring()
    ink = digit.copy()
    ink[170:175, 45:155] = 1  # a straight stroke 5 px thick under the 0, wider than it: too thick for a printed line
    assert np.array_equal(without_underlines(ink, ink > 0), digit)
    ink = digit.copy()
    ink[170:175, 80:120] = 1  # narrower than the 0: it could be the digit's own (a broken 2's foot)
    assert without_underlines(ink, ink > 0) is ink


def test_a_dotted_line_goes_but_specks_of_noise_or_faint_dots_stay():
    digit = ring()
    ink = digit.copy()
    for x in range(2, 198, 8):  # 3 px dots every 8 px, just under the 0
        ink[163:166, x: x + 3] = 1
    out = without_underlines(ink, ink > 0)
    assert np.array_equal(out, digit)
    noisy = digit.copy()
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(162, 196, 25), rng.integers(0, 198, 25)):  # as many specks of dust, anywhere below
        noisy[y: y + 2, x: x + 2] = 1
    assert without_underlines(noisy, noisy > 0) is noisy
    faint = digit.copy()
    faint[163:166] = np.where(np.arange(200) % 8 < 3, 0.2, 0)  # the paper's noise: fainter than strokes
    assert without_underlines(faint, faint > 0) is faint


def test_an_image_of_specks_alone_is_left_as_it_is():
    ink = np.zeros((46, 183), np.float32)
    ink[::3, ::3] = 1  # 1,000 specks, each under a hundredth of the ink
    assert without_underlines(ink, ink > 0) is ink


def test_dashed_rules_beside_the_digits_go_and_the_digits_stay():
    """A form's dashed rule beside an amount was read as a 1: its dashes, each a speck, were no line to look for."""
    digit = np.pad(ring(), ((0, 0), (0, 60)))  # the 0, with room to its right
    for name, (dash, gap, thick) in {"dashes": (12, 6, 3), "dots": (4, 6, 4), "long dashes": (30, 10, 6)}.items():
        ink = digit.copy()
        for y in range(0, 200, dash + gap):  # from the top of the picture to its foot, the last dash cut by the edge
            ink[y: y + dash, 230: 230 + thick] = 1
        assert np.array_equal(without_underlines(ink, ink > 0), digit), name
    ink = digit.copy()  # the same dashes above it: a row over the digits
    for x in range(0, 260, 18):
        ink[2:5, x: x + 12] = 1
    assert np.array_equal(without_underlines(ink, ink > 0), digit)
    ink = digit.copy()  # a dashed box around it: rows, columns and the corners where they meet
    for y in (10, 190):
        for x in range(10, 250, 16):
            ink[y: y + 3, x: x + 10] = 1
    for x in (10, 247):
        for y in range(10, 193, 16):
            ink[y: y + 10, x: x + 3] = 1
    assert np.array_equal(without_underlines(ink, ink > 0), digit)


def test_a_column_of_dashes_no_taller_than_the_digits_or_uneven_stays():
    digit = np.pad(ring(), ((0, 0), (0, 60)))
    short = digit.copy()
    for y in range(50, 150, 18):  # five dashes within the 0's height: a dashed 1 could be that
        short[y: y + 12, 230:233] = 1
    assert without_underlines(short, short > 0) is short
    uneven = digit.copy()
    for y in (0, 18, 30, 70, 88, 140, 160, 190):  # scattered, not evenly spaced
        uneven[y: y + 8, 230:233] = 1
    assert without_underlines(uneven, uneven > 0) is uneven
    alone = np.zeros((200, 60), np.float32)
    for y in range(0, 200, 18):  # dashes alone: nothing else to be the digits
        alone[y: y + 12, 30:33] = 1
    assert without_underlines(alone, alone > 0) is alone


def test_digits_that_look_like_dots_in_a_row_stay():
    """What an independent review of the dashed rules found taken out: neat 1s beside two touching 0s (each
    1 under a quarter of the 00), a 7's bar broken by a skipping pen, a dashed 1 a little taller than its 0."""
    ink = np.zeros((170, 520), np.float32)
    for i in range(5):  # 1 1 1 1 1, evenly spaced on one baseline
        ink[40:130, 20 + 48 * i: 28 + 48 * i] = 1
    ys, xs = np.mgrid[:170, :520]
    for cx in (310, 388):  # 0 0, touching
        r = np.hypot((ys - 85) / 45, (xs - cx) / 40)
        ink[(r > 0.8) & (r < 1)] = 1
    assert without_underlines(ink, ink > 0) is ink
    seven = np.zeros((200, 300), np.float32)
    for x in range(20, 280, 16):  # one bar over two 7s, in dashes
        seven[30:36, x: x + 10] = 1
    for i in range(120):
        seven[36 + i, 250 - i // 3: 257 - i // 3] = seven[36 + i, 110 - i // 3: 117 - i // 3] = 1
    assert without_underlines(seven, seven > 0) is seven
    ten = np.pad(ring(), ((0, 0), (60, 0)))  # a 0 from row 40 to 160, and a 1 in dashes from 35 to 175 beside it
    for y in range(35, 170, 20):
        ten[y: y + 14, 30:37] = 1
    assert without_underlines(ten, ten > 0) is ten


def test_a_pens_dashes_stay_where_a_printed_lines_would_go():
    """A second review: a 7's bar in dashes clear of its stem, and a dashed 1 1.33 times its 0's height, passed every
    rule of place and reach; their dashes are as thick as the strokes, a printed line's are thin."""
    seven = np.zeros((180, 170), np.float32)
    for x in range(10, 150, 16):  # the bar in 9 dashes, 4 px over the stem and 11 px past it
        seven[20:26, x: x + 10] = 1
    for i in range(120):
        seven[30 + i, 130 - i // 3: 137 - i // 3] = 1
    assert without_underlines(seven, seven > 0) is seven
    ys, xs = np.mgrid[:200, :200]
    r = np.hypot((ys - 100) / 45, (xs - 140) / 35)
    ten = ((r > 0.85) & (r < 1)).astype(np.float32)  # a 0 90 px high
    for y in range(40, 165, 20):  # a 1 in 7 dashes, 120 px high
        ten[y: y + 14, 40:47] = 1
    assert without_underlines(ten, ten > 0) is ten
    ruled = ((r > 0.85) & (r < 1)).astype(np.float32)
    for y in range(0, 200, 20):  # the same dashes printed thin, 2 px, from the top to the foot: a form's rule
        ruled[y: y + 14, 40:42] = 1
    assert without_underlines(ruled, ruled > 0).sum() == ((r > 0.85) & (r < 1)).sum()
