"""A user's own labelled amounts: calibrate-reader --labelled, and read --reject-below E%."""

import json

import numpy as np
import pytest
from PIL import Image

from lenet5.cli import main
from lenet5.data.strips import make_strip
from lenet5.read import load_reader
from lenet5.read.labelled import labelled_amounts, labelled_digest, labelled_rows


def folder_of(tmp_path, rows: str, images=("a.png", "b.png")):
    for name in images:
        Image.fromarray(np.full((20, 50), 200, np.uint8)).save(tmp_path / name)
    (tmp_path / "labels.csv").write_bytes(rows.encode("utf-8"))
    return tmp_path


def test_labelled_rows_in_their_order_with_a_spreadsheets_bom_and_blank_lines(tmp_path):
    folder = folder_of(tmp_path, "\ufeffFile, Number\r\nb.png, 0712\r\n\r\na.png,5\r\n")
    rows = labelled_rows(folder)
    assert rows == [(folder.resolve() / "b.png", "0712"), (folder.resolve() / "a.png", "5")]
    amounts = list(labelled_amounts(rows))
    assert [n for _, n in amounts] == ["0712", "5"]
    assert all(g.dtype == np.float32 and g.shape == (20, 50) and 0 <= g.min() <= g.max() <= 1 for g, _ in amounts)


def test_the_digest_of_labelled_amounts_covers_their_images_names_and_numbers(tmp_path):
    folder = folder_of(tmp_path, "file,number\na.png,1\nb.png,2\n")
    first = labelled_digest(folder, labelled_rows(folder))
    assert labelled_digest(folder, labelled_rows(folder)) == first and len(first) == 64
    (folder / "labels.csv").write_text("file,number\na.png,1\nb.png,3\n")
    relabelled = labelled_digest(folder, labelled_rows(folder))
    Image.fromarray(np.full((20, 50), 90, np.uint8)).save(folder / "a.png")  # same labels, another image
    assert len({first, relabelled, labelled_digest(folder, labelled_rows(folder))}) == 3


@pytest.mark.parametrize("rows, said", [
    ("name,digits\na.png,1\n", "the first line must be the header 'file,number'"),
    ("", "the first line must be the header"),
    ("file,number\n", "no amounts below the header"),
    ("file,number\na.png,1,2\n", "line 2: 3 fields where 2 belong"),
    ("file,number\na.png,12a\n", "line 2: number '12a' is not the digits 0-9 alone"),
    ("file,number\na.png,\u0661\u0662\n", "is not the digits 0-9 alone"),  # Arabic-Indic digits: decimal, not 0-9
    ("file,number\na.png,\n", "number '' is not the digits"),
    ("file,number\na.png,1\nb.png,2\na.png,3\n", "line 4: a.png is named twice"),
    ("file,number\nc.png,1\n", "line 2: c.png: no such file"),
    ("file,number\na.png,1\n./a.png,2\n", "line 3: ./a.png is named twice"),
    ("file,number\n../a.png,1\n", "line 2: ../a.png is not in"),
    ("file,number\n/etc/hostname,1\n", "line 2: /etc/hostname is not in"),
    ("file,number\na.png,\"1\n\"\nb.png,x\n", "line 4: number 'x'"),  # a quoted line break: lines counted as the file's
    ("file,number\n\"a\nb.png\",1\n", "line 3: 'a\\nb.png': no such file"),  # a name of two lines, shown on one
    ("file,number\n\"a.png,1\n" + "b.png,2\n" * 3, "line 5: not CSV"),  # an unclosed quote: one line, not a traceback
    ("file,number\nnot-an-image.png,1\n", "line 2: not-an-image.png: not an image"),
])
def test_a_bad_labels_file_is_one_line_naming_the_line(tmp_path, rows, said):
    (tmp_path / "not-an-image.png").write_text("hello")
    with pytest.raises(Exception) as e:
        labelled_rows(folder_of(tmp_path, rows))
    assert type(e.value).__name__ == "Lenet5Error" and said in str(e.value) and "\n" not in str(e.value)


def test_a_folder_without_labels_or_with_broken_ones_is_refused(tmp_path, capsys):
    out = tmp_path / "r.safetensors"
    (tmp_path / "a-file").write_text("x")
    for folder, said in ((tmp_path / "none", "no such folder"), (tmp_path / "a-file", "not a folder"),
                         (tmp_path, "no labels.csv")):
        assert main(["calibrate-reader", "--labelled", str(folder), "--out", str(out)]) == 1
        assert said in capsys.readouterr().err
    (tmp_path / "labels.csv").write_bytes(b"file,number\n\xff\xfe,1\n")
    assert main(["calibrate-reader", "--labelled", str(tmp_path), "--out", str(out)]) == 1
    assert "not UTF-8 text" in capsys.readouterr().err
    folder_of(tmp_path, "file,number\na.png,1\nb.png,2\n")
    assert main(["calibrate-reader", "--labelled", str(tmp_path), "--amounts", "50", "--out", str(out)]) == 1
    assert "give one or the other" in capsys.readouterr().err
    assert not out.exists()


