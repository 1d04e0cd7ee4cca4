"""Training and studies: `lenet5 train`, `ablate`, `compare`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lenet5.cli.common import check_device
from lenet5.errors import Lenet5Error
from lenet5.flags import (add_data_dir, add_switches, add_threads, at_least, configs_from_args, device, preset_name)
from lenet5.runtime import machine_cores, use_threads


def cmd_train(args: argparse.Namespace) -> int:
    from lenet5.runtime import nondeterministic_operation, use_deterministic_algorithms
    from lenet5.train import Trainer, check_run_dir, default_threads

    model_config, train_config = configs_from_args(args)
    check_device(args.device)
    threads = use_threads(args.threads if args.threads is not None else default_threads(model_config, train_config, args.device))
    if args.deterministic:
        use_deterministic_algorithms()
    name = preset_name(args)
    run_dir = Path(args.out or f"runs/{name}-seed{args.seed}")
    check_run_dir(run_dir, args.resume)
    trainer = Trainer(model_config, train_config, args.seed, run_dir, args.data_dir, args.device, progress=not args.quiet)
    print(f"training preset {name} (seed {args.seed}) into {run_dir}: {trainer.model.num_parameters():,} parameters, "
          f"{train_config.optimizer}, batch {train_config.batch_size}, {train_config.epochs} passes, "
          f"{threads} thread{'s' if threads > 1 else ''} on {args.device}")
    try:
        summary = trainer.fit(resume=args.resume)
    except RuntimeError as e:
        refusal = nondeterministic_operation(e)
        if refusal is None:
            raise
        raise refusal from None
    except KeyboardInterrupt:
        done = len(trainer.history)
        print(f"lenet5: interrupted; the checkpoint after pass {done} is in {run_dir}; continue with --resume", file=sys.stderr)
        return 130
    test = summary["test_error"]
    print(f"done: test error {100 * test:.2f}% after {summary['epochs']} passes, {summary['wall_seconds']:.0f} s; "
          f"{run_dir}/metrics.json, {run_dir}/curves.png")
    return 0


def check_study(args: argparse.Namespace) -> None:
    """The flags of a study (ablate, compare) that argparse cannot check alone."""
    if args.ray is None:  # here, on this machine's cores; on Ray, the cluster checks what a task asks for
        if args.storage is not None:
            raise Lenet5Error("--storage goes with --ray: it is where a cluster's workers sync their runs")
        use_threads(args.threads)
        if args.threads * args.workers > machine_cores():
            raise Lenet5Error(f"--workers {args.workers} x --threads {args.threads} asks for more than the {machine_cores()} cores this machine gives")
        check_device(args.device)
    elif args.workers != 1:
        raise Lenet5Error("--workers is for runs on this machine; with --ray the cluster's free CPUs decide how many go at once")


def study_where(args: argparse.Namespace) -> str:
    where = f"{args.workers} workers" if args.ray is None else f"Ray ({args.ray}), each run"
    return f"{where} x {args.threads} threads on {args.device}"


def cmd_ablate(args: argparse.Namespace) -> int:
    from lenet5.ablate import markdown, run_study, select, summarize

    check_study(args)
    variants = select(args.only)
    out = Path(args.out)
    print(f"ablation: {len(variants)} variants x {args.seeds} seeds, {args.epochs} passes, {study_where(args)} -> {out}")
    results = run_study(variants, args.seeds, args.epochs, out, args.workers, args.data_dir, args.train_limit, args.test_limit,
                        threads=args.threads, device=args.device, ray_address=args.ray,
                        storage=None if args.storage is None else Path(args.storage))
    print(markdown(summarize(results)))
    print(f"{sum(r['ran'] for r in results)} runs trained, {sum(not r['ran'] for r in results)} reused; "
          f"wrote {out}/results.csv, ablation.md, ablation.png")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from lenet5.compare import run_compare, select
    from lenet5.compare.report import markdown

    check_study(args)
    rows = select(args.only)
    out = Path(args.out)
    print(f"comparison: {len(rows)} rows x {args.seeds} seeds, {args.epochs} passes a network, {study_where(args)} -> {out}")
    results, summary = run_compare(rows, args.seeds, args.epochs, out, args.workers, args.data_dir, args.train_limit,
                                   args.test_limit, threads=args.threads, device=args.device, ray_address=args.ray,
                                   storage=None if args.storage is None else Path(args.storage))
    print(markdown(summary))
    print(f"{sum(r['ran'] for r in results)} runs made, {sum(not r['ran'] for r in results)} reused; "
          f"wrote {out}/results.csv, compare.md, fig9.png, fig10.png" + (", fig6.md, fig6.png" if (out / "fig6.md").exists() else ""))
    return 0


def add_study(p: argparse.ArgumentParser, out: str, metavar: str, what: str, seeds: int) -> None:
    """The flags every study (ablate, compare) takes."""
    p.add_argument("--seeds", type=at_least(1), default=seeds, help=f"seeds per row (default: {seeds})")
    p.add_argument("--epochs", type=at_least(1), default=20, help="passes per training run (default: 20)")
    p.add_argument("--workers", type=at_least(1), default=1, help="runs in parallel on this machine (default: 1)")
    add_threads(p, what="per run")
    p.add_argument("--device", type=device, default="cpu", help="cpu or cuda; on Ray, cuda asks one GPU per run (default: cpu)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run each job as a task on the Ray cluster at ADDRESS (auto, ray://host:10001), or on a new "
                        "local Ray without one; needs pip install -e '.[cluster]' (default: off, runs on this machine)")
    p.add_argument("--storage", default=None, metavar="PATH",
                   help="with --ray: a folder this machine and every node see, where each run is synced after every "
                        "pass (default: the study folder on a local Ray, else runs travel back to this machine)")
    p.add_argument("--out", default=out, help=f"study folder (default: {out})")
    p.add_argument("--only", nargs="+", default=None, metavar=metavar, help=f"run only these {what} (default: all)")
    p.add_argument("--train-limit", type=at_least(0), default=0, help="train on the first N digits only (default: 0, all)")
    p.add_argument("--test-limit", type=at_least(0), default=0, help="score the first N test digits only (default: 0, all)")
    add_data_dir(p)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    p = sub.add_parser("train", help="train and evaluate LeNet-5 (default: the paper preset on MNIST)")
    add_switches(p, train=True)
    p.add_argument("--seed", type=int, default=0, help="seed of weights, data order and distortions (default: 0)")
    p.add_argument("--out", default=None, help="run directory (default: runs/PRESET-seedSEED)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint (default: off)")
    p.add_argument("--device", type=device, default="cpu", help="cpu or cuda; on cuda adam's steps run as one CUDA graph (default: cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: every core this process may use where the weights do not depend on the "
                        "count, as for runs through fused.c without SDLM; else 1, since the count changes PyTorch's rounding)")
    p.add_argument("--deterministic", action="store_true",
                   help="PyTorch's deterministic algorithms for every operation, or a one-line refusal (default: off; "
                        "CUDA runs repeat without it through cuDNN's deterministic convolutions, the CPU always)")
    p.add_argument("--quiet", action="store_true", help="no progress bars, only one line per pass (default: off)")
    add_data_dir(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("ablate", help="paper, paper with one choice swapped, blog and modern, over several seeds")
    add_study(p, "runs/ablation", "VARIANT", "variants", seeds=3)
    p.set_defaults(func=cmd_ablate)

    p = sub.add_parser("compare", help="the paper's Section III: LeNet-1, LeNet-4, boosted LeNet-4 and the other classifiers "
                                       "of Fig. 9-12 beside the paper's figures, and Fig. 6")
    add_study(p, "runs/compare", "ROW", "rows or groups (fig9, fig6)", seeds=1)
    p.set_defaults(func=cmd_compare)

