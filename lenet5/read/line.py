"""The line at digit scale, shared by both readers: a grey image of one line of digits -> its
ink, turned upright where it runs steeper than the band straightens, scaled so that its digits
are as high as MNIST's (20 px), with the map back to the image's pixels. The SDNN (sdnn.py)
sweeps LeNet-5 along it; over-segmentation (oversegment.py) cuts it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from lenet5.preprocess import picture_inked
from lenet5.read.slant import Shear, excess_slant, sheared
from lenet5.ruling import without_lines
from lenet5.strokes import WORK, normalize_width, stroke_width

DIGIT_HEIGHT = 20  # px: a digit's height in the work image, as in MNIST's 20x20 box
INK = 0.3  # ink above this counts for components and boxes
HEIGHTS_RANGE = (12.0, 28.0)  # px: the digit heights a reader may read the line at (`check_heights`): the 32 px band holds 28
MOST_HEIGHTS = 8  # heights a reader may read one line at
COARSE_HEIGHT = 64  # px: the ink's height when the digits' height is first estimated
ONE_DIGIT = 1.2  # a line no wider than this many times its height is one digit, or two narrow ones (`digit_height`)
STACKED = 0.5  # pieces of ink whose rows overlap by less than this share of the shorter's lie one above the other
PART = 0.25  # pieces shorter than this share of the tallest are specks, not parts of a digit (`digit_height`)
NARROW_PART = 0.5  # ... and this share in a line of one digit or two, where no median outvotes a mark taken for part of one
GAP = 0.35  # pieces one above the other lie at most this share of the taller one's height apart (a stroke's cut; a mark above lies farther)
LINE_APART = 0.5  # bands of ink one above another at least this share of the tallest's height are lines of digits
MOST_PIECES = 2000  # more pieces than this are measured one by one (`_stacked`: pairs of them)
MARGIN = 2  # px of paper kept around the ink
# Stroke width of the readers' training lines at work scale (`stroke_width`, MNIST's units), over 150
# strips of held-out training digits in lenet5/data/strips.py's style: median 3.48, 85th percentile
# about 4.2 (a marker's lines: median 4.63). Lines wider than 4.0 are thinned to 3.2: on 300 held-out
# amounts (seed 99) normal / marker read exactly 91.0 / 86.3%; thinning above 4.2 to 3.48: 91.0 / 86.0%;
# never thinning: 91.3 / 83.3%.
LINE_WIDTH, LINE_WIDTH_TARGET = (0.0, 4.0), 3.2
MAX_SLOPE = 0.15  # px per px: a baseline up to this steep (8.5 degrees) the band (sdnn.band) straightens column
# by column; a steeper line (a photo taken askew) is turned upright first (`tilt`, `upright`), for shifting
# columns leaves its digits turned with the line. Amounts composed otherwise than strips.py's (docs/reading.md,
# "Amounts photographed askew"), 200 turned 15 / 20 / 25 degrees: 81.5 / 32.5 / 10.0% read exactly before,
# 97.5 / 96.0 / 98.0% turned; turned only from 0.25 on, those turned 10 / 12 / 14 degrees read 95.0 / 96.5 /
# 92.5% against 98% each
MOST_SLOPE = 0.6  # px per px (31 degrees): a steeper fit is taken for one digit's own slant, and nothing is
# turned. Without this bound (45 degrees), of 200 level test amounts of 1-2 digits (composed_amounts.py short)
# 6 were turned, all single digits slanted 26-45 degrees (5 over 31), and 97.5% were read exactly; with it 99.5%
ELONGATED = 1.6  # a line is turned only where its ink is this many times as long along the fitted slope as
# across it. Chosen before MOST_SLOPE and LINE_LENGTH bounded the turn further: then 23 of the benchmark's
# 1,000 amounts were turned, 297 of 300 turned 20 degrees, 6 of the 200 short ones (at 1.2: 25, 298, 18; at
# 2.0: 20, 279, 2)
LINE_LENGTH = 1.6  # digit heights (as `digit_height` measures them): a line is turned only where its ink is at
# least this long along the fitted slope, which a slanted digit alone seldom is. Of 2,000 MNIST test digits
# alone, 22 were turned without it, 2 with it (0 at 1.8); on held-out digits 1-2 digit amounts read 99.2 ->
# 99.5% exactly (as before turning), amounts photographed askew 91.9 -> 91.0% (1.8: 89.7%): 3 digits that
# touch are one piece of ink, whose height is taken for the digits'
EDGE = 0.1  # digit heights of the image around the ink's box turned with it


def check_heights(heights: object) -> tuple[float, ...]:
    """The digit heights a reader reads each line at, checked (ValueError): 1 to MOST_HEIGHTS distinct
    numbers in HEIGHTS_RANGE; the first one's line places the digits."""
    low, high = HEIGHTS_RANGE
    if (not isinstance(heights, (list, tuple)) or not 1 <= len(heights) <= MOST_HEIGHTS
            or not all(isinstance(h, (int, float)) and not isinstance(h, bool) and low <= h <= high for h in heights)
            or len(set(heights)) != len(heights)):
        raise ValueError(f"heights must be 1 to {MOST_HEIGHTS} distinct numbers of px from {low:g} to {high:g}, "
                         f"got {str(heights)[:100]}")
    return tuple(float(h) for h in heights)


