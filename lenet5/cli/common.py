"""What several subcommands do alike: check where a file is to be written and the device asked for, and say
how it was made."""

from __future__ import annotations

import sys
from pathlib import Path

from lenet5.errors import Lenet5Error


def output_file(text: str) -> Path:
    """--out as a path whose folder exists (the file is written last, atomically)."""
    out = Path(text)
    if not out.parent.is_dir():
        raise Lenet5Error(f"--out {out}: folder {out.parent} does not exist")
    return out


def command_line(name: str) -> str:
    """`lenet5 NAME ...` as it was typed, for a file's metadata ("" when called from Python)."""
    return f"lenet5 {name} " + " ".join(sys.argv[2:]) if sys.argv[1:2] == [name] else ""


def check_device(device: str) -> None:
    """--device cuda (or cuda:N) only where PyTorch sees a CUDA device."""
    import torch

    if not device.startswith("cuda"):
        return
    if not torch.cuda.is_available():
        raise Lenet5Error("--device cuda asked for, but PyTorch sees no CUDA device")
    index = torch.device(device).index
    if index is not None and index >= torch.cuda.device_count():
        raise Lenet5Error(f"--device {device}: PyTorch sees {torch.cuda.device_count()} CUDA device(s), cuda:0 on")
