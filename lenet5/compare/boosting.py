"""Boosted LeNet-4 (Drucker, Schapire, Simard 1993; Sec. III-C-7, Fig. 9's best row): three
LeNet-4s. The first is trained as usual (on distorted digits). The second on patterns filtered
by the first: distorted training digits, half of them ones the first reads wrong and half ones
it reads right. The third on new distorted digits on which the first two disagree. At test time
the three outputs (softmax probabilities) are added.

Deviation: the three nets always all run (3x LeNet-4's cost); the paper skips the second and
third when the first is confident, for about 1.75 nets on average.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lenet5.data.distort import distort, draw_parameters
from lenet5.model import LeNet
from lenet5.train import Split, Trainer

PATTERNS = 60_000  # the second and third nets' training sets, at most (the first's is MNIST's 60,000)
MAX_DRAWS = 1_200_000  # distorted digits drawn at most to find them (20 passes' worth)
CHUNK = 20_000


class OnPatterns(Trainer):
    """A Trainer whose training digits are the given patterns instead of MNIST's."""

    def __init__(self, patterns: Split, *args, **kwargs):
        self.patterns = patterns
        super().__init__(*args, **kwargs)

    def _load_data(self, data_dir):
        data = super()._load_data(data_dir)
        data["train"] = self.patterns
        return data


@torch.no_grad()
def classes(model: LeNet, images: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([model.predict(model.prepare(part))[0] for part in images.split(CHUNK)])


@torch.no_grad()
def probabilities(models: list[LeNet], images: torch.Tensor) -> torch.Tensor:
    """The boosted output: (N, 10), the sum of the nets' softmax probabilities."""
    total = torch.zeros(len(images), 10, dtype=torch.float64)
    for model in models:
        model.eval()
        for start, part in zip(range(0, len(images), CHUNK), images.split(CHUNK)):
            total[start : start + len(part)] += model(model.prepare(part)).softmax(1).double()
    return total


def filtered(train: Split, keep: Callable[[torch.Tensor, torch.Tensor], list[torch.Tensor]], bins: int,
             generator: torch.Generator, patterns: int = PATTERNS, max_draws: int = MAX_DRAWS) -> tuple[Split, int]:
    """Distorted training digits, drawn in chunks, of which `keep(images, labels)` gives `bins`
    masks, one per bin; the bins are filled equally, up to patterns / bins each (the fuller
    ones cut to the emptiest). Returns the patterns (uint8, shuffled) and the digits drawn."""
    found: list[list[torch.Tensor]] = [[] for _ in range(bins)]
    counts, drawn = [0] * bins, 0
    while drawn < max_draws and min(counts) < patterns // bins:
        pick = torch.randint(len(train.labels), (CHUNK,), generator=generator)
        images = distort(train.images[pick], draw_parameters(CHUNK, generator)).round().clamp(0, 255).to(torch.uint8)
        labels = train.labels[pick]
        for b, mask in enumerate(keep(images, labels)):
            found[b].append(torch.cat([images[mask].flatten(1), labels[mask, None].to(torch.uint8)], 1))  # (n, 784 + label)
            counts[b] += int(mask.sum())
        drawn += CHUNK
    each = min(min(counts), patterns // bins)
    rows = torch.cat([torch.cat(f)[:each] for f in found])
    rows = rows[torch.randperm(len(rows), generator=generator)]
    return Split(rows[:, :784].reshape(-1, 28, 28).contiguous(), rows[:, 784].long()), drawn


def second_set(first: LeNet, train: Split, generator: torch.Generator) -> tuple[Split, int]:
    """Half read wrong by the first net, half read right."""
    def keep(images, labels):
        wrong = classes(first, images) != labels
        return [wrong, ~wrong]
    return filtered(train, keep, 2, generator)


def third_set(first: LeNet, second: LeNet, train: Split, generator: torch.Generator) -> tuple[Split, int]:
    """New distorted digits on which the first two nets disagree."""
    def keep(images, labels):
        return [classes(first, images) != classes(second, images)]
    return filtered(train, keep, 1, generator)
