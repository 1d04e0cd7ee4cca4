"""Self-describing checkpoints: weights, optimizer state, configs, pass, metrics, RNG state.

Saved atomically (temporary file, then rename), so a crash never leaves a half-written file
under the real name. Loaded with `weights_only=True`: a file crafted to run code when unpickled
is refused, not run.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from lenet5.atomic import write_atomic
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet, ModelConfig


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    write_atomic(path, lambda tmp: torch.save(state, tmp))


def save_json(path: Path, data: Any) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def save_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows as CSV, columns in order of first appearance."""
    fields = list(dict.fromkeys(k for row in rows for k in row))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    write_atomic(path, write)


def load_checkpoint(path: str | os.PathLike, keys: tuple[str, ...] = ("model", "model_config"),
                    what: str = "a lenet5 checkpoint (no model weights and config)") -> dict[str, Any]:
    """The checkpoint at `path`, a dict holding `keys` (else: not `what`)."""
    path = Path(path)
    if not path.is_file():
        raise Lenet5Error(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # it asks for more than tensors and plain data: maybe code
        raise Lenet5Error(f"{path}: refused: the file holds objects other than weights and plain data") from None
    except Exception:  # not a file torch can read at all
        raise Lenet5Error(f"{path}: not a PyTorch checkpoint") from None
    if not isinstance(state, dict) or any(key not in state for key in keys):
        raise Lenet5Error(f"{path}: not {what}")
    return state


def model_from_checkpoint(state: dict[str, Any], source: str = "checkpoint") -> LeNet:
    """Rebuild the network from a checkpoint alone."""
    return build_model(state["model_config"], state["model"], source)


def build_model(config: Any, weights: dict[str, torch.Tensor], source: str) -> LeNet:
    """The network of a stored config with its stored weights, in eval mode; a file from another
    version of lenet5 (fields or tensors this one does not know) is one Lenet5Error naming `source`."""
    try:
        model = LeNet(ModelConfig(**config))
        model.load_state_dict(weights)
    except (TypeError, ValueError, KeyError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise Lenet5Error(f"{source}: made by another version of lenet5, or damaged ({first})") from None
    return model.eval()
