"""The SDNN reader (Sec. VII): the band along the baseline, the swept network, the best path,
the strips it learns from, and learning from strings alone."""

import dataclasses

import numpy as np
import pytest
import torch

from lenet5.data.feed import BACKGROUND
from lenet5.data.strips import Style
from lenet5.errors import Lenet5Error
from lenet5.read import load_reader, reader_network
from lenet5.read.classes import CLASSES, NONE
from lenet5.read.decode import read_columns
from lenet5.read.line import Line
from lenet5.read.sdnn import (HEIGHT, MOST_CONTEXT, MOST_MAPS, PAD, PAPER_MAPS, SDNN, STRIDE, as_batch, band, centre_of,
                               column_log_probs, phase_log_probs, phases, windows)
from lenet5.read.weights import save_reader
from lenet5.read.bands import Band, make_bands
from lenet5.read.train_sdnn import SDNNTraining, train_sdnn
from tests.conftest import Spiky, synthetic_digits


def slanted_line(slope: float, width: int = 120, bars: int = 5) -> Line:
    """Bars 20 px high whose middles climb `slope` px per px, on a line 60 px high."""
    ink = np.zeros((60, width), np.float32)
    for k in range(bars):
        x = 8 + k * (width - 16) // bars
        middle = 30 + slope * (x - width / 2)
        ink[round(middle - 10): round(middle + 10), x: x + 4] = 1.0
    return Line(ink, 1.0, (0.0, 0.0))


def bar_middles(ink: np.ndarray) -> list[float]:
    return [float(np.nonzero(ink[:, x])[0].mean()) for x in np.nonzero(ink.max(axis=0) > 0)[0]]


@pytest.mark.parametrize("slope", [-0.1, 0.0, 0.08])
def test_the_band_straightens_the_baseline_and_centres_the_ink(slope):
    ink = band(slanted_line(slope))
    assert ink.shape[0] == HEIGHT and (ink.shape[1] - HEIGHT) % STRIDE == 0
    for x in np.nonzero(ink.max(axis=0) > 0)[0]:
        assert np.count_nonzero(ink[:, x]) == 20  # every bar whole
    assert all(abs(m - (HEIGHT - 1) / 2) <= 1.5 for m in bar_middles(ink))


def test_steep_slopes_are_straightened_only_so_far_and_short_lines_not_at_all(monkeypatch):
    import lenet5.read.sdnn as sdnn

    monkeypatch.setattr(sdnn, "_straying", lambda ink, straight: np.zeros_like(straight))  # the straight line alone
    steep = bar_middles(band(slanted_line(0.3, width=120)))  # straightened by 0.15 px per px, no more
    assert 0.12 <= (steep[-1] - steep[0]) / 100 <= 0.18
    short = bar_middles(band(slanted_line(0.1, width=40, bars=2)))  # too short to tell a slope
    assert short[-1] - short[0] == pytest.approx(0.1 * 16, abs=1.0)


def bars_at(offsets: list[int]) -> Line:
    """Bars 20 px high, 26 px apart, each moved down by its offset (px; up where negative), on a line 60 px high."""
    ink = np.zeros((60, 150), np.float32)
    for k, offset in enumerate(offsets):
        ink[20 + offset: 40 + offset, 10 + 26 * k: 14 + 26 * k] = 1.0
    return Line(ink, 1.0, (0.0, 0.0))


def test_the_band_follows_a_digit_written_below_the_others_beyond_the_strips_own_jitter():
    from lenet5.read.sdnn import STRAYING, _straying

    middles = bar_middles(band(bars_at([0, 0, 8, 0, 0])))[::4]  # one px column of each bar
    assert abs(middles[2] - (HEIGHT - 1) / 2) <= 3.5  # the straight line alone leaves it 6 px below the middle
    assert all(abs(m - (HEIGHT - 1) / 2) <= STRAYING + 0.5 for m in middles[:2] + middles[3:])
    jittered = bars_at([0, 1, -1, 1, 0])  # within the strips' own jitter: the straight line, as before
    straight = np.full(150, 30.0)  # the bars' middles: row 29.5 + their mean offset, 0.2
    assert not _straying(jittered.ink, straight).any()
    assert not _straying(np.zeros((60, 150), np.float32), straight).any()  # no ink: nothing to follow


def test_a_line_without_ink_gives_a_blank_band_of_whole_windows():
    blank = band(Line(np.zeros((30, 80), np.float32), 1.0, (0.0, 0.0)))
    assert blank.shape == band(Line(np.pad(np.ones((30, 1), np.float32), ((0, 0), (40, 39))), 1.0, (0.0, 0.0))).shape
    assert blank.shape[0] == HEIGHT and (blank.shape[1] - HEIGHT) % STRIDE == 0 and blank.shape[1] >= 80 + 2 * PAD
    assert not blank.any()


@pytest.mark.parametrize("context, depth, refine", [(0, 1, 0), (1, 1, 0), (2, 1, 0), (0, 2, 0), (2, 2, 0), (0, 2, 1),
                                                    (1, 1, 2)])
def test_output_t_sees_band_columns_4t_to_4t_plus_32_widened_by_its_context(context, depth, refine):
    model = SDNN(PAPER_MAPS, context=context, depth=depth, refine=refine)  # two 3x3 convolutions see the 5x5's window
    for block in getattr(model, "C3_r", ()):  # blocks that do something
        torch.nn.init.normal_(block.second.weight, std=0.1)
    x = torch.zeros(1, 1, HEIGHT, 32 + 4 * 16, requires_grad=True)
    scores = model(x)
    assert scores.shape[-1] == windows(x.shape[-1])  # a context and refine blocks keep the number of outputs
    scores[0, 0, 0, 8].backward()
    columns = np.nonzero(x.grad[0, 0].abs().sum(dim=0).numpy())[0]
    wider = 4 * context + 4 * refine  # a refine block's two 3x3 convolutions reach 2 C3 columns, 4 px, each way
    assert (columns.min(), columns.max()) == (32 - wider, 63 + wider)
    assert centre_of(8) == (32 + 63) / 2 - PAD  # the middle of those columns, in line columns


