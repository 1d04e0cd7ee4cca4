import numpy as np
import pytest
import torch

from lenet5.calibration import Platt
from lenet5.cli import main
from lenet5.read import Reading, load_reader
from lenet5.read import trust
from lenet5.read.trust import TARGETS, cut_for, held_out_amounts, measure_trust
from tests.conftest import synthetic_digits


def test_held_out_amounts_come_from_the_last_digits_only_and_repeat_for_a_seed():
    digits, labels = synthetic_digits(300, seed=0)
    labels[:200] = 1  # the training part: all ones; the held-out 100 are mixed
    amounts = held_out_amounts(digits, labels, 20, seed=5, holdout=100)
    again = held_out_amounts(digits, labels, 20, seed=5, holdout=100)
    assert len(amounts) == 20 and all(3 <= len(n) <= 6 for _, n in amounts)
    assert any(set(n) != {"1"} for _, n in amounts)
    assert all(g.dtype == np.float32 and g.ndim == 2 and 0 <= g.min() and g.max() <= 1 for g, _ in amounts)
    assert all(np.array_equal(a, b) and m == n for (a, m), (b, n) in zip(amounts, again))


def test_an_overconfident_reader_is_calibrated_and_its_thresholds_meet_their_targets(monkeypatch):
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, 4000)
    right = rng.uniform(size=4000) < p ** 3  # right less often than it says
    amounts = [(np.full((4, 4), k, np.float32), "12" if ok else "13") for k, ok in enumerate(right)]
    by_image = {k: q for k, q in enumerate(p)}
    monkeypatch.setattr(trust, "read_uncalibrated", lambda model, grey: Reading(None, "12", float(by_image[int(grey[0, 0])])))
    model = type("Reader", (), {"calibration": Platt(3.0, 1.0)})()
    result = measure_trust(model, amounts)
    assert model.calibration == Platt(3.0, 1.0)  # its own map is left as it was while raw probabilities are read
    assert result.exact == pytest.approx(right.mean())
    assert result.ece_after < result.ece_before / 3 and result.ece_before > 0.1
    calibrated = np.array([result.calibration(q) for q in p])
    for t in TARGETS:
        kept = calibrated >= result.thresholds[t]
        assert kept.mean() == pytest.approx(result.accepted[t]) and result.wrong[t] == (~right[kept]).sum()
        assert (~right[kept]).mean() <= t if kept.any() else result.accepted[t] == 0


def test_calibrate_reader_needs_held_out_digits(tiny_data_dir, tmp_path, capsys):
    assert main(["calibrate-reader", "--amounts", "10", "--out", str(tmp_path / "r.safetensors"),
                 "--data-dir", str(tiny_data_dir)]) == 1
    assert "holdout 10000 leaves no training digits" in capsys.readouterr().err
    assert not (tmp_path / "r.safetensors").exists()


def test_calibrate_reader_refuses_to_join_over_segmentation(tmp_path, capsys):
    assert main(["calibrate-reader", "--model", "amounts", "amounts-hos", "--out", str(tmp_path / "r.safetensors")]) == 1
    assert "only SDNNs" in capsys.readouterr().err


def test_calibrate_reader_writes_a_calibrated_reader_of_real_amounts(mnist_dir, tmp_path, capsys):
    out = tmp_path / "calibrated.safetensors"
    assert main(["calibrate-reader", "--amounts", "60", "--seed", "3", "--out", str(out), "--data-dir", str(mnist_dir)]) == 0
    printed = capsys.readouterr().out
    assert "--reject-below" in printed and "calibration error" in printed
    model, meta = load_reader(out)
    assert model.calibration == Platt(meta["calibration"]["a"], meta["calibration"]["b"]) != Platt()
    assert meta["calibration"]["fitted_on"]["amounts"] == 60 and 0.5 < meta["held_out_exact"] <= 1
    assert meta["members_made_by"][0]["source"] == "shipped:amounts"
    chain = meta["members_made_by"][0]["members_made_by"]  # how the shipped committee's own members were made
    assert [m["seed"] for m in chain] == [11, 14] and all(m["members"] is None for m in chain)  # each one SDNN
    seven, eight = [], []  # each member's seeds back to the depth-2 SDNN it was first
    for m, seeds in zip(chain, (seven, eight)):
        while m:
            seeds.append(m["seed"])
            first, m = m["command"], m.get("started_from")
        assert "--depth 2" in first and "--start-from" not in first
    assert seven == [11, 7]  # seed 7 trained on once, on new strips
    assert eight == [14, 12, 10, 8] and "--pens 0.5 --fresh 0.5" in chain[1]["command"]  # seed 8 three times, the last with other pens


def test_a_reader_never_wrong_on_the_amounts_cannot_be_calibrated_on_them(monkeypatch):
    from lenet5.errors import Lenet5Error

    monkeypatch.setattr(trust, "read_uncalibrated", lambda model, grey: Reading(None, "12", 0.9))
    with pytest.raises(Lenet5Error, match="all 3 amounts were read right: nothing to calibrate on; give more of them"):
        measure_trust(type("Reader", (), {})(), [(np.zeros((4, 4), np.float32), "12")] * 3)


def test_calibrate_reader_refuses_heights_it_cannot_read_at_before_loading(tmp_path, capsys):
    for bad in (["20", "20"], ["4"], ["nan"], [str(h) for h in range(20, 29)]):
        assert main(["calibrate-reader", "--heights", *bad, "--out", str(tmp_path / "r.safetensors")]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--heights" in err and "Traceback" not in err
    assert main(["calibrate-reader", "--model", "amounts-hos", "--heights", "20", "22", "--out", str(tmp_path / "r.safetensors")]) == 1
    assert "only SDNNs read at other heights" in capsys.readouterr().err
    assert not (tmp_path / "r.safetensors").exists()


def test_calibrate_reader_at_two_heights_records_them_and_keeps_them_when_calibrated_again(mnist_dir, tmp_path, capsys):
    first, again = tmp_path / "two.safetensors", tmp_path / "again.safetensors"
    assert main(["calibrate-reader", "--heights", "20", "21", "--amounts", "20", "--seed", "3", "--out", str(first),
                 "--data-dir", str(mnist_dir)]) == 0
    model, meta = load_reader(first)
    assert meta["heights"] == [20.0, 21.0] and model.heights == (20.0, 21.0)
    assert main(["calibrate-reader", "--model", str(first), "--amounts", "20", "--seed", "3", "--out", str(again),
                 "--data-dir", str(mnist_dir)]) == 0
    assert load_reader(again)[0].heights == (20.0, 21.0)
    assert load_reader("amounts")[0].heights == (20.0,)  # a file that records none reads at 20 px alone


def test_thresholds_cut_only_between_confidences():
    exact = torch.tensor([True, True, False, True, False])
    confidence = torch.tensor([0.99, 0.95, 0.95, 0.95, 0.6], dtype=torch.float64)
    assert cut_for(exact, confidence, 0.0) == (0.99, 1, 0)  # the wrong 0.95 is kept with the right ones or not at all
    assert cut_for(exact, confidence, 0.25) == (0.95, 4, 1)
    assert cut_for(exact, confidence, 0.4) == (0.6, 5, 2)
    assert cut_for(torch.zeros(5, dtype=torch.bool), confidence, 0.1) == (float("inf"), 0, 0)  # all wrong: none kept
