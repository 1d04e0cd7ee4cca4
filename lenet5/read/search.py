"""The best reading of a segmentation graph (Sec. VI-B, Fig. 19 and 20): a path through the
atoms, left to right, where every step is a candidate segment read as one digit (or, rarely,
one atom dropped as a speck); the path's score is the sum of its steps' log-probabilities, and
dynamic programming (the Viterbi algorithm on this graph) finds the best in one sweep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lenet5.read.classes import NONE

SKIP_PRIOR = math.log(0.05)  # a dropped atom costs log p(none) plus this: specks are rare


@dataclass(frozen=True)
class Step:
    """Atoms [i, j) read as `digit` (None: dropped) with log-probability `score`."""

    i: int
    j: int
    digit: int | None
    score: float


def best_path(n: int, spans: list[tuple[int, int]], log_probs: torch.Tensor, skip_prior: float = SKIP_PRIOR) -> list[Step]:
    """spans: candidate segments [i, j) over n atoms; log_probs: (len(spans), 11), the recognizer's
    log-probabilities of each. Every atom is covered by exactly one step of the returned path,
    the one with the largest sum of step scores (log-probabilities). (A bonus per digit read, to
    favour more segments, was tried on 300 held-out strips: +0.2 gave 85.7% exact against 85.0%
    without, within noise; left out.)"""
    digit_scores, digits = log_probs[:, :NONE].max(dim=1)
    ending: list[list[int]] = [[] for _ in range(n + 1)]
    single: dict[int, int] = {}
    for k, (i, j) in enumerate(spans):
        ending[j].append(k)
        if j == i + 1:
            single[i] = k
    best = [0.0] + [-math.inf] * n
    back: list[Step | None] = [None] * (n + 1)
    for j in range(1, n + 1):
        for k in ending[j]:
            i = spans[k][0]
            score = best[i] + float(digit_scores[k])
            if score > best[j]:
                best[j], back[j] = score, Step(i, j, int(digits[k]), float(digit_scores[k]))
        skip = float(log_probs[single[j - 1], NONE]) + skip_prior
        if best[j - 1] + skip > best[j]:
            best[j], back[j] = best[j - 1] + skip, Step(j - 1, j, None, skip)
    path, j = [], n
    while j > 0:
        step = back[j]
        path.append(step)
        j = step.i
    return path[::-1]
