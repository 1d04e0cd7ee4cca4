"""What lies around the digit (`benchmarks/people.py --around`): the page on a scanner's lid, a desk
or a white table, a scan's grey frame, a flash's glare, a ring or a box drawn around the digit by
hand, dust, grainy paper, the neighbours of a digit cut out of a number, a note casting a shadow."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from lenet5.conditions.drawing import INK, PAPER, Condition, enlarged, on_paper, with_margin


def on_a_surround(surround: Callable[[tuple[int, int], np.random.Generator], np.ndarray], turn: float,
                  tint: float = 1.0, drop: tuple[float, float] | None = None) -> Callable:
    """The page (the digit with its margin, its paper's light times `tint`: a yellow note is darker in
    grey) turned by up to `turn` degrees, photographed or scanned lying on `surround` (a grey image of
    the size asked), which fills 20-60% more of the picture each way, the page anywhere on it. With
    `drop` (least, most), the page is lifted a little off the table and casts a soft shadow that
    deep (the share of the light it takes), 2-8 px long in any direction, and the light falls by
    5-15% across the whole picture from any side (a lamp beside the desk)."""
    def draw(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
        degrees = float(rng.uniform(-turn, turn))
        page = with_margin(enlarged(digit)).point(lambda v: round(v * tint))
        page = page.rotate(degrees, Image.Resampling.BILINEAR, expand=True)
        held = Image.new("L", with_margin(enlarged(digit)).size, 255).rotate(degrees, Image.Resampling.BILINEAR, expand=True)
        h, w = page.height, page.width
        big_h, big_w = (np.array([h, w]) * rng.uniform(1.2, 1.6, 2)).astype(int)
        top, left = int(rng.integers(0, big_h - h + 1)), int(rng.integers(0, big_w - w + 1))
        table = surround((big_h, big_w), rng)
        if drop is not None:
            table = table * (1 - rng.uniform(*drop) * _cast(held, (big_h, big_w), (top, left), rng))
        picture = Image.fromarray(np.clip(table, 0, 255).astype(np.uint8))
        picture.paste(page, (left, top), held)
        if drop is None:
            return picture
        ys, xs = np.mgrid[:big_h, :big_w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        across = np.cos(a) * xs / big_w + np.sin(a) * ys / big_h
        falling = 1 - rng.uniform(0.05, 0.15) * (across - across.min()) / np.ptp(across)
        return Image.fromarray(np.clip(np.asarray(picture, np.float32) * falling, 0, 255).astype(np.uint8))
    return draw


def _cast(held: Image.Image, shape: tuple[int, int], at: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The soft shadow (0-1, H x W) of the page `held` (its mask, pasted at `at`, top and left) cast
    2-8 px in any direction and blurred by 1.5-4 px."""
    mask = Image.new("L", (shape[1], shape[0]), 0)
    length, a = rng.uniform(2, 8), rng.uniform(0, 2 * np.pi)
    mask.paste(held, (at[1] + round(length * np.cos(a)), at[0] + round(length * np.sin(a))), held)
    return ndimage.gaussian_filter(np.asarray(mask, np.float32) / 255, rng.uniform(1.5, 4))


