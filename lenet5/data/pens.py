"""Random pens and scans: the ways people's digits differ from MNIST's beyond Sec. III-A's affine
distortions, drawn per pattern and applied per batch on top of them (`distort="pens"`).

The paper's tangent distance counts line thickness among a digit's transformations (Sec. III-C);
a scanner adds blur and coarse resolution. Each pattern gets at most one of:

    stroke  thicker or thinner by half an MNIST pixel per side, once or twice (at 2x, by grey
            dilation or erosion with a 3x3 square, then back to 28x28)
    blur    a Gaussian of sigma in [0.5, 1.2] px
    scan    the 28x28 field averaged down to 7-10 px and enlarged again (bilinear)

and its ink is stretched back to full strength, as `lenet5 predict` stretches a person's image.
The shares (`Pens`) were chosen on held-out digits (docs/reading.md, People's digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Pens:
    """Shares of the patterns that get each change (the rest are left as the affine step made them)."""

    # Held-out (last 10,000 training digits, seed 0, 20 passes): these shares val 0.92%, 8x8 scans 91.5%
    # read right, markers 3x 96.5%; twice them (0.3 / 0.1 / 0.15, sides up to 14) val 1.01%, 90.8%, 97.0%;
    # 0.1 / 0 / 0.1 (sides 7, 8) val 0.95%; paper-distort alone val 0.76%, 84.0%, 94.0%.
    stroke: float = 0.15
    blur: float = 0.05
    scan: float = 0.10
    strokes: tuple[int, ...] = (-2, -1, 1, 2, 3)  # half-pixels per side at 28x28 (negative: thinner)
    blur_sigma: tuple[float, float] = (0.5, 1.2)
    scan_sides: tuple[int, ...] = (7, 8, 10)


def restroke(x: torch.Tensor, half_pixels: int) -> torch.Tensor:
    """(N, 1, H, W) ink, strokes moved by `half_pixels` / 2 px per side (negative: thinner)."""
    if half_pixels == 0:
        return x
    big = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    for _ in range(abs(half_pixels)):
        big = F.max_pool2d(big, 3, 1, 1) if half_pixels > 0 else -F.max_pool2d(-big, 3, 1, 1)
    return F.avg_pool2d(big, 2)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, round(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    kernel = torch.exp(-t * t / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0)), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, radius, radius)), kernel.view(1, 1, -1, 1))


def rescan(x: torch.Tensor, side: int) -> torch.Tensor:
    small = F.adaptive_avg_pool2d(x, side)
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False)


def pens_and_scans(images: torch.Tensor, generator: torch.Generator, pens: Pens = Pens()) -> torch.Tensor:
    """images: (N, H, W) ink on MNIST's scale (0 background, 255 full), float -> the same with a
    random pen or scan each, float32. Draws come from `generator` only."""
    n = len(images)
    x = images.float().unsqueeze(1)
    u = torch.rand(n, generator=generator)
    choice = torch.rand(n, generator=generator)  # which stroke, sigma or side, as a fraction of its range
    kinds = torch.full((n,), -1)
    kinds[u < pens.stroke + pens.blur + pens.scan] = 2
    kinds[u < pens.stroke + pens.blur] = 1
    kinds[u < pens.stroke] = 0
    out = x.clone()
    for k, values in ((0, pens.strokes), (2, pens.scan_sides)):
        pick = (choice * len(values)).long().clamp(max=len(values) - 1)
        for j, v in enumerate(values):
            rows = torch.nonzero((kinds == k) & (pick == j)).flatten()
            if len(rows):
                out[rows] = restroke(x[rows], v) if k == 0 else rescan(x[rows], v)
    low, high = pens.blur_sigma
    for r in torch.nonzero(kinds == 1).flatten().tolist():
        out[r: r + 1] = blur(x[r: r + 1], low + (high - low) * float(choice[r]))
    changed = kinds >= 0
    peak = out.flatten(1).amax(dim=1).clamp(min=1e-6)
    scale = torch.where(changed, 255 / peak, torch.ones_like(peak))
    return (out.squeeze(1) * scale.view(-1, 1, 1)).clamp(0, 255)
