"""A shadow across the page: told from ink along the border, taken for paper, and the polarity kept."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from lenet5.preprocess import ink_map
from lenet5.shadow import paper_is_light, shadowed, two_levels
from lenet5.strokes import unblock


def slanted_shadow(depth: float, share: float, size: int = 200) -> np.ndarray:
    """Grey: a dark ring (a digit 0) on light paper, the page left of a slanted edge in a shadow
    letting `depth` of the light through; the edge crosses the top at `share` of the width."""
    ys, xs = np.mgrid[:size, :size]
    grey = np.full((size, size), 0.94, np.float32)
    radius = np.hypot(ys - size / 2, xs - size / 2)
    grey[(radius > 30) & (radius < 38)] = 0.1
    return np.where(xs + 0.3 * ys < share * size, grey * depth, grey).astype(np.float32)


@pytest.mark.parametrize("depth", [0.5, 0.4, 0.3])  # 0.3 and 0.4: the strokes beyond neither level by half the step
@pytest.mark.parametrize("share", [0.45, 0.85])  # the shadow over about a third and over most of the border
def test_a_slanted_shadow_across_the_border_leaves_only_the_strokes(share, depth):
    grey = slanted_shadow(depth, share)
    assert paper_is_light(grey)  # though most of the border may be the shadow's, darker than half
    ink = ink_map(grey)
    ring = np.hypot(*(np.mgrid[:200, :200] - 100))
    assert ink[ring > 42].max() == 0  # no corner of the shadow at the border is taken for ink
    assert ink[(ring > 32) & (ring < 36)].min() > 0.5  # the strokes, in the shadow and out of it


@pytest.mark.parametrize("depth", [0.4, 0.3])
def test_a_deep_shadow_on_a_noisy_photo_leaves_only_the_strokes(depth):
    rng = np.random.default_rng(0)
    grey = np.clip(slanted_shadow(depth, 0.45) + rng.normal(0, 0.03, (200, 200)), 0, 1).astype(np.float32)
    ink = ink_map(grey)  # (the grain in the shadow, scaled up by its light, was read as ink all over it)
    ring = np.hypot(*(np.mgrid[:200, :200] - 100))
    outside = ink[ring > 42]  # faint specks of its grain at most
    assert (outside > 0).mean() < 0.1 and (outside > 0.3).mean() < 0.005 and (ink[(ring > 32) & (ring < 36)] > 0.5).mean() > 0.95


def test_a_deep_shadow_with_a_soft_edge_is_one_level_whose_edge_lies_towards_the_light():
    ys, xs = np.mgrid[:400, :400]
    ring = np.hypot(ys - 200, xs - 230)
    grey = np.where(np.abs(ring - 50) < 6, 0.1, 0.9)
    shade = ndimage.gaussian_filter((xs + 0.3 * ys < 170).astype(np.float32), 18)  # its edge blurred over ~70 px
    grey = (grey * (1 - 0.7 * shade)).astype(np.float32)
    ink = ink_map(grey)
    assert ink[(xs + 0.3 * ys < 120) & (ring > 60)].max() == 0 and (ink[np.abs(ring - 50) < 4] > 0.5).mean() > 0.95


def test_a_small_digit_in_a_phones_photo_under_a_deep_shadow_leaves_only_the_strokes():
    ys, xs = np.mgrid[:900, :1200]
    ring = np.hypot(ys - 450, xs - 700)
    grey = np.where(np.abs(ring - 30) < 3, 0.1, 0.92)  # its strokes under 0.1% of the photo
    grey = np.where(xs + 0.5 * ys < 600, 0.33 * grey, grey)  # a hand's shadow over the left, 0.33 of the light
    grey = np.clip(grey + np.random.default_rng(0).normal(0, 0.03, grey.shape), 0, 1).astype(np.float32)
    ink = ink_map(grey)
    assert (ink[ring > 40] > 0).mean() < 0.01 and (ink[np.abs(ring - 30) < 2] > 0.5).mean() > 0.95


@pytest.mark.parametrize("depth", [0.5, 0.3])
def test_a_shadow_over_a_corner_away_from_the_strokes_is_paper(depth):
    grey = slanted_shadow(1.0, 0)  # the ring on evenly lit paper, a wedge of shadow over the top left corner
    ys, xs = np.mgrid[:200, :200]
    grey = np.where(xs + ys < 150, grey * depth, grey).astype(np.float32)
    assert paper_is_light(grey) and shadowed(1 - grey)
    ink = ink_map(grey)
    ring = np.hypot(ys - 100, xs - 100)
    assert ink[ring > 42].max() == 0 and ink[(ring > 32) & (ring < 36)].min() > 0.5


def test_a_broad_dark_region_along_the_border_without_darker_strokes_is_ink():
    ys, xs = np.mgrid[:200, :200]
    blob = xs + ys < 150  # as broad as a shadow, but the strokes are no darker than it: a bold marker's ink
    grey = np.where(blob | ((np.hypot(ys - 120, xs - 120) > 30) & (np.hypot(ys - 120, xs - 120) < 38)), 0.1, 0.94)
    grey = grey.astype(np.float32)
    assert not shadowed(1 - grey)
    assert ink_map(grey)[blob].min() > 0.5


def test_a_shadow_is_told_from_a_tight_crops_ink_and_faint_edges_on_the_border():
    assert shadowed(1 - slanted_shadow(0.5, 0.45))
    crop = slanted_shadow(1.0, 0)[62:138, 62:138]  # the ring cropped to its ink: strokes on every side
    assert not shadowed(1 - crop)
    faint = crop.copy()
    faint[[0, -1], :], faint[:, [0, -1]] = 0.7, 0.7  # the crop's edge through faint ink all round
    assert not shadowed(1 - faint)
    assert paper_is_light(crop) and not paper_is_light(1 - crop)


def test_without_two_levels_on_the_border_polarity_is_the_borders_majority():
    assert two_levels(np.full(100, 0.9)) is None
    assert paper_is_light(np.full((20, 20), 0.6, np.float32)) and not paper_is_light(np.full((20, 20), 0.4, np.float32))


def test_a_bold_tight_crop_under_light_falling_off_keeps_its_polarity():
    ys, xs = np.mgrid[:200, :200]
    ring = (np.hypot(ys - 100, xs - 100) > 70) & (np.hypot(ys - 100, xs - 100) < 110)  # a bold 0 cropped to its ink
    grey = np.where(ring, 0.2, 0.8 + 0.15 * xs / 200).astype(np.float32)  # the border two levels: ink and paper, no shadow
    assert paper_is_light(grey) and not shadowed(1 - grey)
    ink = ink_map(grey)
    assert (ink[ring] > 0).mean() > 0.95 and ink[~ring].max() == 0


@pytest.mark.parametrize("ink, paper, noise", [(0.3, 0.8, 0.01), (0.6, 0.25, 0.05)])  # grey ink; chalk on a noisy board
def test_a_bold_tight_crop_in_grey_ink_or_chalk_is_no_shadow(ink, paper, noise):
    ys, xs = np.mgrid[:240, :160]
    seven = (ys < 10) | (np.abs(xs - (160 - 0.45 * ys)) < 12)  # a bold 7 cropped to its ink: the bar along the top border
    grey = np.clip(np.where(seven, ink, paper) + np.random.default_rng(0).normal(0, noise, seven.shape), 0, 1).astype(np.float32)
    assert paper_is_light(grey) == (paper > ink) and not shadowed(1 - grey if paper > ink else grey)
    out = ink_map(grey)
    assert (out[seven] > 0).mean() > 0.95 and (out[~ndimage.binary_dilation(seven, iterations=3)] > 0).mean() < 0.05


def test_a_band_of_shadow_across_the_page_is_paper():
    grey = slanted_shadow(1.0, 0)  # the ring on evenly lit paper
    ys, xs = np.mgrid[:200, :200]
    band = np.abs(xs + 0.3 * ys - 130) < 25  # a band a quarter of the page wide, through the ring
    grey = np.where(band, grey * 0.5, grey).astype(np.float32)
    assert shadowed(1 - grey)
    ink = ink_map(grey)
    ring = np.hypot(ys - 100, xs - 100)
    assert ink[ring > 42].max() == 0 and ink[(ring > 32) & (ring < 36)].min() > 0.5


def test_a_band_of_shadow_no_wider_than_a_doubled_window_is_not_opened_away_with_bold_strokes():
    ys, xs = np.mgrid[:200, :200]
    ring = np.hypot(ys - 100, xs - 100)
    grey = np.where((ring > 30) & (ring < 44), 0.1, 0.94)  # strokes 14 px wide: hollow in the first window (13 px)
    band = np.abs(xs + 0.3 * ys - 130) < 25  # 48 px across: the window doubled twice (55 px) would open it away
    grey = np.where(band, grey * 0.5, grey).astype(np.float32)
    ink = ink_map(grey)
    assert ink[ring > 48].max() == 0 and ink[(ring > 32) & (ring < 42)].min() > 0.5


def test_a_coarse_scan_of_a_digit_touching_its_border_is_no_shadow():
    # UCI's digit 12: 8x8 levels of ink, pixel-repeated to 112 px (benchmarks/uci_digits.py), grey ink on the border's blocks
    levels = np.array([[0, 0, 5, 12, 1, 0, 0, 0], [0, 0, 15, 14, 7, 0, 0, 0], [0, 0, 13, 1, 12, 0, 0, 0], [0, 2, 10, 0, 14, 0, 0, 0],
                       [0, 0, 2, 0, 16, 1, 0, 0], [0, 0, 0, 6, 15, 0, 0, 0], [0, 0, 9, 16, 15, 9, 8, 2], [0, 0, 3, 11, 8, 13, 12, 4]])
    grey = np.repeat(np.repeat(1 - levels / 16 * 0.9, 14, axis=0), 14, axis=1)
    smooth = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize((8, 8), Image.Resampling.BOX)
                        .resize((112, 112), Image.Resampling.BILINEAR), np.float32) / 255
    assert not shadowed(1 - smooth) and paper_is_light(smooth)


def test_a_coarse_scan_pixel_repeated_in_many_greys_along_its_border_is_no_shadow():
    # UCI's digit 467, a 7, as benchmarks/uci_digits.py writes it: its grey blocks along the top and bottom border are
    # as broad as a deep shadow and darker strokes lie in them, but they are many greys, and a shadow is one level
    levels = np.array([[0, 0, 1, 11, 12, 13, 14, 5], [0, 0, 7, 15, 11, 10, 16, 6], [0, 0, 10, 7, 0, 2, 16, 2], [0, 1, 16, 1, 0, 12, 8, 0],
                       [0, 2, 11, 0, 4, 14, 1, 0], [0, 0, 0, 1, 14, 4, 0, 0], [0, 0, 0, 8, 14, 0, 0, 0], [0, 0, 0, 15, 7, 0, 0, 0]])
    grey = unblock(np.repeat(np.repeat(np.floor(255 - levels / 16 * 230) / 255, 14, axis=0), 14, axis=1).astype(np.float32))
    middle = np.abs(np.arange(112) % 14 - 6.5) < 2
    centres = np.repeat(np.repeat(levels >= 10, 14, axis=0), 14, axis=1) & np.outer(middle, middle)  # the blocks' middles
    ink = ink_map(grey)
    assert ink[centres].min() > 0.3  # (taken for a shadow, the greys along the border were erased with it)


def test_a_bold_marker_digit_cropped_tight_is_no_shadow_though_darker_where_its_strokes_cross():
    grey = np.full((120, 80), 0.9, np.float32)
    four = np.zeros(grey.shape, bool)
    four[:, 45:70] = four[60:85, :] = four[:72, :24] = True  # strokes 24-25 px wide, the left arm cut by the crop
    grey[four] = 0.22
    grey[60:85, 45:70] = grey[60:72, :24] = 0.09  # a felt marker is darker where its strokes cross
    assert not shadowed(1 - grey)
    assert (ink_map(grey)[four] > 0.5).mean() > 0.95


def test_chalk_on_a_board_darkening_across_it_keeps_its_polarity():
    ys, xs = np.mgrid[:200, :300]
    grey = (0.08 + 0.24 * xs / 300).astype(np.float32)  # the board, lit from one side
    grey[:, :6] = 0.85  # a chalk stroke along the left edge
    ring = np.hypot(ys - 100, xs - 150)
    grey[(ring > 30) & (ring < 38)] = 0.85
    assert not paper_is_light(grey)
    assert ink_map(grey)[(ring > 32) & (ring < 36)].min() > 0.5


def test_a_shadow_over_most_of_the_border_keeps_bold_strokes_whole():
    ys, xs = np.mgrid[:200, :200]
    ring = np.hypot(ys - 100, xs - 100)
    grey = np.where((ring > 30) & (ring < 44), 0.1, 0.94)
    grey = np.where(xs + ys < 300, grey * 0.5, grey).astype(np.float32)  # the shadow over all but one corner
    ink = ink_map(grey)
    assert (ink[(ring > 31) & (ring < 43)] > 0.5).mean() > 0.98


@pytest.mark.parametrize("light", [0.45, 0.3])
@pytest.mark.parametrize("rule", [False, True])  # a printed rule along the top edge: a third of the border as dark as the ink
def test_a_dim_photos_paper_darker_than_mid_grey_is_light_where_its_strokes_lie_below_it(light, rule):
    # a page photographed in a dim room: the border's majority, under 0.5, said the paper was dark and the ink was
    # what lay around the strokes (people.py's dim light: 20.0% of 300 held-out digits; plain amounts so lit: none of 100)
    ys, xs = np.mgrid[:200, :200]
    radius = np.hypot(ys - 100, xs - 100)
    ring = (radius > 30) & (radius < 38)
    grey = np.where(ring, 0.2, 1.0) * light + np.random.default_rng(0).normal(0, 0.01, ring.shape)
    if rule:
        grey[:4] = 0.2 * light
    grey = grey.clip(0, 1).astype(np.float32)
    assert paper_is_light(grey)
    ink = ink_map(grey)
    assert (ink[ring] > 0.5).mean() > 0.95 and (ink[60:140, 60:140][~ring[60:140, 60:140]] > 0).mean() < 0.05


@pytest.mark.parametrize("rule", [False, True])  # the rule darkens the border further; alone, with even light, it was no trouble
def test_a_dim_photos_paper_lit_unevenly_is_light_where_its_strokes_lie_below_it_there(rule):
    # the light falling off across a dim page, its lit side lay DIM above the border's median, and the page was taken for
    # dark paper (taken for light: held-out digits in people.py's dim, uneven light 69 of 100; composed amounts so
    # photographed 49 of 100; photographed squares cropped along a rule 8 of 100); the paper's level is now read part by part
    ys, xs = np.mgrid[:200, :300]
    radius = np.hypot(ys - 100, xs - 150)
    ring = (radius > 30) & (radius < 38)
    light = 0.4 * (1.3 - 0.6 * xs / 300)  # 0.52 on the left, 0.28 on the right
    grey = np.where(ring, 0.2, 1.0) * light + np.random.default_rng(0).normal(0, 0.01, ring.shape)
    if rule:
        grey[:4] = 0.2 * light[:4]
    grey = grey.clip(0, 1).astype(np.float32)
    assert paper_is_light(grey)
    ink = ink_map(grey)
    inside = (radius < 25) | ((radius > 43) & (radius < 60))
    assert (ink[ring] > 0.5).mean() > 0.95 and (ink[inside] > 0).mean() < 0.05


def test_a_dim_page_with_a_shallow_shadow_over_part_of_it_is_light():
    # from a review: a shadow whose step (under two_levels' 0.2) left it to `dim_paper`, over more than 80% of the
    # paper-level blocks beside it, pulled the level, interpolated across its edge, under the lit paper by more than DIM,
    # and the page was taken for dark paper (a dim page's curved shadow: 50 -> 41 of 50 taken for light); the border's
    # level is the least the paper's level is taken to be
    ys, xs = np.mgrid[:240, :240]
    radius = np.hypot(ys - 120, xs - 100)
    ring = (radius > 40) & (radius < 48)
    light = np.where(xs < 130, 0.36, 0.17)  # a step of 0.19: the border holds no two levels for a shadow
    grey = (np.where(ring, 0.33, 1.0) * light + np.random.default_rng(0).normal(0, 0.01, ring.shape)).clip(0, 1).astype(np.float32)
    assert paper_is_light(grey)
    assert (ink_map(grey)[ring] > 0.5).mean() > 0.9  # (the shadow itself, under 0.2 below the lit paper, is not all taken out)



def test_a_dim_photo_of_lined_paper_cropped_along_a_rule_and_lit_unevenly_is_light():
    # a stranger's compound probe: lined paper photographed in a dim room, cropped along a rule. The rule (a third of
    # the border) and the paper are the border's two levels, the ink no darker than the rule; the light falling off
    # left the lit side's grain half the step above the border's paper, read as light strokes: dark paper (11 of 20
    # here; held-out amounts so made read 24 of 30). Above, strokes are now judged against the paper around them
    for seed in range(20):
        rng = np.random.default_rng(seed)
        ys, xs = np.mgrid[:150, :450]
        marks = np.zeros(ys.shape)
        marks[(ys % 36) < 3] = 0.8  # rules, the first along the crop's top edge
        for cx in (80, 200, 320):
            marks[np.abs(np.hypot(ys - 80, xs - cx) - 30) < 4] = 1.0
        light = 0.85 - 0.25 * xs / 450 - 0.1 * ys / 150
        grey = ((1 - ndimage.gaussian_filter(marks, 1.0)) * rng.uniform(0.45, 0.65) * 0.75 + 0.1) * light
        grey = np.clip(grey + rng.normal(0, 0.03, grey.shape), 0, 1).astype(np.float32)
        assert paper_is_light(grey), seed

def light_seven(size: int, width: int, paper: float, ink: float) -> np.ndarray:
    """A light 7 `width` px wide on a darker board, `size` px square (grey [0, 1])."""
    ys, xs = np.mgrid[:size, :size]
    a, b = size // 4, 3 * size // 4
    bar = (np.abs(ys - a) <= width / 2) & (xs >= a) & (xs <= b)
    stem = (np.abs(xs - (b - (ys - a) * 0.6)) <= width / 2 * 1.2) & (ys >= a) & (ys <= b)
    return np.where(bar | stem, ink, paper).astype(np.float32)


@pytest.mark.parametrize("case", ["small, a dark speck", "faint chalk, a dark scratch", "in a dark frame", "a dim board lit unevenly"])
def test_light_strokes_on_a_dark_board_with_dark_marks_keep_its_polarity(case):
    # from a review: where dark marks lay beside light strokes that were bold (a 28 px picture's strokes are no
    # narrower than its window) or faint (less than 2 DIM above the board), the dark marks alone were strokes
    # and the board was taken for dim paper (5 of 10 MNIST digits so marked misread); anything DIM above it says
    # the board is the dark
    if case == "small, a dark speck":
        grey = light_seven(28, 4, 0.4, 0.95)
        grey[22:25, 3:6] = 0.1
    elif case == "faint chalk, a dark scratch":
        grey = light_seven(200, 8, 0.35, 0.52)
        grey[170:173, 20:100] = 0.1
    elif case == "a dim board lit unevenly":  # the board's level read around each place: the chalk lies above it
        grey = light_seven(200, 8, 0.1, 0.35) * (1.3 - 0.6 * np.mgrid[:200, :200][1] / 200)
        grey[170:173, 20:100] = 0.02
    else:
        grey = light_seven(100, 4, 0.35, 0.9)
        for side in (slice(6, 9), slice(91, 94)):
            grey[side, 6:94] = 0.05
            grey[6:94, side] = 0.05
    assert not paper_is_light(grey)
