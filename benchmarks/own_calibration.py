"""Thresholds chosen on a user's own amounts against those chosen on MNIST's: does `lenet5
calibrate-reader --labelled` give a stranger's writers the errors among the kept that they ask for?

UCI's handwritten digits (benchmarks/amounts.py's `--uci` set: 43 other writers, scanned at 8x8) are
cut in two halves, at random (the labelled amounts are like those to be read) and in scikit-learn's
order (they may not be: other writers, as UCI's file comes). Amounts of one half are written to a folder with its
labels.csv and the reader is calibrated on them as `calibrate-reader --labelled` calibrates
(`measure_trust` on `labelled_amounts`); amounts of the other half are then read, and kept at the
reader's own thresholds (chosen on MNIST's held-out amounts) and at those of the labelled half.
Then the halves swap. Needs the [sklearn] extra.

    python benchmarks/own_calibration.py [--amounts 2000] [--model amounts] [--seed 31]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from amounts import uci_digits, write_amounts

from lenet5.errors import Lenet5Error
from lenet5.read import load_reader
from lenet5.read.labelled import labelled_amounts, labelled_rows
from lenet5.read.trust import TARGETS, probabilities, trust_of
from lenet5.read.weights import DEFAULT_READER
from lenet5.runtime import DEFAULT_THREADS, use_threads


def kept(confidence: np.ndarray, exact: np.ndarray, threshold: float) -> str:
    keep = confidence >= threshold
    wrong = int((~exact[keep]).sum())
    return f"{100 * keep.mean():.1f}% ({100 * wrong / max(1, keep.sum()):.2f}%, {wrong} of {int(keep.sum())})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amounts", type=int, default=2000,
                        help="amounts of each half (default: 2000, the fewest that choose a 0.1%% threshold)")
    parser.add_argument("--model", default=DEFAULT_READER, help=f"a calibrated reader (default: {DEFAULT_READER})")
    parser.add_argument("--seed", type=int, default=31, help="seed of the first half's amounts; the second's is seed + 1 (default: 31)")
    args = parser.parse_args()
    try:
        digits, labels = uci_digits()
    except ImportError:
        parser.error("needs scikit-learn: pip install -e \".[sklearn]\"")
    threads = use_threads(DEFAULT_THREADS)
    model, info = load_reader(args.model)
    own = info.get("held_out", {}).get("reject_below", {})
    if not own:
        parser.error(f"{args.model} carries no thresholds: calibrate it with lenet5 calibrate-reader first")
    print(f"reader {info['source']}, {args.amounts} amounts of each half of UCI's {len(digits)} digits "
          f"(seeds {args.seed}, {args.seed + 1}), {threads} thread")
    middle = len(digits) // 2
    for split, order in (("at random", np.random.default_rng(args.seed).permutation(len(digits))),
                         ("in scikit-learn's order", np.arange(len(digits)))):
        halves = [(digits[order[:middle]], labels[order[:middle]]), (digits[order[middle:]], labels[order[middle:]])]
        read = []
        with tempfile.TemporaryDirectory() as tmp:
            for k, half in enumerate(halves):
                folder = Path(tmp) / f"half-{k + 1}"
                folder.mkdir()
                write_amounts(folder, args.amounts, args.seed + k, *half)
                p, exact = probabilities(model, labelled_amounts(labelled_rows(folder)))  # raw probabilities, whether exact
                try:
                    read.append((p, exact.numpy(), trust_of(p, exact)))  # and the half's own calibration
                except Lenet5Error as e:
                    parser.error(f"half {k + 1}: {e}")
        print(f"\nthe digits cut in two {split}:\n| amounts read | calibrated on | read exactly | "
              + " | ".join(f"kept at the {100 * t:g}% threshold (errors)" for t in TARGETS) + " |\n|---|---|---|" + "---|" * len(TARGETS))
        for k, (p, exact, _) in enumerate(read):
            other = read[1 - k][2]
            for name, trust, thresholds in (("MNIST's held-out amounts", model.calibration, own),
                                            (f"half {2 - k}'s labelled amounts", other.calibration,
                                             {f"{100 * t:g}%": v for t, v in other.thresholds.items()})):
                confidence = np.array([trust(float(q)) for q in p])
                print(f"| half {k + 1} | {name} | {100 * exact.mean():.1f}% | "
                      + " | ".join(kept(confidence, exact, thresholds[f"{100 * t:g}%"]) for t in TARGETS) + " |")


if __name__ == "__main__":
    main()
