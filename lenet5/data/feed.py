"""From uint8 digits to network inputs, for whole batches at once (no per-sample Python).

Input conventions (the `input` switch of the model config); the three below these two are the
inputs of Sec. III-C's other networks (LeNet-1, the fully connected nets):
- "pad-32" (the paper, Sec. III-A): the 28x28 digit padded by 2 px of background to 32x32,
  background -0.1 and full ink 1.175, linear in between;
- "resize-32" (the blog): bilinear resize to 32x32, scaled to [0, 1], normalized with mean 0.5
  and std 0.5, so background is -1 and ink +1.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from lenet5.data.deslant import deslant

BACKGROUND, INK = -0.1, 1.175  # Sec. III-A
PAD = 2  # 28 + 2 * 2 = 32


def pad32(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 32, 32), background -0.1, ink 1.175, padded with background."""
    return F.pad(levels(images), (PAD, PAD, PAD, PAD), value=BACKGROUND)


def resize32(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 32, 32): bilinear resize, then (x/255 - 0.5) / 0.5."""
    x = F.interpolate(images.unsqueeze(1).float() / 255.0, size=(32, 32), mode="bilinear", align_corners=False)
    return (x - 0.5) / 0.5


def levels(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) at the paper's levels, background -0.1, ink 1.175."""
    return images.unsqueeze(1).float() * ((INK - BACKGROUND) / 255.0) + BACKGROUND


def small16(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> uint8 (N, 22, 22): MNIST's 20x20 digit box brought to 16x16 (area
    averaging), the early database's size (Sec. III-C: LeNet-1, tangent distance)."""
    x = F.interpolate(images.unsqueeze(1).float(), size=(22, 22), mode="area")
    return x.squeeze(1).round().clamp(0, 255).to(torch.uint8)


def center16(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28): LeNet-1's input, the digit at 16x16 centred
    in a 28x28 field of background (Sec. III-C-7)."""
    return F.pad(levels(small16(images)), (3, 3, 3, 3), value=BACKGROUND)


def raw28(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) at the paper's levels: the fully connected nets' input."""
    return levels(images)


def deslant20(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 20, 20): deslanted and cropped (Fig. 9's [deslant] rows)."""
    return levels(deslant(images))


INPUTS = {"pad-32": pad32, "resize-32": resize32, "center-16": center16, "raw-28": raw28, "deslant-20": deslant20}
INPUT_SIZES = {"pad-32": 32, "resize-32": 32, "center-16": 28, "raw-28": 28, "deslant-20": 20}  # the side each gives


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches covering range(n) once in a random order drawn from `generator`."""
    order = torch.randperm(n, generator=generator)
    yield from order.split(batch_size)
