"""A line's slant: how far its strokes lean, and the line sheared so that they lean no further than the
readers' training lines do.

People slant their writing, and one writer slants every digit of an amount alike. The readers learned
from lines of MNIST's digits, each by another writer, which lean a little to the right on the whole.
A line's slant is the shear that stands its strokes most upright (`slant_of`): of the shears from
-MOST_SHEAR to MOST_SHEAR px per px, SHEAR_STEP apart, the one under which the ink's column sums
(its projection along the columns) pile up most (the greatest sum of their squares), as upright
strokes pile their ink into few columns. A line leaning beyond LEANS, the middle half of the
training lines' slants, is sheared to the nearer end of it (`excess_slant`, `sheared`) where it is
one writer's slant: ALIKE of its tall pieces of ink (digits, or digits joined), at least LEAST_PIECES, lean
beyond LEANS the same way. A line of many writers' digits leans beyond LEANS as often as the training
lines do, and the readers read such lines worse sheared (docs/reading.md, "Slanted and wobbly writing").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

MOST_SHEAR = 0.8  # px per px (39 degrees): the steepest lean measured
SHEAR_STEP = 0.05  # px per px between the shears tried
LEANS = (0.05, 0.35)  # px per px leaning right: the training lines' middle half (`slant_of` on 1,000 training strips:
# quartiles 0.05 and 0.35, median 0.2); a line leaning beyond is sheared to the nearer end ...
ALIKE = 0.75  # ... where at least this share of its tall pieces lean beyond them the same way (one writer's slant) ...
LEAST_PIECES = 3  # ... and it has at least this many (two pieces of touching digits sheared cost held-out touching
# amounts 1.3 points, three 0.3)
TALL = 0.5  # a piece of ink at least this share of the tallest piece's height is a digit or digits (not a 5's bar, a speck)


@dataclass(frozen=True)
class Shear:
    """A line sheared: its point (y, x) before lies at (y, x + by (y - about) + shift) after (continuous
    coordinates, pixel i spanning [i, i + 1))."""

    by: float  # px per px: lower rows go right where positive
    about: float  # the row that stays where it was (less `shift`)
    shift: float  # px: every row moved right, so that the sheared ink starts at column 0

    def after(self, y: float | np.ndarray, x: float | np.ndarray) -> tuple[float | np.ndarray, float | np.ndarray]:
        return y, x + self.by * (y - self.about) + self.shift

    def before(self, y: float | np.ndarray, x: float | np.ndarray) -> tuple[float | np.ndarray, float | np.ndarray]:
        return y, x - self.by * (y - self.about) - self.shift


def slant_of(ink: np.ndarray) -> float:
    """The shear (px per px; positive: the strokes lean right, their tops right of their feet) that
    stands the strokes of ink [0, 1] (H, W), paper 0, most upright; 0.0 where there is no ink, or where
    every shear piles it alike."""
    shears, piled = _piled(ink)
    if not len(piled) or piled.min() == piled.max():  # every shear piles it alike (ink one row high): no lean to tell
        return 0.0
    return float(shears[int(np.argmax(piled))])


def excess_slant(ink: np.ndarray, pieces: np.ndarray) -> float:
    """How far the line of ink (H, W) leans beyond LEANS (px per px), the shear taken off it, where it is
    one writer's slant: ALIKE of its TALL pieces (`pieces`: the ink's connected pieces labelled 1, 2, ...,
    paper 0), at least LEAST_PIECES, lean beyond LEANS the same way as the whole line. 0.0 where it leans within
    them, where its pieces do not lean alike, where there is no ink, or where a shear within LEANS
    piles the ink up as well (a line of bars and dots, say, that leans no way)."""
    whole = _beyond(ink)
    if whole == 0.0:
        return 0.0
    boxes = ndimage.find_objects(pieces)
    heights = np.array([0 if box is None else box[0].stop - box[0].start for box in boxes])
    tall = [k for k in range(len(boxes)) if heights[k] > 0 and heights[k] >= TALL * heights.max()]
    if len(tall) < LEAST_PIECES:
        return 0.0
    leaning = [np.sign(_beyond(np.where(pieces[boxes[k]] == k + 1, ink[boxes[k]], 0.0))) == np.sign(whole) for k in tall]
    return whole if np.mean(leaning) >= ALIKE else 0.0


def _beyond(ink: np.ndarray) -> float:
    """How far ink leans beyond LEANS (px per px; 0.0 within them, with no ink, or where a shear within
    them piles the ink up as well as the best)."""
    shears, piled = _piled(ink)
    if not len(piled):
        return 0.0
    within = (shears >= LEANS[0]) & (shears <= LEANS[1])
    if piled[within].max() >= piled.max():
        return 0.0
    slant = float(shears[int(np.argmax(piled))])
    return slant - float(np.clip(slant, *LEANS))


def _piled(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shears tried (px per px, from -MOST_SHEAR to MOST_SHEAR) and how much each piles up the ink's
    column sums (the sum of their squares, the ink sheared about its centre row); none where there is no ink."""
    shears = np.round(np.arange(-MOST_SHEAR, MOST_SHEAR + SHEAR_STEP / 2, SHEAR_STEP), 6)
    ys, xs = np.nonzero(ink > 0)
    if len(ys) == 0:
        return shears[:0], np.zeros(0)
    weights = ink[ys, xs].astype(np.float64)
    centred = ys - np.average(ys, weights=weights)
    piled = np.empty(len(shears))
    for k, by in enumerate(shears):
        columns = np.floor(xs + by * centred)
        piled[k] = (np.bincount((columns - columns.min()).astype(np.int64), weights=weights) ** 2).sum()
    return shears, piled


def sheared(ink: np.ndarray, by: float) -> tuple[np.ndarray, Shear]:
    """Ink (H, W) sheared by `by` px per px about its middle row (made wider by |by| H, so that none of
    it leaves the picture), and the Shear that maps the points of ink to the result's."""
    h, w = ink.shape
    shear = Shear(by, h / 2, abs(by) * h / 2)
    # ndimage works on pixel indices (a pixel's centre at i + 0.5): input index = output index - by (i + 0.5 - about) - shift
    matrix = np.array([[1.0, 0.0], [-by, 1.0]])
    offset = np.array([0.0, -by * (0.5 - shear.about) - shear.shift])
    out = ndimage.affine_transform(ink.astype(np.float32), matrix, offset, output_shape=(h, w + int(np.ceil(abs(by) * h))),
                                   order=1, mode="grid-constant", cval=0.0)  # paper beyond the edge: ink there blends with it
    return out.clip(0, 1), shear