Point = tuple[float | np.ndarray, float | np.ndarray]  # (y, x): numbers or arrays alike


@dataclass(frozen=True)
class Turn:
    """A line turned upright: a point p = (y, x) of the upright picture lies at
    centre + R (p - upright_centre) in the image, R turning the picture's rows by `angle`
    (radians; positive: the line falls to the right, as y grows downwards)."""

    angle: float
    centre: tuple[float, float]  # the image point the picture was turned about
    upright_centre: tuple[float, float]  # where it lies in the upright picture

    def matrix(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, s], [-s, c]])  # (y, x) -> (y, x): the upright x axis runs along (sin, cos)

    def to_image(self, y: float | np.ndarray, x: float | np.ndarray) -> Point:
        return _moved(self.matrix(), (y, x), self.upright_centre, self.centre)

    def from_image(self, y: float | np.ndarray, x: float | np.ndarray) -> Point:
        return _moved(self.matrix().T, (y, x), self.centre, self.upright_centre)  # a rotation's inverse


def _moved(matrix: np.ndarray, point: Point, source: tuple[float, float], target: tuple[float, float]) -> Point:
    """target + matrix (point - source), for numbers or arrays alike."""
    (a, b), (c, d) = matrix
    y, x = point[0] - source[0], point[1] - source[1]
    return target[0] + a * y + b * x, target[1] + c * y + d * x


@dataclass
class Line:
    """A line of ink at work scale: ink [0, 1] (H, W) with paper 0; a work pixel (y, x) came
    from (y, x) * scale + offset in the image (offset = (top, left)), or in the upright picture
    that `turn` maps to the image, where the line was turned, or, where the line was `shear`ed
    (slanted writing: lenet5/read/slant.py), from the work pixel it was sheared from; `taken_out`:
    the printed marks taken out of the picture (`preprocess.Inked`); `lines`: more than 1 where the
    picture holds lines of digits one above another, all of them here (`read` refuses it)."""

    ink: np.ndarray
    scale: float
    offset: tuple[float, float]
    turn: Turn | None = None
    taken_out: tuple[str, ...] = ()
    shear: Shear | None = None
    lines: int = 1  # the lines of digits the picture holds one above another (`lines_of_digits`); this is all of them

    # The maps take and give continuous coordinates, pixel i spanning [i, i + 1): a pixel's centre is i + 0.5.
    def to_image(self, y: float | np.ndarray, x: float | np.ndarray) -> Point:
        """Work coordinates (y, x) (numbers or arrays) -> the image's."""
        if self.shear is not None:
            y, x = self.shear.before(y, x)
        y, x = y * self.scale + self.offset[0], x * self.scale + self.offset[1]
        return (y, x) if self.turn is None else self.turn.to_image(y, x)

    def from_image(self, y: float | np.ndarray, x: float | np.ndarray) -> Point:
        """Image coordinates (y, x) -> the work coordinates they land on (`to_image` undone)."""
        if self.turn is not None:
            y, x = self.turn.from_image(y, x)
        y, x = (y - self.offset[0]) / self.scale, (x - self.offset[1]) / self.scale
        return (y, x) if self.shear is None else self.shear.after(y, x)

    def box_in_image(self, y0: float, x0: float, y1: float, x1: float) -> tuple[float, float, float, float]:
        """The image's box (y0, x0, y1, x1) around the work box [y0, y1) x [x0, x1): the same box where
        the line was neither turned nor sheared, around its four corners where it was."""
        ys, xs = self.to_image(np.array([y0, y0, y1, y1], np.float64), np.array([x0, x1, x0, x1], np.float64))
        return float(ys.min()), float(xs.min()), float(ys.max()), float(xs.max())


@dataclass(frozen=True)
class Found:
    """A digit read in a line, with its box [x0, x1) x [y0, y1) in work pixels and its probability."""

    digit: int
    x0: int
    x1: int
    y0: int
    y1: int
    p: float