@pytest.mark.parametrize("context, depth, refine", [(0, 1, 0), (2, 1, 0), (0, 2, 0), (0, 2, 1), (0, 1, 2), (1, 2, 1)])
def test_a_band_reads_the_same_alone_and_batched_beside_wider_ones(context, depth, refine):
    """The outputs near a band's end read past it (a context, refine blocks); in a batch, what lies there
    is the band's padding: paper, as SDNN.widened puts around a band read alone. At every offset too."""
    rng = np.random.default_rng(3)
    bands = [np.pad((rng.random((HEIGHT, w)) < 0.3).astype(np.float32), ((0, 0), (0, PAD))) for w in (24, 60, 140)]
    model = SDNN((6, 16, 60, 42), seed=2, context=context, depth=depth, refine=refine).eval()
    with torch.no_grad():
        for block in getattr(model, "C3_r", ()):  # blocks that change their maps (a new one passes them on)
            torch.nn.init.normal_(block.second.weight, std=0.1)
        for read, per_band in ((column_log_probs, 1), (phase_log_probs, STRIDE)):
            batched = read(model, as_batch(bands)[0])
            for j, b in enumerate(bands):
                alone = read(model, as_batch([b])[0])
                torch.testing.assert_close(alone, batched[: len(alone), j * per_band: (j + 1) * per_band],
                                           rtol=0, atol=1e-5)


def test_windows_reach_both_ends_of_the_line():
    ink = band(slanted_line(0.0, width=97))
    t = windows(ink.shape[1])
    assert centre_of(0) <= 0 and centre_of(t - 1) >= 96
    assert ink[:, :PAD].max() == 0  # paper before the line


def test_the_swept_network_gives_eleven_scores_every_four_pixels():
    model = SDNN(PAPER_MAPS)
    batch, outputs = as_batch([np.zeros((HEIGHT, 32 + 4 * 9), np.float32), np.zeros((HEIGHT, 40), np.float32)])
    assert batch.shape == (2, 1, HEIGHT, 68) and outputs.tolist() == [10, 3]
    assert (batch[1, 0, :, 40:] == BACKGROUND).all()  # a narrower band is padded with paper
    assert model(batch).shape == (2, CLASSES, 1, 10)
    # with the paper's maps it is LeNet-5: Table I, and the same weights as the segment recognizer
    assert model.C3.mask.sum() == 60
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in reader_network().state_dict().items()}


def test_phases_shift_the_band_by_each_pixel_of_a_stride():
    b = np.arange(HEIGHT * 48, dtype=np.float32).reshape(HEIGHT, 48)
    shifted = phases(b)
    assert len(shifted) == STRIDE and all(p.shape == b.shape for p in shifted)
    for s, p in enumerate(shifted):
        assert (p[:, :s] == 0).all() and np.array_equal(p[:, s:], b[:, : 48 - s])


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def body_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    digits, labels = synthetic_digits(n, seed)
    digits[:, 2:26, 10:18] = np.maximum(digits[:, 2:26, 10:18], 200)  # every fake digit gets a body
    return digits, labels


def test_training_bands_do_not_depend_on_the_number_of_workers():
    digits, labels = body_digits(60, 0)
    one = make_bands(digits, labels, 12, seed=5, style=Style(), workers=1)
    two = make_bands(digits, labels, 12, seed=5, style=Style(), workers=2)
    assert len(one) == 12 and [b.number for b in one] == [b.number for b in two]
    assert all(np.array_equal(a.ink, b.ink) and np.array_equal(a.centres, b.centres) for a, b in zip(one, two))
    assert all(b.ink.dtype == np.uint8 and b.ink.shape[0] == HEIGHT and len(b.centres) == len(b.number) for b in one)


