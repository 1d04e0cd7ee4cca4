"""The IDX container of MNIST: read and write, plain or gzipped, validated.

Layout (big-endian): two zero bytes, a dtype code, the number of dimensions, then one uint32 per
dimension, then the data in C order. MNIST uses only uint8 (code 0x08): images are 3-d
(N, 28, 28), labels 1-d (N,).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np

from lenet5.atomic import write_atomic
from lenet5.errors import Lenet5Error

# dtype code -> numpy dtype (big-endian where it matters)
DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES = {dt: code for code, dt in DTYPES.items()}


def _open(path: Path, mode: str, gz: bool):
    return gzip.open(path, mode) if gz else open(path, mode)


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file into an array; `name` only goes into error messages."""
    if len(raw) < 4:
        raise Lenet5Error(f"{name}: not an IDX file (only {len(raw)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in DTYPES:
        raise Lenet5Error(f"{name}: not an IDX file (wrong magic number 0x{raw[:4].hex()})")
    if ndim == 0:
        raise Lenet5Error(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise Lenet5Error(f"{name}: truncated IDX header ({len(raw)} bytes, need {header})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = DTYPES[code]
    expected = header + math.prod(dims) * dtype.itemsize  # Python ints: a crafted header cannot wrap around
    if len(raw) < expected:
        raise Lenet5Error(f"{name}: truncated: dimensions {dims} need {expected} bytes, file has {len(raw)}")
    if len(raw) > expected:
        raise Lenet5Error(f"{name}: {len(raw) - expected} bytes of trailing data after dimensions {dims}")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (`.gz` decompressed on the fly)."""
    path = Path(path)
    try:
        with _open(path, "rb", path.suffix == ".gz") as f:
            raw = f.read()
    except FileNotFoundError:
        raise Lenet5Error(f"{path}: no such file") from None
    except (OSError, EOFError) as e:  # gzip: bad or truncated stream
        raise Lenet5Error(f"{path}: cannot read ({e})") from None
    return parse_idx(raw, str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialize an array as IDX bytes."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in CODES:
        raise Lenet5Error(f"IDX cannot hold dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise Lenet5Error(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(f">HBB{array.ndim}I", 0, CODES[dtype], array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an IDX file atomically (temporary name, then rename); `.gz` is compressed."""
    path = Path(path)

    def write(tmp: Path) -> None:
        with _open(tmp, "wb", path.suffix == ".gz") as f:
            f.write(idx_bytes(array))

    write_atomic(path, write)


def check_labels(labels: np.ndarray, name: str, classes: int = 10) -> None:
    """A label file must be 1-d uint8 with every value in [0, classes)."""
    if labels.ndim != 1:
        raise Lenet5Error(f"{name}: labels must be 1-d, got shape {labels.shape}")
    if labels.size and int(labels.max()) >= classes:
        raise Lenet5Error(f"{name}: label {int(labels.max())} out of range 0..{classes - 1}")


def check_images(images: np.ndarray, name: str) -> None:
    """An image file must be 3-d uint8 (N, H, W)."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise Lenet5Error(f"{name}: images must be 3-d uint8, got {images.dtype} with shape {images.shape}")
