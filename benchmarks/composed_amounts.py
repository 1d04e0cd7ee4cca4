"""`lenet5 read` on amounts composed otherwise than the readers' strips: a stranger's test.

lenet5/data/strips.py makes both the readers' training strips and benchmarks/amounts.py's test
amounts, so the benchmark shares the strips' assumptions. Here MNIST digits are laid side by side
by other code: each cut to its inked columns (its rows kept), set 2-8 px apart at MNIST's scale
(or as the condition says), enlarged 3x (bicubic), blurred a little, dark on light, and then
turned, spaced, sized, photographed as the condition says:

    plain      3-6 digits, 2-8 px apart
    touching   -3 to 1 px apart (digits that meet and overlap)
    wide       10-24 px apart
    tiltD      plain, photographed turned D degrees either way (tilt5 ... tilt40)
    sizes      each digit 0.75-1.25x, standing on one baseline
    long       7-8 digits; short: 1-2 digits
    small      enlarged 0.8x (digits about 16 px high)
    photo      enlarged 7x in a larger picture, light falling off by about 30% across it, noise, JPEG q70
    dim        photographed in a dim room: the page lit at 0.3-0.5 of full light, noise
    chalk      light ink on a grey board; pencil: faint grey ink on light grey paper, noise
    jpeg       enlarged 2x, JPEG q25
    cells      each digit in its own cell of a form: printed walls between them, a rule above and below
    comb       each digit over its place on a comb: a printed line below, ticks a third of a cell high between
    squares    on squared paper: 1 px lines every 10 px (half a digit's height), dark as the ink's 0.8
    lined      on narrow ruled paper: 1 px rules every 12 px, dark as the ink's 0.8 (two cross each digit)
    photo-squares, photo-lined
               squares or lined, enlarged 3x and photographed as `photo` is (light falling, noise, JPEG q70;
               at 3x rather than 7x, and without its margin)
    photo-squares-near
               squares photographed closer: enlarged 4-7x (drawn for each amount), then as photo-squares
    photo-squares-edge
               photo-squares cropped along a line: a rule on the picture's first or last row
    dim-photo  plain, photographed as `photo` is (at 3x, without its margin) in a dim room: the page
               lit at 0.45-0.65 of full light before the light falls off across it
    squares-turned
               squares, photographed turned 3-10 degrees either way (drawn for each amount)
    dim-photo-squares, dim-photo-lined-edge
               squares, or lined cropped along a rule, photographed in a dim room as dim-photo is
    pencil-lined
               lined, in pencil on light grey paper as pencil is

Prints, per condition: the share read exactly, the share kept at the reader's threshold for 0.5%
errors (chosen on its held-out amounts) and the errors among those, images with no digits found,
and the median time to read one amount (from the grey picture, no file).

    python benchmarks/composed_amounts.py [--amounts 200] [--held-out] [--model amounts] [CONDITION ...]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image
from scipy import ndimage

from lenet5.data.sources import fetch_and_load
from lenet5.errors import Lenet5Error
from lenet5.read import load_reader, read_number
from lenet5.read.weights import DEFAULT_READER
from lenet5.runtime import use_threads

CONDITIONS = ("plain", "touching", "wide", "tilt5", "tilt10", "tilt15", "tilt20", "tilt25", "tilt30", "tilt40",
              "sizes", "long", "short", "small", "photo", "dim", "chalk", "pencil", "jpeg", "cells", "comb",
              "squares", "lined", "photo-squares", "photo-lined", "photo-squares-near",
              "photo-squares-edge", "dim-photo", "squares-turned", "dim-photo-squares", "dim-photo-lined-edge",
              "pencil-lined", "slanted", "wobbly")
CELL = 34  # px at MNIST's scale: a form's cell, each holding one digit's 28 px field (`in_cells`)


def compose(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator, length: int,
            gap: tuple[int, int] = (2, 8), size: tuple[float, float] = (1.0, 1.0), wobble: int = 0) -> tuple[str, np.ndarray]:
    """`length` random digits side by side: (their number, ink [0, 1] on 0, float32); with `wobble`, each
    digit moved up or down by up to that many px (a line written without a rule to keep to)."""
    chosen = rng.integers(0, len(digits), length)
    pieces = []
    for i in chosen:
        image = digits[i]
        scale = rng.uniform(*size)
        if scale != 1.0:
            image = np.asarray(Image.fromarray(image).resize((round(28 * scale), round(28 * scale)), Image.Resampling.BILINEAR))
        columns = np.nonzero(image.max(axis=0) > 40)[0]
        pieces.append(image[:, columns.min(): columns.max() + 1])
    height = max(p.shape[0] for p in pieces) + 16 + 2 * wobble
    gaps = [int(rng.integers(gap[0], gap[1] + 1)) for _ in pieces[1:]] + [0]
    ink = np.zeros((height, sum(p.shape[1] for p in pieces) + sum(gaps) + 24), np.float32)
    x = 12
    for piece, after in zip(pieces, gaps):
        y = height - 8 - wobble - piece.shape[0] if size != (1.0, 1.0) else 8 + wobble  # sized digits stand on one baseline
        if wobble:
            y += int(rng.integers(-wobble, wobble + 1))
        region = ink[y: y + piece.shape[0], x: x + piece.shape[1]]
        np.maximum(region, piece / 255, out=region)
        x += piece.shape[1] + after
    return "".join(str(labels[i]) for i in chosen), ink


def in_cells(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator, length: int,
             comb: bool = False) -> tuple[str, np.ndarray]:
    """`length` random digits, each in its own CELL px cell of a printed form (walls and rules 1 px,
    as dark as the ink), or over its place on a comb (a line below, ticks a third of a cell high
    between the places): (their number, ink [0, 1] on 0, float32)."""
    chosen = rng.integers(0, len(digits), length)
    ink = np.zeros((CELL + 10, length * CELL + 2), np.float32)
    for k, i in enumerate(chosen):
        ink[8:36, k * CELL + 3: k * CELL + 31] = digits[i] / 255
    ink[39, : length * CELL + 1] = 1.0
    if comb:
        ink[39 - CELL // 3: 40, np.arange(length + 1) * CELL] = 1.0
    else:
        ink[4, : length * CELL + 1] = 1.0
        ink[4:40, np.arange(length + 1) * CELL] = 1.0
    return "".join(str(labels[i]) for i in chosen), ink


def ruled(ink: np.ndarray, rng: np.random.Generator, spacing: int, columns: bool, edge: bool = False) -> np.ndarray:
    """The ink on paper ruled every `spacing` px (and squared, with `columns`): 1 px lines at a random
    offset, 0.8 of the ink's darkness, none within 2 px of the picture's edge (a crop seldom runs along
    a line), or, with `edge`, a rule on the first or the last row (cropped along it)."""
    out = ink.copy()
    for axis in (0, 1) if columns else (0,):
        size = ink.shape[axis]
        first = int(rng.integers(0, spacing))
        cropped_along = edge and axis == 0
        if cropped_along:
            first = 0 if rng.random() < 0.5 else (size - 1) % spacing
        at = np.arange(first, size, spacing)
        kept = (at >= 2) & (at <= size - 3)
        if cropped_along:
            kept |= (at == 0) | (at == size - 1)
        at = at[kept]
        lines = out[at, :] if axis == 0 else out[:, at]
        lines = np.maximum(lines, 0.8)
        if axis == 0:
            out[at, :] = lines
        else:
            out[:, at] = lines
    return out


def on_paper(ink: np.ndarray, scale: float, blur: float = 0.6) -> np.ndarray:
    """The ink enlarged `scale` times (bicubic) and blurred, as dark ink on white paper [0, 1]."""
    h, w = ink.shape
    big = np.asarray(Image.fromarray(ink, mode="F").resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC))
    return (1 - ndimage.gaussian_filter(big, blur * scale / 3).clip(0, 1)).astype(np.float32)


def photographed(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grey paper [0, 1] as a phone photographs it: less contrast, light falling off by about 30% across
    it (40% to the far corner), the sensor's noise, JPEG q70."""
    ys, xs = np.mgrid[: grey.shape[0], : grey.shape[1]]
    light = 0.85 - 0.25 * xs / grey.shape[1] - 0.1 * ys / grey.shape[0]
    return jpeg(((grey * 0.75 + 0.1) * light + rng.normal(0, 0.03, grey.shape)).clip(0, 1).astype(np.float32), 70)


