import csv
import json

import pytest
import torch

from lenet5.checkpoint import load_checkpoint, model_from_checkpoint
from lenet5.errors import Lenet5Error
from lenet5.model import ModelConfig
from lenet5.presets import PRESETS, TrainConfig
from lenet5.train import Trainer, check_run_dir, learning_rate

TINY = TrainConfig(epochs=2, batch_size=16, eta_scale=0.5, curvature_patterns=32)
QUIET = dict(progress=False, log=lambda s: None)


def test_tiny_sdlm_run_learns_and_writes_everything(tiny_data_dir, tmp_path):
    run = tmp_path / "run"
    summary = Trainer(ModelConfig(init="paper-sqrt"), TINY.replace(epochs=3), 0, run, tiny_data_dir, **QUIET).fit()
    assert summary["test_error"] < 0.5  # chance is 0.9
    for name in ("checkpoint.pt", "metrics.csv", "metrics.json", "curves.png", "config.json"):
        assert (run / name).stat().st_size > 0
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[0]["eps_min"]) > 0 and float(rows[0]["eps_max"]) <= 0.5 * 5e-4 / 0.02 + 1e-12
    assert json.loads((run / "metrics.json").read_text())["parameters"] == 60_000
    state = load_checkpoint(run / "checkpoint.pt")
    assert state["epoch"] == 3 and model_from_checkpoint(state).num_parameters() == 60_000


@pytest.mark.parametrize("preset, distort", [("paper", "none"), ("paper-sdlm", "none"), ("modern", "fresh"), ("blog", "pool")])
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tiny_data_dir, tmp_path, preset, distort):
    p = PRESETS[preset]
    config = p.train.replace(epochs=2, batch_size=32, curvature_patterns=32, distort=distort)
    whole = Trainer(p.model, config, 5, tmp_path / "whole", tiny_data_dir, **QUIET)
    whole.fit()
    first = Trainer(p.model, config.replace(epochs=1), 5, tmp_path / "part", tiny_data_dir, **QUIET)
    first.fit()
    # the interrupted run's checkpoint, continued with the full config
    state = load_checkpoint(tmp_path / "part" / "checkpoint.pt")
    state["train_config"]["epochs"] = 2
    torch.save(state, tmp_path / "part" / "checkpoint.pt")
    resumed = Trainer(p.model, config, 5, tmp_path / "part", tiny_data_dir, **QUIET)
    resumed.fit(resume=True)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    assert [r["epoch"] for r in resumed.history] == [1, 2]


def test_resume_with_other_settings_is_refused(tiny_data_dir, tmp_path):
    Trainer(ModelConfig(), TINY.replace(epochs=1), 0, tmp_path / "r", tiny_data_dir, **QUIET).fit()
    with pytest.raises(Lenet5Error, match="other settings"):
        Trainer(ModelConfig(), TINY.replace(epochs=1), 1, tmp_path / "r", tiny_data_dir, **QUIET).fit(resume=True)


def test_run_dir_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(Lenet5Error, match="is a file"):
        check_run_dir(tmp_path / "file", resume=False)
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "checkpoint.pt").write_bytes(b"")
    with pytest.raises(Lenet5Error, match="already holds a run"):
        check_run_dir(tmp_path / "done", resume=False)
    check_run_dir(tmp_path / "new" / "deeper", resume=False)


def test_holdout_reports_val_error(tiny_data_dir, tmp_path):
    summary = Trainer(ModelConfig(), TINY.replace(epochs=1, holdout=56), 0, tmp_path / "h", tiny_data_dir, **QUIET).fit()
    assert summary["val_error"] is not None and 0 <= summary["val_error"] <= 1


def test_train_config_validation_and_lr_schedule():
    with pytest.raises(Lenet5Error, match="goes with sdlm"):
        TrainConfig(optimizer="adam")
    with pytest.raises(Lenet5Error, match="batch_size must be at least 1"):
        TrainConfig(batch_size=0)
    c = TrainConfig(optimizer="adam", schedule="warmup-cosine", lr=1.0, warmup_epochs=1)
    assert learning_rate(c, 0, 100, 10) == pytest.approx(0.1)
    assert learning_rate(c, 9, 100, 10) == pytest.approx(1.0)
    assert learning_rate(c, 10, 100, 10) == pytest.approx(1.0)
    assert learning_rate(c, 99, 100, 10) < 0.01


@pytest.mark.mnist
@pytest.mark.parametrize("name", ["paper", "paper-sdlm"])
def test_end_to_end_on_real_mnist(mnist_dir, tmp_path, name):
    """A short run on real digits: 6,000 training digits, two passes, 2,000 test digits."""
    preset = PRESETS[name]
    config = preset.train.replace(epochs=2, train_limit=6000, test_limit=2000)
    summary = Trainer(preset.model, config, 0, tmp_path / "e2e", mnist_dir, **QUIET).fit()
    assert summary["test_error"] < 0.15, summary["test_error"]
    assert (tmp_path / "e2e" / "curves.png").exists() and (tmp_path / "e2e" / "checkpoint.pt").exists()


@pytest.mark.parametrize("preset, changes", [("paper", {"lr": float("inf")}), ("paper-sdlm", {"eta_scale": 1e30})])
def test_a_run_that_diverges_stops_with_a_hint(tiny_data_dir, tmp_path, preset, changes):
    from lenet5.train import Diverged

    p = PRESETS[preset]
    config = p.train.replace(epochs=2, batch_size=16, curvature_patterns=32, **changes)
    with pytest.raises(Diverged, match=r"diverged in pass [12] .* try a smaller --eta-scale or --lr"):
        Trainer(p.model, config, 0, tmp_path / "run", tiny_data_dir, **QUIET).fit()


def test_weight_decay_is_adamw_for_adam_and_refused_for_sdlm():
    from lenet5.model import LeNet
    from lenet5.train import make_optimizer

    model = LeNet(ModelConfig())
    adam = PRESETS["paper"].train.replace(weight_decay=0.0)
    assert type(make_optimizer(model, adam)) is torch.optim.Adam
    decayed = make_optimizer(model, adam.replace(weight_decay=0.01))
    assert type(decayed) is torch.optim.AdamW and decayed.param_groups[0]["weight_decay"] == 0.01
    assert make_optimizer(model, adam.replace(optimizer="sgd", weight_decay=0.01)).param_groups[0]["weight_decay"] == 0.01
    with pytest.raises(Lenet5Error, match="SDLM .* has none"):
        PRESETS["paper-sdlm"].train.replace(weight_decay=0.01)
