"""Amounts read blind by people, beside a reader: how many of the amounts the reader misses a
person reads, and what share of the benchmark a person would read exactly.

`write` reads the benchmark's test amounts (benchmarks/amounts.py's seed and style, test digits,
from their JPEG files) with the reader, draws a sample of them (the amounts it misses, up to half
the sample, more where too few are read right, and amounts it reads right for the rest), shuffles them and writes them to sheets of
PNG images labelled A001, A002, ..., with a form to fill in (readings.csv: id, reading, sure) and
the key (key.json: each amount's number and the reader's reading). Give the readers the sheets,
the form and instructions.txt, never the key. `score` compares a filled form with the key. The
sample is drawn in two strata (amounts the reader misses and amounts it reads right), so the
estimate of a person's exactness on all the benchmark's amounts weighs each stratum by its size,
with a 95% interval (normal approximation; each stratum's variance from Agresti and Coull's
adjusted share (k + 2) / (n + 4), so that a stratum read all right keeps a width, and finite-
population corrected: where every missed amount is in the sample, that stratum is counted, not
estimated).

    python benchmarks/blind_reading.py write DIR [--amounts 1000] [--sample 200] [--model amounts] [--per-sheet 8]
    python benchmarks/blind_reading.py score DIR/readings.csv [--key DIR/key.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from amount_errors import reading_of
from lenet5.data.sources import fetch_and_load
from lenet5.errors import Lenet5Error
from lenet5.preprocess import decode_image
from lenet5.read.trust import BENCHMARK_SEED, amount_file, amount_strips
from lenet5.read.weights import DEFAULT_READER, load_reader

ROW, WIDTH, LABEL = 110, 820, 84  # px: an amount's height on the sheet, its widest, the label's column
INSTRUCTIONS = """Each sheet shows handwritten amounts, one per row, each labelled on its left (A001, A002, ...).
An amount is a line of 1 to 8 handwritten digits, 0-9 only. Neighbouring digits may touch or
overlap; some lines are blurred or noisy, some light on dark.

