"""Reading the SDNN's outputs (Sec. VII-A, Fig. 27): per column log P(0..9, between) -> the
likeliest digit string, summed over all its paths as training scores it (Sec. VI-E), and its best
path (Viterbi), which says where the digits stand. The grammar: between / digit / between, the
same digit twice only with a between in the middle (CTC's, with "between" as the blank).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lenet5.read.classes import NONE

BEAM = 8  # strings kept by the search for the likeliest string
SURE_NOT = 1e-4  # a digit less likely than this at an output does not start or go on there


@dataclass(frozen=True)
class Spike:
    """One digit on the best path: outputs [t0, t1) read it, with probability `p` at its surest;
    `shift`: the px the band was shifted right by for these outputs (see `phases`)."""

    digit: int
    t0: int
    t1: int
    p: float
    shift: int = 0
    reading: int = 0  # which of the readings placed it (`place`)


def likeliest_string(log_probs: torch.Tensor, beam: int = BEAM) -> tuple[tuple[int, ...], float]:
    """log_probs (T, 11) for one line -> the likeliest digit string and its log-probability, the
    sum over every path that spells it (the forward score of Sec. VI-E, what training maximizes),
    not the single best path's. A prefix search that keeps the `beam` likeliest strings so far;
    each ends either in "between" or in its last digit (then a repeat needs a "between" first)."""
    strings: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}  # string -> P(ends in between), P(ends in its digit)
    log_scale = 0.0
    for row in log_probs.double().exp().tolist():  # Python floats: the same doubles, a few times faster to add here
        grown: dict[tuple[int, ...], list[float]] = {}
        p_none = row[NONE]
        digits = [(c, p_c) for c, p_c in enumerate(row[:NONE]) if p_c > SURE_NOT]
        for string, (p_between, p_digit) in strings.items():
            stay = grown.setdefault(string, [0.0, 0.0])
            stay[0] += (p_between + p_digit) * p_none
            last = string[-1] if string else None
            for c, p_c in digits:
                if c == last:
                    stay[1] += p_digit * p_c  # the same digit goes on
                    grown.setdefault(string + (c,), [0.0, 0.0])[1] += p_between * p_c  # the same digit again
                else:
                    grown.setdefault(string + (c,), [0.0, 0.0])[1] += (p_between + p_digit) * p_c
        kept = sorted(grown.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:beam]
        top = kept[0][1][0] + kept[0][1][1]
        log_scale += math.log(top)  # rescaled every step: long lines do not underflow
        strings = {k: (v[0] / top, v[1] / top) for k, v in kept}
    string, (p_between, p_digit) = max(strings.items(), key=lambda kv: kv[1][0] + kv[1][1])
    return string, log_scale + math.log(p_between + p_digit)


def align(log_probs: torch.Tensor, string: tuple[int, ...], shift: int = 0, reading: int = 0) -> list[Spike]:
    """Where each digit of `string` stands: the best path (Viterbi) through log_probs (T, 11)
    among those that spell it, "between" optional around digits and required between repeats.
    `shift`: the px the band was shifted right by for these outputs; `reading`: which reading they are."""
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
            spikes[-1] = Spike(last.digit, last.t0, t + 1, max(last.p, p), shift, reading)
        else:
            spikes.append(Spike(states[i], t, t + 1, p, shift, reading))
    return spikes


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


def candidates(log_probs: torch.Tensor, beam: int = BEAM) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]], torch.Tensor]:
    """log_probs (T, P, 11): each reading's likeliest string (P, reading by reading), the distinct
    ones in that order, and log P of each of those under every reading (strings, P)."""
    proposed = [likeliest_string(log_probs[:, k], beam)[0] for k in range(log_probs.shape[1])]
    strings = list(dict.fromkeys(proposed))
    return proposed, strings, string_log_probs(log_probs, strings)


def place(log_probs: torch.Tensor, string: tuple[int, ...], each: torch.Tensor, offsets: int | None = None,
          placing: int | None = None) -> list[Spike]:
    """Where `string` (log P `each` (P,) under the readings) puts its digits: its best path in
    reading 0, or in the reading likeliest to spell it among the first `placing` (None: all) where
    reading 0 cannot, or among all where none of those can. Each spike says its reading."""
    first = each[:placing]
    where = 0 if torch.isfinite(each[0]) else int(first.argmax()) if torch.isfinite(first.max()) else int(each.argmax())
    return align(log_probs[:, where], string, shift=where % (offsets or log_probs.shape[1]), reading=where)


def joined(readings: list[torch.Tensor]) -> torch.Tensor:
    """Readings of one line that differ in length (T_i, P_i, 11), e.g. the line read at several
    digit heights -> one set (max T, sum P, 11): each padded at its end with outputs that are
    "between" for certain, which leave every string's probability under it as it was (a path
    spends them in "between")."""
    steps = max(r.shape[0] for r in readings)
    padded = []
    for r in readings:
        pad = torch.full((steps - r.shape[0], *r.shape[1:]), -math.inf, dtype=r.dtype)
        pad[..., NONE] = 0.0
        padded.append(torch.cat([r, pad]))
    return torch.cat(padded, dim=1)


def read_columns(log_probs: torch.Tensor, beam: int = BEAM, offsets: int | None = None,
                 placing: int | None = None) -> tuple[list[Spike], float]:
    """log_probs (T, P, 11), P readings of the line (or (T, 11), one): each network's reading at
    `offsets` pixel offsets (see `sdnn.phases`; None: all P are one network's, reading k at k px),
    network after network -> the digits of the likeliest string where its best path in reading 0
    puts them (or in the reading likeliest to spell it, where reading 0 cannot: among the first
    `placing` where one of those can, as `place` says), and the string's log-probability. Each
    reading proposes its likeliest string; a string's probability is its mean over the readings."""
    if log_probs.dim() == 2:
        log_probs = log_probs[:, None]
    _, strings, each = candidates(log_probs, beam)  # each: (strings, readings)
    scores = torch.logsumexp(each, dim=1) - math.log(log_probs.shape[1])
    best = int(scores.argmax())
    return place(log_probs, strings[best], each[best], offsets, placing), float(scores[best])
