"""Training the segment recognizer on what the segmenter cuts from MNIST *training* digits.

Each strip (lenet5/data/strips.py) is segmented exactly as `read_number` does it; every
candidate segment is labelled from the strip's pixel owners: a digit when it holds most of one
digit's ink and little else, "none" when it is clearly a piece, a pair or a speck, and left out
when it is in between. The recognizer then learns both what digits look like at line scale and
which cuts are wrong, as the paper's recognizer was trained on segmenter output (Sec. VI-A).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lenet5.data.strips import TRAINING, Strip, Style, make_strip
from lenet5.errors import Lenet5Error
from lenet5.model import LeNet
from lenet5.read.classes import NONE
from lenet5.read.fit import Progress, ReaderTraining, fit, split
from lenet5.read.line import normalize
from lenet5.read.oversegment import as_inputs, atoms, candidates, render
from lenet5.read.reading import read_number
from lenet5.read.recognizer import reader_network

DIGIT_SHARE = 0.7  # a digit's segment: at least this share of its ink is one digit's,
DIGIT_COVER = 0.85  # it holds at least this share of that digit's ink,
OTHER_COVER = 0.25  # and at most this share of any other digit's (a thin "1" is little ink)
NONE_SHARE, NONE_COVER = 0.6, 0.5  # none: below either, or more than NONE_COVER of a second digit
NONE_PER_DIGIT = 2.0  # none segments kept per digit segment
PER_DIGIT = 3  # segments kept per digit written: a wide digit has many near-identical cuts, a "1" few


@dataclass(frozen=True)
class HOSTraining(ReaderTraining):
    """How the segment recognizer is trained (the paper preset's optimizer, on segments)."""

    strips: int = 25_000  # training strips drawn from MNIST's training digits
    val_strips: int = 500  # held-out strips (from the last `holdout` training digits) read whole after each pass
    epochs: int = 7  # passes over the segments
    batch_size: int = 64  # segments


def segment_examples(strip: Strip, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The labelled candidate segments of one strip: fields (K, 32, 32) uint8 and labels (K,)
    (0-9 a digit, 10 none). At most PER_DIGIT segments of each digit written are kept, so that
    narrow digits count as much as wide ones; most candidates are none, NONE_PER_DIGIT of them
    per digit segment are kept at random, half of them the hardest kind: a whole digit joined
    to most of another."""
    line = normalize(strip.image.astype(np.float32) / 255)
    pieces = [] if line is None else atoms(line)
    if not pieces:  # the strip's ink vanished under noise: nothing to learn from
        return np.zeros((0, 32, 32), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    spans = candidates(pieces)
    n_digits = len(strip.number)
    mass = np.zeros((len(pieces), n_digits))
    h, w = strip.owner.shape
    for k, a in enumerate(pieces):
        y, x = line.to_image(a.ys + 0.5, a.xs + 0.5)  # each pixel's centre in the strip's image
        y, x = np.clip(y.astype(int), 0, h - 1), np.clip(x.astype(int), 0, w - 1)
        owner = strip.owner[y, x]
        ink = line.ink[a.ys, a.xs]
        mine = owner >= 0
        np.add.at(mass[k], owner[mine], ink[mine])
    total = mass.sum(axis=0) + 1e-9
    found: dict[int, list] = {}
    hard, nones = [], []
    for i, j in spans:
        cover = mass[i:j].sum(axis=0) / total
        best = int(cover.argmax())
        share = mass[i:j, best].sum() / (mass[i:j].sum() + 1e-9)
        other = np.delete(cover, best).max(initial=0.0)
        if share >= DIGIT_SHARE and cover[best] >= DIGIT_COVER and other <= OTHER_COVER:
            found.setdefault(best, []).append((i, j, int(strip.number[best])))
        elif cover[best] >= DIGIT_COVER and other > NONE_COVER:
            hard.append((i, j, NONE))  # a whole digit and most of another: the hardest kind of none
        elif share < NONE_SHARE or cover[best] < NONE_COVER or other > NONE_COVER:
            nones.append((i, j, NONE))
    chosen = [c for cuts in found.values() for c in
              (cuts if len(cuts) <= PER_DIGIT else [cuts[k] for k in rng.choice(len(cuts), PER_DIGIT, replace=False)])]
    quota = max(1, round(NONE_PER_DIGIT * len(chosen) / 2))
    for kind in (hard, nones):
        chosen += [kind[k] for k in rng.choice(len(kind), size=min(quota, len(kind)), replace=False)]
    fields = [(render(line, pieces[i:j]) * 255).round().astype(np.uint8) for i, j, _ in chosen]
    return np.stack(fields), np.array([label for _, _, label in chosen], dtype=np.int64)


def segment_set(digits: np.ndarray, labels: np.ndarray, count: int, seed: int, style: Style = TRAINING,
                log: Callable[[str], None] = print) -> tuple[torch.Tensor, torch.Tensor]:
    """Labelled segments of `count` random strips: (M, 32, 32) uint8 and (M,)."""
    rng = np.random.default_rng(seed)
    fields, targets = [], []
    start = time.time()
    for k in range(count):
        try:
            f, t = segment_examples(make_strip(digits, labels, rng, style), rng)
        except (Lenet5Error, ValueError):  # a strip whose ink vanished under noise: nothing to learn from
            continue
        fields.append(f)
        targets.append(t)
        if (k + 1) % 2000 == 0:
            log(f"segmented {k + 1:,} of {count:,} strips ({time.time() - start:.0f} s)")
    return torch.from_numpy(np.concatenate(fields)), torch.from_numpy(np.concatenate(targets))


def exact_rate(model: LeNet, strips: list[Strip]) -> float:
    """Share of strips read exactly right."""
    return sum(read_or_none(model, s) == s.number for s in strips) / len(strips)


def read_or_none(model: LeNet, strip: Strip) -> str | None:
    """The number read in a strip, or None where no digits were found (which counts as wrong)."""
    try:
        return read_number(model, strip.image.astype(np.float32) / 255).number
    except Lenet5Error:
        return None


def train_reader(digits: np.ndarray, labels: np.ndarray, config: HOSTraining, seed: int = 0,
                 log: Callable[[str], None] = print, resume: Progress | None = None,
                 after_pass: Callable[[Progress], None] | None = None) -> tuple[LeNet, list[dict]]:
    """Train a recognizer on strips of digits[:-holdout], score whole strips of the held-out
    digits after each pass (`resume`, `after_pass`: fit's). Returns the model and one history row per pass."""
    (train_digits, train_labels), (val_digits, val_labels) = split(digits, labels, config)
    fields, targets = segment_set(train_digits, train_labels, config.strips, seed, log=log)
    val_rng = np.random.default_rng(seed + 1)
    val = [make_strip(val_digits, val_labels, val_rng, Style()) for _ in range(config.val_strips)]
    log(f"{len(targets):,} segments ({(targets == NONE).float().mean():.0%} none) from {config.strips:,} strips")
    model = reader_network(seed)

    def loss_of(batch: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        logits = model(as_inputs(fields[batch].float().numpy() / 255).to(config.device))
        wanted = targets[batch].to(config.device)
        return torch.nn.functional.cross_entropy(logits, wanted), len(batch), int((logits.argmax(1) != wanted).sum())

    def validate(m: LeNet) -> float:  # read_number reads on the CPU: a copy there, wherever the network trains
        return exact_rate(copy.deepcopy(m).cpu() if config.device != "cpu" else m, val)

    history = fit(model, config, seed, lambda g, epoch: torch.randperm(len(targets), generator=g).split(config.batch_size),
                  math.ceil(len(targets) / config.batch_size), loss_of, validate, log, resume, after_pass)
    return model.cpu().eval(), history
