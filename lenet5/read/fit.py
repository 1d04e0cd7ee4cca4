"""The one training loop of both readers: AdamW with the paper preset's schedule (one pass of
warm-up, then cosine to 0) over batches of strips or segments made from MNIST's *training*
digits, and after each pass the held-out strips (from the last `holdout` training digits) read
whole, as `lenet5 read` reads them. What a batch is and what its loss is, each reader says
(train_sdnn.py: strings by the forward algorithm; train_hos.py: segments by cross-entropy).
After each pass, its progress (the weights, AdamW's state, the order's generator) can be saved
(`save_progress`) and an interrupted training go on from it (`load_progress`, fit's `resume`): on
the same device and thread count, to the same weights as one never interrupted.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lenet5.atomic import remove_leftovers
from lenet5.checkpoint import load_checkpoint, save_checkpoint
from lenet5.errors import Lenet5Error
from lenet5.presets import PAPER_TRAINING
from lenet5.runtime import repeatable_convolutions
from lenet5.train import learning_rate


@dataclass(frozen=True)
class ReaderTraining:
    """What both readers' trainings are told (the SDNN's defaults; the segment recognizer's are in train_hos.py)."""

    strips: int = 160_000  # training strips drawn from MNIST's training digits (100,000: held-out 86.1%, 160,000: 87.9%)
    val_strips: int = 1_000  # held-out strips (from the last `holdout` training digits), read whole after each pass
    holdout: int = 10_000  # training digits kept out of the strips, for the held-out strips
    epochs: int = 8  # passes
    batch_size: int = 32  # strips (SDNN) or segments (HOS) per update
    lr: float = 2e-3  # AdamW's peak rate (as the paper preset)
    weight_decay: float = 0.1
    device: str = "cpu"  # where the network trains: cpu, cuda or cuda:N (the strips are made on the CPU)


def split(digits: np.ndarray, labels: np.ndarray, config: ReaderTraining) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(training digits, labels) for the training strips, and the last `holdout` for the held-out ones."""
    if config.holdout >= len(digits):
        raise Lenet5Error(f"holdout {config.holdout} leaves no training digits out of {len(digits)}")
    keep = len(digits) - config.holdout
    return (digits[:keep], labels[:keep]), (digits[keep:], labels[keep:])


# A batch's mean loss, its number of examples, and how many of them it got wrong (None: not counted).
Loss = tuple[torch.Tensor, int, int | None]
# A training's progress after a pass: "model" (its state, on the CPU), "optimizer" (AdamW's state), "generator"
# (the order's), "epoch" (passes done), "step" (updates done), "history" (a row per pass done), "where"
# (`where_it_runs`: going on elsewhere rounds otherwise).
Progress = dict[str, Any]
# The training's fields that say where it runs, not what it trains: a training may go on under others (on
# another device, rounded otherwise); every other field, the method, seed and start must be the same (`made_by`).
WHERE = ("workers", "device")
# Training fields added after the oldest progress files that still load (commit a5e533d, which added "where"),
# with the value every training before them had: a progress file that lacks one was made with that value.
ADDED = {"boost": 0.0, "refine": 0}


def made_by(method: str, config: ReaderTraining, seed: int, start_from: str | None = None,
            boost_from: str | None = None) -> dict[str, Any]:
    """What decides a training's weights (but the thread count and device): its progress is kept with it."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in WHERE}
    return {"method": method, "seed": seed, "training": fields, "start_from": start_from,
            **({} if boost_from is None else {"boost_from": boost_from})}


def save_progress(path: Path, progress: Progress, made: dict[str, Any]) -> None:
    """A pass's progress, and what made the training, to `path` (atomically: an interruption leaves the pass before)."""
    save_checkpoint(path, {**progress, "made_by": made})


def load_progress(path: Path, made: dict[str, Any]) -> Progress:
    """The progress saved at `path` by a training made as `made` (else a clear error), its form checked
    before any strip is made (its tensors' shapes: by fit)."""
    remove_leftovers(path.parent, path.name)  # of a training killed while saving
    state = load_checkpoint(path, ("made_by", "model", "optimizer", "generator", "epoch", "step", "history", "where"),
                            "a reader training's progress")
    saved = state["made_by"]
    if isinstance(saved, dict) and isinstance(saved.get("training"), dict):  # older files lack the fields added since
        missing = {k: v for k, v in ADDED.items() if k in made["training"] and k not in saved["training"]}
        saved = {**saved, "training": {**saved["training"], **missing}}
    if saved != made:
        was, now = _settings(saved), _settings(made)
        other = [f"{k} {was.get(k)} (now {now.get(k)})" for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)]
        raise Lenet5Error(f"{path}: that training was made otherwise: {', '.join(other) or 'other settings'}; "
                          "go on with its settings, or delete it")
    epoch, history = state["epoch"], state["history"]
    if not (isinstance(epoch, int) and 1 <= epoch <= made["training"]["epochs"] and isinstance(history, list)
            and len(history) == epoch and isinstance(state["step"], int) and isinstance(state["model"], dict)
            and isinstance(state["optimizer"], dict) and isinstance(state["generator"], torch.Tensor)):
        raise Lenet5Error(f"{path}: damaged (its passes, steps or states are not a training's); delete it")
    return state


