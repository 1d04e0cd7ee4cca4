"""Reading whole numbers: one line of handwritten digits in, its digit string out.

    image -> line at digit scale -> atoms (over-segmentation) -> candidate segments
          -> recognizer (LeNet-5 + "none") -> best path (dynamic programming) -> "92312"

Python: `read_number(model, image)` with a recognizer from `load_reader()`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from lenet5.data.feed import BACKGROUND, INK
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet5
from lenet5.predict import expand
from lenet5.preprocess import load_image
from lenet5.read.recognizer import DEFAULT_READER, load_reader, reader_network, shipped_readers
from lenet5.read.search import best_path
from lenet5.read.segment import atoms, candidates, normalize, render

__all__ = ["Reading", "ReadDigit", "read_number", "read_images", "load_reader", "reader_network", "shipped_readers",
           "DEFAULT_READER"]


@dataclass(frozen=True)
class ReadDigit:
    """One digit read, with its columns [x0, x1) and rows [y0, y1) in the image's pixels."""

    digit: int
    x0: int
    x1: int
    y0: int
    y1: int
    confidence: float  # the recognizer's probability of this digit for this segment

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
def read_number(model: LeNet5, image: np.ndarray | str | os.PathLike) -> Reading:
    """Read one line of digits. image: a file, or grey float32 (H, W) in [0, 1], either polarity.
    Raises Lenet5Error when the image shows no digits."""
    grey = load_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image, dtype=np.float32)
    if grey.ndim != 2:
        raise Lenet5Error(f"expected a grey image (H, W), got shape {grey.shape}")
    line = normalize(grey)
    pieces = atoms(line)
    spans = candidates(pieces)
    fields = np.stack([render(line, pieces[i:j]) for i, j in spans])
    log_probs = torch.log_softmax(model.eval()(as_inputs(fields)), dim=1)
    path = best_path(len(pieces), spans, log_probs)
    top, left = line.offset
    digits = []
    for step in path:
        if step.digit is None:
            continue
        ys = np.concatenate([a.ys for a in pieces[step.i: step.j]])
        xs = np.concatenate([a.xs for a in pieces[step.i: step.j]])
        digits.append(ReadDigit(step.digit, int(left + xs.min() * line.scale), int(math.ceil(left + (xs.max() + 1) * line.scale)),
                                int(top + ys.min() * line.scale), int(math.ceil(top + (ys.max() + 1) * line.scale)),
                                math.exp(step.score)))
    if not digits:
        raise Lenet5Error("no digits found (only specks of ink)")
    confidence = math.exp(sum(step.score for step in path))
    return Reading(None, "".join(str(d.digit) for d in digits), confidence, digits)


def read_images(model: LeNet5, paths: list[str | os.PathLike]) -> list[Reading]:
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
