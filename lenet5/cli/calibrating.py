"""Calibrating confidence: `calibrate-reader` (readers of whole numbers, on held-out or labelled amounts),
`take-member` (one SDNN of a committee) and `calibrate-model` (a digit model's temperature)."""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

from lenet5.cli.common import command_line, output_file
from lenet5.errors import Lenet5Error
from lenet5.flags import add_data_dir, add_threads, at_least
from lenet5.runtime import use_threads


def cmd_calibrate_reader(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch_and_load
    from lenet5.evaluate import wilson_interval
    from lenet5.read.committee import Committee, join
    from lenet5.read.labelled import AmountsDigest, labelled_amounts, labelled_rows
    from lenet5.read.line import DIGIT_HEIGHT, check_heights
    from lenet5.read.sdnn import SDNN
    from lenet5.read.trust import TARGETS, held_out_amounts, measure_trust
    from lenet5.read.weights import RECORD_KEYS, load_reader, save_reader

    if args.labelled is not None and (args.amounts is not None or args.seed is not None):
        raise Lenet5Error("--amounts and --seed write held-out MNIST amounts, --labelled reads your own: give one or the other")
    args.amounts = 2000 if args.amounts is None else args.amounts
    args.seed = 99 if args.seed is None else args.seed
    try:
        asked = None if args.heights is None else check_heights(args.heights)
    except ValueError as e:
        raise Lenet5Error(f"--heights: {e}") from None
    out = output_file(args.out)
    loaded = [load_reader(spec) for spec in args.model]
    try:
        model = join([m for m, _ in loaded])
    except ValueError as e:
        raise Lenet5Error(f"--model: {e}") from None
    if args.heights is not None and not isinstance(model, (SDNN, Committee)):
        raise Lenet5Error("--heights: over-segmentation's recognizer reads at 20 px alone; only SDNNs read at other heights")
    given = {getattr(m, "heights", (DIGIT_HEIGHT,)) for m, _ in loaded}
    if asked is None and len(given) > 1:
        raise Lenet5Error("--model: the readers read at different digit heights (" + "; ".join(", ".join(f"{h:g}" for h in g)
                          for g in sorted(given)) + " px): say which with --heights")
    heights = asked if asked is not None else given.pop()
    if isinstance(model, (SDNN, Committee)):
        model.heights = heights
    threads = use_threads(args.threads)
    if args.labelled is not None:
        rows = labelled_rows(Path(args.labelled))
        print(f"reading the {len(rows):,} labelled amounts of {args.labelled}", flush=True)
        digest = AmountsDigest(Path(args.labelled))
        amounts = labelled_amounts(rows, digest)
        fitted_on = {"amounts": len(rows), "labelled": str(Path(args.labelled).resolve())}
    else:
        digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
        print(f"writing {args.amounts:,} held-out amounts (the last 10,000 training digits, seed {args.seed})", flush=True)
        amounts = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), args.amounts, args.seed)
        fitted_on = {"amounts": args.amounts, "seed": args.seed, "digits": "the last 10,000 MNIST training digits"}
    trust = measure_trust(model, amounts, log=lambda s: print(s, flush=True))
    if args.labelled is not None:
        fitted_on["amounts_sha256"] = digest.hexdigest()  # the files as they were read, each once
    print(f"calibration error (10 bins): {100 * trust.ece_before:.1f} points before, {100 * trust.ece_after:.1f} after "
          f"(Platt a {trust.calibration.a:.3f}, b {trust.calibration.b:.3f}; fitted on these amounts)")
    for t in TARGETS:
        if not trust.kept[t]:
            print(f"for {100 * t:g}% errors among the accepted: no confidence keeps any of these amounts (every one rejected)")
            continue
        low, high = wilson_interval(trust.wrong[t], trust.kept[t])
        print(f"for {100 * t:g}% errors among the accepted: --reject-below {trust.thresholds[t]:.4f}, "
              f"accepting {100 * trust.accepted[t]:.1f}% of these amounts ({trust.wrong[t]} wrong of {trust.kept[t]:,}: "
              f"{100 * low:.2f} to {100 * high:.2f}% errors, 95% interval)")
    if (few := [t for t in TARGETS if trust.amounts * t < 2]):  # fewer than two errors allowed among all of them
        print(f"note: at {', '.join(f'{100 * t:g}%' for t in few)} errors, {trust.amounts:,} amounts allow fewer than two wrong "
              f"among the accepted: those thresholds rest on one error or none (give {math.ceil(2 / min(few)):,} or more)")
    command = command_line("calibrate-reader")
    made_by = [{k: meta.get(k) for k in (*RECORD_KEYS, "members", "members_made_by")}  # a committee's members too: the whole chain
               for _, meta in loaded]
    meta = {"command": command, "threads": threads, "members_made_by": made_by,
            "calibration": {**trust.calibration.as_dict(), "fitted_on": fitted_on},
            "held_out": trust.as_dict(), "held_out_exact": trust.exact,
            **({"heights": list(heights)} if heights != (DIGIT_HEIGHT,) else {})}
    save_reader(model, out, meta)
    print(f"wrote {out}")
    return 0


