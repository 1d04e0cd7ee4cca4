"""LeNet-5's building blocks (Sec. II-B), each small and tested alone.

Every layer with weights computes `affine(x, weight, bias)`, a map that is linear in `x` and in
`weight` separately; `forward` calls it with the layer's own parameters. The curvature pass of
SDLM (lenet5/curvature.py) calls the same `affine` with squared weights on squared inputs, so the
second-derivative recursion of Appendix C can never drift from the forward pass. Layers without
weights say how they pass second derivatives back in `squared`; activations give `derivative`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from lenet5.bitmaps import PROTOTYPES

# Table I (p. 8): C3 map -> the S2 maps it reads. Compare with the paper by eye.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),  # contiguous triples
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),  # contiguous fours
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),  # non-contiguous fours
    (0, 1, 2, 3, 4, 5),  # all six
)


def c3_mask(table: tuple[tuple[int, ...], ...] = C3_TABLE, inputs: int = 6) -> torch.Tensor:
    """Table I as a 0/1 matrix (16, 6): mask[o, i] = 1 when C3 map o reads S2 map i."""
    mask = torch.zeros(len(table), inputs)
    for o, reads in enumerate(table):
        mask[o, list(reads)] = 1.0
    return mask


# --- activations -----------------------------------------------------------------------------

A, S = 1.7159, 2.0 / 3.0  # eq. 6 and Appendix A: f(1) = 1, f(-1) = -1


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = A tanh(S a) (eq. 6), A = 1.7159, S = 2/3."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return A * torch.tanh(S * a)

    def derivative(self, a: torch.Tensor) -> torch.Tensor:
        return A * S * (1 - torch.tanh(S * a) ** 2)


class Tanh(nn.Module):
    """Plain tanh (a common simplification)."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return torch.tanh(a)

    def derivative(self, a: torch.Tensor) -> torch.Tensor:
        return 1 - torch.tanh(a) ** 2


