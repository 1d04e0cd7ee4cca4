"""What `lenet5 evaluate` and `lenet5 show` write: pictures and a JSON summary in a folder."""

from __future__ import annotations

from pathlib import Path

import torch

from lenet5.checkpoint import save_json
from lenet5.evaluate import Evaluation
from lenet5.model import LeNet
from lenet5.plots import plot_confusion, plot_feature_maps, plot_gallery, plot_prototypes, plot_rejection


def write_evaluation(evaluation: Evaluation, images: torch.Tensor, out: Path, title: str) -> dict:
    """confusion.png, misclassified.png, rejection.png and evaluation.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    summary = evaluation.summary()
    wrong = evaluation.misclassified
    plot_confusion(evaluation.confusion, out / "confusion.png", f"{title}: {100 * evaluation.error:.2f}% error")
    plot_gallery(images[wrong], evaluation.labels[wrong], evaluation.predicted[wrong], out / "misclassified.png",
                 f"{title}: the {len(wrong)} misclassified test digits (true->predicted)")
    plot_rejection(*evaluation.rejection.reachable(), out / "rejection.png", evaluation.rejection.needed_for())
    save_json(out / "evaluation.json", summary)
    return summary


def format_confusion(confusion: torch.Tensor) -> str:
    lines = ["true\\pred " + "".join(f"{p:>6d}" for p in range(10))]
    lines += [f"{t:>9d} " + "".join(f"{int(c):>6d}" for c in row) for t, row in enumerate(confusion)]
    return "\n".join(lines)


@torch.no_grad()
def write_feature_maps(model: LeNet, digit: torch.Tensor, out: Path, title: str) -> None:
    """The maps of C1, S2, C3 and S4 (after squashing) for one uint8 digit (28, 28)."""
    x = model.prepare(digit[None])
    maps = {name: m[0] for name, m in model.eval().feature_maps(x).items()}
    plot_feature_maps(maps, x[0, 0], out, title)


def write_prototypes(model: LeNet, out: Path) -> bool:
    """The RBF bitmaps, when the model has an RBF head."""
    prototypes = getattr(model.output, "prototypes", None)
    if prototypes is None:
        return False
    plot_prototypes(prototypes, out)
    return True
