"""From uint8 digits to network inputs, for whole batches at once (no per-sample Python).

Two input conventions (the `input` switch of the model config):
- "pad-32" (the paper, Sec. III-A): the 28x28 digit padded by 2 px of background to 32x32,
  background -0.1 and full ink 1.175, linear in between;
- "resize-32" (the blog): bilinear resize to 32x32, scaled to [0, 1], normalized with mean 0.5
  and std 0.5, so background is -1 and ink +1.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

BACKGROUND, INK = -0.1, 1.175  # Sec. III-A
PAD = 2  # 28 + 2 * 2 = 32


def pad32(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 32, 32), background -0.1, ink 1.175, padded with background."""
    x = images.unsqueeze(1).float() * ((INK - BACKGROUND) / 255.0) + BACKGROUND
    return F.pad(x, (PAD, PAD, PAD, PAD), value=BACKGROUND)


def resize32(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 32, 32): bilinear resize, then (x/255 - 0.5) / 0.5."""
    x = F.interpolate(images.unsqueeze(1).float() / 255.0, size=(32, 32), mode="bilinear", align_corners=False)
    return (x - 0.5) / 0.5


INPUTS = {"pad-32": pad32, "resize-32": resize32}


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches covering range(n) once in a random order drawn from `generator`."""
    order = torch.randperm(n, generator=generator)
    yield from order.split(batch_size)
