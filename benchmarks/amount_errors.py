"""Where a reader's wrong amounts come from: amounts holding a digit that the single-digit
recognizer misreads even alone, against amounts every digit of which it reads alone.

The benchmark's test amounts (benchmarks/amounts.py's seed and style, test digits) are read as
JPEG files, as `lenet5 read` reads them; the same test digits are classified alone, 32x32 as in
`lenet5 evaluate`. An amount whose every digit is read right alone and which the reader still
misses is lost to the line: touching or overlapping neighbours, the digits' sizes, the scan.
The amounts are also split by how many pairs of neighbours touch (their ink meets, from the
strip maker's pixel owners), to see how much the joins cost: beside each group's exactness, what
it would be were each amount read as often as the amounts of its length whose digits all stand
apart (longer amounts have more neighbours that touch); and by how much of its most covered digit's
strokes a neighbour's strokes cover too (`Strip.covered`), where no image tells whose ink is whose.
`--show` writes a sheet of the first wrong amounts with their numbers and readings, to look at.

`--also READER...` reads the same amounts with other readers too and counts the amounts that every
reader misses: what no choice among them reads (the ceiling of any committee or vote of them), and
with `--show`, the sheet shows those amounts (each with --model's reading), to judge by eye how
many are ambiguous as written.

    python benchmarks/amount_errors.py [--amounts 1000] [--model amounts] [--recognizer paper-pens] [--show errors.png]
                                       [--also READER ...]
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch
from PIL import Image, ImageDraw

from lenet5.data.datasets import load_digits
from lenet5.errors import Lenet5Error
from lenet5.evaluate import predict_all
from lenet5.preprocess import decode_image
from lenet5.pretrained import BEST, load_model
from lenet5.read.reading import read_number
from lenet5.read.trust import BENCHMARK_SEED, amount_file, amount_strips
from lenet5.read.weights import DEFAULT_READER, load_reader

ROW = 64  # px per amount on the sheet
COVERED = ((-1, 0), (0, 0.05), (0.05, 0.15), (0.15, 1))  # groups of amounts by their most covered digit (Strip.covered)


def kind_of_error(number: str, read: str) -> str:
    if len(read) != len(number):
        return "a digit too many or too few"
    wrong = sum(a != b for a, b in zip(number, read))
    return "one digit misread" if wrong == 1 else f"{wrong} digits misread"


def sheet(rows: list[tuple[np.ndarray, str, str]]) -> Image.Image:
    """The amounts (grey [0, 1]), each scaled to ROW px high, with 'number -> reading' beside it."""
    images = [Image.fromarray((grey * 255).astype(np.uint8)) for grey, _, _ in rows]
    images = [im.resize((max(1, im.width * ROW // im.height), ROW)) for im in images]
    width = max(im.width for im in images) + 190
    out = Image.new("L", (width, (ROW + 6) * len(rows)), 255)
    draw = ImageDraw.Draw(out)
    for k, (im, (_, number, read)) in enumerate(zip(images, rows)):
        out.paste(im, (0, k * (ROW + 6)))
        draw.text((im.width + 10, k * (ROW + 6) + ROW // 2 - 6), f"{number} read {read or '(nothing)'}", fill=0)
    return out


def reading_of(reader: torch.nn.Module, grey: np.ndarray) -> str:
    try:
        return read_number(reader, grey).number
    except Lenet5Error:  # no digits found
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amounts", type=int, default=1000, help="test amounts (default: 1000, as benchmarks/amounts.py)")
    parser.add_argument("--seed", type=int, default=BENCHMARK_SEED, help=f"seed of the amounts (default: {BENCHMARK_SEED}, the benchmark's)")
    parser.add_argument("--model", default=DEFAULT_READER, help=f"reader (default: {DEFAULT_READER})")
    parser.add_argument("--recognizer", default=BEST, help=f"single-digit model that reads each digit alone (default: {BEST})")
    parser.add_argument("--show", default=None, metavar="PNG", help="write the first wrong amounts to this sheet")
    parser.add_argument("--show-count", type=int, default=16, help="amounts on the sheet (default: 16)")
    parser.add_argument("--also", nargs="+", default=[], metavar="READER",
                        help="other readers: count the amounts that every reader misses (default: none)")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits = load_digits("mnist", args.data_dir)
    images, labels = digits.test_images.numpy(), digits.test_labels.numpy()
    recognizer, _ = load_model(args.recognizer)
    alone, _ = predict_all(recognizer, recognizer.prepare(digits.test_images))
    misread_alone = alone.numpy() != labels
    reader, _ = load_reader(args.model)
    others = [load_reader(spec)[0] for spec in args.also]
    hard, exact, exact_by_others, wrong_rows, kinds, touching, lengths, covered = [], [], [], [], Counter(), [], [], []
    for k, strip in enumerate(amount_strips(images, labels, args.amounts, args.seed)):
        grey = decode_image(amount_file(strip), f"amount {k}")
        read = reading_of(reader, grey)
        hard.append(bool(misread_alone[strip.picks].any()))
        touching.append(sum(strip.touching()))
        covered.append(float(strip.covered.max()))
        lengths.append(len(strip.number))
        exact.append(read == strip.number)
        exact_by_others.append([reading_of(other, grey) == strip.number for other in others])
        missed_by_all = not exact[-1] and not any(exact_by_others[-1])
        if not exact[-1]:
            kinds[kind_of_error(strip.number, read)] += 1
            if len(wrong_rows) < args.show_count and (missed_by_all or not others):
                wrong_rows.append((grey, strip.number, read))
    hard, exact = np.array(hard), np.array(exact)
    print(f"{args.model} on {len(exact):,} test amounts (seed {args.seed}): {100 * exact.mean():.1f}% read exactly, "
          f"{(~exact).sum()} wrong; {args.recognizer} misreads {100 * misread_alone.mean():.2f}% of the test digits alone")
    for name, rows in (("holding a digit misread alone", hard), ("every digit read right alone", ~hard)):
        if rows.any():
            print(f"  amounts {name}: {rows.sum():4d}, read exactly {100 * exact[rows].mean():5.1f}%, "
                  f"{(~exact[rows]).sum()} of the wrong ones")
    touching, lengths = np.minimum(touching, 3), np.array(lengths)
    apart = {n: exact[(touching == 0) & (lengths == n)].mean() for n in np.unique(lengths[touching == 0])}
    for k in range(4):
        rows = touching == k
        if rows.any():
            like_apart = (f"{100 * np.mean([apart[n] for n in lengths[rows]]):.1f}%" if all(n in apart for n in lengths[rows])
                          else "n/a")
            print(f"  with {k}{'' if k < 3 else ' or more'} pair{'' if k == 1 else 's'} of neighbours touching: {rows.sum():4d}, "
                  f"read exactly {100 * exact[rows].mean():5.1f}%, {(~exact[rows]).sum()} of the wrong ones; {lengths[rows].mean():.2f} "
                  f"digits on average, {like_apart} exact if read as the amounts of their lengths with none touching are")
    covered = np.array(covered)
    for low, high in COVERED:
        rows = (covered > low) & (covered <= high) if low >= 0 else covered == 0
        if rows.any():
            shown = "none" if low < 0 else f"{100 * low:g}-{100 * high:g}%" if high < 1 else f"over {100 * low:g}%"
            print(f"  the most covered digit's strokes under a neighbour's, {shown}: {rows.sum():4d}, read exactly "
                  f"{100 * exact[rows].mean():5.1f}%, {(~exact[rows]).sum()} of the wrong ones")
    print("  the wrong amounts: " + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()))
    if others:
        by_others = np.array(exact_by_others).reshape(len(exact), len(others))
        for spec, right in zip(args.also, by_others.T):
            print(f"{spec}: {100 * right.mean():.1f}% read exactly")
        everyone = np.concatenate([exact[:, None], by_others], axis=1)
        missed = ~everyone.any(axis=1)
        print(f"missed by every one of the {everyone.shape[1]} readers: {missed.sum()} amounts ({100 * missed.mean():.1f}%; "
              f"{missed[hard].sum()} holding a digit misread alone); read exactly by at least one: "
              f"{100 * (1 - missed.mean()):.1f}%")
        for k in range(everyone.shape[1] + 1):
            print(f"  read exactly by {k} of the readers: {(everyone.sum(axis=1) == k).sum()} amounts")
    if args.show and wrong_rows:
        sheet(wrong_rows).save(args.show)
        which = "amounts every reader misses" if others else "wrong amounts"
        print(f"wrote the first {len(wrong_rows)} {which} to {args.show}")
    elif args.show:
        print(f"no amount to show: {args.show} not written")


if __name__ == "__main__":
    main()
