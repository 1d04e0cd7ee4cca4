"""One training step, whichever code computes it: the Trainer's loop calls `begin` once a pass,
`take` once a batch and `sums` for the pass's loss and mistakes, and never asks which it is.

- `Steps`: autograd's forward and backward, then the optimizer (any network, any device; SDLM,
  SGD and every distortion).
- `FusedSteps`: the gradients from lenet5/fused.c (the paper's network on a CPU where the kernel
  is faster than PyTorch here: fused.py's timing decides, LENET5_KERNEL=fused|pytorch forces).
- `GraphedSteps`: each full batch one replay of a captured CUDA graph (adam on a GPU on
  undistorted digits: graphed.py); a short last batch is an autograd step.

`choose` picks one per run; `KERNELS` names them as metrics.json's `kernel` does.
"""

from __future__ import annotations

import torch

from lenet5.data.passes import Batch, Passes
from lenet5.fused import FusedNet, applies
from lenet5.graphed import GraphedStep, graphable
from lenet5.lean_adam import LeanAdam
from lenet5.model import LeNet


class Steps:
    """Autograd's steps. summed: each step follows the loss summed over its batch (SDLM: every
    pattern gets its own step eps_k), else its mean."""

    kernel = "pytorch"

    def __init__(self, model: LeNet, optimizer: torch.optim.Optimizer, loss_fn, summed: bool, device: torch.device):
        self.model, self.optimizer, self.loss_fn, self.summed, self.device = model, optimizer, loss_fn, summed, device
        lean = LeanAdam.of(optimizer)  # a fused Adam's step on the CPU without torch.optim's bookkeeping: the same bits
        self.update = optimizer.step if lean is None else lean.step  # the optimizer's step after each batch's gradients
        self.loss_sum = self.wrong = torch.zeros(())

    def begin(self, batches: list[torch.Tensor], rates: list[float] | None, passes: Passes) -> None:
        """A pass of `batches` (rows of `passes`), at `rates` (one per step; None: the optimizer's own)."""
        # summed on the device and read once per pass: a GPU never waits for the host
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self.wrong = torch.zeros((), dtype=torch.int64, device=self.device)

    def take(self, i: int, rows: torch.Tensor, passes: Passes) -> None:
        """Step `i` of the pass, on the patterns of `rows`: the gradients, then the optimizer's step."""
        losses, mistakes = self.gradients(passes.batch(rows))
        self.update()
        self.loss_sum += losses.sum()
        self.wrong += mistakes.sum()

    def gradients(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The gradient of the batch's summed or mean loss into each .grad; each pattern's loss
        and whether it was misread (B,), on the device."""
        x, y = (batch.inputs, batch.targets) if batch.rows is None else (batch.inputs[batch.rows], batch.targets[batch.rows])
        scores = self.model(x)
        losses = self.loss_fn(scores, y)
        loss = losses.sum() if self.summed else losses.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            return losses.detach(), self.model.logits(scores).argmax(1) != y

    def sums(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The pass's summed loss and mistakes so far (device tensors)."""
        return self.loss_sum, self.wrong


class FusedSteps(Steps):
    """Steps whose gradients come from lenet5/fused.c (its gradients do not depend on the thread count)."""

    kernel = "fused.c"

    def __init__(self, model: LeNet, optimizer: torch.optim.Optimizer, loss_fn, summed: bool, device: torch.device):
        super().__init__(model, optimizer, loss_fn, summed, device)
        self.net = FusedNet(model)

    def gradients(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        size = len(batch.inputs) if batch.rows is None else len(batch.rows)
        return self.net.gradients(batch.inputs, batch.targets, batch.rows, 1.0 if self.summed else 1.0 / size)


class GraphedSteps(Steps):
    """Full batches through the captured step (graphed.py), captured on the first pass and again
    should the pass's shape or training tensors change; a short last batch (the batch size does not
    divide the set) is an ordinary step, adding into the graph's own sums."""

    kernel = "cuda-graph"

    def __init__(self, model: LeNet, optimizer: torch.optim.Optimizer, loss_fn, summed: bool, device: torch.device):
        super().__init__(model, optimizer, loss_fn, summed, device)
        self.graphed: GraphedStep | None = None

    def begin(self, batches: list[torch.Tensor], rates: list[float] | None, passes: Passes) -> None:
        size = passes.batch_size
        full = len(batches) - (len(batches[-1]) != size)
        graphed = self.graphed
        if graphed is None or graphed.steps != full or graphed.inputs is not passes.whole:
            graphed = self.graphed = GraphedStep(self.model, self.optimizer, self.loss_fn, passes.whole, passes.labels,
                                                 full, size)
        graphed.load(torch.cat(batches[:full]).view(full, size), rates[:full])
        self.loss_sum, self.wrong = graphed.sums()

    def take(self, i: int, rows: torch.Tensor, passes: Passes) -> None:
        if i < self.graphed.steps:
            self.graphed.replay()  # the captured step, which adds into the sums itself
        else:
            super().take(i, rows, passes)


KERNELS = {"pytorch": Steps, "fused.c": FusedSteps, "cuda-graph": GraphedSteps}


def choose(model: LeNet, optimizer: str, distortion: str, device: torch.device, patterns: int, batch_size: int) -> str:
    """The kernel of a run: fused.c where it applies (fused.py), a CUDA graph for adam on a GPU on
    undistorted digits with at least one full batch a pass, else PyTorch."""
    if applies(model, device):
        return "fused.c"
    if graphable(device, optimizer, distortion) and patterns >= batch_size:
        return "cuda-graph"
    return "pytorch"
