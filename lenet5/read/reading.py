"""One line of handwritten digits in, its digit string out: `read_number` with either reader
(the SDNN, sdnn.py, or over-segmentation, oversegment.py), and `read_images` for files."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from lenet5.errors import Lenet5Error
from lenet5.predict import expand
from lenet5.preprocess import load_image
from lenet5.calibration import Platt
from lenet5.read.committee import Committee
from lenet5.read.line import DIGIT_HEIGHT, normalize_at
from lenet5.read.oversegment import read_segmented
from lenet5.read.sdnn import SDNN, read_line


@dataclass(frozen=True)
class ReadDigit:
    """One digit read, with its columns [x0, x1) and rows [y0, y1) in the image's pixels."""

    digit: int
    x0: int
    x1: int
    y0: int
    y1: int
    confidence: float  # the network's probability of this digit, uncalibrated (SDNN: where it is surest, in the
    # reading that places the digits: a committee's first member at offset 0)

    def as_dict(self) -> dict:
        return {"digit": self.digit, "x0": self.x0, "x1": self.x1, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True)
class Reading:
    """What was read in one image: the number, the probability of the whole path, its digits, and
    the printed marks taken out of the picture before reading ("lines", "ring": `preprocess.Inked`)."""

    file: str | None = None
    number: str | None = None
    confidence: float | None = None
    digits: list[ReadDigit] = field(default_factory=list)
    error: str | None = None
    taken_out: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"file": self.file, "number": self.number,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "digits": [d.as_dict() for d in self.digits],
                "taken_out": None if self.error is not None else list(self.taken_out), "error": self.error}


def read_number(model: torch.nn.Module, image: np.ndarray | str | os.PathLike) -> Reading:
    """Read one line of digits with a reader from `load_reader` (an SDNN, a committee of them, or
    a segment recognizer). image: a file, or grey float32 (H, W) in [0, 1], either polarity.
    The confidence is the reader's probability of the whole reading through its `calibration`
    (none: the probability itself). Raises Lenet5Error when the image shows no digits."""
    reading = read_uncalibrated(model, image)
    calibration = getattr(model, "calibration", Platt())  # set by load_reader from the file
    return dataclasses.replace(reading, confidence=calibration(reading.confidence))


@torch.no_grad()
def read_uncalibrated(model: torch.nn.Module, image: np.ndarray | str | os.PathLike) -> Reading:
    """`read_number` with the reader's own probability of the reading as its confidence (what a
    calibration is fitted to)."""
    grey = load_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image, dtype=np.float32)
    swept = isinstance(model, (SDNN, Committee))
    lines = normalize_at(grey, getattr(model, "heights", (DIGIT_HEIGHT,)) if swept else (DIGIT_HEIGHT,))  # heights: set by load_reader
    if lines is None:
        raise Lenet5Error("no digits found (no ink above the paper's level, or only specks)")
    line, *others = lines
    if line.lines > 1:  # refused before either reader reads it
        raise Lenet5Error(f"{line.lines} lines of digits, one above another: a picture is read as one line (crop each line)")
    found, log_p = read_line(model, line, others) if swept else read_segmented(model, line)
    if not found:  # ink enough, but the reader named no digit in it
        raise Lenet5Error("no digits found (the reader read none in the ink it found)")
    digits = []
    for f in found:
        y0, x0, y1, x1 = line.box_in_image(f.y0, f.x0, f.y1, f.x1)  # a turned line's corners may fall outside
        (h, w), (y0, x0) = grey.shape, (max(0.0, y0), max(0.0, x0))
        digits.append(ReadDigit(f.digit, int(x0), min(w, int(math.ceil(x1))), int(y0), min(h, int(math.ceil(y1))), f.p))
    return Reading(None, "".join(str(d.digit) for d in digits), math.exp(log_p), digits, taken_out=line.taken_out)


def read_images(model: torch.nn.Module, paths: list[str | os.PathLike]) -> list[Reading]:
    """One Reading per image file (folders give their images); an unreadable one gets `error`."""
    files = expand(paths)
    if not files:
        raise Lenet5Error("no image files given (or the folders hold none)")
    out = []
    for f in files:
        try:
            reading = read_number(model, f)
            out.append(dataclasses.replace(reading, file=str(f)))
        except Lenet5Error as e:
            message = str(e)
            out.append(Reading(str(f), error=message if message.startswith(str(f)) else f"{f}: {message}"))
    return out
