"""The readers' networks, and their weights files.

Two readers, as in the paper: the SDNN (Sec. VII, lenet5/read/sdnn.py), LeNet-5 swept over the
whole line, and the segment recognizer of heuristic over-segmentation (Sec. VI), below. A
weights file says which it holds in its metadata ("method": "sdnn" or "hos").

The segment recognizer: LeNet-5 with an eleventh output, "none", for what is not one digit.

Over-segmentation offers the recognizer pieces of digits, pairs of digits and specks as well as
digits (Sec. VI-A); the paper's recognizer had to score all of them, and was trained on the
segments a segmenter produces. Ours is the paper's network (Fig. 2: C1, trainable subsampling,
Table I, scaled tanh, literal init) with a softmax over 10 digits + none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lenet5.errors import Lenet5Error
from lenet5.model import LeNet, ModelConfig
from lenet5.pretrained import WEIGHTS_DIR, read_safetensors, save_weights
from lenet5.read.classes import CLASSES
from lenet5.read.sdnn import SDNN

# Deviation: a softmax output with a "none" class instead of the RBF bitmaps: Fig. 3 has no
# bitmap for "not a character", and the none class is what the search needs to rank cuts.
READER_CONFIG = ModelConfig(head="softmax", loss="cross-entropy")
READERS_DIR = WEIGHTS_DIR / "readers"
DEFAULT_READER = "amounts"  # the SDNN


def reader_network(seed: int = 0) -> LeNet:
    """A fresh recognizer: LeNet-5 whose output layer gives 11 logits (B, 11)."""
    return LeNet(READER_CONFIG, seed=seed, classes=CLASSES)


def shipped_readers() -> list[str]:
    return sorted(p.stem for p in READERS_DIR.glob("*.safetensors"))


def save_reader(model: torch.nn.Module, path: Path, meta: dict[str, Any]) -> None:
    """Weights and metadata of a reader: an SDNN (its `maps` recorded) or a segment recognizer."""
    method = {"method": "sdnn", "maps": list(model.maps)} if isinstance(model, SDNN) else {"method": "hos"}
    save_weights(model, path, {"classes": CLASSES, **method, **meta})


def load_reader(spec: str | Path = DEFAULT_READER) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A reader from a shipped name (see `shipped_readers()`) or a .safetensors file, in eval mode:
    an SDNN, or a segment recognizer (a LeNet) for heuristic over-segmentation."""
    path = READERS_DIR / f"{spec}.safetensors" if str(spec) in shipped_readers() else Path(spec)
    if not path.is_file():
        raise Lenet5Error(f"{spec}: no shipped reader of that name ({', '.join(shipped_readers()) or 'none'}), and no such file")
    tensors, meta = read_safetensors(path)
    if meta.get("classes") != CLASSES:
        raise Lenet5Error(f"{path}: not a reader of whole numbers (a digit model has no 'none' class; "
                          "make one with lenet5 train-reader)")
    try:
        model = SDNN(tuple(int(m) for m in meta["maps"])) if meta.get("method") == "sdnn" else reader_network()
        model.load_state_dict(tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise Lenet5Error(f"{path}: a damaged reader file ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    return model.eval(), {"source": f"shipped:{spec}" if path.parent == READERS_DIR else str(path), "method": "hos", **meta}
