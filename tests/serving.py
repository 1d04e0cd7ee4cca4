"""Shared by test_serve.py and test_serve_browser.py: hand-drawn digits as strokes, and a live
`lenet5 serve` on a free loopback port."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageDraw

PAD = 280  # the page's canvas, in pixels
PEN = 20  # the page's pen width (app.js STROKE)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 36) -> list[tuple[float, float]]:
    return [(cx + rx * math.sin(2 * math.pi * k / n), cy - ry * math.cos(2 * math.pi * k / n)) for k in range(n + 1)]


# Digits as a person draws them on the 280x280 pad: strokes (polylines) in units of the pad's
# side, shaped like MNIST digits (tall, a little slanted). The shipped model reads each one
# (test_serve.py checks it).
STROKES = {
    0: [_ellipse(0.5, 0.5, 0.2, 0.32)],
    1: [[(0.54, 0.15), (0.46, 0.85)]],
    4: [[(0.5, 0.15), (0.28, 0.58), (0.74, 0.58)], [(0.62, 0.35), (0.6, 0.87)]],
    7: [[(0.27, 0.2), (0.73, 0.2), (0.47, 0.86)]],
}


def scaled(strokes: list[list[tuple[float, float]]], factor: float, centre: tuple[float, float] = (0.5, 0.5)):
    """The strokes drawn `factor` times as large, centred on `centre` (units of the pad's side):
    a digit drawn small in a corner, or large across the pad, with the same pen."""
    return [[(centre[0] + factor * (x - 0.5), centre[1] + factor * (y - 0.5)) for x, y in stroke] for stroke in strokes]


def draw(strokes: list[list[tuple[float, float]]], size: int = PAD, pen: float = PEN,
         ink: int = 0, paper: int = 255, mode: str = "L") -> Image.Image:
    """The strokes drawn with a round pen, as the page's canvas draws them."""
    image = Image.new(mode, (size, size), paper)
    canvas = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(x * size, y * size) for x, y in stroke]
        canvas.line(points, fill=ink, width=round(pen), joint="curve")
        for x, y in points[:1] + points[-1:]:
            canvas.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=ink)
    return image


def png(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def photo_of(digits: list[int], fmt: str = "JPEG") -> bytes:
    """A phone-photo-like image of digits side by side: grey-blue ink on uneven off-white paper."""
    cell = 200
    strip = Image.new("L", (cell * len(digits) + 120, cell + 80), 255)
    for k, digit in enumerate(digits):
        strip.paste(draw(STROKES[digit], size=cell, pen=cell * PEN / PAD), (60 + k * cell, 40))
    width, height = strip.size
    shade = Image.linear_gradient("L").resize((width, height)).point(lambda v: 215 + v // 8)  # light falls off
    paper = Image.merge("RGB", (shade, shade, shade.point(lambda v: v - 10)))
    ink = Image.new("RGB", (width, height), (40, 45, 90))
    return png(Image.composite(paper, ink, strip), fmt)


def multipart(data: bytes) -> tuple[bytes, str]:
    """(body, Content-Type) of a multipart form holding `data` as the field "file"."""
    boundary = "lenet5-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="canvas.png"\r\n'
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@contextmanager
def live_server(*args: str) -> Iterator[str]:
    """`lenet5 serve --port 0 ARGS` in a subprocess; yields its base URL (from its first line)
    once /healthz answers, and stops it afterwards."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "lenet5", "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert "open http://" in line, f"lenet5 serve said: {line}{process.stdout.read() if process.poll() is not None else ''}"
        url = line.split("open ", 1)[1].split()[0]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "lenet5 serve did not come up"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