def test_read_refuses_an_error_target_its_reader_names_no_threshold_for(tmp_path, capsys):
    image = tmp_path / "a.png"
    Image.fromarray(np.full((20, 50), 200, np.uint8)).save(image)
    assert main(["read", str(image), "--reject-below", "2%"]) == 1
    assert "names thresholds for 1%, 0.5%, 0.1% errors only" in capsys.readouterr().err
    assert main(["read", str(image), "--model", "amounts-hos", "--reject-below", "1%"]) == 1
    assert "names no thresholds" in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [("0.50%", "0.5%"), ("5e-1%", "0.5%"), (" 1% ", "1%"), ("0.9", 0.9), ("1", 1.0)])
def test_a_threshold_flag_is_a_probability_or_an_error_target(text, value):
    from lenet5.flags import probability_or_target

    assert probability_or_target(text) == value


def test_read_rejects_at_the_threshold_its_file_names_for_a_target(tmp_path, capsys):
    from lenet5.read.sdnn import SDNN
    from lenet5.read.weights import save_reader

    images = []
    for k, grey in enumerate((0, 60, 120)):  # three faint blots: an untrained SDNN reads each somehow
        images.append(str(tmp_path / f"{k}.png"))
        Image.fromarray(np.full((40, 90), 255, np.uint8)).save(images[-1])
        Image.fromarray(np.pad(np.full((20, 14), grey, np.uint8), ((10, 10), (38, 38)), constant_values=255)).save(images[-1])
    plain = tmp_path / "plain.safetensors"
    save_reader(SDNN((6, 16, 120, 84)), plain, {})
    assert main(["read", *images, "--model", str(plain), "--json"]) == 0
    seen = sorted(json.loads(line)["confidence"] for line in capsys.readouterr().out.splitlines())
    cut = seen[-1] if seen[0] == seen[-1] else (seen[0] + seen[-1]) / 2
    named = tmp_path / "named.safetensors"
    model, _ = load_reader(plain)
    save_reader(model, named, {"held_out": {"reject_below": {"1%": cut, "0.5%": float("inf")}}})
    assert main(["read", *images, "--model", str(named), "--json", "--reject-below", "1.0%"]) == 0
    captured = capsys.readouterr()
    marked = [json.loads(line) for line in captured.out.splitlines()]
    assert [m["rejected"] for m in marked] == [m["confidence"] < cut for m in marked] and f"{cut:.4f}" in captured.err
    assert main(["read", *images, "--model", str(named), "--reject-below", "0.5%"]) == 1
    assert "found no confidence that keeps any amount at 0.5% errors" in capsys.readouterr().err


@pytest.mark.mnist
def test_calibrated_on_labelled_amounts_then_rejecting_at_its_own_threshold(mnist_dir, tmp_path, capsys):
    from lenet5.data.datasets import load_digits

    digits = load_digits("mnist", mnist_dir)
    rng = np.random.default_rng(77)
    folder = tmp_path / "mine"
    folder.mkdir()
    rows = []
    for k in range(40):
        strip = make_strip(digits.test_images.numpy(), digits.test_labels.numpy(), rng)
        Image.fromarray(strip.image).save(folder / f"{k:02d}.jpg", quality=90)
        rows.append(f"{k:02d}.jpg,{strip.number}\n")
    (folder / "labels.csv").write_text("file,number\n" + "".join(rows))
    out = tmp_path / "mine.safetensors"
    assert main(["calibrate-reader", "--labelled", str(folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "read 40 amounts" in printed and "40 amounts allow fewer than two wrong" in printed and "95% interval" in printed
    _, meta = load_reader(out)
    fitted = meta["calibration"]["fitted_on"]
    assert meta["held_out"]["wrong_accepted"]["0.5%"] == 0  # 40 amounts allow no error at 0.5%
    assert fitted["amounts"] == 40 and fitted["labelled"] == str(folder.resolve()) and fitted["amounts_sha256"] == labelled_digest(folder, labelled_rows(folder))
    threshold = meta["held_out"]["reject_below"]["0.5%"]
    files = [str(folder / f"{k:02d}.jpg") for k in range(40)]
    assert main(["read", *files, "--model", str(out), "--json", "--reject-below", "0.50%"]) == 0
    readings = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(r["confidence"] <= threshold + 5e-5 if r["rejected"] else r["confidence"] >= threshold - 5e-5
               for r in readings)  # printed to 4 decimals: the amount at the threshold may print just below it
    kept = [r for r in readings if not r["rejected"]]
    assert len(kept) == round(40 * meta["held_out"]["accepted"]["0.5%"])  # the share its calibration said it keeps
    right = {f"{k:02d}.jpg": row.split(",")[1].strip() for k, row in enumerate(rows)}
    assert sum(r["number"] != right[r["file"].rsplit("/", 1)[-1]] for r in kept) == 0  # no errors among them, as chosen
