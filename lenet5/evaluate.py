"""Scoring a trained network on a labelled set."""

from __future__ import annotations

import torch

from lenet5.model import LeNet5


@torch.no_grad()
def predict_all(model: LeNet5, inputs: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Classes and confidences (N,) for network inputs (N, 1, 32, 32), in batches."""
    was_training = model.training
    model.eval()
    parts = [model.predict(x) for x in inputs.split(batch_size)]
    model.train(was_training)
    return torch.cat([c for c, _ in parts]), torch.cat([m for _, m in parts])


def error_rate(model: LeNet5, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of the set the network gets wrong."""
    classes, _ = predict_all(model, inputs)
    return (classes != labels).float().mean().item()
