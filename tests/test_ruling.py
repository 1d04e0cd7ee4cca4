"""Printed lines among the digits (lenet5/ruling/): found, taken out, and strokes left whole."""

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from lenet5.background import paper_level
from lenet5.preprocess import grey_to_digit, ink_map, inked
from lenet5.ruling import run_lengths, without_lines


def ring(side=200, outer=60, inner=45, centre=(100, 100)) -> np.ndarray:
    """A bold 0 (a ring, strokes 15 px wide) as ink [0, 1] on a side x side page."""
    ys, xs = np.mgrid[:side, :side]
    r = np.hypot(ys - centre[0], (xs - centre[1]) * 1.4)
    return ((r <= outer) & (r >= inner)).astype(np.float32)


def bar(side=200, top=40, bottom=160, left=95, width=12) -> np.ndarray:
    """A 1: one upright stroke."""
    ink = np.zeros((side, side), np.float32)
    ink[top:bottom, left: left + width] = 1
    return ink


def test_run_lengths_equal_counting_along_each_row():
    rng = np.random.default_rng(0)
    inked = rng.random((9, 40)) < 0.6
    lengths = run_lengths(inked)
    for y in range(9):
        x = 0
        while x < 40:
            if not inked[y, x]:
                assert lengths[y, x] == 0
                x += 1
                continue
            end = x
            while end < 40 and inked[y, end]:
                end += 1
            assert (lengths[y, x:end] == end - x).all()
            x = end


def test_ruled_lines_go_and_the_strokes_they_cross_stay():
    digit = ring()
    ink = digit.copy()
    rules = (20, 70, 120, 170)  # rules 2 px thick, through the 0 and above and below it
    for y in rules:
        ink[y: y + 2] = np.maximum(ink[y: y + 2], 0.6)
    out = without_lines(ink)
    for y in rules:
        assert (out[y - 1: y + 3, :50] == 0).all() and (out[y - 1: y + 3, 150:] == 0).all()
    for y in (70, 120):  # through the 0's sides
        crossing = (digit[y - 4: y + 6] > 0).all(axis=0)  # a stroke through the rule: drawn on through it
        assert crossing.sum() > 10 and out[y - 1: y + 3, crossing].min() > 0.99
    away = np.ones(200, bool)
    for y in rules:
        away[y - 2: y + 4] = False  # the band, a pixel wider than the rule, and a pixel of soft edge either side
    assert np.array_equal(out[away], digit[away])


def test_the_ink_says_when_lines_were_taken_out_of_it():
    digit = ring()
    ruled = digit.copy()
    for y in (20, 70, 120, 170):
        ruled[y: y + 2] = np.maximum(ruled[y: y + 2], 0.6)
    plain, lined = inked(1 - 0.9 * digit), inked(1 - 0.9 * ruled)  # dark ink on light paper
    assert plain.taken_out == () and lined.taken_out == ("lines",)
    assert (lined.ink[20:22, :50] == 0).all() and (lined.ink > 0).sum() == pytest.approx((plain.ink > 0).sum(), rel=0.1)


def test_a_box_around_a_narrow_1_goes_and_the_1_stays():
    digit = bar()
    ink = digit.copy()
    ink[25:28, 80:122] = ink[172:175, 80:122] = 1  # the box: 42 px wide, 150 high, 3 px thick
    ink[25:175, 80:83] = ink[25:175, 119:122] = 1
    assert np.array_equal(without_lines(ink), digit)


def test_a_line_to_write_on_goes_though_the_digit_rests_on_it():
    digit = ring()
    ink = digit.copy()
    ink[160:163] = 1  # across the page, touching the 0's lowest point (row 159)
    out = without_lines(ink)
    assert (out[160:163, :60] == 0).all() and (out[160:163, 140:] == 0).all()
    assert out[160:163, 100].min() > 0  # under the 0 the line is drawn from the stroke resting on it
    assert (out[:158] == digit[:158]).all() and (out[164:] == 0).all()


@pytest.mark.parametrize("ink", [ring(), bar(), bar(width=4), bar(width=2)], ids=["0", "1", "thin 1", "hairline 1"])
def test_digits_alone_are_left_as_they_are_even_one_straight_stroke(ink):
    assert without_lines(ink) is ink


def test_a_straight_stroke_shorter_than_the_digits_is_theirs():
    ink = ring()
    ink[15:17, 60:140] = 1  # a ruler-straight bar, 80 px: shorter than the 0 is wide (about 86 px)
    assert without_lines(ink) is ink


def test_a_digit_on_graph_paper_reads_as_on_plain_paper():
    digit = ring(side=260, outer=70, inner=52, centre=(130, 130))
    plain = (240 - 215 * digit) / 255
    squared = plain.copy()
    squared[5::28] = np.minimum(squared[5::28], 140 / 255)  # dark squares every 28 px, as the border crosses them too
    squared[:, 9::28] = np.minimum(squared[:, 9::28], 140 / 255)
    a, b = grey_to_digit(plain).float(), grey_to_digit(squared).float()
    assert (a - b).abs().mean() < 4, (a - b).abs().mean()  # of 255; the squares left in (before lenet5/ruling/): 32