class ReLU(nn.Module):
    """max(0, a) (the modern choice)."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return F.relu(a)

    def derivative(self, a: torch.Tensor) -> torch.Tensor:
        return (a > 0).to(a.dtype)


# --- the 2x2 block sum of S2/S4 --------------------------------------------------------------


def _block_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of each non-overlapping 2x2 block (an odd last row or column is dropped, as pooling
    does), added in the order F.avg_pool2d adds them, so the sums are bit for bit 4 x its means."""
    x = x[..., : x.shape[-2] // 2 * 2, : x.shape[-1] // 2 * 2]
    return ((x[..., 0::2, 0::2] + x[..., 0::2, 1::2]) + x[..., 1::2, 0::2]) + x[..., 1::2, 1::2]


class _BlockSum(torch.autograd.Function):
    """`_block_sum` whose backward hands each block's gradient to its four inputs in one copy
    (autograd's own backward of the four slices costs four zero-filled full-size tensors)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.input_shape = x.shape
        return _block_sum(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        *lead, h, w = ctx.input_shape
        spread = grad[..., :, None, :, None].expand(*grad.shape[:-2], h // 2, 2, w // 2, 2).reshape(*lead, h // 2 * 2, w // 2 * 2)
        if (h % 2, w % 2) == (0, 0):
            return spread
        out = grad.new_zeros(ctx.input_shape)
        out[..., : h // 2 * 2, : w // 2 * 2] = spread
        return out


def block_sum(x: torch.Tensor) -> torch.Tensor:
    """(..., H, W) -> (..., H/2, W/2): the sum of each 2x2 block. The same numbers as
    4 * F.avg_pool2d(x, 2) and the same gradients, 40% faster forward and backward."""
    if x.requires_grad and not torch.jit.is_tracing():  # exporters trace the plain operations
        return _BlockSum.apply(x)
    return _block_sum(x)


# --- layers with weights -------------------------------------------------------------------


class Conv(nn.Module):
    """A valid 5x5 convolution + bias, optionally wired by a 0/1 connection mask (C3's Table I).

    Disconnected kernels are zero at init and stay zero: the forward pass multiplies by the mask,
    so their gradient is exactly zero, and they are not counted as parameters.
    """

    def __init__(self, in_maps: int, out_maps: int, kernel: int = 5, mask: torch.Tensor | None = None):
        super().__init__()
        self.kernel = kernel
        self.weight = nn.Parameter(torch.zeros(out_maps, in_maps, kernel, kernel))  # drawn by model.initialize
        self.bias = nn.Parameter(torch.zeros(out_maps))
        self.masked = mask is not None  # a full connection skips the multiply by ones
        mask = torch.ones(out_maps, in_maps) if mask is None else mask
        self.register_buffer("mask", mask[:, :, None, None].clone(), persistent=False)

    def fan_in(self) -> torch.Tensor:
        """Inputs per unit of each output map (C3: 75, 100 or 150 by Table I)."""
        return self.mask.sum(dim=(1, 2, 3)) * self.kernel**2

    def affine(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, weight * self.mask if self.masked else weight, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.affine(x, self.weight, self.bias)

    def trainable_parameters(self) -> int:
        return int(self.fan_in().sum()) + self.bias.numel()

    def connections(self, out: torch.Size) -> int:
        return out[-2] * out[-1] * self.trainable_parameters()


class Subsampling(nn.Module):
    """S2/S4: the sum of each 2x2 block (stride 2), times one trainable coefficient per map,
    plus one trainable bias per map (Sec. II-B; "added" p. 7, "average" p. 6: the same up to a
    factor 4 that the coefficient absorbs)."""

    def __init__(self, maps: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(maps))  # the coefficient
        self.bias = nn.Parameter(torch.zeros(maps))

    def fan_in(self) -> torch.Tensor:
        return torch.full_like(self.weight, 4.0)

    def affine(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return block_sum(x) * weight[:, None, None] + bias[:, None, None]  # (B, C, H/2, W/2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.affine(x, self.weight, self.bias)

    def trainable_parameters(self) -> int:
        return self.weight.numel() + self.bias.numel()

    def connections(self, out: torch.Size) -> int:
        return out[-3] * out[-2] * out[-1] * 5  # 4 inputs + bias per unit


class RowLinear(nn.Module):
    """The blog's learned map over the width of every feature map: nn.Linear(width, width)
    applied to each row of each map (in place of the paper's slope S or pooling coefficient)."""

    def __init__(self, width: int):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.weight, self.bias = self.linear.weight, self.linear.bias

    def fan_in(self) -> torch.Tensor:
        return torch.full((self.weight.shape[0],), float(self.weight.shape[1]))

    def affine(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.linear(x, weight, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.affine(x, self.weight, self.bias)

    def trainable_parameters(self) -> int:
        return self.weight.numel() + self.bias.numel()

    def connections(self, out: torch.Size) -> int:
        return out[-3] * out[-2] * out[-1] * (self.weight.shape[1] + 1)


# --- pooling without weights ---------------------------------------------------------------


class Fan(nn.Module):
    """Each map handed on `copies` times, side by side: LeNet-4's S2 maps "connected in pairs"
    to each C1 map (Sec. III-C-7). Routing only: no weights, no connections of its own."""

    def __init__(self, copies: int):
        super().__init__()
        self.copies = copies

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat_interleave(self.copies, dim=1)

    def squared(self, s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return s.repeat_interleave(self.copies, dim=1)


class SumPool(nn.Module):
    """Sum of each 2x2 block (the blog's LPPool2d with p=1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return block_sum(x)

    def squared(self, s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return block_sum(s)  # coefficients 1, squared 1

    def connections(self, out: torch.Size) -> int:
        return out[-3] * out[-2] * out[-1] * 4


class AvgPool(SumPool):
    """Mean of each 2x2 block."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2)

    def squared(self, s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(s, 2) / 4  # coefficients 1/4, squared 1/16


class MaxPool(SumPool):
    """Max of each 2x2 block."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, 2)

    def squared(self, s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # the winner of each block passes its second derivative back with coefficient 1
        _, index = F.max_pool2d(x, 2, return_indices=True)
        return s.flatten(2).gather(2, index.flatten(2)).view_as(index).to(s.dtype)


# --- output ---------------------------------------------------------------------------------


class RBFOutput(nn.Module):
    """Euclidean RBF units (eq. 7): y_i = sum_j (x_j - w_ij)^2, w fixed to the bitmaps of Fig. 3.

    Input (B, 84, H, W), output (B, 10, H, W): a penalty per class, smaller is better.
    """

    def __init__(self, prototypes: torch.Tensor = PROTOTYPES):
        super().__init__()
        self.register_buffer("prototypes", prototypes.clone())  # (10, 84), not trainable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.unsqueeze(1) - self.prototypes[None, :, :, None, None]  # (B, 10, 84, H, W)
        return (d**2).sum(dim=2)

    def to_logits(self, y: torch.Tensor) -> torch.Tensor:
        return -y

    def connections(self, out: torch.Size) -> int:
        return out[-3] * out[-2] * out[-1] * self.prototypes.shape[1]


class SoftmaxOutput(Conv):
    """A full connection F6 -> 10 logits (to be read through a softmax): a 1x1 convolution, or
    one as wide as the maps it reads (`kernel`) where no fully connected layer comes before it."""

    def __init__(self, inputs: int = 84, classes: int = 10, kernel: int = 1):
        super().__init__(inputs, classes, kernel=kernel)

    def to_logits(self, y: torch.Tensor) -> torch.Tensor:
        return y
