import json
import math

import numpy as np

import pytest
import torch

from lenet5.calibration import Platt, fit_platt, fit_temperature, logit


def test_platt_is_the_identity_by_default_and_keeps_order_at_the_extremes():
    assert Platt()(0.3) == pytest.approx(0.3)
    squeeze = Platt(0.5, 1.0)
    values = [squeeze(p) for p in (0.0, 1e-9, 0.2, 0.7, 1 - 1e-9, 1.0)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    assert squeeze(0.5) == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_fit_platt_recovers_the_map_that_made_the_outcomes():
    g = torch.Generator().manual_seed(0)
    p = torch.rand(40_000, generator=g, dtype=torch.float64) * 0.98 + 0.01
    truth = torch.sigmoid(2.0 * logit(p) - 0.5)
    correct = torch.rand(40_000, generator=g, dtype=torch.float64) < truth
    fitted = fit_platt(p, correct)
    assert fitted.a == pytest.approx(2.0, abs=0.08) and fitted.b == pytest.approx(-0.5, abs=0.05)


def test_an_honest_confidence_is_left_nearly_alone():
    g = torch.Generator().manual_seed(1)
    p = torch.rand(40_000, generator=g, dtype=torch.float64)
    correct = torch.rand(40_000, generator=g, dtype=torch.float64) < p
    fitted = fit_platt(p, correct)
    assert fitted.a == pytest.approx(1.0, abs=0.05) and fitted.b == pytest.approx(0.0, abs=0.05)


def test_fit_platt_needs_both_outcomes():
    with pytest.raises(ValueError, match="one right and one wrong"):
        fit_platt(torch.tensor([0.2, 0.9]), torch.tensor([True, True]))


def test_fit_temperature_recovers_the_scale_of_overconfident_logits():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(20_000, 10, generator=g, dtype=torch.float64) * 2
    labels = torch.multinomial(torch.softmax(z, dim=1), 1, generator=g)[:, 0]
    assert fit_temperature(3 * z, labels) == pytest.approx(3.0, rel=0.05)


def test_calibrate_model_fits_on_the_runs_held_out_digits_and_predict_reports_the_probability(tiny_data_dir, tmp_path, capsys):
    from PIL import Image

    from lenet5.cli import main
    from lenet5.calibration import Temperature
    from lenet5.pretrained import load_model

    run = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--holdout", "96", "--quiet", "--threads", "1", "--data-dir", str(tiny_data_dir),
                 "--out", str(run)]) == 0
    out = tmp_path / "calibrated.safetensors"
    capsys.readouterr()
    assert main(["calibrate-model", "--model", str(run), "--out", str(out), "--data-dir", str(tiny_data_dir)]) == 0
    assert "96 held-out digits" in capsys.readouterr().out
    model, meta = load_model(out)
    assert isinstance(model.calibration, Temperature) and model.calibration.T == meta["calibration"]["T"] > 0
    assert "held out from" in meta["calibration"]["fitted_on"]
    image = tmp_path / "bar.png"
    canvas = np.full((56, 56), 255, np.uint8)
    canvas[14:18, 8:48] = 0
    Image.fromarray(canvas).save(image)
    assert main(["predict", str(image), "--model", str(out), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert 0.1 <= answer["probability"] <= 1
    assert main(["evaluate", str(out), "--out", str(tmp_path / "eval"), "--data-dir", str(tiny_data_dir)]) == 0
    assert "its calibrated probability" in capsys.readouterr().out


def test_calibrate_model_needs_a_run_that_held_digits_out(tmp_path, capsys):
    from lenet5.cli import main

    assert main(["calibrate-model", "--model", "paper", "--out", str(tmp_path / "x.safetensors")]) == 1
    assert "none held out" in capsys.readouterr().err and not (tmp_path / "x.safetensors").exists()


def test_predict_rejects_by_probability_or_by_margin_and_refuses_an_uncalibrated_probability(tmp_path, capsys):
    from PIL import Image

    from lenet5.cli import main

    canvas = np.full((56, 56), 255, np.uint8)
    canvas[10:46, 26:30] = 0  # a clear "1"
    Image.fromarray(canvas).save(tmp_path / "one.png")
    smudge = np.full((56, 56), 255, np.uint8)
    smudge[20:36, 20:36] = 100  # a grey square: no digit anyone would trust
    Image.fromarray(smudge).save(tmp_path / "smudge.png")
    files = [str(tmp_path / "one.png"), str(tmp_path / "smudge.png")]
    capsys.readouterr()
    assert main(["predict", *files, "--json", "--reject-below", "0.9"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["rejected"] for o in out] == [o["probability"] < 0.9 for o in out]
    assert out[0]["digit"] == 1 and not out[0]["rejected"] and out[1]["probability"] < out[0]["probability"]
    assert main(["predict", *files, "--json", "--reject-below-margin", "1e9"]) == 0
    assert all(json.loads(line)["rejected"] for line in capsys.readouterr().out.splitlines())
    assert main(["predict", *files, "--model", "paper", "--reject-below", "0.9"]) == 1
    assert "has no calibrated probability" in capsys.readouterr().err


def test_exported_weights_keep_the_calibration(tmp_path):
    from lenet5.cli import main
    from lenet5.pretrained import load_model

    assert main(["export", "paper-pens", "--format", "safetensors", "--out", str(tmp_path / "w.safetensors")]) == 0
    assert load_model(tmp_path / "w.safetensors")[0].calibration == load_model("paper-pens")[0].calibration


def test_a_damaged_calibration_is_one_clear_error(tmp_path):
    from lenet5.errors import Lenet5Error
    from lenet5.pretrained import load_model, save_weights

    model, meta = load_model("paper")
    for bad in ("T=3", {"method": "temperature", "T": "warm"}, {"method": "temperature", "T": -1}):
        save_weights(model, tmp_path / "w.safetensors", {**{k: v for k, v in meta.items() if k != "source"}, "calibration": bad})
        with pytest.raises(Lenet5Error, match="unknown calibration"):
            load_model(tmp_path / "w.safetensors")
