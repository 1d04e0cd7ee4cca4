"""The shared image helpers: the grey-level opening against a brute-force one, Otsu's threshold."""

import numpy as np
import pytest

from lenet5.imaging import opening, otsu


@pytest.mark.parametrize("k", [1, 3, 7, 31])
def test_opening_equals_brute_force_minimum_then_maximum(k):
    a = np.random.default_rng(k).random((23, 41)).astype(np.float32)

    def windows(x):
        return np.lib.stride_tricks.sliding_window_view(np.pad(x, k // 2, mode="edge"), (k, k))

    assert np.array_equal(opening(a, k), windows(windows(a).min(axis=(-2, -1))).max(axis=(-2, -1)))


def test_opening_removes_what_is_narrower_than_the_window_and_keeps_the_rest():
    a = np.zeros((60, 60), np.float32)
    a[10:50, 10:14] = 1  # a 4 px stroke
    a[:, 40:] = 0.5  # a shadow 20 px wide
    out = opening(a, 9)
    assert out[30, 12] == 0 and np.all(out[:, 40:] == 0.5) and np.all(out[:, 15:40] == 0)


def test_otsu_splits_two_levels():
    values = np.concatenate([np.full(900, 0.1), np.full(100, 0.8)])
    assert 0.1 <= otsu(values) < 0.8
