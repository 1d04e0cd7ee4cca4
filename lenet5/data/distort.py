"""Random planar affine distortions (Sec. III-A, Fig. 7), drawn per pattern, applied per batch.

The paper lists horizontal and vertical translation, scaling, squeezing (one axis compressed
while the other is stretched) and horizontal shear, without ranges; Fig. 7's examples are mild.
Our ranges (see `Ranges`) were chosen to look like Fig. 7 (`lenet5 distortions` draws them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Ranges:
    """Uniform ranges of each distortion parameter."""

    shift: float = 2.0  # pixels, horizontal and vertical, each in [-shift, +shift]
    scale: float = 0.1  # overall scale in [1 - scale, 1 + scale]
    squeeze: float = 0.1  # x stretched by (1 + q), y by 1 / (1 + q), q in [-squeeze, +squeeze]
    shear: float = 0.3  # horizontal shear: x += shear * y, in [-shear, +shear]


def draw_parameters(n: int, generator: torch.Generator, ranges: Ranges = Ranges()) -> torch.Tensor:
    """(n, 5) parameters per pattern: shift x, shift y (px), scale, squeeze, shear."""
    u = torch.rand(n, 5, generator=generator) * 2 - 1
    limits = torch.tensor([ranges.shift, ranges.shift, ranges.scale, ranges.squeeze, ranges.shear])
    params = u * limits
    params[:, 2] += 1  # scale around 1
    return params


def affine_matrices(params: torch.Tensor, size: int) -> torch.Tensor:
    """(n, 2, 3) matrices mapping output coordinates to input coordinates, in affine_grid's
    normalized [-1, 1] units, for images `size` pixels wide."""
    shift_x, shift_y, scale, squeeze, shear = params.unbind(1)
    sx = scale * (1 + squeeze)  # forward map: stretch x ...
    sy = scale / (1 + squeeze)  # ... and compress y by the same factor
    forward = torch.zeros(len(params), 3, 3, dtype=params.dtype)
    forward[:, 0, 0], forward[:, 0, 1], forward[:, 0, 2] = sx, shear * sy, shift_x * 2 / size
    forward[:, 1, 1], forward[:, 1, 2] = sy, shift_y * 2 / size
    forward[:, 2, 2] = 1
    return torch.linalg.inv(forward)[:, :2, :]  # grid_sample needs output -> input


def pil_affine(squeeze: float, shear: float, size: int) -> tuple[float, ...]:
    """The map of `affine_matrices` with no shift and scale 1, about the centre of a `size` px
    field, as PIL's Image.transform(AFFINE) takes it: the input pixel (a x + b y + c, d x + e y + f)
    of each output pixel (x, y). For one image at a time, where torch's per-call cost would dominate."""
    sx, sy, c = 1 + squeeze, 1 / (1 + squeeze), size / 2
    # forward: x' - c = sx (x - c) + shear sy (y - c), y' - c = sy (y - c); inverted:
    a, b, e = 1 / sx, -shear / sx, 1 / sy
    return a, b, c - a * c - b * c, 0.0, e, c - e * c


def distort(images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Apply one affine map per image. images: (N, H, W) ink intensities (0 = background),
    uint8 or float; returns float32 (N, H, W) on the same scale."""
    x = images.float().unsqueeze(1)  # (N, 1, H, W)
    grid = F.affine_grid(affine_matrices(params, x.shape[-1]), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).squeeze(1)


def distorted_pool(images: torch.Tensor, copies: int, generator: torch.Generator, chunk: int = 20_000) -> torch.Tensor:
    """The paper's fixed pool: the originals followed by `copies` distorted copies of each
    (60,000 + 540,000 for copies = 9), as uint8 (N * (1 + copies), H, W)."""
    out = [images]
    for _ in range(copies):
        for part in images.split(chunk):
            warped = distort(part, draw_parameters(len(part), generator))
            out.append(warped.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)