Box = tuple[int, int, int, int]  # rows [top, bottom), columns [left, right)


def label_components(binary: np.ndarray) -> np.ndarray:
    """8-connected components: (H, W) int labels, 0 for paper, 1, 2, ... for the components in the
    order a raster scan first meets them."""
    labels, _ = ndimage.label(binary, structure=np.ones((3, 3), dtype=bool))
    return labels


def resample(ink: np.ndarray, factor: float) -> np.ndarray:
    h, w = ink.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX
                                                                              if factor < 1 else Image.Resampling.BILINEAR))


def ink_box(ink: np.ndarray) -> Box | None:
    """The box around the ink above INK, or None where there is none."""
    rows, cols = np.nonzero(ink > INK)
    if len(rows) == 0:
        return None
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def _coarse(ink: np.ndarray, box: Box, height: float) -> tuple[np.ndarray, float]:
    """The ink in `box`, made smaller (never larger) by the factor that brings `height` px to
    COARSE_HEIGHT, and that factor."""
    top, bottom, left, right = box
    factor = min(1.0, COARSE_HEIGHT / height)
    return (resample(ink[top:bottom, left:right], factor) if factor < 1 else ink[top:bottom, left:right]), factor


@dataclass(frozen=True)
class Pieces:
    """A line's connected pieces of ink, measured with the ink shrunk to COARSE_HEIGHT (`digit_pieces`):
    each piece's first and last row and column (coarse px), the factor from ink px to coarse px, and
    whether the line is no wider than one digit (ONE_DIGIT: one digit, or two narrow ones)."""

    lowest: np.ndarray
    highest: np.ndarray
    leftmost: np.ndarray
    rightmost: np.ndarray
    factor: float
    narrow: bool


def digit_pieces(ink: np.ndarray, box: Box) -> Pieces:
    """The pieces of `ink` inside `box`, labelled once for every measure of the line's digit height."""
    coarse, factor = _coarse(ink, box, box[1] - box[0])
    labels = label_components(coarse > INK)
    if not labels.any():  # faint specks that shrinking averaged away: measured as they are
        top, bottom, left, right = box
        coarse, factor = ink[top:bottom, left:right], 1.0
        labels = label_components(coarse > INK)
    rows, columns = zip(*ndimage.find_objects(labels))  # labels 1, 2, ... without a gap: no None
    top, bottom, left, right = box
    return Pieces(np.array([r.start for r in rows]), np.array([r.stop - 1 for r in rows]),
                  np.array([c.start for c in columns]), np.array([c.stop - 1 for c in columns]),
                  factor, right - left <= ONE_DIGIT * (bottom - top))


def lines_of_digits(pieces: Pieces) -> int:
    """How many lines of digits the pieces lie in, one above another: the bands of rows they cover
    (specks aside: pieces under PART of the tallest), a piece joining the band above it across a gap
    of at most GAP of the taller's height (a stroke broken across, as `_stacked` joins it), each band at least LINE_APART of
    the tallest's height (not a tick or a mark over the digits). A line turned steeply covers its
    rows without a gap: one."""
    heights = pieces.highest - pieces.lowest + 1
    keep = heights >= PART * heights.max()
    order = np.argsort(pieces.lowest[keep], kind="stable")
    bands: list[list[int]] = []
    for top, bottom in zip(pieces.lowest[keep][order].tolist(), pieces.highest[keep][order].tolist()):
        if bands and top - bands[-1][1] - 1 <= GAP * max(bands[-1][1] - bands[-1][0] + 1, bottom - top + 1):
            bands[-1][1] = max(bands[-1][1], bottom)
        else:
            bands.append([top, bottom])
    tall = max(bottom - top + 1 for top, bottom in bands)
    return sum(bottom - top + 1 >= LINE_APART * tall for top, bottom in bands)


def digit_height(ink: np.ndarray, box: Box, stacked: bool = True) -> float:
    """The height of the line's digits in px of `ink` (its ink inside `box`): `measured_height` of its
    pieces."""
    return measured_height(digit_pieces(ink, box), stacked)


