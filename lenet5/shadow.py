"""A shadow across the page: the border holds two levels of paper, and the ink lies beyond both
(darker than the shadow and the lit paper alike), so the shadow is paper, not ink, and the polarity
is read from the strokes, not from the border's majority.

A deep shadow (0.3 of the light: a hand or a phone held over the page) lets its strokes through no
darker than itself by half the step to the lit paper, nor are strokes on the lit paper darker than
it by so much, so `strokes_beyond` finds none, and under INK_ALONG of the light the darker level
was taken for ink along the border: its corners a solid wedge, 9 held-out digits in 100 read right
(at 0.4, 85). Such a shadow is told from ink by its breadth and by the ink's level (`broad_shadow`):
a window of 1/BROAD of the picture's short side fits in it all along where it meets the border (a
stroke is narrower), and the digit's strokes, in it or on the lit paper, are darker than it by
RELATIVE of its light and narrower than that window (a shadow dims ink and paper alike; a bold
marker's stroke along the border is as dark as the rest of the digit, darker only where strokes
cross, in blobs as wide as the strokes; a dark board's darker end is broad). Under INK_ALONG of
the light, where ink along a tight crop's border could be as dark, the shadow must also be one level
(`one_level`): a digit scanned coarsely into blocks of many greys, touching its border, is as broad
and holds darker blocks, but its greys spread over the step. Shadows letting
through under DEEPEST of the light are not taken: the noise in them, scaled up by their light, is
as strong as ink.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from lenet5.imaging import at_side, border_of, opening, otsu

SHADOW_SHARE, SHADOW_STEP = 0.1, 0.2  # a border whose two levels each hold this share, this far apart, holds two
BETWEEN = 0.1  # ... with at most this share of it between them
INK_ALONG = 0.35  # light under this share of the paper's, along the border, is ink, not a shadow
DIM = 0.1  # a dim photo's paper: strokes 2 DIM below its level, and nothing DIM above it (`dim_paper`)
LEVEL_BLOCKS, LEVEL_SHARE = 2, 80  # the paper's level part by part (`paper_around`): this percentile of blocks
#                                   1/LEVEL_BLOCKS of the short side
STROKES = 0.001  # the least share of an image, beyond a level of its paper, that is strokes rather than noise
FEW_STROKES = 0.0001  # ... and beyond a broad shadow's light by half (a small digit in a phone's photo covers less than STROKES)
BROAD = 6  # a window of 1/BROAD of the short side fits in a shadow (`broad_shadow`) all along where it meets the border
ALONG = 0.8  # ... over at least this share of the border's part darker than the two levels' midpoint
RELATIVE = 0.5  # ... and the strokes let through at most this share of its light
EDGE = 64  # ... strokes' blurred edges (1/EDGE of the short side) aside
FLAT = 0.25  # a shadow's middle 80% lies within this share of the step between the border's two levels
FLOOR = 0.08  # ... or, its soft edge spreading it towards the light, its darkest tenth within this share below its median
DEEPEST = 0.25  # a shadow letting through less of the light is not taken (the sensor's noise in it, scaled up, is ink)


def two_levels(border: np.ndarray) -> tuple[float, float] | None:
    """The medians (low, high) of a border's two levels where it holds two, split by Otsu's threshold:
    each a large share of it (SHADOW_SHARE), far apart (SHADOW_STEP), and little of the border between
    them (BETWEEN: a shadow's edge crosses it, where light falling off spreads it over the range); else None."""
    split = otsu(border)
    low, high = border[border <= split], border[border > split]
    if min(len(low), len(high)) < SHADOW_SHARE * len(border):
        return None
    a, b = float(np.median(low)), float(np.median(high))
    between = ((border > a + (b - a) / 3) & (border < b - (b - a) / 3)).mean()  # the middle third
    return (a, b) if b - a >= SHADOW_STEP and between <= BETWEEN else None


def paper_is_light(grey: np.ndarray) -> bool:
    """Whether the paper is lighter than the ink in grey [0, 1] (H, W). The paper is the majority of
    the image's border, unless the border holds two levels, the darker letting through at least
    INK_ALONG of the lighter's light, and strokes lie beyond one of them only (`strokes_beyond`: a
    shadow across the page: its two levels are both paper, and the ink lies beyond them), or the
    darker is a shadow told by its breadth (`broad_shadow`: the strokes then darker than both). A
    border darker than mid-grey is still light paper where only darker strokes lie on it (`dim_paper`:
    a photo taken in dim light)."""
    border = border_of(grey)
    levels = two_levels(border)
    paper = float(np.median(border))
    if levels is None and paper > 0.5:  # (most pictures: nothing more to look at)
        return True
    small = smoothed(grey)  # (once, for each test below)
    if levels is not None and levels[0] >= INK_ALONG * levels[1]:  # (else the darker level is dark ink on the border)
        # light strokes stand above the lighter paper where it is (a dim room's light falling off across a page cropped
        # along a rule, the rule the darker level, left the lit side's grain half the step above it)
        darker, lighter = strokes_beyond(small, *levels, np.maximum(paper_around(small), levels[1]))
        if max(darker, lighter) > max(2 * min(darker, lighter), STROKES):
            return bool(darker > lighter)
    if levels is not None and broad_shadow(small, *levels):
        return True
    return paper > 0.5 or dim_paper(small, paper)


def dim_paper(small: np.ndarray, paper: float) -> bool:
    """Whether a page whose border lies at `paper`, no lighter than mid-grey, is light paper
    photographed in dim light: in the picture `small` (`smoothed`), strokes lie 2 DIM below the paper's level
    (narrow ones, more than STROKES of the picture) and nothing lies DIM above it (no more than
    STROKES of the picture: a light stroke, chalk, a digit stored light on dark say the paper is the
    dark; where light strokes cover most of the picture's quarters, only their breadth does). The
    level is the border's, or, where it is higher, the paper's around that part of the picture
    (`paper_around`): a dim room's light falls off across the page, and a rule along the crop's edge
    darkens the border."""
    level = np.maximum(paper_around(small), paper)
    if (small > level + DIM).mean() > STROKES:
        return False
    return narrow_share(small < level - 2 * DIM, stroke_window(small)) > STROKES


def paper_around(small: np.ndarray) -> np.ndarray:
    """The level of light paper over `small`, part by part: the LEVEL_SHARE percentile of each block
    1/LEVEL_BLOCKS of its short side (dark strokes cover less than that share of a block), taken at
    the block's middle and interpolated between the middles (held beyond the outer ones). Coarse: a
    shadow's edge is smeared across a block, which is why `dim_paper` keeps the border's level as
    the least."""
    h, w = small.shape
    side = max(1, min(h, w) // LEVEL_BLOCKS)
    ys, xs = np.linspace(0, h, h // side + 1).astype(int), np.linspace(0, w, w // side + 1).astype(int)
    blocks = np.array([[np.percentile(small[y0:y1, x0:x1], LEVEL_SHARE) for x0, x1 in zip(xs[:-1], xs[1:])]
                       for y0, y1 in zip(ys[:-1], ys[1:])], np.float32)
    return _between_middles(_between_middles(blocks, xs).T, ys).T.astype(np.float32)


def _between_middles(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each row of `values` (one value a cell, the cells' `edges` along it) at every pixel from 0 to
    the last edge: interpolated between the cells' middles, held beyond the outer ones."""
    middles = (edges[:-1] + edges[1:]) / 2
    return np.array([np.interp(np.arange(edges[-1]), middles, row) for row in values])


def smoothed(image: np.ndarray) -> np.ndarray:
    """The image at BACKGROUND_SIDE with a 3x3 median taken: lone pixels of grain and noise are not strokes."""
    return ndimage.median_filter(at_side(image), 3)


def strokes_beyond(small: np.ndarray, low: float, high: float, above: float | np.ndarray) -> tuple[float, float]:
    """The shares of `small` (an image `smoothed`) that are strokes below `low` and beyond `above` (the
    level light strokes stand on: `high`, or the paper's pixel by pixel) by half the step between
    `low` and `high`: pixels that far beyond, narrower than an eighth of its side (light that varies
    across broad paper is not strokes either); 0 on a side where such narrow pixels are not the most
    of what lies beyond."""
    margin, window = (high - low) / 2, stroke_window(small)
    return narrow_share(small < low - margin, window), narrow_share(small > above + margin, window)


def stroke_window(small: np.ndarray, parts: int = 8) -> int:
    """A window 1/`parts` of `small`'s short side (odd, at least 3): at an eighth, strokes are narrower
    and broad light is not."""
    return max(3, min(small.shape) // parts | 1)


def narrow_share(beyond: np.ndarray, window: int) -> float:
    """The share of the picture that `beyond` (a boolean mask) covers in parts narrower than `window`
    (an opening by it takes them out: strokes, not broad light or a bold blob), or 0 where such
    narrow parts are not the most of it."""
    thin = beyond & ~opening(beyond.astype(np.uint8), window).astype(bool)
    return float(thin.mean()) if thin.sum() * 2 > beyond.sum() else 0.0


def broad_shadow(small: np.ndarray, low: float, high: float) -> bool:
    """Whether the darker of a border's two levels `low` < `high` (`small`: a grey picture [0, 1], dark
    ink, `smoothed`) is
    a shadow, told by its breadth rather than by `strokes_beyond`: the region darker than their
    midpoint that a window of 1/BROAD of the short side fits in holds ALONG of the border's dark part
    and SHADOW_SHARE of the border, it lets through at least DEEPEST of the light, and strokes lie
    in the picture darker than `low` by RELATIVE of its light, most of them narrower than the window,
    and, where it lets through under INK_ALONG of the light, it is `one_level` away from the strokes'
    blurred edges (module docstring)."""
    if low < DEEPEST * high:
        return False
    dark = small < (low + high) / 2
    window = stroke_window(small, BROAD)
    broad = opening(dark.astype(np.uint8), window).astype(bool)
    meets = border_of(broad)
    if meets.sum() < ALONG * border_of(dark).sum() or meets.mean() < SHADOW_SHARE:
        return False
    strokes = small < RELATIVE * low
    if low < INK_ALONG * high:  # as dark as ink along a tight crop's border: it must be one level, as ink coarsely scanned is not
        edges = ndimage.binary_dilation(strokes, iterations=max(1, min(small.shape) // EDGE))
        if not one_level(small[broad & ~edges], low, high):
            return False
    return narrow_share(strokes, window) > FEW_STROKES


def one_level(values: np.ndarray, low: float, high: float) -> bool:
    """Whether `values` (a shadow's pixels, strokes aside) are one level: their middle 80% within
    FLAT of the step between the border's two levels `low` < `high`, or, where a soft edge spreads
    them towards the light, their 10th percentile within FLOOR of the step below their median (the
    paper in a shadow is as even as the lit paper; ink touching the border, a digit scanned
    coarsely in many greys, spreads both ways)."""
    if not values.size:
        return False
    tenth, middle, ninetieth = np.percentile(values, [10, 50, 90])
    return bool(ninetieth - tenth <= FLAT * (high - low) or middle - tenth <= FLOOR * (high - low))


def shadowed(small: np.ndarray) -> bool:
    """Whether a shadow's edge crosses the border of ink image `small` (`shadow_light` finds one)."""
    return shadow_light(small) is not None


def shadow_light(small: np.ndarray) -> float | None:
    """The share of the lit paper's light let through by a shadow whose edge crosses the border of
    ink image `small` (ink bright, from light paper: the shadow is the higher level), or None where
    none does: the border holds two levels, the darker flat (its middle half within a quarter of
    the step), a ring an eighth of the way in holds the same darker level (a shadow goes on inwards;
    a tight crop's faint edges on its border do not), and either the darker lets through at least
    INK_ALONG of the lighter's light (ink along a tight crop's border lets through far less) and
    strokes lie beyond both levels (grey ink along a tight crop's border is itself the strongest
    thing in the image), or it is a `broad_shadow`."""
    border = border_of(small)
    levels = two_levels(border)
    if levels is None:
        return None
    light = (1 - levels[1]) / max(1 - levels[0], 1e-6)
    darker = border[border > levels[0] + (levels[1] - levels[0]) / 2]
    if np.subtract(*np.percentile(darker, [75, 25])) > (levels[1] - levels[0]) / 4:
        return None  # a shadow is one level along the border; ink touching it (a digit scanned coarsely) is many
    inset = min(small.shape) // 8
    inner = two_levels(border_of(small[inset: small.shape[0] - inset, inset: small.shape[1] - inset])) if inset else None
    if inner is None or abs(inner[1] - levels[1]) >= SHADOW_STEP / 2:
        return None
    smooth = smoothed(small)
    if light >= INK_ALONG:
        fainter, stronger = strokes_beyond(smooth, *levels, levels[1])
        if stronger > max(2 * fainter, STROKES):
            return light
    return light if broad_shadow(1 - smooth, 1 - levels[1], 1 - levels[0]) else None  # (1 - a median is the median of 1 -)


def paper_frame(small: np.ndarray, k: int, paper: float, shadow: float) -> np.ndarray:
    """`small` padded by k on every side with the paper along its border, repeated outwards: each
    border line opened along itself by a window of k, so that ink crossing the border (narrower
    than the window) goes and a shadow crossing it (wider) stays; where what stays lets through
    under INK_ALONG of the `paper`'s light (ink along the border of a tight crop), or under a
    deeper `shadow` (the share of the light it lets through) RELATIVE of its light, `paper` instead."""
    least = INK_ALONG if shadow >= INK_ALONG else RELATIVE * shadow

    def line(values: np.ndarray) -> np.ndarray:
        opened = opening(values, k)  # along the line alone
        return np.where(1 - opened >= least * (1 - paper), opened, paper)

    framed = small.copy()
    framed[0], framed[-1] = line(small[0]), line(small[-1])
    framed[:, 0], framed[:, -1] = line(small[:, 0]), line(small[:, -1])
    padded = np.pad(framed, k, mode="edge")
    padded[k:-k, k:-k] = small
    return padded
