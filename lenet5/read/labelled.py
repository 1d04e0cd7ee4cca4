"""A user's own amounts with their numbers: a folder of images and its `labels.csv`, to calibrate a
reader's confidence on (`lenet5 calibrate-reader --labelled DIR`) where the writers, pens or scanner
differ from MNIST's and the thresholds chosen on MNIST's held-out amounts do not carry over.

labels.csv has the header `file,number` and one row per amount: the image's file name, relative to
the folder, and the digits it shows (the layout benchmarks/amounts.py --write keeps its amounts in).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from lenet5.errors import Lenet5Error
from lenet5.preprocess import load_image

LABELS = "labels.csv"
HEADER = ["file", "number"]


def labelled_rows(folder: Path) -> list[tuple[Path, str]]:
    """The folder's amounts as (image path, number), in labels.csv's order; a Lenet5Error naming the
    first thing wrong with the folder or a row of labels.csv."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Lenet5Error(f"{folder}: no such folder")
    labels = folder / LABELS
    if not labels.is_file():
        raise Lenet5Error(f"{folder}: no {LABELS} (a header 'file,number', then one row per image: its file name "
                          "and the digits it shows)")
    try:
        text = labels.read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is no part of the header
    except (OSError, UnicodeDecodeError) as e:
        raise Lenet5Error(f"{labels}: cannot be read as UTF-8 text ({type(e).__name__})") from None
    rows = [(k, [cell.strip() for cell in row]) for k, row in enumerate(csv.reader(text.splitlines()), start=1)
            if any(cell.strip() for cell in row)]  # blank lines are nothing
    if not rows or [cell.lower() for cell in rows[0][1]] != HEADER:
        raise Lenet5Error(f"{labels}: the first line must be the header 'file,number'")
    out, seen = [], set()
    for line, row in rows[1:]:
        if len(row) != 2:
            raise Lenet5Error(f"{labels}, line {line}: {len(row)} fields where 2 belong (file,number)")
        name, number = row
        if not number.isdecimal() or not number.isascii():
            raise Lenet5Error(f"{labels}, line {line}: number {number!r} is not the digits 0-9 alone")
        if name in seen:
            raise Lenet5Error(f"{labels}, line {line}: {name} is named twice")
        seen.add(name)
        path = folder / name
        if not path.is_file():
            raise Lenet5Error(f"{labels}, line {line}: {name}: no such file in {folder}")
        out.append((path, number))
    if not out:
        raise Lenet5Error(f"{labels}: no amounts below the header")
    return out


def labelled_amounts(folder: Path) -> list[tuple[np.ndarray, str]]:
    """The folder's amounts as grey images [0, 1] (as `lenet5 read` decodes them) with their numbers."""
    return [(load_image(path), number) for path, number in labelled_rows(folder)]
