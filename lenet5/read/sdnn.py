"""The Space Displacement Neural Network (Sec. VII, Fig. 26 and 27): LeNet-5 swept over the line.

LeNet-5 is convolutional, so a line 32 px high and W px wide gives an output every 4 px (the
stride of S2 and S4 together): at each column, the probabilities of the ten digits and of
"between" (no digit centred under this window). The line is cut by nobody; reading it is a
search through the alternation between / digit / between (Sec. VII-A's grammar, Fig. 27) for
the likeliest digit string, each string scored by all its paths as in training (Sec. VI-E),
and the string's best path (Viterbi) says where its digits stand:

    line at digit scale -> 32 px band along the baseline -> LeNet-5 at every 4 px
        -> per column log P(0..9, between) -> likeliest string, its best path -> "92312"

It is trained on whole strips, labelled only with their digit strings, by maximizing the
probability of all the paths that spell the string: the forward algorithm of Sec. VI-E
(discriminative forward training) over this graph, which is what CTC computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lenet5.data import feed
from lenet5.errors import Lenet5Error
from lenet5.architectures import sweep
from lenet5.model import LeNet, ModelConfig
from lenet5.read.classes import CLASSES, NONE
from lenet5.read.segment import DIGIT_HEIGHT, INK, Line

HEIGHT = 32  # the network's input height: a digit's 20 px and 6 px of paper above and below, as LeNet-5's input
STRIDE = 4  # px between neighbouring outputs (two 2x2 subsamplings)
PAD = 16  # px of paper left and right, so that windows are centred on the line's ends too
MAX_SLOPE = 0.15  # the steepest baseline straightened (px per px)
SHORT = 2.5 * DIGIT_HEIGHT  # lines narrower than this are not straightened: one or two digits tell no slope


PAPER_MAPS = (6, 16, 120, 84)  # C1, C3, C5, F6 as in Fig. 2
BEAM = 8  # strings kept by the search for the likeliest string
SURE_NOT = 1e-4  # a digit less likely than this at an output does not start or go on there


# Deviation: init U(+-2.4/sqrt F_in). With the literal 2.4/F_in the swept network never left
# "between everywhere" (held-out strips read exactly: 0.0% after 4 passes of 20,000 strips;
# 65.2% after 6 passes with this init, the paper's maps).
# Deviation: a softmax over the ten digits and "between" instead of the RBF bitmaps: Fig. 3 has
# no bitmap for "no digit here", and the paths' probabilities need one.
SDNN_CONFIG = ModelConfig(head="softmax", loss="cross-entropy", init="paper-sqrt")


class SDNN(LeNet):
    """LeNet-5's layers (Fig. 2: C1, S2, C3, S4, C5, F6, scaled tanh) with `maps` = the number of
    maps of C1, C3, C5 and F6, and a softmax over 10 digits + between. With the paper's maps C3 is
    wired by Table I; wider ones connect C3 to every S2 map. (B, 1, 32, W) -> (B, 11, 1, windows(W)).
    The shipped SDNN has more maps than Fig. 2: see SDNNTraining.maps in train_sdnn.py."""

    def __init__(self, maps: tuple[int, int, int, int] = PAPER_MAPS, seed: int = 0):
        self.maps = tuple(maps)
        super().__init__(SDNN_CONFIG, seed, classes=CLASSES, architecture=sweep(self.maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 32, W) -> (B, 11, 1, windows(W)), one column of outputs even for a 32 px band."""
        return torch.nn.Sequential.forward(self, x)


def band(line: Line) -> np.ndarray:
    """The 32 px band along the line's baseline: (32, W') float32 ink, W' = PAD + W + PAD
    rounded up so that a whole number of windows fits. Each column is shifted so that the ink's
    centre of mass, fitted by a straight line over the whole line, sits in the band's middle;
    ink further than 16 px from that line is left out."""
    ink = line.ink
    h, w = ink.shape
    mass = ink.sum(axis=0).astype(np.float64)
    total = mass.sum()
    if total <= 0:
        raise Lenet5Error("no digits found (no ink above the paper's level)")
    x = np.arange(w, dtype=np.float64)
    centres = (ink * np.arange(h, dtype=np.float64)[:, None]).sum(axis=0) / np.maximum(mass, 1e-9)
    mean_x, mean_y = (mass @ x) / total, (mass @ centres) / total
    spread = mass @ (x - mean_x) ** 2
    slope = 0.0
    if w >= SHORT and spread > 0:
        slope = float(np.clip((mass @ ((x - mean_x) * (centres - mean_y))) / spread, -MAX_SLOPE, MAX_SLOPE))
    top = np.round(mean_y + slope * (x - mean_x) - (HEIGHT - 1) / 2).astype(np.int64)  # (W,) work row at band row 0
    source = top[None, :] + np.arange(HEIGHT)[:, None]
    inside = (source >= 0) & (source < h)
    out = np.where(inside, ink[source.clip(0, h - 1), np.arange(w)[None, :]], 0.0)
    width = PAD + w + PAD
    width += (-(width - HEIGHT)) % STRIDE
    padded = np.zeros((HEIGHT, width), dtype=np.float32)
    padded[:, PAD: PAD + w] = out
    return padded


