"""Reading people's digits and numbers: `predict` and `read` (training readers: fitting.py; calibrating them: calibrating.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lenet5.errors import Lenet5Error
from lenet5.flags import non_negative, probability, probability_or_target


def cmd_predict(args: argparse.Namespace) -> int:
    import torch

    from lenet5.plots import plot_predictions
    from lenet5.predict import predict_images
    from lenet5.pretrained import load_model
    from lenet5.preprocess import load_image, taken_out_said

    model, info = load_model(args.model)
    if args.reject_below is not None and getattr(model, "calibration", None) is None:
        raise Lenet5Error(f"--reject-below: {info['source']} has no calibrated probability (make one with lenet5 "
                          "calibrate-model), reject by the paper's score with --reject-below-margin")
    error = info.get("test_error")
    print(f"lenet5: reading with {info['source']}" + (f" (MNIST test error {100 * error:.2f}%)" if error is not None else ""),
          file=sys.stderr)
    results = predict_images(model, args.images)
    doubtful = (None if args.reject_below is None and args.reject_below_margin is None else
                (lambda r: r.probability < args.reject_below) if args.reject_below is not None else
                (lambda r: r.confidence < args.reject_below_margin))
    good = print_per_file(results, args.json, lambda r: f"{r.digit} (confidence {r.confidence:.2f}"
                          + ("" if r.probability is None else f", probability {r.probability:.3f}") + taken_out_said(r.taken_out) + ")",
                          doubtful)
    if args.show and good:
        items = [(r.file, load_image(r.file), model.prepare(r.seen[None])[0, 0], torch.tensor(r.scores), r.digit, r.taken_out)
                 for r in good]
        plot_predictions(items, Path(args.show), smaller_wins=model.config.head == "rbf")
        print(f"wrote {args.show}", file=sys.stderr)
    return exit_status(results, good)


def print_per_file(results: list, as_json: bool, answer, doubtful=None) -> list:
    """One line, or one JSON object, per image; returns the results that have no error. With
    `doubtful` (a reading -> bool), the doubtful readings are marked rejected (for a person to read)."""
    for r in results:
        rejected = doubtful is not None and r.error is None and doubtful(r)
        if as_json:
            print(json.dumps({**r.as_dict(), **({"rejected": rejected} if doubtful is not None and r.error is None else {})}))
        elif r.error:
            print(f"{r.file}: error: {r.error}")
        else:
            print(f"{r.file}: {'rejected: ' if rejected else ''}{answer(r)}")
    return [r for r in results if r.error is None]


def exit_status(results: list, good: list) -> int:
    """1 (and a line on stderr) when some images could not be read, else 0."""
    failed = len(results) - len(good)
    if failed:
        print(f"lenet5: {failed} of {len(results)} images could not be read", file=sys.stderr)
    return 1 if failed else 0


def cmd_read(args: argparse.Namespace) -> int:
    from lenet5.plots import plot_readings
    from lenet5.preprocess import load_image, taken_out_said
    from lenet5.read import load_reader, read_images
    from lenet5.read.trust import named_threshold

    model, info = load_reader(args.model)
    below = args.reject_below
    if isinstance(below, str):  # an error target: the threshold the reader's calibration chose for it
        try:
            below = named_threshold(info, below, info["source"])
        except Lenet5Error as e:
            raise Lenet5Error(f"--reject-below {args.reject_below}: {e}") from None
        print(f"lenet5: rejecting below {below:.4f}, {args.reject_below} errors among the accepted amounts where "
              f"{info['source']} was calibrated", file=sys.stderr)
    print(f"lenet5: reading with {info['source']}", file=sys.stderr)
    results = read_images(model, args.images)
    doubtful = None if below is None else (lambda r: r.confidence < below)
    good = print_per_file(results, args.json, lambda r: f"{r.number} (confidence {r.confidence:.2f}{taken_out_said(r.taken_out)})", doubtful)
    if args.show and good:
        plot_readings([(Path(r.file).name, load_image(r.file), r) for r in good], Path(args.show))
        print(f"wrote {args.show}", file=sys.stderr)
    return exit_status(results, good)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    from lenet5.pretrained import BEST
    from lenet5.read.weights import DEFAULT_READER

    p = sub.add_parser("predict", help="read digits from image files or folders")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, BMP, TIFF, GIF) or folders of them; - reads one from standard input")
    p.add_argument("--model", default=BEST, help=f"shipped model name, checkpoint or run directory (default: {BEST}, the best shipped reader)")
    p.add_argument("--json", action="store_true", help="one JSON object per image (default: one line of text)")
    p.add_argument("--show", default=None, help="also write a PNG of each input, what the network saw and its scores (default: none)")
    reject = p.add_mutually_exclusive_group()
    reject.add_argument("--reject-below", type=probability, default=None, metavar="P",
                        help="mark readings whose calibrated probability is below P as rejected (a model whose file "
                             "carries a calibration, as the shipped paper-pens does); docs/reading.md gives P for 0.5%% and "
                             "0.1%% error (default: none)")
    reject.add_argument("--reject-below-margin", type=non_negative, default=None, metavar="MARGIN",
                        help="the same by the margin between the best two scores, the paper's rejection score, for any "
                             "model (default: none)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("read", help="read whole numbers: one line of handwritten digits per image")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, BMP, TIFF, GIF) or folders of them; - reads one from standard input")
    p.add_argument("--model", default=DEFAULT_READER,
                   help=f"shipped reader (amounts: the SDNN; amounts-hos: over-segmentation) or .safetensors file from "
                        f"lenet5 train-reader (default: {DEFAULT_READER})")
    p.add_argument("--json", action="store_true", help="one JSON object per image (default: one line of text)")
    p.add_argument("--show", default=None, help="also write a PNG of each image with the digits read boxed (default: none)")
    p.add_argument("--reject-below", type=probability_or_target, default=None, metavar="P|E%",
                   help="mark readings whose confidence (the probability of the string read) is below P as rejected, "
                        "for a person to read; or E%% (1%%, 0.5%% or 0.1%%): the threshold the reader's calibration chose "
                        "for E%% errors among the rest (default: none)")
    p.set_defaults(func=cmd_read)
