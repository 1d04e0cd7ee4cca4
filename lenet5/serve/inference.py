"""What the server computes for one image: the answer and scores, what the network saw, and
the feature maps of C1, S2, C3 and S4, in shapes a browser can show.

Inference is thread-safe without a lock: the models are in eval mode, their forward pass only
reads the weights, and `torch.no_grad` is per thread, so each request thread sets its own.
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from lenet5.errors import Lenet5Error
from lenet5.model import LeNet
from lenet5.preprocess import decode_image, digit_and_marks
from lenet5.pretrained import load_model, shipped
from lenet5.read import load_reader, read_number

MAP_COLUMNS = {"C1": 6, "S2": 6, "C3": 8, "S4": 8}  # C3 and S4 in two rows, so they fit a phone
GAP = 1  # white pixels between maps in a layer's picture


@dataclass(frozen=True)
class ServedModel:
    """A model the server reads with, and what is known about it (from `load_model`)."""

    name: str
    model: LeNet
    info: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "head": self.model.config.head, "preset": self.info.get("preset"),
                "parameters": self.model.num_parameters(), "test_error": self.info.get("test_error"),
                "source": self.info["source"]}


def load_models(default: str) -> dict[str, ServedModel]:
    """The shipped models by name, plus `default` when it is a checkpoint, run directory or
    weights file rather than a shipped name. Raises Lenet5Error when `default` is none of these."""
    names = shipped() + ([default] if default not in shipped() else [])
    return {name: ServedModel(name, *load_model(name)) for name in names}


def image_to_input(data: bytes, name: str) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Image bytes -> the MNIST-style digit uint8 (28, 28) and the printed marks taken out of the
    picture (`digit_and_marks`); errors name the upload."""
    grey = decode_image(data, name)
    try:
        return digit_and_marks(grey)
    except Lenet5Error as e:
        raise Lenet5Error(f"{name}: {e}") from None


@torch.no_grad()
def answer(model: LeNet, digit: torch.Tensor) -> dict[str, Any]:
    """One uint8 digit (28, 28) -> digit, confidence (the margin between the best two scores, as
    `lenet5 predict` gives), the ten scores (RBF penalties, smaller wins; or logits) and, for a
    softmax head, the ten probabilities; where the model's file carries a calibration, the
    calibrated probability of the digit read, as `lenet5 predict` prints it."""
    scores = model(model.prepare(digit[None]))  # (1, 10)
    classes, margins = model.decide(scores)
    out = {"digit": int(classes[0]), "confidence": round(float(margins[0]), 4),
           "scores": [round(s, 4) for s in scores[0].tolist()], "smaller_wins": model.config.head == "rbf"}
    if model.config.head == "softmax":
        out["probabilities"] = [round(p, 4) for p in scores[0].softmax(0).tolist()]
    if getattr(model, "calibration", None) is not None:
        out["probability"] = round(float(model.calibration(model.logits(scores))[0].max()), 4)
    return out


@torch.no_grad()
def pictures(model: LeNet, digit: torch.Tensor) -> dict[str, Any]:
    """What the network saw (its 32x32 input) and the maps of C1, S2, C3 and S4, as PNG data
    URLs, dark = high as in `lenet5 show`, each map stretched over its own range. A layer is one
    PNG (one image per layer, not per map, keeps an update fast): its maps in rows of `columns`,
    GAP white pixels apart."""
    x = model.prepare(digit[None])  # (1, 1, 32, 32)
    maps = model.feature_maps(x)  # C1 (1, 6, 28, 28) ... S4 (1, 16, 5, 5)
    return {"seen": png_data_url(shade(x[0, 0])),
            "maps": {name: {"image": png_data_url(tile(stack[0], MAP_COLUMNS[name])), "count": stack.shape[1],
                            "size": stack.shape[-1], "columns": MAP_COLUMNS[name]} for name, stack in maps.items()}}


def shade(values: torch.Tensor) -> np.ndarray:
    """A 2-D tensor as grey uint8: its own minimum white (255), its maximum black (0)."""
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 1.0
    return (255 * (high - values) / span).round().to(torch.uint8).numpy()


def tile(stack: torch.Tensor, columns: int) -> np.ndarray:
    """Maps (C, H, W) -> one grey uint8 picture: rows of `columns` shaded maps on white."""
    count, h, w = stack.shape
    rows = -(-count // columns)
    out = np.full((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP), 255, np.uint8)
    for k in range(count):
        r, c = divmod(k, columns)
        out[r * (h + GAP): r * (h + GAP) + h, c * (w + GAP): c * (w + GAP) + w] = shade(stack[k])
    return out


def png_data_url(grey: np.ndarray) -> str:
    """Grey uint8 (H, W) as a PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class ReadUnavailable(Lenet5Error):
    """This install cannot read whole amounts: its recognizer's weights are missing (HTTP 501)."""


@functools.cache
def amount_reader() -> tuple[torch.nn.Module, dict[str, Any]]:
    """lenet5.read's default reader of whole numbers (the SDNN), loaded on first use."""
    try:
        return load_reader()
    except Lenet5Error as e:  # its weights file is missing or damaged
        raise ReadUnavailable(f"reading whole amounts: {e}") from None


def read_amount(data: bytes, name: str) -> dict[str, Any]:
    """Image bytes of a whole amount -> lenet5.read's Reading as a dict (number, confidence,
    digits with their columns x0..x1 in the image, the printed marks taken out) and the recognizer that read it."""
    model, info = amount_reader()
    grey = decode_image(data, name)
    try:
        reading = read_number(model, grey)
    except Lenet5Error as e:
        raise Lenet5Error(f"{name}: {e}") from None
    return {**reading.as_dict(), "file": name, "model": info["source"]}
