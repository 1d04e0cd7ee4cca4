"""The line at digit scale: connected components, and the scale and offset back to the image."""

import math
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lenet5.read.line import DIGIT_HEIGHT, INK, label_components, normalize
from lenet5.read.oversegment import atoms


def components_by_search(binary: np.ndarray) -> int:
    """Independent count of 8-connected components, by breadth-first search."""
    seen = np.zeros_like(binary, dtype=bool)
    count = 0
    h, w = binary.shape
    for y, x in zip(*np.nonzero(binary)):
        if seen[y, x]:
            continue
        count += 1
        queue = deque([(y, x)])
        seen[y, x] = True
        while queue:
            cy, cx = queue.popleft()
            for ny in range(max(0, cy - 1), min(h, cy + 2)):
                for nx in range(max(0, cx - 1), min(w, cx + 2)):
                    if binary[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
    return count


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 30), st.floats(0.1, 0.7), st.integers(0, 2**31))
def test_components_match_a_breadth_first_search(h, w, density, seed):
    binary = np.random.default_rng(seed).random((h, w)) < density
    labels = label_components(binary)
    assert ((labels > 0) == binary).all()
    assert len(np.unique(labels[labels > 0])) == components_by_search(binary)
    for k in np.unique(labels[labels > 0]):  # each label is one component: one search from any pixel covers it
        assert components_by_search(labels == k) == 1


