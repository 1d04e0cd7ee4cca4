"""Reading whole numbers: one line of handwritten digits in, its digit string out.

Two readers, both the paper's (the shipped default is the SDNN, which reads better):

    SDNN (Sec. VII): image -> line at digit scale -> 32 px band -> LeNet-5 swept along it
          -> per 4 px: P(0..9, between) -> likeliest string (summed over its paths) -> "92312"
    HOS (Sec. VI): image -> line at digit scale -> atoms (over-segmentation) -> candidate
          segments -> recognizer (LeNet-5 + "none") -> best path (dynamic programming) -> "92312"

Python: `read_number(model, image)` with a reader from `load_reader()`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from lenet5.data.feed import BACKGROUND, INK
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet
from lenet5.predict import expand
from lenet5.preprocess import load_image
from lenet5.read.recognizer import DEFAULT_READER, load_reader, reader_network, shipped_readers
from lenet5.read.sdnn import SDNN, Found, read_line
from lenet5.read.search import best_path
from lenet5.read.segment import Line, atoms, candidates, normalize, render

__all__ = ["Reading", "ReadDigit", "read_number", "read_images", "load_reader", "reader_network", "shipped_readers",
           "DEFAULT_READER", "SDNN"]


@dataclass(frozen=True)
class ReadDigit:
    """One digit read, with its columns [x0, x1) and rows [y0, y1) in the image's pixels."""

    digit: int
    x0: int
    x1: int
    y0: int
    y1: int
    confidence: float  # the network's probability of this digit (SDNN: where it is surest)

    def as_dict(self) -> dict:
        return {"digit": self.digit, "x0": self.x0, "x1": self.x1, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True)
class Reading:
    """What was read in one image: the number, the probability of the whole path, its digits."""

    file: str | None = None
    number: str | None = None
    confidence: float | None = None
    digits: list[ReadDigit] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict:
        return {"file": self.file, "number": self.number,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "digits": [d.as_dict() for d in self.digits], "error": self.error}


def as_inputs(fields: np.ndarray) -> torch.Tensor:
    """Fields (N, 32, 32) of ink [0, 1] -> the network's inputs (N, 1, 32, 32): paper -0.1, ink 1.175 (Sec. III-A)."""
    return torch.from_numpy(fields)[:, None] * (INK - BACKGROUND) + BACKGROUND


@torch.no_grad()
def read_number(model: torch.nn.Module, image: np.ndarray | str | os.PathLike) -> Reading:
    """Read one line of digits with a reader from `load_reader` (an SDNN, or a segment
    recognizer). image: a file, or grey float32 (H, W) in [0, 1], either polarity.
    Raises Lenet5Error when the image shows no digits."""
    grey = load_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image, dtype=np.float32)
    if grey.ndim != 2:
        raise Lenet5Error(f"expected a grey image (H, W), got shape {grey.shape}")
    line = normalize(grey)
    found, log_p = read_line(model, line) if isinstance(model, SDNN) else read_segmented(model, line)
    if not found:
        raise Lenet5Error("no digits found (only specks of ink)")
    top, left = line.offset
    s = line.scale
    digits = [ReadDigit(f.digit, int(left + f.x0 * s), int(math.ceil(left + f.x1 * s)), int(top + f.y0 * s),
                        int(math.ceil(top + f.y1 * s)), f.p) for f in found]
    return Reading(None, "".join(str(d.digit) for d in digits), math.exp(log_p), digits)


def read_segmented(model: LeNet, line: Line) -> tuple[list[Found], float]:
    """Heuristic over-segmentation: the digits on the best path through the candidate segments,
    boxed around their atoms, and the path's log-probability."""
    pieces = atoms(line)
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


def read_images(model: torch.nn.Module, paths: list[str | os.PathLike]) -> list[Reading]:
    """One Reading per image file (folders give their images); an unreadable one gets `error`."""
    files = expand(paths)
    if not files:
        raise Lenet5Error("no image files given (or the folders hold none)")
    out = []
    for f in files:
        try:
            reading = read_number(model, f)
            out.append(Reading(str(f), reading.number, reading.confidence, reading.digits))
        except Lenet5Error as e:
            message = str(e)
            out.append(Reading(str(f), error=message if message.startswith(str(f)) else f"{f}: {message}"))
    return out
