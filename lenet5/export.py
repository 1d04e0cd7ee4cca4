"""Export a trained LeNet-5: ONNX, TorchScript, or safetensors weights with metadata.

The exported graph takes float32 digits (B, 1, 32, 32), any batch size B, already in the
model's input convention (`pad-32`: background -0.1, ink 1.175; see lenet5/data/feed.py), and
returns `scores` (B, 10): RBF penalties (smaller wins) for the `paper` head, logits for
softmax; and `features` (B, 84), F6's outputs. Every export is checked against PyTorch on real
digits by the command that makes it: features within 1e-4 absolute, scores within 1e-4 or 1e-5
relative, whichever is larger (RBF penalties reach a few hundred, where float32 itself is only
good to about 1e-4: PyTorch's own float32 scores differ from float64 by that much).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from lenet5.atomic import write_atomic
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet

FORMATS = ("onnx", "torchscript")


class Scores(nn.Module):
    """LeNet for its fixed input: digits (B, 1, 32, 32) -> scores (B, 10), features (B, 84) (what
    the output layer reads: F6 for LeNet-5)."""

    def __init__(self, model: LeNet):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.model.features(x)
        return self.model.output(features).flatten(1), features.flatten(1)


def example_input(model: LeNet) -> torch.Tensor:
    size = model.architecture.size  # 32 for LeNet-5
    return torch.zeros(2, 1, size, size)


def export_onnx(model: LeNet, path: Path) -> None:
    example = example_input(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_atomic(path, lambda tmp: torch.onnx.export(
            Scores(model).eval(), (example,), str(tmp), input_names=["digits"], output_names=["scores", "features"],
            dynamic_axes={"digits": {0: "batch"}, "scores": {0: "batch"}, "features": {0: "batch"}}, dynamo=False))


def export_torchscript(model: LeNet, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates TorchScript; it still works
        traced = torch.jit.trace(Scores(model).eval(), example_input(model))
    write_atomic(path, lambda tmp: traced.save(str(tmp)))


def run_onnx(path: Path, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        import onnxruntime
    except ImportError:
        raise Lenet5Error("checking an ONNX export needs onnxruntime: pip install 'lenet5[export]'") from None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    scores, features = session.run(None, {"digits": x.numpy().astype(np.float32)})
    return torch.from_numpy(scores), torch.from_numpy(features)


def run_torchscript(path: Path, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path))(x)


EXPORTERS = {"onnx": (export_onnx, run_onnx), "torchscript": (export_torchscript, run_torchscript)}


@dataclass(frozen=True)
class Parity:
    features: float  # max |difference| of F6's outputs
    scores: float  # max |difference| of the scores
    scores_relative: float  # max |difference| / |score|
    scores_within: bool  # every score within max(1e-4, 1e-5 |score|)

    def ok(self) -> bool:
        return self.features < 1e-4 and self.scores_within


def export(model: LeNet, fmt: str, path: Path, check_inputs: torch.Tensor) -> Parity:
    """Write `model` as `fmt` to `path` and compare its outputs with PyTorch's on
    `check_inputs`; the file is removed when they disagree."""
    if fmt not in EXPORTERS:
        raise Lenet5Error(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    write, run = EXPORTERS[fmt]
    model = model.eval()
    write(model, path)
    with torch.no_grad():
        scores, features = Scores(model)(check_inputs)
    got_scores, got_features = run(path, check_inputs)
    score_diff = (got_scores - scores).abs()
    parity = Parity((got_features - features).abs().max().item(), score_diff.max().item(),
                    (score_diff / scores.abs().clamp(min=1e-12)).max().item(),
                    bool((score_diff <= (1e-5 * scores.abs()).clamp(min=1e-4)).all()))
    if not parity.ok():
        path.unlink(missing_ok=True)
        raise Lenet5Error(f"{fmt} export disagrees with PyTorch ({parity}); nothing written")
    return parity
