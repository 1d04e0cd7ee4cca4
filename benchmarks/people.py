"""How `lenet5 predict` reads digits written and scanned the ways people do: every condition of
lenet5/conditions/ (marker pens, fine pens, tight crops, coarse scans, a tiny file, a phone
photo, shadows, heavy JPEG, rotation), MNIST *test* digits rendered as PNG files and read back
from the files, with every shipped model; or shadows made other ways, printed lines among the
digits (ruled and graph paper, a form's box, a line to write on), or what lies around the digit
(the page on a scanner's lid or a desk, a grey frame, a flash's glare, a ring drawn around it, a
coloured note on a white table, dust, grainy paper, a digit cut out of a number).

    python benchmarks/people.py [--digits 500] [--photos 50] [--models paper-distort ...] [--figure docs/people.png]
    python benchmarks/people.py --shadows   # shadows made other ways: at any angle, deep, light, soft, curved, a stripe
    python benchmarks/people.py --lines     # ruled and graph paper, a form's box, a line to write on, an underline
    python benchmarks/people.py --around    # a scanner's lid, a desk, a grey frame, glare, circled, boxed, a coloured note, dust, grain, cut from a number
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from lenet5.conditions import AROUND, CONDITIONS, LINES, SHADOWS
from lenet5.data.sources import fetch_and_load
from lenet5.evaluate import calibration_error
from lenet5.predict import predict_images
from lenet5.pretrained import BEST, load_model, shipped
from lenet5.runtime import DEFAULT_THREADS, use_threads


def write_condition(folder: Path, condition, images: np.ndarray, seed: int) -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, digit in enumerate(images):
        path = folder / f"{i:05d}.png"
        condition.draw(digit, rng).save(path)
        paths.append(path)
    return paths


def figure(path: Path, examples: list[tuple[str, Path, object, int]]) -> None:
    """One row per condition: the file, the 28x28 digit the network saw, its answer."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, axes = plt.subplots(2, len(examples), figsize=(1.1 * len(examples), 2.6))
    for k, (name, file, prediction, label) in enumerate(examples):
        axes[0, k].imshow(Image.open(file).convert("L"), cmap="gray", vmin=0, vmax=255)
        axes[0, k].set_title(name, fontsize=6)
        axes[1, k].imshow(prediction.seen.numpy(), cmap="gray", vmin=0, vmax=255)
        mark = "" if prediction.digit == label else f" (is {label})"
        axes[1, k].set_title(f"read {prediction.digit}{mark}", fontsize=6, color="black" if not mark else "red")
        for ax in axes[:, k]:
            ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_ylabel("the file", fontsize=6)
    axes[1, 0].set_ylabel("the network saw", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=150)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, default=500, help="test digits per condition (default: 500)")
    parser.add_argument("--photos", type=int, default=50, help="test digits for the 4000x3000 photo (default: 50)")
    parser.add_argument("--start", type=int, default=0, help="first digit used (default: 0)")
    parser.add_argument("--held-out", action="store_true",
                        help="the last 10,000 *training* digits instead of the test set, to choose settings on (with models "
                             "trained with --holdout 10000; default: test digits)")
    parser.add_argument("--models", nargs="+", default=None, help="models to read with (default: every shipped one)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--shadows", action="store_true",
                       help="shadows made otherwise than the conditions' hard shadow (lenet5/conditions/shadows.py's SHADOWS: any "
                            "angle, deep, light, soft, curved, a stripe, on a tight crop, deep in a noisy photo) instead of the conditions")
    which.add_argument("--lines", action="store_true",
                       help="lines among the digits (lenet5/conditions/lines.py's LINES: ruled and graph paper, a form's box or "
                            "row of boxes, a line to write on, dotted or not, an underline, pages turned) instead of the conditions")
    which.add_argument("--around", action="store_true",
                       help="what lies around the digit (lenet5/conditions/around.py's AROUND: the page on a scanner's lid or a "
                            "desk, a scan's grey frame, a flash's glare, a ring or box drawn by hand, a coloured note on a white table, dust, grainy paper, a digit cut out of a number) instead of the conditions")
    parser.add_argument("--only", nargs="+", default=None, help="conditions to run (default: all)")
    parser.add_argument("--figure", default=None, help="write a figure of one example per condition here")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    threads = use_threads(DEFAULT_THREADS)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    images, labels = ((digits.train_images[-10_000:].numpy(), digits.train_labels[-10_000:].numpy()) if args.held_out
                      else (digits.test_images.numpy(), digits.test_labels.numpy()))
    models = args.models or shipped()
    family = SHADOWS if args.shadows else LINES if args.lines else AROUND if args.around else CONDITIONS
    conditions = [c for c in family if args.only is None or c.name in args.only]
    print(f"MNIST {'held-out training' if args.held_out else 'test'} digits from {args.start}, rendered as PNG files, {threads} thread")
    print("| condition | digits | " + " | ".join(m + (" (default)" if m == BEST else "") for m in models) + " |")
    print("|---|---|" + "---|" * len(models))
    examples, calibration = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k, c in enumerate(conditions):
            n = args.photos if c.name == "photo" else args.digits
            chosen = slice(args.start, args.start + n)
            paths = write_condition(Path(tmp) / str(k), c, images[chosen], seed=family.index(c))  # as in a full run, --only or not
            truth = labels[chosen]
            right = []
            for m in models:
                model, _ = load_model(m)
                read = predict_images(model, paths)
                right.append(np.mean([r.digit == t for r, t in zip(read, truth)]))
                if m == (args.models or [BEST])[0]:
                    examples.append((c.name, paths[0], read[0], int(truth[0])))
                    if getattr(model, "calibration", None) is not None:  # a calibrated model: how far its probability holds here
                        kept = [(r, t) for r, t in zip(read, truth) if r.error is None]
                        ece, _ = calibration_error(torch.tensor([r.digit == t for r, t in kept]),
                                                   torch.tensor([r.probability for r, _ in kept], dtype=torch.float64))
                        calibration.append((c.name, n, np.mean([r.probability for r, _ in kept]), right[-1], ece))
            print(f"| {c.name} ({c.description}) | {n} | " + " | ".join(f"{100 * r:.1f}%" for r in right) + " |", flush=True)
        if args.figure:
            figure(Path(args.figure), examples)
    if calibration:
        print(f"\n{(args.models or [BEST])[0]}'s calibrated probability (fitted on clean held-out digits) under each condition:")
        print("| condition | digits | mean probability | read right | calibration error (10 bins) |\n|---|---|---|---|---|")
        for name, n, p, right, ece in calibration:
            print(f"| {name} | {n} | {100 * p:.1f}% | {100 * right:.1f}% | {100 * ece:.1f} points |")


if __name__ == "__main__":
    main()
