"""lenet5/fused.c against autograd on the reference modules, and the determinism it promises."""

import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest
import torch

from lenet5 import fused
from lenet5.evaluate import predict_all
from lenet5.losses import pattern_loss
from lenet5.model import LeNet, ModelConfig
from lenet5.presets import PRESETS
from lenet5.train import Trainer

pytestmark = pytest.mark.skipif(fused.library() is None, reason="no C compiler to build lenet5/fused.c")
QUIET = dict(progress=False, log=lambda s: None)


def trained_a_little(config: ModelConfig) -> LeNet:
    """A network off its initial weights, so that every layer's gradient is non-trivial."""
    model = LeNet(config, seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
        model.C3.weight.mul_(model.C3.mask)  # Table I's missing kernels stay zero
    return model


def digits(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 32, 32, generator=g) * 1.275 - 0.1, torch.randint(0, 10, (n,), generator=g)


def test_supports_exactly_the_paper_layers():
    assert {name for name, p in PRESETS.items() if fused.supports(p.model)} == {"paper", "paper-distort", "paper-pens", "paper-sdlm"}
    assert not fused.supports(ModelConfig(pooling="avg")) and not fused.supports(ModelConfig(c3="full"))
    assert fused.supports(ModelConfig(loss="mse", init="pytorch", input="resize-32"))


@pytest.mark.parametrize("loss, summed, batch", [("map", False, 32), ("map", True, 13), ("mse", False, 70)])
def test_gradients_equal_autograd(loss, summed, batch):
    config = ModelConfig(loss=loss)
    model = trained_a_little(config)
    inputs, labels = digits(100)
    idx = torch.randperm(100, generator=torch.Generator().manual_seed(1))[:batch]
    losses = pattern_loss(loss, config.j)(model(inputs[idx]), labels[idx])
    (losses.sum() if summed else losses.mean()).backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    got, wrong = fused.FusedNet(model, threads=2).gradients(inputs, labels, idx, 1.0 if summed else 1 / batch)
    torch.testing.assert_close(got, losses.detach(), rtol=1e-5, atol=1e-5)
    assert torch.equal(wrong, model(inputs[idx]).argmin(1) != labels[idx])
    for name, p in model.named_parameters():
        scale = expected[name].abs().max()
        assert (p.grad - expected[name]).abs().max() <= 2e-5 * scale, name
    assert (model.C3.weight.grad * (1 - model.C3.mask)).abs().max() == 0  # Table I's missing kernels get none


def test_a_wiring_that_feeds_maps_an_odd_number_of_times_is_followed_too():
    """C3's weight gradient takes the maps an S2 map feeds two at a time; Table I feeds 10 from
    each. Here S2's maps 0 and 3 feed 9 and 7 (connections dropped), so the odd one is taken alone."""
    model = trained_a_little(ModelConfig())
    with torch.no_grad():
        for o, i in ((15, 0), (9, 3), (12, 3), (15, 3)):
            assert model.C3.mask[o, i].item() == 1
            model.C3.mask[o, i] = 0
        model.C3.weight.mul_(model.C3.mask)
    assert model.C3.mask[:, 0].sum().item() == 9 and model.C3.mask[:, 3].sum().item() == 7
    inputs, labels = digits(24)
    pattern_loss("map", model.config.j)(model(inputs), labels).mean().backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    fused.FusedNet(model, threads=1).gradients(inputs, labels, None, 1 / 24)
    for name, p in model.named_parameters():
        assert (p.grad - expected[name]).abs().max() <= 2e-5 * expected[name].abs().max(), name
    assert (model.C3.weight.grad * (1 - model.C3.mask)).abs().max() == 0
    torch.testing.assert_close(fused.FusedNet(model).scores(inputs), model(inputs), rtol=1e-5, atol=1e-4)


def test_scores_equal_the_modules_and_predict_all_uses_them(monkeypatch):
    model = trained_a_little(ModelConfig()).eval()
    inputs, _ = digits(37)
    with torch.no_grad():
        expected = model(inputs)
    got = fused.FusedNet(model).scores(inputs)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    classes, margins = predict_all(model, inputs)
    monkeypatch.setenv("LENET5_KERNEL", "pytorch")
    assert not fused.applies(model)
    reference = predict_all(model, inputs)
    assert torch.equal(classes, reference[0])
    torch.testing.assert_close(margins, reference[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("width", [4, 8, 16])
def test_every_vector_width_computes_the_network(width, tmp_path, monkeypatch):
    """fused.c built for 4-, 8- and 16-float vectors (LENET5_VW; a width the CPU lacks is lowered by
    the compiler): each code path, C1's gathered columns and C3's two layouts among them, gives
    the modules' scores and gradients."""
    out = tmp_path / f"fused-{width}.so"
    command = [shutil.which(os.environ.get("CC", "cc")), *fused.FLAG_SETS[1], f"-DLENET5_VW={width}", "-Wno-psabi",
               "-shared", "-fPIC", "-std=gnu11", "-o", str(out), str(fused.SOURCE), "-lm"]
    if subprocess.run(command, capture_output=True).returncode != 0:
        pytest.skip(f"the compiler does not build fused.c for {width}-float vectors here")
    lib = fused._load(out)
    monkeypatch.setattr(fused, "library", lambda: lib)
    model = trained_a_little(ModelConfig())
    inputs, labels = digits(37, seed=width)  # 4 tiles and an odd one of 5
    net = fused.FusedNet(model, threads=2)
    with torch.no_grad():
        torch.testing.assert_close(net.scores(inputs), model(inputs), rtol=1e-5, atol=1e-5)
    pattern_loss("map", model.config.j)(model(inputs), labels).sum().backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    net.gradients(inputs, labels, None, 1.0)
    for name, p in model.named_parameters():
        assert (p.grad - expected[name]).abs().max() <= 2e-5 * expected[name].abs().max(), name


def test_no_compiler_means_pytorch(monkeypatch):
    monkeypatch.setattr(fused, "library", lambda: None)
    assert not fused.applies(LeNet(ModelConfig()))


def train_tiny(run_dir, data_dir, threads: int, preset: str = "paper") -> Trainer:
    torch.set_num_threads(threads)
    p = PRESETS[preset]
    trainer = Trainer(p.model, p.train.replace(epochs=2, batch_size=32, curvature_patterns=32), 7, run_dir, data_dir, **QUIET)
    trainer.fit()
    return trainer


@pytest.mark.parametrize("preset", ["paper", "paper-sdlm"])
def test_same_seed_same_weights(tiny_data_dir, tmp_path, preset):
    first = train_tiny(tmp_path / "a", tiny_data_dir, 2, preset)
    again = train_tiny(tmp_path / "b", tiny_data_dir, 2, preset)
    assert first.rounding["kernel"] == again.rounding["kernel"] == "fused.c"
    assert all(torch.equal(a, b) for a, b in zip(first.model.parameters(), again.model.parameters()))
    assert first.history[-1]["train_loss"] < first.history[0]["train_loss"]


def test_the_kernels_weights_do_not_depend_on_the_thread_count(tiny_data_dir, tmp_path):
    """(SDLM's curvature pass runs through PyTorch, whose rounding does: paper-sdlm's weights do.)"""
    one = train_tiny(tmp_path / "one", tiny_data_dir, 1)
    two = train_tiny(tmp_path / "two", tiny_data_dir, 2)
    assert all(torch.equal(a, b) for a, b in zip(one.model.parameters(), two.model.parameters()))


def test_pytorch_path_on_request(tiny_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LENET5_KERNEL", "pytorch")
    trainer = train_tiny(tmp_path / "r", tiny_data_dir, 1)
    assert trainer.steps.kernel == trainer.rounding["kernel"] == "pytorch"
    assert not trainer.optimizer.defaults["fused"]  # PyTorch's own per-parameter AdamW, as before


def fake_compiler(tmp_path, body: str) -> str:
    """A `cc` that answers --version and otherwise runs `body`, logging each compile to calls.log."""
    cc = tmp_path / "cc"
    cc.write_text(f'#!/bin/sh\nif [ "$1" = "--version" ]; then echo fake 1.0; exit 0; fi\necho x >> {tmp_path}/calls.log\n{body}\n')
    cc.chmod(0o755)
    return str(cc)


def test_a_failed_build_is_remembered_not_retried_by_every_process(tmp_path):
    cc = fake_compiler(tmp_path, "exit 1")
    folder = tmp_path / "kernels"
    assert fused._build(cc, ("-O3",), folder) is None
    assert fused._build(cc, ("-O3",), folder) is None  # a second process: no second compile
    assert (tmp_path / "calls.log").read_text().count("x") == 1 and list(folder.glob("*.failed"))


def test_a_compiler_that_hangs_is_given_up_on(tmp_path, monkeypatch):
    monkeypatch.setattr(fused, "COMPILE_SECONDS", 1)
    cc = fake_compiler(tmp_path, "sleep 30")
    start = time.perf_counter()
    assert fused._build(cc, ("-O3",), tmp_path / "kernels") is None
    assert time.perf_counter() - start < 10


def test_only_a_kernel_nobody_else_can_write_is_loaded(tmp_path):
    folder = tmp_path / "kernels"
    folder.mkdir(mode=0o700)
    so = folder / "fused-x.so"
    so.write_bytes(b"")
    so.chmod(0o755)
    assert fused.trusted(so)
    so.chmod(0o757)  # anyone may replace its code
    assert not fused.trusted(so)
    so.chmod(0o755)
    folder.chmod(0o777)  # anyone may swap the file
    assert not fused.trusted(so)


def test_the_fallback_folder_is_one_per_user_not_one_per_process():
    assert fused.private_temp_dir() == fused.private_temp_dir()


def test_train_uses_every_core_by_default_where_the_weights_do_not_depend_on_it(tiny_data_dir, tmp_path):
    from lenet5.cli import main
    from lenet5.runtime import machine_cores

    common = ["train", "--epochs", "1", "--data-dir", str(tiny_data_dir), "--quiet"]
    assert main([*common, "--out", str(tmp_path / "auto")]) == 0
    assert main([*common, "--out", str(tmp_path / "one"), "--threads", "1"]) == 0
    assert main([*common, "--preset", "modern", "--out", str(tmp_path / "modern")]) == 0
    runs = {name: json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("auto", "one", "modern")}
    assert runs["auto"]["threads"] == machine_cores() and runs["one"]["threads"] == 1
    assert runs["modern"]["threads"] == 1  # the PyTorch path: its rounding depends on the count
    weights = [torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)["model"] for name in ("auto", "one")]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_the_faster_path_is_chosen_once_and_kept(monkeypatch, tmp_path, tiny_data_dir):
    monkeypatch.delenv("LENET5_KERNEL", raising=False)
    lib = fused.library()
    if lib is None:
        pytest.skip("no C compiler")
    fake = tmp_path / "fused-x.so"
    monkeypatch.setattr(fused, "library", lambda: type("Lib", (), {"_name": str(fake)})())
    fused.choice.cache_clear()
    monkeypatch.setattr(fused, "time_both", lambda threads: {"fused_ms": 3.0, "pytorch_ms": 1.0})
    assert fused.choice(1) == {"kernel": "pytorch", "fused_ms": 3.0, "pytorch_ms": 1.0}
    assert json.loads((tmp_path / "fused-x.threads1.json").read_text())["kernel"] == "pytorch"
    fused.choice.cache_clear()
    monkeypatch.setattr(fused, "time_both", lambda threads: pytest.fail("timed again"))
    assert fused.choice(1)["kernel"] == "pytorch"  # read back: the choice, and the weights, stay
    monkeypatch.setattr(fused, "library", lambda: lib)
    monkeypatch.setattr(fused, "choice", lambda threads: {"kernel": "pytorch", "fused_ms": 3.0, "pytorch_ms": 1.0})
    trainer = train_tiny(tmp_path / "slow", tiny_data_dir, 1)
    assert trainer.steps.kernel == trainer.rounding["kernel"] == "pytorch"
    assert trainer.rounding["kernel_timing_ms"] == {"fused.c": 3.0, "pytorch": 1.0}
    monkeypatch.setenv("LENET5_KERNEL", "fused")
    assert fused.applies(LeNet(ModelConfig()))  # forced


def test_the_first_timing_may_come_under_no_grad_and_inference_mode(monkeypatch):
    if fused.library() is None:
        pytest.skip("no C compiler")
    with torch.no_grad():
        assert set(fused.time_both(1)) == {"fused_ms", "pytorch_ms"}
    with torch.inference_mode():
        assert fused.time_both(1)["pytorch_ms"] > 0


def test_the_kernels_tanh_is_the_fitted_one_and_close_to_tanh(monkeypatch):
    """fused.c's coefficients are benchmarks/tanh_fit.py's (which checks every float32), and that
    rational tanh is within 5.1e-7 of tanh, odd and never above 1 on a sample of float32."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(root / "benchmarks"))
    from tanh_fit import CLAMP, P, Q, rational_tanh

    source = (root / "lenet5" / "fused.c").read_text()
    ratio = source[source.index("#define TANH_RATIO"):source.index("(y) * p_ / q_; })")]
    # each constant with the sign before it, written against it or as the operator that adds it
    numbers = [np.float32(sign + x) for sign, x in re.findall(r"([-+]?)\s*(\d+\.\d+(?:e[-+]\d+)?)f", ratio)]
    assert numbers == [*P, *Q]
    assert np.float32(re.search(r"#define TANH_CLAMP ([\d.]+)f", source).group(1)) == CLAMP
    x = np.random.default_rng(0).uniform(-12, 12, 1_000_000).astype(np.float32)
    x = np.concatenate([x, np.float32([0.0, 1e-30, 1e-6, 7.905, 8.0, 1e30])])
    for fma in (False, True):  # a multiply and an add, or one fused multiply-add, per Horner step
        r = rational_tanh(x, fma=fma)
        assert np.abs(r - np.tanh(x.astype(np.float64))).max() < 5.1e-7
        assert np.array_equal(rational_tanh(-x, fma=fma), -r) and r.max() <= 1.0
    assert np.isnan(rational_tanh(np.float32([np.nan]))).all()
