"""A user's own amounts with their numbers: a folder of images and its `labels.csv`, to calibrate a
reader's confidence on (`lenet5 calibrate-reader --labelled DIR`) where the writers, pens or scanner
differ from MNIST's and the thresholds chosen on MNIST's held-out amounts may not carry over.

labels.csv has the header `file,number` and one row per amount: the image's file name, relative to
the folder (in it or below it), and the digits it shows (the layout benchmarks/amounts.py --write
keeps its amounts in).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lenet5.errors import Lenet5Error
from lenet5.preprocess import decode_image, image_size

LABELS = "labels.csv"
HEADER = ["file", "number"]


def labelled_rows(folder: Path) -> list[tuple[Path, str]]:
    """The folder's amounts as (image path, number), in labels.csv's order, each image's header read
    (not yet its pixels); a Lenet5Error naming the first thing wrong with the folder, a line of
    labels.csv or an image."""
    folder = Path(folder)
    if not folder.exists():
        raise Lenet5Error(f"{folder}: no such folder")
    if not folder.is_dir():
        raise Lenet5Error(f"{folder}: not a folder (give the folder that holds the images and {LABELS})")
    labels = folder / LABELS
    if not labels.is_file():
        raise Lenet5Error(f"{folder}: no {LABELS} (a header 'file,number', then one row per image: its file name "
                          "and the digits it shows)")
    try:
        text = labels.read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is no part of the header
    except UnicodeDecodeError:
        raise Lenet5Error(f"{labels}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):  # blank lines are nothing
                rows.append((reader.line_num, [cell.strip() for cell in row]))
    except csv.Error as e:
        raise Lenet5Error(f"{labels}, line {reader.line_num}: not CSV ({e})") from None
    if not rows or [cell.lower() for cell in rows[0][1]] != HEADER:
        raise Lenet5Error(f"{labels}: the first line must be the header 'file,number'")
    inside, out, seen = folder.resolve(), [], set()
    for line, row in rows[1:]:
        where = f"{labels}, line {line}"
        if len(row) != 2:
            raise Lenet5Error(f"{where}: {len(row)} fields where 2 belong (file,number)")
        name, number = row
        shown = name if name.isprintable() else repr(name)  # an error is one line
        if not number.isdecimal() or not number.isascii():
            raise Lenet5Error(f"{where}: number {number!r} is not the digits 0-9 alone")
        path = (folder / name).resolve()
        if Path(name).is_absolute() or not path.is_relative_to(inside):
            raise Lenet5Error(f"{where}: {shown} is not in {folder} (name each image relative to the folder)")
        if path in seen:
            raise Lenet5Error(f"{where}: {shown} is named twice")
        seen.add(path)
        if not path.is_file():
            raise Lenet5Error(f"{where}: {shown}: no such file in {folder}")
        try:
            image_size(path, shown)  # its header: a broken file is refused before any amount is read
        except Lenet5Error as e:
            raise Lenet5Error(f"{where}: {e}") from None
        out.append((path, number))
    if not out:
        raise Lenet5Error(f"{labels}: no amounts below the header")
    return out


def labelled_amounts(rows: list[tuple[Path, str]], digest: AmountsDigest | None = None) -> Iterator[tuple[np.ndarray, str]]:
    """`labelled_rows`' amounts as grey images [0, 1] (as `lenet5 read` decodes them) with their numbers,
    one at a time, each file read once: its bytes go to `digest` too, where one is given."""
    for path, number in rows:
        data = _read(path)
        if digest is not None:
            digest.add(path, number, data)
        yield decode_image(data, str(path)), number


class AmountsDigest:
    """sha256 of the amounts as calibrated on: each one's file name in the folder (as resolved: a link's
    target), its number and its file's bytes, in labels.csv's order (so that a reader's record names the
    images too, not the labels alone)."""

    def __init__(self, folder: Path):
        self.inside, self.sha = Path(folder).resolve(), hashlib.sha256()

    def add(self, path: Path, number: str, data: bytes) -> None:
        name = os.fsencode(path.relative_to(self.inside).as_posix())  # (a name need not be UTF-8)
        self.sha.update(name + f"\0{number}\0{len(data)}\0".encode() + data)

    def hexdigest(self) -> str:
        return self.sha.hexdigest()


def labelled_digest(folder: Path, rows: list[tuple[Path, str]]) -> str:
    """`AmountsDigest` of the rows' files, without decoding them."""
    digest = AmountsDigest(folder)
    for path, number in rows:
        digest.add(path, number, _read(path))
    return digest.hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise Lenet5Error(f"{path}: {e.strerror or e}") from None