def test_distorted_strips_are_made_by_workers_forked_after_torch_ran_threads():
    """A forked worker's first parallel torch call waits forever once the parent has run torch on
    several threads, as the training does before its fresh strips (the squeeze and shear went
    through torch at first, and hung so)."""
    import subprocess
    import sys

    script = """
import numpy as np, torch
from lenet5.data.strips import Style
from lenet5.read.bands import make_bands
torch.set_num_threads(2)
torch.randn(512, 512) @ torch.randn(512, 512)  # the parent's thread pool, started
rng = np.random.default_rng(0)
digits = np.zeros((20, 28, 28), np.uint8)
digits[:, 4:24, 11:17] = 230
bands = make_bands(digits, rng.integers(0, 10, 20), 6, seed=3, style=Style(distort=1.0), workers=2)
print(len(bands))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0 and done.stdout.split() == ["6"], done.stderr[-2000:]


def test_the_sdnn_learns_from_strings_alone_and_round_trips_through_a_file(tmp_path):
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


def test_read_line_boxes_each_digit_in_the_ink_nearest_its_outputs(monkeypatch):
    from lenet5.read import reading as read
    from lenet5.read.sdnn import read_line

    ink = np.zeros((24, 41), np.float32)
    ink[2:22, 2:6] = ink[2:22, 30:38] = 1.0  # a bar at columns 2-5, a block at 30-37
    line = Line(ink, 2.0, (10.0, 100.0))
    t = windows(band(line).shape[1])
    found, log_p = read_line(Spiky({1: [1, 2], 7: [t - 2], 4: [t - 1]}), line)
    assert [f.digit for f in found] == [1, 7, 4] and log_p < 0
    assert (found[0].x0, found[0].x1, found[0].y0, found[0].y1) == (2, 6, 2, 22)
    assert all(0 <= f.x0 < f.x1 <= 41 for f in found)  # the last output's centre lies past the line: still a box
    assert found[1].x1 <= found[2].x0 + 1
    monkeypatch.setattr(read, "normalize_at", lambda grey, heights: [line])
    monkeypatch.setattr(read, "SDNN", Spiky)
    reading = read.read_number(Spiky({1: [1, 2], 7: [t - 2], 4: [t - 1]}), np.zeros((60, 200), np.float32))
    assert reading.number == "174"
    assert (reading.digits[0].x0, reading.digits[0].x1, reading.digits[0].y0) == (104, 112, 14)  # image pixels
    with pytest.raises(Lenet5Error, match=r"^no digits found \(the reader read none in the ink it found\)$"):
        read.read_number(Spiky({}), np.zeros((60, 200), np.float32))  # ink there (the line above), no digit named
    monkeypatch.setattr(read, "normalize_at", lambda grey, heights: None)
    with pytest.raises(Lenet5Error, match=r"^no digits found \(no ink above the paper's level, or only specks\)$"):
        read.read_number(Spiky({1: [1]}), np.zeros((60, 200), np.float32))


def test_a_damaged_reader_file_is_one_clear_error(tmp_path):
    from lenet5.pretrained import read_safetensors, save_weights

    path = tmp_path / "reader.safetensors"
    save_reader(SDNN((6, 16, 60, 42)), path, {})
    _, meta = read_safetensors(path)
    for broken in ({**meta, "maps": None}, {**meta, "maps": [8, 16, 60, 42]}, {k: v for k, v in meta.items() if k != "maps"},
                   {**meta, "context": -1}, {**meta, "context": 2}, {**meta, "context": "wide"}, {**meta, "context": "0"},
                   {**meta, "context": 0.5}, {**meta, "context": 10**9}):  # a huge one refused before it is built
        model = SDNN((6, 16, 60, 42))
        bad = tmp_path / "bad.safetensors"
        save_weights(model, bad, {k: v for k, v in broken.items()})
        with pytest.raises(Lenet5Error, match="damaged reader file"):
            load_reader(bad)
    for key, broken, why in (("maps", [6, 16, 60.5, 42], "maps must be"), ("maps", ["6", 16, 60, 42], "maps must be"),
                             ("maps", [6, 16, 60, 10**9], "maps must be"), ("maps", [6, 16, 60], "maps must be"),
                             ("context", "0", "context must be"), ("context", 0.5, "context must be"),
                             ("context", 10**9, "context must be")):
        save_weights(SDNN((6, 16, 60, 42)), tmp_path / "bad.safetensors", {**meta, key: broken})
        with pytest.raises(Lenet5Error, match=f"damaged reader file.*{why}"):  # refused by the check, not later
            load_reader(tmp_path / "bad.safetensors")


def test_a_context_round_trips_through_the_files_of_an_sdnn_and_a_committee(tmp_path):
    from lenet5.pretrained import read_safetensors
    from lenet5.read.committee import Committee

    wide, plain = SDNN((6, 16, 60, 42), seed=1, context=2), SDNN((6, 16, 60, 42), seed=2)
    x = as_batch([np.pad((np.random.default_rng(0).random((HEIGHT, 60)) < 0.3).astype(np.float32), ((0, 0), (0, PAD)))])[0]
    for model, key, recorded in ((wide, "context", 2), (Committee([wide, plain]), "contexts", [2, 0])):
        path = tmp_path / f"{key}.safetensors"
        save_reader(model, path, {})
        assert read_safetensors(path)[1][key] == recorded
        loaded, _ = load_reader(path)
        with torch.no_grad():
            assert torch.equal(loaded(x), model.eval()(x))
    save_reader(plain, tmp_path / "plain.safetensors", {})  # files without a context are as before
    assert "context" not in read_safetensors(tmp_path / "plain.safetensors")[1]
    assert load_reader(tmp_path / "plain.safetensors")[0].context == 0
    assert all(m.context == 0 for m in load_reader("amounts")[0].members)  # the shipped SDNNs: the paper's window


def test_a_committee_file_whose_contexts_do_not_match_its_members_is_damaged(tmp_path):
    from lenet5.pretrained import read_safetensors, save_weights
    from lenet5.read.committee import Committee

    model = Committee([SDNN((6, 16, 60, 42), context=1), SDNN((6, 16, 60, 42))])
    save_reader(model, tmp_path / "c.safetensors", {})
    _, meta = read_safetensors(tmp_path / "c.safetensors")
    for contexts in ([1], [1, 0, 0], [0, 1], [1, 10**9], []):
        save_weights(model, tmp_path / "bad.safetensors", {**meta, "contexts": contexts})
        with pytest.raises(Lenet5Error, match="damaged reader file"):
            load_reader(tmp_path / "bad.safetensors")
    paper = Committee([SDNN((6, 16, 60, 42)), SDNN((6, 16, 60, 42))])  # nothing recorded: loads
    save_reader(paper, tmp_path / "paper.safetensors", {})
    _, meta = read_safetensors(tmp_path / "paper.safetensors")
    load_reader(tmp_path / "paper.safetensors")
    for key in ("contexts", "depths"):  # an empty list is damage, not "none recorded"
        save_weights(paper, tmp_path / "bad.safetensors", {**meta, key: []})
        with pytest.raises(Lenet5Error, match="damaged reader file"):
            load_reader(tmp_path / "bad.safetensors")


def test_a_context_sdnn_trains_and_goes_on_training_with_its_context():
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=40, val_strips=4, holdout=50, epochs=1, batch_size=16, maps=(6, 16, 60, 42), workers=1,
                          context=1)
    model, history = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    assert model.context == 1 and model.F6.weight.shape[-1] == 3 and len(history) == 1
    before = model.F6.weight.clone()
    more, _ = train_sdnn(digits, labels, dataclasses.replace(config, context=0), seed=4, log=lambda s: None,
                         start_from=model)
    assert more.context == 1 and not torch.equal(more.F6.weight, before)  # its own context, trained on
    x = torch.zeros(1, 1, HEIGHT, 72)
    assert more.features(x).shape == (1, 42, 1, windows(72))  # what the output layer reads, widened as forward


def test_a_context_is_a_whole_number_of_outputs_from_0_to_the_most():
    digits, labels = body_digits(100, 2)
    for bad in (-1, 1.5, True, MOST_CONTEXT + 1):
        config = SDNNTraining(strips=10, val_strips=2, holdout=50, epochs=1, maps=(6, 16, 60, 42), workers=1, context=bad)
        with pytest.raises(Lenet5Error, match="context must be a whole number"):
            train_sdnn(digits, labels, config, log=lambda s: None)
    for bad in ((6, 16, 60), (6, 16, 0, 42), (6, 16, 60, MOST_MAPS + 1), (6.0, 16, 60, 42)):
        config = SDNNTraining(strips=10, val_strips=2, holdout=50, epochs=1, maps=bad, workers=1)
        with pytest.raises(Lenet5Error, match="maps must be four whole numbers"):
            train_sdnn(digits, labels, config, log=lambda s: None)
    for bad in (-1, 2.0, "2", None, MOST_CONTEXT + 1):
        with pytest.raises(ValueError, match="context must be a whole number"):
            SDNN(PAPER_MAPS, context=bad)
    assert SDNN((6, 16, 60, 42), context=np.int64(MOST_CONTEXT)).F6.weight.shape[-1] == 2 * MOST_CONTEXT + 1


def test_depth_1_is_the_papers_network_and_depth_2_sees_each_window_through_two_3x3_convolutions():
    from lenet5.architectures import sweep
    from lenet5.model import LeNet
    from lenet5.read.sdnn import SDNN_CONFIG, Stacked

    maps = (6, 16, 60, 42)
    plain = LeNet(SDNN_CONFIG, 3, classes=CLASSES, architecture=sweep(maps))  # LeNet-5's layers, built without the SDNN
    one, two = SDNN(maps, seed=3, depth=1), SDNN(maps, seed=3, depth=np.int64(2))
    assert plain.state_dict().keys() == one.state_dict().keys()
    assert all(torch.equal(plain.state_dict()[k], one.state_dict()[k]) for k in plain.state_dict())  # bit for bit
    assert [name for name, _ in two.named_children()] == [name for name, _ in plain.named_children()]  # names, order
    shapes = [(c.first.weight.shape, c.second.weight.shape) for c in (two.C1, two.C3, two.C5)]
    assert all(isinstance(c, Stacked) for c in (two.C1, two.C3, two.C5)) and shapes == [
        ((3, 1, 3, 3), (6, 3, 3, 3)), ((11, 6, 3, 3), (16, 11, 3, 3)), ((38, 16, 3, 3), (60, 38, 3, 3))]
    assert two.C3.first.weight.abs().max() <= 2.4 / (6 * 9) ** 0.5  # drawn for its own fan-in
    x = torch.zeros(2, 1, HEIGHT, 72)
    assert two(x).shape == plain(x).shape == (2, CLASSES, 1, windows(72))
    for bad in (0, 3, 2.0, "2", True, None):
        with pytest.raises(ValueError, match="depth must be 1 or 2"):
            SDNN(maps, depth=bad)
    digits, labels = body_digits(100, 2)
    config = SDNNTraining(strips=10, val_strips=2, holdout=50, epochs=1, maps=maps, workers=1, depth=3)
    with pytest.raises(Lenet5Error, match="depth must be 1 or 2"):
        train_sdnn(digits, labels, config, log=lambda s: None)


def test_a_depth_round_trips_through_the_files_and_goes_on_training(tmp_path):
    from lenet5.pretrained import read_safetensors, save_weights
    from lenet5.read.committee import Committee

    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=40, val_strips=4, holdout=50, epochs=1, batch_size=16, maps=(6, 16, 60, 42), workers=1,
                          depth=2)
    deep, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    plain = SDNN((6, 16, 60, 42), seed=2)
    x = as_batch([np.pad((np.random.default_rng(0).random((HEIGHT, 60)) < 0.3).astype(np.float32), ((0, 0), (0, PAD)))])[0]
    for model, key, recorded in ((deep, "depth", 2), (Committee([deep, plain]), "depths", [2, 1])):
        path = tmp_path / f"{key}.safetensors"
        save_reader(model, path, {})
        meta = read_safetensors(path)[1]
        assert meta[key] == recorded and "context" not in meta and "contexts" not in meta
        loaded, _ = load_reader(path)
        with torch.no_grad():
            assert torch.equal(loaded(x), model.eval()(x))
        for broken in (3, "2", 2.5, [2], [2, 1, 1], [2, 3]):
            save_weights(model, tmp_path / "bad.safetensors", {**meta, key: broken})
            with pytest.raises(Lenet5Error, match="damaged reader file"):
                load_reader(tmp_path / "bad.safetensors")
    save_reader(plain, tmp_path / "plain.safetensors", {})  # files of the paper's depth are as before
    assert "depth" not in read_safetensors(tmp_path / "plain.safetensors")[1]
    assert [m.depth for m in load_reader("amounts")[0].members] == [2, 2]  # the shipped committee's SDNNs
    before = deep.C3.second.weight.clone()
    more, _ = train_sdnn(digits, labels, dataclasses.replace(config, depth=1), seed=4, log=lambda s: None,
                         start_from=deep)
    assert more.depth == 2 and not torch.equal(more.C3.second.weight, before)  # its own depth, trained on


def test_refine_blocks_start_as_no_change_so_a_trained_sdnn_grows_and_reads_as_before(tmp_path):
    from lenet5.pretrained import read_safetensors, save_weights
    from lenet5.read.committee import Committee
    from lenet5.read.sdnn import MOST_REFINE, Refine, grown

    maps = (6, 16, 60, 42)
    start = SDNN(maps, seed=2, depth=2)
    x = torch.rand(2, 1, HEIGHT, 80)
    refined = SDNN(maps, seed=2, depth=2, refine=2)
    assert [name for name, _ in refined.named_children()][5:8] == ["C3_f", "C3_r", "S4"]  # C3's squashed maps, refined
    assert len(refined.C3_r) == 2 and all(isinstance(b, Refine) and not b.second.weight.any() for b in refined.C3_r)
    assert refined.C3_r[0].first.weight.abs().max() <= 2.4 / (16 * 9) ** 0.5 and refined.C3_r[0].first.weight.any()
    bigger = grown(start, 1, seed=5)
    with torch.no_grad():
        assert bigger is not start and bigger.refine == 1
        for width in (80, 212, 220):  # the paper around a wider band may change a 3x3 convolution's algorithm: rounding
            band_ = torch.rand(2, 1, HEIGHT, width)
            torch.testing.assert_close(bigger.eval()(band_), start.eval()(band_), rtol=0, atol=1e-5)  # no change
        assert torch.equal(grown(bigger, 1)(x), bigger(x))  # as many as it has: a copy
    with pytest.raises(ValueError, match="does not shrink"):
        grown(bigger, 0)
    for bad in (-1, MOST_REFINE + 1, 1.0, "1", True, None):
        with pytest.raises(ValueError, match="refine must be a whole number"):
            SDNN(maps, refine=bad)
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=40, val_strips=4, holdout=50, epochs=1, batch_size=16, maps=maps, workers=1, refine=1)
    went_on, _ = train_sdnn(digits, labels, config, seed=4, log=lambda s: None, start_from=start)  # grown, trained
    assert went_on.refine == 1 and went_on.depth == 2 and went_on.C3_r[0].second.weight.any()
    assert torch.equal(start.C1.first.weight, SDNN(maps, seed=2, depth=2).C1.first.weight)  # the start left as it was
    for model, key, recorded in ((went_on, "refine", 1), (Committee([went_on, start]), "refines", [1, 0])):
        path = tmp_path / f"{key}.safetensors"
        save_reader(model, path, {})
        meta = read_safetensors(path)[1]
        assert meta[key] == recorded
        loaded, _ = load_reader(path)
        with torch.no_grad():
            assert torch.equal(loaded(x), model.eval()(x))
        for broken in (-1, "1", 1.5, [1], [1, 0, 0], [1, 9]):
            save_weights(model, tmp_path / "bad.safetensors", {**meta, key: broken})
            with pytest.raises(Lenet5Error, match="damaged reader file"):
                load_reader(tmp_path / "bad.safetensors")
    save_reader(start, tmp_path / "plain.safetensors", {})  # files without refine blocks are as before
    assert "refine" not in read_safetensors(tmp_path / "plain.safetensors")[1]
    with pytest.raises(Lenet5Error, match="refine must be a whole number"):
        train_sdnn(digits, labels, dataclasses.replace(config, refine=MOST_REFINE + 1), log=lambda s: None)


def test_the_same_seed_gives_the_same_weights():
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=1, batch_size=16, maps=(6, 16, 60, 42), workers=1)
    a, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    b, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    c, _ = train_sdnn(digits, labels, config, seed=4, log=lambda s: None)
    assert same_weights(a, b)
    assert not torch.equal(a.C1.weight, c.C1.weight)


@pytest.mark.parametrize("fresh, stop", [(0.0, 1), (0.5, 2)])
def test_a_training_interrupted_goes_on_from_its_progress_to_the_same_weights(tmp_path, fresh, stop):
    from lenet5.read.fit import load_progress, made_by, save_progress

    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=3, batch_size=16, maps=(6, 16, 60, 42), workers=1,
                          fresh=fresh)
    whole, history = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    saved, made = tmp_path / "r.progress.pt", made_by("sdnn", config, 3)

    class Stop(Exception):
        """Ctrl-C's stand-in: stops the training after pass `stop`, its progress kept."""

    def after_pass(progress):
        save_progress(saved, progress, made)
        if progress["epoch"] == stop:
            raise Stop

    with pytest.raises(Stop):
        train_sdnn(digits, labels, config, seed=3, log=lambda s: None, after_pass=after_pass)
    progress = load_progress(saved, made)
    assert progress["epoch"] == stop and len(progress["history"]) == stop
    progress["where"]["threads"] += 1  # as if it began on another thread count
    said = []
    went_on, again = train_sdnn(digits, labels, config, seed=3, log=said.append, resume=progress)
    assert same_weights(whole, went_on)  # with fresh strips: those of the passes done drawn again
    assert any(line.startswith("note: it began on cpu with") and "will differ" in line for line in said)
    assert [r["val_exact"] for r in again] == [r["val_exact"] for r in history] and len(again) == 3
    with pytest.raises(Lenet5Error, match=r"made otherwise: seed 3 \(now 4\)"):
        load_progress(saved, made_by("sdnn", config, 4))
    with pytest.raises(Lenet5Error, match=r"depth 1 \(now 2\)"):
        load_progress(saved, made_by("sdnn", dataclasses.replace(config, depth=2), 3))
    assert load_progress(saved, made_by("sdnn", dataclasses.replace(config, workers=2, device="cuda"), 3))  # where, not what
    older = torch.load(saved, weights_only=False)  # as written before the fields `refine` and `boost` were added
    for field in ("refine", "boost"):
        del older["made_by"]["training"][field]
    torch.save(older, saved)
    assert load_progress(saved, made)["epoch"] == stop  # those trainings had the paper's values, and go on
    with pytest.raises(Lenet5Error, match=r"refine 0 \(now 1\)"):
        load_progress(saved, made_by("sdnn", dataclasses.replace(config, refine=1), 3))


