"""`lenet5 serve`'s HTTP API: answers, feature maps, bad input, and a bounded load test on a live
server (loopback only). The page itself is tested in a browser by test_serve_browser.py."""

from __future__ import annotations

import base64
import io
import json
import socket
import struct
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
pytest.importorskip("httpx")  # FastAPI's TestClient

from fastapi.testclient import TestClient  # noqa: E402
from serving import STROKES, draw, live_server, multipart, photo_of, png, scaled  # noqa: E402

from lenet5.cli import main  # noqa: E402
from lenet5.errors import Lenet5Error  # noqa: E402
from lenet5.predict import predict_images  # noqa: E402
from lenet5.preprocess import decode_image, grey_to_digit  # noqa: E402
from lenet5.pretrained import BEST, load_model, shipped  # noqa: E402
from lenet5.serve.app import create_app  # noqa: E402
from lenet5.serve.upload import MAX_IMAGE_BYTES  # noqa: E402

LOAD_REQUESTS, LOAD_CLIENTS = 500, 20
MAP_SIZES = {"C1": (6, 28), "S2": (6, 14), "C3": (16, 10), "S4": (16, 5)}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def canvas(digit: int) -> bytes:
    """The page's canvas PNG of a hand-drawn digit."""
    return png(draw(STROKES[digit]))


def post(client: TestClient, data: bytes, path: str = "/api/predict", name: str = "canvas.png"):
    return client.post(path, files={"file": (name, data, "image/png")})


