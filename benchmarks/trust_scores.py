"""Which score of an amount's reading tells the wrong readings best? The SDNN committee's own
(the mean probability of the string read over its readings) against others computed from the
same outputs, each scored by the share of amounts it accepts at 1% and 0.5% errors among them;
with --second-opinion READER (e.g. amounts-hos, over-segmentation, Sec. VI), also the committee's
probability raised by 2 wherever that reader reads the same string, so that every agreeing amount
ranks above every other.

Held-out amounts (the last 10,000 training digits, as `lenet5 calibrate-reader` writes them)
choose each score's threshold for 0.5%; the benchmark's test amounts (benchmarks/amounts.py's
seed) show what that threshold keeps there and how many of the kept are wrong.

    python benchmarks/trust_scores.py [--held-out 2000] [--test 1000] [--model amounts] [--second-opinion amounts-hos]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from lenet5.data.datasets import load_digits
from lenet5.errors import Lenet5Error
from lenet5.preprocess import decode_image
from lenet5.read.decode import candidates, place
from lenet5.read.line import normalize
from lenet5.read.reading import read_uncalibrated
from lenet5.read.sdnn import STRIDE, as_batch, band, phase_log_probs
from lenet5.read.trust import BENCHMARK_SEED, amount_files, held_out_amounts
from lenet5.read.weights import DEFAULT_READER, load_reader

SCORES = ("mean over readings (shipped)", "least likely reading", "readings that propose it", "margin to the next string",
          "least sure digit")


@torch.no_grad()
def scores_of(model: torch.nn.Module, grey: np.ndarray) -> tuple[str, list[float]]:
    """The string read (as `lenet5 read` reads it) and its SCORES (higher: surer)."""
    line = normalize(grey)
    if line is None:
        return "", [-math.inf] * len(SCORES)
    batch, _ = as_batch([band(line)])
    log_probs = phase_log_probs(model.eval(), batch)  # (T, readings, 11)
    proposed, strings, each = candidates(log_probs)  # what read_columns weighs, as it weighs it
    means = torch.logsumexp(each, dim=1) - math.log(log_probs.shape[1])
    best = int(means.argmax())
    log_p, read = float(means[best]), strings[best]
    spikes = place(log_probs, read, each[best], offsets=STRIDE)
    runner_up = float(torch.cat([means[:best], means[best + 1:]]).max()) if len(strings) > 1 else -math.inf
    agree = sum(p == read for p in proposed) / len(proposed)
    tie = 1e-3 * math.exp(log_p)  # where agreement or the margin ties (most amounts: every reading proposes one string)
    return "".join(map(str, read)), [log_p, float(each[best].min()), agree + tie, min(log_p - runner_up, 50.0) + tie,
                                     min((s.p for s in spikes), default=0.0)]


def accepted(exact: np.ndarray, score: np.ndarray, target: float) -> tuple[float, float]:
    """The largest share of amounts, taken from the highest score down, whose errors stay at or
    under `target`, and the score of the last one taken (inf: none)."""
    order = np.argsort(-score, kind="stable")
    ok = np.cumsum(~exact[order]) / np.arange(1, len(exact) + 1) <= target
    if not ok.any():
        return 0.0, math.inf
    k = int(np.nonzero(ok)[0].max()) + 1
    return k / len(exact), float(score[order][k - 1])


def second_reading(model: torch.nn.Module, grey: np.ndarray) -> str:
    try:
        return read_uncalibrated(model, grey).number
    except Lenet5Error:  # no digits found
        return ""


def measure(model, amounts, second=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether each amount is read exactly, its SCORES (and, with a `second` reader, one more: the
    shipped probability + 2 where that reader reads the same string), and whether the readers agree."""
    exact, scores, agree = [], [], []
    for grey, number in amounts:
        read, s = scores_of(model, grey)
        if second is not None:
            agree.append(second_reading(second, grey) == read)
            s.append(math.exp(s[0]) + 2.0 * agree[-1])  # s[0] is a log probability: exp in [0, 1]
        exact.append(read == number)
        scores.append(s)
    return np.array(exact), np.array(scores), np.array(agree, dtype=bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--held-out", type=int, default=2000, help="held-out amounts that choose the thresholds (default: 2000)")
    parser.add_argument("--test", type=int, default=1000, help="test amounts (default: 1000, as benchmarks/amounts.py)")
    parser.add_argument("--model", default=DEFAULT_READER, help=f"an SDNN reader (default: {DEFAULT_READER})")
    parser.add_argument("--second-opinion", default=None, metavar="READER",
                        help="a second reader (e.g. amounts-hos) whose agreement ranks amounts first (default: none)")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    model, _ = load_reader(args.model)
    second = None if args.second_opinion is None else load_reader(args.second_opinion)[0]
    names = SCORES + (() if second is None else (f"{args.second_opinion} agrees, then the mean",))
    digits = load_digits("mnist", args.data_dir)
    held = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), args.held_out, seed=99)
    test = [(decode_image(data, f"amount {k}"), number) for k, (data, number) in
            enumerate(amount_files(digits.test_images.numpy(), digits.test_labels.numpy(), args.test, seed=BENCHMARK_SEED))]
    (held_exact, held_scores, held_agree), (test_exact, test_scores, test_agree) = measure(model, held, second), measure(model, test, second)
    print(f"{args.model}: {len(held):,} held-out amounts read exactly {100 * held_exact.mean():.1f}%, "
          f"{len(test):,} test amounts {100 * test_exact.mean():.1f}%")
    print(f"{'score':32s} {'held-out: kept at 1%':>21s} {'at 0.5%':>8s} {'test, its 0.5% threshold: kept':>31s} {'errors':>7s}")
    for i, name in enumerate(names):
        at1, _ = accepted(held_exact, held_scores[:, i], 0.01)
        at05, threshold = accepted(held_exact, held_scores[:, i], 0.005)
        kept = test_scores[:, i] >= threshold
        errors = (~test_exact[kept]).mean() if kept.any() else 0.0
        print(f"{name:32s} {100 * at1:20.1f}% {100 * at05:7.1f}% {100 * kept.mean():30.1f}% {100 * errors:6.2f}%")
    full = held_scores[:, 2] >= 1
    print(f"held-out amounts all of whose readings propose the string read: {100 * full.mean():.1f}%, "
          f"{100 * (~held_exact[full]).mean():.1f}% of them wrong")
    for name, agree, exact in (("held-out", held_agree, held_exact), ("test", test_agree, test_exact)):
        if second is not None and agree.any():
            print(f"{name} amounts {args.second_opinion} reads as {args.model} does: {100 * agree.mean():.1f}%, "
                  f"{100 * (~exact[agree]).mean():.1f}% of them wrong ({(~exact[agree]).sum()} of {agree.sum()})")


if __name__ == "__main__":
    main()
