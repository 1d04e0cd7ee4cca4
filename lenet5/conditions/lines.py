"""Printed lines among the digits (`benchmarks/people.py --lines`): ruled and squared paper, a
form's boxes and dashed cells and lines to write on, a stroke under the digit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from lenet5.conditions.drawing import INK, PAPER, Condition, enlarged, with_margin


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



def dashed_cell(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The digit in a form's cell of dashed rules across the whole crop both ways, dashes 12 px long
    every 20 px, 3 px thick, a random 5 to 25 px off the ink on each side."""
    ink = enlarged(digit)
    margin = 60
    image = np.asarray(with_margin(ink, margin), np.float32).copy()
    ys, xs = np.nonzero(ink > 0.3)
    top, bottom, left, right = rng.integers(5, 25, 4)
    top, bottom = margin + ys.min() - top - 3, margin + ys.max() + bottom
    left, right = margin + xs.min() - left - 3, margin + xs.max() + right
    h, w = image.shape
    for y in (top, bottom):
        for x in range(int(rng.integers(0, 20)), w, 20):
            image[y: y + 3, x: x + 12] = INK
    for x in (left, right):
        for y in range(int(rng.integers(0, 20)), h, 20):
            image[y: y + 12, x: x + 3] = INK
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
    Condition("a dashed cell", dashed_cell, "a form's dashed rules across the crop both ways, dashes 12 px every 20, 3 px thick, 5-25 px off the ink"),
]
