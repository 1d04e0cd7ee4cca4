"""Heuristic over-segmentation of one line of digits (Sec. VI-A, Fig. 18 and 19), and its reader.

The line at digit scale (line.py) is cut into *atoms*: its connected components, and the pieces
of each component between the columns where its ink is thinnest (touching digits are joined
there, and so are a few strokes of single digits: cutting too often is harmless, the recognizer
and the search put the pieces back together). Any run of up to `MAX_ATOMS` neighbouring atoms is
a candidate segment; the recognizer (recognizer.py) scores each, and the best path through them
(search.py) is the reading:

    line at digit scale -> atoms -> candidate segments -> recognizer (LeNet-5 + "none")
        -> best path (dynamic programming) -> "92312"
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lenet5.data import feed
from lenet5.model import LeNet
from lenet5.read.line import DIGIT_HEIGHT, INK, Found, Line, label_components
from lenet5.read.search import best_path

FIELD = 32  # the recognizer's input, as LeNet-5's
MIN_AREA = 4  # px at work scale; smaller components are specks of noise
MIN_PIECE = 3  # px: the narrowest piece a cut may leave at a component's ends
CUT_STEP = 2  # px: the densest cuts (400 strips of held-out training digits: the right segmentation
# is among the candidates for 94% of them at 2 px, for 84% at 3 px)
MAX_ATOMS = 12  # atoms in one candidate segment
MAX_WIDTH = 1.4 * DIGIT_HEIGHT  # widest candidate segment, px
CONTEXT = 0.3  # the neighbours' ink in a segment's field, relative to its own


@dataclass
class Atom:
    """Ink pixels of one piece (work coordinates), and its columns [x0, x1)."""

    ys: np.ndarray
    xs: np.ndarray

    @property
    def x0(self) -> int:
        return int(self.xs.min())

    @property
    def x1(self) -> int:
        return int(self.xs.max()) + 1

    @property
    def centre(self) -> float:
        return float(self.xs.mean())


def cut_columns(projection: np.ndarray) -> list[int]:
    """Columns where a component is cut: the local minima of its ink per column (smoothed),
    where touching digits usually join, and then every CUT_STEP columns where no minimum is
    near, since overlapping digits join where a column's ink is not thin at all. Every piece
    keeps at least MIN_PIECE columns."""
    smooth = np.convolve(np.pad(projection, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    inner = range(MIN_PIECE, len(smooth) - MIN_PIECE + 1)
    minima = [c for c in inner if smooth[c] <= smooth[c - 1] and smooth[c] <= smooth[min(c + 1, len(smooth) - 1)]]
    chosen: list[int] = []
    for c in sorted(minima, key=lambda c: smooth[c]) + list(inner)[::CUT_STEP]:
        if all(abs(c - d) >= CUT_STEP for d in chosen):
            chosen.append(c)
    return sorted(chosen)


def atoms(line: Line) -> list[Atom]:
    """The line's atoms, ordered left to right by their centre of mass (none: only specks of ink)."""
    labels = label_components(line.ink > INK)
    out = []
    for k in np.unique(labels[labels > 0]):
        ys, xs = np.nonzero(labels == k)
        if len(ys) < MIN_AREA:
            continue
        x0 = xs.min()
        projection = np.bincount(xs - x0)
        bounds = [0, *cut_columns(projection), len(projection)]
        for a, b in zip(bounds, bounds[1:]):
            keep = (xs - x0 >= a) & (xs - x0 < b)
            if keep.any():
                out.append(Atom(ys[keep], xs[keep]))
    return sorted(out, key=lambda a: a.centre)


def candidates(pieces: list[Atom]) -> list[tuple[int, int]]:
    """Runs [i, j) of neighbouring atoms that may be one digit: at most MAX_ATOMS, at most MAX_WIDTH wide."""
    spans = []
    for i in range(len(pieces)):
        x0, x1 = pieces[i].x0, pieces[i].x1
        for j in range(i + 1, min(i + MAX_ATOMS, len(pieces)) + 1):
            x0, x1 = min(x0, pieces[j - 1].x0), max(x1, pieces[j - 1].x1)
            if j > i + 1 and x1 - x0 > MAX_WIDTH:
                break
            spans.append((i, j))
    return spans


def render(line: Line, pieces: list[Atom]) -> np.ndarray:
    """The 32x32 field around these atoms, centred on their centre of mass, at line scale:
    (32, 32) float32 [0, 1]. Their ink (with its grey fringe) at full strength, the rest of the
    line's ink at CONTEXT: a stroke standing alone is a "1", the same stroke beside the rest of
    its "4" is not, and only the neighbours tell. Unlike MNIST's preparation nothing is resized:
    a piece of a digit stays small."""
    ys = np.concatenate([a.ys for a in pieces])
    c0 = max(0, int(min(a.x0 for a in pieces)) - FIELD)  # only the columns the field can show
    xs = np.concatenate([a.xs for a in pieces]) - c0
    ink = line.ink[:, c0: max(a.x1 for a in pieces) + FIELD]
    h, w = ink.shape
    mask = np.zeros((h + 2, w + 2), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            mask[ys + dy, xs + dx] = True
    mask = mask[1:-1, 1:-1] & ~((ink > INK) & ~core(h, w, ys, xs))
    own = ink * mask
    total = own.sum()
    cy = own.sum(axis=1) @ np.arange(h) / total
    cx = own.sum(axis=0) @ np.arange(w) / total
    picture = np.where(mask, ink, CONTEXT * ink)
    top, left = round(cy - (FIELD - 1) / 2), round(cx - (FIELD - 1) / 2)
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    y0, y1, x0, x1 = max(top, 0), min(top + FIELD, h), max(left, 0), min(left + FIELD, w)
    field[y0 - top: y1 - top, x0 - left: x1 - left] = picture[y0:y1, x0:x1]
    return field


def core(h: int, w: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    out = np.zeros((h, w), dtype=bool)
    out[ys, xs] = True
    return out


def as_inputs(fields: np.ndarray) -> torch.Tensor:
    """Fields (N, 32, 32) of ink [0, 1] -> the network's inputs (N, 1, 32, 32): paper -0.1, ink 1.175 (Sec. III-A)."""
    return torch.from_numpy(fields)[:, None] * (feed.INK - feed.BACKGROUND) + feed.BACKGROUND


@torch.no_grad()
def read_segmented(model: LeNet, line: Line) -> tuple[list[Found], float]:
    """Heuristic over-segmentation: the digits on the best path through the candidate segments,
    boxed around their atoms, and the path's log-probability."""
    pieces = atoms(line)
    if not pieces:
        return [], -math.inf
    spans = candidates(pieces)
    fields = np.stack([render(line, pieces[i:j]) for i, j in spans])
    log_probs = torch.log_softmax(model.eval()(as_inputs(fields)), dim=1)
    path = best_path(len(pieces), spans, log_probs)
    found = []
    for step in path:
        if step.digit is None:
            continue
        ys = np.concatenate([a.ys for a in pieces[step.i: step.j]])
        xs = np.concatenate([a.xs for a in pieces[step.i: step.j]])
        found.append(Found(step.digit, int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1,
                           math.exp(step.score)))
    return found, sum(step.score for step in path)
