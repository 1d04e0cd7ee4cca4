"""Tangent distance (Simard, LeCun, Denker 1993; Sec. III-C-3, Fig. 9's [16x16] Tangent
Distance): a nearest-neighbour classifier whose distance between two digits is the least
distance between their tangent planes, the planes of the small transformations a digit may
take without changing class: x and y translation, scaling, rotation, the two hyperbolic
deformations (squeeze and skew), and line thickness.

Two-sided: d(x, y) = min over a, b of |x + T_x a - y - T_y b|^2, a least-squares problem with 14
unknowns per pair, solved for every pair at once. As in the paper's system, a cheap distance
filters first: each test digit is compared by tangent distance with its Euclidean-nearest
training digits only (CANDIDATES).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lenet5.compare.classical import Outcome, nearest, vote_scores
from lenet5.data.feed import small16

SIDE = 16  # the database of the paper's tangent-distance row was reduced to 16x16
CANDIDATES = 50  # Euclidean-nearest training digits compared by tangent distance
SMOOTH = 0.9  # px: the Gaussian the derivatives are taken on
RIDGE = 1e-3  # keeps each pair's 14x14 system solvable when two tangents coincide (blank digits)
PAIRS = 20_000  # pairs per batch of solves
TANGENTS = ("x-translation", "y-translation", "scaling", "rotation", "squeeze", "skew", "thickness")


def digits16(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float64 (N, 16, 16) in [0, 1]: the 20x20 digit box at 16x16."""
    return small16(images)[:, 3:19, 3:19].double() / 255.0


def smooth(x: torch.Tensor, sigma: float = SMOOTH) -> torch.Tensor:
    r = torch.arange(-2, 3, dtype=x.dtype)
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    y = F.conv2d(x.unsqueeze(1), g.view(1, 1, 1, 5), padding=(0, 2))
    return F.conv2d(y, g.view(1, 1, 5, 1), padding=(2, 0)).squeeze(1)


def tangents(x: torch.Tensor) -> torch.Tensor:
    """(N, S, S) digits -> (N, 7, S*S) tangent vectors, in TANGENTS' order (Simard et al.'s
    formulas from the smoothed image's gradient; coordinates centred, in units of the half side)."""
    s = smooth(x)
    gx = torch.zeros_like(s)
    gy = torch.zeros_like(s)
    gx[:, :, 1:-1] = (s[:, :, 2:] - s[:, :, :-2]) / 2
    gy[:, 1:-1, :] = (s[:, 2:, :] - s[:, :-2, :]) / 2
    c = (x.shape[-1] - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(x.shape[-2], dtype=x.dtype) - c, torch.arange(x.shape[-1], dtype=x.dtype) - c,
                            indexing="ij")
    xs, ys = xs / c, ys / c
    t = torch.stack([gx, gy, xs * gx + ys * gy, ys * gx - xs * gy, xs * gx - ys * gy, ys * gx + xs * gy, gx**2 + gy**2], dim=1)
    return t.flatten(2)


def pair_distances(x: torch.Tensor, tx: torch.Tensor, y: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """Two-sided tangent distances (P,) between rows of x (P, D) with tangents tx (P, 7, D) and
    rows of y (P, D) with ty (P, 7, D): |r|^2 - rhs . theta, theta solving the normal equations."""
    a = torch.cat([tx, -ty], dim=1)  # (P, 14, D)
    r = y - x  # (P, D)
    gram = a @ a.transpose(1, 2)  # (P, 14, 14)
    gram = gram + RIDGE * torch.eye(a.shape[1], dtype=a.dtype)
    rhs = (a @ r.unsqueeze(2))  # (P, 14, 1)
    theta = torch.linalg.solve(gram, rhs)
    return ((r**2).sum(1) - (rhs * theta).sum(dim=(1, 2))).clamp_min(0)


def tangent_distance(train_images, train_labels, test_images, seed) -> Outcome:
    train, test = digits16(train_images).flatten(1), digits16(test_images).flatten(1)
    t_train, t_test = tangents(train.view(-1, SIDE, SIDE)), tangents(test.view(-1, SIDE, SIDE))
    _, candidates = nearest(train, test, CANDIDATES)  # (N, C)
    n, k = candidates.shape
    flat = candidates.flatten()
    test_rows = torch.arange(n).repeat_interleave(k)
    dists = torch.cat([pair_distances(test[t], t_test[t], train[c], t_train[c])
                       for t, c in zip(test_rows.split(PAIRS), flat.split(PAIRS))]).view(n, k).sqrt()
    order = dists.argsort(dim=1)
    labels = train_labels[candidates.gather(1, order)]
    d = SIDE * SIDE
    per_pair = (2 * len(TANGENTS)) ** 2 * d // 2 + 2 * len(TANGENTS) * d  # the cross block of the Gram matrix and the rhs
    return Outcome(vote_scores(dists.gather(1, order), labels), len(train) * d * (1 + len(TANGENTS)),
                   len(train) * d + k * per_pair,
                   f"16x16; the {CANDIDATES} Euclidean-nearest training digits compared by tangent distance, 3 votes")
