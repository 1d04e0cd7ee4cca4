"""The segment recognizer's training examples, labelled from the strip's pixel owners."""


import numpy as np

from lenet5.data.strips import Style, make_strip
from lenet5.read.classes import NONE
from lenet5.read.oversegment import FIELD
from lenet5.read.train_hos import segment_examples
from tests.conftest import synthetic_digits


def test_segments_of_separated_digits_are_labelled_with_their_digits():
    digits, labels = synthetic_digits(50, 1)
    digits[:, 2:26, 10:18] = np.maximum(digits[:, 2:26, 10:18], 200)
    style = Style(lengths=(3, 3), joined=0.0, gap=(8, 8), jpeg=(95, 95), noise=(0, 0), blur=(0, 0), broken=0.0)
    strip = make_strip(digits, labels, np.random.default_rng(0), style)
    fields, targets = segment_examples(strip, np.random.default_rng(0))
    assert fields.shape[1:] == (FIELD, FIELD) and fields.dtype == np.uint8
    # each digit is found, maybe by several cuts a column apart, and nothing else is called a digit
    assert {t for t in targets.tolist() if t != NONE} == set(map(int, strip.number))
    assert (targets == NONE).sum() >= 1
