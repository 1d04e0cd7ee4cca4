"""The line at digit scale: connected components, and the scale and offset back to the image."""

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lenet5.read.line import DIGIT_HEIGHT, label_components, normalize
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
    line = normalize(two_digits_image(gap=40, height=120))
    pieces = atoms(line)
    heights = [a.ys.max() - a.ys.min() + 1 for a in pieces if a.ys.max() - a.ys.min() > 10]
    assert abs(np.median(heights) - DIGIT_HEIGHT) <= 2
    bar = min(pieces, key=lambda a: a.x0)  # the bar starts at column 30 of the image, row 20
    y, x = line.to_image(bar.ys.min(), bar.x0)
    assert abs(x - 30) <= 2 * line.scale and abs(y - 20) <= 2 * line.scale
    assert np.isclose(line.column_from_image(x), bar.x0)  # the two maps undo each other
    assert np.allclose(line.column_from_image(line.to_image(0, np.arange(5.0))[1]), np.arange(5.0))


def test_normalize_brings_digits_to_the_height_asked_for():
    grey = two_digits_image(gap=40, height=120)
    for height in (16, 24):
        line = normalize(grey, height)
        heights = [a.ys.max() - a.ys.min() + 1 for a in atoms(line) if a.ys.max() - a.ys.min() > 6]
        assert abs(np.median(heights) - height) <= 2
        assert np.isclose(line.scale, normalize(grey).scale * DIGIT_HEIGHT / height)  # the same image, another scale
