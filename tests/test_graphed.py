"""The training step from device buffers (lenet5/graphed.py): on the CPU, not captured, against
the Trainer's own step by step; on a GPU, the captured graph against the same step op by op."""

import copy
import functools
import math

import pytest
import torch

import lenet5.steps
from lenet5.checkpoint import load_checkpoint
from lenet5.graphed import GraphedStep, graphable, undo_steps
from lenet5.losses import pattern_loss
from lenet5.model import LeNet, ModelConfig
from lenet5.presets import PRESETS
from lenet5.train import Trainer, implementation, keep_implementation, make_optimizer

QUIET = dict(progress=False, log=lambda s: None)
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def adamw(model, fused=False):
    return make_optimizer(model, PRESETS["paper"].train, fused=fused)


def test_graphs_are_for_adam_on_a_gpu_on_undistorted_digits(monkeypatch):
    gpu, cpu = torch.device("cuda"), torch.device("cpu")
    assert graphable(gpu, "adam", "none")
    assert not graphable(cpu, "adam", "none")
    assert not graphable(gpu, "sdlm", "none") and not graphable(gpu, "sgd", "none")
    assert not graphable(gpu, "adam", "fresh") and not graphable(gpu, "adam", "pool")
    monkeypatch.setenv("LENET5_KERNEL", "pytorch")
    assert not graphable(gpu, "adam", "none")


@pytest.mark.parametrize("steps_before", [0, 2])
def test_undo_steps_puts_weights_and_adam_state_back(steps_before):
    torch.manual_seed(0)
    model = LeNet(ModelConfig(), seed=1)
    optimizer = adamw(model)
    x, y = torch.randn(8, 1, 32, 32), torch.randint(0, 10, (8,))
    loss = pattern_loss("map", 0.1)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss(model(x), y).mean().backward()
        optimizer.step()

    for _ in range(steps_before):
        step()
    params = list(model.parameters())
    weights = [p.detach().clone() for p in params]
    state = {p: {k: v.clone() for k, v in optimizer.state[p].items()} for p in params if p in optimizer.state}
    for _ in range(3):
        step()
    assert not torch.equal(params[0], weights[0])
    undo_steps(params, weights, optimizer, state)
    for p, w in zip(params, weights):
        assert torch.equal(p, w)
    for p in params:
        for k, v in optimizer.state[p].items():
            assert torch.equal(v, state[p][k] if steps_before else torch.zeros_like(v))
    # a step from the undone state is the step a fresh optimizer would take
    twin = LeNet(ModelConfig(), seed=1)
    twin.load_state_dict(model.state_dict())
    twin_opt = adamw(twin)
    if steps_before:
        twin_opt.load_state_dict(copy.deepcopy(optimizer.state_dict()))  # load_state_dict shares tensors
    step()
    twin_opt.zero_grad(set_to_none=True)
    loss(twin(x), y).mean().backward()
    twin_opt.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("saved_fused, fused", [(False, True), (True, False)])
def test_a_resumed_optimizer_keeps_this_runs_implementation(saved_fused, fused):
    """load_state_dict takes the saved run's groups whole (fused or not): a resume puts back
    this run's choice, and Adam's step counts where that implementation keeps them."""
    model = LeNet(ModelConfig(), seed=1)
    saved = adamw(model, fused=saved_fused)
    pattern_loss("map", 0.1)(model(torch.randn(4, 1, 32, 32)), torch.tensor([0, 1, 2, 3])).mean().backward()
    saved.step()
    optimizer = adamw(model, fused=fused)
    chosen = implementation(optimizer)
    optimizer.load_state_dict(copy.deepcopy(saved.state_dict()))
    assert bool(optimizer.param_groups[0]["fused"]) == saved_fused  # what load_state_dict does
    keep_implementation(optimizer, chosen)
    assert bool(optimizer.param_groups[0]["fused"]) == fused
    steps = [optimizer.state[p]["step"] for p in model.parameters()]
    assert all(s.dtype == torch.float32 and s.item() == 1.0 for s in steps)
    optimizer.step()  # and it steps
    assert all(optimizer.state[p]["step"].item() == 2.0 for p in model.parameters())


