"""Two readers of whole numbers on the same amounts, amount by amount: how many more each reads
exactly, and how many more it keeps at 1%, 0.5% and 0.1% errors among the kept, with paired
bootstrap 95% intervals of the differences (the same amounts resampled for both readers).

The share kept at a target is measured with each reader's threshold chosen on these amounts, so it
says how well the reader ranks its own readings (what a threshold chosen on other amounts can at
best keep), not how a threshold carries over. By default the amounts are `lenet5 calibrate-reader`'s
held-out ones (the last 10,000 training digits, seed 99), where readers are chosen; `--test` writes
them with MNIST test digits, as benchmarks/amounts.py does. Each reader's probabilities and
exactness can be kept in a folder (`--cache`), keyed by the reader file's bytes and the amounts.

    python benchmarks/paired_readers.py --model A B [--amounts 5000] [--seed 99] [--test] [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import torch

from lenet5.data.sources import fetch_and_load
from lenet5.evaluate import rejection_curve
from lenet5.preprocess import decode_image
from lenet5.read.trust import TARGETS, amount_files, held_out_amounts, probabilities
from lenet5.read.weights import load_reader, reader_path
from lenet5.runtime import use_threads


def kept_at(exact: np.ndarray, p: np.ndarray, target: float) -> float:
    """The largest share of the amounts, most probable first, among which at most `target` are wrong."""
    return 1 - rejection_curve(torch.from_numpy(exact), torch.from_numpy(p)).needed_for(target)


def bootstrap(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], resamples: int,
              seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """B - A for the share exact and the share kept at each of TARGETS: (on all the amounts, 2.5th, 97.5th
    percentile over `resamples` paired resamples)."""
    (pa, ea), (pb, eb) = a, b
    n = len(ea)

    def measures(idx: np.ndarray) -> np.ndarray:
        return np.array([eb[idx].mean() - ea[idx].mean(),
                         *(kept_at(eb[idx], pb[idx], t) - kept_at(ea[idx], pa[idx], t) for t in TARGETS)])

    whole = measures(np.arange(n))
    rng = np.random.default_rng(seed)
    drawn = np.array([measures(rng.integers(0, n, n)) for _ in range(resamples)])
    low, high = np.percentile(drawn, [2.5, 97.5], axis=0)
    names = ["exact", *(f"kept at {100 * t:g}%" for t in TARGETS)]
    return {name: (float(w), float(lo), float(hi)) for name, w, lo, hi in zip(names, whole, low, high)}


def scores(spec: str, amounts: list[tuple[np.ndarray, str]], key: str, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The reader's uncalibrated probability (N,) and exactness (N,) on `amounts`, kept in `cache`."""
    digest = hashlib.sha256(reader_path(spec).read_bytes()).hexdigest()[:16]
    kept = None if cache is None else cache / f"{digest}-{key}.npz"
    if kept is not None and kept.exists():
        with np.load(kept) as f:
            return f["p"], f["exact"]
    model, _ = load_reader(spec)
    p, exact = (t.numpy() for t in probabilities(model, amounts))
    if kept is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(kept, p=p, exact=exact)
    return p, exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs=2, required=True, metavar=("A", "B"), help="the two readers (shipped names or files)")
    parser.add_argument("--amounts", type=int, default=5000, help="amounts (default: 5000)")
    parser.add_argument("--seed", type=int, default=99, help="seed of the amounts (default: 99, calibrate-reader's)")
    parser.add_argument("--test", action="store_true", help="write the amounts with MNIST test digits (default: held-out training digits)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    parser.add_argument("--cache", default=None, help="keep each reader's probabilities here (default: none)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1)")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    if args.amounts < 2 or args.resamples < 1:
        parser.error("--amounts must be 2 or more and --resamples 1 or more")
    threads = use_threads(args.threads)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    if args.test:
        made = amount_files(digits.test_images.numpy(), digits.test_labels.numpy(), args.amounts, args.seed)
        amounts = [(decode_image(data, f"amount {k}"), number) for k, (data, number) in enumerate(made)]
    else:
        amounts = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), args.amounts, args.seed)
    key = f"{'test' if args.test else 'held-out'}-{args.amounts}-{args.seed}"
    cache = None if args.cache is None else Path(args.cache)
    a, b = (scores(spec, amounts, key, cache) for spec in args.model)
    print(f"{args.amounts:,} amounts of {'MNIST test' if args.test else 'held-out training'} digits (seed {args.seed}), "
          f"{threads} thread{'s' if threads > 1 else ''}; A {args.model[0]}, B {args.model[1]}")
    print("| measure | A | B | B - A | 95% interval (paired bootstrap, "
          f"{args.resamples:,} resamples) |\n|---|---|---|---|---|")
    alone = {"exact": (a[1].mean(), b[1].mean()),
             **{f"kept at {100 * t:g}%": (kept_at(a[1], a[0], t), kept_at(b[1], b[0], t)) for t in TARGETS}}
    for name, (diff, low, high) in bootstrap(a, b, args.resamples).items():
        print(f"| {name} | {100 * alone[name][0]:.1f}% | {100 * alone[name][1]:.1f}% | {100 * diff:+.1f} points | "
              f"{100 * low:+.1f} to {100 * high:+.1f} |")


if __name__ == "__main__":
    main()