def test_fresh_strips_caught_up_stand_as_the_passes_done_left_them():
    """FreshStrips(done=d) gives the bands that passes 2..d's fresh strips left, each slot's latest draw
    whose ink did not vanish (else an earlier one; every one vanished: the first pass's)."""
    from lenet5.read.bands import FreshStrips, fresh_slots

    def drawn(k, p):  # a fake strip maker: some draws vanish
        return None if (3 * k + p) % 4 == 0 else Band(np.full((HEIGHT, 8), p, np.uint8), f"{k}/{p}", np.zeros(0, np.float32))

    class Makers:
        def submit(self, jobs):
            return jobs

        def collect(self, jobs):
            return [drawn(k, p) for _, k, p in jobs]

    first = [Band(np.zeros((HEIGHT, 8), np.uint8), f"{k}/1", np.zeros(0, np.float32)) for k in range(7)]
    for share, done in ((1.0, 5), (0.5, 4), (0.3, 6), (0.6, 2)):
        expected = list(first)
        for p in range(2, done + 1):
            for k in fresh_slots(len(expected), share, p):
                if drawn(k, p) is not None:
                    expected[k] = drawn(k, p)
        fresh = object.__new__(FreshStrips)
        fresh.bands, fresh.share, fresh.passes, fresh.seed, fresh.makers = list(first), share, 9, 0, Makers()
        fresh.catch_up(done)
        assert [b.number for b in fresh.bands] == [b.number for b in expected], (share, done)
    assert any(b.number.endswith("/1") for b in expected) and any(drawn(k, 5) is None for k in range(7))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("depth, refine", [(1, 0), (2, 0), (2, 1)])
