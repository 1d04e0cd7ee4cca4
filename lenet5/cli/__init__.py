"""The `lenet5` command: parse flags, call the library, print. Nothing else lives here."""

from __future__ import annotations

import argparse
import sys

from lenet5.cli import calibrating, data, fitting, models, reading, serving, training
from lenet5.errors import Lenet5Error
from lenet5.runtime import keep_freed_memory


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand; each module of this package adds its own (parse, call a library function, print)."""
    parser = argparse.ArgumentParser(prog="lenet5", description="LeNet-5 (LeCun et al. 1998) in PyTorch.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (data, training, models, reading, fitting, calibrating, serving):
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_freed_memory()  # reuse freed feature maps (lenet5/runtime.py); changes no result
    try:
        return args.func(args)
    except Lenet5Error as e:
        print(f"lenet5: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the file system said no: permissions, missing folders, a full disk
        where = f": {e.filename}" if e.filename else ""
        print(f"lenet5: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lenet5: interrupted", file=sys.stderr)
        return 130
