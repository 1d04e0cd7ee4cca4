"""The SDNN reader (Sec. VII): the band along the baseline, the swept network, the best path,
the strips it learns from, and learning from strings alone."""

import numpy as np
import pytest
import torch

from lenet5.data.feed import BACKGROUND, INK
from lenet5.data.strips import Style
from lenet5.errors import Lenet5Error
from lenet5.read import load_reader, read_number, reader_network
from lenet5.read.recognizer import CLASSES, NONE, save_reader
from lenet5.read.sdnn import (
    HEIGHT,
    PAD,
    PAPER_MAPS,
    SDNN,
    STRIDE,
    as_batch,
    band,
    best_path,
    centre_of,
    windows,
)
from lenet5.read.segment import Line
from lenet5.read.train_sdnn import SDNNTraining, make_bands, train_sdnn
from tests.conftest import synthetic_digits


def slanted_line(slope: float, width: int = 120, bars: int = 5) -> Line:
    """Bars 20 px high whose middles climb `slope` px per px, on a line 60 px high."""
    ink = np.zeros((60, width), np.float32)
    for k in range(bars):
        x = 8 + k * (width - 16) // bars
        middle = 30 + slope * (x - width / 2)
        ink[round(middle - 10): round(middle + 10), x: x + 4] = 1.0
    return Line(ink, 1.0, (0.0, 0.0))


@pytest.mark.parametrize("slope", [-0.1, 0.0, 0.08])
def test_the_band_straightens_the_baseline_and_centres_the_ink(slope):
    ink, top = band(slanted_line(slope))
    assert ink.shape[0] == HEIGHT and (ink.shape[1] - HEIGHT) % STRIDE == 0
    for x in np.nonzero(ink.max(axis=0) > 0)[0]:
        rows = np.nonzero(ink[:, x])[0]
        assert len(rows) == 20 and abs(rows.mean() - (HEIGHT - 1) / 2) <= 1.5
    assert len(top) == 120


def test_windows_reach_both_ends_of_the_line():
    ink, _ = band(slanted_line(0.0, width=97))
    t = windows(ink.shape[1])
    assert centre_of(0) <= 0 and centre_of(t - 1) >= 96
    assert ink[:, :PAD].max() == 0  # paper before the line


def test_the_swept_network_gives_eleven_scores_every_four_pixels():
    model = SDNN(PAPER_MAPS)
    batch, outputs = as_batch([np.zeros((HEIGHT, 32 + 4 * 9), np.float32), np.zeros((HEIGHT, 40), np.float32)],
                              BACKGROUND, INK)
    assert batch.shape == (2, 1, HEIGHT, 68) and outputs.tolist() == [10, 3]
    assert (batch[1, 0, :, 40:] == BACKGROUND).all()  # a narrower band is padded with paper
    assert model(batch).shape == (2, CLASSES, 1, 10)
    # with the paper's maps it is LeNet-5: Table I, and the same weights as the segment recognizer
    assert model.C3.mask.sum() == 60
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in reader_network().state_dict().items()}


def scores(labels: list[int], p: float = 0.9) -> torch.Tensor:
    out = torch.full((len(labels), CLASSES), float(np.log((1 - p) / (CLASSES - 1))))
    out[torch.arange(len(labels)), torch.tensor(labels)] = float(np.log(p))
    return out


def test_the_best_path_merges_runs_and_needs_between_for_a_repeated_digit():
    spikes, log_p = best_path(scores([NONE, 3, 3, NONE, 3, NONE, NONE, 5, 5, 7, NONE]))
    assert [s.digit for s in spikes] == [3, 3, 5, 7]
    assert [(s.t0, s.t1) for s in spikes] == [(1, 3), (4, 5), (7, 9), (9, 10)]
    assert log_p == pytest.approx(11 * np.log(0.9), abs=1e-5)
    assert best_path(scores([NONE] * 5)) == ([], pytest.approx(5 * np.log(0.9), abs=1e-5))


def body_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    digits, labels = synthetic_digits(n, seed)
    digits[:, 2:26, 10:18] = np.maximum(digits[:, 2:26, 10:18], 200)  # every fake digit gets a body
    return digits, labels


def test_training_bands_do_not_depend_on_the_number_of_workers():
    digits, labels = body_digits(60, 0)
    one = make_bands(digits, labels, 12, seed=5, style=Style(), workers=1)
    two = make_bands(digits, labels, 12, seed=5, style=Style(), workers=2)
    assert len(one) == 12 and [n for _, n in one] == [n for _, n in two]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(one, two))
    assert all(a.dtype == np.uint8 and a.shape[0] == HEIGHT for a, _ in one)


def test_the_sdnn_learns_from_strings_alone_and_round_trips_through_a_file(tmp_path):
    torch.manual_seed(0)
    digits, labels = body_digits(400, 1)
    config = SDNNTraining(strips=300, val_strips=20, holdout=100, epochs=3, batch_size=16, maps=(6, 16, 60, 42), workers=1)
    model, history = train_sdnn(digits, labels, config, seed=0, log=lambda s: None)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[-1]["loss"] < 0.8 * history[0]["loss"]
    path = tmp_path / "reader.safetensors"
    save_reader(model, path, {"held_out_exact": history[-1]["val_exact"]})
    loaded, info = load_reader(path)
    assert isinstance(loaded, SDNN) and info["method"] == "sdnn" and loaded.maps == (6, 16, 60, 42)
    x = torch.randn(1, 1, HEIGHT, 64)
    assert torch.equal(loaded(x), model(x))
    grey = np.full((80, 260), 0.95, np.float32)
    grey[20:60, 40:48] = grey[20:60, 120:128] = 0.1
    reading = read_number(loaded, grey)
    assert len(reading.digits) == len(reading.number) and 0 < reading.confidence <= 1
    assert all(0 <= d.x0 < d.x1 <= 260 and 0 <= d.y0 < d.y1 <= 80 for d in reading.digits)
    with pytest.raises(Lenet5Error, match="no ink|no digits"):
        read_number(loaded, np.full((50, 100), 0.9, np.float32))
