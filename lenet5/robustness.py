"""How far the invariances go: the test set moved, scaled, turned, squeezed, thickened, thinned
and peppered, each at a range of strengths, scored by each model.

The paper (Sec. III-E) says LeNet-5 recognizes digits scaled up to about 2x, shifted
vertically by about half a character and rotated by about +-30 degrees. Every transformation
here works on the 28x28 digit as MNIST gives it (its 20x20 box, centred), so what leaves the
field is lost, as it would be for the network's own 32x32 input; strengths are in a person's
units (characters, degrees, pixels).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lenet5.evaluate import error_rate
from lenet5.model import LeNet

CHARACTER = 20  # px: an MNIST digit's height, what "half a character" is half of


def affine(images: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Apply one forward 2x2 map (about the centre) to uint8 images (N, 28, 28); returns uint8."""
    x = images.float().unsqueeze(1)
    inverse = torch.zeros(1, 2, 3)
    inverse[0, :, :2] = torch.linalg.inv(matrix)
    grid = F.affine_grid(inverse.expand(len(x), 2, 3), list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.squeeze(1).round().clamp(0, 255).to(torch.uint8)


def shift(images: torch.Tensor, pixels: float, axis: int) -> torch.Tensor:
    """Move every digit by `pixels` along axis 0 (down) or 1 (right); what leaves the field is lost."""
    x = images.float().unsqueeze(1)
    theta = torch.zeros(1, 2, 3)
    theta[0, 0, 0] = theta[0, 1, 1] = 1
    theta[0, 1 - axis, 2] = -2 * pixels / images.shape[-1]
    grid = F.affine_grid(theta.expand(len(x), 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False).squeeze(1).round().to(torch.uint8)


def scale(images: torch.Tensor, factor: float) -> torch.Tensor:
    return affine(images, torch.tensor([[factor, 0.0], [0.0, factor]]))


def rotate(images: torch.Tensor, degrees: float) -> torch.Tensor:
    a = math.radians(degrees)
    return affine(images, torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]))


def squeeze(images: torch.Tensor, factor: float) -> torch.Tensor:
    """Width times `factor`, height unchanged."""
    return affine(images, torch.tensor([[factor, 0.0], [0.0, 1.0]]))


def stroke(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Strokes thicker (pixels > 0: grey-level dilation) or thinner (< 0: erosion) by about
    `pixels` on each side."""
    x = images.float().unsqueeze(1)
    for _ in range(abs(pixels)):
        x = F.max_pool2d(x, 3, stride=1, padding=1) if pixels > 0 else -F.max_pool2d(-x, 3, stride=1, padding=1)
    return x.squeeze(1).to(torch.uint8)


def salt_and_pepper(images: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """A `fraction` of the pixels set to ink or to paper, half each, drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    u = torch.rand(images.shape, generator=generator)
    out = images.clone()
    out[u < fraction / 2] = 255
    out[(u >= fraction / 2) & (u < fraction)] = 0
    return out


@dataclass(frozen=True)
class Transformation:
    name: str
    unit: str
    strengths: tuple[float, ...]
    apply: Callable[[torch.Tensor, float], torch.Tensor]
    claim: str = ""  # the paper's claim, in this transformation's unit


TRANSFORMATIONS = [
    Transformation("vertical shift", "characters", (0, 0.1, 0.2, 0.3, 0.4, 0.5),
                   lambda x, s: shift(x, s * CHARACTER, 0), "about half a character"),
    Transformation("horizontal shift", "characters", (0, 0.1, 0.2, 0.3, 0.4, 0.5), lambda x, s: shift(x, s * CHARACTER, 1)),
    Transformation("scale", "x", (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0), scale, "about 2x"),
    Transformation("rotation", "degrees", (-45, -30, -15, 0, 15, 30, 45), rotate, "about +-30 degrees"),
    Transformation("squeeze", "x width", (0.5, 0.7, 0.85, 1.0, 1.2, 1.5), squeeze),
    Transformation("stroke width", "px per side", (-1, 0, 1, 2), lambda x, s: stroke(x, int(s))),
    Transformation("salt and pepper", "of pixels", (0, 0.02, 0.05, 0.1, 0.2), salt_and_pepper),
]


@torch.no_grad()
def robustness(model: LeNet, images: torch.Tensor, labels: torch.Tensor) -> list[dict]:
    """Error rate of `model` on uint8 digits (N, 28, 28) under every transformation and strength."""
    rows = []
    for t in TRANSFORMATIONS:
        for s in t.strengths:
            error = error_rate(model, model.prepare(t.apply(images, s)), labels)
            rows.append({"transformation": t.name, "strength": s, "unit": t.unit, "error": error})
    return rows


def markdown(results: dict[str, list[dict]]) -> str:
    """One table: a row per transformation and strength, a column of test error % per model."""
    names = list(results)
    lines = ["| transformation | strength | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for k, row in enumerate(results[names[0]]):
        errors = " | ".join(f"{100 * results[n][k]['error']:.2f}" for n in names)
        lines.append(f"| {row['transformation']} | {row['strength']:g} {row['unit']} | {errors} |")
    return "\n".join(lines)
