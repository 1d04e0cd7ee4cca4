"""The datasets lenet5 knows: their files, checksums and counts; loading them as uint8 tensors.

Every route that fetches a dataset ends in the same four uncompressed IDX files under
`<data dir>/<name>/`, checked against the md5s below (MNIST's from the original distribution;
Fashion-MNIST's of its uncompressed files).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lenet5.data.idx import check_images, check_labels, read_idx
from lenet5.errors import Lenet5Error


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is on disk: file name -> (md5 of the uncompressed file, byte size)."""

    name: str
    files: dict[str, tuple[str, int]]
    train_class_counts: tuple[int, ...] | None = None
    test_class_counts: tuple[int, ...] | None = None


TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"

MNIST = DatasetSpec(
    name="mnist",
    files={
        TRAIN_IMAGES: ("6bbc9ace898e44ae57da46a324031adb", 47_040_016),
        TRAIN_LABELS: ("a25bea736e30d166cdddb491f175f624", 60_008),
        TEST_IMAGES: ("2646ac647ad5339dbf082846283269ea", 7_840_016),
        TEST_LABELS: ("27ae3e4e09519cfbb04c329615203637", 10_008),
    },
    train_class_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    test_class_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    files={
        TRAIN_IMAGES: ("f4a8712d7a061bf5bd6d2ca38dc4d50a", 47_040_016),
        TRAIN_LABELS: ("9018921c3c673c538a1fc5bad174d6f9", 60_008),
        TEST_IMAGES: ("8181f5470baa50b63fa0f6fddb340f0a", 7_840_016),
        TEST_LABELS: ("15d484375f8d13e6eb1aabb0c3f46965", 10_008),
    },
    train_class_counts=(6000,) * 10,
    test_class_counts=(1000,) * 10,
)

DATASETS = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise Lenet5Error(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}") from None


def default_data_dir() -> Path:
    """`$LENET5_DATA`, else `~/.cache/lenet5`."""
    env = os.environ.get("LENET5_DATA")
    return Path(env) if env else Path.home() / ".cache" / "lenet5"


def dataset_dir(spec: DatasetSpec, data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir if data_dir is not None else default_data_dir()) / spec.name


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_problem(spec: DatasetSpec, name: str, content: bytes) -> str | None:
    """Why `content` is not the canonical file `name` of `spec`, or None if it is."""
    md5, size = spec.files[name]
    if len(content) != size:
        return f"{len(content)} bytes, expected {size}"
    actual = hashlib.md5(content).hexdigest()
    return None if actual == md5 else f"md5 {actual}, expected {md5}"


def file_problem(spec: DatasetSpec, path: Path) -> str | None:
    """Why the file at `path` is not the canonical `path.name` of `spec`, or None if it is."""
    md5, size = spec.files[path.name]
    if not path.is_file():
        return "missing"
    if path.stat().st_size != size:
        return f"{path.stat().st_size} bytes, expected {size}"
    actual = md5_of(path)
    return None if actual == md5 else f"md5 {actual}, expected {md5}"


def verify(spec: DatasetSpec, directory: Path) -> dict[str, str | None]:
    """File name -> problem (None when the file is present and its md5 matches)."""
    return {name: file_problem(spec, directory / name) for name in spec.files}


@dataclass(frozen=True)
class Digits:
    """A dataset in memory: uint8 images (N, 28, 28) and int64 labels (N,), for train and test."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def _load_pair(directory: Path, images_name: str, labels_name: str) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx(directory / images_name)
    labels = read_idx(directory / labels_name)
    check_images(images, images_name)
    check_labels(labels, labels_name)
    if len(images) != len(labels):
        raise Lenet5Error(f"{directory}: {len(images)} images but {len(labels)} labels")
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def load_digits(name: str = "mnist", data_dir: str | os.PathLike | None = None) -> Digits:
    """Load a fetched dataset from disk (no checksum: `lenet5 data verify` does that)."""
    spec = get_spec(name)
    directory = dataset_dir(spec, data_dir)
    missing = [n for n in spec.files if not (directory / n).is_file()]
    if missing:
        raise Lenet5Error(f"{spec.name} is not in {directory} (missing {', '.join(missing)}); run: lenet5 data fetch {spec.name}")
    train = _load_pair(directory, TRAIN_IMAGES, TRAIN_LABELS)
    test = _load_pair(directory, TEST_IMAGES, TEST_LABELS)
    return Digits(*train, *test)