def jpeg(grey: np.ndarray, quality: int) -> np.ndarray:
    data = io.BytesIO()
    Image.fromarray(np.round(grey * 255).clip(0, 255).astype(np.uint8)).save(data, "JPEG", quality=quality)
    return np.asarray(Image.open(data), dtype=np.float32) / 255


def slanted(ink: np.ndarray, lean: float) -> np.ndarray:
    """The ink sheared to lean `lean` px per px to the right (left where negative), widened to hold it."""
    h, w = ink.shape
    wide = np.pad(ink, ((0, 0), (int(np.ceil(abs(lean) * h / 2)),) * 2))
    # PIL's affine map takes each output pixel (x, y) from the input's (x + lean (y - h / 2), y): the top goes right
    return np.asarray(Image.fromarray(wide, mode="F").transform(wide.shape[::-1], Image.Transform.AFFINE,
                                                                (1, lean, -lean * h / 2, 0, 1, 0), Image.Resampling.BILINEAR))


def turned(grey: np.ndarray, degrees: float) -> np.ndarray:
    return np.asarray(Image.fromarray(grey, mode="F").rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=1.0)).clip(0, 1)


def amount(condition: str, digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """One amount in `condition`: (its number, grey [0, 1] float32)."""
    length = int(rng.integers(3, 7))
    if condition == "plain":
        number, ink = compose(digits, labels, rng, length)
        grey = on_paper(ink, 3)
    elif condition == "touching":
        number, ink = compose(digits, labels, rng, length, gap=(-3, 1))
        grey = on_paper(ink, 3)
    elif condition == "wide":
        number, ink = compose(digits, labels, rng, length, gap=(10, 24))
        grey = on_paper(ink, 3)
    elif condition.startswith("tilt"):
        number, ink = compose(digits, labels, rng, length)
        grey = turned(on_paper(ink, 3), float(condition[4:]) * rng.choice([-1, 1]))
    elif condition == "sizes":
        number, ink = compose(digits, labels, rng, length, size=(0.75, 1.25))
        grey = on_paper(ink, 3)
    elif condition in ("long", "short"):
        number, ink = compose(digits, labels, rng, int(rng.integers(7, 9) if condition == "long" else rng.integers(1, 3)))
        grey = on_paper(ink, 3)
    elif condition == "small":
        number, ink = compose(digits, labels, rng, length)
        grey = on_paper(ink, 0.8, blur=0.3)
    elif condition == "photo":
        number, ink = compose(digits, labels, rng, length)
        grey = on_paper(ink, 7)
        h, w = grey.shape
        grey = photographed(np.pad(grey, ((h, h), (w // 3, w // 3)), constant_values=1.0), rng)
    elif condition == "dim":
        number, ink = compose(digits, labels, rng, length)
        grey = on_paper(ink, 3) * rng.uniform(0.3, 0.5)
        grey += rng.normal(0, 0.015, grey.shape)
    elif condition == "chalk":
        number, ink = compose(digits, labels, rng, length)
        paper = on_paper(ink, 3)
        grey = 0.2 + 0.6 * (1 - paper) + rng.normal(0, 0.02, paper.shape)
    elif condition == "pencil":
        number, ink = compose(digits, labels, rng, length)
        paper = on_paper(ink, 3)
        grey = 0.92 - 0.45 * (1 - paper) + rng.normal(0, 0.025, paper.shape)
    elif condition in ("cells", "comb"):
        number, ink = in_cells(digits, labels, rng, length, comb=condition == "comb")
        grey = on_paper(ink, 3)
    elif condition == "dim-photo":
        number, ink = compose(digits, labels, rng, length)
        grey = photographed(on_paper(ink, 3) * rng.uniform(0.45, 0.65), rng)
    elif condition in ("squares", "lined", "photo-squares", "photo-lined", "photo-squares-near", "photo-squares-edge",
                       "squares-turned", "dim-photo-squares", "dim-photo-lined-edge", "pencil-lined"):
        number, ink = compose(digits, labels, rng, length)
        squares = "squares" in condition
        grey = on_paper(ruled(ink, rng, 10 if squares else 12, columns=squares, edge=condition.endswith("edge")),
                        float(rng.uniform(4, 7)) if condition.endswith("near") else 3)
        if condition.startswith("dim"):
            grey = grey * rng.uniform(0.45, 0.65)
        if condition.startswith(("photo", "dim-photo")):
            grey = photographed(grey, rng)
        if condition.endswith("turned"):
            grey = turned(grey, float(rng.uniform(3, 10)) * rng.choice([-1, 1]))
        if condition.startswith("pencil"):
            grey = 0.92 - 0.45 * (1 - grey) + rng.normal(0, 0.025, grey.shape)
    elif condition == "slanted":  # one writer's slant on every digit: 14-24 degrees either way
        number, ink = compose(digits, labels, rng, length)
        grey = on_paper(slanted(ink, float(rng.uniform(0.25, 0.45) * rng.choice([-1, 1]))), 3)
    elif condition == "wobbly":  # no rule to keep to: each digit up or down by up to 5 px, sizes 0.8-1.15
        number, ink = compose(digits, labels, rng, length, size=(0.8, 1.15), wobble=5)
        grey = on_paper(ink, 3)
    elif condition == "jpeg":
        number, ink = compose(digits, labels, rng, length)
        grey = jpeg(on_paper(ink, 2), 25)
    else:
        raise ValueError(f"no condition {condition!r}: one of {', '.join(CONDITIONS)}")
    return number, np.asarray(grey, np.float32).clip(0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conditions", nargs="*", default=list(CONDITIONS), help=f"which (default: all): {', '.join(CONDITIONS)}")
    parser.add_argument("--amounts", type=int, default=200, help="amounts per condition (default: 200)")
    parser.add_argument("--held-out", action="store_true", help="the last 10,000 training digits instead of the test digits")
    parser.add_argument("--seed", type=int, default=0, help="added to each condition's own seed (default: 0)")
    parser.add_argument("--model", default=DEFAULT_READER, help=f"reader (default: {DEFAULT_READER})")
    parser.add_argument("--data-dir", default=None, help="where MNIST lives (default: lenet5's)")
    args = parser.parse_args()
    unknown = [c for c in args.conditions if c not in CONDITIONS]
    if unknown:
        parser.error(f"no condition {unknown[0]!r}: one of {', '.join(CONDITIONS)}")
    if args.amounts < 1:
        parser.error("--amounts must be at least 1")
    threads = use_threads(1)
    data = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    digits, labels = ((data.train_images[-10_000:], data.train_labels[-10_000:]) if args.held_out
                      else (data.test_images, data.test_labels))
    digits, labels = digits.numpy(), labels.numpy()  # uint8 (N, 28, 28)
    model, info = load_reader(args.model)
    threshold = info.get("held_out", {}).get("reject_below", {}).get("0.5%")
    print(f"reader {info['source']}, {args.amounts} amounts a condition of MNIST {'held-out training' if args.held_out else 'test'} "
          f"digits, {threads} thread" + (f", kept: confidence >= {threshold:.3f} (0.5% errors on its held-out amounts)" if threshold else ""))
    print("| condition | read exactly | kept | errors among the kept | no digits found | median ms |")
    print("|---|---|---|---|---|---|")
    for condition in args.conditions:
        rng = np.random.default_rng(args.seed + sum(map(ord, condition)))
        right = kept = kept_wrong = blank = 0
        times = []
        for _ in range(args.amounts):
            number, grey = amount(condition, digits, labels, rng)
            start = time.perf_counter()
            try:
                reading = read_number(model, grey)
                read, confidence = reading.number, reading.confidence
            except Lenet5Error:
                read, confidence, blank = None, 0.0, blank + 1
            times.append(time.perf_counter() - start)
            right += read == number
            if threshold is not None and confidence >= threshold:
                kept += 1
                kept_wrong += read != number
        keeping = (f"{100 * kept / args.amounts:.1f}% | {100 * kept_wrong / max(kept, 1):.2f}%" if threshold is not None
                   else "- | -")
        print(f"| {condition} | {100 * right / args.amounts:.1f}% | {keeping} | {blank} | {1000 * statistics.median(times):.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
