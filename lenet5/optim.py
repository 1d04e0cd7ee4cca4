"""Stochastic Diagonal Levenberg-Marquardt (Appendix C, p. 41-42) and the paper's eta schedule.

    before each pass:
        h_kk <- diagonal second derivative of the loss, averaged over 500 training patterns
    for each pattern (or mini-batch whose loss is summed, so each pattern keeps its own step):
        eps_k = eta / (mu + h_kk)
        w_k  <- w_k - eps_k * dE/dw_k

Estimating h_kk is `lenet5.curvature.diagonal_curvature`; `SDLM.set_curvature` hands it over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

# Sec. III-A: global eta by pass (1-based): passes up to the bound get that eta.
ETA_SCHEDULE = ((2, 5e-4), (5, 2e-4), (8, 1e-4), (12, 5e-5), (20, 1e-5))
MU = 0.02  # Appendix C


def paper_eta(pass_number: int) -> float:
    """The paper's eta for pass `pass_number` (1-based); after pass 20 it stays at 1e-5."""
    if pass_number < 1:
        raise ValueError(f"passes count from 1, got {pass_number}")
    for last_pass, eta in ETA_SCHEDULE:
        if pass_number <= last_pass:
            return eta
    return ETA_SCHEDULE[-1][1]


class SDLM(torch.optim.Optimizer):
    """Stochastic Diagonal Levenberg-Marquardt.

    Args:
        params: parameters or parameter groups.
        eta: global step size (the trainer sets it per pass from `paper_eta`).
        mu: damping that caps the step at eta / mu where the curvature is small (0.02).
    Call `set_curvature` before the first `step`: SDLM without h_kk is undefined and refuses.
    """

    def __init__(self, params: Iterable, eta: float = 5e-4, mu: float = MU):
        if not eta > 0:
            raise ValueError(f"invalid eta: {eta}")
        if not mu > 0:
            raise ValueError(f"invalid mu: {mu}")
        super().__init__(params, dict(eta=eta, mu=mu))
        self._denominators: dict[int, tuple] = {}  # per group: mu + h_kk, and the mu and h_kk it came from

    @torch.no_grad()
    def set_curvature(self, h_kk: dict[torch.Tensor, torch.Tensor]) -> None:
        """Hold these second-derivative estimates fixed until the next call."""
        for group in self.param_groups:
            for p in group["params"]:
                if p not in h_kk:
                    raise ValueError("set_curvature: an estimate is missing for a parameter of this optimizer")
                self.state[p]["h_kk"] = h_kk[p].detach().clone()

    def set_eta(self, eta: float) -> None:
        if not eta > 0:
            raise ValueError(f"invalid eta: {eta}")
        for group in self.param_groups:
            group["eta"] = eta

    def step_sizes(self, p: torch.Tensor) -> torch.Tensor:
        """eps_k for every entry of parameter p."""
        group = next(g for g in self.param_groups if any(q is p for q in g["params"]))
        # eps_k = eta / (mu + h_kk)
        return group["eta"] / (group["mu"] + self.state[p]["h_kk"])

    def __setstate__(self, state: dict) -> None:  # a copy or an unpickled one: the cache is not part of the state
        super().__setstate__(state)
        self._denominators = {}

    def denominators(self, group: dict, params: list[torch.Tensor]) -> list[torch.Tensor]:
        """mu + h_kk for `params` of `group`, computed once per curvature estimate (and mu): every
        step until the next set_curvature divides by the same numbers."""
        estimates = [self.state[p]["h_kk"] for p in params]
        index = next(i for i, g in enumerate(self.param_groups) if g is group)
        kept = self._denominators.get(index)  # (mu, the estimates it was made from, the sums)
        if kept is None or kept[0] != group["mu"] or len(kept[1]) != len(estimates) or any(
                a is not b for a, b in zip(kept[1], estimates)):
            kept = self._denominators[index] = (group["mu"], estimates, torch._foreach_add(estimates, group["mu"]))
        return kept[2]

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if any("h_kk" not in self.state[p] for p in params):
                raise RuntimeError("SDLM.step() called before set_curvature(): estimate h_kk first")
            if not params:
                continue
            # w_k <- w_k - eta / (mu + h_kk) * dE/dw_k, for all parameters of the group at once
            torch._foreach_addcdiv_(params, [p.grad for p in params], self.denominators(group, params), value=-group["eta"])
        return loss