def test_on_a_gpu_the_same_seed_gives_the_same_weights_and_a_model_back_on_the_cpu(depth, refine):
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=2, batch_size=16, maps=(6, 16, 60, 42), workers=1,
                          depth=depth, refine=refine, columns=0.5, device="cuda")
    a, history = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    b, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    on_cpu, _ = train_sdnn(digits, labels, dataclasses.replace(config, device="cpu"), seed=3, log=lambda s: None)
    assert next(a.parameters()).device.type == "cpu" and len(history) == 2
    assert same_weights(a, b)  # cuDNN's deterministic convolutions; the string's loss summed on the CPU
    assert max((x - y).abs().max().item() for x, y in zip(a.parameters(), on_cpu.parameters())) < 1e-2  # other rounding


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_a_training_goes_on_from_its_progress_kept_on_disk_to_the_same_weights(tmp_path):
    from lenet5.read.fit import load_progress, made_by, save_progress

    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=2, batch_size=16, maps=(6, 16, 60, 42), workers=1,
                          depth=2, device="cuda")
    saved, made = tmp_path / "r.progress.pt", made_by("sdnn", config, 3)
    whole, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None,
                          after_pass=lambda p: p["epoch"] == 1 and save_progress(saved, p, made))
    progress = load_progress(saved, made)  # AdamW's state kept from the GPU, loaded on the CPU
    said = []
    went_on, _ = train_sdnn(digits, labels, config, seed=3, log=said.append, resume=progress)
    assert same_weights(whole, went_on) and not any(line.startswith("note:") for line in said)


