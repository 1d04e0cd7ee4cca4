"""The page in its surround (lenet5/page.py): a slip on a scanner's lid, a grey frame; and what is no page."""

import numpy as np
import pytest

from lenet5.page import on_the_page
from lenet5.preprocess import INK_THRESHOLD, ink_map


def slip(surround: float, size=(300, 340), page=(40, 250, 60, 300), paper=0.92, noise=0.01, seed=0) -> np.ndarray:
    """Grey: a page (top, bottom, left, right) of `paper` with a dark 1 and a 7's bar on it, on a `surround`."""
    rng = np.random.default_rng(seed)
    grey = np.full(size, surround, np.float32)
    top, bottom, left, right = page
    grey[top:bottom, left:right] = paper
    grey[90:200, 170:182] = 0.1  # the 1
    grey[90:100, 130:182] = 0.1
    return np.clip(grey + rng.normal(0, noise, size).astype(np.float32), 0, 1)


@pytest.mark.parametrize("surround", [0.08, 0.6])  # a scanner's black lid; a grey frame (a scanner's shadow)
def test_the_surround_becomes_the_pages_paper_and_the_ink_is_read_dark_on_light(surround):
    grey = slip(surround)
    out = on_the_page(grey)
    assert out is not grey
    assert np.abs(out[:30] - 0.92).max() < 0.05 and np.abs(out[:, :50] - 0.92).max() < 0.05
    assert np.array_equal(out[60:230, 80:280], grey[60:230, 80:280])  # the page itself untouched
    ink = ink_map(grey)
    assert ink[150, 176] > 0.9 and ink[95, 140] > 0.9  # the strokes are the ink
    assert ink[:30].max() == 0 and ink[:, :55].max() == 0  # the surround is no ink


def test_a_page_touching_two_sides_of_the_picture_is_found():
    grey = slip(0.1, page=(0, 250, 60, 340))
    out = on_the_page(grey)
    assert np.abs(out[260:] - 0.92).max() < 0.05 and ink_map(grey)[150, 176] > 0.9


def test_paper_filling_the_picture_is_no_page_in_a_surround():
    grey = slip(0.92)
    assert on_the_page(grey) is grey


def test_light_strokes_on_a_dark_screen_are_no_page():
    grey = np.full((260, 260), 0.1, np.float32)
    grey[40:220, 100:150] = 0.95  # a marker's 1, 50 px wide: light, straight-edged, but holds no ink
    assert on_the_page(grey) is grey
    ink = ink_map(grey)
    assert ink[130, 125] == 1 and ink[130, 50] == 0


def test_a_shadow_holding_strokes_is_no_surround():
    grey = slip(0.92)
    grey[:, :175] *= 0.4  # a deep shadow over the left half, over the 7's bar and half the 1
    assert on_the_page(grey) is grey


def test_a_small_note_far_off_and_a_narrow_slip_its_digit_cuts_across_are_pages():
    far = np.full((600, 800), 0.25, np.float32)
    far[200:300, 300:420] = 0.92  # 2.5% of the picture
    far[230:270, 350:356] = 0.1  # its 1
    assert on_the_page(far) is not far and ink_map(far)[250, 353] > 0.9 and ink_map(far)[100, 100] == 0
    narrow = np.full((300, 300), 0.15, np.float32)
    narrow[20:280, 120:180] = 0.92  # a receipt
    narrow[100:200, 124:176] = np.where(np.arange(52) % 20 < 8, 0.1, 0.92)  # strokes right across it
    assert on_the_page(narrow) is not narrow


def test_a_bold_digit_on_a_dark_screen_is_no_page_though_square():
    grey = np.full((260, 260), 0.1, np.float32)
    grey[50:210, 60:200] = 0.95  # a bold light block...
    grey[100:160, 120:200] = 0.1  # ... with the screen reaching into it: a C, its gap open to the right
    assert on_the_page(grey) is grey


def test_a_note_darker_than_a_white_desk_is_a_page_too():
    grey = slip(0.97, paper=0.76)  # a pink note on a white table
    out = on_the_page(grey)
    assert np.abs(out[:30] - 0.76).max() < 0.05 and np.abs(out[:, :50] - 0.76).max() < 0.05
    assert np.array_equal(out[60:230, 80:280], grey[60:230, 80:280])
    ink = ink_map(grey)
    assert ink[150, 176] > 0.9 and ink[95, 140] > 0.9
    assert ink[:30].max() == 0 and ink[60:230, 80:120].max() == 0  # neither the desk nor the note's paper is ink


def test_a_note_with_a_drop_shadow_on_an_unevenly_lit_white_desk_is_a_page():
    from scipy import ndimage

    grey = slip(0.97, paper=0.76)
    note = np.zeros(grey.shape, bool)
    note[40:250, 60:300] = True
    drop = ndimage.gaussian_filter(np.roll(note, (6, 6), (0, 1)).astype(np.float32), 3) * ~note
    grey = grey * (1 - 0.35 * drop)  # its soft shadow down and to the right, 0.35 deep
    grey = (grey * (1 - 0.1 * np.arange(340) / 340)).astype(np.float32)  # the light falling by a tenth across
    assert on_the_page(grey) is not grey
    ink = ink_map(grey)
    assert ink[150, 176] > 0.9 and ink[95, 140] > 0.9
    # the drop shadow is no ink: at most a haze along the note's edge too faint to count for the digit's box
    assert ink[250:265, 70:310].max() < INK_THRESHOLD and ink[50:260, 300:315].max() < INK_THRESHOLD


def test_a_digit_on_white_paper_is_not_folded_into_a_page():
    from scipy import ndimage

    from lenet5.page import folded

    grey = np.full((200, 200), 0.95, np.float32)
    grey[40:160, 60:140] = 0.1  # a bold block of ink, 24% of the picture: flat, but as dark as ink
    assert folded(grey) is None and on_the_page(grey) is grey
    grey[40:160, 60:140] = 0.7  # a light grey block: flat and light enough, but no darker ink lies on it
    assert folded(grey) is not None and on_the_page(grey) is grey
    thin = np.full((200, 200), 0.95, np.float32)
    thin[40:160, 95:105] = 0.1
    thin = ndimage.gaussian_filter(thin, 3)  # ... and a blurred stroke's levels spread from ink to paper
    assert folded(thin) is None
