"""The readers' weights files: the shipped ones (lenet5/weights/readers/) and any made by
`lenet5 train-reader`. A file says which reader it holds in its metadata ("method": "sdnn", with
the SDNN's maps, or "hos", a segment recognizer) and `classes` = 11 (ten digits and none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lenet5.errors import Lenet5Error
from lenet5.pretrained import WEIGHTS_DIR, read_safetensors, save_weights
from lenet5.read.classes import CLASSES
from lenet5.read.recognizer import reader_network
from lenet5.read.sdnn import SDNN

READERS_DIR = WEIGHTS_DIR / "readers"
DEFAULT_READER = "amounts"  # the SDNN


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
