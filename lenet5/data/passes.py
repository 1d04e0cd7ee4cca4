"""Where a training pass's patterns come from (Sec. III-A): the pass's batches in a random order,
and each batch's inputs, either rows of the training set prepared once (undistorted digits,
or the paper's fixed pool of distorted copies) or digits distorted afresh for every batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from lenet5.data.distort import distort, draw_parameters
from lenet5.data.feed import shuffled_batches
from lenet5.data.pens import pens_and_scans


@dataclass
class Batch:
    """One step's patterns: inputs[rows] with targets[rows] (rows None: all of inputs)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    rows: torch.Tensor | None


class Passes:
    """The training digits (uint8 (N, 28, 28), labels (N,)) as passes of batches, drawing the order
    and the distortions from `generator`. distort: "none" (the set prepared once, on the device),
    "pool" (the set holds the originals and their distorted copies, one presentation per original
    digit a pass, N / `copies` patterns), "fresh" (distortions drawn for each batch), "pens" (and
    pens and scans on top)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, distortion: str, batch_size: int, copies: int,
                 generator: torch.Generator, prepare: Callable[[torch.Tensor], torch.Tensor], device: torch.device):
        self.images, self.distortion, self.batch_size, self.copies = images, distortion, batch_size, copies
        self.generator, self.prepare, self.device = generator, prepare, device
        self.labels = labels.to(device)
        self.whole = prepare(images) if distortion == "none" else None  # every pattern's inputs, on the device

    def __len__(self) -> int:
        """Patterns the set holds (with a pool: the originals and their copies)."""
        return len(self.labels)

    def batches(self) -> list[torch.Tensor]:
        """The next pass's batches of rows of the set (on the device when the set is)."""
        pool = self.distortion == "pool"
        n = len(self) // self.copies if pool else len(self)  # presentations per pass
        order = torch.randperm(len(self), generator=self.generator)[:n] if pool else None
        batches = list(shuffled_batches(n, self.batch_size, self.generator))
        if order is not None:
            batches = [order[idx] for idx in batches]
        if self.whole is not None and self.device.type != "cpu":  # the pass's order on the device in one copy
            batches = list(torch.cat(batches).to(self.device).split(self.batch_size))
        return batches

    def batch(self, rows: torch.Tensor) -> Batch:
        """The patterns of `rows`: rows of the prepared set, or those digits distorted now."""
        if self.whole is not None:
            return Batch(self.whole, self.labels, rows)
        images = self.images[rows]
        if self.distortion in ("fresh", "pens"):
            images = distort(images, draw_parameters(len(rows), self.generator))
        if self.distortion == "pens":
            images = pens_and_scans(images, self.generator)
        return Batch(self.prepare(images), self.labels[rows], None)