def where_it_runs(config: ReaderTraining) -> dict[str, Any]:
    """What decides a training's rounding beside what made it: its device and PyTorch's threads."""
    return {"device": str(torch.device(config.device)), "threads": torch.get_num_threads()}


def _place(where: object) -> str:
    if not isinstance(where, dict):
        return "an unknown device"
    return f"{where.get('device')} with {where.get('threads')} thread{'s' if where.get('threads') != 1 else ''}"


def _settings(made: object) -> dict[str, Any]:
    """made_by's settings in one flat dict (a damaged record: none)."""
    if not isinstance(made, dict):
        return {}
    training = made.get("training")
    return {**{k: v for k, v in made.items() if k != "training"}, **(training if isinstance(training, dict) else {})}


def fit(model: torch.nn.Module, config: ReaderTraining, seed: int,
        order: Callable[[torch.Generator, int], Iterable[Any]], per_pass: int, loss_of: Callable[[Any], Loss],
        validate: Callable[[torch.nn.Module], float], log: Callable[[str], None] = print,
        resume: Progress | None = None, after_pass: Callable[[Progress], None] | None = None) -> list[dict]:
    """Train `model` for config.epochs passes; pass p takes its batches from `order(generator, p)`
    (which shuffles with the generator it is given, seeded seed + 2), `per_pass` of them, and ends
    with `validate(model)`, the share of held-out strips read exactly, then `after_pass(progress)`.
    `resume`: go on after the passes that progress holds, to the weights of a training never
    interrupted. The model trains on config.device (moved there first; `loss_of` puts its batch
    there) and is left there. One history row per pass: epoch, loss (mean per example),
    train_error (where counted), val_exact, seconds."""
    device = torch.device(config.device)
    repeatable_convolutions(device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = PAPER_TRAINING.replace(epochs=config.epochs, lr=config.lr)
    generator = torch.Generator().manual_seed(seed + 2)
    history, step, done = [], 0, 0
    if resume is not None:
        try:
            model.load_state_dict(resume["model"])
            optimizer.load_state_dict(copy.deepcopy(resume["optimizer"]))  # moved to the parameters' device
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if any(torch.is_tensor(v) and v.dim() and v.shape != p.shape for v in optimizer.state[p].values()):
                        raise ValueError("AdamW's state is not shaped as the weights")
            generator.set_state(resume["generator"])
            history, step, done = [dict(row) for row in resume["history"]], int(resume["step"]), int(resume["epoch"])
        except (RuntimeError, KeyError, ValueError, TypeError) as e:
            why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise Lenet5Error(f"the progress kept does not fit this training (damaged? delete it): {why}") from None
        log(f"going on after pass {done} of {config.epochs}")
        where = where_it_runs(config)
        if resume.get("where") != where:
            log(f"note: it began on {_place(resume.get('where'))} and goes on on {_place(where)}: its rounding, "
                "and so its weights, will differ from an uninterrupted run")
    for epoch in range(done + 1, config.epochs + 1):
        model.train()
        start, loss_sum, examples, wrong = time.time(), torch.zeros(()), 0, None
        for batch in order(generator, epoch):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(schedule, step, per_pass * config.epochs, per_pass)
            loss, n, missed = loss_of(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.detach().cpu() * n
            examples += n
            if missed is not None:
                wrong = (wrong or 0) + missed
        model.eval()
        row = {"epoch": epoch, "loss": float(loss_sum) / examples,
               **({} if wrong is None else {"train_error": wrong / examples}),
               "val_exact": validate(model), "seconds": time.time() - start}
        history.append(row)
        errors = "" if wrong is None else f", training error {100 * row['train_error']:.2f}%"
        log(f"pass {epoch}: loss {row['loss']:.4f}{errors}, held-out amounts read exactly {100 * row['val_exact']:.1f}% "
            f"({row['seconds']:.0f} s)")
        if after_pass is not None:
            after_pass({"model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},  # copies:
                        "optimizer": copy.deepcopy(optimizer.state_dict()),  # the training goes on changing its own
                        "generator": generator.get_state(), "epoch": epoch, "step": step,
                        "history": [dict(row) for row in history], "where": where_it_runs(config)})
    return history
