"""Small image helpers the paper's and the page's steps share: a picture at the working size, its
border, a grey-level opening, Otsu's threshold."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

BACKGROUND_SIDE = 512  # pixels on the long side at which the paper's level and the page are estimated


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the level that best splits `values` into two classes (between-class variance)."""
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    total = weight[-1]
    mass = np.cumsum(counts * centres)
    low = weight[:-1]
    high = total - low
    ok = (low > 0) & (high > 0)
    between = np.zeros(bins - 1)
    mean_low = np.divide(mass[:-1], low, out=np.zeros(bins - 1), where=ok)
    mean_high = np.divide(mass[-1] - mass[:-1], high, out=np.zeros(bins - 1), where=ok)
    between[ok] = low[ok] * high[ok] * (mean_low[ok] - mean_high[ok]) ** 2
    return float(edges[1:][np.argmax(between)])


def border_of(image: np.ndarray) -> np.ndarray:
    """The outermost pixels of an image (H, W), its four sides one after another."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def at_side(image: np.ndarray) -> np.ndarray:
    """The image (H, W) averaged down to BACKGROUND_SIDE on its long side (as it is, if no larger), float32."""
    h, w = image.shape
    scale = min(1.0, BACKGROUND_SIDE / max(h, w))
    if scale == 1.0:
        return image.astype(np.float32, copy=False)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))


def opening(a: np.ndarray, k: int) -> np.ndarray:
    """Grey-level opening by a k x k square (k odd; by k pixels along a line): minimum filter, then maximum
    filter (edges repeated)."""
    return ndimage.maximum_filter(ndimage.minimum_filter(a, size=k, mode="nearest"), size=k, mode="nearest")