def decode_png(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


@pytest.mark.parametrize("digit", [0, 1, 4, 7])
def test_predict_reads_drawn_digits_with_the_default_model(client, digit):
    response = post(client, canvas(digit))
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == BEST and body["digit"] == digit and body["smaller_wins"] is True
    scores = np.array(body["scores"])
    assert scores.shape == (10,) and scores.argmin() == digit  # RBF penalties: smaller wins
    best, second = np.sort(scores)[:2]
    assert body["confidence"] == pytest.approx(second - best, abs=2e-4) and body["confidence"] > 5
    assert "maps" not in body and "probabilities" not in body
    assert 0.5 < body["probability"] <= 1  # paper-pens' calibrated probability of the digit read


@pytest.mark.parametrize("factor,centre", [(0.2, (0.25, 0.25)), (0.45, (0.7, 0.65)), (1.25, (0.5, 0.5))])
@pytest.mark.parametrize("digit", [0, 1, 4, 7])
def test_digits_drawn_small_or_large_with_the_pages_pen_are_read(client, digit, factor, centre):
    # the pen keeps its width: drawn at 0.2x a stroke is about 5x as bold once the digit fills its 20x20 box (read as 0 and 8 before the strokes were normalized)
    response = post(client, png(draw(scaled(STROKES[digit], factor, centre))))
    assert response.status_code == 200 and response.json()["digit"] == digit


def test_predict_agrees_with_lenet5_predict_on_the_same_file(client, tmp_path):
    data = photo_of([7])
    (tmp_path / "seven.jpg").write_bytes(data)
    expected = predict_images(load_model(BEST)[0], [tmp_path / "seven.jpg"])[0]
    body = client.post("/api/predict", content=data, headers={"content-type": "image/jpeg"}).json()  # a raw image body
    assert body["digit"] == expected.digit == 7 and body["taken_out"] == list(expected.taken_out) == []
    assert body["scores"] == pytest.approx(expected.scores, abs=1e-3)


def test_softmax_models_give_probabilities(client):
    body = post(client, canvas(4), "/api/predict?model=modern").json()
    assert body["model"] == "modern" and body["smaller_wins"] is False and body["digit"] == 4
    probabilities = np.array(body["probabilities"])
    assert probabilities.sum() == pytest.approx(1, abs=1e-3) and probabilities.argmax() == 4
    assert np.array(body["scores"]).argmax() == 4


def test_maps_show_what_the_network_saw_and_its_layers(client):
    data = canvas(7)
    body = post(client, data, "/api/predict?maps=1").json()
    assert body["digit"] == 7
    model = load_model(BEST)[0]
    x = model.prepare(grey_to_digit(decode_image(data))[None])[0, 0]  # the 32x32 input, padded MNIST-style
    seen = decode_png(body["seen"]).astype(float)
    expected = 255 * (x.max() - x) / (x.max() - x.min())  # dark = high ink
    assert seen.shape == (32, 32) and np.abs(seen - expected.numpy()).max() <= 0.5 + 1e-6
    assert seen[:2].min() == 255 and seen[:, :2].min() == 255  # the 2-pixel pad of background
    for layer, (count, side) in MAP_SIZES.items():
        shown = body["maps"][layer]
        assert (shown["count"], shown["size"]) == (count, side)
        cells = cells_of(decode_png(shown["image"]), count, side, shown["columns"])
        assert sum(c.min() < c.max() for c in cells) >= count - 1, layer  # maps show structure, not one grey
    with torch.no_grad():
        c1 = model.feature_maps(x[None, None])["C1"][0, 0]
    # C1's first map: darkest where its activation is highest
    first = cells_of(decode_png(body["maps"]["C1"]["image"]), 6, 28, 6)[0].ravel()
    assert first.argmin() in set(torch.nonzero(c1.ravel() >= c1.max() - 1e-3 * (c1.max() - c1.min())).ravel().tolist())


def cells_of(picture: np.ndarray, count: int, side: int, columns: int) -> list[np.ndarray]:
    """A layer's picture cut back into its maps (rows of `columns`, 1 px of white between)."""
    rows = -(-count // columns)
    assert picture.shape == (rows * (side + 1) - 1, columns * (side + 1) - 1)
    gaps = picture[side::side + 1]
    assert (gaps == 255).all() and (picture[:, side::side + 1] == 255).all()
    return [picture[r * (side + 1): r * (side + 1) + side, c * (side + 1): c * (side + 1) + side]
            for r, c in (divmod(k, columns) for k in range(count))]


def test_models_health_and_docs(client):
    models = client.get("/api/models").json()
    assert models["default"] == BEST
    assert [m["name"] for m in models["models"]] == shipped()
    paper = next(m for m in models["models"] if m["name"] == "paper")
    assert paper["parameters"] == 60_000 and paper["head"] == "rbf" and 0 < paper["test_error"] < 0.01
    assert client.get("/healthz").json() == {"status": "ok"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text and "/static/docs/swagger-ui-bundle.js" in docs.text
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200  # served from the package: works offline
    assert client.get("/static/docs/swagger-ui.css").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/read", "/api/models", "/healthz"} <= set(spec["paths"])
    assert "multipart/form-data" in spec["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="pad"' in page.text
    assert client.get("/static/app.js").status_code == client.get("/static/style.css").status_code == 200


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (a decompression bomb's header) and holds almost nothing."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name, data, problem", [
    ("notes.txt", b"this is not an image", "not an image PIL can read"),
    ("cut.png", canvas(1)[:300], "cannot decode"),
    ("bomb.png", png_header_only(100_000, 100_000), "decompression bomb"),
    ("large.png", png_header_only(8_000, 6_000), "too large"),
    ("canvas.png", png(Image.new("L", (280, 280), 255)), "no ink found"),
    ("empty.png", b"", "empty file"),
])
def test_unreadable_images_are_400_with_a_json_error_naming_the_problem(client, name, data, problem):
    response = post(client, data, name=name)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{name}: ") and problem in response.json()["error"]


def test_bad_requests_are_json_errors(client):
    too_big = post(client, b"\0" * (MAX_IMAGE_BYTES + 1))
    assert too_big.status_code == 413 and "10 MB" in too_big.json()["error"]
    raw = client.post("/api/predict", content=b"\0" * (MAX_IMAGE_BYTES + 100_000), headers={"content-type": "image/png"})
    assert raw.status_code == 413 and "too large" in raw.json()["error"]
    wrong_field = client.post("/api/predict", files={"image": ("canvas.png", canvas(1), "image/png")})
    assert wrong_field.status_code == 400 and 'field "file"' in wrong_field.json()["error"]
    cut = client.post("/api/predict", content=b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nab",
                      headers={"content-type": "multipart/form-data; boundary=x"})
    assert cut.status_code == 400 and "cut short" in cut.json()["error"]
    flag = post(client, canvas(1), "/api/predict?maps=perhaps")
    assert flag.status_code == 422 and "maps" in flag.json()["error"]
    model = post(client, canvas(1), "/api/predict?model=lenet4")
    assert model.status_code == 400 and "unknown model 'lenet4'; choose one of: " + ", ".join(shipped()) == model.json()["error"]
    assert client.get("/api/nothing").json() == {"error": "Not Found"}


def test_a_form_of_a_million_empty_parts_is_refused_at_once(client):
    # 1.1 M parts of 9 bytes, under the 10 MB limit: parsed whole it held the event loop ~13 s
    body = b"--x\r\n\r\n\r\n" * 1_100_000 + b"--x--\r\n"
    start = time.perf_counter()
    response = client.post("/api/predict", content=body, headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 400 and "more than 8 parts" in response.json()["error"]
    assert time.perf_counter() - start < 3


def test_hostile_form_headers_are_400_not_500(client):
    long = client.post("/api/predict", content=b"--" + b"b" * 300 + b"--\r\n",
                       headers={"content-type": "multipart/form-data; boundary=" + "b" * 300})
    assert long.status_code == 400 and "malformed multipart form" in long.json()["error"]
    huge = client.post("/api/predict", content=b"--x\r\nX-Junk: " + b"a" * 20_000 + b"\r\n\r\n\r\n--x--\r\n",
                       headers={"content-type": "multipart/form-data; boundary=x"})
    assert huge.status_code == 400 and "malformed multipart form" in huge.json()["error"]  # python-multipart's own limit


def test_media_types_are_case_insensitive(client):
    body, kind = multipart(canvas(7))
    response = client.post("/api/predict", content=body, headers={"content-type": kind.replace("multipart/form-data", "Multipart/Form-Data")})
    assert response.status_code == 200 and response.json()["digit"] == 7


def test_a_body_that_trickles_in_is_cut_off_with_408(monkeypatch):
    import anyio
    from starlette.requests import Request

    from lenet5.serve import upload

    monkeypatch.setattr(upload, "BODY_SECONDS", 0.5)

    async def receive():  # 10 bytes every 0.2 s, never done
        await anyio.sleep(0.2)
        return {"type": "http.request", "body": b"\0" * 10, "more_body": True}

    request = Request({"type": "http", "method": "POST", "headers": [(b"content-type", b"image/png")]}, receive)
    start = time.perf_counter()
    with pytest.raises(upload.UploadTooSlow, match="over 0.5 s"):
        anyio.run(upload.read_upload, request)
    assert time.perf_counter() - start < 2
    assert create_app().exception_handlers  # UploadTooSlow is a Lenet5Error: answered as JSON
    from lenet5.serve.app import STATUS
    assert STATUS[upload.UploadTooSlow] == 408


def test_uploads_are_read_in_memory_never_written_to_disk(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an upload was written to a temporary file")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    big = png(draw(STROKES[7], size=1500, pen=1500 * 20 / 280), fmt="BMP")  # 2.2 MB: past Starlette's 1 MB spool
    assert len(big) > 2_000_000
    response = post(client, big, name="big.bmp")
    assert response.status_code == 200 and response.json()["digit"] == 7


def test_read_without_a_recognizer_is_501(client, monkeypatch):
    from lenet5.serve import inference

    def missing():
        raise Lenet5Error("amounts: no shipped reader of that name (none), and no such file")

    inference.amount_reader.cache_clear()
    monkeypatch.setattr(inference, "load_reader", missing)  # as if its weights were not installed
    response = post(client, photo_of([4, 7]), "/api/read", name="amount.jpg")
    inference.amount_reader.cache_clear()
    assert response.status_code == 501 and "no shipped reader" in response.json()["error"]


def test_read_gives_what_lenet5_read_gives(client):
    from lenet5 import read

    data = photo_of([4, 7])
    expected = read.read_number(read.load_reader()[0], decode_image(data))
    response = post(client, data, "/api/read", name="amount.jpg")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == expected.number and len(body["digits"]) == len(expected.digits)
    assert body["taken_out"] == list(expected.taken_out) == []
    assert [d["digit"] for d in body["digits"]] == [int(c) for c in body["number"]]
    assert all(0 <= d["x0"] < d["x1"] <= Image.open(io.BytesIO(data)).width for d in body["digits"])
    blank = post(client, png(Image.new("L", (400, 120), 255)), "/api/read", name="blank.png")
    assert blank.status_code == 400 and blank.json()["error"].startswith("blank.png: ")


def test_serve_cli_refusals_are_one_line(capsys, monkeypatch):
    assert main(["serve", "--model", "lenet4"]) == 1
    err = capsys.readouterr().err
    assert "lenet4: no shipped model of that name" in err and err.count("\n") == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert "cannot listen on 127.0.0.1 port" in err and err.count("\n") == 1
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if the serve extra were not installed
    assert main(["serve"]) == 1
    assert capsys.readouterr().err == 'lenet5: error: lenet5 serve needs fastapi, which is not installed: pip install -e ".[serve]"\n'


def test_load_500_predictions_from_20_clients(capsys):
    """What the page sends while a person draws (canvas PNG, maps=1), from 20 clients at once
    on loopback: every answer right, none an error; p50/p99 latency printed (pytest -s)."""
    digits = [0, 1, 7]
    forms = {d: multipart(canvas(d)) for d in digits}
    with live_server() as url:
        assert url.startswith("http://127.0.0.1:")  # loopback unless --host says otherwise

        def one(k: int) -> tuple[int, int | str, float]:
            digit = digits[k % len(digits)]
            body, kind = forms[digit]
            request = urllib.request.Request(url + "api/predict?maps=1", data=body, headers={"Content-Type": kind})
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = json.loads(response.read())["digit"]
            except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
                answer = f"error: {e}"
            return digit, answer, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(LOAD_CLIENTS) as pool:
            results = list(pool.map(one, range(LOAD_REQUESTS)))
        wall = time.perf_counter() - started
    wrong = [(digit, answer) for digit, answer, _ in results if answer != digit]
    assert wrong == []  # no errors, and concurrent requests never mix up their answers
    ms = np.array([seconds for _, _, seconds in results]) * 1000
    with capsys.disabled():
        print(f"\nload test: {LOAD_REQUESTS} predictions (maps=1) from {LOAD_CLIENTS} clients in {wall:.1f} s "
              f"({LOAD_REQUESTS / wall:.0f}/s), 0 errors; latency p50 {np.percentile(ms, 50):.0f} ms, "
              f"p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms")