def test_the_buffered_step_is_the_plain_adamw_step():
    """Not captured (CPU): rows and rates read at the cursor, sums on the device, the same
    weights as AdamW stepped by hand with the same batches and (float32) rates."""
    torch.manual_seed(0)
    inputs, labels = torch.randn(40, 1, 32, 32), torch.randint(0, 10, (40,))
    order = torch.randperm(40).view(5, 8)
    rates = [1e-3, 2e-3, 3e-3, 2e-3, 1e-3]
    loss = pattern_loss("map", 0.1)
    model, reference = LeNet(ModelConfig(), seed=2), LeNet(ModelConfig(), seed=2)
    optimizer, by_hand = adamw(model), adamw(reference)
    step = GraphedStep(model, optimizer, loss, inputs, labels, steps=5, batch_size=8, capture=False)
    step.load(order, rates)
    total, wrong = 0.0, 0
    for rows, rate in zip(order, rates):
        step.replay()
        by_hand.param_groups[0]["lr"] = torch.tensor(rate, dtype=torch.float32).item()
        by_hand.zero_grad(set_to_none=True)
        scores = reference(inputs[rows])
        losses = loss(scores, labels[rows])
        losses.mean().backward()
        by_hand.step()
        total += losses.sum().item()
        wrong += (reference.logits(scores).argmax(1) != labels[rows]).sum().item()
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    loss_sum, mistakes = step.sums()
    assert loss_sum.item() == pytest.approx(total, rel=1e-6) and mistakes.item() == wrong
    assert step.cursor.item() == 5
    assert optimizer.param_groups[0]["lr"] == PRESETS["paper"].train.lr  # a plain number outside the step
    assert not optimizer.param_groups[0]["capturable"]


