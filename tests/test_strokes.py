"""Stroke width measured and brought into MNIST's range; pixel-repeated scans found and smoothed."""

import numpy as np
import pytest
from PIL import Image

from lenet5.strokes import MNIST_WIDTH, block_size, disc_filter, normalize_width, stroke_width, unblock


def ring(width: float, size: int = 80) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size]
    r = np.hypot(ys - size / 2, xs - size / 2)
    return np.clip(width / 2 - np.abs(r - size / 3) + 0.5, 0, 1).astype(np.float32)


@pytest.mark.parametrize("width", [2, 4, 8, 12])
def test_stroke_width_of_a_ring_is_its_width(width):
    assert stroke_width(ring(width)) == pytest.approx(width, rel=0.12)


def test_stroke_width_does_not_change_with_blur():
    sharp = ring(6)
    blurred = np.asarray(Image.fromarray(sharp, mode="F").resize((40, 40), Image.Resampling.BILINEAR).resize((80, 80), Image.Resampling.BILINEAR))
    assert stroke_width(blurred) == pytest.approx(stroke_width(sharp), rel=0.1)


def test_disc_filters_grow_and_shrink_a_stroke_by_their_radius():
    assert stroke_width(disc_filter(ring(6), 2)) == pytest.approx(10, rel=0.12)
    assert stroke_width(disc_filter(ring(10), 2, np.minimum)) == pytest.approx(6, rel=0.12)


@pytest.mark.parametrize("width", [1.0, 5.0, 6.0])  # in MNIST units at box 20: a fine pen, markers (wider: the ring closes)
def test_normalize_width_brings_strokes_into_mnist_range(width):
    box = 80  # the work scale: MNIST's units times 4
    out = normalize_width(ring(width * 4, box), box)
    low, high = MNIST_WIDTH
    assert low - 0.3 <= stroke_width(out) / 4 <= high + 0.3


def test_normalize_width_leaves_mnist_widths_alone():
    digit = ring(2.6 * 4)
    assert normalize_width(digit, 80) is digit


def test_block_size_finds_pixel_repetition_and_nothing_else():
    small = (np.random.default_rng(0).random((8, 8)) * 255).astype(np.uint8)
    assert block_size(np.asarray(Image.fromarray(small).resize((112, 112), Image.Resampling.NEAREST), np.float32) / 255) == pytest.approx(14)
    assert block_size(np.asarray(Image.fromarray(small).resize((112, 112), Image.Resampling.NEAREST).resize((100, 100), Image.Resampling.NEAREST), np.float32) / 255) == pytest.approx(12.5, abs=0.6)
    assert block_size(np.asarray(Image.fromarray(small).resize((112, 112), Image.Resampling.BILINEAR), np.float32) / 255) is None
    assert block_size(ring(6)) is None


def test_unblock_keeps_size_and_level_and_removes_the_blocks():
    small = np.random.default_rng(1).random((8, 8)).astype(np.float32)
    blocky = np.asarray(Image.fromarray(small, mode="F").resize((112, 112), Image.Resampling.NEAREST))
    smooth = unblock(blocky)
    assert smooth.shape == blocky.shape and block_size(smooth) is None
    assert abs(smooth.mean() - blocky.mean()) < 0.02
    assert len(np.unique(smooth[50])) > 50  # graded along a row, not 8 steps
    assert unblock(ring(6)) is not None and np.array_equal(unblock(ring(6)), ring(6))