def test_rules_crossing_the_border_are_paper_not_light_falling_off():
    page = np.full((200, 300), 0.06, np.float32)  # ink image of light paper: the paper 0.06
    page[::30] = 0.45  # rules crossing the border every 30 px
    page[80:120, 130:145] = 0.9
    level = paper_level(page)
    assert np.abs(level[15] - 0.06).max() < 0.02  # between the rules, the paper's level: a smooth surface
    assert ink_map(1 - page)[15].max() == 0


def test_only_rules_straight_across_make_a_border_ruled():
    from lenet5.background import _ruled

    shape = (100, 150)
    ring_at = np.zeros(shape, bool)
    ring_at[[0, -1], :] = ring_at[:, [0, -1]] = True
    ys, xs = np.nonzero(ring_at)

    def marked(*places):
        above = np.zeros(shape, bool)
        for y, x in places:
            above[y, x] = True
        return above[ys, xs]

    rules = [(y, 0) for y in (20, 50, 80)] + [(y + 1, 149) for y in (20, 50, 80)]  # each rule meets both sides
    assert _ruled(marked(*rules), ys, xs, shape)
    assert not _ruled(marked((20, 0), (60, 149)), ys, xs, shape)  # specks of noise, not across from each other
    assert not _ruled(marked(*[(y, 0) for y in range(30, 60)], *[(y, 149) for y in range(30, 60)]), ys, xs, shape)  # a shadow's band
    assert not _ruled(marked(), ys, xs, shape)


def test_rules_tilted_as_a_photographed_page_is_go_too():
    digit = ring()
    ink = digit.copy()
    ys, xs = np.mgrid[:200, :200]
    for y in (30, 75, 125, 170):  # rules 3 px thick, tilted by 3 degrees
        ink[np.abs(ys - y - np.tan(np.radians(3)) * xs) < 1.5] = 1
    out = without_lines(ink)
    assert (out[digit == 0] > 0).mean() < 0.005  # the rules gone (they are 6% of the paper), but for a few pixels beside the strokes
    assert (out[digit > 0] > 0.99).mean() > 0.97  # the 0 left whole


def stroke(ink: np.ndarray, start: tuple[float, float], end: tuple[float, float], width: float) -> None:
    """Draw a straight stroke `width` px wide from `start` to `end` (row, column) into ink, in place."""
    ys, xs = np.mgrid[: ink.shape[0], : ink.shape[1]]
    (y0, x0), (y1, x1) = start, end
    length = np.hypot(y1 - y0, x1 - x0)
    along = ((ys - y0) * (y1 - y0) + (xs - x0) * (x1 - x0)) / length
    across = np.abs((xs - x0) * (y1 - y0) - (ys - y0) * (x1 - x0)) / length
    ink[(along >= 0) & (along <= length) & (across <= width / 2)] = 1


@pytest.mark.parametrize("degrees", [-9, 7, 8, 10])
def test_a_box_photographed_7_to_10_degrees_askew_goes(degrees):
    # beyond the 7 degrees that SEED_SHAPE finds and short of lenet5/read/line.py's turn upright (8.5 degrees,
    # and only for a line of digits): found as lines tilted together (`_steep`)
    digit = ring()
    ink = digit.copy()
    ink[25:28, 20:180] = ink[172:175, 20:180] = 1  # a box 160 px wide, 150 high, 3 px thick
    ink[25:175, 20:23] = ink[25:175, 177:180] = 1
    turned, alone = (ndimage.rotate(a, degrees, order=0, reshape=True) for a in (ink, digit))
    out = without_lines(turned)
    assert (out[alone == 0] > 0).sum() < 0.05 * (turned[alone == 0] > 0).sum()  # the box gone (it stayed whole: 1,900 px)
    assert (out[alone > 0] > 0.5).mean() > 0.99


@pytest.mark.parametrize("degrees", [-9, 8, 9])
def test_a_tight_box_photographed_turned_goes_side_and_all(degrees):
    # a tight box's sides, turned with the page, are about as long as the 1 in it is high turned with it:
    # measured along the sides' own tilt they are the longer (`taking_out.longer`); measured by rows, one stayed
    # (about 430 px) and, in a photographed form, a 1 in such a box was read as a 0
    digit = np.zeros((200, 200), np.float32)
    stroke(digit, (42, 116), (158, 84), 8)  # a 1 leaning right, from corner to corner
    ink = digit.copy()
    ink[36:39, 76:124] = ink[161:164, 76:124] = 1  # a tight box: 48 px wide, 128 high, 3 px thick
    ink[36:164, 76:79] = ink[36:164, 121:124] = 1
    turned, alone = (ndimage.rotate(a, degrees, order=1, reshape=True) for a in (ink, digit))
    out = without_lines(turned)
    assert (out[alone == 0] > 0).sum() < 0.1 * (turned[alone == 0] > 0).sum()  # a few px of the box's soft edge
    assert (out[alone > 0.5] > 0.5).mean() > 0.97


