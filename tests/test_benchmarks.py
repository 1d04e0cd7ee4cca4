"""The README's benchmark commands run and report every row (on tiny synthetic data)."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def test_speed_benchmark_reports_every_pipeline(tiny_data_dir, tmp_path):
    out = tmp_path / "speed.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--passes", "1", "--digits", "128",
                             "--data-dir", str(tiny_data_dir), "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    rows = [(row["pipeline"], row["threads"]) for row in report["rows"] if row["device"] == "cpu"]
    counts = sorted({1, report["cores"]})
    assert rows[0][0].startswith("baseline") and {"lenet5 paper", "lenet5 paper-sdlm", "lenet5 blog", "lenet5 modern"} <= {r[0] for r in rows}
    for threads in counts:  # the default preset, at both batch sizes, beside the baseline at the same thread count
        assert {(rows[0][0], threads), ("lenet5 paper", threads), ("lenet5 paper at its own batch size (32)", threads)} <= set(rows)
    assert all(row["seconds_per_pass"] > 0 and row["floor_s"] > 0 for row in report["rows"] if row["device"] == "cpu")
    assert all(row["checkpoint_and_metrics_s"] > 0 for row in report["rows"] if not row["pipeline"].startswith("baseline"))
    assert report["inference"]["PyTorch"]["batch_1000_digits_per_s"] > 0
    assert report["inference"]["PyTorch"]["predict_png_ms"] > 0
    assert "ONNX Runtime" in report["inference"]  # onnxruntime is a test dependency
    assert report["fused_build_s"] is None or report["fused_build_s"] > 0
    assert "lenet5 paper at its own batch size (32)" in result.stdout


def test_speed_gpu_only_without_a_gpu_is_a_one_line_error(tiny_data_dir, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--gpu-only", "--data-dir", str(tiny_data_dir),
                             "--out", str(tmp_path / "s.json")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "sees no CUDA device" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("kernel", ["default", "pytorch"])
def test_repeat_trains_one_seed_twice_and_compares(tiny_data_dir, kernel):
    env = {**os.environ, **({"LENET5_KERNEL": "pytorch"} if kernel == "pytorch" else {})}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "repeat.py"), "--passes", "1", "--data-dir", str(tiny_data_dir)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("run ") == 2 and "same weights bit for bit: yes (largest difference 0)" in result.stdout
    if kernel == "pytorch":
        assert result.stdout.count("kernel pytorch") == 2


def test_profile_step_lists_operators(tiny_data_dir):
    for flags, operator in (([], "Optimizer.step"), (["--pytorch"], "aten::convolution")):
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "profile_step.py"), "--digits", "256", "--batch", "64",
                                 "--data-dir", str(tiny_data_dir), *flags], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "ms per step" in result.stdout and operator in result.stdout


def test_readers_benchmark_scores_every_shipped_model(tiny_data_dir):
    from lenet5.pretrained import shipped

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "readers.py"), "--images", "8",
                             "--data-dir", str(tiny_data_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [row[0] for row in rows] == shipped()
    assert all(len([v for v in row if v.endswith("%")]) == 4 for row in rows)


def test_training_killed_at_10_random_moments_resumes_to_the_same_weights(tiny_data_dir):
    # 10 moments, not the benchmark's 20, two at a time: a run is mostly process start (torch's import), 13 s
    # each on a slow 2-core machine, where 20 one at a time took 284 s of the suite; `python benchmarks/faults.py` does all 20
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "faults.py"), "--kills", "10", "--jobs", "2",
                             "--data-dir", str(tiny_data_dir),
                             "--", "--epochs", "12", "--threads", "1"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "10/10 killed and resumed runs ended with the undisturbed run's weights" in result.stdout


def test_uci_digits_are_laid_out_as_mnist_lays_its_digits(monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from amounts import uci_digits

    digits, labels = uci_digits()
    assert digits.shape == (1797, 28, 28) and digits.dtype == "uint8" and sorted(set(labels.tolist())) == list(range(10))
    ink = digits.astype(float)
    ys, xs = np.indices((28, 28))
    centres = np.stack([(ink * ys).sum((1, 2)) / ink.sum((1, 2)), (ink * xs).sum((1, 2)) / ink.sum((1, 2))], axis=1)
    assert np.abs(centres - 13.5).max() < 1.0  # by the centre of mass, as MNIST
    assert digits.max() == 255 and (digits > 128).mean() > 0.05  # ink at full strength, not faint


@pytest.mark.mnist
def test_amounts_times_several_reads_of_each_amount(mnist_dir, monkeypatch):
    # a busy host slows some reads: one read per amount gave 52-53 ms where the best of 15 gave 36 ms (23c40f3)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from amounts import timing

    from lenet5.data.datasets import load_digits
    from lenet5.read.weights import load_reader

    digits = load_digits("mnist", mnist_dir)
    seconds = timing(load_reader("amounts")[0], digits.test_images[:200].numpy(), digits.test_labels[:200].numpy(),
                     seed=3, runs=2, reads=3)
    assert len(seconds) == 2 and all(len(each) == 3 and all(0 < s < 10 for s in each) for each in seconds)


def test_amounts_from_two_sources_at_once_is_a_one_line_error_before_any_download(tmp_path):
    empty = tmp_path / "no-data"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "amounts.py"), "--uci", "--held-out", "--amounts", "2",
                             "--data-dir", str(empty)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "choose one" in result.stderr and "Traceback" not in result.stderr
    assert not empty.exists() or not any(empty.rglob("*"))  # said before MNIST was fetched


def test_trust_scores_takes_the_most_it_can_under_the_error_target(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from trust_scores import accepted

    exact = np.array([True, True, False, True, False])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.1])
    assert accepted(exact, score, 0.0) == (0.4, 0.8)
    assert accepted(exact, score, 0.25) == (0.8, 0.6)  # 1 wrong of the 4 kept
    assert accepted(exact, score, 0.5) == (1.0, 0.1)
    assert accepted(np.zeros(3, dtype=bool), np.ones(3), 0.01) == (0.0, float("inf"))


def test_paired_readers_bootstrap_gives_no_difference_for_one_reader_and_finds_a_better_one(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from paired_readers import bootstrap, kept_at

    rng = np.random.default_rng(0)
    p = rng.random(400)
    exact = rng.random(400) < 0.6 + 0.4 * p  # the surer, the likelier right
    same = bootstrap((p, exact), (p, exact), resamples=50)
    assert set(same) == {"exact", "kept at 1%", "kept at 0.5%", "kept at 0.1%"}
    assert all(v == (0.0, 0.0, 0.0) for v in same.values())
    better = exact.copy()
    better[np.nonzero(~exact)[0][:40]] = True  # B reads 40 of A's wrong amounts right
    diff, low, high = bootstrap((p, exact), (p, better), resamples=200)["exact"]
    assert diff == pytest.approx(0.1) and 0 < low <= diff <= high
    assert kept_at(np.array([True, True, False, True]), np.array([0.9, 0.8, 0.7, 0.6]), 0.0) == 0.5
    assert kept_at(np.array([True, True, False, True]), np.array([0.9, 0.8, 0.7, 0.6]), 0.25) == 1.0


@pytest.mark.mnist
def test_trust_scores_reads_as_lenet5_read_does(mnist_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from trust_scores import SCORES, scores_of

    from lenet5.data.datasets import load_digits
    from lenet5.read.reading import read_number
    from lenet5.read.trust import held_out_amounts
    from lenet5.read.weights import load_reader

    model, _ = load_reader("amounts")
    digits = load_digits("mnist", mnist_dir)
    for grey, number in held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), 6, seed=5):
        read, scores = scores_of(model, grey)
        assert read == read_number(model, grey).number and len(scores) == len(SCORES)
        assert 0 < np.exp(scores[0]) <= 1 and 0 < scores[2] < 1.01 and scores[3] >= 0


@pytest.mark.mnist
def test_trust_scores_second_opinion_ranks_agreeing_amounts_first(mnist_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from trust_scores import SCORES, measure

    from lenet5.data.datasets import load_digits
    from lenet5.read.trust import held_out_amounts
    from lenet5.read.weights import load_reader

    model, _ = load_reader("amounts")
    hos, _ = load_reader("amounts-hos")
    digits = load_digits("mnist", mnist_dir)
    amounts = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), 4, seed=5)
    exact, scores, agree = measure(model, amounts, model)  # a reader always agrees with itself
    assert agree.all() and scores.shape == (4, len(SCORES) + 1) and np.allclose(scores[:, -1], np.exp(scores[:, 0]) + 2)
    exact_alone, scores_alone, agree_alone = measure(model, amounts)
    assert np.array_equal(exact, exact_alone) and np.array_equal(scores[:, :-1], scores_alone) and len(agree_alone) == 0
    _, with_hos, agree_hos = measure(model, amounts, hos)
    assert np.allclose(with_hos[:, -1], np.exp(with_hos[:, 0]) + 2 * agree_hos)
    assert (with_hos[agree_hos, -1] >= 2).all() and (with_hos[~agree_hos, -1] <= 1).all()  # agreeing ones first


@pytest.mark.mnist
def test_amount_errors_splits_the_wrong_amounts_by_their_digits_alone(mnist_dir, tmp_path):
    sheet = tmp_path / "errors.png"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "amount_errors.py"), "--amounts", "40",
                             "--data-dir", str(mnist_dir), "--show", str(sheet), "--show-count", "3"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    wrong = int(lines[0].split(" wrong")[0].rsplit(" ", 1)[1])
    counts = [int(line.split(":")[1].split(",")[0]) for line in lines if line.startswith("  amounts ")]
    of_wrong = [int(line.split(", ")[-1].split(" of")[0]) for line in lines if line.startswith("  amounts ")]
    assert sum(counts) == 40 and sum(of_wrong) == wrong
    touching = [line for line in lines if "of neighbours touching: " in line]
    assert len(touching) >= 2 and sum(int(line.split(": ")[1].split(",")[0]) for line in touching) == 40
    assert sum(int(re.search(r"(\d+) of the wrong ones", line)[1]) for line in touching) == wrong
    covered = [line for line in lines if "strokes under a neighbour's" in line]
    assert len(covered) >= 2 and sum(int(line.split(": ")[1].split(",")[0]) for line in covered) == 40
    assert sum(int(re.search(r"(\d+) of the wrong ones", line)[1]) for line in covered) == wrong
    none = next(line for line in touching if line.startswith("  with 0 pairs"))  # its own rates: its own exactness
    assert float(none.split("read exactly")[1].split("%")[0]) == float(none.split("on average, ")[1].split("%")[0])
    if wrong:
        from PIL import Image
        assert Image.open(sheet).height == (64 + 6) * min(3, wrong)


@pytest.mark.mnist
def test_amount_errors_counts_what_every_reader_misses(mnist_dir):
    """The shipped reader, itself again and over-segmentation: counts of readers right add up both ways."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "amount_errors.py"), "--amounts", "30",
                             "--data-dir", str(mnist_dir), "--also", "amounts", "amounts-hos"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    wrong = int(lines[0].split(" wrong")[0].rsplit(" ", 1)[1])
    hos_right = round(0.3 * float(next(line for line in lines if line.startswith("amounts-hos: ")).split(": ")[1].split("%")[0]))
    by = {int(line.split("by ")[1].split(" of")[0]): int(line.split(": ")[1].split(" ")[0])
          for line in lines if line.startswith("  read exactly by ")}
    missed = next(line for line in lines if line.startswith("missed by every one of the 3 readers"))
    assert int(missed.split(": ")[1].split(" ")[0]) == by[0]
    assert by[0] + by[1] == wrong and by[2] + by[3] == 30 - wrong  # amounts read twice: 0 or 2 of them, and hos
    assert by[1] + by[3] == hos_right  # the third reader's own count: it read with over-segmentation


