"""Pictures a person would rather look at than read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lenet5.checkpoint import write_atomic  # noqa: E402

PAPER_TEST_ERROR = 0.95  # % (Sec. III-B)


def plot_curves(history: list[dict[str, Any]], path: Path, title: str = "") -> None:
    """Training and test error per pass, in percent, like the paper's Fig. 5."""
    epochs = [row["epoch"] for row in history]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for key, label, style in (("train_error", "training (on the fly)", "-o"), ("val_error", "held-out", "-s"),
                              ("test_error", "test", "-^")):
        if key in history[0]:
            ax.plot(epochs, [100 * row[key] for row in history], style, ms=3, label=label)
    ax.axhline(PAPER_TEST_ERROR, color="grey", ls="--", lw=1, label="paper: 0.95% test")
    ax.set_xlabel("pass over the training set")
    ax.set_ylabel("error (%)")
    ax.set_yscale("log")
    ax.set_title(title or "LeNet-5 learning curves")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def plot_distortions(images: torch.Tensor, draws: torch.Tensor, path: Path) -> None:
    """A grid: one row per digit, the original then its distorted versions.
    images: (rows, 28, 28) uint8; draws: (rows, cols, 28, 28) float on the same 0-255 scale."""
    rows, cols = draws.shape[:2]
    fig, axes = plt.subplots(rows, cols + 1, figsize=(1.1 * (cols + 1), 1.1 * rows), dpi=100)
    for r in range(rows):
        for c in range(cols + 1):
            ax = axes[r, c]
            ax.imshow(images[r] if c == 0 else draws[r, c - 1], cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(str(r), rotation=0, labelpad=10)
    axes[0, 0].set_title("original", fontsize=8)
    for c in range(1, cols + 1):
        axes[0, c].set_title(f"draw {c}", fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
