"""How well `lenet5 read` reads whole amounts written with MNIST *test* digits (never seen in
training: the reader learns from strips of training digits only), and how fast.

The amounts are made by lenet5/data/strips.py with its default style: 3 to 6 digits, a third
of the gaps touching or overlapping, sizes and baseline jittered, the line enlarged 2-5x,
blurred, either polarity, noise, JPEG. Each is written as a JPEG file and read back from the
file, as `lenet5 read` does. Prints exact-string accuracy by length, digit accuracy (1 - edit
distance / length, over all digits) and the time to read one 5-digit amount of 600x200 px.

    python benchmarks/amounts.py [--amounts 1000] [--seed 1234] [--pen PEN] [--model amounts] [--write DIR]
    (PEN: normal, marker, fine pen, scan 10 px, hard shadow, underlined, ruled, in a box, dashed rules, dashed line,
    lined, squared, circled,
    on a desk, askew, in a box, askew: lenet5/conditions/amounts.py's LINE_CONDITIONS)
    python benchmarks/amounts.py --uci   # a stranger's amounts: UCI's digits by 43 other writers (needs the [sklearn] extra)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lenet5.conditions import LINE_CONDITIONS
from lenet5.data.sources import fetch_and_load
from lenet5.data.strips import Style, make_strip
from lenet5.evaluate import calibration_error, rejection_curve
from lenet5.read import load_reader, read_images, read_number
from lenet5.read.trust import BENCHMARK_SEED, amount_files
from lenet5.read.weights import DEFAULT_READER
from lenet5.runtime import DEFAULT_THREADS, use_threads


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def uci_digits() -> tuple[np.ndarray, np.ndarray]:
    """UCI's handwritten digits (scikit-learn's `load_digits`: 1,797 digits by 43 writers, neither
    MNIST's nor made by this project, scanned and averaged to 8x8 in 17 levels) as MNIST lays its
    digits out: enlarged smoothly to a 20 px box, placed by their centre of mass in 28x28, uint8."""
    from sklearn.datasets import load_digits

    uci = load_digits()
    out = np.zeros((len(uci.images), 28, 28), dtype=np.uint8)
    for k, image in enumerate(uci.images):
        big = np.asarray(Image.fromarray((image / 16 * 255).astype(np.float32), mode="F").resize((20, 20), Image.Resampling.BICUBIC))
        big = big.clip(0, 255)
        ys, xs = np.indices(big.shape)
        cy, cx = (ys * big).sum() / big.sum(), (xs * big).sum() / big.sum()
        top, left = (int(np.clip(round(13.5 - c), 0, 8)) for c in (cy, cx))
        out[k, top: top + 20, left: left + 20] = big.round().astype(np.uint8)
    return out, uci.target.astype(np.int64)


def write_amounts(folder: Path, count: int, seed: int, digits, labels, pen: str = "normal") -> dict[str, str]:
    """`count` amounts as JPEG files in `folder` (and labels.csv), written with `pen` (a line
    condition of lenet5/conditions/amounts.py); returns file name -> number."""
    truth = {}
    for k, (data, number) in enumerate(amount_files(digits, labels, count, seed, pen)):
        name = f"amount-{k:05d}.jpg"
        (folder / name).write_bytes(data)
        truth[name] = number
    (folder / "labels.csv").write_text("file,number\n" + "".join(f"{f},{n}\n" for f, n in truth.items()))
    return truth


def timing(model, digits, labels, seed: int, runs: int = 20, reads: int = 5) -> list[list[float]]:
    """Seconds to read a 5-digit amount scaled to 600x200 px, from its PNG file: `reads` reads of
    each of `runs` amounts, after a first (a busy host slows some reads: the best of each shows
    what the code costs)."""
    rng = np.random.default_rng(seed)
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            strip = make_strip(digits, labels, rng, Style(lengths=(5, 5)))
            path = Path(tmp) / f"five-{k}.png"
            Image.fromarray(strip.image).resize((600, 200), Image.Resampling.BICUBIC).save(path)
            read_number(model, path)  # warm
            each = []
            for _ in range(reads):
                start = time.perf_counter()
                read_number(model, path)
                each.append(time.perf_counter() - start)
            seconds.append(each)
    return seconds


def report_confidence(confidences: list[float], exact: list[bool], thresholds: list[float], curve: str | None) -> None:
    """How far the confidence can be trusted: calibration, and what rejecting the least confident buys."""
    confidence, correct = torch.tensor(confidences, dtype=torch.float64), torch.tensor(exact)
    ece, bins = calibration_error(correct, confidence)
    print(f"confidence: expected calibration error {100 * ece:.1f} points (10 bins); per bin: "
          + ", ".join(f"{b['low']:.1f}-{b['high']:.1f}: {b['count']} read, {100 * b['accuracy']:.0f}% exact at {b['confidence']:.2f}"
                      for b in bins))
    rejection = rejection_curve(correct, confidence)
    for target in (0.01, 0.005, 0.001):
        print(f"for {100 * target:g}% errors among the accepted: reject below {rejection.threshold_for(target):.4f}, "
              f"accepting {100 * (1 - rejection.needed_for(target)):.1f}%")
    for t in thresholds:
        kept = confidence >= t
        error = (~correct[kept]).double().mean().item() if kept.any() else 0.0
        print(f"rejecting below {t:g}: accepted {100 * kept.double().mean().item():.1f}%, "
              f"errors among them {100 * error:.2f}% ({int((~correct[kept]).sum())} of {int(kept.sum())})")
    if curve:
        plot_confidence(rejection, bins, Path(curve))


def plot_confidence(rejection, bins: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    rejected, error = rejection.reachable()
    left.plot(100 * rejected.numpy(), 100 * error.numpy())
    for target in (1, 0.5, 0.1):
        left.axhline(target, color="grey", lw=0.5, ls="--")
    left.set(xlabel="amounts rejected %", ylabel="errors among the accepted %", ylim=(0, None), xlim=(0, 50),
             title="rejecting the least confident")
    right.plot([0, 1], [0, 1], color="grey", lw=0.5)
    right.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "-", color="C0", lw=0.8)
    right.scatter([b["confidence"] for b in bins], [b["accuracy"] for b in bins], s=[8 + b["count"] / 2 for b in bins],
                  color="C0", zorder=3)  # area ~ the amounts in the bin: the few below 0.5 say little
    right.set(xlabel="confidence", ylabel="read exactly", title="reliability", xlim=(0, 1), ylim=(0, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=150)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amounts", type=int, default=1000, help="amounts to write and read (default: 1000)")
    parser.add_argument("--seed", type=int, default=BENCHMARK_SEED, help=f"seed of the amounts (default: {BENCHMARK_SEED})")
    parser.add_argument("--pen", default="normal", choices=list(LINE_CONDITIONS),
                        help="the amounts as written with another pen, scanned coarser, half in a hard-edged shadow, on printed rules, in a box, between a form's dashed rules or on its dashed line, across narrow rules or squares, circled, on a desk, photographed askew (in a box or not) (default: normal)")
    parser.add_argument("--model", default=DEFAULT_READER, help=f"reader (default: {DEFAULT_READER})")
    parser.add_argument("--write", default=None, help="keep the images and labels.csv in this folder (default: a temporary one)")
    parser.add_argument("--held-out", action="store_true",
                        help="amounts of the last 10,000 *training* digits (held out from the readers' training), to choose "
                             "settings on (default: test digits)")
    parser.add_argument("--uci", action="store_true",
                        help="amounts of UCI's handwritten digits (43 other writers, scanned at 8x8; scikit-learn's "
                             "load_digits, the [sklearn] extra): a set made neither from MNIST nor by this project")
    parser.add_argument("--thresholds", type=float, nargs="*", default=None,
                        help="confidences below which to reject (chosen on held-out amounts): accepted share and error at "
                             "each (default: those a calibrated reader's file names, from lenet5 calibrate-reader)")
    parser.add_argument("--curve", default=None, help="write the rejection curve and reliability plot to this PNG")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    if args.uci and args.held_out:
        parser.error("--uci and --held-out name two sources of digits: choose one")
    threads = use_threads(DEFAULT_THREADS)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    test, test_labels = ((digits.train_images[-10_000:].numpy(), digits.train_labels[-10_000:].numpy()) if args.held_out
                         else (digits.test_images.numpy(), digits.test_labels.numpy()))
    if args.uci:
        try:
            uci, uci_labels = uci_digits()
        except ImportError:
            parser.error("--uci needs scikit-learn: pip install -e \".[sklearn]\"")
    source = "UCI's" if args.uci else f"MNIST {'held-out training' if args.held_out else 'test'}"
    model, info = load_reader(args.model)
    thresholds = args.thresholds
    if thresholds is None:  # a calibrated reader's own, chosen on its held-out amounts
        thresholds = list(info.get("held_out", {}).get("reject_below", {}).values())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.write or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        truth = write_amounts(folder, args.amounts, args.seed, *((uci, uci_labels) if args.uci else (test, test_labels)),
                              pen=args.pen)
        start = time.perf_counter()
        readings = read_images(model, [folder / name for name in truth])
        wall = time.perf_counter() - start
    by_length, edits, total = defaultdict(list), 0, 0
    for name, r in zip(truth, readings):
        number = truth[name]
        by_length[len(number)].append(r.number == number)
        edits += min(len(number), edit_distance(number, r.number or ""))
        total += len(number)
    print(f"reader {info['source']}, {args.amounts} amounts of {source} digits (seed {args.seed}, pen {args.pen}), {threads} thread, "
          f"{wall / args.amounts * 1000:.1f} ms per image on average")
    print("| digits | amounts | read exactly |\n|---|---|---|")
    for n in sorted(by_length):
        print(f"| {n} | {len(by_length[n])} | {100 * np.mean(by_length[n]):.1f}% |")
    exact = np.mean([ok for oks in by_length.values() for ok in oks])
    print(f"| all | {args.amounts} | {100 * exact:.1f}% |")
    print(f"digit accuracy (1 - edit distance / digits): {100 * (1 - edits / total):.2f}% of {total} digits")
    report_confidence([r.confidence or 0.0 for r in readings], [r.number == truth[n] for n, r in zip(truth, readings)],
                      thresholds, args.curve)
    seconds = timing(model, test, test_labels, args.seed + 1)
    first, best = [each[0] for each in seconds], [min(each) for each in seconds]
    print(f"one 5-digit amount, 600x200 px PNG: median {1000 * statistics.median(first):.1f} ms, "
          f"max {1000 * max(first):.1f} ms over {len(seconds)} amounts (file decode included); the best of "
          f"{len(seconds[0])} reads of each: median {1000 * statistics.median(best):.1f} ms")


if __name__ == "__main__":
    main()
