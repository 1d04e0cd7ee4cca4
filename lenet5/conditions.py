"""The ways people write and scan digits, as image files made from MNIST digits.

Each condition turns one 28x28 MNIST digit (light ink on black) into the picture a person would
hand to `lenet5 predict`: dark ink on light paper, at some size, with some pen, crop, scan
resolution, light or compression. `benchmarks/people.py` reads every condition with every
shipped model; the tests use a few. Pens are simulated at 5x (140 px for the digit's 28 px
field, where MNIST's stroke is about 12 px wide): a marker dilates the ink with a disc, a fine
pen erodes it. Scans average the digit's 32x32 field (MNIST's 28x28 padded by 2, as LeNet-5
sees it) in blocks, then show the result enlarged, as a scanner's file opened in a viewer.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from lenet5.background import border_of
from lenet5.strokes import disc_filter

SCALE = 5  # the digit's 28 px field is drawn 140 px wide
PAPER, INK = 240, 25  # grey levels of paper and of full ink


def enlarged(digit: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 (28, 28) -> float ink [0, 1] (28 scale, 28 scale), bilinear."""
    size = 28 * scale
    return np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255


def on_paper(ink: np.ndarray, canvas: tuple[int, int] | None = None, at: tuple[int, int] = (0, 0)) -> Image.Image:
    """Ink [0, 1] (h, w) as dark ink on light paper; on a larger canvas (H, W) at (top, left)."""
    if canvas is not None:
        page = np.zeros(canvas, np.float32)
        page[at[0]: at[0] + ink.shape[0], at[1]: at[1] + ink.shape[1]] = ink
        ink = page
    return Image.fromarray(np.round(PAPER - (PAPER - INK) * np.clip(ink, 0, 1)).astype(np.uint8))


def with_margin(ink: np.ndarray, margin: int = 60) -> Image.Image:
    h, w = ink.shape
    return on_paper(ink, (h + 2 * margin, w + 2 * margin), (margin, margin))


def pen(radius: int) -> Callable[[np.ndarray, np.random.Generator], Image.Image]:
    """Strokes widened (radius > 0, a marker) or narrowed (< 0, a fine pen) by `radius` px per
    side at 5x, on a page with a margin."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        ink = enlarged(digit)
        ink = disc_filter(ink, radius) if radius > 0 else disc_filter(ink, -radius, np.minimum)
        return with_margin(ink)
    return draw


def tight_crop(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """5x, cropped to the ink's bounding box: no paper around the digit."""
    ink = enlarged(digit)
    rows, cols = np.nonzero(ink > 0.25)
    return on_paper(ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1])


def scan(side: int, shown: int = 112, resample=Image.Resampling.NEAREST) -> Callable:
    """The digit's 32x32 field averaged down to side x side (a coarse scan), shown at `shown` px."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        field = Image.fromarray(np.pad(digit, 2))
        small = field.resize((side, side), Image.Resampling.BOX)
        ink = np.asarray(small.resize((shown, shown), resample), np.float32) / 255
        return on_paper(ink)
    return draw


def tiny_file(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A 20x20 file: the digit's field shrunk, nothing more."""
    return on_paper(np.asarray(Image.fromarray(digit).resize((20, 20), Image.Resampling.BOX), np.float32) / 255)


