"""The readers' weights files: the shipped ones (lenet5/weights/readers/) and any made by
`lenet5 train-reader` or `lenet5 calibrate-reader`. A file says which reader it holds in its metadata
("method": "sdnn", with the SDNN's `maps` and any `context`, `depth` and `refine`, or a committee's `members`, each
one SDNN's maps, with `contexts`, `depths` and `refines` where one has a context, a depth or refine blocks; or
"hos", a segment recognizer), `classes` = 11 (ten digits and none), and, once calibrated, the
map from the reader's probability of a reading to the confidence it reports (`calibration`) and
the digit heights it reads each line at where they are not 20 px alone (`heights`).
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
from lenet5.read.line import DIGIT_HEIGHT, check_heights
from lenet5.read.recognizer import reader_network
from lenet5.read.sdnn import SDNN, check_context, check_depth, check_maps, check_refine

READERS_DIR = WEIGHTS_DIR / "readers"
DEFAULT_READER = "amounts"  # the SDNN

# An SDNN's options beyond its maps: the key for one SDNN, for a committee's members, the paper's value (not
# recorded: files of SDNNs as Fig. 2's stay as they were) and the check that refuses a damaged file's.
OPTIONS = (("context", "contexts", 0, check_context), ("depth", "depths", 1, check_depth),
           ("refine", "refines", 0, check_refine))

# How a reader was made, as the readers made from it record it (calibrate-reader's members_made_by, train-reader's
# started_from, take-member's file), so the chain of commands can be re-run.
RECORD_KEYS = ("source", "command", "seed", "held_out_exact", "started_from", "boosted_by", "taken_from")


def shipped_readers() -> list[str]:
    return sorted(p.stem for p in READERS_DIR.glob("*.safetensors"))


def save_reader(model: torch.nn.Module, path: Path | str, meta: dict[str, Any]) -> None:
    """Weights and metadata of a reader: an SDNN (its `maps` recorded, and its `context`, `depth` and `refine`
    where they are not the paper's), a committee of SDNNs (each member's maps; `contexts`, `depths`, `refines` where one's
    is not the paper's) or a segment recognizer. Files of SDNNs as the paper's stay as they were."""
    if isinstance(model, Committee):
        method = {"method": "sdnn", "members": [list(m.maps) for m in model.members],
                  **{many: [getattr(m, one) for m in model.members] for one, many, paper, _ in OPTIONS
                     if any(getattr(m, one) != paper for m in model.members)}}
    elif isinstance(model, SDNN):
        method = {"method": "sdnn", "maps": list(model.maps),
                  **{one: getattr(model, one) for one, _, paper, _ in OPTIONS if getattr(model, one) != paper}}
    else:
        method = {"method": "hos"}
    save_weights(model, path, {"classes": CLASSES, **method, **meta})


def reader_of(meta: dict[str, Any]) -> torch.nn.Module:
    """The untrained network a reader file's metadata describes."""
    if meta.get("method") != "sdnn":
        return reader_network()
    if "members" in meta:
        n = len(meta["members"])
        given = {one: meta[many] if many in meta else [paper] * n for one, many, paper, _ in OPTIONS}  # [] is damage
        if any(len(values) != n for values in given.values()):
            raise ValueError(", ".join(f"{len(v)} {one}s" for one, v in given.items()) + f" for {n} members")
        members = [(check_maps(maps), {one: check(given[one][k]) for one, _, _, check in OPTIONS})  # all, first
                   for k, maps in enumerate(meta["members"])]
        return Committee([SDNN(maps, **options) for maps, options in members])
    return SDNN(meta["maps"], **{one: meta.get(one, paper) for one, _, paper, _ in OPTIONS})


def member_records(meta: dict[str, Any]) -> list[dict[str, Any] | None]:
    """How each member of a committee's file was made, one record per member in order (None where the file has
    none, or none that fits): `calibrate-reader` records each reader it joined (RECORD_KEYS), and a committee
    joined whole carries its own members' records."""
    n = len(meta.get("members") or [])
    records = _records(meta.get("members_made_by"))
    return records if records is not None and len(records) == n else [None] * n


def _records(made_by: object) -> list[dict[str, Any] | None] | None:
    """The records in a `members_made_by` list, a committee's replaced by its members'; None if it is no such list."""
    if not isinstance(made_by, list) or not all(isinstance(entry, dict) for entry in made_by):
        return None
    records: list[dict[str, Any] | None] = []
    for entry in made_by:
        members = entry.get("members")
        if not members:  # one SDNN
            records.append(entry)
            continue
        if not isinstance(members, list):
            return None
        inner = _records(entry.get("members_made_by"))
        records += inner if inner is not None and len(inner) == len(members) else [None] * len(members)
    return records


def take_member(model: torch.nn.Module, meta: dict[str, Any], k: int) -> tuple[SDNN, dict[str, Any]]:
    """Member k (from 1) of a committee loaded by `load_reader`, and the metadata to write it with: the record of
    how it was made (its training command, seed, held-out score) and which committee it was taken from (and
    where that record says it was taken from before). A member reports its own probability: the committee's
    calibration does not go with it, nor do the digit heights it was calibrated at (the member reads at 20 px
    alone until `calibrate-reader --heights` chooses anew, as both are fitted to the committee)."""
    if not isinstance(model, Committee):
        raise Lenet5Error(f"{meta['source']}: one reader, not a committee: nothing to take out of it")
    if not 1 <= k <= len(model.members):
        raise Lenet5Error(f"{meta['source']} has members 1 to {len(model.members)}, not {k}")
    record = member_records(meta)[k - 1] or {}
    kept = {key: value for key, value in record.items() if key not in ("source", "taken_from", "members", "members_made_by")}
    taken = {"source": meta["source"], "member": k, "member_source": record.get("source"),
             **({"before": record["taken_from"]} if record.get("taken_from") else {})}
    return model.members[k - 1], {**kept, "taken_from": taken}


def calibration_of(meta: dict[str, Any]) -> Platt:
    """The file's calibration (the identity where it has none)."""
    c = meta.get("calibration")
    if c is None:
        return Platt()
    a, b = float(c["a"]), float(c["b"])
    if c.get("method") != "platt" or not (0 < a < math.inf and math.isfinite(b)):
        raise ValueError(f"unknown calibration {str(c)[:200]}")
    return Platt(a, b)


def reader_path(spec: str | Path) -> Path:
    """The file of a shipped reader's name, else `spec` as a path."""
    return READERS_DIR / f"{spec}.safetensors" if str(spec) in shipped_readers() else Path(spec)


def load_reader(spec: str | Path = DEFAULT_READER) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A reader from a shipped name (see `shipped_readers()`) or a .safetensors file, in eval mode:
    an SDNN, a committee of SDNNs, or a segment recognizer (a LeNet) for heuristic
    over-segmentation. Its `calibration` (a Platt map, the identity for an uncalibrated file)
    turns the probability of a reading into the confidence `read_number` reports; an SDNN's or a
    committee's `heights` are the digit heights it reads each line at (`calibrate-reader --heights`;
    by default MNIST's 20 px alone)."""
    path = reader_path(spec)
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
        if isinstance(model, (SDNN, Committee)):
            model.heights = check_heights(meta.get("heights", [DIGIT_HEIGHT]))
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise Lenet5Error(f"{path}: a damaged reader file ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    return model.eval(), {"source": f"shipped:{spec}" if path.parent == READERS_DIR else str(path), "method": "hos", **meta}
