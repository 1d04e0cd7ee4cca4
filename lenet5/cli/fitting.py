"""Fitting readers and their confidence: `train-reader`, `calibrate-reader` (readers of whole numbers) and
`calibrate-model` (a digit model's temperature)."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import math
import sys
from pathlib import Path

from lenet5.cli.common import check_device, command_line, output_file
from lenet5.errors import Lenet5Error
from lenet5.flags import add_data_dir, add_threads, at_least, device
from lenet5.runtime import use_threads


def progress_file(out: Path) -> Path:
    """Where train-reader keeps a training's progress after each pass, beside the reader it will write."""
    return out.with_suffix(".progress.pt")


def cmd_train_reader(args: argparse.Namespace) -> int:
    from lenet5.checkpoint import load_checkpoint, save_json
    from lenet5.data.sources import fetch_and_load
    from lenet5.read.boost import PAPER_SHARE
    from lenet5.read.committee import Committee
    from lenet5.read.fit import load_progress, made_by, save_progress
    from lenet5.read.line import DIGIT_HEIGHT
    from lenet5.read.sdnn import SDNN, check_refine
    from lenet5.read.train_sdnn import SHARES
    from lenet5.read.weights import RECORD_KEYS, load_reader, save_reader

    out = output_file(args.out)
    progress = progress_file(out)
    if progress.exists() and not args.resume:
        raise Lenet5Error(f"{progress} holds an interrupted training: add --resume to go on with it, or delete it")
    for name in ("strips", "epochs"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise Lenet5Error(f"--{name} must be 1 or more")
    if args.seed < 0:
        raise Lenet5Error("--seed must be 0 or more")
    if args.lr is not None and not 0 < args.lr < float("inf"):
        raise Lenet5Error("--lr must be more than 0 and finite")
    for name in (*SHARES, "columns", "context", "depth", "refine", "boost", "boost_from"):
        if getattr(args, name) is not None and args.method != "sdnn":
            raise Lenet5Error(f"--{name.replace('_', '-')} is for --method sdnn")
    if args.boost is not None and args.boost_from is None:
        raise Lenet5Error("--boost is for --boost-from: the share of the loss its misread strips carry")
    if args.refine is not None:
        try:
            check_refine(args.refine)  # before --start-from's "does not shrink" could name another reason
        except ValueError as e:
            raise Lenet5Error(f"--{e}") from None
    for name in ("context", "depth"):
        if getattr(args, name) is not None and args.start_from is not None:
            raise Lenet5Error(f"--{name} is for a new SDNN: --start-from keeps its reader's")
    start_from = None
    if args.start_from is not None:
        start_from, start_meta = load_reader(args.start_from)
        if args.method != "sdnn" or not isinstance(start_from, SDNN):
            raise Lenet5Error(f"--start-from {args.start_from}: only an SDNN goes on training (with --method sdnn)")
        if args.refine is not None and args.refine < start_from.refine:
            raise Lenet5Error(f"--refine {args.refine}: {args.start_from} has {start_from.refine} refine blocks, and "
                              "a network grows, it does not shrink")
    boost_from = None
    if args.boost_from is not None:
        boost_from, boost_meta = load_reader(args.boost_from)
        if not isinstance(boost_from, (SDNN, Committee)):
            raise Lenet5Error(f"--boost-from {args.boost_from}: only an SDNN or a committee of them boosts")
        if boost_from.heights != (DIGIT_HEIGHT,):
            raise Lenet5Error(f"--boost-from {args.boost_from}: it reads at several digit heights, and the strips are "
                              "read at 20 px alone: boost from a reader calibrated without --heights")
        if args.boost is None:
            args.boost = PAPER_SHARE
        if args.boost == 0:
            raise Lenet5Error("--boost must be above 0 with --boost-from (0: every strip weighs the same)")
    check_device(args.device)
    threads = use_threads(args.threads)
    given = {k: getattr(args, k) for k in ("strips", "epochs", "lr", "columns", "context", "depth", "refine", "boost", *SHARES)
             if getattr(args, k) is not None}
    if args.method == "sdnn":
        from lenet5.read.train_sdnn import SDNNTraining, check_training, train_sdnn

        config = SDNNTraining(**given, workers=threads, device=args.device)
        if start_from is not None:
            config = dataclasses.replace(config, maps=start_from.maps, context=start_from.context, depth=start_from.depth,
                                         refine=max(config.refine, start_from.refine))  # what was trained, grown
        try:
            check_training(config)
        except Lenet5Error as e:  # its message starts with the field's name, which is the flag's
            raise Lenet5Error(f"--{e}") from None
        train = functools.partial(train_sdnn, start_from=start_from, boost_from=boost_from)
    else:
        from lenet5.read.train_hos import HOSTraining, train_reader

        config = HOSTraining(**given, device=args.device)
        train = train_reader
    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    images, labels = digits.train_images.numpy(), digits.train_labels.numpy()
    print(f"training a reader of whole numbers ({args.method}, seed {args.seed}, {threads} thread{'s' if threads > 1 else ''} "
          f"on {args.device}) into {out}")
    made = made_by(args.method, config, args.seed, args.start_from, args.boost_from)
    resume = load_progress(progress, made) if args.resume and progress.exists() else None
    try:
        model, history = train(images, labels, config, args.seed, log=lambda s: print(s, flush=True), resume=resume,
                               after_pass=lambda p: save_progress(progress, p, made))
    except KeyboardInterrupt:
        if not progress.exists():
            raise
        done = load_checkpoint(progress, ("epoch",), "a reader training's progress")["epoch"]  # as it stands on disk
        print(f"lenet5: interrupted; the training after pass {done} is kept in {progress}: go on with the same "
              "command and --resume", file=sys.stderr)
        return 130
    command = command_line("train-reader")
    meta = {"training": dataclasses.asdict(config), "seed": args.seed, "held_out_exact": history[-1]["val_exact"],
            "threads": threads, "command": command}  # save_reader adds the method (and an SDNN's maps, context, depth, refine)
    if start_from is not None:  # how the starting point was made, so the chain can be re-run
        meta["started_from"] = {k: start_meta.get(k) for k in RECORD_KEYS}
    if boost_from is not None:  # and the boosting reader: its members' records too
        meta["boosted_by"] = {k: boost_meta.get(k) for k in (*RECORD_KEYS, "members_made_by")}
    if args.method == "hos":
        meta["model_config"] = dataclasses.asdict(model.config)
    save_reader(model, out, meta)
    save_json(out.with_suffix(".json"), {**meta, "history": history})
    progress.unlink(missing_ok=True)  # the reader is written whole: nothing left to go on with
    print(f"wrote {out} and {out.with_suffix('.json')}: held-out amounts read exactly {100 * history[-1]['val_exact']:.1f}%")
    return 0


def cmd_calibrate_reader(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch_and_load
    from lenet5.evaluate import wilson_interval
    from lenet5.read.committee import Committee, join
    from lenet5.read.labelled import LABELS, labelled_amounts, labelled_rows
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
        amounts = labelled_amounts(rows)
        fitted_on = {"amounts": len(rows), "labelled": str(Path(args.labelled).resolve()),
                     "labels_sha256": hashlib.sha256((Path(args.labelled) / LABELS).read_bytes()).hexdigest()}
    else:
        digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
        print(f"writing {args.amounts:,} held-out amounts (the last 10,000 training digits, seed {args.seed})", flush=True)
        amounts = held_out_amounts(digits.train_images.numpy(), digits.train_labels.numpy(), args.amounts, args.seed)
        fitted_on = {"amounts": args.amounts, "seed": args.seed, "digits": "the last 10,000 MNIST training digits"}
    trust = measure_trust(model, amounts, log=lambda s: print(s, flush=True))
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
    from lenet5.read.boost import PAPER_SHARE
    from lenet5.read.weights import DEFAULT_READER

    p = sub.add_parser("train-reader", help="train a reader of whole numbers (the SDNN, or over-segmentation's recognizer) "
                                            "on strips of MNIST training digits")
    p.add_argument("--method", choices=("sdnn", "hos"), default="sdnn",
                   help="sdnn: LeNet-5 swept over the line (Sec. VII); hos: the recognizer of heuristic over-segmentation "
                        "(Sec. VI) (default: sdnn)")
    p.add_argument("--strips", type=int, default=None,
                   help="training strips (amounts) (default: sdnn 160000, hos 25000)")
    p.add_argument("--epochs", type=int, default=None, help="passes over them (default: sdnn 8, hos 7)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: 2e-3)")
    p.add_argument("--joined", type=float, default=None,
                   help="sdnn: share of the training strips' gaps where neighbours touch or overlap (default: 0.5; "
                        "the benchmark's amounts have 1/3)")
    p.add_argument("--pens", type=float, default=None,
                   help="sdnn: share of the training strips written with another pen, wider or finer (default: 0)")
    p.add_argument("--distort", type=float, default=None,
                   help="sdnn: share of the training strips' digits squeezed and sheared first, as paper-distort "
                        "distorts its digits (default: 0)")
    p.add_argument("--scans", type=float, default=None,
                   help="sdnn: share of the training strips scanned coarsely first, each digit's 28 px field averaged "
                        "down to 7, 8 or 10 px and enlarged back, as people's scans and UCI's 8x8 digits come (default: 0)")
    p.add_argument("--fresh", type=float, default=None,
                   help="sdnn: share of the training strips drawn anew before each pass after the first, in turn, "
                        "made while the pass before trains (default: 0, the same strips every pass)")
    p.add_argument("--columns", type=float, default=None, metavar="WEIGHT",
                   help="sdnn: also tell each output centred on a digit that digit, and each one far from every digit "
                        "'between' (from the strips' pixel owners), by cross-entropy of this weight beside the "
                        "string's loss (default: 0, the strings alone)")
    p.add_argument("--context", type=int, default=None, metavar="OUTPUTS",
                   help="sdnn: F6 also reads C5's columns this many outputs (4 px each, at most 16) to either side, "  # sdnn.MOST_CONTEXT
                        "widening each window (default: 0, the paper's 32 px window alone)")
    p.add_argument("--depth", type=int, default=None,
                   help="sdnn: convolutions in each of C1, C3, C5, 1 or 2: 2 sees each 5x5 window through two 3x3 "
                        "(default: 1, the paper's)")
    p.add_argument("--refine", type=int, default=None, metavar="BLOCKS",
                   help="sdnn: residual blocks of two 3x3 convolutions refining C3's maps, 0 to 4; with --start-from, "  # sdnn.MOST_REFINE
                        "more than its reader has grows it, the new blocks starting as no change (default: 0, the paper's; "
                        "with --start-from, its reader's)")
    p.add_argument("--boost-from", default=None, metavar="READER",
                   help="sdnn: string-level boosting: this reader (shipped name or .safetensors; an SDNN or a committee) "
                        "reads the training strips first, and those it misreads weigh more in the loss (with --boost; "
                        "not with --fresh) (default: none, every strip weighs the same)")
    p.add_argument("--boost", type=float, default=None, metavar="SHARE",
                   help=f"sdnn, with --boost-from: the share of the loss that the strips it misreads carry "
                        f"(default: {PAPER_SHARE}, as the paper's boosted LeNet-4's second net saw half digits the first misread)")
    p.add_argument("--start-from", default=None, metavar="READER",
                   help="go on training this SDNN (shipped name or .safetensors) on the seed's strips, "
                        "with a fresh schedule (default: a new network)")
    p.add_argument("--seed", type=int, default=0, help="seed of the strips, weights and order (default: 0)")
    p.add_argument("--out", default="reader.safetensors",
                   help="weights file to write (default: reader.safetensors); until then, the progress after each "
                        "pass is kept beside it (OUT.progress.pt)")
    p.add_argument("--resume", action="store_true",
                   help="go on with the interrupted training kept beside --out, made by the same settings (on the same "
                        "device and threads: to the weights it would have reached uninterrupted; none kept: start it) "
                        "(default: off)")
    p.add_argument("--device", type=device, default="cpu",
                   help="cpu or cuda: where the network trains; the strips are made on the CPU (default: cpu)")
    add_threads(p, what="(and processes making strips, for the SDNN)")
    add_data_dir(p)
    p.set_defaults(func=cmd_train_reader)

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
