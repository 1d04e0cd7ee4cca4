"""Shared fixtures: tiny synthetic digit sets on disk, real MNIST fetched once per session, and a fake SDNN."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import torch

from lenet5.data.datasets import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from lenet5.data.idx import write_idx
from lenet5.read.classes import CLASSES, NONE
from lenet5.read.sdnn import windows


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: class k is a bright bar in row band k plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 + 2 * k: 4 + 2 * k, 4:24] = 255
    return images, labels


class Spiky(torch.nn.Module):
    """A fake SDNN: between everywhere except digit `d` at outputs `at[d]`."""

    def __init__(self, at: dict[int, list[int]]):
        super().__init__()
        self.at = at

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.full((x.shape[0], CLASSES, 1, windows(x.shape[-1])), -5.0)
        out[:, NONE] = 5.0
        for digit, ts in self.at.items():
            out[:, digit, 0, ts] = 10.0
            out[:, NONE, 0, ts] = 0.0
        return out


@pytest.fixture(autouse=True)
def restore_torch_settings(monkeypatch):
    """In-process CLI calls set threads and deterministic modes; each test starts from the same."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    threads, cudnn = torch.get_num_threads(), (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> Path:
    """A data dir holding a synthetic 'mnist' of 256 training and 64 test digits."""
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    train_x, train_y = synthetic_digits(256, 0)
    test_x, test_y = synthetic_digits(64, 1)
    for name, array in ((TRAIN_IMAGES, train_x), (TRAIN_LABELS, train_y), (TEST_IMAGES, test_x), (TEST_LABELS, test_y)):
        write_idx(folder / name, array)
    return tmp_path / "data"


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory) -> Path:
    """Real MNIST: $LENET5_DATA when it already holds it, else fetched offline into a temp dir."""
    from lenet5.data.datasets import MNIST, default_data_dir, verify
    from lenet5.data.sources import fetch

    if os.environ.get("LENET5_DATA") and not any(verify(MNIST, default_data_dir() / "mnist").values()):
        return default_data_dir()
    root = tmp_path_factory.mktemp("mnist-data")
    fetch("mnist", root, log=lambda s: None)
    return root