def test_a_trainer_pass_through_the_buffered_step_matches_its_plain_pass(tiny_data_dir, tmp_path, monkeypatch):
    """The Trainer's graphed pass (here not captured, on the CPU), with a short last batch
    (256 digits, batch 48), against its ordinary pass: the same rates, steps and metrics."""
    preset = PRESETS["modern"]  # adam through PyTorch on the CPU (no fused.c)
    config = preset.train.replace(epochs=2, batch_size=48)
    plain = Trainer(preset.model, config, 3, tmp_path / "plain", tiny_data_dir, **QUIET)
    plain.fit()
    monkeypatch.setattr(lenet5.steps, "GraphedStep", functools.partial(GraphedStep, capture=False))
    monkeypatch.setattr(lenet5.steps, "graphable", lambda device, optimizer, distort: True)
    buffered = Trainer(preset.model, config, 3, tmp_path / "buffered", tiny_data_dir, **QUIET)
    buffered.fit()
    assert buffered.steps.kernel == "cuda-graph" and buffered.steps.graphed.steps == 5  # 256 = 5 x 48 + 16
    assert buffered.step == plain.step == 12
    for a, b in zip(plain.model.parameters(), buffered.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    for a, b in zip(plain.history, buffered.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["train_error"] == b["train_error"] and a["test_error"] == b["test_error"]


@cuda
def test_the_captured_graph_is_the_step_op_by_op():
    """Replays of the graph give the weights that running the same step op by op gives, bit
    for bit, and its warm-up steps leave no trace."""
    torch.backends.cudnn.deterministic = True
    torch.manual_seed(0)
    inputs, labels = torch.randn(256, 1, 32, 32).cuda(), torch.randint(0, 10, (256,)).cuda()
    order = torch.randperm(256).view(8, 32).cuda()
    rates = [2e-3 * (i + 1) / 8 for i in range(8)]
    results = []
    for capture in (True, False):
        model = LeNet(ModelConfig(), seed=4).cuda()
        optimizer = adamw(model, fused=True)
        step = GraphedStep(model, optimizer, pattern_loss("map", 0.1), inputs, labels, 8, 32, capture=capture)
        step.load(order, rates)
        for _ in range(8):
            step.replay()
        results.append(([p.detach().clone() for p in model.parameters()], step.sums()[0].item(), step.sums()[1].item()))
    (graphed, loss_g, wrong_g), (plain, loss_p, wrong_p) = results
    for a, b in zip(graphed, plain):
        assert torch.equal(a, b)
    assert loss_g == loss_p and wrong_g == wrong_p


@cuda
def test_paper_trains_on_a_gpu_through_the_graph_repeats_and_resumes_exactly(tiny_data_dir, tmp_path):
    """Repeatable by default (cuDNN's deterministic convolutions), resumable bit for bit, and
    the same training as the CPU's, up to rounding."""
    p = PRESETS["paper"]
    config = p.train.replace(epochs=2, batch_size=48)  # 256 digits: a short last batch each pass
    whole = Trainer(p.model, config, 1, tmp_path / "whole", tiny_data_dir, device="cuda", **QUIET)
    summary = whole.fit()
    assert whole.rounding["kernel"] == "cuda-graph" and whole.rounding["cudnn_deterministic"]
    cpu = Trainer(p.model, config, 1, tmp_path / "cpu", tiny_data_dir, **QUIET).fit()
    for gpu_row, cpu_row in zip(summary["history"], cpu["history"]):
        assert gpu_row["train_loss"] == pytest.approx(cpu_row["train_loss"], rel=1e-2)
    again = Trainer(p.model, config, 1, tmp_path / "again", tiny_data_dir, device="cuda", **QUIET)
    again.fit()
    Trainer(p.model, config.replace(epochs=1), 1, tmp_path / "part", tiny_data_dir, device="cuda", **QUIET).fit()
    state = load_checkpoint(tmp_path / "part" / "checkpoint.pt")
    state["train_config"]["epochs"] = 2
    torch.save(state, tmp_path / "part" / "checkpoint.pt")
    resumed = Trainer(p.model, config, 1, tmp_path / "part", tiny_data_dir, device="cuda", **QUIET)
    resumed.fit(resume=True)
    for a, b, c in zip(whole.model.parameters(), again.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b) and torch.equal(a, c)


@cuda
@pytest.mark.parametrize("name, changes", [("paper", {}), ("blog", {}), ("modern", {}), ("paper-sdlm", {}),
                                           ("paper-distort", {}), ("paper", {"optimizer": "sgd", "weight_decay": 0.0})])
def test_every_preset_trains_on_a_gpu_and_repeats(tiny_data_dir, tmp_path, name, changes):
    """Graphed (adam on undistorted digits) or op by op (SDLM, SGD, distortions): each preset's
    pass on the GPU is finite and the same twice."""
    p = PRESETS[name]
    config = p.train.replace(epochs=1, batch_size=32, curvature_patterns=32, **changes)
    runs = [Trainer(p.model, config, 2, tmp_path / str(k), tiny_data_dir, device="cuda", **QUIET) for k in range(2)]
    for trainer in runs:
        trainer.fit()
    assert runs[0].rounding["kernel"] == ("cuda-graph" if graphable(torch.device("cuda"), config.optimizer, config.distort) else "pytorch")
    assert all(math.isfinite(r["train_loss"]) for r in runs[0].history)
    for a, b in zip(runs[0].model.parameters(), runs[1].model.parameters()):
        assert torch.equal(a, b)


@cuda
@pytest.mark.parametrize("limit, batch, graphed", [(64, 32, True), (64, 64, True), (64, 128, False)])
def test_passes_of_fewer_full_batches_than_the_warm_up(tiny_data_dir, tmp_path, limit, batch, graphed):
    """Two full batches, one, none (a batch larger than the set: the plain loop)."""
    p = PRESETS["paper"]
    trainer = Trainer(p.model, p.train.replace(epochs=2, batch_size=batch, train_limit=limit), 0, tmp_path, tiny_data_dir,
                      device="cuda", **QUIET)
    trainer.fit()
    assert (trainer.steps.kernel == "cuda-graph") == graphed and trainer.rounding["kernel"] == ("cuda-graph" if graphed else "pytorch")
    assert trainer.step == 2 * -(-limit // batch) and all(math.isfinite(r["train_loss"]) for r in trainer.history)


@cuda
def test_a_cpu_run_resumes_on_a_gpu(tiny_data_dir, tmp_path):
    """modern on the CPU steps with PyTorch's unfused AdamW; its checkpoint goes on through the graph."""
    p = PRESETS["modern"]
    config = p.train.replace(epochs=2, batch_size=32)
    Trainer(p.model, config.replace(epochs=1), 0, tmp_path, tiny_data_dir, **QUIET).fit()
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    state["train_config"]["epochs"] = 2
    torch.save(state, tmp_path / "checkpoint.pt")
    resumed = Trainer(p.model, config, 0, tmp_path, tiny_data_dir, device="cuda", **QUIET)
    resumed.fit(resume=True)
    assert resumed.steps.graphed is not None and [r["epoch"] for r in resumed.history] == [1, 2]
    assert math.isfinite(resumed.history[-1]["train_loss"])