@pytest.mark.parametrize("degrees", [-9, -8, 8])
def test_an_amounts_box_photographed_turned_loses_its_short_sides_too(degrees):
    # the short sides (76 px, 3 thick: too short to be lines themselves) are found between the long sides'
    # ends (`boxes.side_between`); turned, those ends lie square to each other, not in one column: looked for in one
    # column, the short sides stayed (about 600 px), two strokes beside the digits
    digits = np.zeros((120, 320), np.float32)
    for k in range(5):  # five 1s, 50 px high
        stroke(digits, (35, 64 + 50 * k), (85, 56 + 50 * k), 6)
    ink = digits.copy()
    ink[22:25, 20:300] = ink[95:98, 20:300] = 1  # the box: 280 x 76 px, 3 px thick
    ink[22:98, 20:23] = ink[22:98, 297:300] = 1
    turned, alone = (ndimage.rotate(a, degrees, order=1, reshape=True) for a in (ink, digits))
    out = without_lines(turned)
    assert (out[alone == 0] > 0).sum() < 0.02 * (turned[alone == 0] > 0).sum()
    assert (out[alone > 0.5] > 0.5).all()


@pytest.mark.parametrize("degrees", [-8, 8, 10])
def test_a_stroke_leaning_7_to_11_degrees_alone_is_the_digits(degrees):
    # from a review of a first try (every line up to 11 degrees found): a fine pen's straight strokes leaning
    # so are lines' seeds, and a 7's bar rising 8 degrees kept 0.57 of its ink, a 4's stem 0.62
    rise = np.tan(np.radians(degrees))
    seven, four = np.zeros((220, 220), np.float32), np.zeros((220, 220), np.float32)
    stroke(seven, (50, 50), (50 - rise * 110, 160), 3)  # the bar, 110 px long, 3 px thick
    stroke(seven, (50 - rise * 110, 160), (180, 100), 3)
    stroke(four, (30, 150 + rise * 75), (180, 150 - rise * 75), 5)  # the stem, 150 px long, 5 px thick
    stroke(four, (40, 80), (120, 60), 5)
    stroke(four, (120, 60), (120, 150), 5)
    for digit in (seven, four):
        assert without_lines(digit) is digit


@pytest.mark.parametrize("degrees", [8, 10])
def test_slanted_writing_is_no_page_turned(degrees):
    # from a review of 58ecd5a: a 1 and a 7 slanted alike, their stems leaning together, were taken for two
    # lines turned together and erased (0.08 of the ink kept); a page turned tilts its rows with its
    # columns, slanted writing leans its columns only (`lines.turned_together`)
    ink = np.zeros((240, 330), np.float32)
    lean = np.tan(np.radians(degrees)) * 90
    stroke(ink, (30, 80 + lean), (210, 80 - lean), 3)  # the 1: a stem 180 px long, 3 px thick, and its flag
    stroke(ink, (30, 80 + lean), (60, 52 + lean), 3)
    stroke(ink, (30, 170 + lean), (30, 250 + lean), 3)  # the 7: a level bar, a stem leaning as the 1's
    stroke(ink, (30, 250 + lean), (210, 250 - lean), 3)
    assert without_lines(ink) is ink


def test_rules_tilted_9_degrees_dashed_in_part_go():
    # from the same review: a line asked to fill its band along 3/4 of its length (here 2/3) refused such
    # rules; the longest stretch filled (`_filled_along`) does not
    digit = ring()
    ink = digit.copy()
    ys, xs = np.mgrid[:200, :200]
    rise = np.tan(np.radians(9))
    dashed = (xs < 100) | (xs % 3 == 0)  # solid for half the page, beyond it dotted a pixel in three (GAP bridges it)
    for y in (15, 65, 115, 165):
        ink[(np.abs(ys - y - rise * (xs - 100)) < 1.5 / np.cos(np.radians(9))) & dashed] = 1
    out = without_lines(ink)
    assert (out[digit == 0] > 0).sum() < 0.1 * (ink[digit == 0] > 0).sum()
    assert (out[digit > 0] > 0.5).mean() > 0.97


def test_the_walls_between_a_forms_cells_go_and_the_digits_in_them_stay():
    # before `boxes.walls`: a wall under LINE_SHAPE times as long as it is thick stayed, a 1 to the readers (amounts
    # in cells read 0.0%)
    cell, count, thick = 120, 4, 7
    digits = np.zeros((200, cell * count), np.float32)
    for k in range(count):  # a bar (a 1) and a ring (a 0) by turns
        shape = bar(top=50, bottom=150) if k % 2 == 0 else ring(outer=45, inner=33)
        digits[:, k * cell: (k + 1) * cell] = shape[:, 40:160]
    form = digits.copy()
    form[20: 20 + thick, :] = form[180 - thick: 180, :] = 1  # the cells' top and bottom
    for k in range(count + 1):  # the walls from top to bottom: 160 px, under 25 times their 7 px
        x = min(k * cell, cell * count - thick)
        form[20:180, x: x + thick] = 1
    assert np.array_equal(without_lines(form), digits)  # the rules and walls go, every digit's stroke stays
    turned = ndimage.rotate(form, 4, order=0, reshape=True)  # a form photographed turned: its walls lean
    alone = ndimage.rotate(digits, 4, order=0, reshape=True)
    left = without_lines(turned)
    assert (left > 0).sum() < 1.03 * (alone > 0).sum() and ((left > 0) & (alone > 0)).sum() > 0.97 * (alone > 0).sum()


