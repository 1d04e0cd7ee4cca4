"""The training step as one CUDA graph, replayed: what makes `--device cuda` fast.

A LeNet-5 step at batch 32 is about 150 small kernels (forward, backward, AdamW), each a few
microseconds of GPU work; launched one at a time from Python, the GPU spends most of a step
waiting for the host. Captured once as a CUDA graph, a step is one launch. The step reads its
batch (rows of the whole training set, already on the GPU) and its learning rate from device
buffers at a device-side cursor, and adds its loss and mistakes into device sums, so a pass is
`replay()` n times: no host work per step and no syncs (the host reads the sums once a pass).

Capturing needs the optimizer's state to exist and cuDNN and cuBLAS to have made their
workspaces, so a few steps run before the capture; they are undone afterwards (the weights and
the optimizer's state copied back in place), and the pass starts from exactly where it was.

Used for adam (AdamW: the `paper` preset) on undistorted digits; SDLM, SGD and the distortions
(drawn on the host for every batch) run step by step as before. LENET5_KERNEL=pytorch turns it off.
"""

from __future__ import annotations

import contextlib
import os

import torch

WARMUP_STEPS = 3  # PyTorch's own examples warm up with 3 steps on a side stream


def graphable(device: torch.device, optimizer: str, distort: str) -> bool:
    """Whether a run trains through a CUDA graph: adam on a GPU on undistorted digits."""
    return (device.type == "cuda" and optimizer == "adam" and distort == "none"
            and os.environ.get("LENET5_KERNEL") != "pytorch")


class GraphedStep:
    """One AdamW step on `batch_size` rows of `inputs` (the whole training set on the GPU),
    captured once. `load` gives a pass's batches and learning rates, each `replay` does the
    next step, `sums` reads the pass's summed loss and mistakes (device tensors)."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss_fn, inputs: torch.Tensor,
                 labels: torch.Tensor, steps: int, batch_size: int, capture: bool = True):
        if steps < 1:
            raise ValueError("a graphed step needs at least one full batch a pass")
        device = inputs.device
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.inputs, self.labels = inputs, labels
        self.steps, self.batch_size = steps, batch_size
        self.order = torch.zeros(steps, batch_size, dtype=torch.long, device=device)  # the pass's batches
        self.rates = torch.zeros(steps, device=device)  # the pass's learning rates
        self.lr = torch.zeros((), device=device)  # what the optimizer reads
        self.cursor = torch.zeros(1, dtype=torch.long, device=device)
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self.wrong = torch.zeros((), dtype=torch.long, device=device)
        self.graph = self._capture() if capture else None  # not captured: the same step, op by op (a reference)

    def _step(self) -> None:
        rows = self.order.index_select(0, self.cursor).view(-1)
        x, y = self.inputs.index_select(0, rows), self.labels.index_select(0, rows)
        scores = self.model(x)
        losses = self.loss_fn(scores, y)
        losses.mean().backward()
        self.lr.copy_(self.rates.index_select(0, self.cursor).view(()))
        self.optimizer.step()
        with torch.no_grad():
            self.loss_sum += losses.sum()
            self.wrong += (self.model.logits(scores).argmax(1) != y).sum()
            self.cursor += 1

    @contextlib.contextmanager
    def _rate_on_device(self, capturing: bool = False):
        """The optimizer reads its rate from `self.lr` (a captured step keeps reading it there);
        outside, its groups hold what they held (checkpoints keep plain numbers; a capturable
        optimizer would refuse a CPU resume through PyTorch's unfused Adam)."""
        saved = [(group["lr"], group["capturable"]) for group in self.optimizer.param_groups]
        for group in self.optimizer.param_groups:
            group["lr"], group["capturable"] = self.lr, capturing or group["capturable"]
        try:
            yield
        finally:
            for group, (rate, capturable) in zip(self.optimizer.param_groups, saved):
                group["lr"], group["capturable"] = rate, capturable

    def _capture(self) -> torch.cuda.CUDAGraph:
        device = self.inputs.device
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        weights = [p.detach().clone() for p in params]
        state = {p: {k: v.clone() for k, v in self.optimizer.state[p].items() if torch.is_tensor(v)}
                 for p in params if p in self.optimizer.state}
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.device(device), self._rate_on_device(capturing=True):  # capture on the step's GPU
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side):
                for _ in range(WARMUP_STEPS):
                    self.optimizer.zero_grad(set_to_none=True)
                    self.cursor.zero_()  # batch 0 each time: a pass may have fewer steps than the warm-up
                    self._step()
            torch.cuda.current_stream(device).wait_stream(side)
            self.optimizer.zero_grad(set_to_none=True)  # the captured backward writes the gradients
            with torch.cuda.graph(graph):
                self._step()
        undo_steps(params, weights, self.optimizer, state)
        return graph

    def load(self, order: torch.Tensor, rates: list[float]) -> None:
        """A pass: `order` (steps, batch_size) rows of the training set, one learning rate per step."""
        self.order.copy_(order)
        self.rates.copy_(torch.tensor(rates, dtype=torch.float32))
        self.cursor.zero_()
        self.loss_sum.zero_()
        self.wrong.zero_()

    def replay(self) -> None:
        """The next step of the pass: the graph replayed, or (not captured) the same step run op by op."""
        if self.graph is not None:
            with torch.cuda.device(self.inputs.device):
                self.graph.replay()
            return
        self.optimizer.zero_grad(set_to_none=True)
        with self._rate_on_device():
            self._step()

    def sums(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.loss_sum, self.wrong


@torch.no_grad()
def undo_steps(params: list[torch.Tensor], weights: list[torch.Tensor], optimizer: torch.optim.Optimizer,
               state: dict[torch.Tensor, dict[str, torch.Tensor]]) -> None:
    """Put back `weights` and the optimizer's tensor `state` as saved before some steps, in place
    (a captured graph keeps their addresses). A parameter that had no state gets zeros: Adam's
    step count and moments before its first step."""
    for p, w in zip(params, weights):
        p.copy_(w)
    for p in params:
        for k, v in optimizer.state[p].items():
            if torch.is_tensor(v):
                v.copy_(state[p][k]) if p in state else v.zero_()
