"""`lenet5 serve`: the web page and its HTTP API."""

from __future__ import annotations

import argparse

from lenet5.flags import (port)



def cmd_serve(args: argparse.Namespace) -> int:
    from lenet5.serve import require_packages

    require_packages()
    from lenet5.serve.app import create_app
    from lenet5.serve.server import bind, run, url

    app = create_app(args.model)
    sock = bind(args.host, args.port)
    print(f"lenet5: reading with {args.model}; open {url(sock)} in a browser (API docs: {url(sock)}docs; Ctrl-C stops)",
          flush=True)
    run(app, sock)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This module's subcommands, each with its flags."""
    from lenet5.pretrained import BEST

    p = sub.add_parser("serve", help="a web page to draw a digit and watch LeNet-5 read it, layer by layer; and its HTTP API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=port, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--model", default=BEST, help=f"shipped model name, checkpoint or run directory to read with (default: {BEST})")
    p.set_defaults(func=cmd_serve)

