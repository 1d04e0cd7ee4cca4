"""Training LeNet-5 as the paper did (Sec. III-A), with what a training tool needs today:
progress bars, per-pass metrics, atomic checkpoints, exact resume, curves.

A run directory holds: config.json (what ran), metrics.csv (one row per pass), checkpoint.pt
(after every pass), and at the end metrics.json and curves.png.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

import lenet5
from lenet5.atomic import remove_leftovers
from lenet5.checkpoint import load_checkpoint, save_checkpoint, save_csv, save_json
from lenet5.curvature import diagonal_curvature
from lenet5.data.datasets import Digits
from lenet5.data.distort import distorted_pool
from lenet5.data.passes import Passes
from lenet5.data.sources import fetch_and_load
from lenet5.errors import Lenet5Error
from lenet5.evaluate import error_rate
from lenet5.fused import applies, timing_of
from lenet5.losses import pattern_loss
from lenet5.model import LeNet, ModelConfig
from lenet5.optim import SDLM, paper_eta
from lenet5.plots import plot_curves
from lenet5.presets import TrainConfig, same_settings, training_settings
from lenet5.runtime import keep_freed_memory, machine_cores, repeatable_convolutions
from lenet5.steps import KERNELS, choose

class Diverged(Lenet5Error):
    """The training loss stopped being finite."""

    def __init__(self, epoch: int, loss: float):
        super().__init__(f"training diverged in pass {epoch} (loss is {loss}); try a smaller --eta-scale or --lr")
        self.epoch = epoch


POOL_COPIES = 9  # Sec. III-A: 60,000 originals + 540,000 distorted copies
CHECKPOINT, METRICS_CSV = "checkpoint.pt", "metrics.csv"


@dataclass
class Split:
    """uint8 digits (N, 28, 28) and labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor


def splits(digits: Digits, config: TrainConfig) -> dict[str, Split]:
    n = config.train_limit or len(digits.train_images)
    if config.holdout >= n:
        raise Lenet5Error(f"--holdout {config.holdout} leaves no training digits out of {n}")
    keep = n - config.holdout
    out = {"train": Split(digits.train_images[:keep], digits.train_labels[:keep])}
    if config.holdout:
        out["val"] = Split(digits.train_images[keep:n], digits.train_labels[keep:n])
    t = config.test_limit or len(digits.test_images)
    out["test"] = Split(digits.test_images[:t], digits.test_labels[:t])
    return out


