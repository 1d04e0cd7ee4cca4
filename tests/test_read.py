"""Reading whole numbers: the strips generator, over-segmentation, the search, and the shipped
reader on amounts written with real MNIST test digits."""

import json
from collections import deque

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pathlib import Path

from lenet5.cli import main
from lenet5.data.strips import Style, make_strip
from lenet5.errors import Lenet5Error
from lenet5.read import load_reader, read_images, read_number, reader_network
from lenet5.read.classes import CLASSES, NONE
from lenet5.read.line import DIGIT_HEIGHT, Line, label_components, normalize
from lenet5.read.oversegment import CONTEXT, FIELD, Atom, as_inputs, atoms, candidates, cut_columns, render
from lenet5.read.search import SKIP_PRIOR, best_path
from lenet5.read.train_hos import segment_examples
from lenet5.read.weights import READERS_DIR
from tests.conftest import synthetic_digits


def components_by_search(binary: np.ndarray) -> int:
    """Independent count of 8-connected components, by breadth-first search."""
    seen = np.zeros_like(binary, dtype=bool)
    count = 0
    h, w = binary.shape
    for y, x in zip(*np.nonzero(binary)):
        if seen[y, x]:
            continue
        count += 1
        queue = deque([(y, x)])
        seen[y, x] = True
        while queue:
            cy, cx = queue.popleft()
            for ny in range(max(0, cy - 1), min(h, cy + 2)):
                for nx in range(max(0, cx - 1), min(w, cx + 2)):
                    if binary[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
    return count


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 30), st.floats(0.1, 0.7), st.integers(0, 2**31))
def test_components_match_a_breadth_first_search(h, w, density, seed):
    binary = np.random.default_rng(seed).random((h, w)) < density
    labels = label_components(binary)
    assert ((labels > 0) == binary).all()
    assert len(np.unique(labels[labels > 0])) == components_by_search(binary)
    for k in np.unique(labels[labels > 0]):  # each label is one component: one search from any pixel covers it
        assert components_by_search(labels == k) == 1


def test_a_component_is_cut_where_two_blobs_touch():
    projection = np.array([8, 9, 10, 10, 9, 8, 2, 8, 9, 10, 10, 9, 8])
    cuts = cut_columns(projection)
    assert 6 in cuts  # the thinnest column, where the two touch
    assert all(3 <= c <= len(projection) - 3 for c in cuts)
    assert all(b - a >= 2 for a, b in zip(cuts, cuts[1:]))