def test_the_device_named_cpu_is_the_default_bit_for_bit():
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=1, batch_size=16, maps=(6, 16, 60, 42), workers=1)
    a, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    b, _ = train_sdnn(digits, labels, dataclasses.replace(config, device="cpu"), seed=3, log=lambda s: None)
    assert config.device == "cpu" and same_weights(a, b)


def test_each_digits_centre_is_the_middle_of_its_ink_in_the_band():
    """Digits apart on a clean line: the centre from the strip maker's pixel owners, mapped as
    `normalize` maps the image, is the middle of that digit's run of ink in the band (the fake
    digits are symmetric about their cell's middle)."""
    digits, labels = body_digits(60, 4)
    style = Style(joined=0.0, gap=(8, 12), broken=0.0, blur=(0.0, 0.0), noise=(0.0, 0.0), drift=0.0, jitter=0)
    for b in make_bands(digits, labels, 6, seed=2, style=style, workers=1):
        columns = np.nonzero(b.ink.max(axis=0) > 0.3 * 255)[0]
        runs = np.split(columns, np.nonzero(np.diff(columns) > 1)[0] + 1)
        assert len(runs) == len(b.number) == len(b.centres)
        middles = [(r[0] + r[-1]) / 2 - PAD for r in runs]  # band column -> line column
        assert np.abs(b.centres - middles).max() <= 1.0, (b.centres, middles)