@pytest.mark.parametrize("width", [3, 4])
def test_a_1_written_from_rule_to_rule_is_no_wall(width):
    # from a review: with walls alone (before WALLS and SPACING), a 1 of 3-4 px touching both 2 px rules was erased
    digits = np.zeros((60, 120), np.float32)
    digits[12:48, 30: 30 + width] = 1  # the 1, from the rule above to the rule below
    digits[20:40, 60:64] = digits[20:40, 80:84] = digits[20:24, 60:84] = digits[36:40, 60:84] = 1  # a 0 between
    ruled = digits.copy()
    ruled[10:12] = ruled[48:50] = 1  # the rules, 2 px, across the page
    out = without_lines(ruled)
    assert (out[digits > 0] > 0).all()  # every stroke of the 1 and the 0 stays
    assert not out[10:12, 40:].any() and not out[48:50, 40:].any()  # the rules go (where the 1 meets them, it is drawn on)


def comb_form(count: int = 5, cell: int = 60, tick: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Digits written in a comb (a line to write on with a tick between each digit's place): bars
    (1s) and rings (0s) by turns, 70 px high, standing on the line; (the form, the digits alone)."""
    digits = np.zeros((110, cell * count + 4), np.float32)
    ys, xs = np.mgrid[:110, :cell]
    for k in range(count):
        left = k * cell + 2
        if k % 2 == 0:
            digits[18:88, left + 26: left + 32] = 1
        else:
            r = np.hypot((ys - 53) / 35, (xs - 30) / 20)
            digits[:, left: left + cell][(r <= 1) & (r >= 0.78)] = 1
    form = digits.copy()
    form[88:91, :] = 1  # the line, 3 px thick
    for k in range(count + 1):  # the ticks, as thick, rising from it
        form[88 - tick: 88, k * cell: k * cell + 3] = 1
    return form, digits


def test_a_combs_ticks_go_and_the_digits_stay():
    # before _ticks: each tick stayed and was read as a 1 (amounts in a comb read 24.7%, 150 held-out)
    form, digits = comb_form()
    out = without_lines(form)
    assert (out[:86][digits[:86] > 0] > 0.99).all()  # every stroke stays (where it meets the line, drawn on through it)
    free = digits[86] == 0  # columns where no stroke rests on the line (there it is drawn on through the line)
    assert not out[:, free][digits[:, free] == 0].any()  # the line and its ticks go
    assert not out[:, 0:3].any() and not out[:, 120:123].any()  # two ticks, where no digit is near
    turned = ndimage.rotate(form, 3, order=0, reshape=True)  # photographed turned: the ticks lean
    alone = ndimage.rotate(digits, 3, order=0, reshape=True)
    left = without_lines(turned)
    assert (left > 0).sum() < 1.03 * (out > 0).sum() and ((left > 0) & (alone > 0)).sum() > 0.97 * (alone > 0).sum()


@pytest.mark.parametrize("degrees", [-7, -5, 5, 7])
def test_a_comb_photographed_turned_loses_every_tick(degrees):
    # from a review: a tick's height was the median of its columns' runs, which a turned tick's steps cut
    # short in some columns, so at -5 / -7 degrees one tick stayed (51-54 of 350 tick pixels)
    form, digits = comb_form()
    ticks = np.zeros_like(form)
    for k in range(6):
        ticks[68:88, k * 60: k * 60 + 3] = 1
    ticks[digits > 0] = 0
    turned, alone = (ndimage.rotate(a, degrees, order=0, reshape=True) for a in (form, ticks))
    assert (without_lines(turned)[alone > 0] > 0).sum() <= 3


@pytest.mark.parametrize("lean", [0, 6, 15])
def test_ones_standing_on_a_line_are_no_comb(lean):
    # 1s and 0s as high as each other, standing on the line evenly spaced: digits, not ticks; from a review:
    # 1s leaning 6-15 degrees rose from the line in each column for a share of their height only, and
    # lost 14-33 of their 70 rows
    form, digits = comb_form(tick=0)
    ys, xs = np.mgrid[: form.shape[0], : form.shape[1]]
    for k in (0, 2, 4):  # the 1s again, their tops leaning right by `lean` degrees
        digits[18:88, k * 60 + 28: k * 60 + 34] = 0
        shift = (88 - ys) * np.tan(np.radians(lean))
        digits[(ys >= 18) & (ys < 88) & (xs >= k * 60 + 28 + shift) & (xs < k * 60 + 34 + shift)] = 1
    form = digits.copy()
    form[88:91, :] = 1
    out = without_lines(form)
    assert (out[:86][digits[:86] > 0] > 0.99).all() and not out[88:91][:, digits[86] == 0].any()


def test_ones_alone_on_a_line_leave_it_to_be_taken_out():
    # from a review: three 1s alone on a line were taken for all the digits there were, and the line stayed
    ones = np.zeros((110, 220), np.float32)
    for k in range(3):
        ones[18:88, 46 + 60 * k: 52 + 60 * k] = 1
    form = ones.copy()
    form[88:91, :] = 1
    out = without_lines(form)
    assert (out[:86][ones[:86] > 0] > 0.99).all() and (out[88:91] > 0).mean() < 0.1


def test_ones_under_a_line_of_writing_above_are_no_comb():
    # from a review: on ruled paper with a row of writing above, 1s on the second rule were measured against
    # the height of both rows and erased as ticks
    ys, xs = np.mgrid[:220, :400]
    digits = np.zeros((220, 400), np.float32)
    for cx, cy in ((60, 53), (160, 53), (360, 53), (330, 163)):  # 0s, 70 px high: three on the first rule, one on the second
        r = np.hypot((ys - cy) / 35, (xs - cx) / 20)
        digits[(r <= 1) & (r >= 0.78)] = 1
    for k in range(4):  # 1s on the second rule
        digits[128:198, 60 + 60 * k: 66 + 60 * k] = 1
    form = digits.copy()
    form[88:91] = form[198:201] = 1
    out = without_lines(form)
    away = np.ones(220, bool)
    away[86:93] = away[196:] = False  # where strokes meet the rules they are drawn on through them
    assert (out[away][digits[away] > 0] > 0.99).all()
    assert (out[128:196, 60:246][digits[128:196, 60:246] > 0] > 0.99).all()  # every 1 whole


def test_graph_papers_lines_through_the_digits_go_where_others_cross_them():
    # squares half a digit high, 1 px lines, enlarged 3x and blurred (as a photo of a squared page): a line
    # through the digits has ink on both sides where strokes and the grid's other lines cross it; before,
    # the grid's crossings counted against it (BARE) and one of them stayed, with it the digits' reach
    # across the page (3.9% of the paper left inked, here under 2.5%)
    digits = np.zeros((56, 150), np.float32)
    ys, xs = np.mgrid[:56, :150]
    for k in range(6):  # rings (0s) 20 px high, strokes about 3 px, 22 px apart
        r = np.hypot((ys - 28) / 10, (xs - 18 - 22 * k) / 7)
        digits[(r <= 1) & (r >= 0.7)] = 1
    grid = digits.copy()
    grid[6::10, :] = np.maximum(grid[6::10, :], 0.8)
    grid[:, 6::10] = np.maximum(grid[:, 6::10], 0.8)

    def photographed(ink):
        big = ndimage.gaussian_filter(ndimage.zoom(ink, 3, order=1), 0.6).clip(0, 1)
        big[big < 0.1] = 0
        return big

    out, alone = without_lines(photographed(grid)), photographed(digits)
    assert (out[alone == 0] > 0).mean() < 0.025
    # where a ring's bottom runs along a line, the stroke goes with the line: most of the rings stay
    assert (out[alone > 0.5] > 0.5).mean() > 0.75


def test_a_rule_the_digits_cover_more_than_half_of_goes_beside_rules_alike():
    # narrow rules, one through the middle of heavy digits written close together: their strokes lie on both
    # sides of it along more than half its length, so it is no bare line (BARE); as long, as thick and as
    # level as the rules above and below them, it is one of them and goes too (left in, it joined the
    # digits into one piece as wide as the page, no rule was longer than they reach, and every rule stayed)
    h, w = 64, 300
    ys, xs = np.mgrid[:h, :w]
    digits = np.zeros((h, w), np.float32)
    for k in range(10):  # 0s 40 px high and 22 px wide, strokes 9-16 px, 2 px apart, paper 30 px either side
        r = np.hypot((ys - 32) / 20, (xs - 44 - 24 * k) / 11)
        digits[(r <= 1) & (r >= 0.2)] = 1
    ink = digits.copy()
    rules = (4, 31, 59)
    for y in rules:
        ink[y: y + 2] = np.maximum(ink[y: y + 2], 0.8)
    out = without_lines(ink)
    gaps = digits.max(axis=0) == 0  # columns between the 0s
    for y in rules:
        assert (out[y: y + 2, gaps] == 0).all()
    assert (out[digits > 0] > 0.5).mean() > 0.95


def test_a_stroke_lying_along_a_rule_stays_where_it_is_darker_than_the_rule():
    # a 0's top and bottom lie on two rules (strokes 8 px, rules 3 px and paler), as a 9's loop on a
    # ruled page photographed: the stroke is the darker and runs further down each column than a rule
    # does, so it stays; before, each column's stretch of rule was drawn from the ink just beyond it,
    # and the 0's top went with the rule (an open 0 reads as a 4 or a 6, and was read so surely)
    h, w = 100, 200
    ys, xs = np.mgrid[:h, :w]
    zero = np.zeros((h, w), np.float32)
    r = np.hypot((ys - 50) / 30, (xs - 100) / 20)
    zero[(r <= 1) & (r >= 0.75)] = 1.0
    ink = zero.copy()
    for y in (21, 76):  # through the 0's top and bottom strokes
        ink[y: y + 3] = np.maximum(ink[y: y + 3], [[0.35], [0.6], [0.35]])
    ink[48: 51] = np.maximum(ink[48: 51], [[0.35], [0.6], [0.35]])  # and one through its middle
    out = without_lines(ink)
    assert (out[48: 51, :70] == 0).all() and (out[21: 24, 130:] == 0).all()  # the rules went
    top, bottom = (zero[:40, 95:106] > 0), (zero[60:, 95:106] > 0)  # the 0's top and bottom, where they lie on the rules
    assert (out[:40, 95:106][top] > 0.5).mean() > 0.9 and (out[60:, 95:106][bottom] > 0.5).mean() > 0.9


def test_a_stroke_lying_along_a_rule_as_dark_as_it_stays():
    # a 7 on squared paper whose rules are as dark as its ink: its bar covers a rule and reaches a row
    # beyond it either way, so no solid ink lies just above or below the rule's stretch to draw it from,
    # and it is no darker than the rule; before, the bar went with the rule and a 1 was left
    # (benchmarks/composed_amounts.py squares: 5175 read 5775, 990 read 940)
    h, w = 100, 240
    seven = np.zeros((h, w), np.float32)
    seven[29:34, 90:130] = 1.0  # the bar, 5 px
    for y in range(33, 80):  # the stem, leaning
        x = 126 - (y - 33) // 3
        seven[y, x: x + 5] = 1.0
    ink = seven.copy()
    ink[30:33] = np.maximum(ink[30:33], 1.0)  # a rule through the bar, 3 px and as dark
    ink[70:73] = np.maximum(ink[70:73], 1.0)  # another through the stem
    out = without_lines(ink)
    assert (out[30:33, :80] == 0).all() and (out[70:73, 140:] == 0).all()  # the rules went
    assert (out[29:34, 92:128] > 0.5).mean() > 0.9  # the bar stays
    assert (out[:, :85] == 0).all() and (out[:, 135:] == 0).all()  # and nothing of the rules beside it


def one_seven_zero(height: int) -> np.ndarray:
    """A 1, a 7 and a 0 at MNIST's scale, 24 px high, across the middle of a strip `height` x 130 (ink [0, 1])."""
    top = height // 2 - 12
    ink = np.zeros((height, 130), np.float32)
    ink[top: top + 24, 20:23] = 1.0
    ink[top: top + 3, 50:66] = 1.0
    ink[top: top + 24, 63:66] = 1.0
    ys, xs = np.mgrid[:height, :130]
    r = np.hypot((ys - top - 12) / 11, (xs - 100) / 8)
    ink[(r <= 1) & (r >= 0.7)] = 1.0
    return ink


def on_paper(ruled: np.ndarray, digits: np.ndarray, scale: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Ink with its lines, enlarged `scale` times (bicubic) and blurred, as grey paper [0, 1]; and the
    digits' own ink so enlarged, where it is solid (bool)."""
    size = (scale * ruled.shape[1], scale * ruled.shape[0])
    big = np.asarray(Image.fromarray(ruled, mode="F").resize(size, Image.Resampling.BICUBIC))
    solid = np.asarray(Image.fromarray(digits, mode="F").resize(size, Image.Resampling.BICUBIC)) > 0.5
    return 1 - ndimage.gaussian_filter(big, 0.2 * scale).clip(0, 1), solid


def squared_photo(seed: int, scale: int = 3, height: int = 44) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A strip of squared paper `height` px high photographed, a 1, a 7 and a 0 across it (1 px rules
    every 10 px at MNIST's scale, 0.8 as dark as the ink, enlarged `scale` times and blurred, light
    falling off across it, the sensor's noise, JPEG): (grey, the digits' pixels, the grid's columns' pixels)."""
    rng = np.random.default_rng(seed)
    ink = one_seven_zero(height)
    ruled = ink.copy()
    ruled[4::10, :] = np.maximum(ruled[4::10, :], 0.8)
    ruled[:, 6::10] = np.maximum(ruled[:, 6::10], 0.8)
    paper, digits = on_paper(ruled, ink, scale)
    h, w = paper.shape
    ys, xs = np.mgrid[:h, :w]
    grey = ((paper * 0.75 + 0.1) * (0.85 - 0.25 * xs / w - 0.1 * ys / h) + rng.normal(0, 0.03, paper.shape)).clip(0, 1)
    data = io.BytesIO()
    Image.fromarray(np.round(grey * 255).astype(np.uint8)).save(data, "JPEG", quality=70)
    columns = np.zeros((h, w), bool)
    for x in range(6, 130, 10):
        columns[:, scale * x - scale // 3: scale * x + scale + scale // 3] = True
    return np.asarray(Image.open(data), dtype=np.float32) / 255, digits, columns


@pytest.mark.parametrize("level", [0.3, 0.5])
def test_faint_rules_on_clean_paper_are_no_grain(level):
    # from a review: faint rules that no digit touches are weak pieces of ink, as grain is, and five of them
    # once made a grain floor two thirds as high as their ink, above which they broke up and stayed; the
    # grain is judged from pieces too small to be a line's
    ink = one_seven_zero(100)
    ruled = ink.copy()
    ruled[4::12, :] = np.maximum(ruled[4::12, :], level)
    grey, digits = on_paper(ruled, ink)
    out = inked(grey.astype(np.float32))
    away = ~ndimage.binary_dilation(digits, iterations=6)
    assert out.taken_out == ("lines",) and (out.ink[away] > 0).sum() <= 2
    assert (out.ink[digits] > 0.3).mean() > 0.97


@pytest.mark.parametrize("seed", [0, 1])
def test_a_squared_pages_columns_go_through_a_photos_grain(seed):
    # the grain of a photo's paper, a fifth of it inked faintly, thickened every line found through it by a
    # pixel or two, so that the grid's columns in a strip 4 squares high were no longer 25 times as long as
    # they were thick, and stayed (0.47-0.81 of their ink away from the digits); amounts so photographed
    # read 2% (a one-off probe, 200 held-out amounts). Lines are found on the ink above the grain's floor.
    grey, digits, columns = squared_photo(seed)
    out = inked(grey)
    away = columns & ~ndimage.binary_dilation(digits, iterations=6)
    assert out.taken_out == ("lines",)
    assert (out.ink[away] > 0.3).mean() < 0.02 and (out.ink[digits] > 0.3).mean() > 0.97


@pytest.mark.parametrize("scale, height", [(4, 44), (5, 44), (3, 41)])
def test_a_squared_pages_columns_go_where_the_crop_leaves_them_short(scale, height):
    # photographed at 5x, a strip 4.4 squares high: its columns, 220 px long, are blurred 9 px thick and so
    # shorter than LINE_SHAPE; none was found and 0.89 of their ink stayed (4x: 0.13, some found; 3x, 4.1
    # squares high: 0.79), and held-out amounts so photographed read 0.0% (4x: 63.0%; 200, a one-off
    # probe); the rows, found, now vouch for them (`squared.squares`)
    grey, digits, columns = squared_photo(0, scale, height)
    out = inked(grey)
    away = columns & ~ndimage.binary_dilation(digits, iterations=2 * scale)
    assert out.taken_out == ("lines",)
    assert (out.ink[away] > 0.3).mean() < 0.02 and (out.ink[digits] > 0.3).mean() > 0.97


@pytest.mark.parametrize("degrees", [8, -10])
def test_a_squared_page_turned_8_to_10_degrees_loses_its_rows_and_columns(degrees):
    # a squared page's lines turned 6-11 degrees are found only from pieces at STEEP_SEED_SHAPE, and each
    # line's pieces, broken where the others cross it, were a square long less the crossings (about 20 px at
    # 3x): shorter than LINE_SHAPE, none was followed and the whole grid stayed (held-out amounts on squares
    # turned 8 / 10 degrees read 0 / 30%, a one-off probe of 30 each); and a steep line refused for want of
    # paper beside it, through the digits, was not kept beside those found alike (`lines._kept_alike`)
    ink = one_seven_zero(44)
    grid = np.zeros_like(ink)
    grid[4::10, :], grid[:, 6::10] = 1.0, 1.0
    paper, digits = on_paper(np.maximum(ink, 0.8 * grid), ink)
    lines = on_paper(grid, grid)[1]

    def turned(a: np.ndarray, fill: float) -> np.ndarray:
        return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=fill))

    grey, digits, lines = turned(paper, 1.0).clip(0, 1), turned(digits, 0.0) > 0.5, turned(lines, 0.0) > 0.5
    out = inked(grey)
    away = lines & ~ndimage.binary_dilation(digits, iterations=6)
    assert out.taken_out == ("lines",)
    assert (out.ink[away] > 0.3).mean() < 0.05 and (out.ink[digits] > 0.3).mean() > 0.95


def test_a_fine_pens_straight_strokes_11_degrees_askew_are_no_steep_lines():
    # from a review: once a steep line's pieces were followed from STEEP_PIECE columns long wherever they lay, a
    # fine pen's 747 on plain paper, its bars rising 11 degrees and its stems leaning 11 degrees (as a page turned
    # 11 degrees lays them), lost half its ink as lines turned together (read 1); a short steep piece is now
    # followed only where other lines cross it at both ends (`lines._between_crossings`)
    h, width, margin, gap = 136, 2.2, 40, 34
    rise, lean = np.tan(np.radians(11)), np.tan(np.radians(-11)) * h  # the stems lean down to the right
    ink = np.zeros((h + 2 * margin, 521), np.float32)
    top, left = margin, margin + abs(lean) / 2
    for digit in "747":
        if digit == "7":  # a bar rising to the right, a stem from its end
            bar = 0.6 * h
            stroke(ink, (top, left), (top - rise * bar, left + bar), width)
            stroke(ink, (top - rise * bar, left + bar), (top + h, left + bar - lean), width)
        else:  # a 4: its stem, its left arm, its bar
            stem = left + 0.6 * h
            stroke(ink, (top, stem + lean / 2), (top + h, stem - lean / 2), width)
            stroke(ink, (top, left + 0.1 * h), (top + 0.65 * h, left), width)
            stroke(ink, (top + 0.65 * h, left), (top + 0.65 * h - rise * 0.8 * h, left + 0.8 * h), width)
        left += (0.7 if digit == "7" else 0.9) * h + gap
    out = inked((1 - ndimage.gaussian_filter(ink, 0.7)).clip(0, 1).astype(np.float32))
    assert out.taken_out == () and (out.ink[ndimage.gaussian_filter(ink, 0.7) > 0.5] > 0.3).mean() > 0.97


@pytest.mark.parametrize("scale", [3, 5])
def test_thin_ones_at_the_rules_spacing_are_no_squared_pages_columns(scale):
    # from a review: on lined paper, 1s a pixel wide as tall as a tight crop, written one rule's spacing
    # apart, are as thick as the rules, evenly spaced at their spacing and cross them all: at SQUARE_SHAPE 15
    # `squared.squares` took all four for a squared page's columns (none of their ink kept at 3x); at 20 a pen's
    # straightest stroke stays under it
    ink = np.zeros((30, 140), np.float32)
    for k in range(4):
        ink[1:29, 14 + 12 * k] = 1.0
    ys, xs = np.mgrid[:30, :140]
    ink[(np.hypot((ys - 15) / 11, (xs - 74) / 7) <= 1) & (np.hypot((ys - 15) / 11, (xs - 74) / 7) >= 0.7)] = 1.0
    ruled = ink.copy()
    ruled[3::12, :] = np.maximum(ruled[3::12, :], 0.8)
    paper, digits = on_paper(ruled, ink, scale)
    out = inked((paper * 0.8 + 0.1).astype(np.float32))
    ones = digits.copy()
    ones[:, 60 * scale:] = False
    assert out.taken_out == ("lines",) and (out.ink[ones] > 0.3).mean() > 0.9


def test_graph_papers_lines_go_where_its_squares_are_smaller_than_a_lines_least_length():
    # 1 px lines every 20 px both ways: between two crossings each line's piece is 19 px, under LINE_SHAPE
    # (25), so no piece was long enough to follow and every line stayed; a piece now goes on through a crossing
    h, w = 100, 240
    ys, xs = np.mgrid[:h, :w]
    digits = np.zeros((h, w), np.float32)
    for k in range(4):  # 0s 50 px high
        r = np.hypot((ys - 50) / 25, (xs - 45 - 50 * k) / 16)
        digits[(r <= 1) & (r >= 0.8)] = 1
    grid = digits.copy()
    grid[10::20] = np.maximum(grid[10::20], 0.8)
    grid[:, 10::20] = np.maximum(grid[:, 10::20], 0.8)
    out = without_lines(grid)
    away = ~ndimage.binary_dilation(digits > 0, iterations=3)  # (beside a stroke, a crossing's stretch is drawn from it)
    assert (out[away] > 0).mean() < 0.005  # before: 0.094, every line there
    assert (out[digits > 0.5] > 0.5).mean() > 0.9


def test_a_line_whose_middle_runs_past_the_last_row_raises_nothing():
    # from a review of 35819be: on a fine grid over long strokes, a row line tilted 4 degrees was found whose middle
    # ran below the image's last row, and looking for a comb's ticks on it read past the image (IndexError)
    ink = np.zeros((78, 156), np.float32)
    for start, end, width in [((20.5, 93.8), (57.7, 0.3), 4.07), ((71.3, 99.5), (75.6, 8.4), 2.72),
                              ((7.7, 114.5), (69.9, 149.1), 3.44), ((32.0, 18.7), (15.1, 57.4), 2.68),
                              ((76.1, 32.8), (3.0, 24.4), 2.3), ((2.2, 19.8), (61.1, 107.7), 2.39)]:
        stroke(ink, start, end, width)
    for y in (0, 21, 28, 35, 49, 56, 63, 70, 77):
        ink[y: y + 2] = np.maximum(ink[y: y + 2], 0.884)
    for x in range(0, 156, 7):
        ink[:, x: x + 2] = np.maximum(ink[:, x: x + 2], 0.884)
    out = without_lines(ink)
    assert out.shape == ink.shape and 0 <= out.min() and out.max() <= 1


def test_a_squared_pages_column_a_digit_covers_at_its_end_goes_on_a_page_turned_10_degrees(mnist_dir, monkeypatch):
    # a squared page turned 10 degrees in a strip 4-5 squares high: each column is about LINE_SHAPE times as long
    # as it is thick, and where a digit's stroke ran along one near its end, the grid's place for it (`grids.missing`)
    # held a piece 124 px long where 125 were asked, and the column stayed through the digit (a 0 read as a 6 or 9).
    # Of these 30 held-out amounts 25 were read exactly before, 27 with the piece asked to span HELD of it (24 and 28
    # of a one-off probe's 30).
    from pathlib import Path

    from lenet5.data.datasets import load_digits
    from lenet5.read import load_reader, read_number

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import composed_amounts as ca

    digits = load_digits("mnist", mnist_dir)
    images, labels = digits.train_images[-10_000:].numpy(), digits.train_labels[-10_000:].numpy()
    model, _ = load_reader("amounts")
    rng = np.random.default_rng(2456)
    right = 0
    for _ in range(30):
        number, ink = ca.compose(images, labels, rng, int(rng.integers(3, 7)))
        grey = ca.turned(ca.on_paper(ca.ruled(ink, rng, 10, True), 3), 10.0 * rng.choice([-1, 1]))
        right += read_number(model, np.clip(grey, 0, 1).astype(np.float32)).number == number
    assert right >= 27
