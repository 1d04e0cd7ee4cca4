"""The page in its surround: a slip of paper on a scanner's dark lid, a note photographed on a desk,
a scan's grey frame. The image's border is then not the paper, and what `ink_map` reads from the
border (the polarity, the paper's level) is wrong: a slip on a black lid was read as light ink on
dark paper, 9 digits in 100 right.

A page is a region lighter than the border, as straight-edged as a rectangle and mostly paper (a
marker's light strokes on a dark screen are neither), with ink inside it, and a surround that holds no strokes
(a shadow across the page holds the rest of the digit; a lid or a desk holds none). Where one is
found, the surround is replaced by the page's own paper, carried outwards from its nearest edge.

A page darker than its surround (a pink or blue note on a white desk: 58 digits in 100 read right)
is looked for in the picture folded about the page's level (`folded`): what is lighter than the
page turned into as much darker, the surround then darker than the page and the ink darker still.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from lenet5.imaging import at_side, border_of, opening

STEP = 0.12  # the page is at least this much lighter than the border's level (grey [0, 1])
LEAST_PAGE = 0.02  # ... and covers at least this share of the image (a note on a desk, photographed from afar)
WINDOW = 20  # the page's paper is wider than this share of the picture's short side (a marker's stroke is not)
PART = 0.2  # parts of the page cut apart by the digits are at least this share of its largest part
SQUARE = 0.88  # its convex hull's area at least this share of the smallest rectangle around it (an ellipse: 0.79)
RIM, RIM_PAPER = 0.05, 0.9  # the page's rim, this share of its size in from its edge, is at least this share paper
OPEN_INK = 0.5  # at most this share of the ink inside the page is one dark region with the surround
PAPER = 0.6  # ... and paper over at least this share of it (a marker's bold digit on a dark screen is not so)
LEAST_INK = 0.002  # the share of the page that its ink's largest piece (darker than its paper) covers at least
SURROUND_BORDER = 0.25  # the surround holds at least this share of the image's border
STROKES = 0.25  # pixels of the surround darker than its level by this share of the step are strokes
MOST_STROKES = 0.002  # ... and more than this share of the surround being so means it holds some
EDGE = 2  # pixels (at the working size) of the page's edge given to the surround: its blur
FLAT, FLAT_SHARE = 0.05, 0.5  # a darker page: this share of what is darker than the border lies this near its median
DARKEST_PAGE = 0.5  # ... and its level is above this (the polarity, read from the border, would take darker paper for ink)
INK_STROKES = 0.5  # a lighter surround's strokes are darker than its level by this share of the step to the ink
INK_PERCENTILE = 0.5  # ... the ink's level: this percentile of the picture


def on_the_page(grey: np.ndarray) -> np.ndarray:
    """Grey [0, 1] (H, W) -> the same, where a page lies in a darker surround (module docstring),
    with the surround replaced by the page's paper; else `grey` itself."""
    small = at_side(grey)
    found = page_mask(small)
    if found is None:
        darker_page = folded(small)
        found = None if darker_page is None else page_mask(darker_page, strokes_in=small)
    if found is None:
        return grey
    page, paper = found
    # the page's paper carried outwards: each pixel off the page takes its nearest paper pixel's level
    nearest = ndimage.distance_transform_edt(~paper, return_distances=False, return_indices=True)
    filled = small[nearest[0], nearest[1]]
    h, w = grey.shape
    if (h, w) == small.shape:
        return np.where(page, grey, filled).astype(np.float32)
    big_page = np.asarray(Image.fromarray(page).resize((w, h), Image.Resampling.NEAREST))
    big_fill = np.asarray(Image.fromarray(filled, mode="F").resize((w, h), Image.Resampling.BILINEAR))
    return np.where(big_page, grey, big_fill).astype(np.float32)


