"""The best path through the segmentation graph."""


import numpy as np
import pytest
import torch

from lenet5.read.classes import CLASSES, NONE
from lenet5.read.search import SKIP_PRIOR, best_path


def log_probs(rows: list[dict[int, float]]) -> torch.Tensor:
    """Log-probabilities (len(rows), 11): each row's given classes, the rest sharing what is left."""
    out = torch.full((len(rows), CLASSES), -20.0)
    for k, row in enumerate(rows):
        for c, p in row.items():
            out[k, c] = np.log(p)
    return out


def test_the_search_prefers_one_confident_digit_over_two_doubtful_pieces():
    spans = [(0, 1), (1, 2), (0, 2)]
    path = best_path(2, spans, log_probs([{3: 0.5, NONE: 0.5}, {1: 0.4, NONE: 0.6}, {8: 0.9}]))
    assert [(s.i, s.j, s.digit) for s in path] == [(0, 2, 8)]
    path = best_path(2, spans, log_probs([{3: 0.95}, {1: 0.95}, {8: 0.1, NONE: 0.9}]))
    assert [s.digit for s in path] == [3, 1]
    assert sum(s.score for s in path) == pytest.approx(2 * np.log(0.95), abs=1e-5)


def test_the_search_drops_a_speck_only_when_it_is_surely_none():
    spans = [(0, 1), (1, 2), (0, 2)]
    speck = best_path(2, spans, log_probs([{7: 0.99}, {NONE: 0.999}, {7: 0.01, NONE: 0.99}]))
    assert [s.digit for s in speck] == [7, None]
    assert speck[1].score == pytest.approx(np.log(0.999) + SKIP_PRIOR, abs=1e-5)
    kept = best_path(2, spans, log_probs([{7: 0.99}, {1: 0.6, NONE: 0.4}, {7: 0.01, NONE: 0.99}]))
    assert [s.digit for s in kept] == [7, 1]