def scanner_lid(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A scanner's lid around a slip of paper: near black, the sensor's noise on it."""
    return rng.uniform(10, 45) + rng.normal(0, 3, shape)


def desk(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wooden desk: mid-dark, its grain in wavy bands."""
    ys, xs = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    period, wave = rng.uniform(4, 9), rng.uniform(30, 60)
    return rng.uniform(60, 120) + 20 * np.sin(ys / period + 1.5 * np.sin(xs / wave)) + rng.normal(0, 4, shape)


def white_desk(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A white table top: nearly white, lit a little unevenly, the sensor's noise on it."""
    ys, xs = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    slope = rng.uniform(-8, 8, 2) / np.array(shape)
    return rng.uniform(238, 252) + slope[0] * ys + slope[1] * xs + rng.normal(0, 3, shape)


def cut_from_a_number(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit cropped out of a written number: a neighbour (the digit itself turned half round, as
    another digit would be) on one side or both, 4-20 px off its ink, the crop cutting 6-30 px (at
    most 40% of its width) into the neighbour's ink; 0-20 px of paper above and below."""
    ink = enlarged(digit)
    cols = np.nonzero((ink > 0.3).any(axis=0))[0]
    body = ink[:, cols.min(): cols.max() + 1]
    other = body[::-1, ::-1]
    side = int(rng.integers(3))  # 0: a neighbour on the left, 1: on the right, 2: both
    most = max(1, int(0.4 * body.shape[1]))
    parts = [body]
    if side in (0, 2):
        cut = other[:, other.shape[1] - min(int(rng.integers(6, 31)), most):]
        parts[:0] = [np.roll(cut, int(rng.integers(-8, 9)), axis=0), np.zeros((ink.shape[0], int(rng.integers(4, 21))), np.float32)]
    if side in (1, 2):
        cut = other[:, : min(int(rng.integers(6, 31)), most)]
        parts += [np.zeros((ink.shape[0], int(rng.integers(4, 21))), np.float32), np.roll(cut, int(rng.integers(-8, 9)), axis=0)]
    line = np.concatenate(parts, axis=1)
    rows = np.nonzero((line > 0.3).any(axis=1))[0]
    top, bottom = max(0, rows.min() - int(rng.integers(0, 21))), rows.max() + 1 + int(rng.integers(0, 21))
    line = np.pad(line, ((0, max(0, bottom - line.shape[0])), (0, 0)))
    return on_paper(line[top: bottom])


def grainy_paper(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit on grainy paper (recycled paper, a brown envelope, a card): its level 150-215,
    fibres 10-25 levels deep along one direction at any angle, and dark flecks 1 or 3 px across
    on 0.05-0.2% of it (before they are widened)."""
    ink = np.asarray(with_margin(enlarged(digit)), np.float32)
    ink = (PAPER - ink) / (PAPER - INK)  # back to [0, 1] with the margin
    h, w = ink.shape
    side = int(np.hypot(h, w)) + 2
    fibres = ndimage.gaussian_filter(rng.normal(0, 1, (side, side)), (0.8, rng.uniform(4, 10)))
    fibres = ndimage.rotate(fibres, rng.uniform(0, 180), reshape=False, order=1)
    top, left = (side - h) // 2, (side - w) // 2
    fibres = fibres[top: top + h, left: left + w]
    paper = rng.uniform(150, 215) + rng.uniform(10, 25) * fibres / max(float(fibres.std()), 1e-6) / 2
    flecks = rng.random((h, w)) < rng.uniform(0.0005, 0.002)
    if rng.random() < 0.5:
        flecks = ndimage.binary_dilation(flecks)  # 3 px across
    paper = np.where(flecks, paper - rng.uniform(40, 100), paper)
    grey = paper - (paper - INK) * ink
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def dust(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Specks of dust on a scan (or a pen's stray dots): 1-6 round specks 2-5 px across, grey 20-120,
    anywhere on the page (on the strokes too)."""
    ink = enlarged(digit)
    page = with_margin(ink)
    pen = ImageDraw.Draw(page)
    h, w = page.height, page.width
    for _ in range(int(rng.integers(1, 7))):
        size = rng.uniform(2, 5)
        y, x = rng.uniform(0, h - size), rng.uniform(0, w - size)
        pen.ellipse([x, y, x + size, y + size], fill=int(rng.integers(20, 121)))
    return page


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


# What lies around the digit (`benchmarks/people.py --around`; the module docstring).
AROUND = [
    Condition("a slip on a scanner's lid", on_a_surround(scanner_lid, 3), "the page on a near-black surround, turned up to 3 degrees"),
    Condition("a note on a desk", on_a_surround(desk, 10, tint=0.9), "a yellowish note on a wooden desk, turned up to 10 degrees"),
    Condition("a scan's grey frame", grey_frame, "grey bands 6-30 px wide along two to four sides"),
    Condition("a flash's glare", flash_glare, "a spot of light brighter than the paper on the digit"),
    Condition("circled by hand", ring_by_hand, "a wobbly loop around the digit, perhaps not closed"),
    Condition("boxed by hand", box_by_hand, "four strokes around the digit, a little askew"),
    Condition("a note on a white desk", on_a_surround(white_desk, 10, tint=0.8), "a pink or blue note (0.8 of the paper's light in grey) on a white table"),
    Condition("dust", dust, "1-6 specks 2-5 px across anywhere on the page"),
    Condition("grainy paper", grainy_paper, "recycled or brown paper: fibres at any angle and dark flecks"),
    Condition("cut from a number", cut_from_a_number, "the crop cutting into the neighbours' ink on one side or both"),
    Condition("a note in its shadow", on_a_surround(white_desk, 10, tint=0.8, drop=(0.15, 0.35)),
              "a pink or blue note lifted off the table: a soft shadow 2-8 px long, the light falling by 5-15% across"),
]
