"""Pictures a person would rather look at than read."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from lenet5.atomic import write_atomic  # noqa: E402
from lenet5.preprocess import taken_out_said  # noqa: E402

PAPER_TEST_ERROR = 0.95  # % (Sec. III-B)


def _array(x):
    """matplotlib wants numpy arrays, not tensors."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


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
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title or "LeNet-5 learning curves")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_distortions(images: torch.Tensor, draws: torch.Tensor, path: Path) -> None:
    """A grid: one row per digit, the original then its distorted versions.
    images: (rows, 28, 28) uint8; draws: (rows, cols, 28, 28) float on the same 0-255 scale."""
    rows, cols = draws.shape[:2]
    fig, axes = plt.subplots(rows, cols + 1, figsize=(1.1 * (cols + 1), 1.1 * rows), dpi=100)
    for r in range(rows):
        for c in range(cols + 1):
            ax = axes[r, c]
            ax.imshow(_array(images[r] if c == 0 else draws[r, c - 1]), cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(str(r), rotation=0, labelpad=10)
    axes[0, 0].set_title("original", fontsize=8)
    for c in range(1, cols + 1):
        axes[0, c].set_title(f"draw {c}", fontsize=8)
    _save(fig, path)


def plot_confusion(confusion: torch.Tensor, path: Path, title: str) -> None:
    """The confusion matrix with counts; the diagonal greyed so the errors stand out."""
    fig, ax = plt.subplots(figsize=(6, 5.4), dpi=120)
    off = confusion.clone().float()
    off.fill_diagonal_(float("nan"))
    ax.imshow(_array(off), cmap="Reds")
    for t in range(10):
        for p in range(10):
            count = int(confusion[t, p])
            if count:
                ax.text(p, t, str(count), ha="center", va="center", fontsize=7, color="grey" if t == p else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _save(fig, path)


def plot_gallery(images: torch.Tensor, true: torch.Tensor, predicted: torch.Tensor, path: Path, title: str) -> None:
    """Every misclassified digit, labelled true->predicted (like the paper's Fig. 8)."""
    n = len(images)
    cols = 12
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05 + 0.5), dpi=100, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(_array(images[i]), cmap="gray_r", vmin=0, vmax=255)
            ax.set_title(f"{int(true[i])}->{int(predicted[i])}", fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def plot_rejection(rejected: torch.Tensor, error: torch.Tensor, path: Path, needed: float) -> None:
    """Error on the kept digits against the fraction rejected by confidence (Fig. 10's measure)."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    limit = min(1.0, max(0.1, 2 * needed))
    keep = rejected <= limit
    ax.plot(100 * rejected[keep], 100 * error[keep])
    ax.axhline(0.5, color="grey", ls="--", lw=1, label="0.5% error")
    ax.axvline(100 * needed, color="tab:red", ls=":", lw=1, label=f"{100 * needed:.1f}% rejected")
    ax.set_xlabel("rejected (%), least confident first")
    ax.set_ylabel("error on the kept digits (%)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_feature_maps(maps: dict[str, torch.Tensor], digit: torch.Tensor, path: Path, title: str) -> None:
    """The input and every map of C1, S2, C3 and S4 for one digit (after the squashing)."""
    rows = [("input", digit[None])] + list(maps.items())
    cols = max(len(m) for _, m in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.7, len(rows) * 0.85 + 0.4), dpi=110, squeeze=False)
    for r, (name, stack) in enumerate(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(stack):
                ax.imshow(_array(stack[c]), cmap="gray_r")
        axes[r, 0].set_title(name, fontsize=8, loc="left")
    fig.suptitle(title)
    _save(fig, path)


def plot_prototypes(prototypes: torch.Tensor, path: Path) -> None:
    """The ten 7x12 RBF bitmaps of Fig. 3."""
    fig, axes = plt.subplots(1, 10, figsize=(8, 1.8), dpi=120)
    for digit, ax in enumerate(axes):
        ax.imshow(_array(prototypes[digit].view(12, 7)), cmap="gray_r", vmin=-1, vmax=1)
        ax.set_title(str(digit))
        ax.axis("off")
    _save(fig, path)


def plot_predictions(items: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, int, tuple[str, ...]]], path: Path,
                     smaller_wins: bool) -> None:
    """Per image: what it was, what the network saw (32x32) and which printed marks were taken out
    before, the ten scores, the answer. items: (name, original grey (H, W), network input (32, 32),
    scores (10,), digit, marks taken out)."""
    fig, axes = plt.subplots(len(items), 3, figsize=(8, 2.2 * len(items)), dpi=100, squeeze=False)
    for row, (name, original, seen, scores, digit, taken_out) in zip(axes, items):
        row[0].imshow(_array(original), cmap="gray", vmin=0, vmax=1)
        row[0].set_title(Path(name).name, fontsize=8)
        row[1].imshow(_array(seen), cmap="gray_r")
        row[1].set_title(f"network input (32x32{taken_out_said(taken_out)})", fontsize=8)
        for ax in row[:2]:
            ax.axis("off")
        colors = ["tab:red" if d == digit else "tab:blue" for d in range(10)]
        row[2].bar(range(10), scores.tolist(), color=colors)
        row[2].set_xticks(range(10))
        row[2].set_title(f"answer {digit} ({'smallest penalty' if smaller_wins else 'largest logit'})", fontsize=8)
    _save(fig, path)


def plot_ablation(rows: list[dict[str, Any]], path: Path) -> None:
    """Test error per variant: every seed as a dot (its spread at a glance, a collapsed seed
    included), the mean as a bar; the paper's 0.95% as a line. A diverged seed is drawn at
    chance (90%) as a cross."""
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(rows) + 1.2), dpi=120)
    y = list(range(len(rows)))[::-1]
    for k, r in zip(y, rows):
        seeds = r["per_seed"]
        done = [e for e in seeds if e is not None]
        ax.plot(done, [k] * len(done), "o", color="tab:blue", alpha=0.6, ms=5, label="one seed")
        if len(done) < len(seeds):
            ax.plot([90.0] * (len(seeds) - len(done)), [k] * (len(seeds) - len(done)), "x", color="tab:red",
                    label="diverged (drawn at chance, 90%)")
        if r["mean"] is not None:
            ax.plot([r["mean"]], [k], "|", color="black", ms=14, mew=2, label="mean over seeds")
    ax.set_yticks(y)
    ax.set_yticklabels([r["description"] for r in rows], fontsize=8)
    ax.axvline(PAPER_TEST_ERROR, color="grey", ls="--", lw=1, label="paper: 0.95%")
    ax.set_xscale("log")
    ax.set_xlabel("MNIST test error (%)")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))  # one legend entry per kind of mark
    ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
    _save(fig, path)


def plot_readings(items: list[tuple[str, Any, Any]], path: Path) -> None:
    """Each image (grey (H, W) [0, 1]) with a box around every digit read and the digit above it;
    items: (title, grey, reading)."""
    fig, axes = plt.subplots(len(items), 1, figsize=(7, 2.2 * len(items)), dpi=110, squeeze=False)
    for ax, (title, grey, reading) in zip(axes[:, 0], items):
        ax.imshow(_array(grey), cmap="gray", vmin=0, vmax=1)
        for d in reading.digits:
            ax.add_patch(matplotlib.patches.Rectangle((d.x0, d.y0), d.x1 - d.x0, d.y1 - d.y0, fill=False, ec="tab:red", lw=1.5))
            ax.text((d.x0 + d.x1) / 2, d.y0, str(d.digit), color="white", ha="center", va="bottom", fontsize=11,
                    bbox={"facecolor": "tab:red", "edgecolor": "none", "pad": 1})
        ax.set_title(f"{title}: {reading.number} (confidence {reading.confidence:.2f}{taken_out_said(reading.taken_out)})",
                     fontsize=9)
        ax.axis("off")
    _save(fig, path)


def plot_robustness(results: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Test error against strength, one panel per transformation, one curve per model."""
    kinds = list(dict.fromkeys(row["transformation"] for row in next(iter(results.values()))))
    cols = 4
    fig, axes = plt.subplots(math.ceil(len(kinds) / cols), cols, figsize=(13, 3.2 * math.ceil(len(kinds) / cols)), dpi=110,
                             squeeze=False)
    for ax, kind in zip(axes.flat, kinds):
        for name, rows in results.items():
            mine = [r for r in rows if r["transformation"] == kind]
            ax.plot([r["strength"] for r in mine], [100 * r["error"] for r in mine], "-o", ms=3, label=name)
        ax.set_title(kind, fontsize=10)
        ax.set_xlabel(mine[0]["unit"], fontsize=8)
        ax.set_ylabel("test error %", fontsize=8)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(kinds):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    _save(fig, path)
