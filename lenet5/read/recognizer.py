"""The segment recognizer of heuristic over-segmentation (Sec. VI): LeNet-5 with an eleventh
output, "none", for what is not one digit.

Over-segmentation offers the recognizer pieces of digits, pairs of digits and specks as well as
digits (Sec. VI-A); the paper's recognizer had to score all of them, and was trained on the
segments a segmenter produces. Ours is the paper's network (Fig. 2: C1, trainable subsampling,
Table I, scaled tanh, literal init) with a softmax over 10 digits + none.
"""

from __future__ import annotations

from lenet5.model import LeNet, ModelConfig
from lenet5.read.classes import CLASSES

# Deviation: a softmax output with a "none" class instead of the RBF bitmaps: Fig. 3 has no
# bitmap for "not a character", and the none class is what the search needs to rank cuts.
READER_CONFIG = ModelConfig(head="softmax", loss="cross-entropy")


def reader_network(seed: int = 0) -> LeNet:
    """A fresh recognizer: LeNet-5 whose output layer gives 11 logits (B, 11)."""
    return LeNet(READER_CONFIG, seed=seed, classes=CLASSES)
