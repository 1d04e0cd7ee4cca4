"""The segment recognizer's training examples, labelled from the strip's pixel owners, and its training."""


import dataclasses

import numpy as np
import pytest
import torch

from lenet5.data.strips import Style, make_strip
from lenet5.read.classes import NONE
from lenet5.read.oversegment import FIELD
from lenet5.read.train_hos import HOSTraining, segment_examples, train_reader
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


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"))])
def test_the_recognizer_trains_on_the_device_asked_for_and_goes_on_from_its_progress_to_the_same_weights(device):
    from lenet5.read.fit import made_by

    digits, labels = synthetic_digits(300, 5)
    config = HOSTraining(strips=12, val_strips=1, holdout=60, epochs=2, device=device)
    kept = []
    whole, history = train_reader(digits, labels, config, seed=2, log=lambda s: None, after_pass=kept.append)
    went_on, again = train_reader(digits, labels, config, seed=2, log=lambda s: None, resume=kept[0])
    fields = ("epoch", "loss", "train_error", "val_exact")  # all but the seconds
    assert [row["epoch"] for row in history] == [1, 2] and 0 <= history[-1]["val_exact"] <= 1
    assert [[row[k] for k in fields] for row in again] == [[row[k] for k in fields] for row in history]
    assert next(whole.parameters()).device.type == "cpu" and [p["epoch"] for p in kept] == [1, 2]
    assert all(torch.equal(x, y) for x, y in zip(whole.state_dict().values(), went_on.state_dict().values()))
    assert made_by("hos", config, 2)["training"] == made_by("hos", dataclasses.replace(config, device="cpu"), 2)["training"]
