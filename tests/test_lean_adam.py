"""LeanAdam: the same weights and state as torch's fused optimizer.step(), bit for bit."""

from __future__ import annotations

import copy

import pytest
import torch

from lenet5.lean_adam import LeanAdam
from lenet5.model import LeNet, ModelConfig


def _pair(kind, **settings):
    model = LeNet(ModelConfig(), seed=0)
    twin = copy.deepcopy(model)
    return (model, kind(model.parameters(), fused=True, **settings)), (twin, kind(twin.parameters(), fused=True, **settings))


def _grads(model: LeNet, k: int) -> None:
    g = torch.Generator().manual_seed(k)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=g)


def _same(a: torch.nn.Module, b: torch.nn.Module, oa: torch.optim.Optimizer, ob: torch.optim.Optimizer) -> bool:
    if not all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())):
        return False
    return all(torch.equal(oa.state[p][key], ob.state[q][key])
               for p, q in zip(a.parameters(), b.parameters()) for key in ("exp_avg", "exp_avg_sq", "step"))


def _counting(optimizer: torch.optim.Optimizer) -> list[int]:
    """Count the calls of optimizer.step (LeanAdam's own steps do not call it)."""
    calls, step = [0], optimizer.step
    def counted(*args, **kwargs):
        calls[0] += 1
        return step(*args, **kwargs)
    optimizer.step = counted
    return calls


@pytest.mark.parametrize("kind, settings", [(torch.optim.AdamW, {"lr": 2e-3, "weight_decay": 0.1}),
                                            (torch.optim.Adam, {"lr": 1e-3}),
                                            (torch.optim.Adam, {"lr": 1e-3, "weight_decay": 0.01})])
def test_steps_are_the_optimizers_bit_for_bit(kind, settings):
    (model, optimizer), (twin, reference) = _pair(kind, **settings)
    lean = LeanAdam.of(optimizer)
    assert lean is not None
    calls = _counting(optimizer)
    for k in range(25):
        for group in optimizer.param_groups + reference.param_groups:
            group["lr"] = settings["lr"] * (1 - k / 50)  # the trainer sets each step's rate
        _grads(model, k)
        _grads(twin, k)
        lean.step()
        reference.step()
        assert _same(model, twin, optimizer, reference), f"step {k}"
    assert float(optimizer.state[next(model.parameters())]["step"]) == 25
    assert calls[0] == 1  # the first step makes the state; the other 24 are LeanAdam's own


def test_groups_keep_their_own_settings_and_added_ones_are_stepped():
    def make():
        model = LeNet(ModelConfig(), seed=0)
        params = list(model.parameters())
        optimizer = torch.optim.AdamW([{"params": params[:4], "lr": 1e-2, "weight_decay": 0.5, "betas": (0.8, 0.9)},
                                       {"params": params[4:-2], "lr": 1e-3, "eps": 1e-6}], weight_decay=0.1, fused=True)
        return model, optimizer
    (model, optimizer), (twin, reference) = make(), make()
    lean = LeanAdam.of(optimizer)
    added = list(model.parameters())[-2:]
    before = [p.detach().clone() for p in added]
    for k in range(12):
        if k == 6:  # the last two parameters join, in a group of their own
            optimizer.add_param_group({"params": added, "lr": 3e-3})
            reference.add_param_group({"params": list(twin.parameters())[-2:], "lr": 3e-3})
        _grads(model, k)
        _grads(twin, k)
        lean.step()
        reference.step()
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters())), f"step {k}"
    assert _same(model, twin, optimizer, reference)
    assert not any(torch.equal(p, q) for p, q in zip(added, before))  # the added group was stepped


def test_a_loaded_state_is_taken_up_again():
    (model, optimizer), (twin, reference) = _pair(torch.optim.AdamW, lr=2e-3, weight_decay=0.1)
    lean = LeanAdam.of(optimizer)
    for k in range(3):
        _grads(model, k)
        _grads(twin, k)
        lean.step()
        reference.step()
    saved = copy.deepcopy(optimizer.state_dict())
    for k in range(3, 5):  # steps that the loaded state undoes
        _grads(model, k)
        lean.step()
    model.load_state_dict(twin.state_dict())
    optimizer.load_state_dict(saved)
    for k in range(3, 8):
        _grads(model, k)
        _grads(twin, k)
        lean.step()
        reference.step()
        assert _same(model, twin, optimizer, reference), f"step {k}"


def test_it_declines_what_it_does_not_compute():
    params = list(LeNet(ModelConfig(), seed=0).parameters())
    assert LeanAdam.of(torch.optim.SGD(params, lr=0.1)) is None
    assert LeanAdam.of(torch.optim.AdamW(params, lr=1e-3)) is None  # not fused: its own rounding
    assert LeanAdam.of(torch.optim.AdamW(params, lr=1e-3, fused=True, amsgrad=True)) is None
    assert LeanAdam.of(torch.optim.AdamW(params, lr=1e-3, fused=True)) is not None


@pytest.mark.parametrize("setting, value", [("maximize", True), ("fused", False)])  # (amsgrad cannot be switched on midway: torch fails)
def test_a_setting_changed_after_it_bound_goes_back_to_the_optimizer(setting, value):
    (model, optimizer), (twin, reference) = _pair(torch.optim.AdamW, lr=1e-2, weight_decay=0.1)
    lean = LeanAdam.of(optimizer)
    for k in range(2):  # bound after the first
        _grads(model, k)
        _grads(twin, k)
        lean.step()
        reference.step()
    optimizer.param_groups[0][setting] = reference.param_groups[0][setting] = value
    for k in range(2, 5):
        _grads(model, k)
        _grads(twin, k)
        lean.step()
        reference.step()
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters())), f"step {k}"
