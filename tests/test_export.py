import os

import pytest
import torch

from lenet5.checkpoint import load_checkpoint
from lenet5.cli import main
from lenet5.errors import Lenet5Error
from lenet5.export import export
from lenet5.model import LeNet
from lenet5.presets import PRESETS
from lenet5.pretrained import load_pretrained


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("model", [lambda: load_pretrained("paper"), lambda: LeNet(PRESETS["modern"].model, seed=0)])
def test_export_parity_with_dynamic_batch(tmp_path, fmt, model):
    model = model()
    x = torch.randn(300, 1, 32, 32)
    parity = export(model, fmt, tmp_path / f"m.{fmt}", x)
    assert parity.ok() and parity.features < 1e-4
    from lenet5.export import EXPORTERS

    scores, features = EXPORTERS[fmt][1](tmp_path / f"m.{fmt}", x[:7])  # another batch size
    assert scores.shape == (7, 10) and features.shape == (7, 84)
    torch.testing.assert_close(scores, model(x[:7]), rtol=1e-5, atol=1e-3)


def test_non_checkpoints_are_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["export", str(tmp_path / "notes.txt"), "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 1
    assert "not a PyTorch checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_crafted_pickle_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"model": RunsCode(), "model_config": {}}, tmp_path / "evil.pt")
    with pytest.raises(Lenet5Error, match="refused"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()