def test_column_targets_name_the_digit_under_each_centred_window_and_between_far_from_all():
    from lenet5.read.train_sdnn import BETWEEN, FAR, IGNORED, NEAR, batch_of, column_targets, columns_of

    centres = np.array([centre_of(3) + 1.0, centre_of(9) - 1.0, np.nan], np.float32)  # the third owns no pixel
    got = column_targets(centres, 14)
    x = centre_of(np.arange(14))
    for t in range(14):
        gap = np.abs(x[t] - centres[:2])
        want = int(gap.argmin()) if gap.min() <= NEAR else BETWEEN if gap.min() >= FAR else IGNORED
        assert got[t] == want
    assert list(np.nonzero(got >= 0)[0]) == [3, 9] and got[3] == 0 and got[9] == 1
    assert got[0] == BETWEEN and got[5] == IGNORED and got[13] == BETWEEN
    assert (column_targets(np.array([np.nan], np.float32), 5) == BETWEEN).all()  # no digit seen: between everywhere
    ink = np.zeros((HEIGHT, HEIGHT + 13 * STRIDE), np.uint8)
    bands = [Band(ink, "472", centres), Band(ink[:, :HEIGHT + 4 * STRIDE], "", np.zeros(0, np.float32))]
    windows_ = batch_of(bands)[1]
    columns = columns_of(bands, windows_)
    assert columns.shape == (14, 2) and list(windows_) == [14, 5]
    assert columns[3, 0] == 4 and columns[9, 0] == 7 and columns[0, 0] == NONE and columns[5, 0] == IGNORED
    assert (columns[:5, 1] == NONE).all() and (columns[5:, 1] == IGNORED).all()  # a blank strip, then past its end


def test_the_column_loss_is_off_by_default_and_changes_the_training_when_weighed():
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=1, batch_size=16, maps=(6, 16, 60, 42), workers=1)
    plain, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    zero, _ = train_sdnn(digits, labels, dataclasses.replace(config, columns=0.0), seed=3, log=lambda s: None)
    told, _ = train_sdnn(digits, labels, dataclasses.replace(config, columns=1.0), seed=3, log=lambda s: None)
    assert same_weights(plain, zero)
    assert not torch.equal(plain.C1.weight, told.C1.weight)
    with pytest.raises(Lenet5Error, match="columns must be a weight of 0 or more"):
        train_sdnn(digits, labels, dataclasses.replace(config, columns=-1.0), seed=3, log=lambda s: None)


def test_fresh_strips_replace_each_share_in_turn():
    from lenet5.read.bands import fresh_slots

    assert fresh_slots(10, 0.5, 2) == [0, 1, 2, 3, 4] and fresh_slots(10, 0.5, 3) == [5, 6, 7, 8, 9]
    assert fresh_slots(10, 0.3, 4) == [6, 7, 8] and fresh_slots(10, 0.3, 5) == [9, 0, 1]
    assert fresh_slots(10, 1.0, 7) == list(range(10)) and fresh_slots(10, 0.0, 2) == []


def test_fresh_strips_are_drawn_one_pass_ahead_and_the_weights_do_not_depend_on_the_workers():
    from lenet5.data.strips import TRAINING
    from lenet5.read.bands import FreshStrips, _one_band, _start_worker

    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=40, val_strips=5, holdout=50, epochs=3, batch_size=16, maps=(6, 16, 60, 42),
                          workers=1, fresh=0.5)
    bands = make_bands(digits[:150], labels[:150], 40, seed=3, style=TRAINING)
    first = list(bands)
    fresh = FreshStrips(bands, digits[:150], labels[:150], config.fresh, config.epochs, config.workers, 3, TRAINING)
    try:
        assert fresh.for_pass(1) == first
        second = list(fresh.for_pass(2))
    finally:
        fresh.close()
    _start_worker(digits[:150], labels[:150], TRAINING)
    drawn = [_one_band((3, k, 2)) for k in range(20)]  # a strip whose ink vanished under the noise (None) keeps its old band
    assert [b.number for b in second[:20]] == [(new or old).number for new, old in zip(drawn, first)]
    assert sum(new is not None for new in drawn) >= 15
    assert second[20:] == first[20:] and [b.number for b in second[:20]] != [b.number for b in first[:20]]
    # no fresh strip is one of the first pass's (seed [3, 0, 2] is not [3, 2], as [3, 2, 0] would be)
    assert not any(np.array_equal(a.ink, b.ink) for a, new in zip(second[:20], drawn) if new is not None for b in first)
    a, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    b, _ = train_sdnn(digits, labels, dataclasses.replace(config, workers=2), seed=3, log=lambda s: None)
    same, _ = train_sdnn(digits, labels, dataclasses.replace(config, fresh=0.0), seed=3, log=lambda s: None)
    assert same_weights(a, b)
    assert not torch.equal(a.C1.weight, same.C1.weight)
    with pytest.raises(Lenet5Error, match="fresh must be a share"):
        train_sdnn(digits, labels, dataclasses.replace(config, fresh=1.5), seed=3, log=lambda s: None)


