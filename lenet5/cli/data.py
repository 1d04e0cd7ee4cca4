"""`lenet5 data` (fetch and verify datasets) and `lenet5 distortions` (the training distortions, drawn)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lenet5.errors import Lenet5Error
from lenet5.flags import (add_data_dir, at_least)



def cmd_data_fetch(args: argparse.Namespace) -> int:
    from lenet5.data.sources import fetch

    fetch(args.dataset, args.data_dir)
    return 0


def cmd_data_verify(args: argparse.Namespace) -> int:
    from lenet5.data.datasets import dataset_dir, get_spec, verify

    spec = get_spec(args.dataset)
    directory = dataset_dir(spec, args.data_dir)
    problems = verify(spec, directory)
    for name, problem in problems.items():
        print(f"{'ok  ' if problem is None else 'BAD '} {directory / name}" + (f": {problem}" if problem else f" md5 {spec.files[name][0]}"))
    if any(problems.values()):
        raise Lenet5Error(f"{spec.name} in {directory} failed verification; run: lenet5 data fetch {spec.name}")
    return 0


def cmd_distortions(args: argparse.Namespace) -> int:
    import torch

    from lenet5.data.distort import distort, draw_parameters
    from lenet5.data.sources import fetch_and_load
    from lenet5.plots import plot_distortions

    digits = fetch_and_load("mnist", args.data_dir, log=lambda s: None)
    first = torch.tensor([int((digits.test_labels == k).nonzero()[0]) for k in range(10)])
    images = digits.test_images[first]
    generator = torch.Generator().manual_seed(args.seed)
    draws = torch.stack([distort(images, draw_parameters(10, generator)) for _ in range(args.draws)], dim=1)
    out = Path(args.out)
    plot_distortions(images, draws, out)
    print(f"wrote {out}: 10 test digits x {args.draws} random distortions")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    data = sub.add_parser("data", help="fetch and verify datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    for name, func, text in (("fetch", cmd_data_fetch, "fetch a dataset (mirrors, then offline routes) and verify its md5s"),
                             ("verify", cmd_data_verify, "check the md5 of a fetched dataset's four IDX files")):
        p = data_sub.add_parser(name, help=text)
        p.add_argument("dataset", nargs="?", default="mnist", choices=["mnist", "fashion-mnist"], help="dataset (default: mnist)")
        add_data_dir(p)
        p.set_defaults(func=func)

    p = sub.add_parser("distortions", help="draw 10 digits under random training distortions, as a picture")
    p.add_argument("--out", default="distortions.png", help="PNG to write (default: distortions.png)")
    p.add_argument("--draws", type=at_least(1), default=8, help="distorted versions per digit (default: 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    add_data_dir(p)
    p.set_defaults(func=cmd_distortions)