def windows(width: int) -> int:
    """Outputs of the swept network for a band `width` px wide."""
    return (width - HEIGHT) // STRIDE + 1


def centre_of(t: float) -> float:
    """The line column (work scale) under the centre of output t's window."""
    return t * STRIDE + (HEIGHT - 1) / 2 - PAD


@dataclass(frozen=True)
class Spike:
    """One digit on the best path: outputs [t0, t1) read it, with probability `p` at its surest;
    `shift`: the px the band was shifted right by for these outputs (see `phases`)."""

    digit: int
    t0: int
    t1: int
    p: float
    shift: int = 0


def likeliest_string(log_probs: torch.Tensor, beam: int = BEAM) -> tuple[tuple[int, ...], float]:
    """log_probs (T, 11) for one line -> the likeliest digit string and its log-probability, the
    sum over every path that spells it (the forward score of Sec. VI-E, what training maximizes),
    not the single best path's. A prefix search that keeps the `beam` likeliest strings so far;
    each ends either in "between" or in its last digit (then a repeat needs a "between" first)."""
    p = log_probs.double().exp().numpy()
    strings: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}  # string -> P(ends in between), P(ends in its digit)
    log_scale = 0.0
    for t in range(p.shape[0]):
        grown: dict[tuple[int, ...], list[float]] = {}
        digits = [c for c in range(NONE) if p[t, c] > SURE_NOT]
        for string, (p_between, p_digit) in strings.items():
            grown.setdefault(string, [0.0, 0.0])[0] += (p_between + p_digit) * p[t, NONE]
            for c in digits:
                if string and string[-1] == c:
                    grown[string][1] += p_digit * p[t, c]  # the same digit goes on
                    grown.setdefault(string + (c,), [0.0, 0.0])[1] += p_between * p[t, c]  # the same digit again
                else:
                    grown.setdefault(string + (c,), [0.0, 0.0])[1] += (p_between + p_digit) * p[t, c]
        kept = sorted(grown.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:beam]
        top = kept[0][1][0] + kept[0][1][1]
        log_scale += math.log(top)  # rescaled every step: long lines do not underflow
        strings = {k: (v[0] / top, v[1] / top) for k, v in kept}
    string, (p_between, p_digit) = max(strings.items(), key=lambda kv: kv[1][0] + kv[1][1])
    return string, log_scale + math.log(p_between + p_digit)


def align(log_probs: torch.Tensor, string: tuple[int, ...], shift: int = 0) -> list[Spike]:
    """Where each digit of `string` stands: the best path (Viterbi) through log_probs (T, 11)
    among those that spell it, "between" optional around digits and required between repeats.
    `shift`: the px the band was shifted right by for these outputs."""
    lp = log_probs.double().numpy()
    states = [NONE] + [s for c in string for s in (c, NONE)]  # between, d1, between, d2, ..., between
    n, steps = len(states), lp.shape[0]
    score = np.full(n, -np.inf)
    score[0] = lp[0, NONE]
    if n > 1:
        score[1] = lp[0, states[1]]
    back = np.zeros((steps, n), dtype=np.int64)
    can_skip = np.array([i >= 2 and states[i] != NONE and states[i] != states[i - 2] for i in range(n)])
    for t in range(1, steps):
        moves = np.full((3, n), -np.inf)  # from the same state, the one before, the one before that
        moves[0] = score
        moves[1, 1:] = score[:-1]
        moves[2, 2:] = np.where(can_skip[2:], score[:-2], -np.inf)
        back[t] = np.arange(n) - moves.argmax(axis=0)
        score = moves.max(axis=0) + lp[t, states]
    state = n - 1 if n == 1 or score[n - 1] >= score[n - 2] else n - 2
    path = [state]
    for t in range(steps - 1, 0, -1):
        state = back[t, state]
        path.append(state)
    path.reverse()
    spikes: list[Spike] = []
    for t, i in enumerate(path):
        if states[i] == NONE:
            continue
        p = float(math.exp(lp[t, states[i]]))
        if t > 0 and path[t - 1] == i:
            last = spikes[-1]
            spikes[-1] = Spike(last.digit, last.t0, t + 1, max(last.p, p), shift)
        else:
            spikes.append(Spike(states[i], t, t + 1, p, shift))
    return spikes


def phases(band: np.ndarray) -> list[np.ndarray]:
    """The band as it is and shifted right by 1, 2, ... STRIDE - 1 px (paper comes in on the left,
    the right margin gives way): outputs fall every 4 px, so each shift sets the windows on other
    columns, and the network reads the line at every pixel offset."""
    return [band] + [np.concatenate([np.zeros((band.shape[0], s), band.dtype), band[:, :-s]], axis=1)
                     for s in range(1, STRIDE)]


