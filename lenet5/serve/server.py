"""The listening socket and uvicorn: bound first, so the address printed is the one served
(port 0 picks a free port) and a taken port is a one-line error."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

from lenet5.errors import Lenet5Error
from lenet5.runtime import use_threads

REQUEST_THREADS = 1  # PyTorch threads per request: concurrency comes from requests, not from one digit
MAX_CONNECTIONS = 64  # past this many open connections and requests, uvicorn answers 503 at once


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named, not 0: asyncio turns Nagle off only on sockets whose proto says TCP, and with
    # Nagle on, each response's body waited 40 ms for the browser's delayed ACK of its headers
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise Lenet5Error(f"cannot listen on {host} port {port}: {e.strerror or e}") from None
    return sock


def url(sock: socket.socket) -> str:
    """http://host:port/ of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if sock.family == socket.AF_INET6 else f"http://{host}:{port}/"


def run(app: FastAPI, sock: socket.socket) -> None:
    """Serve `app` on `sock` until Ctrl-C (uvicorn shuts down gracefully)."""
    use_threads(REQUEST_THREADS)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, limit_concurrency=MAX_CONNECTIONS,
                                  timeout_keep_alive=5)).run(sockets=[sock])
