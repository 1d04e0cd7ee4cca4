"""Shadows across the page (`benchmarks/people.py --shadows`), made otherwise than `people.hard_shadow`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

from lenet5.conditions.drawing import Condition, enlarged, with_margin
from lenet5.conditions.people import tight_crop


def shadow(depth: float, soft: float = 0.0, curved: bool = False, stripe: bool = False, tight: bool = False,
           noise: float = 0.0) -> Callable:
    """A shadow made otherwise than `hard_shadow`'s: its edge at any angle, within a fifth of the
    page's width of the middle, letting `depth` of the light through; its edge blurred by `soft` px
    (a penumbra), bent (`curved`), or only a band across the page a quarter of its width
    (`stripe`); on the page with a margin, or on a `tight` crop; photographed with the sensor's
    `noise` (its standard deviation in grey levels), the light then falling off by 5-15% across
    the page at any angle."""
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
        image = image * (1 - (1 - depth) * mask)
        if noise:
            b = rng.uniform(0, 2 * np.pi)
            falling = np.cos(b) * xs + np.sin(b) * ys
            image = image * (1 - rng.uniform(0.05, 0.15) * (falling - falling.min()) / np.ptp(falling))
            image = image + rng.normal(0, noise, image.shape)
        return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    return draw


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
    Condition("deep shadow in a photo", shadow(0.3, noise=8), "0.3 of the light, the sensor's noise and light falling off"),
]