def measured_height(pieces: Pieces, stacked: bool = True) -> float:
    """The height of the line's digits in ink px: the median height of its tall digits, a digit being
    a connected piece of ink, or pieces that lie one above the other, close (`_stacked`: a stroke
    broken across); specks (pieces under PART of the tallest) and the shorter ones left over (under
    half the tallest digit) do not count, and a drifting baseline, which makes the whole line taller,
    does not either. Where the line is no wider than one digit (`pieces.narrow`), its tallest digit's,
    of pieces at least NARROW_PART of the tallest. `stacked=False`: each piece a digit of its own (a
    steeply tilted line's neighbours lie one above the other: `tilt` measures so)."""
    lowest, highest, leftmost, rightmost = pieces.lowest, pieces.highest, pieces.leftmost, pieces.rightmost
    heights = highest - lowest + 1
    part = heights >= (NARROW_PART if pieces.narrow else PART) * heights.max()
    digits = (_stacked(lowest[part], highest[part], leftmost[part], rightmost[part]) if stacked
              else heights[part].astype(np.float64))
    if pieces.narrow:
        return float(digits.max()) / pieces.factor
    return float(np.median(digits[digits >= 0.5 * digits.max()])) / pieces.factor


def _stacked(lowest: np.ndarray, highest: np.ndarray, leftmost: np.ndarray, rightmost: np.ndarray) -> np.ndarray:
    """The rows spanned by each group of pieces (their first and last rows and columns) that lie one
    above the other: two pieces whose rows overlap by less than STACKED of the shorter one's, whose
    columns meet and whose rows lie at most GAP of the taller one's apart are one group (a digit's
    stroke broken across); pieces side by side, and a mark written above or below, stay apart. Past
    MOST_PIECES pieces (a hatch, not digits), each piece is its own group."""
    spans = (highest - lowest + 1).astype(np.float64)
    if len(spans) > MOST_PIECES:
        return spans
    shared = np.minimum(highest[:, None], highest[None, :]) - np.maximum(lowest[:, None], lowest[None, :]) + 1
    shorter, taller = np.minimum(spans[:, None], spans[None, :]), np.maximum(spans[:, None], spans[None, :])
    meet = (leftmost[:, None] <= rightmost[None, :] + 1) & (leftmost[None, :] <= rightmost[:, None] + 1)
    near = -shared <= GAP * taller  # the rows between them (-shared) few: a cut, not a mark written above
    _, group = connected_components(csr_matrix((shared < STACKED * shorter) & meet & near), directed=False)
    top, bottom = np.full(group.max() + 1, lowest.max()), np.zeros(group.max() + 1, dtype=highest.dtype)
    np.minimum.at(top, group, lowest)
    np.maximum.at(bottom, group, highest)
    return (bottom - top + 1).astype(np.float64)


def normalize(grey: np.ndarray, height: float = DIGIT_HEIGHT) -> Line | None:
    """Grey image [0, 1] (H, W), either polarity -> the line of ink at work scale, its digits
    `height` px high (None: no ink above INK, nothing to read)."""
    lines = normalize_at(grey, (height,))
    return None if lines is None else lines[0]


def normalize_at(grey: np.ndarray, heights: tuple[float, ...]) -> list[Line] | None:
    """`normalize` at each of `heights`, the ink found, turned upright and its digits measured once,
    each line sheared where one writer's slant leans beyond the training lines' (`slant.excess_slant`,
    measured once) (None: no ink); each line says the printed marks taken out (`Line.taken_out`)."""
    inked = picture_inked(grey)
    ink, taken_out = inked.ink, inked.taken_out
    box = ink_box(ink)
    if box is None:
        return None
    pieces = digit_pieces(ink, box)
    lines_above = lines_of_digits(pieces)
    measured = measured_height(pieces, stacked=False)
    turn = None
    angle = tilt(ink, box, measured)
    if angle is None:
        measured = measured_height(pieces)
    else:
        top, bottom, left, right = box
        pad = math.ceil(EDGE * measured)  # the strokes' faint edges around the box come along
        around = (max(0, top - pad), min(ink.shape[0], bottom + pad), max(0, left - pad), min(ink.shape[1], right + pad))
        turned, turn = upright(ink, around, angle)
        ink = without_lines(turned)  # a box or rules turned with the line: `ink_map` finds lines up to about 7 degrees
        # (11 where two lie so)
        if ink is not turned and "lines" not in taken_out:
            taken_out = ("lines", *taken_out)
        box = ink_box(ink)
        if box is None:
            return None
        measured = digit_height(ink, box)
    lines = [_scaled(ink, box, height / measured, height, turn, taken_out, lines_above) for height in heights]
    first = lines[0].ink
    by = excess_slant(first, label_components(first > INK))  # a px-per-px shear: the same at every height
    return [_unslanted(line, by) for line in lines] if by else lines


def _unslanted(line: Line, by: float) -> Line:
    """The line sheared by `by` px per px (its slant beyond the training lines', lenet5/read/slant.py)."""
    ink, shear = sheared(line.ink, by)
    return dataclasses.replace(line, ink=ink, shear=shear)