def two_digits_image(gap: int, height: int = 60) -> np.ndarray:
    """Dark ink on light paper: a bar ('1') and a ring ('0'), `gap` px apart, `height` px high."""
    grey = np.ones((height + 40, 2 * height + gap + 60), np.float32)
    top, left = 20, 30
    grey[top: top + height, left: left + height // 6] = 0.05
    ring_left = left + height // 6 + gap
    ys, xs = np.indices(grey.shape)
    cy, cx, r = top + height / 2, ring_left + height * 0.35, height * 0.35
    ring = np.abs(np.hypot((ys - cy) / (height / 2 / r), xs - cx) - r) < height / 14
    grey[ring] = 0.05
    return grey


def test_normalize_brings_digits_to_mnist_height_and_keeps_coordinates():
    # 80 px apart: two digits. 40 px apart the pair is about as wide as its ring is tall (1.06), measured as
    # one digit (ONE_DIGIT): by the ring, 145 px with its stroke, so the bar comes out 16.5 px high
    line = normalize(two_digits_image(gap=80, height=120))
    pieces = atoms(line)
    heights = [a.ys.max() - a.ys.min() + 1 for a in pieces if a.ys.max() - a.ys.min() > 10]
    assert abs(np.median(heights) - DIGIT_HEIGHT) <= 2
    bar = min(pieces, key=lambda a: a.x0)  # the bar starts at column 30 of the image, row 20
    y, x = line.to_image(bar.ys.min(), bar.x0)
    assert abs(x - 30) <= 2 * line.scale and abs(y - 20) <= 2 * line.scale
    assert np.isclose(line.from_image(y, x)[1], bar.x0)  # the two maps undo each other
    assert np.allclose(line.from_image(*line.to_image(0, np.arange(5.0)))[1], np.arange(5.0))


def test_normalize_brings_digits_to_the_height_asked_for():
    grey = two_digits_image(gap=40, height=120)
    for height in (16, 24):
        line = normalize(grey, height)
        heights = [a.ys.max() - a.ys.min() + 1 for a in atoms(line) if a.ys.max() - a.ys.min() > 6]
        assert abs(np.median(heights) - height) <= 2
        assert np.isclose(line.scale, normalize(grey).scale * DIGIT_HEIGHT / height)  # the same image, another scale


def bars_and_rings(count: int, height: int = 60, gap: int = 30) -> np.ndarray:
    """Dark ink on light paper: `count` digits `height` px high, bars ('1') and rings ('0') by turns."""
    width = height // 6 + round(0.7 * height)
    grey = np.ones((height + 40, count * (width + gap) + 60), np.float32)
    ys, xs = np.indices(grey.shape)
    for k in range(count):
        left = 30 + k * (width + gap)
        if k % 2 == 0:
            grey[20: 20 + height, left: left + height // 6] = 0.05
        else:
            cy, cx, r = 20 + height / 2, left + height * 0.35, height * 0.35
            grey[np.abs(np.hypot((ys - cy) / (height / 2 / r), xs - cx) - r) < height / 14] = 0.05
    return grey


def turned(grey: np.ndarray, degrees: float) -> np.ndarray:
    """The picture turned `degrees` anticlockwise, grown to hold it, paper around."""
    return np.asarray(Image.fromarray(grey, mode="F").rotate(degrees, Image.Resampling.BILINEAR, expand=True, fillcolor=1.0))


def test_a_level_line_is_not_turned():
    assert normalize(bars_and_rings(5)).turn is None
    assert normalize(turned(bars_and_rings(5), 5)).turn is None  # 5 degrees: the band's straightening is enough


@pytest.mark.parametrize("degrees", [-30, -12, 20])
def test_a_line_photographed_askew_is_turned_upright(degrees):
    grey = turned(bars_and_rings(5), degrees)
    line = normalize(grey)
    assert line.turn is not None and abs(math.degrees(line.turn.angle) + degrees) < 2  # anticlockwise: rising, angle < 0
    labels = label_components(line.ink > INK)
    pieces = [np.nonzero(labels == k) for k in range(1, labels.max() + 1)]
    pieces = sorted((p for p in pieces if np.ptp(p[0]) > 10), key=lambda p: p[1].min())
    assert len(pieces) == 5
    assert abs(np.median([np.ptp(ys) + 1 for ys, _ in pieces]) - DIGIT_HEIGHT) <= 2
    assert all(np.ptp(xs) + 1 <= 6 for _, xs in pieces[::2])  # upright again: a bar turned 12 degrees spans 7+ px
    for ys, xs in pieces:  # each work pixel of ink comes from ink in the image, and the maps undo each other
        y, x = line.to_image(ys + 0.5, xs + 0.5)
        dark = line.ink[ys, xs] > 0.7  # the strokes' middles (their edges are grey at either scale)
        assert (grey[y.astype(int), x.astype(int)][dark] < 0.5).mean() > 0.9
        back_y, back_x = line.from_image(y, x)
        assert np.allclose(back_y, ys + 0.5) and np.allclose(back_x, xs + 0.5)
    y0, x0, y1, x1 = line.box_in_image(0, 0, *line.ink.shape)  # the whole work line's box holds all the image's ink
    ink_y, ink_x = np.nonzero(grey < 0.5)
    assert y0 <= ink_y.min() + 1 and x0 <= ink_x.min() + 1 and y1 >= ink_y.max() - 1 and x1 >= ink_x.max() - 1


@pytest.mark.parametrize("degrees", [-15, 20])
def test_a_box_photographed_askew_is_taken_out_after_the_turn(degrees):
    grey = bars_and_rings(5)  # in a box that the 0s touch, 3 px thick (ink_map finds lines turned up to 7 degrees)
    h, w = grey.shape
    grey[17:20, 10: w - 10] = grey[h - 20: h - 17, 10: w - 10] = 0.05
    grey[17: h - 17, 10:13] = grey[17: h - 17, w - 13: w - 10] = 0.05
    line = normalize(turned(grey, degrees))
    assert line.turn is not None
    labels = label_components(line.ink > INK)
    pieces = [np.nonzero(labels == k) for k in range(1, labels.max() + 1)]
    pieces = [p for p in pieces if np.ptp(p[0]) > 10]
    assert len(pieces) == 5  # the five digits, no side of the box
    assert all(np.ptp(xs) + 1 < 30 for _, xs in pieces)  # no rule running along the line


def test_faint_specks_that_shrinking_averages_away_are_still_measured():
    # a box around a tinted, grainy field (a stranger's form photographed): the box taken out, only single
    # specks above INK were left; shrunk to COARSE_HEIGHT they averaged away and `digit_height` raised ValueError
    from lenet5.read.line import digit_height

    ink = np.zeros((300, 400), np.float32)
    ink[20:280:6, 30:370:6] = 0.5  # a speck every 6 px: none survives shrinking the 260 rows to 64
    height = digit_height(ink, (20, 275, 30, 365))
    assert height == 1.0


def test_a_digit_broken_into_stacked_pieces_is_measured_whole_and_a_line_by_its_digits():
    from lenet5.read.line import ONE_DIGIT, digit_height

    ink = np.zeros((80, 200), np.float32)
    ink[10:32, 40:46] = 1.0  # a 1 broken in the middle: two pieces 22 and 24 px high, one above the other
    ink[36:60, 38:44] = 1.0
    assert digit_height(ink, (10, 60, 38, 46)) == 50.0  # its box (the median piece: 23 px, read twice as large)
    for k in range(4):  # a line of five 30 px digits, one of them broken: the median piece
        ink[10:40, 60 + 25 * k: 66 + 25 * k] = 1.0
    assert (200 - 38) > ONE_DIGIT * 50 and digit_height(ink, (10, 60, 38, 200)) == pytest.approx(30, abs=1.5)


def test_a_narrow_pair_one_digit_lower_than_the_other_is_measured_by_its_digits_not_both():
    from lenet5.read.line import ONE_DIGIT, digit_height

    ink = np.zeros((100, 100), np.float32)
    ink[10:40, 30:36] = 1.0  # an "11": two 30 px bars side by side, the second 12 px lower
    ink[22:52, 44:50] = 1.0
    box = (10, 52, 30, 50)
    assert 20 <= ONE_DIGIT * 42 and digit_height(ink, box) == pytest.approx(30, abs=1)  # not 42
    ink[40:46, 20:26] = 1.0  # and a speck: shorter than half the tallest piece, it counts for nothing
    assert digit_height(ink, (10, 52, 20, 50)) == pytest.approx(30, abs=1)


def test_a_line_of_digits_each_broken_across_is_measured_by_its_digits_not_their_pieces():
    from lenet5.read.line import digit_height

    ink = np.zeros((60, 260), np.float32)
    for k in range(5):  # five 30 px digits, each cut across by a 3 px gap at another height
        cut = 14 + 3 * k
        ink[10:10 + cut, 20 + 45 * k: 32 + 45 * k] = 1.0
        ink[13 + cut:40, 24 + 45 * k: 30 + 45 * k] = 1.0
    ink[2:5, 100:103] = 1.0  # a speck above the line: too small to be part of a digit
    assert digit_height(ink, (2, 40, 20, 232)) == pytest.approx(30, abs=1.5)  # the pieces' median: about 14


def test_a_mark_written_above_a_digit_is_no_part_of_it():
    from lenet5.read.line import digit_height

    ink = np.zeros((110, 200), np.float32)
    for k in range(5):  # five 30 px digits and a 10 px tick 25 px above the second (a review's case: 65 px)
        ink[60:90, 20 + 30 * k: 40 + 30 * k] = 1.0
    ink[25:35, 50:60] = 1.0
    assert digit_height(ink, (25, 90, 20, 160)) == pytest.approx(30, abs=1.5)
    one = np.zeros((60, 40), np.float32)  # one digit and a 6 px tick 4 px above it: the digit, not both
    one[20:50, 10:30] = 1.0
    one[10:16, 14:18] = 1.0
    assert digit_height(one, (10, 50, 10, 30)) == pytest.approx(30, abs=1.5)


def test_lines_of_digits_one_above_another_are_counted_and_one_line_is_one():
    """A picture of two numbers one above another was read as one line: a digit or two of either, at up to 0.8."""
    from lenet5.read.line import digit_pieces, lines_of_digits

    def lines(ink: np.ndarray) -> int:
        ys, xs = np.nonzero(ink > INK)
        return lines_of_digits(digit_pieces(ink, (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)))

    two = np.zeros((120, 200), np.float32)
    for k in range(4):  # four 30 px digits, and three more 20 px under them
        two[10:40, 20 + 30 * k: 34 + 30 * k] = 1.0
    for k in range(3):
        two[75:105, 20 + 30 * k: 34 + 30 * k] = 1.0
    assert lines(two) == 2
    broken = two[:60].copy()  # one line, its digits cut across by 4 px gaps, and a tick 20 px above it
    broken[24:28] = 0
    broken = np.pad(broken, ((30, 0), (0, 0)))
    broken[10:16, 50:56] = 1.0
    assert lines(broken) == 1
    wobbly = np.zeros((80, 300), np.float32)
    for k in range(8):  # digits up and down by turns: their rows overlap
        wobbly[10 + 14 * (k % 2): 40 + 14 * (k % 2), 20 + 30 * k: 34 + 30 * k] = 1.0
    assert lines(wobbly) == 1
    assert lines(1 - turned(1 - bars_and_rings(5), 30)) == 1  # a line turned 30 degrees covers its rows


@pytest.mark.mnist
def test_read_refuses_two_lines_of_digits_with_a_clear_error(mnist_dir, tmp_path, capsys):
    from lenet5.cli import main
    from lenet5.data.datasets import load_digits

    digits = load_digits("mnist", mnist_dir).test_images.numpy()
    page = np.zeros((100, 160), np.uint8)
    for k in range(4):
        page[5:33, 10 + 30 * k: 38 + 30 * k] = np.maximum(page[5:33, 10 + 30 * k: 38 + 30 * k], digits[k])
    for k in range(3):
        page[60:88, 10 + 30 * k: 38 + 30 * k] = np.maximum(page[60:88, 10 + 30 * k: 38 + 30 * k], digits[4 + k])
    Image.fromarray(255 - page).resize((480, 300), Image.Resampling.BILINEAR).save(tmp_path / "two.png")
    Image.fromarray(255 - page[:45]).resize((480, 135), Image.Resampling.BILINEAR).save(tmp_path / "one.png")
    assert main(["read", str(tmp_path / "two.png"), str(tmp_path / "one.png")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{tmp_path / 'two.png'}: error: {tmp_path / 'two.png'}: 2 lines of digits, one above another: a picture is read as one line (crop each line)", out
    assert out[1].startswith(f"{tmp_path / 'one.png'}: ") and "error" not in out[1], out  # its first line alone: read
