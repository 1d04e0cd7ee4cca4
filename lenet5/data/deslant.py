"""Deslanting (Sec. III-C-1, Fig. 9's [deslant] rows): each digit's rows sheared so that the
principal axis of its ink, from second moments with the ink as weight, is vertical; then a
20x20 crop centred on the ink's centre of mass. Whole batches at once."""

from __future__ import annotations

import torch
import torch.nn.functional as F

CROP = 20  # px: the paper's 20x20


def slant(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 or float (N, H, W) -> (x_mean, y_mean, shear) per digit, in pixels: the shear
    s = cov(x, y) / var(y) of the ink, so x - s (y - y_mean) has no correlation with y."""
    w = images.float()
    n, h, wd = w.shape
    ys = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(wd, dtype=torch.float32).view(1, 1, wd)
    mass = w.sum(dim=(1, 2)).clamp_min(1e-6)
    xm = (w * xs).sum(dim=(1, 2)) / mass
    ym = (w * ys).sum(dim=(1, 2)) / mass
    cov = (w * (xs - xm.view(-1, 1, 1)) * (ys - ym.view(-1, 1, 1))).sum(dim=(1, 2)) / mass
    var = (w * (ys - ym.view(-1, 1, 1)) ** 2).sum(dim=(1, 2)) / mass
    return xm, ym, cov / var.clamp_min(1e-6)


def deslant(images: torch.Tensor, crop: int = CROP) -> torch.Tensor:
    """uint8 (N, H, W) -> uint8 (N, crop, crop): sheared upright, centred on the ink's centre of
    mass (bilinear; outside the digit is paper)."""
    n, h, w = images.shape
    xm, ym, shear = slant(images)
    grid_v, grid_u = torch.meshgrid(torch.arange(crop, dtype=torch.float32), torch.arange(crop, dtype=torch.float32),
                                    indexing="ij")
    dy = (grid_v - (crop - 1) / 2).unsqueeze(0)  # (1, crop, crop)
    y = ym.view(-1, 1, 1) + dy
    x = xm.view(-1, 1, 1) + (grid_u - (crop - 1) / 2).unsqueeze(0) + shear.view(-1, 1, 1) * dy
    grid = torch.stack((2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1), dim=-1)  # align_corners=True coordinates
    out = F.grid_sample(images.unsqueeze(1).float(), grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out.squeeze(1).round().clamp(0, 255).to(torch.uint8)
