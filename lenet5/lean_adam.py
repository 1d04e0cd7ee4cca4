"""Adam and AdamW's fused step without torch.optim's bookkeeping around it.

A training step through lenet5/fused.c at batch 32 takes about 1.1 ms of kernel on 2 cores;
`optimizer.step()` of a fused AdamW added 0.25 ms more (AMD EPYC Zen 3, torch 2.13), most of
it outside the update itself: `torch._foreach_add_` on the twelve parameters' step counts runs
one tensor at a time on a CPU, and the optimizer groups its tensors by device and dtype every
call. `LeanAdam.step` makes the same call that `optimizer.step()` makes, torch's own fused
kernel on the optimizer's own state, so the weights and the state come out bit for bit the
same (tests/test_lean_adam.py), in 0.06 ms: the step counts are views of one tensor, counted
in one add, and the lists are kept between steps.

    lean = LeanAdam.of(optimizer)     # None where it does not apply: then optimizer.step()
    lean.step()                       # after each backward pass (every parameter has .grad)
"""

from __future__ import annotations

import torch

# torch.optim.Adam's settings this step does not compute: where any is set, optimizer.step() runs
UNSUPPORTED = ("amsgrad", "maximize", "capturable", "differentiable")


def applies(optimizer: torch.optim.Optimizer) -> bool:
    """Whether LeanAdam computes `optimizer`'s step: a fused Adam or AdamW on the CPU in float32
    without the settings it leaves out (UNSUPPORTED)."""
    if not isinstance(optimizer, torch.optim.Adam) or not hasattr(torch, "_fused_adamw_"):
        return False
    if not settings_fit(optimizer):
        return False
    return all(p.device.type == "cpu" and p.dtype == torch.float32 for group in optimizer.param_groups for p in group["params"])


def settings_fit(optimizer: torch.optim.Adam) -> bool:
    """Whether every group's settings are ones LeanAdam computes (checked again at every step: cheap)."""
    decoupled = isinstance(optimizer, torch.optim.AdamW)
    return all(group.get("fused") and not any(group.get(k) for k in UNSUPPORTED)
               and group.get("decoupled_weight_decay", decoupled) == decoupled for group in optimizer.param_groups)


class LeanAdam:
    """The fused Adam/AdamW step of `optimizer`, the optimizer's state updated in place (its
    state_dict, checkpoints and resuming are untouched). The first step, and any step after
    the state was replaced (a checkpoint loaded) or a group or parameter added, is
    `optimizer.step()` itself, as is every step should the optimizer's settings stop fitting.
    What torch.optim adds around the kernel is left out: step hooks, a GradScaler's scale and
    inf check (grad_scale, found_inf), and the call count an LR scheduler checks."""

    def __init__(self, optimizer: torch.optim.Adam):
        self.optimizer = optimizer
        self.kernel = torch._fused_adamw_ if isinstance(optimizer, torch.optim.AdamW) else torch._fused_adam_
        self.counts: torch.Tensor | None = None  # every parameter's step count, state["step"] its views
        self.state: list[list[list[torch.Tensor]]] = []  # per group: params, exp_avgs, exp_avg_sqs, steps

    @classmethod
    def of(cls, optimizer: torch.optim.Optimizer) -> LeanAdam | None:
        """A LeanAdam for a fused Adam or AdamW on the CPU in float32, else None."""
        return cls(optimizer) if applies(optimizer) else None

    def step(self) -> None:
        """One update of every parameter from its .grad."""
        groups = self.optimizer.param_groups
        grads = [[p.grad for p in group["params"]] for group in groups]
        if not self._bound() or any(g is None for gs in grads for g in gs):
            self.optimizer.step()
            self._bind()
            return
        self.counts.add_(1)  # torch: _foreach_add_(state_steps, 1), then the kernel
        for group, (params, exp_avgs, exp_avg_sqs, steps), gs in zip(groups, self.state, grads):
            if not params:
                continue
            beta1, beta2 = group["betas"]
            self.kernel(params, gs, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"], beta1=beta1,
                        beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
                        grad_scale=None, found_inf=None)

    def _bound(self) -> bool:
        """Whether the kept lists are still the optimizer's own state, and its settings still ones it computes."""
        groups = self.optimizer.param_groups
        if self.counts is None or not settings_fit(self.optimizer) or len(groups) != len(self.state) or any(
                len(group["params"]) != len(kept[0]) for group, kept in zip(groups, self.state)):
            return False  # a group or a parameter added since
        state = self.optimizer.state
        return all(state.get(p, {}).get("step") is step
                   for group, (params, _, _, steps) in zip(groups, self.state)
                   for p, step in zip(group["params"], steps))

    def _bind(self) -> None:
        """Keep the state's lists, its step counts made views of one tensor (their values kept)."""
        groups, state = self.optimizer.param_groups, self.optimizer.state
        params = [p for group in groups for p in group["params"]]
        if not applies(self.optimizer) or not all("step" in state.get(p, {}) for p in params):  # (a loaded state's settings)
            self.counts = None
            return
        self.counts = torch.stack([state[p]["step"].reshape(()).to(torch.float32) for p in params])
        for k, p in enumerate(params):
            state[p]["step"] = self.counts[k]
        self.state = [[list(group["params"]), [state[p]["exp_avg"] for p in group["params"]],
                       [state[p]["exp_avg_sq"] for p in group["params"]], [state[p]["step"] for p in group["params"]]]
                      for group in groups]