def photo(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A 4000x3000 photo of a page with the digit in a corner (about 250 px high): light falling
    off across the page, sensor noise."""
    ink = enlarged(digit, 12)  # 336 px field, the digit ~240 px high
    height, width = 3000, 4000
    top, left = int(rng.integers(80, 400)), int(rng.integers(width - 800, width - 400))
    ys, xs = np.ogrid[:height, :width]
    light = 0.75 + 0.25 * (xs / width) * (1 - 0.4 * ys / height)  # brighter towards the digit's corner
    page = np.zeros((height, width), np.float32)
    page[top: top + ink.shape[0], left: left + ink.shape[1]] = ink
    grey = light * (PAPER - (PAPER - INK) * page) + rng.normal(0, 4, (height, width)).astype(np.float32)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def uneven_light(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Normal strokes on a page lit from one corner: the paper's level falls by up to half across it."""
    image = np.asarray(with_margin(enlarged(digit)), np.float32)
    h, w = image.shape
    ys, xs = np.ogrid[:h, :w]
    a = rng.uniform(0, 2 * np.pi)
    slope = (np.cos(a) * (xs / w - 0.5) + np.sin(a) * (ys / h - 0.5))  # in [-0.7, 0.7]
    return Image.fromarray(np.clip(image * (0.75 + 0.35 * slope), 0, 255).astype(np.uint8))


def hard_shadow(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Normal strokes on a page half in shadow (a hard edge through the digit) and lit from one side."""
    image = np.asarray(with_margin(enlarged(digit)), np.float32)
    h, w = image.shape
    ys, xs = np.ogrid[:h, :w]
    shade = np.where(xs + 0.3 * ys < w * rng.uniform(0.35, 0.65), 0.55, 1.0) * (0.8 + 0.2 * ys / h)
    return Image.fromarray(np.clip(image * shade, 0, 255).astype(np.uint8))


def shadow(depth: float, soft: float = 0.0, curved: bool = False, stripe: bool = False, tight: bool = False) -> Callable:
    """A shadow made otherwise than `hard_shadow`'s: its edge at any angle, within a fifth of the
    page's width of the middle, letting `depth` of the light through; its edge blurred by `soft` px
    (a penumbra), bent (`curved`), or only a band across the page a quarter of its width
    (`stripe`); on the page with a margin, or on a `tight` crop."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        image = np.asarray(tight_crop(digit, rng) if tight else with_margin(enlarged(digit)), np.float32)
        h, w = image.shape
        ys, xs = np.mgrid[:h, :w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        across = np.cos(a) * (xs - w / 2) + np.sin(a) * (ys - h / 2)  # distance from the middle, across the edge
        if curved:
            across += 0.004 * (np.sin(a) * (xs - w / 2) - np.cos(a) * (ys - h / 2)) ** 2
        edge = rng.uniform(-0.2, 0.2) * w
        shaded = (np.abs(across - edge) < 0.12 * w) if stripe else across < edge
        mask = ndimage.gaussian_filter(shaded.astype(np.float32), soft) if soft else shaded.astype(np.float32)
        return Image.fromarray(np.clip(image * (1 - (1 - depth) * mask), 0, 255).astype(np.uint8))
    return draw


def rotated(degrees: float) -> Callable:
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        ink = Image.fromarray((enlarged(digit) * 255).astype(np.uint8)).rotate(degrees, Image.Resampling.BILINEAR, expand=True)
        return with_margin(np.asarray(ink, np.float32) / 255)
    return draw


def jpeg(quality: int) -> Callable:
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        buffer = io.BytesIO()
        with_margin(enlarged(digit)).save(buffer, format="JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue()))
    return draw


@dataclass(frozen=True)
class Condition:
    name: str
    draw: Callable[[np.ndarray, np.random.Generator], Image.Image]
    description: str


CONDITIONS = [
    Condition("mnist-like", pen(0), "140x140, MNIST's stroke, a margin"),
    Condition("tight crop", tight_crop, "5x, cropped to the ink"),
    Condition("marker 1.5x", pen(3), "strokes about 1.5x as wide"),
    Condition("marker 2x", pen(6), "strokes about twice as wide"),
    Condition("marker 3x", pen(12), "strokes about three times as wide"),
    Condition("fine pen", pen(-3), "strokes about half as wide"),
    Condition("scan 8x8", scan(8), "32x32 field averaged in 4x4 blocks, shown at 112x112"),
    Condition("scan 12x12", scan(12), "the field averaged to 12x12, shown at 112x112"),
    Condition("scan 16x16", scan(16), "the field averaged in 2x2 blocks, shown at 112x112"),
    Condition("tiny 20x20", tiny_file, "a 20x20 file"),
    Condition("photo", photo, "4000x3000, the digit in a corner, uneven light, noise"),
    Condition("uneven light", uneven_light, "light falling off by up to half across the page"),
    Condition("hard shadow", hard_shadow, "half the page in a hard-edged shadow, light falling off"),
    Condition("jpeg q20", jpeg(20), "JPEG at quality 20"),
    Condition("rotated +15", rotated(15), "turned 15 degrees anticlockwise"),
    Condition("rotated -15", rotated(-15), "turned 15 degrees clockwise"),
]


# Shadows made otherwise than "hard shadow" above (`benchmarks/people.py --shadows`), so that its figure
# is not the only check of how shadows are taken out.
SHADOWS = [
    Condition("shadow at any angle", shadow(0.55), "a hard edge at any angle near the middle, 0.55 of the light"),
    Condition("deep shadow", shadow(0.3), "the same, 0.3 of the light"),
    Condition("light shadow", shadow(0.7), "the same, 0.7 of the light"),
    Condition("soft shadow", shadow(0.5, soft=4), "the edge blurred over about 10 px, 0.5 of the light"),
    Condition("curved shadow", shadow(0.5, curved=True), "a bent edge, 0.5 of the light"),
    Condition("stripe of shadow", shadow(0.5, stripe=True), "a band a quarter of the page wide, 0.5 of the light"),
    Condition("shadow on a tight crop", shadow(0.55, tight=True), "cropped to the ink, then shaded at any angle"),
]


def ruled(spacing: int, level: int, width: int) -> Callable:
    """Paper ruled across every `spacing` px (at 5x: MNIST's digit is 100 px high) by lines `width` px
    thick of grey `level` (paper 240), the first at a random height."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        image = np.asarray(with_margin(enlarged(digit)), np.float32).copy()
        for y in range(int(rng.integers(0, spacing)), image.shape[0], spacing):
            image[y: y + width] = np.minimum(image[y: y + width], level)
        return Image.fromarray(image.astype(np.uint8))
    return draw


def graph_paper(spacing: int, level: int) -> Callable:
    """Paper squared every `spacing` px both ways by lines 1 px thick of grey `level`."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        image = np.asarray(with_margin(enlarged(digit)), np.float32).copy()
        top, left = rng.integers(0, spacing, 2)
        image[top::spacing] = np.minimum(image[top::spacing], level)
        image[:, left::spacing] = np.minimum(image[:, left::spacing], level)
        return Image.fromarray(image.astype(np.uint8))
    return draw


def boxed(gaps: tuple[int, int], width: int = 3) -> Callable:
    """The digit written in a form's box, `width` px thick, whose sides stand a random gaps[0] to
    gaps[1] px off the ink on each side."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        ink = enlarged(digit)
        margin = 60
        image = np.asarray(with_margin(ink, margin), np.float32).copy()
        ys, xs = np.nonzero(ink > 0.3)
        top, bottom, left, right = rng.integers(gaps[0], gaps[1], 4)
        top, bottom = margin + ys.min() - top, margin + ys.max() + bottom
        left, right = margin + xs.min() - left, margin + xs.max() + right
        image[top: top + width, left: right] = image[bottom - width: bottom, left: right] = INK
        image[top: bottom, left: left + width] = image[top: bottom, right - width: right] = INK
        return Image.fromarray(image.astype(np.uint8))
    return draw


def written_on_line(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit written on a printed line across the page (a form's line to write on), 2 px thick,
    touching the ink's lowest point or a few px below it."""
    ink = enlarged(digit)
    margin = 60
    image = np.asarray(with_margin(ink, margin), np.float32).copy()
    y = margin + np.nonzero(ink > 0.3)[0].max() + int(rng.integers(-2, 8))
    image[y: y + 2] = INK
    return Image.fromarray(image.astype(np.uint8))


def underlined(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit underlined by hand: a straight stroke 4 px thick a little wider than the digit,
    3 to 12 px below it."""
    ink = enlarged(digit)
    margin = 60
    image = np.asarray(with_margin(ink, margin), np.float32).copy()
    ys, xs = np.nonzero(ink > 0.3)
    y = margin + ys.max() + int(rng.integers(3, 12))
    image[y: y + 4, margin + xs.min() - 10: margin + xs.max() + 10] = INK
    return Image.fromarray(image.astype(np.uint8))


def turned(draw: Callable, degrees: float) -> Callable:
    """The page that `draw` makes, photographed turned by `degrees` (anticlockwise), paper filling the corners."""
    def turned_draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        return draw(digit, rng).rotate(degrees, Image.Resampling.BILINEAR, fillcolor=PAPER)
    return turned_draw


def row_of_boxes(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit in one of a form's row of boxes, 120 px wide, 3 px rails across the whole crop, 2 px walls."""
    ink = enlarged(digit)
    margin = 60
    image = np.asarray(with_margin(ink, margin), np.float32).copy()
    ys, xs = np.nonzero(ink > 0.3)
    top, bottom = margin + ys.min() - 12, margin + ys.max() + 12
    left = margin + (xs.min() + xs.max()) // 2 - 60 + int(rng.integers(-10, 11))
    image[top: top + 3] = image[bottom - 3: bottom] = INK
    for x in range(left % 120, image.shape[1], 120):
        image[top: bottom, x: x + 2] = INK
    return Image.fromarray(image.astype(np.uint8))


def dotted_line(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit on a dotted line to write on: 3 px dots every 8 px across the page, at the digit's foot."""
    ink = enlarged(digit)
    margin = 60
    image = np.asarray(with_margin(ink, margin), np.float32).copy()
    y = margin + np.nonzero(ink > 0.3)[0].max() + int(rng.integers(0, 6))
    for x in range(0, image.shape[1], 8):
        image[y: y + 3, x: x + 3] = INK
    return Image.fromarray(image.astype(np.uint8))


# Printed lines among the digits (`benchmarks/people.py --lines`): the paper and forms people write on.
LINES = [
    Condition("ruled paper", ruled(45, 170, 2), "grey rules 2 px thick, 45 px apart (the digit is 100 px high)"),
    Condition("dark rules", ruled(45, 110, 3), "the same, darker and 3 px thick"),
    Condition("graph paper", graph_paper(28, 190), "light squares of 28 px"),
    Condition("dark squares", graph_paper(28, 140), "the same, darker"),
    Condition("a form's box", boxed((5, 25)), "a black box 3 px thick, 5-25 px off the ink"),
    Condition("a tight box", boxed((2, 8)), "the same, 2-8 px off the ink"),
    Condition("a line to write on", written_on_line, "a black line 2 px thick across the page, at the digit's foot"),
    Condition("underlined by hand", underlined, "a stroke 4 px thick under the digit, a little wider than it"),
    Condition("rules turned 3 degrees", turned(ruled(45, 110, 3), 3), "dark rules, the page photographed turned"),
    Condition("a box turned 2 degrees", turned(boxed((5, 25)), -2), "a form's box, the page photographed turned"),
    Condition("a row of boxes", row_of_boxes, "a form's boxes 120 px wide side by side, cropped loosely"),
    Condition("a dotted line", dotted_line, "a line to write on of 3 px dots every 8 px"),
]


def on_a_surround(surround: Callable[[tuple[int, int], np.random.Generator], np.ndarray], turn: float,
                  tint: float = 1.0) -> Callable:
    """The page (the digit with its margin, its paper's light times `tint`: a yellow note is darker in
    grey) turned by up to `turn` degrees, photographed or scanned lying on `surround` (a grey image of
    the size asked), which fills 20-60% more of the picture each way, the page anywhere on it."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        degrees = float(rng.uniform(-turn, turn))
        page = with_margin(enlarged(digit)).point(lambda v: round(v * tint))
        page = page.rotate(degrees, Image.Resampling.BILINEAR, expand=True)
        held = Image.new("L", with_margin(enlarged(digit)).size, 255).rotate(degrees, Image.Resampling.BILINEAR, expand=True)
        h, w = page.height, page.width
        big_h, big_w = (np.array([h, w]) * rng.uniform(1.2, 1.6, 2)).astype(int)
        top, left = int(rng.integers(0, big_h - h + 1)), int(rng.integers(0, big_w - w + 1))
        picture = Image.fromarray(np.clip(surround((big_h, big_w), rng), 0, 255).astype(np.uint8))
        picture.paste(page, (left, top), held)
        return picture
    return draw


def scanner_lid(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A scanner's lid around a slip of paper: near black, the sensor's noise on it."""
    return rng.uniform(10, 45) + rng.normal(0, 3, shape)


def desk(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wooden desk: mid-dark, its grain in wavy bands."""
    ys, xs = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    period, wave = rng.uniform(4, 9), rng.uniform(30, 60)
    return rng.uniform(60, 120) + 20 * np.sin(ys / period + 1.5 * np.sin(xs / wave)) + rng.normal(0, 4, shape)


def grey_frame(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A scan with a grey band along two to four of its sides (the scanner's shadow at the page's
    edge), 6-30 px wide, of one level from 120 to 200 (paper 240), its inner edge a little soft."""
    image = np.asarray(with_margin(enlarged(digit)), np.float32).copy()
    band = np.zeros_like(image)
    sides = rng.permutation(4)[: int(rng.integers(2, 5))]
    for side in sides:
        k = int(rng.integers(6, 31))
        [band[:k], band[-k:], band[:, :k], band[:, -k:]][side][...] = 1
    band = ndimage.gaussian_filter(band, 1.0)
    return Image.fromarray(np.clip(image * (1 - band) + rng.uniform(120, 200) * band, 0, 255).astype(np.uint8))


def flash_glare(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A phone's flash reflected off glossy paper: an elliptical spot of light brighter than the
    paper (it saturates), somewhere on the digit, the rest of the page dimmer."""
    image = np.asarray(with_margin(enlarged(digit)), np.float32)
    h, w = image.shape
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    cy, cx = rng.uniform(0.35, 0.65, 2) * (h, w)
    a = rng.uniform(0, np.pi)
    u, v = np.cos(a) * (xs - cx) + np.sin(a) * (ys - cy), -np.sin(a) * (xs - cx) + np.cos(a) * (ys - cy)
    su, sv = rng.uniform(20, 50, 2)
    spot = rng.uniform(100, 180) * np.exp(-(u / su) ** 2 / 2 - (v / sv) ** 2 / 2)
    return Image.fromarray(np.clip(image * rng.uniform(0.7, 0.85) + spot, 0, 255).astype(np.uint8))


def ring_by_hand(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit circled by hand: a wobbly loop 12-35 px off the ink, 2-5 px thick, its ends
    overlapping or leaving a gap of up to 30 degrees."""
    ink = enlarged(digit)
    margin = 60
    page = with_margin(ink, margin)
    ys, xs = np.nonzero(ink > 0.3)
    cy, cx = margin + (ys.min() + ys.max()) / 2 + rng.uniform(-6, 6), margin + (xs.min() + xs.max()) / 2 + rng.uniform(-6, 6)
    ry, rx = (ys.max() - ys.min()) / 2 + rng.uniform(12, 35), (xs.max() - xs.min()) / 2 + rng.uniform(12, 35)
    start, reach = rng.uniform(0, 2 * np.pi), 2 * np.pi + rng.uniform(-np.pi / 6, np.pi / 8)
    t = np.linspace(start, start + reach, 200)
    wobble = 1 + 0.04 * np.sin(3 * t + rng.uniform(0, 2 * np.pi)) + 0.03 * (t - start) / reach
    points = list(zip(cx + rx * wobble * np.cos(t), cy + ry * wobble * np.sin(t)))
    ImageDraw.Draw(page).line(points, fill=INK, width=int(rng.integers(2, 6)), joint="curve")
    return page


def box_by_hand(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit boxed by hand: four straight strokes 2-4 px thick, 8-30 px off the ink, each a
    little askew, overshooting the corners by up to 8 px or falling 2 px short."""
    ink = enlarged(digit)
    margin = 60
    page = with_margin(ink, margin)
    ys, xs = np.nonzero(ink > 0.3)
    top, bottom = margin + ys.min() - rng.uniform(8, 30), margin + ys.max() + rng.uniform(8, 30)
    left, right = margin + xs.min() - rng.uniform(8, 30), margin + xs.max() + rng.uniform(8, 30)
    corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
    pen = ImageDraw.Draw(page)
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
        length = np.hypot(x1 - x0, y1 - y0)
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        before, after = rng.uniform(-2, 8, 2)
        ax, ay = rng.uniform(-3, 3, 2)
        pen.line([(x0 - before * dx + ax, y0 - before * dy + ay), (x1 + after * dx - ay, y1 + after * dy + ax)],
                 fill=INK, width=int(rng.integers(2, 5)))
    return page


# What lies around the digit (`benchmarks/people.py --around`): the page on a scanner's lid or a desk,
# a scan's grey frame, a flash's glare, a ring or a box drawn around the digit by hand.
AROUND = [
    Condition("a slip on a scanner's lid", on_a_surround(scanner_lid, 3), "the page on a near-black surround, turned up to 3 degrees"),
    Condition("a note on a desk", on_a_surround(desk, 10, tint=0.9), "a yellowish note on a wooden desk, turned up to 10 degrees"),
    Condition("a scan's grey frame", grey_frame, "grey bands 6-30 px wide along two to four sides"),
    Condition("a flash's glare", flash_glare, "a spot of light brighter than the paper on the digit"),
    Condition("circled by hand", ring_by_hand, "a wobbly loop around the digit, perhaps not closed"),
    Condition("boxed by hand", box_by_hand, "four strokes around the digit, a little askew"),
]


def condition(name: str) -> Condition:
    for c in CONDITIONS + SHADOWS + LINES + AROUND:
        if c.name == name:
            return c
    raise KeyError(name)


# Whole amounts (a line of digits as lenet5/data/strips.py scans it, uint8 grey, either polarity),
# written with another pen or scanned coarser. A strip is about 42 MNIST pixels high (28 px digits
# on a drifting baseline, a margin of 6), whatever its enlargement.
STRIP_HEIGHT = 42


def line_pen(image: np.ndarray, strokes: float) -> np.ndarray:
    """The line with its strokes about `strokes` times as wide (a marker: 2; a fine pen: 0.5)."""
    dark_on_light = np.median(border_of(image)) > 127
    grey = image.astype(np.float32) / 255
    ink = 1 - grey if dark_on_light else grey
    pixel = image.shape[0] / STRIP_HEIGHT  # one MNIST pixel, px
    radius = round(abs(strokes - 1) * 2.6 * pixel / 2)  # MNIST's median stroke: 2.6 px
    ink = disc_filter(ink, radius, np.maximum if strokes > 1 else np.minimum)
    return np.round(255 * (1 - ink if dark_on_light else ink)).astype(np.uint8)


def line_scan(image: np.ndarray, digit_height: int = 8) -> np.ndarray:
    """The line scanned so coarsely that its digits are `digit_height` px high, shown at its size
    by pixel repetition."""
    h, w = image.shape
    factor = digit_height / (20 * h / STRIP_HEIGHT)
    small = Image.fromarray(image).resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.BOX)
    return np.asarray(small.resize((w, h), Image.Resampling.NEAREST))


def line_shadow(image: np.ndarray) -> np.ndarray:
    """The line with the page left of a fixed slanted edge through its middle in a shadow that lets
    0.55 of the light through (as `hard_shadow` shades a digit, without its light falling off)."""
    h, w = image.shape
    ys, xs = np.ogrid[:h, :w]
    shade = np.where(xs + 0.3 * ys < 0.5 * w, 0.55, 1.0)
    return np.round(image * shade).astype(np.uint8)


def line_rules(image: np.ndarray, rows: tuple[float, ...]) -> np.ndarray:
    """The line on printed rules across it at `rows` (shares of its height), each a fifth of an MNIST
    pixel thick (at least 1 px) and as dark as its ink."""
    dark_on_light = np.median(border_of(image)) > 127
    out = image.copy()
    pixel = image.shape[0] / STRIP_HEIGHT
    ink = np.percentile(image, 1 if dark_on_light else 99)
    for row in rows:
        y = round(row * image.shape[0])
        out[y: y + max(1, round(0.2 * pixel))] = ink
    return out


def line_box(image: np.ndarray) -> np.ndarray:
    """The line in a printed box (a check's amount box): its sides a fifth of an MNIST pixel thick (at
    least 1 px), one MNIST pixel in from the image's edges, as dark as its ink."""
    dark_on_light = np.median(border_of(image)) > 127
    out = image.copy()
    pixel = image.shape[0] / STRIP_HEIGHT
    ink = np.percentile(image, 1 if dark_on_light else 99)
    inset, width = round(pixel), max(1, round(0.2 * pixel))
    h, w = image.shape
    out[inset: inset + width, inset: w - inset] = out[h - inset - width: h - inset, inset: w - inset] = ink
    out[inset: h - inset, inset: inset + width] = out[inset: h - inset, w - inset - width: w - inset] = ink
    return out


def dark_on_light_padded(image: np.ndarray, share: float) -> np.ndarray:
    """The line as dark ink on light paper (inverted if it is not), with `share` of its height of
    paper added on every side (float32 grey levels)."""
    grey = image.astype(np.float32) if np.median(border_of(image)) > 127 else 255 - image.astype(np.float32)
    pad = round(share * image.shape[0])
    return np.pad(grey, pad, constant_values=float(np.median(border_of(grey))))


def line_circled(image: np.ndarray) -> np.ndarray:
    """The amount circled by hand: half its height of paper added around it, an ellipse through it
    that clears the digits' corners, 1.5 MNIST pixels thick, as dark as the ink."""
    h, w = image.shape
    page = dark_on_light_padded(image, 0.5)
    pixel = h / STRIP_HEIGHT
    ink = float(np.percentile(page, 1))
    cy, cx = (page.shape[0] - 1) / 2, (page.shape[1] - 1) / 2
    a, b = w / 2 + 0.4 * h, 0.9 * h
    ys, xs = np.mgrid[: page.shape[0], : page.shape[1]]
    r = np.hypot((ys - cy) / b, (xs - cx) / a)
    page[np.abs(r - 1) * b < max(1.0, 0.75 * pixel)] = ink
    return np.round(page).astype(np.uint8)


def line_on_a_desk(image: np.ndarray) -> np.ndarray:
    """The amount's slip (half its height of paper added around it) photographed on a wooden desk
    that shows for its height beyond the slip on every side: mid-dark, its grain in wavy bands."""
    page = dark_on_light_padded(image, 0.5)
    pad = image.shape[0]
    ys, xs = np.mgrid[: page.shape[0] + 2 * pad, : page.shape[1] + 2 * pad].astype(np.float32)
    pixel = image.shape[0] / STRIP_HEIGHT
    picture = 90 + 20 * np.sin(ys / (2 * pixel) + 1.5 * np.sin(xs / (15 * pixel)))
    picture[pad: pad + page.shape[0], pad: pad + page.shape[1]] = page
    return np.round(picture).astype(np.uint8)


LINE_CONDITIONS = {
    "normal": lambda image: image,
    "marker": lambda image: line_pen(image, 2.0),
    "fine pen": lambda image: line_pen(image, 0.5),
    "scan 10 px": lambda image: line_scan(image, 10),
    "hard shadow": line_shadow,
    "underlined": lambda image: line_rules(image, (0.93,)),
    "ruled": lambda image: line_rules(image, (0.05, 0.93)),
    "in a box": line_box,
    "circled": line_circled,
    "on a desk": line_on_a_desk,
}
