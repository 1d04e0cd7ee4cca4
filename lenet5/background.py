"""The paper under the ink: its level, pixel by pixel, so that uneven light and shadows are not
read as ink and bold strokes or a tight crop are not read as paper; and the strokes' own level."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from lenet5.imaging import at_side, border_of, opening, otsu
from lenet5.shadow import paper_frame, shadow_light, two_levels

FLAT_PAPER = 0.06  # paper within this of a smooth surface is evenly lit
LEAST_LIGHT = 0.05  # the paper's light below which ink is not taken as a share of it
GRAIN = 4.0  # the sensor's noise reaches this many times its spread above the paper's level (an opening: along its darkest)
LAG = 4  # ... measured between pixels this far apart along a row (a JPEG's noise comes in blotches)
NOISE_FLOOR = 0.12  # ink weaker than this share of the strokes' is the paper's noise (under a shadow: of its light)
EDGES = 0.5  # noise said to reach (GRAIN times) over this share of the strokes' level is their edges: strokes filling a
# small picture, its border too (a bold ring cropped tight to 20 px: 4 x 0.29 against 0.82, all its ink lost); noisy
# held-out photos and dim pages reach at most 0.41
LINE_RUNS = 32  # printed lines cross the border in runs no longer than this share of its side (1/32)
LEAST_RUN = 6  # ... or than this many pixels (a 1 px rule enlarged 3x and blurred is 5 px: at 1/32 a strip 132 px high
# allowed 4, its border was taken for unclean, and the opening that took its place hollowed bold strokes)
LINE_TILT = 0.05  # ... and meet the opposite side within this share of it of where they left
GLARE, GLARE_BLUR = 0.02, 64  # the share of the page lighter than its border's paper beyond which that light is a flash's glare
GLARE_EDGE = 0.1  # ... where less than this share of the border is so


def stroke_level(ink: np.ndarray) -> float:
    """The ink's level in the strokes: the 99th percentile of the pixels above Otsu's threshold,
    so that a digit covering 0.1% of a photo, not its paper's noise, decides it."""
    values = ink.ravel()[:: max(1, ink.size // 1_000_000)]  # a million pixels say it as well as all
    top = float(values.max())
    if top <= 0:
        return 0.0
    strong = values[values > otsu(values)]
    return float(np.percentile(strong, 99)) if len(strong) else top


def paper_level(ink: np.ndarray) -> np.ndarray:
    """The background of an ink image (ink bright), never above the ink itself. Where the image's
    border is clean paper (at most evenly lit: `border_surface` fits it), the paper's level is that
    smooth surface, whatever the strokes' width or how close the crop. Elsewhere it is local:
    `local_level`, which carries a shadow whose edge crosses the border on past it (`shadow_light`)."""
    return _paper(ink)[0]


def above_paper(ink: np.ndarray, light_paper: bool) -> np.ndarray:
    """Ink (bright, H x W) less its paper's level, never below 0. On light paper the sensor's noise
    reaches GRAIN times its spread above the paper's level (an opening, which runs along the noise's
    darkest); where the strokes' contrast is low (a dim photo, pencil) or the paper's light is (a deep
    shadow), that is as strong as the strokes' edges, so what of it lies beyond NOISE_FLOOR of the
    strokes' level is taken off first (`grain`; nothing without noise). The noise is the least of
    that measured on the paper (`noise`) and along the border (`noise_along_border`): a tight crop's
    strokes fill most of what is taken for its paper, and their blurred edges read as noise there;
    where they fill a small picture, its border too, and noise said to reach over EDGES of the
    strokes' level is taken for their edges: nothing is taken off.
    Where a shadow crosses light paper, each pixel's ink is taken as a share of its paper's light
    there: a shadow that lets through half the light halves the strokes in it too, and the eye reads
    them as strong as the others; the grain is then measured against that light, and the noise on
    the paper alone."""
    level, shadow = _paper(ink)
    if not light_paper:
        return np.clip(ink - level, 0, None)
    residual = ink - level
    paper = _unmarked(residual)
    if not shadow:
        above = np.clip(residual, 0, None)
        along = noise_along_border(ink, paper)
        if along == 0:  # drawn without noise (most pictures not photographed): nothing to take off
            return above
        deviation, strokes = min(noise(ink, paper=paper), along), stroke_level(above)
        if GRAIN * deviation > EDGES * strokes:  # strokes filling a small picture: their edges measured, not noise
            return above
        return np.clip(above - float(grain(deviation, strokes)), 0, None)  # (float32 kept)
    light = 1 - level
    taken = grain(noise(ink, paper=paper), light)
    return np.clip(residual - taken, 0, None) / np.maximum(light - taken, LEAST_LIGHT)


def grain(deviation: float, strokes: float | np.ndarray) -> float | np.ndarray:
    """How much of the paper's noise (its standard deviation `deviation`) to take off ink less its
    paper's level: what of GRAIN times it lies beyond NOISE_FLOOR of `strokes` (the strokes' level,
    or the paper's light pixel by pixel); 0 where the noise stays under it (on paper lit at 0.9, a
    deviation under about 0.027)."""
    return np.clip(GRAIN * deviation - NOISE_FLOOR * strokes, 0, None)


def _unmarked(residual: np.ndarray) -> np.ndarray:
    """Where `residual` (ink less its paper's level) is paper: within 3 robust standard deviations
    of its median (strokes lie far beyond; a threshold between two classes, as Otsu's, would cut
    through the noise where the strokes are few)."""
    values = residual.ravel()[:: max(1, residual.size // 1_000_000)]
    middle = float(np.median(values))
    return residual < middle + 3 * spread(values - middle)


def noise(image: np.ndarray, paper: np.ndarray | None = None) -> float:
    """The sensor's noise in `image` (H, W) as a standard deviation: the spread of the differences
    between pixels LAG apart along each row (a JPEG's blotches of noise are wider than a pixel),
    both on the `paper` (a boolean mask; all of the image if None), taken robustly (`spread`, over
    sqrt(2)); paper's light changes too slowly to move it. 0 for an image drawn without noise. Rows
    are skipped on images over a million pixels (a million to two million differences are read)."""
    every = max(1, image.size // 1_000_000)
    rows = image[::every].astype(np.float32)
    steps = rows[:, LAG:] - rows[:, :-LAG]
    if paper is not None:
        steps = steps[paper[::every, LAG:] & paper[::every, :-LAG]]
    return _steps_spread(steps)


def noise_along_border(image: np.ndarray, paper: np.ndarray, width: int = 3) -> float:
    """`noise` measured along the border alone: the differences LAG apart along each of its sides'
    `width` outermost rows (or columns), both on the `paper` (a boolean mask), taken robustly. Where
    the strokes fill the picture (a tight crop), the paper along its border is still paper."""
    sides = [(image[:width], paper[:width]), (image[-width:], paper[-width:]),
             (image[:, :width].T, paper[:, :width].T), (image[:, -width:].T, paper[:, -width:].T)]
    return _steps_spread(np.concatenate([(side[:, LAG:] - side[:, :-LAG])[mask[:, LAG:] & mask[:, :-LAG]]
                                         for side, mask in sides]))


def _steps_spread(steps: np.ndarray) -> float:
    """The noise's standard deviation from differences between its pixels (`spread` of them, over
    sqrt(2), in float32 as measured); 0 where there are none."""
    return float(1.4826 * np.median(np.abs(steps)) / np.sqrt(2)) if steps.size else 0.0


def spread(deviations: np.ndarray) -> float:
    """A robust standard deviation of `deviations` (from a level: a median, a fit): 1.4826 times
    their median absolute value (a normal distribution's standard deviation; ink and strokes among
    them, a minority, do not move it)."""
    return 1.4826 * float(np.median(np.abs(deviations)))


def _paper(ink: np.ndarray) -> tuple[np.ndarray, bool]:
    """`paper_level` and whether a shadow crosses the border (`shadow_light`), at BACKGROUND_SIDE."""
    h, w = ink.shape
    small = at_side(ink)
    shadow = shadow_light(small)
    coef = None if shadow is not None else border_fit(small)
    if coef is not None and not glare(small - quadratic(coef, small.shape)):
        surface = quadratic(coef, (h, w))
        return np.minimum(surface + paper_offset(ink - surface), ink), False
    full = Image.fromarray(local_level(small, shadow).astype(np.float32), mode="F").resize((w, h), Image.Resampling.BILINEAR)
    return np.minimum(np.asarray(full, dtype=np.float32), ink), shadow is not None


def glare(residual: np.ndarray) -> bool:
    """Whether light brighter than the paper (a flash's glare) lies on the page: more than GLARE of
    `residual` (= ink - the border's surface, at BACKGROUND_SIDE), smoothed over GLARE_BLUR of its
    side (a glare is broad and smooth; the paper's texture and grain average out), below the surface
    by more than FLAT_PAPER, and little of the border so (the lit side of a deep shadow, which the
    surface fits, reaches it)."""
    if not (residual < -FLAT_PAPER).any():  # a weighted mean of values none of which is so low is not so low either
        # (residual is float32: scipy sums in double, so its rounding cannot carry a mean of -0.06 below it)
        return False
    bright = ndimage.gaussian_filter(residual, max(residual.shape) / GLARE_BLUR) < -FLAT_PAPER
    return bool(bright.mean() > GLARE and border_of(bright).mean() < GLARE_EDGE)


def paper_offset(residual: np.ndarray) -> float:
    """How far the paper inside the image lies above a fitted level (`residual` = ink - level),
    grain included: the median of the paper class (below Otsu's threshold) plus its spread.
    A border that is lighter than the page (a scanner's frame) would otherwise leave a haze."""
    values = residual.ravel()[:: max(1, residual.size // 1_000_000)]
    paper = values[values < otsu(values)]
    if len(paper) == 0:
        return 0.0
    middle = float(np.median(paper))
    return middle + spread(paper - middle)


def _quadratic_terms(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, ys * ys, xs * ys], axis=-1)


def border_surface(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The paper's level as a quadratic surface over the image (light falling off, a vignette),
    fitted to the outermost pixels of `small` (float32 ink, bright ink: `border_fit`) and evaluated
    at full size `shape`; None where the border is not clean paper."""
    coef = border_fit(small)
    return None if coef is None else quadratic(coef, shape)


def border_fit(small: np.ndarray) -> np.ndarray | None:
    """The coefficients (6,) of `border_surface`'s quadratic, or None where the border is not clean
    paper. Ink that touches the border (a tight crop)
    lies above the surface and is left out of the fit; the border is clean when at least half of it
    lies on the surface, nothing lies clearly below it (lighter paper than the fit: a shadow
    the fit sits in), and what lies above is as dark as the strokes (ink, not a shadow)."""
    h, w = small.shape
    if min(h, w) < 4:
        return None
    ring = np.zeros((h, w), bool)
    ring[[0, -1], :] = ring[:, [0, -1]] = True
    ys, xs = np.nonzero(ring)
    values = small[ys, xs].astype(np.float64)
    terms = _quadratic_terms(2 * ys / (h - 1) - 1, 2 * xs / (w - 1) - 1)
    inside = values <= np.median(values)
    for _ in range(4):
        coef, *_ = np.linalg.lstsq(terms[inside], values[inside], rcond=None)
        residual = values - terms @ coef
        noise = spread(residual[inside])  # the paper's grain, as a standard deviation
        tolerance = max(FLAT_PAPER, 4 * noise)
        inside = np.abs(residual) < tolerance
    above = residual >= tolerance

    def strokes() -> float:  # how far the strokes stand above the paper (asked only where the border holds ink)
        return float(np.percentile(small, 99.5)) - float(np.median(values[inside])) if inside.any() else 0.0

    clean = (inside.mean() >= 0.5 and (residual <= -tolerance).mean() < 0.02
             and (not above.any() or np.median(residual[above]) >= 0.6 * strokes() or _ruled(above, ys, xs, (h, w))))
    return coef if clean else None


def quadratic(coef: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The quadratic surface of `border_fit`'s coefficients over an image of `shape` (H, W), float32."""
    big_h, big_w = shape
    y = np.linspace(-1, 1, big_h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, big_w, dtype=np.float32)[None, :]
    c = coef.astype(np.float32)
    return c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * y * y + c[5] * x * y


def _ruled(above: np.ndarray, ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> bool:
    """Whether the pixels of the border (at ys, xs of an image of `shape`) that lie above its surface
    are where printed lines cross the page (ruled or graph paper): short runs only (LINE_RUNS, LEAST_RUN), each
    met by one on the opposite side at about the same place (a line straight across; noise or a
    shadow is not so), and at least one such line."""
    marked = np.zeros(shape, bool)
    marked[ys[above], xs[above]] = True
    longest = max(LEAST_RUN, min(shape) // LINE_RUNS)
    lines = 0
    for one, other in ((marked[:, 0], marked[:, -1]), (marked[0], marked[-1])):
        places = [_runs(one), _runs(other)]
        if any(len(p) and p[:, 1].max() > longest for p in places):
            return False
        reach = LINE_TILT * len(one) + 2
        for p, q in (places, places[::-1]):
            if any(np.abs(q[:, 0] - at).min(initial=np.inf) > reach for at in p[:, 0]):
                return False
        lines += len(places[0])
    return lines > 0


def _runs(marked: np.ndarray) -> np.ndarray:
    """The runs of a boolean line (N,): (middle, length) for each, (runs, 2)."""
    edges = np.diff(np.pad(marked, 1).astype(np.int8))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return np.stack([(starts + stops - 1) / 2, stops - starts], axis=1)


def local_level(small: np.ndarray, shadow: float | None = None) -> np.ndarray:
    """The paper's level pixel by pixel: a grey-level opening (a minimum, then a maximum filter)
    whose window is wider than the strokes, so strokes go and shadows keep their edges. The image
    is padded with its border's paper (ink cropped tight still has paper beside it), and with a
    `shadow` across the border, with that shadow carried on past it (`paper_frame`: else the
    window cannot fit in the shadow's corners there, and they are read as ink); the window is
    doubled while doubling still fills in much of the strokes (a bold stroke in a narrow window
    comes out hollow), and stays narrower than the shadow (`shadow_breadth`)."""
    border = border_of(small)
    paper = float(np.percentile(border, 25))
    side = max(small.shape)

    levels: dict[int, np.ndarray] = {}  # window -> its opening, each computed once (the one chosen is returned)

    def level(k: int) -> np.ndarray:
        if k not in levels:
            padded = paper_frame(small, k, paper, shadow) if shadow is not None else np.pad(small, k, constant_values=paper)
            levels[k] = opening(padded, k)[k:-k, k:-k]
        return levels[k]

    def strong(k: int) -> int:  # pixels the opening takes out at more than half its strongest
        top = small - level(k)
        return int((top > 0.5 * top.max()).sum()) if top.max() > 0 else 0

    widest = side if shadow is None else shadow_breadth(small)
    k = max(3, side // 16 | 1)
    found = strong(k)
    while 2 * k + 1 <= widest and found < 0.6 * (wider := strong(2 * k + 1)):
        k, found = 2 * k + 1, wider
    return level(k)


def shadow_breadth(small: np.ndarray) -> int:
    """How wide the shadow crossing the border of ink image `small` is at its widest (pixels): twice
    the largest distance from its edge in the region within half a step of its level (the higher
    of the border's `two_levels`), halfway to the lit paper on one side and to full ink on the other
    (a stroke touching the shadow would widen it); the whole side where none is found. The opening's
    window stays under it, else a band of shadow across the page is opened away with the strokes
    and read as ink."""
    levels = two_levels(border_of(small))
    if levels is None:
        return max(small.shape)
    lit, level = levels
    dark = (small > (lit + level) / 2) & (small < (level + 1) / 2)
    widest = int(2 * ndimage.distance_transform_edt(dark).max())
    return widest if widest > 0 else max(small.shape)


