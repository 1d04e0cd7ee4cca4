"""Specks and grain: dust on a scan, a pen's stray dot, recycled paper's flecks, kraft paper's fibres.

`to_mnist` fits the box around all the ink into MNIST's 20x20, so one speck of dust far from the
digit makes the box the whole page and the digit a small part of it: specks of dust took held-out
digits from 99.5% to 73% right, grainy paper to 49%. A digit's ink lies in a few pieces, its
strokes at their full strength; specks and grain lie in many small or weak ones. Cleared: pieces
smaller than SPECK of the largest, and, where at least GRAIN_PIECES pieces weaker on average than
STRONG cover more than GRAIN of the picture (the paper's grain; a faint stroke on clean paper, or
a coarse scan's, is one of few and stays), those pieces and the ink as weak as most of theirs
wherever it lies (grain joining the strokes), up to half the level of the largest piece's strokes: the
largest piece is never cleared whole, but a pen running dry as faint as the grain goes with it.
A UCI digit, 8x8 and in 17 levels, holds one or two large faint pieces: grain taken on them as the
only rule cleared three of 1,797.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SPECK = 0.02  # a piece smaller than this share of the largest piece is a speck
STRONG = 0.4  # a piece of ink this strong on average (of the strokes' level) is a stroke's
GRAIN = 0.02  # weak pieces covering more than this share of the picture are the paper's grain...
GRAIN_PIECES = 5  # ... where they are at least this many (a coarse scan's faint strokes are one or two)
GRAIN_LEVEL = 0.9  # ... and ink weaker than this quantile of theirs is grain wherever it lies,
FLOOR_CAP = 0.5  # ... up to this share of the largest piece's strokes (its 90th percentile)


def without_specks(ink: np.ndarray) -> np.ndarray:
    """Ink [0, 1] (noise floor applied) -> the same without specks and grain (module docstring);
    `ink` itself where there are none. Where there is grain, ink weaker than GRAIN_LEVEL of the
    grain's levels (at most FLOOR_CAP of the largest piece's strokes' level) is cleared everywhere,
    and the pieces are looked at again."""
    out, floor = _cleared(ink)
    if floor is None:
        return out
    out = np.where(out < floor, 0, out).astype(ink.dtype)
    return _cleared(out, grainy=True)[0]


def grain_floor(ink: np.ndarray, smaller_than: int) -> float:
    """The level below which ink [0, 1] is the paper's grain, judged as `without_specks` judges it from
    the weak pieces smaller than `smaller_than` pixels alone (printed lines fainter than the strokes
    are weak pieces too, but long ones); 0 where there is no grain."""
    floor = _judged(ink, grain_below=smaller_than)[3]
    return 0.0 if floor is None else floor


def _cleared(ink: np.ndarray, grainy: bool = False) -> tuple[np.ndarray, float | None]:
    """(ink without its specks and grain's pieces (`_judged`), the grain's floor or None); `ink` itself
    where nothing is cleared."""
    where, piece, cleared, floor = _judged(ink, grainy)
    if not cleared.any():
        return ink, floor
    out = ink.copy()
    out.ravel()[where[cleared[piece]]] = 0
    return out, floor


def _judged(ink: np.ndarray, grainy: bool = False,
            grain_below: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None]:
    """The pieces of ink and which are specks or grain: (the inked pixels' flat indices, each one's
    piece, per piece whether it is cleared, the grain's floor: GRAIN_LEVEL of its pieces' levels, at
    most FLOOR_CAP of the largest piece's strokes (their 90th percentile), which is never cleared; None
    where there is no grain). Weak pieces are grain however few where `grainy`; only those smaller
    than `grain_below` pixels count where it is given."""
    pieces, count = ndimage.label(ink > 0, structure=np.ones((3, 3), bool))
    if count < 2:
        return np.zeros(0, np.intp), np.zeros(0, np.int32), np.zeros(count + 1, bool), None
    where = np.flatnonzero(pieces)  # a photo's ink is a small share of it: count over the inked pixels only
    piece, level = pieces.ravel()[where], ink.ravel()[where]
    sizes = np.bincount(piece, minlength=count + 1)
    cleared = sizes < SPECK * sizes.max()
    strength = np.bincount(piece, weights=level, minlength=count + 1) / np.maximum(sizes, 1)
    largest = int(np.argmax(sizes))
    weak = strength < STRONG  # specks among them: short fibres are grain too
    if grain_below is not None:
        weak &= sizes < grain_below
    weak[[0, largest]] = False  # the largest piece is the digit's, however much grain joins it
    floor = None
    if weak.any() and (grainy or (sizes[weak].sum() > GRAIN * ink.size and weak.sum() >= GRAIN_PIECES)):
        cleared |= weak
        floor = min(float(np.percentile(level[weak[piece]], 100 * GRAIN_LEVEL)),
                    FLOOR_CAP * float(np.percentile(level[piece == largest], 90)))  # the strokes' own level stays
    cleared[0] = False
    return where, piece, cleared, floor