Fill in readings.csv: for each id, the digits you read (your best guess, even where unsure) and
"sure" or "unsure" (unsure where a digit could be read otherwise, or the count of digits is in
doubt). Read every amount by eye only, with no software, and without looking at any other file.
Amounts may begin with 0: if you fill the form in a spreadsheet, keep the readings as text, so that
a leading 0 stays.
"""


@dataclass(frozen=True)
class Estimate:
    """A share of all the amounts, estimated from a sample drawn in strata: (value, low, high)."""

    value: float
    low: float
    high: float


def stratified(hits: list[tuple[int, int, int]]) -> Estimate:
    """The share of a population that hits, from strata (population size N, sampled n, hits among
    them k): each stratum's share k / n weighed by N; its variance (1 - n / N) q (1 - q) / n with
    q = (k + 2) / (n + 4), so that a sampled stratum all hit or all missed keeps a width, and a
    stratum read whole (n = N) has none."""
    if any(not 0 <= k <= n <= big or big and not n for big, n, k in hits) or not sum(big for big, _, _ in hits):
        raise ValueError(f"each stratum needs 0 <= hits <= sampled <= size, sampled > 0 where size > 0, and some amounts: {hits}")
    total = sum(big for big, _, _ in hits)
    value = sum(big * k / n for big, n, k in hits if n) / total
    variance = sum((big / total) ** 2 * (1 - n / big) * ((k + 2) / (n + 4)) * (1 - (k + 2) / (n + 4)) / n
                   for big, n, k in hits if n)
    spread = 1.96 * math.sqrt(variance)
    return Estimate(value, max(0.0, value - spread), min(1.0, value + spread))


def sure_errors(strata: list[tuple[int, int, int, int]]) -> tuple[float, float]:
    """From strata (N, sampled n, marked sure s, wrong among those sure e): the estimated share of
    all amounts marked sure and the share of errors among them."""
    total = sum(big for big, _, _, _ in strata)
    sure = sum(big * s / n for big, n, s, _ in strata if n)
    wrong = sum(big * e / n for big, n, _, e in strata if n)
    return sure / total, (wrong / sure if sure else math.nan)


def font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=22)
    except TypeError:  # Pillow before 10.1: one size
        return ImageFont.load_default()


def sheets(images: list[bytes], ids: list[str], per_sheet: int) -> list[Image.Image]:
    """The amounts' files, each scaled to ROW px high (or WIDTH px wide), labelled, per_sheet to a sheet."""
    label_font, out = font(), []
    for start in range(0, len(images), per_sheet):
        page = Image.new("L", (LABEL + WIDTH + 6, per_sheet * (ROW + 14) + 10), 255)
        draw = ImageDraw.Draw(page)
        for row, (data, name) in enumerate(zip(images[start: start + per_sheet], ids[start: start + per_sheet])):
            im = decode_image(data, name)
            im = Image.fromarray((im * 255).round().astype(np.uint8))
            scale = min(ROW / im.height, WIDTH / im.width)
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.LANCZOS)
            y = 10 + row * (ROW + 14)
            draw.text((4, y + ROW // 2 - 12), name, fill=0, font=label_font)
            page.paste(im, (LABEL, y))
            draw.line([(0, y + ROW + 6), (page.width, y + ROW + 6)], fill=180)
        out.append(page)
    return out


def write(args: argparse.Namespace) -> None:
    folder = Path(args.folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        sys.exit(f"error: {folder} is {'not empty' if folder.is_dir() else 'not a folder'}: give a new folder")
    if args.sample < 2 or args.amounts < args.sample or args.per_sheet < 1 or args.seed < 0:
        sys.exit("error: --sample must be 2 or more and at most --amounts; --per-sheet 1 or more; --seed 0 or more")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        sys.exit(f"error: cannot make {folder}: {e.strerror or e}")
    torch.set_num_threads(1)
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    reader, _ = load_reader(args.model)
    files, numbers, readings = [], [], []
    for k, strip in enumerate(amount_strips(digits.test_images.numpy(), digits.test_labels.numpy(), args.amounts, BENCHMARK_SEED)):
        files.append(amount_file(strip))
        numbers.append(strip.number)
        readings.append(reading_of(reader, decode_image(files[-1], f"amount {k}")))
    exact = np.array([r == n for r, n in zip(readings, numbers)])
    rng = np.random.default_rng(args.seed)
    wrong, right = np.flatnonzero(~exact), np.flatnonzero(exact)
    take_wrong = min(len(wrong), max(args.sample // 2, args.sample - len(right)))  # misses fill what the right ones cannot
    pick = np.concatenate([rng.choice(wrong, take_wrong, replace=False), rng.choice(right, min(len(right), args.sample - take_wrong), replace=False)])
    rng.shuffle(pick)
    ids = [f"A{k + 1:03d}" for k in range(len(pick))]
    for k, page in enumerate(sheets([files[i] for i in pick], ids, args.per_sheet)):
        page.save(folder / f"sheet-{k + 1:02d}.png")
    (folder / "readings.csv").write_text("id,reading,sure\n" + "".join(f"{name},,\n" for name in ids))
    (folder / "instructions.txt").write_text(INSTRUCTIONS)
    key = {"model": args.model, "amounts": args.amounts, "seed": BENCHMARK_SEED, "missed": int((~exact).sum()),
           "rows": [{"id": name, "amount": int(i), "number": numbers[i], "reading": readings[i]} for name, i in zip(ids, pick)]}
    (folder / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    print(f"{args.model} reads {100 * exact.mean():.1f}% of {args.amounts:,} test amounts exactly; wrote {len(pick)} of them "
          f"({take_wrong} it misses) to {-(-len(pick) // args.per_sheet)} sheets in {folder}; "
          "give the readers the sheets, readings.csv and instructions.txt, not key.json")


def read_form(path: Path, ids: set[str]) -> dict[str, tuple[str, bool]]:
    """id -> (reading, sure) from a filled readings.csv (a spreadsheet's byte-order mark allowed);
    refuses unknown, repeated or missing ids, readings other than the digits 0-9."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = [(reader.line_num, {(k or "").strip(): v.strip() if isinstance(v, str) else "" for k, v in row.items()})
                    for row in reader]
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        sys.exit(f"error: cannot read {path}: {e}")
    if not {"id", "reading", "sure"} <= {c.strip() for c in columns}:
        sys.exit(f"error: {path} needs the columns id, reading, sure (it has {', '.join(columns) or 'none'})")
    rows = [(line, row) for line, row in rows if any(row.values())]  # not the blank rows a spreadsheet leaves
    if not rows:
        sys.exit(f"error: {path} has no readings, only its header")
    form = {}
    for line, row in rows:
        name, reading, sure = row["id"], row["reading"], row["sure"].lower()
        if name not in ids or name in form:
            sys.exit(f"error: {path}, line {line}: {'unknown' if name not in ids else 'repeated'} id {name!r}")
        if reading and not re.fullmatch("[0-9]+", reading) or sure not in ("sure", "unsure", ""):
            sys.exit(f"error: {path}, line {line}: the reading must be the digits 0-9 and sure 'sure' or 'unsure' (got {reading!r}, {sure!r})")
        form[name] = (reading, sure == "sure")
    if missing := sorted(ids - set(form)):
        sys.exit(f"error: {path} has no line for {len(missing)} id(s), the first {missing[0]}")
    return form


def read_key(path: Path) -> dict:
    """key.json as `write` wrote it, checked: the model, the amounts, the reader's misses among them, and
    the sampled rows (id, number, the reader's reading), no stratum sampled beyond its size."""
    try:
        key = json.loads(path.read_text(encoding="utf-8-sig"))
        rows, amounts, missed, model = key["rows"], key["amounts"], key["missed"], key["model"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as e:
        sys.exit(f"error: cannot read the key {path}: {e}")
    fields = ("id", "number", "reading")
    if not (isinstance(model, str) and isinstance(amounts, int) and isinstance(missed, int) and 0 <= missed <= amounts > 0
            and isinstance(rows, list) and rows
            and all(isinstance(r, dict) and all(isinstance(r.get(f), str) for f in fields) for r in rows)):
        sys.exit(f"error: {path} is not a key written by `blind_reading.py write` (model, amounts > 0, "
                 "0 <= missed <= amounts, rows with id, number and reading)")
    sampled_missed = sum(r["reading"] != r["number"] for r in rows)
    if len({r["id"] for r in rows}) != len(rows) or sampled_missed > missed or len(rows) - sampled_missed > amounts - missed:
        sys.exit(f"error: {path} does not hold together: repeated ids, or more rows of a kind than its amounts "
                 f"({sampled_missed} missed rows of {missed}, {len(rows) - sampled_missed} others of {amounts - missed})")
    if (missed and not sampled_missed) or (amounts - missed and sampled_missed == len(rows)):
        sys.exit(f"error: {path} samples none of one kind of amounts (the reader's misses or the others) that the amounts hold")
    return key


def percent(x: float, places: int = 1) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.{places}f}%"


def score(args: argparse.Namespace) -> None:
    form_path = Path(args.readings)
    key = read_key(Path(args.key) if args.key else form_path.parent / "key.json")
    rows, amounts, missed, model = key["rows"], key["amounts"], key["missed"], key["model"]
    form = read_form(form_path, {row["id"] for row in rows})
    unread = sum(1 for reading, _ in form.values() if not reading)
    print(f"{len(rows)} amounts of {amounts:,} read blind ({unread} left blank, counted wrong); {model} "
          f"misses {missed} of the {amounts:,}")
    hits, sures = [], []
    for stratum, missed_by_reader, size in (("it reads right", False, amounts - missed), ("it misses", True, missed)):
        chosen = [row for row in rows if (row["reading"] != row["number"]) == missed_by_reader]
        right = [form[row["id"]][0] == row["number"] for row in chosen]
        sure = [form[row["id"]][1] for row in chosen]
        wrong_sure = sum(s and not r for r, s in zip(right, sure))
        hits.append((size, len(chosen), sum(right)))
        sures.append((size, len(chosen), sum(sure), wrong_sure))
        as_reader = (sum(form[row["id"]][0] == row["reading"] != "" for row in chosen)  # a blank is no reading
                     if missed_by_reader else None)
        if chosen:
            print(f"  of {len(chosen)} amounts {stratum} (of {size}): read exactly {sum(right)} ({100 * sum(right) / len(chosen):.1f}%), "
                  f"marked sure {sum(sure)}, {wrong_sure} of those wrong"
                  + ("" if as_reader is None else f"; {as_reader} read wrong as {model} reads them"))
    person = stratified(hits)
    either = stratified([(hits[0][0],) * 3, hits[1]])  # the reader reads all of the first stratum: known, not sampled
    share_sure, errors_sure = sure_errors(sures)
    print(f"estimated share of the {amounts:,} read exactly: by the person {percent(person.value)} "
          f"(95% interval {100 * person.low:.1f} to {100 * person.high:.1f}), by {model} {100 * (1 - missed / amounts):.1f}%, "
          f"by one or the other {percent(either.value)} ({100 * either.low:.1f} to {100 * either.high:.1f})")
    print(f"estimated share marked sure: {percent(share_sure)}, with {percent(errors_sure, 2)} errors among them")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("write", help="write sheets of amounts, a form and the key to a new folder")
    w.add_argument("folder", help="a new (or empty) folder")
    w.add_argument("--amounts", type=int, default=1000, help="the benchmark's test amounts to draw from (default: 1000)")
    w.add_argument("--sample", type=int, default=200, help="amounts to read (default: 200; up to half of them ones the reader misses, more where too few are read right)")
    w.add_argument("--model", default=DEFAULT_READER, help=f"reader (default: {DEFAULT_READER})")
    w.add_argument("--per-sheet", type=int, default=8, help="amounts per sheet (default: 8)")
    w.add_argument("--seed", type=int, default=0, help="seed of the sample and its order (default: 0)")
    w.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    s = commands.add_parser("score", help="score a filled form against the key")
    s.add_argument("readings", help="the filled readings.csv")
    s.add_argument("--key", default=None, help="key.json (default: beside the form)")
    args = parser.parse_args(argv)
    try:
        write(args) if args.command == "write" else score(args)
    except Lenet5Error as e:
        sys.exit(f"error: {e}")
    except OSError as e:  # a folder that cannot be read or written, a data folder that is a file
        sys.exit(f"error: {e.filename or ''}: {e.strerror or e}" if e.filename else f"error: {e.strerror or e}")


if __name__ == "__main__":
    main()
