"""Whole amounts written with another pen, scanned coarser, shaded, ruled, boxed, between a form's
dashed rules, circled, lying on a desk or photographed askew (`benchmarks/amounts.py --pen`)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from lenet5.imaging import border_of
from lenet5.strokes import disc_filter

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
    return _printed(image, [round(row * image.shape[0]) for row in rows], [], 0.2)


def line_across(image: np.ndarray, spacing: float, columns: bool = False, width: float = 0.2) -> np.ndarray:
    """The line written across narrow rules (or squares, with `columns`) as a page printed with them
    holds it: rules every `spacing` MNIST pixels (12: two through each digit), `width` MNIST pixels thick
    (at least 1 px), as dark as the ink, the first half a spacing in from the top (and the left)."""
    step = spacing * (image.shape[0] / STRIP_HEIGHT)  # (one MNIST pixel, px)
    at = [[round(a) for a in np.arange(step / 2, size, step)] for size in image.shape]
    return _printed(image, at[0], at[1] if columns else [], width)


def _printed(image: np.ndarray, rows: list[int], cols: list[int], width: float) -> np.ndarray:
    """The line with printed lines across it from `rows` down and along it from `cols` right (px), each
    `width` MNIST pixels thick (at least 1 px), as dark as its ink."""
    dark_on_light = np.median(border_of(image)) > 127
    out = image.copy()
    ink = np.percentile(image, 1 if dark_on_light else 99)
    thick = max(1, round(width * (image.shape[0] / STRIP_HEIGHT)))
    for y in rows:
        out[y: y + thick] = ink
    for x in cols:
        out[:, x: x + thick] = ink
    return out


def line_dashed(image: np.ndarray, rows: tuple[float, ...] = (), cols: tuple[float, ...] = ()) -> np.ndarray:
    """The line with a form's dashed lines: across it at `rows`, along it at `cols` (shares of its height
    and width), dashes 3 MNIST pixels long with gaps of 2, 0.4 of an MNIST pixel thick (at least 1 px),
    as dark as its ink."""
    dark_on_light = np.median(border_of(image)) > 127
    out = image.copy()
    ink = np.percentile(image, 1 if dark_on_light else 99)
    pixel = image.shape[0] / STRIP_HEIGHT
    thick, dash, period = max(1, round(0.4 * pixel)), max(1, round(3 * pixel)), max(2, round(5 * pixel))
    h, w = image.shape
    for y in (round(row * h) for row in rows):
        for x in range(0, w, period):
            out[y: y + thick, x: x + dash] = ink
    for x in (round(col * w) for col in cols):
        for y in range(0, h, period):
            out[y: y + dash, x: x + thick] = ink
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


def line_askew(image: np.ndarray, degrees: float = 20.0) -> np.ndarray:
    """The amount's slip (a quarter of its height of paper added around it) photographed turned by
    `degrees` anticlockwise: the line rises to the right, and the picture grows to hold it all."""
    page = dark_on_light_padded(image, 0.25)
    paper = float(np.median(border_of(page)))
    turned = Image.fromarray(page, mode="F").rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=paper)
    return np.round(np.asarray(turned).clip(0, 255)).astype(np.uint8)


LINE_CONDITIONS = {
    "normal": lambda image: image,
    "marker": lambda image: line_pen(image, 2.0),
    "fine pen": lambda image: line_pen(image, 0.5),
    "scan 10 px": lambda image: line_scan(image, 10),
    "hard shadow": line_shadow,
    "underlined": lambda image: line_rules(image, (0.93,)),
    "ruled": lambda image: line_rules(image, (0.05, 0.93)),
    "in a box": line_box,
    "dashed rules": lambda image: line_dashed(image, cols=(0.02, 0.98)),
    "dashed line": lambda image: line_dashed(image, rows=(0.93,)),
    "lined": lambda image: line_across(image, 12.0),
    "squared": lambda image: line_across(image, 10.0, columns=True),
    "circled": line_circled,
    "on a desk": line_on_a_desk,
    "askew": line_askew,
    "in a box, askew": lambda image: line_askew(line_box(image), 15.0),
}
