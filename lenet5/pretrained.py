"""Trained weights shipped inside the package, and finding a model by name, file or run dir.

Each shipped model is `lenet5/weights/<name>.safetensors`: the weights, plus metadata beside
them (torchvision's `meta` habit): the preset, model config, parameter count, the test error
it reached and the command that made it.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from lenet5.atomic import write_atomic
from lenet5.checkpoint import build_model, load_checkpoint, model_from_checkpoint
from lenet5.calibration import Temperature
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet

WEIGHTS_DIR = Path(__file__).parent / "weights"
# What `lenet5 predict` reads with unless told otherwise: the paper's network trained on
# distorted digits and random pens and scans reads people's digits best (docs/reading.md: markers,
# coarse scans), at a clean test error of 0.75% (3 seeds: 0.75 / 0.78 / 0.71%).
BEST = "paper-pens"


def shipped() -> list[str]:
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))


def save_weights(model: LeNet, path: Path | str, meta: dict[str, Any]) -> None:
    """Weights as safetensors with string metadata (values JSON-encoded)."""
    path = Path(path)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    metadata = {k: json.dumps(v) for k, v in meta.items()}
    write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    path.chmod(0o644)  # safetensors creates its file private


def read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and the (JSON-decoded) metadata of a .safetensors file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = {k: json.loads(v) for k, v in (f.metadata() or {}).items()}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for bad files
        raise Lenet5Error(f"{path}: not a safetensors weights file ({e})") from None
    return tensors, meta


def read_weights(path: Path) -> tuple[LeNet, dict[str, Any]]:
    tensors, meta = read_safetensors(path)
    if "model_config" not in meta:
        raise Lenet5Error(f"{path}: no model_config in its metadata")
    if meta.get("classes", 10) != 10:
        raise Lenet5Error(f"{path}: a reader of whole numbers, not a digit model: use it with lenet5 read --model")
    model = build_model(meta["model_config"], tensors, str(path))
    calibration = meta.get("calibration")
    if calibration is not None:
        try:
            t = float(calibration["T"]) if calibration.get("method") == "temperature" else math.nan
        except (AttributeError, KeyError, TypeError, ValueError):
            t = math.nan
        if not 0 < t < math.inf:
            raise Lenet5Error(f"{path}: an unknown calibration in its metadata ({str(calibration)[:200]})")
        model.calibration = Temperature(t)  # predict's probability; see lenet5/calibration.py
    return model, meta


def load_pretrained(name: str = BEST) -> LeNet:
    """A shipped, trained LeNet-5 (see `shipped()`; default: the best reader), ready for inference."""
    return load_model(name)[0]


def load_model(spec: str | os.PathLike) -> tuple[LeNet, dict[str, Any]]:
    """A model from a shipped name, a checkpoint file, a run directory or a .safetensors file;
    returns it in eval mode with what is known about it."""
    spec_str = str(spec)
    if spec_str in shipped():
        model, meta = read_weights(WEIGHTS_DIR / f"{spec_str}.safetensors")
        return model, {"source": f"shipped:{spec_str}", **meta}
    path = Path(spec)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if path.suffix == ".safetensors" and path.is_file():
        model, meta = read_weights(path)
        return model, {"source": str(path), **meta}
    if not path.exists():
        raise Lenet5Error(f"{spec}: no shipped model of that name ({', '.join(shipped()) or 'none'}), and no such file or run directory")
    state = load_checkpoint(path)
    history = state.get("history") or [{}]
    return model_from_checkpoint(state, str(path)), {"source": str(path), "model_config": state["model_config"],
                                          "train_config": state.get("train_config"), "seed": state.get("seed"),
                                          "test_error": history[-1].get("test_error"), "epoch": state.get("epoch"),
                                          **state.get("rounding", {})}

