"""Reading each amount at several digit heights: the line is brought to each height (20 px is
`lenet5 read`'s, MNIST's), every height's band is read by every member at the stride's 4 offsets,
and all those readings vote as a committee's readings do (each proposes its likeliest string; the
string with the highest mean probability over the readings wins). A test-time augmentation: more
readings of the same networks, at the price of one more reading of the line per height
(`lenet5 calibrate-reader --heights` makes a reader that reads so).

Each set of heights is measured on the same amounts as the first set (by default 20 px alone,
which reads exactly as `lenet5 read` does), with paired bootstrap 95% intervals of the differences
in the share read exactly and kept at 1% and 0.5% errors (each set's own threshold on these
amounts, as in benchmarks/paired_readers.py), and the median time to read one amount, read again
from its image for each set. The amounts are `lenet5 calibrate-reader`'s held-out ones (the last
10,000 training digits, seed 99), where settings are chosen.

    python benchmarks/digit_heights.py [--model amounts] [--sets 20 20,21 19,20,21 18,20,22 18,19,20,21,22]
                                       [--amounts 5000] [--seed 99] [--timed 100] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from lenet5.data.sources import fetch_and_load
from lenet5.read.decode import joined, read_columns
from lenet5.read.line import DIGIT_HEIGHT, check_heights, normalize
from lenet5.read.sdnn import STRIDE, as_batch, band, phase_log_probs
from lenet5.read.trust import held_out_amounts
from lenet5.read.weights import load_reader
from lenet5.runtime import use_threads
from paired_readers import bootstrap, kept_at

SETS = ("20", "20,21", "19,20,21", "18,20,22", "18,19,20,21,22")


def heights_of(text: str) -> tuple[float, ...]:
    """'19,20,21' -> (20.0, 19.0, 21.0): `lenet5 read`'s height first where it is in the set (its
    first member's reading at offset 0 places the digits)."""
    try:
        heights = check_heights([float(h) for h in text.split(",")])
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return tuple(sorted(heights, key=lambda h: (h != DIGIT_HEIGHT, heights.index(h))))


@torch.no_grad()
def readings_at(model: torch.nn.Module, grey: np.ndarray, height: float) -> torch.Tensor | None:
    """The reader's outputs (T, M STRIDE, 11) for the line brought to `height`: each member at each
    pixel offset, as `lenet5 read` reads it at 20 px; None where there is no ink."""
    line = normalize(grey, height)
    return None if line is None else phase_log_probs(model, as_batch([band(line)])[0])


def read_at(model: torch.nn.Module, grey: np.ndarray, heights: tuple[float, ...],
            known: dict[float, torch.Tensor | None] | None = None) -> tuple[str, float]:
    """The string read from all the heights' readings together and its probability (mean over the
    readings); ('', 0.0) where there is no ink. `known`: readings already made, by height."""
    known = {} if known is None else known
    readings = [known[h] if h in known else readings_at(model, grey, h) for h in heights]
    if any(r is None for r in readings):
        return "", 0.0
    spikes, log_p = read_columns(joined(readings), offsets=STRIDE, placing=readings[0].shape[1])
    return "".join(str(s.digit) for s in spikes), math.exp(log_p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="amounts", help="the reader, an SDNN or a committee (default: amounts)")
    parser.add_argument("--sets", nargs="+", type=heights_of, default=[heights_of(s) for s in SETS],
                        help=f"sets of digit heights in px, the first the baseline (default: {' '.join(SETS)})")
    parser.add_argument("--amounts", type=int, default=5000, help="held-out amounts (default: 5000)")
    parser.add_argument("--seed", type=int, default=99, help="seed of the amounts (default: 99, calibrate-reader's)")
    parser.add_argument("--timed", type=int, default=100, help="amounts read again, set by set, for the time (default: 100)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1)")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    if args.amounts < 2 or args.resamples < 1 or args.timed < 1:
        parser.error("--amounts must be 2 or more, --timed and --resamples 1 or more")
    threads = use_threads(args.threads)
    model, _ = load_reader(args.model)
    model.eval()
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    amounts = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), args.amounts, args.seed)
    heights = sorted({h for s in args.sets for h in s})
    p = np.zeros((len(args.sets), len(amounts)))
    exact = np.zeros((len(args.sets), len(amounts)), dtype=bool)
    for k, (grey, number) in enumerate(amounts):
        known = {h: readings_at(model, grey, h) for h in heights}  # each height read once for every set
        for i, s in enumerate(args.sets):
            read, p[i, k] = read_at(model, grey, s, known)
            exact[i, k] = read == number
    ms = [1000 * float(np.median([timed(model, grey, s) for grey, _ in amounts[: args.timed]])) for s in args.sets]
    print(f"{args.amounts:,} amounts of held-out training digits (seed {args.seed}), {args.model}, "
          f"{threads} thread{'s' if threads > 1 else ''}; the first set is the baseline; time: median of {min(args.timed, len(amounts))} amounts")
    print("| digit heights (px) | exact | kept at 1% | kept at 0.5% | exact - baseline | kept at 1% - baseline | "
          "kept at 0.5% - baseline | ms per amount |\n|---|---|---|---|---|---|---|---|")
    base = (p[0], exact[0])
    for i, s in enumerate(args.sets):
        diff = bootstrap(base, (p[i], exact[i]), args.resamples)
        cells = [f"{100 * d:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f})" for d, lo, hi in
                 (diff["exact"], diff["kept at 1%"], diff["kept at 0.5%"])]
        print(f"| {', '.join(f'{h:g}' for h in s)} | {100 * exact[i].mean():.2f}% | {100 * kept_at(exact[i], p[i], 0.01):.1f}% | "
              f"{100 * kept_at(exact[i], p[i], 0.005):.1f}% | {' | '.join(cells)} | {ms[i]:.1f} |")


def timed(model: torch.nn.Module, grey: np.ndarray, heights: tuple[float, ...]) -> float:
    start = time.perf_counter()
    read_at(model, grey, heights)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
