"""Reading people's own images: files or folders in, one answer (or one error) per image."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from lenet5.errors import Lenet5Error
from lenet5.model import LeNet
from lenet5.preprocess import image_to_digit

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


@dataclass(frozen=True)
class Prediction:
    file: str
    digit: int | None = None
    confidence: float | None = None  # margin between the best two scores
    probability: float | None = None  # of the digit read, where the model's file carries a calibration
    scores: list[float] | None = None  # RBF penalties (smaller wins) or logits
    error: str | None = None
    seen: torch.Tensor | None = None  # the 28x28 digit the network read
    taken_out: tuple[str, ...] = ()  # printed marks taken out of the picture first ("lines", "ring": preprocess.Inked)

    def as_dict(self) -> dict:
        out = {"file": self.file}
        if self.error is not None:
            out["error"] = self.error
        else:
            out.update(digit=self.digit, confidence=round(self.confidence, 4), scores=[round(s, 4) for s in self.scores],
                       taken_out=list(self.taken_out))
            if self.probability is not None:
                out["probability"] = round(self.probability, 4)
        return out


def expand(paths: list[str | os.PathLike]) -> list[Path]:
    """Files as given; a folder contributes its image files (by suffix), sorted."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        else:
            out.append(p)
    return out


@torch.no_grad()
def predict_images(model: LeNet, paths: list[str | os.PathLike]) -> list[Prediction]:
    """One Prediction per image; an unreadable image gets `error` and the others still run."""
    files = expand(paths)
    if not files:
        raise Lenet5Error("no image files given (or the folders hold none)")
    digits, marks, results = {}, {}, {}
    for f in files:
        try:
            digits[f], marks[f] = image_to_digit(f)
        except Lenet5Error as e:
            results[f] = Prediction(str(f), error=str(e))
    if digits:
        batch = model.prepare(torch.stack(list(digits.values())))
        scores = model.eval()(batch)
        classes, margins = model.decide(scores)
        calibration = getattr(model, "calibration", None)  # set by read_weights from the file's metadata
        p = None if calibration is None else calibration(model.logits(scores)).max(dim=1).values
        for i, (f, digit) in enumerate(digits.items()):
            results[f] = Prediction(str(f), int(classes[i]), float(margins[i]), None if p is None else float(p[i]),
                                    scores[i].tolist(), seen=digit, taken_out=marks[f])
    return [results[f] for f in files]
