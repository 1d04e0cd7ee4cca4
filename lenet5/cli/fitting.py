"""Training readers of whole numbers: `train-reader` (calibrating them and digit models: calibrating.py)."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path

from lenet5.cli.common import check_device, command_line, output_file
from lenet5.errors import Lenet5Error
from lenet5.flags import add_data_dir, add_threads, device
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


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    from lenet5.read.boost import PAPER_SHARE

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
