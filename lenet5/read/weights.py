"""The readers' weights files: the shipped ones (lenet5/weights/readers/) and any made by
`lenet5 train-reader` or `lenet5 calibrate-reader`. A file says which reader it holds in its metadata
("method": "sdnn", with the SDNN's `maps` and any `context` and `depth`, or a committee's `members`, each
one SDNN's maps, with `contexts` and `depths` where one has a context or a depth; or
"hos", a segment recognizer), `classes` = 11 (ten digits and none), and, once calibrated, the
map from the reader's probability of a reading to the confidence it reports (`calibration`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from lenet5.calibration import Platt
from lenet5.errors import Lenet5Error
from lenet5.pretrained import WEIGHTS_DIR, read_safetensors, save_weights
from lenet5.read.classes import CLASSES
from lenet5.read.committee import Committee
from lenet5.read.recognizer import reader_network
from lenet5.read.sdnn import SDNN, check_context, check_depth, check_maps

READERS_DIR = WEIGHTS_DIR / "readers"
DEFAULT_READER = "amounts"  # the SDNN


def shipped_readers() -> list[str]:
    return sorted(p.stem for p in READERS_DIR.glob("*.safetensors"))


def save_reader(model: torch.nn.Module, path: Path | str, meta: dict[str, Any]) -> None:
    """Weights and metadata of a reader: an SDNN (its `maps` recorded, and its `context` and `depth` where
    they are not the paper's), a committee of SDNNs (each member's maps; `contexts`, `depths` where one's
    is not the paper's) or a segment recognizer. Files of SDNNs as the paper's stay as they were."""
    if isinstance(model, Committee):
        method = {"method": "sdnn", "members": [list(m.maps) for m in model.members]}
        if any(m.context for m in model.members):
            method["contexts"] = [m.context for m in model.members]
        if any(m.depth != 1 for m in model.members):
            method["depths"] = [m.depth for m in model.members]
    elif isinstance(model, SDNN):
        method = {"method": "sdnn", "maps": list(model.maps), **({"context": model.context} if model.context else {}),
                  **({"depth": model.depth} if model.depth != 1 else {})}
    else:
        method = {"method": "hos"}
    save_weights(model, path, {"classes": CLASSES, **method, **meta})


def reader_of(meta: dict[str, Any]) -> torch.nn.Module:
    """The untrained network a reader file's metadata describes."""
    if meta.get("method") != "sdnn":
        return reader_network()
    if "members" in meta:
        n = len(meta["members"])
        contexts, depths = meta.get("contexts") or [0] * n, meta.get("depths") or [1] * n
        if len(contexts) != n or len(depths) != n:
            raise ValueError(f"{len(contexts)} contexts and {len(depths)} depths for {n} members")
        members = [(check_maps(maps), check_context(c), check_depth(d))  # all checked, then built
                   for maps, c, d in zip(meta["members"], contexts, depths)]
        return Committee([SDNN(maps, context=c, depth=d) for maps, c, d in members])
    return SDNN(meta["maps"], context=meta.get("context", 0), depth=meta.get("depth", 1))


def calibration_of(meta: dict[str, Any]) -> Platt:
    """The file's calibration (the identity where it has none)."""
    c = meta.get("calibration")
    if c is None:
        return Platt()
    a, b = float(c["a"]), float(c["b"])
    if c.get("method") != "platt" or not (0 < a < math.inf and math.isfinite(b)):
        raise ValueError(f"unknown calibration {str(c)[:200]}")
    return Platt(a, b)


def load_reader(spec: str | Path = DEFAULT_READER) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A reader from a shipped name (see `shipped_readers()`) or a .safetensors file, in eval mode:
    an SDNN, a committee of SDNNs, or a segment recognizer (a LeNet) for heuristic
    over-segmentation. Its `calibration` (a Platt map, the identity for an uncalibrated file)
    turns the probability of a reading into the confidence `read_number` reports."""
    path = READERS_DIR / f"{spec}.safetensors" if str(spec) in shipped_readers() else Path(spec)
    if not path.is_file():
        raise Lenet5Error(f"{spec}: no shipped reader of that name ({', '.join(shipped_readers()) or 'none'}), and no such file")
    tensors, meta = read_safetensors(path)
    if meta.get("classes") != CLASSES:
        raise Lenet5Error(f"{path}: not a reader of whole numbers (a digit model has no 'none' class; "
                          "make one with lenet5 train-reader)")
    try:
        model = reader_of(meta)
        model.load_state_dict(tensors)
        model.calibration = calibration_of(meta)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise Lenet5Error(f"{path}: a damaged reader file ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    return model.eval(), {"source": f"shipped:{spec}" if path.parent == READERS_DIR else str(path), "method": "hos", **meta}
