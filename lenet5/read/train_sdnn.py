"""Training the SDNN on whole strips of MNIST *training* digits, labelled only by their strings.

Each strip (lenet5/data/strips.py) is prepared exactly as `read_number` prepares an image (the
line at digit scale, the band along its baseline; kept as 8-bit grey: bands.py, which makes them in
worker processes, fresh ones while the network trains); the loss is minus the log of the total
probability of every path through the outputs that spells the strip's digits, with "between"
anywhere around and inside repeated digits: the forward algorithm of the paper's
discriminative forward training (Sec. VI-E), computed by `torch.nn.functional.ctc_loss`.
Nobody marks where a digit is: the network learns where digits stand from the strings alone,
unless `columns` asks for more: then each output whose window is centred on a digit (known from
the strip maker's pixel owners) is also told that digit, and each one far from every digit
"between", by cross-entropy beside the string's loss (a recognizer's training on centred windows
and on windows between digits, added to the string's).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from lenet5.data.strips import TRAINING, Style
from lenet5.errors import Lenet5Error
from lenet5.read.bands import Band, FreshStrips, fresh_slots, make_bands
from lenet5.read.boost import boost_weights, misread
from lenet5.read.classes import NONE
from lenet5.read.decode import read_columns
from lenet5.read.fit import Progress, ReaderTraining, fit, split
from lenet5.read.sdnn import (SDNN, STRIDE, as_batch, centre_of, check_context, check_depth, check_maps, check_refine,
                              column_log_probs, grown, phase_log_probs)


# Column supervision (SDNNTraining.columns): an output whose window's centre is within NEAR px of a
# digit's centre (the mean column of the pixels it owns) is told that digit (one or two outputs a digit,
# at the stride of 4 px); one FAR px or more from every digit's centre is told "between" (half a digit's
# height off: the window sees a digit's edge at most); the outputs between are left to the string's loss.
NEAR, FAR = 2.5, 10.0
IGNORED = -100  # torch's ignore_index: an output the column loss says nothing about
BETWEEN = -1  # column_targets: no digit under this window


@dataclass(frozen=True)
class SDNNTraining(ReaderTraining):
    """How the SDNN is trained (the paper preset's optimizer and schedule, on strips of similar width
    batched together; ReaderTraining's defaults are the SDNN's)."""

    # Deviation: C1, C3, C5, F6 maps; the paper's are 6, 16, 120, 84. Held-out strips read exactly
    # after 6 passes of 20,000 strips: paper maps 65.2%, (16, 48, 200, 120) 70.4%, these 73.2%.
    maps: tuple[int, int, int, int] = (32, 64, 256, 128)
    # outputs to either side whose C5 columns F6 reads too (sdnn.Context): 0, the paper's window alone, as the
    # shipped SDNNs; 2 widens each window from 32 px to 48, about a neighbouring digit on each side; at most
    # sdnn.MOST_CONTEXT
    context: int = 0
    # convolutions in each of C1, C3 and C5 (sdnn.Stacked): 1, the paper's 5x5; 2, two 3x3
    # over the same window (a deeper network, as both of the shipped committee's; a step of 32 strips 160 px
    # wide: 0.16 s against 0.12 s, 2 threads)
    depth: int = 1
    # residual blocks refining C3's squashed maps (sdnn.Refine): 0, the paper's, as the shipped SDNNs; with
    # `start_from`, more than it has grows it (sdnn.grown: the new blocks start as no change)
    refine: int = 0
    # share of the training strips' gaps where neighbours touch or overlap (the benchmark's: 1/3): held-out
    # strips read exactly, 160,000 strips, 8 passes, one seed each: 1/3 (seed 0) 89.6%, 1/2 (seed 1) 90.9%
    joined: float = 0.5
    pens: float = 0.0  # share of the training strips written with another pen (lenet5/data/strips.py's Style.pens)
    distort: float = 0.0  # share of the training strips' digits squeezed and sheared first (Style.distort)
    scans: float = 0.0  # share of the training strips scanned coarsely first, 7-10 px across a digit's field (Style.scans)
    # share of the training strips drawn anew before each pass after the first, in turn (0.5: pass 2 replaces
    # the first half, pass 3 the second, ...), made one pass ahead by the `workers` while the network trains
    fresh: float = 0.0
    # weight of the column loss beside the string's (NEAR, FAR above); 0: the strings alone, as the shipped SDNNs
    columns: float = 0.0
    # share of the string's loss carried by the training strips a boosting reader misreads (boost.py; 0: every strip
    # weighs the same; 0.5: the paper's boosted LeNet-4, whose second net saw half patterns the first read wrong)
    boost: float = 0.0
    workers: int = 2  # processes making strips (the strips do not depend on it)


SHARES = ("joined", "pens", "distort", "scans", "fresh")  # SDNNTraining's fields that are shares of the strips (0..1)


def column_targets(centres: np.ndarray, outputs: int) -> np.ndarray:
    """(outputs,) int64: for each output, the index k (into the strip's string) of the digit its
    window is centred on (within NEAR px), BETWEEN where every digit is FAR px away or more,
    IGNORED otherwise."""
    if not len(centres):
        return np.full(outputs, BETWEEN, dtype=np.int64)
    x = centre_of(np.arange(outputs, dtype=np.float64))[:, None]  # (T, 1) work columns
    distance = np.abs(x - np.nan_to_num(centres.astype(np.float64), nan=np.inf)[None, :])  # (T, digits)
    nearest, gap = distance.argmin(axis=1), distance.min(axis=1)
    return np.where(gap <= NEAR, nearest, np.where(gap >= FAR, BETWEEN, IGNORED)).astype(np.int64)


def batch_of(bands: list[Band]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs (B, 1, 32, W), outputs per band (B,), targets (sum of lengths,), lengths (B,)."""
    inputs, windows = as_batch([b.ink.astype(np.float32) / 255 for b in bands])
    targets = torch.tensor([int(c) for b in bands for c in b.number])
    return inputs, windows, targets, torch.tensor([len(b.number) for b in bands])


def columns_of(bands: list[Band], windows: torch.Tensor) -> torch.Tensor:
    """The column loss's targets (T, B) for a batch whose bands give `windows` outputs each: digits,
    NONE (between) and IGNORED by `column_targets`, IGNORED past a band's end."""
    columns = np.full((int(windows.max()), len(bands)), IGNORED, dtype=np.int64)
    for j, b in enumerate(bands):
        k = column_targets(b.centres, int(windows[j]))
        digits = np.array([int(c) for c in b.number] or [NONE], dtype=np.int64)  # (a blank strip: never indexed)
        columns[: len(k), j] = np.where(k >= 0, digits[k.clip(0)], np.where(k == BETWEEN, NONE, IGNORED))
    return torch.from_numpy(columns)


@torch.no_grad()
def read_bands(model: torch.nn.Module, bands: list[Band], batch_size: int = 16) -> list[str]:
    """The digit string read in each band by an SDNN or a committee, as `read_number` reads it
    (every network at every pixel offset), on the device the model is on."""
    weight = next(model.parameters(), None)
    where = weight.device if weight is not None else torch.device("cpu")
    out = []
    for i in range(0, len(bands), batch_size):
        chunk = bands[i: i + batch_size]
        inputs, windows = as_batch([b[0].astype(np.float32) / 255 for b in chunk])
        log_probs = phase_log_probs(model, inputs.to(where)).cpu()  # (T, networks x bands x offsets, 11), network-major
        by_network = log_probs.view(log_probs.shape[0], -1, STRIDE * len(inputs), log_probs.shape[2])
        for j in range(len(chunk)):
            readings = by_network[: windows[j], :, STRIDE * j: STRIDE * (j + 1)].flatten(1, 2)
            out.append("".join(str(s.digit) for s in read_columns(readings, offsets=STRIDE)[0]))
    return out


def check_training(config: SDNNTraining) -> None:
    """A Lenet5Error for the first of the network's and strips' settings out of range, its message starting with
    the field's name (the CLI's flag of that name, for all but `maps`, which has none): the shares, the maps, context,
    depth and refine blocks, the columns' weight."""
    for name in SHARES:
        if not 0 <= getattr(config, name) <= 1:
            raise Lenet5Error(f"{name} must be a share between 0 and 1, not {getattr(config, name)}")
    try:
        check_maps(config.maps), check_context(config.context), check_depth(config.depth), check_refine(config.refine)
    except ValueError as e:
        raise Lenet5Error(str(e)) from None
    if not 0 <= config.columns < float("inf"):
        raise Lenet5Error(f"columns must be a weight of 0 or more, not {config.columns}")
    if not 0 <= config.boost < 1:
        raise Lenet5Error(f"boost must be a share from 0 up to (not including) 1, not {config.boost}")
    if config.boost and config.fresh:
        raise Lenet5Error("boost weighs the strips the boosting reader misreads, read once before the first pass: "
                          "it cannot go with fresh strips")


def train_sdnn(digits: np.ndarray, labels: np.ndarray, config: SDNNTraining, seed: int = 0,
               log: Callable[[str], None] = print, start_from: SDNN | None = None, resume: Progress | None = None,
               after_pass: Callable[[Progress], None] | None = None,
               boost_from: torch.nn.Module | None = None) -> tuple[SDNN, list[dict]]:
    """Train an SDNN on strips of digits[:-holdout]; read held-out strips after each pass.
    `start_from`: go on training that SDNN (its maps, context and depth, not config's; grown by the refine blocks
    config has beyond its own) on this seed's strips,
    with a fresh optimizer and schedule. `resume`, `after_pass`: fit's (the fresh strips of the passes done
    are drawn again). `boost_from` (an SDNN or a committee, with config.boost > 0): it reads the training
    strips first (on config.device; again when a training goes on), and those it misreads carry config.boost of
    the string's loss (boost.py). The network trains on config.device. Returns the model (eval mode, on the
    CPU) and one history row per pass."""
    (train_digits, train_labels), (val_digits, val_labels) = split(digits, labels, config)
    start = time.time()
    check_training(config)
    if (boost_from is None) != (config.boost == 0):
        raise Lenet5Error("boost needs a boosting reader, and a boosting reader a boost above 0")
    if seed < 0 or config.strips < 1 or config.val_strips < 1:
        raise Lenet5Error(f"seed must be 0 or more and strips 1 or more (seed {seed}, strips {config.strips}, "
                          f"held-out strips {config.val_strips})")
    style = dataclasses.replace(TRAINING, joined=config.joined, pens=config.pens, distort=config.distort,
                                scans=config.scans)
    train = make_bands(train_digits, train_labels, config.strips, seed, style, config.workers)
    val = make_bands(val_digits, val_labels, config.val_strips, seed + 1, Style(), config.workers)
    if not train or not val:
        raise Lenet5Error("every strip lost its ink under noise: nothing to learn from")
    log(f"{len(train):,} training strips, {len(val):,} held-out strips ({time.time() - start:.0f} s)")
    weights = None
    if boost_from is not None:
        start = time.time()
        wrong = misread(functools.partial(read_bands, boost_from.to(config.device).eval()), train)
        weights = torch.from_numpy(boost_weights(wrong, config.boost))
        heavy, light = (float(weights[mask][0]) if mask.any() else 1.0 for mask in (wrong, ~wrong))
        log(f"the boosting reader misreads {int(wrong.sum()):,} of the training strips ({100 * wrong.mean():.1f}%): "
            f"each of them weighs {heavy:.2f} in the loss, each other {light:.2f} "
            f"({time.time() - start:.0f} s)")
    if start_from is None:
        model = SDNN(config.maps, seed, config.context, config.depth, config.refine)
    else:  # its own weights, grown by the refine blocks it lacks
        model = grown(start_from, config.refine, seed) if config.refine > start_from.refine else copy.deepcopy(start_from)
    per_pass = -(-len(train) // config.batch_size)

    def order(generator: torch.Generator, epoch: int) -> Iterator[tuple[list[Band], torch.Tensor | None]]:
        bands = train if fresh is None else fresh.for_pass(epoch)
        by_width = sorted(range(len(bands)), key=lambda i: (bands[i][0].shape[1], i))
        batches = [by_width[i: i + config.batch_size] for i in range(0, len(by_width), config.batch_size)]
        return (([bands[i] for i in batches[b]], None if weights is None else weights[batches[b]])
                for b in torch.randperm(len(batches), generator=generator).tolist())

    def loss_of(weighed: tuple[list[Band], torch.Tensor | None]) -> tuple[torch.Tensor, int, None]:
        batch, weight = weighed
        inputs, windows, targets, lengths = batch_of(batch)
        # the string's loss on the CPU, wherever the network runs: CUDA's ctc_loss adds its gradients
        # in no fixed order, and one seed would give other weights run after run
        log_probs = column_log_probs(model, inputs.to(config.device)).cpu()
        if weight is None:
            loss = torch.nn.functional.ctc_loss(log_probs, targets, windows, lengths, blank=NONE, zero_infinity=True)
        else:  # ctc_loss's mean (each strip's loss over its length), each strip weighed
            each = torch.nn.functional.ctc_loss(log_probs, targets, windows, lengths, blank=NONE, reduction="none",
                                                zero_infinity=True)
            loss = (weight * each / lengths.clamp(min=1)).mean()
        columns = columns_of(batch, windows) if config.columns else None
        if columns is not None and (columns != IGNORED).any():
            told = torch.nn.functional.nll_loss(log_probs.reshape(-1, log_probs.shape[2]), columns.reshape(-1),
                                                ignore_index=IGNORED)
            loss = loss + config.columns * told
        return loss, len(batch), None

    def validate(m: SDNN) -> float:
        return sum(r == b.number for r, b in zip(read_bands(m, val), val)) / len(val)

    done = 0 if resume is None else resume["epoch"]
    drawn_anew = done < config.epochs and config.epochs >= 2 and fresh_slots(len(train), config.fresh, 2)
    if drawn_anew and done >= 2:
        log(f"drawing again the fresh strips of passes 2-{done}")
    with (FreshStrips(train, train_digits, train_labels, config.fresh, config.epochs, config.workers, seed,
                      style, done) if drawn_anew
          else contextlib.nullcontext()) as fresh:
        history = fit(model, config, seed, order, per_pass, loss_of, validate, log, resume, after_pass)
    return model.cpu().eval(), history
