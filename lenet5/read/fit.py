"""The one training loop of both readers: AdamW with the paper preset's schedule (one pass of
warm-up, then cosine to 0) over batches of strips or segments made from MNIST's *training*
digits, and after each pass the held-out strips (from the last `holdout` training digits) read
whole, as `lenet5 read` reads them. What a batch is and what its loss is, each reader says
(train_sdnn.py: strings by the forward algorithm; train_hos.py: segments by cross-entropy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lenet5.errors import Lenet5Error
from lenet5.presets import PAPER_TRAINING
from lenet5.runtime import repeatable_convolutions
from lenet5.train import learning_rate


@dataclass(frozen=True)
class ReaderTraining:
    """What both readers' trainings are told (the SDNN's defaults; the segment recognizer's are in train_hos.py)."""

    strips: int = 160_000  # training strips drawn from MNIST's training digits (100,000: held-out 86.1%, 160,000: 87.9%)
    val_strips: int = 1_000  # held-out strips (from the last `holdout` training digits), read whole after each pass
    holdout: int = 10_000  # training digits kept out of the strips, for the held-out strips
    epochs: int = 8  # passes
    batch_size: int = 32  # strips (SDNN) or segments (HOS) per update
    lr: float = 2e-3  # AdamW's peak rate (as the paper preset)
    weight_decay: float = 0.1
    device: str = "cpu"  # where the network trains: cpu, cuda or cuda:N (the strips are made on the CPU)


def split(digits: np.ndarray, labels: np.ndarray, config: ReaderTraining) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(training digits, labels) for the training strips, and the last `holdout` for the held-out ones."""
    if config.holdout >= len(digits):
        raise Lenet5Error(f"holdout {config.holdout} leaves no training digits out of {len(digits)}")
    keep = len(digits) - config.holdout
    return (digits[:keep], labels[:keep]), (digits[keep:], labels[keep:])


# A batch's mean loss, its number of examples, and how many of them it got wrong (None: not counted).
Loss = tuple[torch.Tensor, int, int | None]


def fit(model: torch.nn.Module, config: ReaderTraining, seed: int, order: Callable[[torch.Generator], Iterable[Any]],
        per_pass: int, loss_of: Callable[[Any], Loss], validate: Callable[[torch.nn.Module], float],
        log: Callable[[str], None] = print) -> list[dict]:
    """Train `model` for config.epochs passes; each pass takes its batches from `order` (which
    shuffles with the generator it is given, seeded seed + 2), `per_pass` of them, and ends with
    `validate(model)`, the share of held-out strips read exactly. The model trains on config.device
    (moved there first; `loss_of` puts its batch there) and is left there. One history row per pass:
    epoch, loss (mean per example), train_error (where counted), val_exact, seconds."""
    device = torch.device(config.device)
    repeatable_convolutions(device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = PAPER_TRAINING.replace(epochs=config.epochs, lr=config.lr)
    generator = torch.Generator().manual_seed(seed + 2)
    history, step = [], 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        start, loss_sum, examples, wrong = time.time(), torch.zeros(()), 0, None
        for batch in order(generator):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(schedule, step, per_pass * config.epochs, per_pass)
            loss, n, missed = loss_of(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.detach().cpu() * n
            examples += n
            if missed is not None:
                wrong = (wrong or 0) + missed
        model.eval()
        row = {"epoch": epoch, "loss": float(loss_sum) / examples,
               **({} if wrong is None else {"train_error": wrong / examples}),
               "val_exact": validate(model), "seconds": time.time() - start}
        history.append(row)
        errors = "" if wrong is None else f", training error {100 * row['train_error']:.2f}%"
        log(f"pass {epoch}: loss {row['loss']:.4f}{errors}, held-out amounts read exactly {100 * row['val_exact']:.1f}% "
            f"({row['seconds']:.0f} s)")
    return history