def cmd_take_member(args: argparse.Namespace) -> int:
    from lenet5.read.weights import load_reader, reader_path, save_reader, take_member

    out = output_file(args.out)
    if out.resolve() == reader_path(args.model).resolve():
        raise Lenet5Error(f"--out {out} is the committee's own file: write the member to another")
    member, meta = take_member(*load_reader(args.model), args.member)
    save_reader(member, out, {**meta, "taken_by": command_line("take-member")})
    made = meta.get("command") or "not recorded in the committee's file"
    print(f"wrote {out}: member {args.member} of {meta['taken_from']['source']} (trained by: {made})")
    return 0


def cmd_calibrate_model(args: argparse.Namespace) -> int:
    from lenet5.calibration import Temperature
    from lenet5.data.sources import fetch_and_load
    from lenet5.evaluate import digit_trust
    from lenet5.pretrained import load_model, save_weights

    out = output_file(args.out)
    twin, info = load_model(args.model)
    train_config = info.get("train_config") or {}
    holdout = int(train_config.get("holdout") or 0)
    if not holdout:
        raise Lenet5Error(f"--model {args.model}: trained on every training digit, none held out to calibrate on "
                          "(train it with --holdout 10000)")
    model, meta = load_model(args.weights) if args.weights else (twin, info)
    if model.config != twin.config:
        raise Lenet5Error(f"--weights {args.weights}: another network than --model's ({model.config} against {twin.config})")
    use_threads(args.threads)
    digits = fetch_and_load(train_config.get("dataset", "mnist"), args.data_dir, log=lambda s: None)
    n = int(train_config.get("train_limit") or 0) or len(digits.train_images)
    images, labels = digits.train_images[n - holdout: n], digits.train_labels[n - holdout: n]  # as lenet5 train held them out
    try:
        trust = digit_trust(twin, twin.prepare(images), labels)
    except ValueError as e:
        raise Lenet5Error(f"--model {args.model}: {e}") from None
    print(f"{holdout:,} held-out digits of {info['source']}: temperature {trust.temperature:.3f}; calibration error "
          f"(10 bins) {100 * trust.ece_before:.2f} points before, {100 * trust.ece_after:.2f} after")
    for t, p in trust.thresholds.items():
        print(f"for {100 * t:g}% errors among the accepted digits: probability {p:.4f}, accepting {100 * trust.accepted[t]:.1f}%")
    command = command_line("calibrate-model")
    kept = {k: v for k, v in meta.items() if k not in ("source", "calibration")}
    kept.setdefault("model_config", dataclasses.asdict(model.config))
    save_weights(model, out, {**kept, "calibration": {**Temperature(trust.temperature).as_dict(), "command": command,
                                                       "fitted_on": f"the last {holdout:,} training digits, held out "
                                                                    f"from {info['source']}",
                                                       "twin": {"seed": info.get("seed"), "train_config": train_config,
                                                                "test_error": info.get("test_error")}}})
    print(f"wrote {out}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    from lenet5.read.weights import DEFAULT_READER

    p = sub.add_parser("calibrate-reader", help="join readers into a committee and calibrate its confidence on held-out amounts")
    p.add_argument("--model", nargs="+", default=[DEFAULT_READER], metavar="READER",
                   help="shipped readers or .safetensors files; several SDNNs read as one committee (default: "
                        f"{DEFAULT_READER})")
    p.add_argument("--amounts", type=at_least(2), default=None,
                   help="held-out amounts (of the last 10,000 training digits) to fit and measure on (default: 2000)")
    p.add_argument("--seed", type=at_least(0), default=None, help="seed of those amounts (default: 99)")
    p.add_argument("--labelled", default=None, metavar="DIR",
                   help="fit and measure on your own amounts instead: a folder of images with labels.csv (header "
                        "'file,number', one row per image), for writers, pens or scanners unlike MNIST's (default: none)")
    p.add_argument("--heights", type=float, nargs="+", default=None, metavar="PX",
                   help="read each line at these digit heights, all readings voting, the first placing the digits "
                        "(benchmarks/digit_heights.py measures them) (default: the readers', 20 px alone for "
                        "readers not calibrated so)")
    p.add_argument("--out", required=True, help="the calibrated reader's weights file to write")
    add_threads(p)
    add_data_dir(p)
    p.set_defaults(func=cmd_calibrate_reader)

    p = sub.add_parser("take-member", help="write one SDNN of a committee to its own file, with the record of how "
                                           "it was trained, uncalibrated and read at 20 px alone (to join it anew "
                                           "with calibrate-reader)")
    p.add_argument("--model", default=DEFAULT_READER, metavar="READER",
                   help=f"a committee: shipped name or .safetensors file (default: {DEFAULT_READER})")
    p.add_argument("--member", type=at_least(1), required=True, help="which member, counted from 1 (as in its file's "
                                                                     "members and members_made_by)")
    p.add_argument("--out", required=True, help="the member's weights file to write")
    p.set_defaults(func=cmd_take_member)

    p = sub.add_parser("calibrate-model", help="fit the temperature of a digit model's probability on held-out digits")
    p.add_argument("--model", required=True,
                   help="a run directory or file trained with --holdout N: its held-out digits fit the temperature")
    p.add_argument("--weights", default=None,
                   help="the model to write with that temperature, trained as --model but on every digit (a shipped name "
                        "or file; default: --model itself)")
    p.add_argument("--out", required=True, help="the weights file to write (.safetensors)")
    add_threads(p)
    add_data_dir(p)
    p.set_defaults(func=cmd_calibrate_model)