def string_log_probs(log_probs: torch.Tensor, strings: list[tuple[int, ...]]) -> torch.Tensor:
    """log_probs (T, P, 11): P readings of one line -> (len(strings), P): log P(string) under each,
    summed over every path that spells it (the forward algorithm; -inf where it does not fit).
    One CTC call for every (string, reading) pair."""
    steps, readings, _ = log_probs.shape
    targets = torch.zeros(len(strings) * readings, max(1, max(map(len, strings))), dtype=torch.long)
    for i, string in enumerate(strings):
        targets[i * readings: (i + 1) * readings, : len(string)] = torch.tensor(string, dtype=torch.long)
    lengths = torch.tensor([len(string) for string in strings]).repeat_interleave(readings)
    lp = log_probs.double().repeat(1, len(strings), 1)  # (T, strings x readings, 11), string-major
    nll = torch.nn.functional.ctc_loss(lp, targets, torch.full_like(lengths, steps), lengths, blank=NONE, reduction="none")
    return -nll.view(len(strings), readings)


def read_columns(log_probs: torch.Tensor, beam: int = BEAM) -> tuple[list[Spike], float]:
    """log_probs (T, P, 11), the line read at P pixel offsets (see `phases`; or (T, 11), one) ->
    the digits of the likeliest string where its best path at offset 0 puts them (or at the offset
    likeliest to spell it, where offset 0 cannot), and the string's
    log-probability. Each offset proposes its likeliest string; a string's probability is its
    mean over the offsets."""
    if log_probs.dim() == 2:
        log_probs = log_probs[:, None]
    strings = list(dict.fromkeys(likeliest_string(log_probs[:, k], beam)[0] for k in range(log_probs.shape[1])))
    each = string_log_probs(log_probs, strings)  # (strings, offsets)
    scores = torch.logsumexp(each, dim=1) - math.log(log_probs.shape[1])
    best = int(scores.argmax())
    where = 0 if torch.isfinite(each[best, 0]) else int(each[best].argmax())  # offset 0 cannot spell it: the likeliest that can
    return align(log_probs[:, where], strings[best], shift=where), float(scores[best])


def as_batch(bands: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Bands of ink [0, 1] (32, W_i) -> the network's inputs (B, 1, 32, max W) on the paper's
    levels (padding is paper) and each band's number of outputs (B,)."""
    width = max(b.shape[1] for b in bands)
    batch = torch.full((len(bands), 1, HEIGHT, width), feed.BACKGROUND)
    for k, b in enumerate(bands):
        batch[k, 0, :, : b.shape[1]] = torch.from_numpy(b) * (feed.INK - feed.BACKGROUND) + feed.BACKGROUND
    return batch, torch.tensor([windows(b.shape[1]) for b in bands])


def column_log_probs(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Inputs (B, 1, 32, W) -> log-probabilities (T, B, 11), T = windows(W): CTC's layout."""
    scores = model(batch)  # (B, 11, 1, T)
    return torch.log_softmax(scores.reshape(scores.shape[0], scores.shape[1], -1), dim=1).permute(2, 0, 1)


def ink_rows(line: Line, x0: int, x1: int) -> tuple[int, int] | None:
    """The rows [y0, y1) of the line's ink in columns [x0, x1), or None where there is none."""
    rows = np.nonzero((line.ink[:, max(0, x0): max(0, x1)] > INK).any(axis=1))[0]
    return (int(rows[0]), int(rows[-1]) + 1) if len(rows) else None


@dataclass(frozen=True)
class Found:
    """A digit read in a line, with its box [x0, x1) x [y0, y1) in work pixels."""

    digit: int
    x0: int
    x1: int
    y0: int
    y1: int
    p: float


@torch.no_grad()
def read_line(model: SDNN, line: Line) -> tuple[list[Found], float]:
    """The likeliest string in one line, its digits left to right, boxed where its best path puts
    them: each digit's columns run from halfway to its left neighbour's centre to halfway to its
    right one's (the line's ends for the first and last), narrowed to the ink there; and the
    string's log-probability (over every output, the paper around the line included)."""
    batch, _ = as_batch(phases(band(line)))
    spikes, log_p = read_columns(column_log_probs(model.eval(), batch))
    w = line.ink.shape[1]
    centres = [min(max(centre_of((s.t0 + s.t1 - 1) / 2) - s.shift, 0.0), w - 1.0) for s in spikes]
    edges = [0.0] + [(a + b) / 2 for a, b in zip(centres, centres[1:])] + [float(w)]
    found = []
    for s, a, b in zip(spikes, edges, edges[1:]):
        x0 = min(math.floor(a), w - 1)
        x1 = max(math.ceil(b), x0 + 1)
        columns = np.nonzero((line.ink[:, x0:x1] > INK).any(axis=0))[0]
        if len(columns):
            x0, x1 = x0 + int(columns[0]), x0 + int(columns[-1]) + 1
        y0, y1 = ink_rows(line, x0, x1) or (0, line.ink.shape[0])
        found.append(Found(s.digit, x0, x1, y0, y1, s.p))
    return found, log_p
