"""The invariance study: each transformation does what it says, and the command writes its table."""

import numpy as np
import pytest
import torch

from lenet5.cli import main
from lenet5.robustness import TRANSFORMATIONS, markdown, rotate, salt_and_pepper, scale, shift, squeeze, stroke


def bar() -> torch.Tensor:
    """One 28x28 digit: a vertical bar 4 px wide, 12 px high, centred."""
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    image[0, 8:20, 12:16] = 255
    return image


def box(image: torch.Tensor) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(image[0].numpy() > 127)
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def test_shift_moves_and_what_leaves_the_field_is_lost():
    assert box(shift(bar(), 5, 0)) == (13, 25, 12, 16)
    assert box(shift(bar(), -3, 1)) == (8, 20, 9, 13)
    assert shift(bar(), 20, 0).max() == 0


def test_scale_rotate_and_squeeze_keep_the_centre():
    top, bottom, left, right = box(scale(bar(), 2.0))
    assert (bottom - top, right - left) == (24, 8)
    top, bottom, left, right = box(rotate(bar(), 90))
    assert (bottom - top, right - left) == (4, 12)
    top, bottom, left, right = box(squeeze(bar(), 0.5))
    assert (bottom - top, right - left) == (12, 2)
    assert rotate(bar(), 0).equal(bar()) and scale(bar(), 1.0).equal(bar())


def test_stroke_width_and_noise():
    assert box(stroke(bar(), 1)) == (7, 21, 11, 17)
    assert box(stroke(bar(), -1)) == (9, 19, 13, 15)
    noisy = salt_and_pepper(torch.zeros(100, 28, 28, dtype=torch.uint8), 0.2, seed=1)
    assert (noisy == 255).float().mean().item() == pytest.approx(0.1, abs=0.005)
    assert noisy.equal(salt_and_pepper(torch.zeros(100, 28, 28, dtype=torch.uint8), 0.2, seed=1))


def test_every_transformation_includes_its_identity():
    identity = {"vertical shift": 0, "horizontal shift": 0, "scale": 1.0, "rotation": 0, "squeeze": 1.0,
                "stroke width": 0, "salt and pepper": 0}
    assert {t.name for t in TRANSFORMATIONS} == set(identity)
    for t in TRANSFORMATIONS:
        assert identity[t.name] in t.strengths and t.apply(bar(), identity[t.name]).equal(bar())


def test_markdown_has_a_column_per_model():
    rows = [{"transformation": "scale", "strength": 2.0, "unit": "x", "error": 0.5}]
    table = markdown({"a": rows, "b": [{**rows[0], "error": 0.25}]})
    assert table.splitlines()[0] == "| transformation | strength | a | b |"
    assert table.splitlines()[2] == "| scale | 2 x | 50.00 | 25.00 |"


@pytest.mark.mnist
def test_robustness_command_scores_shipped_models(mnist_dir, tmp_path, capsys):
    out = tmp_path / "rob"
    assert main(["robustness", "paper", "modern", "--limit", "300", "--out", str(out), "--data-dir", str(mnist_dir)]) == 0
    assert (out / "robustness.png").is_file() and (out / "robustness.csv").is_file()
    table = (out / "robustness.md").read_text().splitlines()
    assert table[0] == "| transformation | strength | paper | modern |"
    untouched = [line for line in table if line.startswith("| rotation | 0 degrees")][0]
    worst = [line for line in table if line.startswith("| vertical shift | 0.5 characters")][0]
    assert float(untouched.split("|")[3]) < 5 < float(worst.split("|")[3])


def test_robustness_refuses_a_negative_limit(capsys):
    assert main(["robustness", "paper", "--limit", "-1"]) == 1
    assert "--limit" in capsys.readouterr().err
