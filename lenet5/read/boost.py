"""Boosting at the level of strings: a reader trained where another reader fails.

The paper's boosted LeNet-4 (Sec. III-C-7; lenet5/compare/boosting.py) trains its second net on
digits filtered by the first, half of them ones the first reads wrong. A strip costs far more to
draw and to read than a digit, so instead of filtering a stream of strips until half are misread,
the training strips are read once by the boosting reader (an SDNN or a committee, as `read_number`
reads: every network at every pixel offset) and those it misreads are weighed up in the string's
loss until they carry a chosen share of it (0.5: the paper's half). The loss's mean over all the
strips stays that of equal weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lenet5.read.bands import Band

PAPER_SHARE = 0.5  # the share of the loss the misread strips carry by default: the paper's half


def misread(read: Callable[[list[Band]], list[str]], bands: list[Band]) -> np.ndarray:
    """(len(bands),) bool: the bands whose string `read` (train_sdnn.read_bands, by the boosting reader)
    does not give exactly; they are given to it in order of width, so that its batches pad little."""
    by_width = sorted(range(len(bands)), key=lambda i: (bands[i].ink.shape[1], i))
    strings = read([bands[i] for i in by_width])
    wrong = np.zeros(len(bands), dtype=bool)
    wrong[by_width] = [s != bands[i].number for s, i in zip(strings, by_width)]
    return wrong


def boost_weights(wrong: np.ndarray, share: float) -> np.ndarray:
    """(N,) float32 weights, mean 1, under which the `wrong` strips carry `share` of the total (0 <= share < 1);
    all 1 when every strip or none is wrong (nothing to weigh against)."""
    if not 0 <= share < 1:
        raise ValueError(f"boost must be a share from 0 up to (not including) 1, not {share}")
    n, bad = len(wrong), int(np.count_nonzero(wrong))
    if bad in (0, n):
        return np.ones(n, dtype=np.float32)
    return np.where(wrong, share * n / bad, (1 - share) * n / (n - bad)).astype(np.float32)