def test_digit_heights_parses_sets_of_heights(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import argparse

    from digit_heights import heights_of

    assert heights_of("19,20,21") == (20.0, 19.0, 21.0) and heights_of("18,22") == (18.0, 22.0)
    for bad in ("20,20", "4", "20,x"):
        with pytest.raises((argparse.ArgumentTypeError, ValueError)):
            heights_of(bad)


@pytest.mark.mnist
def test_digit_heights_at_20_px_reads_as_lenet5_read_does(mnist_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from digit_heights import read_at

    from lenet5.data.datasets import load_digits
    from lenet5.read.reading import read_uncalibrated
    from lenet5.read.trust import held_out_amounts
    from lenet5.read.weights import load_reader

    model, _ = load_reader("amounts")
    digits = load_digits("mnist", mnist_dir)
    for grey, _ in held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), 4, seed=5):
        reading = read_uncalibrated(model, grey)
        assert read_at(model, grey, (20.0,)) == (reading.number, reading.confidence)
        number, p = read_at(model, grey, (20.0, 22.0))
        assert number.isdigit() and 0 < p <= 1


def test_blind_reading_estimates_from_strata(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from blind_reading import stratified, sure_errors

    census = stratified([(90, 90, 81), (10, 10, 5)])  # every amount read: counted, no spread
    assert census.value == pytest.approx(0.86) and census.low == census.high == pytest.approx(0.86)
    sampled = stratified([(900, 100, 90), (100, 100, 50)])  # the first stratum a ninth sampled
    q = 92 / 104  # Agresti and Coull's adjusted share
    half = 1.96 * 0.9 * math.sqrt((1 - 100 / 900) * q * (1 - q) / 100)
    assert sampled.value == pytest.approx((900 * 0.9 + 50) / 1000)
    assert (sampled.low, sampled.high) == pytest.approx((sampled.value - half, sampled.value + half))
    all_right = stratified([(933, 133, 133), (67, 67, 50)])  # a sampled stratum read all right keeps a width
    assert all_right.low < all_right.value == pytest.approx((933 + 50) / 1000) and all_right.high == 1.0
    for bad in ([(10, 11, 5)], [(10, 0, 0), (5, 5, 5)], [(10, 5, 6)], [(0, 0, 0)]):
        with pytest.raises(ValueError):
            stratified(bad)
    assert sure_errors([(900, 100, 50, 1), (100, 100, 10, 5)]) == pytest.approx((460 / 1000, 14 / 460))
    assert math.isnan(sure_errors([(900, 100, 0, 0), (100, 100, 0, 0)])[1])  # nothing marked sure


@pytest.mark.mnist
def test_blind_reading_writes_sheets_and_scores_a_filled_form(mnist_dir, tmp_path, monkeypatch, capsys):
    script = str(ROOT / "benchmarks" / "blind_reading.py")
    folder = tmp_path / "blind"
    result = subprocess.run([sys.executable, script, "write", str(folder), "--amounts", "30", "--sample", "10", "--per-sheet", "4",
                             "--data-dir", str(mnist_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in folder.glob("sheet-*.png")) == ["sheet-01.png", "sheet-02.png", "sheet-03.png"]
    key = json.loads((folder / "key.json").read_text())
    ids = [row["id"] for row in key["rows"]]
    assert ids == [f"A{k:03d}" for k in range(1, 11)] and len({row["amount"] for row in key["rows"]}) == 10
    missed_in_sample = sum(row["reading"] != row["number"] for row in key["rows"])
    assert missed_in_sample == min(key["missed"], 5)
    assert (folder / "readings.csv").read_text().splitlines()[1] == "A001,,"

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from blind_reading import main as blind_reading

    def scored(form: Path, key: Path) -> subprocess.CompletedProcess:
        """`score` run in this process (each run of the script would import torch again, 3 s each)."""
        capsys.readouterr()
        try:
            blind_reading(["score", str(form), "--key", str(key)])
            code = 0
        except SystemExit as e:  # sys.exit("error: ...") prints the message to stderr and exits 1
            code, message = (1, e.code) if isinstance(e.code, str) else (e.code or 0, "")
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess([], code, out, err + (message if code else ""))

    def score(lines: list[str]) -> subprocess.CompletedProcess:
        form = tmp_path / "filled.csv"
        form.write_text("id,reading,sure\n" + "\n".join(lines) + "\n")
        return scored(form, folder / "key.json")

    truth = [f"{row['id']},{row['number']},Sure" for row in key["rows"]]
    perfect = score(truth + [",,", ""])  # the blank rows a spreadsheet leaves at the end
    assert perfect.returncode == 0, perfect.stderr[-2000:]
    assert "by the person 100.0%" in perfect.stdout and "with 0.00% errors among them" in perfect.stdout
    assert "by one or the other 100.0%" in perfect.stdout
    blank = score([f"{ids[0]},,unsure"] + truth[1:])
    assert blank.returncode == 0 and "(1 left blank, counted wrong)" in blank.stdout and "by the person 100.0%" not in blank.stdout
    missed_rows = [row for row in key["rows"] if row["reading"] != row["number"]]
    as_reader = score([f"{row['id']},{row['reading']}," for row in key["rows"]])  # read as the reader does, nothing sure
    assert as_reader.returncode == 0, as_reader.stderr[-2000:]
    if missed_rows:
        assert "by one or the other" in as_reader.stdout and "with n/a errors among them" in as_reader.stdout
        assert "read exactly 0 (0.0%)" in as_reader.stdout.split("it misses")[1]
        assert f"; {len(missed_rows)} read wrong as amounts reads them" in as_reader.stdout
        assert "; 0 read wrong as amounts reads them" in perfect.stdout
    form = tmp_path / "bom.csv"
    form.write_bytes(b"\xef\xbb\xbfid,reading,sure\n" + "\n".join(truth).encode() + b"\n")  # a spreadsheet's UTF-8
    bom = subprocess.run([sys.executable, script, "score", str(form), "--key", str(folder / "key.json")],
                         capture_output=True, text=True, timeout=60)  # the script itself, once
    assert bom.returncode == 0 and "by the person 100.0%" in bom.stdout, bom.stderr[-2000:]
    for lines, says in ((truth[1:], "has no line for 1 id(s), the first A001"), (truth + [truth[0]], "repeated id 'A001'"),
                        ([f"{ids[0]},7x,sure"] + truth[1:], "the reading must be the digits 0-9"),
                        ([f"{ids[0]},\u00b2,sure"] + truth[1:], "the reading must be the digits 0-9"), ([], "has no readings")):
        bad = score(lines)
        assert bad.returncode == 1 and says in bad.stderr and "Traceback" not in bad.stderr
    for broken in ({**key, "amounts": 0}, {**key, "missed": key["amounts"] + 1}, {**key, "rows": {}}, {**key, "amounts": "30"},
                   {k: v for k, v in key.items() if k != "model"}, {**key, "rows": [{"id": "A001"}]}):
        (tmp_path / "broken.json").write_text(json.dumps(broken))
        bad = scored(folder / "readings.csv", tmp_path / "broken.json")
        assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    (tmp_path / "a-file").write_text("")
    for target, extra, says in ((folder, [], "is not empty"), (tmp_path / "a-file" / "sub", [], "cannot make"),
                                (tmp_path / "new", ["--model", "no-such-reader"], "no-such-reader"),
                                (tmp_path / "new2", ["--seed", "-1"], "--seed 0 or more")):
        bad = subprocess.run([sys.executable, script, "write", str(target), "--data-dir", str(mnist_dir), *extra],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1 and says in bad.stderr and "Traceback" not in bad.stderr, bad.stderr[-2000:]


def test_own_calibration_prints_both_splits_with_each_halfs_thresholds():
    pytest.importorskip("sklearn")
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "own_calibration.py"), "--amounts", "30"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| half ")]
    assert len(rows) == 8 and "cut in two at random" in result.stdout and "in scikit-learn's order" in result.stdout
    assert sum("MNIST's held-out amounts" in r for r in rows) == 4 and sum("labelled amounts" in r for r in rows) == 4
    assert all(r.count("%") == 7 for r in rows)  # exact, then kept and errors at each of three thresholds


@pytest.mark.mnist
def test_people_rows_run_alone_repeat_the_full_runs(mnist_dir, tmp_path):
    def rows(*extra: str) -> dict[str, str]:  # condition -> its calibration row (mean probability, right, error)
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "people.py"), "--around", "--digits", "30",
                                 "--models", "paper-pens", "--data-dir", str(mnist_dir), *extra],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        return {line.split(" | ")[0][2:]: line for line in result.stdout.splitlines() if line.endswith("points |")}

    full = rows("--figure", str(tmp_path / "around.png"))
    from lenet5.conditions import AROUND
    assert list(full) == [c.name for c in AROUND] and (tmp_path / "around.png").exists()
    alone = rows("--only", "grainy paper", "cut from a number")  # the same files drawn: the same mean probability to 0.1%
    assert alone == {name: full[name] for name in ("grainy paper", "cut from a number")}


def test_composed_amounts_are_laid_out_by_their_own_code_in_every_condition(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from composed_amounts import CELL, CONDITIONS, amount, compose, in_cells, ruled

    rng = np.random.default_rng(0)
    digits = np.zeros((10, 28, 28), np.uint8)
    for k in range(10):  # digit k: a bar k + 2 px wide
        digits[k, 4:24, 10: 12 + k] = 255
    labels = np.arange(10)
    number, ink = compose(digits, labels, rng, 3, gap=(5, 5))
    widths = [int(n) + 2 for n in number]
    assert ink.shape == (28 + 16, sum(widths) + 2 * 5 + 24) and ink.max() == 1.0
    columns = np.nonzero(ink.max(axis=0) > 0)[0]  # the bars, each cut to its ink, 5 px apart, 12 px in
    assert columns[0] == 12 and len(columns) == sum(widths) and columns[-1] == 12 + sum(widths) + 2 * 5 - 1
    _, wobbly = compose(digits, labels, np.random.default_rng(3), 6, gap=(5, 5), wobble=5)  # each bar moved up or down
    tops = [np.nonzero(wobbly[:, x])[0].min() for x in np.nonzero(wobbly.max(axis=0) > 0)[0]]
    assert wobbly.shape[0] == 28 + 16 + 10 and len(set(tops)) > 1 and 8 <= min(tops) and max(tops) <= 18 + 4
    level = amount("plain", digits, labels, np.random.default_rng(1))[1]
    for condition in CONDITIONS:
        number, grey = amount(condition, digits, labels, np.random.default_rng(1))
        lengths = {"long": (7, 8), "short": (1, 2)}.get(condition, (3, 6))
        assert lengths[0] <= len(number) <= lengths[1] and set(number) <= set("0123456789")
        assert grey.dtype == np.float32 and 0 <= grey.min() < 0.5 and (0.5 < grey.max() <= 1 or condition.startswith("dim"))
        if condition.startswith("tilt") or condition.endswith("turned"):  # turned: the picture grows to hold it
            assert grey.shape[0] > level.shape[0]
        if condition.endswith("near"):  # photographed closer: enlarged 4-7x, not 3x
            assert 4 * 44 <= grey.shape[0] <= 7 * 44 and level.shape[0] == 3 * 44
        if condition.startswith("dim"):  # the paper darker than mid-grey, the ink darker still
            assert np.median(grey) < 0.5 and grey.min() < 0.3 * np.median(grey)
        if condition.startswith("dim-photo"):  # and the light falling off across it
            assert np.median(grey[:, :30]) > np.median(grey[:, -30:]) + 0.05
        if condition.endswith("edge"):  # cropped along a rule: the first or the last row darker than the paper beside it
            assert min(grey[0].mean() - grey[6].mean(), grey[-1].mean() - grey[-7].mean()) < -0.1
        if condition.startswith("pencil"):  # faint grey strokes and rules on light grey paper
            assert 0.3 < grey.min() and np.median(grey) > 0.8
        if condition == "slanted":  # the bars lean: their ink's middle moves along the rows from top to bottom
            ys, xs = np.nonzero(grey < 0.5)
            assert abs(np.polyfit(ys, xs, 1)[0]) > 0.15 and grey.shape[1] > level.shape[1]
    _, cells = in_cells(digits, labels, rng, 4)
    _, comb = in_cells(digits, labels, rng, 4, comb=True)
    walls = np.arange(5) * CELL
    assert cells[4, : 4 * CELL + 1].all() and cells[4:40][:, walls].all()  # a rule above, walls down to the rule below
    assert not comb[4].any() and comb[39, : 4 * CELL + 1].all()  # a comb: the line below alone, and its ticks
    assert (np.nonzero(comb[:, walls].all(axis=1))[0] == np.arange(39 - CELL // 3, 40)).all()
    squared = ruled(np.zeros((44, 100), np.float32), rng, 10, columns=True)  # lines every 10 px, none at the edge
    rows, cols = np.nonzero(squared.min(axis=1))[0], np.nonzero(squared.min(axis=0))[0]
    assert (np.diff(rows) == 10).all() and (np.diff(cols) == 10).all() and squared.max() == 0.8
    assert rows.min() >= 2 and rows.max() <= 41 and cols.min() >= 2 and cols.max() <= 97
    for seed in range(6):  # cropped along a rule: one on the first or the last row, the columns as before
        edged = ruled(np.zeros((44, 100), np.float32), np.random.default_rng(seed), 10, columns=True, edge=True)
        rows, cols = np.nonzero(edged.min(axis=1))[0], np.nonzero(edged.min(axis=0))[0]
        assert (rows.min() == 0 or rows.max() == 43) and (np.diff(rows) == 10).all() and cols.min() >= 2
    lined = ruled(np.zeros((44, 100), np.float32), rng, 12, columns=False)
    assert (np.diff(np.nonzero(lined.min(axis=1))[0]) == 12).all() and not lined.min(axis=0).any()
    with pytest.raises(ValueError, match="no condition"):
        amount("upside down", digits, labels, rng)