def test_a_process_making_fresh_strips_that_dies_is_a_clear_error_not_a_wait():
    import os
    import signal

    from lenet5.data.strips import TRAINING
    from lenet5.read.bands import FreshStrips

    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=4000, epochs=3, workers=1, fresh=1.0)
    fresh = FreshStrips([(np.zeros((32, 40), np.uint8), "1")] * 4000, digits, labels, config.fresh, config.epochs,
                        config.workers, 3, TRAINING)
    try:
        for pid in list(fresh.makers.pool._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(Lenet5Error, match="a process making training strips died"):
            fresh.for_pass(2)
    finally:
        fresh.close()


def test_the_first_strips_come_from_the_same_makers_and_a_dead_one_is_an_error_there_too(monkeypatch):
    import os
    import signal

    from lenet5.data.strips import TRAINING
    from lenet5.read.bands import StripMakers

    monkeypatch.setattr(StripMakers, "CHUNK", 4)  # 11 jobs: three chunks, the last a short one
    digits, labels = body_digits(200, 2)
    with StripMakers(digits, labels, TRAINING, 0) as here, StripMakers(digits, labels, TRAINING, 2) as pool:
        jobs = [(7, k) for k in range(11)]
        made_here, made_there = here.collect(here.submit(jobs)), pool.collect(pool.submit(jobs))
        assert len(made_there) == 11 and [b.number for b in made_here] == [b.number for b in made_there]
        assert all(np.array_equal(a.ink, b.ink) for a, b in zip(made_here, made_there))
        submitted = pool.submit([(7, k) for k in range(3000)])
        for pid in list(pool.pool._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(Lenet5Error, match="a process making training strips died"):
            pool.collect(submitted)


def test_leaving_the_makers_on_an_error_or_ctrl_c_does_not_wait_for_their_strips():
    from lenet5.data.strips import TRAINING
    from lenet5.read.bands import StripMakers

    digits, labels = body_digits(200, 2)
    with pytest.raises(KeyboardInterrupt):
        with StripMakers(digits, labels, TRAINING, 2) as makers:
            submitted = makers.submit([(7, k) for k in range(2000)])  # 8 chunks of 256: seconds of work each
            processes = list(makers.pool._processes.values())
            raise KeyboardInterrupt
    assert processes and not any(p.is_alive() for p in processes)
    finished = [f for f in submitted if f.done() and not f.cancelled() and f.exception() is None]
    assert finished == []  # stopped, not run to the end of the chunks in hand


def test_training_can_go_on_from_an_sdnn_and_keeps_its_maps():
    digits, labels = body_digits(200, 2)
    config = SDNNTraining(strips=60, val_strips=5, holdout=50, epochs=1, batch_size=16, maps=(6, 16, 60, 42), workers=1)
    first, _ = train_sdnn(digits, labels, config, seed=3, log=lambda s: None)
    before = {k: v.clone() for k, v in first.state_dict().items()}
    still = SDNNTraining(**{**config.__dict__, "maps": (8, 16, 60, 42), "lr": 1e-12})
    went_on, _ = train_sdnn(digits, labels, still, seed=4, log=lambda s: None, start_from=first)
    assert went_on is not first and went_on.maps == (6, 16, 60, 42)  # the starting SDNN's maps, not the config's
    assert all(torch.equal(first.state_dict()[k], before[k]) for k in before)  # the starting SDNN is left as it was
    assert all(torch.allclose(went_on.state_dict()[k], before[k], atol=1e-6) for k in before)  # lr ~0: barely moved
    moved, _ = train_sdnn(digits, labels, config, seed=4, log=lambda s: None, start_from=first)
    assert not torch.equal(moved.C1.weight, before["C1.weight"])


@pytest.mark.parametrize("maps, context, depth, refine", [
    (PAPER_MAPS, 0, 1, 0), ((8, 12, 40, 20), 0, 1, 0), ((8, 12, 40, 20), 2, 1, 0), ((8, 12, 40, 20), 0, 2, 0),
    ((8, 12, 40, 20), 2, 2, 0), ((8, 12, 40, 20), 0, 2, 1), ((8, 12, 40, 20), 0, 1, 2)])
def test_every_offset_swept_at_once_is_the_four_shifted_bands_read_bit_for_bit(maps, context, depth, refine):
    """One band (read_line) and bands of several widths together (read_bands), by one SDNN and a committee.
    With a context or refine blocks the outputs read past the band's end, where a shifted band has lost its
    last columns: `band` leaves paper there (PAD px), so these bands end in paper too."""
    from lenet5.read.committee import Committee

    rng = np.random.default_rng(7)
    bands = [(rng.random((HEIGHT, w)) < 0.2).astype(np.float32) for w in (32, 36, 104, 200)]
    for b in bands if context or refine else []:
        b[:, -(STRIDE - 1):] = 0
    with torch.no_grad():
        refined = SDNN(maps, seed=1, context=context, depth=depth, refine=refine)
        for block in getattr(refined, "C3_r", ()):  # blocks that do something
            torch.nn.init.normal_(block.second.weight, std=0.1)
        for model in (refined.eval(), Committee([refined, SDNN(maps, seed=2)]).eval()):
            for chunk in [bands[2:3], bands]:  # each band's outputs up to its own width (past it: the padding)
                inputs, counts = as_batch(chunk)
                shifted, _ = as_batch([p for b in chunk for p in phases(b)])
                got, want = phase_log_probs(model, inputs), column_log_probs(model, shifted)
                assert got.shape == want.shape
                for j, t in enumerate(counts.tolist()):
                    columns = [m * 4 * len(chunk) + 4 * j + s for m in range(len(got[0]) // (4 * len(chunk))) for s in range(4)]
                    if depth == 1 and not refine:
                        assert torch.equal(got[:t, columns], want[:t, columns])
                    else:  # 3x3 convolutions may take another algorithm for another width: rounding apart
                        torch.testing.assert_close(got[:t, columns], want[:t, columns], rtol=0, atol=1e-5)


def test_held_out_bands_are_read_as_read_number_reads_them():
    from lenet5.read.train_sdnn import read_bands

    model = SDNN((6, 16, 60, 42), seed=5)
    with torch.no_grad():  # an untrained SDNN reads "between" everywhere: make its columns disagree
        model.output.weight.mul_(40)
        model.output.bias[NONE] = -2.0
    rng = np.random.default_rng(0)
    bands = [((rng.random((HEIGHT, w)) * 255).astype(np.uint8), "") for w in (48, 80, 64)]
    one_by_one = []
    for b, _ in bands:
        inputs, _ = as_batch([p.astype(np.float32) / 255 for p in phases(b)])
        with torch.no_grad():
            one_by_one.append("".join(str(s.digit) for s in read_columns(column_log_probs(model, inputs))[0]))
    assert read_bands(model, bands, batch_size=3) == one_by_one
    assert all(one_by_one) and len(set(one_by_one)) >= 2, one_by_one  # real strings, not "" == ""