def two_digits_image(gap: int, height: int = 60) -> np.ndarray:
    """Dark ink on light paper: a bar ('1') and a ring ('0'), `gap` px apart, `height` px high."""
    grey = np.ones((height + 40, 2 * height + gap + 60), np.float32)
    top, left = 20, 30
    grey[top: top + height, left: left + height // 6] = 0.05
    ring_left = left + height // 6 + gap
    ys, xs = np.indices(grey.shape)
    cy, cx, r = top + height / 2, ring_left + height * 0.35, height * 0.35
    ring = np.abs(np.hypot((ys - cy) / (height / 2 / r), xs - cx) - r) < height / 14
    grey[ring] = 0.05
    return grey


def test_normalize_brings_digits_to_mnist_height_and_keeps_coordinates():
    line = normalize(two_digits_image(gap=40, height=120))
    pieces = atoms(line)
    heights = [a.ys.max() - a.ys.min() + 1 for a in pieces if a.ys.max() - a.ys.min() > 10]
    assert abs(np.median(heights) - DIGIT_HEIGHT) <= 2
    top, left = line.offset
    bar = min(pieces, key=lambda a: a.x0)  # the bar starts at column 30 of the image
    assert abs(left + bar.x0 * line.scale - 30) <= 2 * line.scale
    assert abs(top + bar.ys.min() * line.scale - 20) <= 2 * line.scale


def test_candidates_are_runs_of_neighbouring_atoms_within_the_width_limit():
    pieces = [Atom(np.array([0, 1]), np.array([x, x + 1])) for x in range(0, 60, 3)]
    spans = candidates(pieces)
    assert all((i, i + 1) in spans for i in range(len(pieces)))
    assert all(pieces[j - 1].x1 - pieces[i].x0 <= 1.4 * DIGIT_HEIGHT for i, j in spans if j > i + 1)
    assert (0, len(pieces)) not in spans


def test_render_centres_a_segment_at_line_scale_and_dims_its_neighbours():
    ink = np.zeros((24, 60), np.float32)
    ink[2:22, 10:14] = 1.0  # a bar 20 px high
    ink[2:22, 14:30] = 0.8  # touching ink that belongs to another atom
    line = Line(ink, 1.0, (0.0, 0.0))
    ys, xs = np.nonzero(ink[:, :14] > 0.5)
    field = render(line, [Atom(ys, xs)])
    assert field.shape == (FIELD, FIELD)
    rows, cols = np.nonzero(field > 0.9)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 4  # not resized
    assert abs(cols.mean() - (FIELD - 1) / 2) <= 1 and abs(rows.mean() - (FIELD - 1) / 2) <= 1
    neighbour = field[rows.min(): rows.max() + 1, cols.max() + 1:]
    assert np.allclose(neighbour, CONTEXT * 0.8)  # the neighbour's ink, dimmed, up to the field's edge


def log_probs(rows: list[dict[int, float]]) -> torch.Tensor:
    """Log-probabilities (len(rows), 11): each row's given classes, the rest sharing what is left."""
    out = torch.full((len(rows), CLASSES), -20.0)
    for k, row in enumerate(rows):
        for c, p in row.items():
            out[k, c] = np.log(p)
    return out


def test_the_search_prefers_one_confident_digit_over_two_doubtful_pieces():
    spans = [(0, 1), (1, 2), (0, 2)]
    path = best_path(2, spans, log_probs([{3: 0.5, NONE: 0.5}, {1: 0.4, NONE: 0.6}, {8: 0.9}]))
    assert [(s.i, s.j, s.digit) for s in path] == [(0, 2, 8)]
    path = best_path(2, spans, log_probs([{3: 0.95}, {1: 0.95}, {8: 0.1, NONE: 0.9}]))
    assert [s.digit for s in path] == [3, 1]
    assert sum(s.score for s in path) == pytest.approx(2 * np.log(0.95), abs=1e-5)


def test_the_search_drops_a_speck_only_when_it_is_surely_none():
    spans = [(0, 1), (1, 2), (0, 2)]
    speck = best_path(2, spans, log_probs([{7: 0.99}, {NONE: 0.999}, {7: 0.01, NONE: 0.99}]))
    assert [s.digit for s in speck] == [7, None]
    assert speck[1].score == pytest.approx(np.log(0.999) + SKIP_PRIOR, abs=1e-5)
    kept = best_path(2, spans, log_probs([{7: 0.99}, {1: 0.6, NONE: 0.4}, {7: 0.01, NONE: 0.99}]))
    assert [s.digit for s in kept] == [7, 1]


def test_strips_are_reproducible_and_say_who_owns_each_pixel():
    digits, labels = synthetic_digits(50, 0)
    digits[:, 2:26, 10:18] = np.maximum(digits[:, 2:26, 10:18], 200)  # give every fake digit a body
    style = Style(lengths=(4, 4), jpeg=(95, 95))
    a = make_strip(digits, labels, np.random.default_rng(3), style)
    b = make_strip(digits, labels, np.random.default_rng(3), style)
    assert a.number == b.number and len(a.number) == 4 and np.array_equal(a.image, b.image)
    assert a.owner.shape == a.image.shape and a.image.dtype == np.uint8
    assert set(np.unique(a.owner)) == {-1, 0, 1, 2, 3}
    mean_x = [np.nonzero(a.owner == k)[1].mean() for k in range(4)]
    assert mean_x == sorted(mean_x)  # written left to right


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


def test_a_blank_image_has_no_digits():
    with pytest.raises(Lenet5Error, match="no ink|no digits"):
        read_number(reader_network(), np.full((100, 300), 0.9, np.float32))


def test_the_recognizer_has_eleven_outputs_and_the_paper_layers():
    model = reader_network(seed=0)
    assert model(as_inputs(np.zeros((2, 32, 32), np.float32))).shape == (2, CLASSES)
    assert model.C3.mask is not None and model.config.activation == "scaled-tanh"


def test_a_digit_model_is_refused_as_a_reader(tmp_path):
    from lenet5.pretrained import WEIGHTS_DIR

    with pytest.raises(Lenet5Error, match="not a reader"):
        load_reader(WEIGHTS_DIR / "paper.safetensors")
    with pytest.raises(Lenet5Error, match="no shipped reader"):
        load_reader("nope")


@pytest.fixture(scope="module")
def test_amounts(mnist_dir, tmp_path_factory):
    from lenet5.data.datasets import load_digits

    digits = load_digits("mnist", mnist_dir)
    rng = np.random.default_rng(2024)
    folder = tmp_path_factory.mktemp("amounts")
    truth = {}
    for k in range(40):
        strip = make_strip(digits.test_images.numpy(), digits.test_labels.numpy(), rng)
        path = folder / f"amount-{k:02d}.jpg"
        Image.fromarray(strip.image).save(path, quality=90)
        truth[str(path)] = strip.number
    return truth


@pytest.mark.mnist
@pytest.mark.parametrize("name, method, at_least", [
    # the SDNN reads 30 of these 40 (87.8% of benchmarks/amounts.py's 1,000), over-segmentation 29 (79.7%)
    ("amounts", "sdnn", 26),
    ("amounts-hos", "hos", 26),
])
def test_the_shipped_readers_read_amounts_of_unseen_test_digits(test_amounts, name, method, at_least):
    model, info = load_reader(name)
    assert info["classes"] == CLASSES and info["method"] == method and (READERS_DIR / f"{name}.safetensors").is_file()
    readings = read_images(model, list(test_amounts))
    right = sum(r.number == test_amounts[r.file] for r in readings)
    assert right >= at_least, [(r.number, test_amounts[r.file]) for r in readings if r.number != test_amounts[r.file]]
    for r in readings:
        assert 0 < r.confidence <= 1 and len(r.digits) == len(r.number)
        assert all(a.x1 <= b.x1 for a, b in zip(r.digits, r.digits[1:]))


@pytest.mark.mnist
def test_cli_reads_a_folder_with_bad_files_among_good_ones(test_amounts, tmp_path, capsys):
    good = list(test_amounts)[:2]
    folder = tmp_path / "mixed"
    folder.mkdir()
    for k, src in enumerate(good):
        (folder / f"a{k}.jpg").write_bytes(open(src, "rb").read())
    Image.new("L", (300, 100), 240).save(folder / "blank.png")
    (folder / "notes.png").write_text("not an image")
    show = tmp_path / "show.png"
    assert main(["read", str(folder), "--json", "--show", str(show)]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [Path(o["file"]).name for o in out] == ["a0.jpg", "a1.jpg", "blank.png", "notes.png"]
    assert all(o["error"] is None and o["number"] for o in out[:2])
    assert "no ink" in out[2]["error"] and "not an image" in out[3]["error"]
    assert set(out[0]) == {"file", "number", "confidence", "digits", "error"}
    assert set(out[0]["digits"][0]) == {"digit", "x0", "x1", "confidence"}
    assert show.is_file() and Image.open(show).size[0] > 100


@pytest.mark.mnist
def test_reject_below_marks_doubtful_readings_and_keeps_the_exit_status(test_amounts, capsys):
    files = [str(f) for f in list(test_amounts)[:6]]
    assert main(["read", *files, "--json"]) == 0
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    cut = sorted(o["confidence"] for o in plain)[3]  # three below, three at or above
    assert main(["read", *files, "--json", "--reject-below", str(cut)]) == 0
    marked = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["rejected"] for o in marked] == [o["confidence"] < cut for o in plain] and sum(o["rejected"] for o in marked) == 3
    assert [o["number"] for o in marked] == [o["number"] for o in plain]  # still says what it read
    assert main(["read", *files, "--reject-below", str(cut)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(": rejected: " in line for line in lines) == 3


def test_strips_with_other_pens_and_without():
    from lenet5.data.strips import restroke

    digits, labels = synthetic_digits(40, 3)
    plain = make_strip(digits, labels, np.random.default_rng(9), Style(noise=(0, 0), blur=(0, 0)))
    unused = make_strip(digits, labels, np.random.default_rng(9), Style(noise=(0, 0), blur=(0, 0), pen_steps=(3,)))
    assert np.array_equal(plain.image, unused.image)  # pens 0: no extra draw, the strips every other style made stay as they were
    bar = np.zeros((20, 9), np.float32)
    bar[2:18, 3:6] = 1
    assert restroke(bar, 2).sum() > 1.4 * bar.sum() and restroke(bar, -1).sum() < 0.8 * bar.sum()
    bold = make_strip(digits, labels, np.random.default_rng(9), Style(noise=(0, 0), blur=(0, 0), pens=1.0, pen_steps=(3,)))
    assert bold.number == plain.number and not np.array_equal(bold.image, plain.image)