def page_mask(small: np.ndarray, strokes_in: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(the page, its paper without the ink) as boolean masks of `small` (grey [0, 1] at the working
    size), or None where no page lies in a surround. The surround's strokes are looked for in
    `strokes_in` (`small` unless given: `folded` maps a light surround onto its dark strokes' level),
    and when given, they are darker than it there by INK_STROKES of the step to the ink, not by
    STROKES of the step to the page (a drop shadow along a coloured note or uneven light on a white
    table is darker than it by more than a quarter of the small step to the note)."""
    border_level = float(np.median(border_of(small)))
    paper_level = float(np.percentile(small, 100 * (1 - LEAST_PAGE / 2)))  # the page's, however small a share
    step = paper_level - border_level
    if step < STEP:
        return None  # the border is the paper (or lighter than most of the image)
    light = small > border_level + step / 2
    window = max(3, min(small.shape) // WINDOW | 1)
    opened = opening(light.astype(np.uint8), window).astype(bool)  # a light stroke narrower than the window goes
    labels, count = ndimage.label(opened)
    if count == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    parts = np.isin(labels, 1 + np.nonzero(sizes >= PART * sizes.max())[0])  # digits across a narrow page cut it in parts
    if parts.mean() < LEAST_PAGE:
        return None
    hull = convex_hull(parts)
    if hull is None or hull[0].sum() < SQUARE * _rectangle_area(hull[1]) or (hull[0] & light).sum() < PAPER * hull[0].sum():
        return None
    if _rim_paper(hull[0], light) < RIM_PAPER:
        return None
    page = ndimage.binary_erosion(hull[0], iterations=EDGE)
    paper = page & light
    surround = ~ndimage.binary_dilation(page, iterations=EDGE)
    if border_of(surround).mean() < SURROUND_BORDER:
        return None
    largest, open_share = _ink_inside(page, light, surround)
    if largest < LEAST_INK * page.sum() or open_share > OPEN_INK:
        return None
    if (_holds_strokes(small, surround, STROKES * step) if strokes_in is None
            else _holds_strokes(strokes_in, surround, INK_STROKES * _ink_step(strokes_in, surround))):
        return None
    return page, paper


def folded(small: np.ndarray) -> np.ndarray | None:
    """`small` folded about the level of a page darker than the border, for `page_mask` to find it
    as a lighter one: each level v above the page's p becomes 2p - v. None where what is darker than
    the border by STEP is under LEAST_PAGE of the picture, not flat (half its levels within FLAT of
    their median: the ink of a digit on a white page is no page) or no lighter than DARKEST_PAGE (a
    band of deep shadow holding the digit)."""
    border_level = float(np.median(border_of(small)))
    darker = small[small < border_level - STEP]
    if len(darker) < LEAST_PAGE * small.size:
        return None
    level = float(np.median(darker))
    if level <= DARKEST_PAGE or (np.abs(darker - level) < FLAT).mean() < FLAT_SHARE:
        return None
    return np.where(small > level, 2 * level - small, small).astype(np.float32)


def _ink_inside(page: np.ndarray, light: np.ndarray, surround: np.ndarray) -> tuple[int, float]:
    """The dark inside the page: the size of its largest piece apart from the surround (a page's
    ink; specks of a board's noise in a bold chalk stroke are no ink), and the share of it that is one
    dark region with the surround (the gaps between a bold digit's strokes on a dark screen are the
    screen, reaching in; a page's ink lies on its paper, apart from it)."""
    dark, count = ndimage.label(~light, structure=np.ones((3, 3), bool))
    inside = dark[page & ~light]
    if len(inside) == 0:
        return 0, 0.0
    outside = np.zeros(count + 1, bool)
    outside[np.unique(dark[surround])] = True
    outside[0] = False
    apart = inside[~outside[inside]]
    return int(np.bincount(apart).max()) if len(apart) else 0, float(outside[inside].mean())


def _rim_paper(page: np.ndarray, light: np.ndarray) -> float:
    """The share of the page's rim (RIM of its size in from its edge) that is paper: a page's is, but
    for where a digit comes close; a bold digit's strokes on a dark screen leave dark gaps along theirs."""
    rows, cols = np.nonzero(page)
    depth = max(2, round(RIM * min(np.ptp(rows), np.ptp(cols))))
    rim = page & ~ndimage.binary_erosion(page, iterations=depth)
    return float((rim & light).sum() / max(rim.sum(), 1))


def convex_hull(region: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The convex hull of a boolean region: (its mask, its corners (N, 2) as x, y), or None if flat."""
    ys, xs = np.nonzero(region)
    edge = region & ~ndimage.binary_erosion(region)  # the hull of the edge pixels is the region's
    ey, ex = np.nonzero(edge)
    points = np.stack([ex, ey], axis=1).astype(np.float64)
    try:
        corners = points[ConvexHull(points).vertices]
    except QhullError:
        return None
    canvas = Image.new("1", (region.shape[1], region.shape[0]), 0)
    ImageDraw.Draw(canvas).polygon([tuple(c) for c in corners], fill=1, outline=1)
    return np.asarray(canvas, bool), corners


def _rectangle_area(corners: np.ndarray) -> float:
    """The area of the smallest rectangle around a convex polygon (one of its sides lies along an edge)."""
    best = np.inf
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        along = (b - a) / max(np.hypot(*(b - a)), 1e-9)
        across = np.array([-along[1], along[0]])
        u, v = corners @ along, corners @ across
        best = min(best, (u.max() - u.min() + 1) * (v.max() - v.min() + 1))
    return float(best)


def _holds_strokes(small: np.ndarray, surround: np.ndarray, darker: float) -> bool:
    """Whether the surround holds strokes: more than MOST_STROKES of it (a 3x3 median taken: noise is
    not strokes) `darker` than its own level (STROKES of the step between it and the page, or for a
    lighter surround INK_STROKES of the step to the ink)."""
    inner = ndimage.binary_erosion(surround, iterations=EDGE)
    if not inner.any():
        return False
    values = ndimage.median_filter(small, 3)[inner]
    return bool((values < np.median(values) - darker).mean() > MOST_STROKES)


def _ink_step(small: np.ndarray, surround: np.ndarray) -> float:
    """How far the ink (the INK_PERCENTILE percentile of `small`) lies below the surround's median."""
    return float(np.median(small[surround])) - float(np.percentile(small, INK_PERCENTILE))