def make_optimizer(model: LeNet, config: TrainConfig, fused: bool = False) -> torch.optim.Optimizer:
    """The optimizer of `config`. fused: Adam/AdamW/SGD update every parameter in one kernel
    (PyTorch's `fused=True`, where this PyTorch has it for the device), in other rounding than
    the default per-parameter loop; used where the gradients come from lenet5/fused.c or a GPU,
    whose rounding is their own already."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sdlm":
        return SDLM(params, eta=config.eta_scale * paper_eta(1), mu=config.mu)
    if config.optimizer == "adam" and config.weight_decay:
        kind, settings = torch.optim.AdamW, {"lr": config.lr, "weight_decay": config.weight_decay}
    elif config.optimizer == "adam":
        kind, settings = torch.optim.Adam, {"lr": config.lr}
    else:  # SGD's weight decay is the coupled form: weight_decay * w added to the gradient
        kind, settings = torch.optim.SGD, {"lr": config.lr, "momentum": config.momentum, "weight_decay": config.weight_decay}
    if not fused:
        return kind(params, **settings)
    try:
        return kind(params, fused=True, **settings)
    except RuntimeError:  # PyTorch before 2.4 fuses on GPUs only
        return kind(params, **settings)


IMPLEMENTATION = ("fused", "foreach", "capturable")  # how torch.optim computes a step, not what


def implementation(optimizer: torch.optim.Optimizer) -> list[dict[str, Any]]:
    return [{k: group[k] for k in IMPLEMENTATION if k in group} for group in optimizer.param_groups]


def keep_implementation(optimizer: torch.optim.Optimizer, chosen: list[dict[str, Any]]) -> None:
    """After `load_state_dict`, which takes the saved run's groups whole: this run's choice of
    implementation again (`make_optimizer`'s, for this device), with Adam's step counts where
    that implementation keeps them (on the parameter's device when fused or capturable)."""
    for group, flags in zip(optimizer.param_groups, chosen):
        group.update(flags)
        on_device = bool(group.get("fused") or group.get("capturable"))
        for p in group["params"]:
            step = optimizer.state.get(p, {}).get("step")
            if torch.is_tensor(step):
                optimizer.state[p]["step"] = step.to(dtype=torch.float32, device=p.device if on_device else "cpu")


def learning_rate(config: TrainConfig, step: int, total: int, per_pass: int) -> float:
    """adam/sgd: the rate at update `step` of `total` (linear warm-up, then cosine to 0)."""
    if config.schedule == "constant":
        return config.lr
    warmup = int(config.warmup_epochs * per_pass)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    return config.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def eps_span(optimizer: SDLM, model: LeNet) -> tuple[float, float]:
    """Smallest and largest eps_k over the real parameters (C3's disconnected kernels excluded)."""
    masks = {model.C3.weight: model.C3.mask.expand_as(model.C3.weight).bool()}
    values = [optimizer.step_sizes(p)[masks[p]] if p in masks else optimizer.step_sizes(p).flatten()
              for g in optimizer.param_groups for p in g["params"]]
    flat = torch.cat([v.flatten() for v in values])
    return flat.min().item(), flat.max().item()


def versions() -> dict[str, str]:
    return {"lenet5": lenet5.__version__, "torch": str(torch.__version__), "python": platform.python_version()}


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:  # no /proc: not Linux
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def rounding(device: torch.device, kernel: str = "pytorch") -> dict[str, Any]:
    """What, beside code and seed, decides the weights: threads, device, deterministic kernels, and
    which code computes the steps (`fused.c`: lenet5/fused.c, whose gradients do not depend on the
    thread count; SDLM's curvature pass still runs through PyTorch, which does)."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {"threads": torch.get_num_threads(), "device": str(device), "device_name": name,
            "deterministic": torch.are_deterministic_algorithms_enabled(),
            "cudnn_deterministic": torch.backends.cudnn.deterministic, "kernel": kernel}


def thread_invariant(model_config: ModelConfig, config: TrainConfig, device: str | torch.device) -> bool:
    """Whether a run's weights do not depend on the thread count: its steps go through fused.c
    (whose gradients do not) and no PyTorch pass feeds them (SDLM's curvature pass does)."""
    return config.optimizer != "sdlm" and applies(LeNet(model_config), device)


def default_threads(model_config: ModelConfig, config: TrainConfig, device: str | torch.device) -> int:
    """`--threads` when not given: every core this process may use where the weights do not depend
    on the count, else 1 (so that a seed's weights repeat on any machine)."""
    return machine_cores() if thread_invariant(model_config, config, device) else 1


class Trainer:
    """One training run in one run directory."""

    def __init__(self, model_config: ModelConfig, config: TrainConfig, seed: int, run_dir: Path,
                 data_dir: str | None = None, device: str = "cpu", progress: bool = True, log=print, after_pass=None):
        self.model_config, self.config, self.seed = model_config, config, seed
        self.run_dir, self.device, self.progress, self.log = Path(run_dir), torch.device(device), progress, log
        self.after_pass = after_pass  # called with no arguments once a pass's checkpoint is on disk
        keep_freed_memory()
        repeatable_convolutions(self.device)
        self.loss_fn = pattern_loss(model_config.loss, model_config.j)
        self.model = LeNet(model_config, seed=seed).to(self.device)
        self.data = self._load_data(data_dir)
        # which code computes the steps (lenet5/steps.py); threads and modes are set before a Trainer is made
        kernel = choose(self.model, config.optimizer, config.distort, self.device, len(self.data["train"].labels),
                        config.batch_size)
        self.rounding = rounding(self.device, kernel)
        timing = timing_of(self.model, self.device)
        if timing is not None:  # why this path: fused.c and PyTorch timed on this machine (lenet5/fused.py)
            self.rounding["kernel_timing_ms"] = {"fused.c": timing["fused_ms"], "pytorch": timing["pytorch_ms"]}
        self.optimizer = make_optimizer(self.model, config, fused=kernel == "fused.c" or self.device.type == "cuda")
        # SDLM: the loss summed, so every pattern gets its own step eps_k (per-pattern semantics)
        self.steps = KERNELS[kernel](self.model, self.optimizer, self.loss_fn, config.optimizer == "sdlm", self.device)
        self.generator = torch.Generator().manual_seed(seed + 1)  # data order, distortions, curvature samples
        train = self.data["train"]
        self.passes = Passes(train.images, train.labels, config.distort, config.batch_size, 1 + POOL_COPIES,
                             self.generator, self.inputs, self.device)
        self.history: list[dict[str, Any]] = []
        self.step = 0

    def _load_data(self, data_dir: str | None) -> dict[str, Split]:
        data = splits(fetch_and_load(self.config.dataset, data_dir, log=self.log), self.config)
        if self.config.distort == "pool":
            pool_gen = torch.Generator().manual_seed(self.seed + 2)  # the same pool on resume
            train = data["train"]
            data["train"] = Split(distorted_pool(train.images, POOL_COPIES, pool_gen), train.labels.repeat(1 + POOL_COPIES))
        return data

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.prepare(images).to(self.device)

    # --- state -------------------------------------------------------------------------------
    def state(self, epoch: int) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(), "epoch": epoch, "step": self.step,
            "history": self.history, "seed": self.seed, "versions": versions(), "rounding": self.rounding,
            "model_config": dataclasses.asdict(self.model_config), "train_config": dataclasses.asdict(self.config),
        }

    def restore(self, state: dict[str, Any]) -> int:
        if not same_settings(training_settings(self.model_config, self.config, self.seed),
                             {"model": state["model_config"], "train": state["train_config"], "seed": state["seed"]}):
            raise Lenet5Error(f"{self.run_dir} holds a run with other settings; resume it with the same flags or use another --out")
        self.model.load_state_dict(state["model"])
        chosen = implementation(self.optimizer)
        self.optimizer.load_state_dict(state["optimizer"])
        keep_implementation(self.optimizer, chosen)  # a CPU run resumed on a GPU, or the other way
        self.generator.set_state(state["generator"])
        self.history, self.step = state["history"], state["step"]
        before = state.get("rounding", {})
        if before.get("kernel", "pytorch") != self.rounding["kernel"]:
            self.log(f"note: this run's steps were computed by {before.get('kernel', 'pytorch')} and now by "
                     f"{self.rounding['kernel']}: its rounding, and so its weights, will differ from an uninterrupted run")
        elif before.get("threads") not in (None, self.rounding["threads"]) and (self.steps.kernel != "fused.c" or self.config.optimizer == "sdlm"):
            self.log(f"note: this run began on {before['threads']} threads and resumes on {self.rounding['threads']}: "
                     "its rounding, and so its weights, will differ from an uninterrupted run")
        return state["epoch"]

    # --- one pass ----------------------------------------------------------------------------
    def prepare_pass(self, epoch: int) -> dict[str, float]:
        """SDLM: set this pass's eta and re-estimate h_kk on fresh patterns (Appendix C)."""
        if not isinstance(self.optimizer, SDLM):
            return {}
        eta = self.config.eta_scale * paper_eta(epoch)
        self.optimizer.set_eta(eta)
        train = self.data["train"]
        sample = torch.randperm(len(train.labels), generator=self.generator)[: self.config.curvature_patterns]
        self.optimizer.set_curvature(diagonal_curvature(self.model, self.inputs(train.images[sample])))
        low, high = eps_span(self.optimizer, self.model)
        return {"eta": eta, "eps_min": low, "eps_max": high}

    def run_pass(self, epoch: int) -> dict[str, float]:
        """One pass over the training set, step by step (lenet5/steps.py)."""
        config = self.config
        batches = self.passes.batches()
        total_steps = config.epochs * len(batches)
        rates = (None if config.optimizer == "sdlm" else  # adam/sgd: each step's rate (SDLM's eta is set per pass)
                 [learning_rate(config, self.step + i, total_steps, len(batches)) for i in range(len(batches))])
        self.steps.begin(batches, rates, self.passes)
        seen, t0, shown = 0, time.perf_counter(), time.perf_counter()
        bar = tqdm(batches, desc=f"pass {epoch}/{config.epochs}", unit="batch", disable=not self.progress, leave=False)
        self.model.train()
        for i, rows in enumerate(bar):
            if rates is not None:
                for group in self.optimizer.param_groups:
                    group["lr"] = rates[i]
            self.steps.take(i, rows, self.passes)
            self.step += 1
            seen += len(rows)
            if self.progress and time.perf_counter() - shown > 0.5:
                loss_sum, wrong = self.steps.sums()
                bar.set_postfix(loss=f"{loss_sum.item() / seen:.4f}", err=f"{100 * wrong.item() / seen:.2f}%", refresh=False)
                shown = time.perf_counter()
        bar.close()
        loss_sum, wrong = self.steps.sums()
        loss_total, wrong_total = loss_sum.item(), wrong.item()
        if not math.isfinite(loss_total):
            raise Diverged(epoch, loss_total)
        return {"train_loss": loss_total / seen, "train_error": wrong_total / seen,
                "patterns_per_s": seen / (time.perf_counter() - t0)}

    def fit(self, resume: bool = False) -> dict[str, Any]:
        checkpoint = self.run_dir / CHECKPOINT
        start = 1
        if resume and checkpoint.exists():
            start = self.restore(load_checkpoint(checkpoint)) + 1
            self.log(f"resuming {self.run_dir} after pass {start - 1}")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        save_json(self.run_dir / "config.json", {"model": dataclasses.asdict(self.model_config),
                                                  "train": dataclasses.asdict(self.config), "seed": self.seed})
        eval_sets = {name: (self.inputs(s.images), s.labels.to(self.device)) for name, s in self.data.items() if name != "train"}
        for epoch in range(start, self.config.epochs + 1):
            t0 = time.perf_counter()
            row: dict[str, Any] = {"epoch": epoch, **self.prepare_pass(epoch)}
            row.update(self.run_pass(epoch))
            row["seconds"] = time.perf_counter() - t0
            for name, (x, y) in eval_sets.items():
                row[f"{name}_error"] = error_rate(self.model, x, y)
            row["wall_seconds"] = time.perf_counter() - t0  # training and scoring this pass
            self.record(epoch, row)
            self.log(format_row(row, self.config.epochs))
        return self.finish()

    def record(self, epoch: int, row: dict[str, Any]) -> None:
        """Keep a finished pass: its metrics row, the checkpoint and metrics.csv (both atomic)."""
        self.history.append(row)
        save_checkpoint(self.run_dir / CHECKPOINT, self.state(epoch))
        save_csv(self.run_dir / METRICS_CSV, self.history)
        if self.after_pass is not None:
            self.after_pass()

    def finish(self) -> dict[str, Any]:
        last = self.history[-1]
        summary = {
            "test_error": last.get("test_error"), "val_error": last.get("val_error"),
            "train_error": last["train_error"], "epochs": last["epoch"],
            "seconds_per_pass": sorted(r["seconds"] for r in self.history)[len(self.history) // 2],
            "wall_seconds": sum(r.get("wall_seconds", r["seconds"]) for r in self.history),
            "parameters": self.model.num_parameters(), "seed": self.seed,
            "model_config": dataclasses.asdict(self.model_config), "train_config": dataclasses.asdict(self.config),
            "versions": versions(), **self.rounding, "history": self.history,
        }
        save_json(self.run_dir / "metrics.json", summary)
        plot_curves(self.history, self.run_dir / "curves.png", title=f"{self.config.dataset}, seed {self.seed}")
        return summary


def format_row(row: dict[str, Any], epochs: int) -> str:
    parts = [f"pass {row['epoch']:2d}/{epochs}", f"loss {row['train_loss']:.4f}", f"train {100 * row['train_error']:.2f}%"]
    parts += [f"{k[:-6]} {100 * row[k]:.2f}%" for k in ("val_error", "test_error") if k in row]
    if "eta" in row:
        parts.append(f"eta {row['eta']:.0e} eps {row['eps_min']:.1e}..{row['eps_max']:.1e}")
    parts.append(f"{row['seconds']:.1f}s")
    return "  ".join(parts)


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """A run directory must be a directory we may write, and not silently overwrite a run."""
    if run_dir.exists() and not run_dir.is_dir():
        raise Lenet5Error(f"--out {run_dir} is a file, not a directory")
    if (run_dir / CHECKPOINT).exists() and not resume:
        raise Lenet5Error(f"{run_dir} already holds a run; add --resume to continue it, or choose another --out")
    probe = run_dir if run_dir.exists() else next((p for p in run_dir.parents if p.exists()), Path("."))
    if not os.access(probe, os.W_OK):
        raise Lenet5Error(f"cannot write to {probe}")
    if resume and run_dir.is_dir():
        remove_leftovers(run_dir)  # of a run killed while writing