def baseline(ink: np.ndarray) -> tuple[float, float, float]:
    """The straight line fitted to the ink's centre of mass in each column, each column weighed by
    its ink: (slope in px per px with y downwards, and the point (x, y) it passes through, the ink's
    centre of mass); slope 0 where the ink has no width to fit on, (0, 0, 0) where there is none."""
    h, w = ink.shape
    mass = ink.sum(axis=0).astype(np.float64)
    total = mass.sum()
    if total <= 0:
        return 0.0, 0.0, 0.0
    x = np.arange(w, dtype=np.float64)
    centres = (ink * np.arange(h, dtype=np.float64)[:, None]).sum(axis=0) / np.maximum(mass, 1e-9)
    mean_x, mean_y = (mass @ x) / total, (mass @ centres) / total
    spread = mass @ (x - mean_x) ** 2
    slope = float((mass @ ((x - mean_x) * (centres - mean_y))) / spread) if spread > 0 else 0.0
    return slope, float(mean_x), float(mean_y)


def tilt(ink: np.ndarray, box: Box, measured: float) -> float | None:
    """The angle (radians) at which the line in `box` runs where it is to be turned upright: its
    baseline steeper than MAX_SLOPE but not than MOST_SLOPE, and its ink ELONGATED times as long
    along it as across and LINE_LENGTH digit heights (`measured`, px) long. None otherwise."""
    coarse, factor = _coarse(ink, box, measured)  # digits 64 px high are plenty to fit a slope on
    slope, _, _ = baseline(coarse)
    if not MAX_SLOPE < abs(slope) <= MOST_SLOPE:
        return None
    angle = math.atan(slope)
    ys, xs = np.nonzero(coarse > INK)
    if len(ys) < 2:
        return None
    along, across = xs * math.cos(angle) + ys * math.sin(angle), ys * math.cos(angle) - xs * math.sin(angle)
    length, breadth = (np.subtract(*np.percentile(v, [99, 1])) for v in (along, across))
    return angle if length >= max(ELONGATED * max(breadth, 1.0), LINE_LENGTH * measured * factor) else None


def upright(ink: np.ndarray, box: Box, angle: float) -> tuple[np.ndarray, Turn]:
    """The ink in `box` turned by -angle about the box's centre, so that a line falling at `angle`
    runs level: the whole box turned (its corners in paper 0), and the Turn that maps it back."""
    top, bottom, left, right = box
    h, w = bottom - top, right - left
    c, s = abs(math.cos(angle)), abs(math.sin(angle))
    size = (math.ceil(h * c + w * s), math.ceil(w * c + h * s))
    turn = Turn(angle, ((top + bottom) / 2, (left + right) / 2), (size[0] / 2, size[1] / 2))
    # ndimage works on pixel indices (a pixel's centre at i): image index = R (upright index) + shift
    matrix = turn.matrix()
    shift = (np.array([h / 2, w / 2]) - 0.5) + matrix @ (0.5 - np.array(turn.upright_centre))
    turned = ndimage.affine_transform(ink[top:bottom, left:right].astype(np.float32), matrix, shift,
                                      output_shape=size, order=1, mode="constant", cval=0.0)
    return turned.clip(0, 1), turn


def _scaled(ink: np.ndarray, box: Box, factor: float, height: float, turn: Turn | None = None,
            taken_out: tuple[str, ...] = (), lines: int = 1) -> Line:
    """The ink in `box` (and MARGIN around it) scaled by `factor`, so that its digits are `height` px
    high (`turn`: the ink is an upright picture, which it maps to the image; `taken_out`: the printed
    marks taken out of the picture; `lines`: the lines of digits one above another, `lines_of_digits`)."""
    top, bottom, left, right = box
    pad = round(MARGIN / factor)
    top, left = max(0, top - pad), max(0, left - pad)
    crop = ink[top: bottom + pad, left: right + pad]
    work = resample(crop, factor).clip(0, 1)
    if stroke_width(work) > LINE_WIDTH[1] * height / DIGIT_HEIGHT:  # a marker's line (in MNIST's units): its strokes thinned at 4x
        fine = normalize_width(resample(crop, WORK * factor), WORK * height, LINE_WIDTH, LINE_WIDTH_TARGET)
        work = np.asarray(Image.fromarray(fine, mode="F").resize(work.shape[::-1], Image.Resampling.BOX)).clip(0, 1)
    return Line(work.astype(np.float32), 1 / factor, (float(top), float(left)), turn, taken_out, lines=lines)
