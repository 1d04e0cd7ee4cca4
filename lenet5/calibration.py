"""Confidences that mean what they say: fitted on held-out data, checked on other data.

Two maps, each fitted by maximum likelihood (the log-loss) on held-out examples:
- Platt scaling (Platt 1999) for one probability per reading, such as a whole amount's:
  p' = sigmoid(a logit(p) + b); with a > 0 it keeps the order of the readings, so rejecting
  below a threshold rejects the same ones, only the threshold's meaning changes.
- Temperature scaling (Guo et al. 2017) for a classifier's scores: P = softmax(logits / T).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

EDGE = 1e-12  # probabilities are kept this far from 0 and 1 before their logit is taken


@dataclass(frozen=True)
class Platt:
    """p -> sigmoid(a logit(p) + b); the identity by default."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, p: float) -> float:
        p = min(max(p, EDGE), 1 - EDGE)
        z = self.a * math.log(p / (1 - p)) + self.b
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))

    def as_dict(self) -> dict:
        return {"method": "platt", "a": self.a, "b": self.b}


@dataclass(frozen=True)
class Temperature:
    """Scores as logits (larger wins) -> probabilities softmax(logits / T)."""

    T: float = 1.0

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits.double() / self.T, dim=-1)

    def as_dict(self) -> dict:
        return {"method": "temperature", "T": self.T}


def logit(p: torch.Tensor) -> torch.Tensor:
    p = p.double().clamp(EDGE, 1 - EDGE)
    return torch.log(p) - torch.log1p(-p)


def minimize(start: list[float], loss: Callable[[torch.Tensor], torch.Tensor]) -> list[float]:
    """The parameters (float64) that minimize loss(params), from `start`, by L-BFGS with a line search."""
    params = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([params], lr=1.0, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        value = loss(params)
        value.backward()
        return value

    optimizer.step(closure)
    return params.detach().tolist()


def fit_platt(confidence: torch.Tensor, correct: torch.Tensor) -> Platt:
    """The Platt map that best predicts `correct` (N,) bool from `confidence` (N,) in [0, 1]."""
    if len(confidence) < 2 or correct.all() or not correct.any():
        raise ValueError("fitting a calibration needs at least one right and one wrong reading")
    z, y = logit(confidence), correct.double()
    a, b = minimize([1.0, 0.0], lambda ab: torch.nn.functional.binary_cross_entropy_with_logits(ab[0] * z + ab[1], y))
    if not (0 < a < math.inf and math.isfinite(b)):  # a confidence that ranks readings backwards, or a failed fit
        raise ValueError(f"no order-keeping calibration fits these readings (a {a:.3g}, b {b:.3g})")
    return Platt(a, b)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The T > 0 that minimizes the log-loss of softmax(logits / T) on (N, C) logits and (N,) labels."""
    x = logits.double()
    (log_t,) = minimize([0.0], lambda p: torch.nn.functional.cross_entropy(x / p[0].exp(), labels))
    t = math.exp(log_t)
    if not 0 < t < math.inf:
        raise ValueError(f"no temperature fits these scores (T {t:.3g})")
    return t
