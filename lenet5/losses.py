"""The losses of Sec. II-C, per pattern, and their curvature where SDLM starts its recursion.

Each loss takes the network's scores (B, 10) and the targets (B,) and returns one value per
pattern (B,); the trainer sums or averages them. Each `*_curvature` function gives the diagonal
second derivative d2E/dz2 of one pattern's loss at the layer SDLM starts from: F6's outputs for
the RBF head, the logits for the softmax head.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F


def mse_loss(y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """eq. 8: E = y_D, the RBF penalty of the correct class."""
    return y.gather(1, target[:, None]).squeeze(1)


def map_loss(y: torch.Tensor, target: torch.Tensor, j: float) -> torch.Tensor:
    """eq. 9: E = y_D + log(e^-j + sum_i e^-y_i). The second term pulls the wrong classes'
    penalties up; e^-j stands for a "rubbish" class that keeps the RBF centres from collapsing."""
    rubbish = torch.full_like(y[:, :1], -j)
    return mse_loss(y, target) + torch.logsumexp(torch.cat([rubbish, -y], dim=1), dim=1)


def cross_entropy_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax + negative log-likelihood (the common simplification)."""
    return F.cross_entropy(logits, target, reduction="none")


def mse_curvature(x: torch.Tensor) -> torch.Tensor:
    """d2E/dx_j2 of eq. 8 at F6's outputs x (B, 84): y_D is a sum of squares, so 2 everywhere."""
    return torch.full_like(x, 2.0)


def map_curvature(x: torch.Tensor, prototypes: torch.Tensor, j: float) -> torch.Tensor:
    """The exact diagonal d2E/dx_j2 of eq. 9 at F6's outputs x (B, 84):
        2 (1 - sum_i p_i) + 4 (sum_i p_i d_ij^2 - (sum_i p_i d_ij)^2),
    d_ij = x_j - w_ij, p_i = e^-y_i / (e^-j + sum_k e^-y_k). Non-negative; 2 when all p_i ~ 0.
    The target drops out: y_D is quadratic in x and contributes the constant 2."""
    d = x[:, None, :] - prototypes[None]  # (B, 10, 84)
    y = (d**2).sum(dim=2)  # (B, 10)
    rubbish = torch.full_like(y[:, :1], -j)
    p = torch.softmax(torch.cat([rubbish, -y], dim=1), dim=1)[:, 1:, None]  # (B, 10, 1)
    spread = (p * d**2).sum(dim=1) - (p * d).sum(dim=1) ** 2
    return 2 * (1 - p.sum(dim=1)) + 4 * spread


def cross_entropy_curvature(logits: torch.Tensor) -> torch.Tensor:
    """Diagonal of the cross-entropy Hessian at the logits: p_i (1 - p_i)."""
    p = torch.softmax(logits, dim=1)
    return p * (1 - p)


def pattern_loss(kind: str, j: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The per-pattern loss named by the model config's `loss` field."""
    return {"map": partial(map_loss, j=j), "mse": mse_loss, "cross-entropy": cross_entropy_loss}[kind]
