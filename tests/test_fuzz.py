"""Property tests on hostile input: the IDX parser, image decoding, preprocessing, reading a
line and the upload parser take generated and mutated inputs and either answer or raise
Lenet5Error (one line for the user), never anything else. The suite runs the "fast" profile;
`python benchmarks/fuzz.py` runs the same properties over 100,000+ inputs."""

from __future__ import annotations

import io
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from lenet5.data.idx import idx_bytes, parse_idx
from lenet5.errors import Lenet5Error
from lenet5.preprocess import decode_image, grey_to_digit

settings.register_profile("fast", max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz", max_examples=int(os.environ.get("LENET5_FUZZ_EXAMPLES", "25000")), deadline=None,
                          suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("LENET5_HYPOTHESIS_PROFILE", "fast")


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """`seed` with bytes flipped, cut, repeated or inserted: what a damaged file or a fuzzer sends."""
    def mutate(args):
        data, flips, cut, insert = bytearray(seed), *args
        for position, value in flips:
            if data:
                data[position % len(data)] = value
        data = data[: cut % (len(data) + 1)] if cut >= 0 else data
        return bytes(data[: insert[0] % (len(data) + 1)] + insert[1] + data[insert[0] % (len(data) + 1):])
    return st.tuples(st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8),
                     st.integers(-1, len(seed)), st.tuples(st.integers(0, 1 << 20), st.binary(max_size=16))).map(mutate)


def image_bytes(fmt: str) -> bytes:
    ys, xs = np.mgrid[0:40, 0:30]
    grey = np.where((xs - 15) ** 2 + (ys - 20) ** 2 < 100, 30, 230).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format=fmt)
    return buffer.getvalue()


IDX = idx_bytes(np.arange(2 * 5 * 4, dtype=np.uint8).reshape(2, 5, 4))
IMAGES = [image_bytes(fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF")]
FORM = (b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
        + IMAGES[0] + b"\r\n--x--\r\n")


def answers_or_refuses(call, *args):
    try:
        return call(*args)
    except Lenet5Error as e:
        assert str(e) and "\n" not in str(e)
        return None


@settings(settings.get_profile(PROFILE))
@given(st.one_of(mutated(IDX), st.binary(max_size=64)))
def test_idx_parser(raw):
    array = answers_or_refuses(parse_idx, raw, "fuzz.idx")
    assert array is None or array.size * array.itemsize <= len(raw)


@settings(settings.get_profile(PROFILE))
@given(st.sampled_from(range(len(IMAGES))).flatmap(lambda k: mutated(IMAGES[k])))
def test_image_decoding_and_preparation(data):
    grey = answers_or_refuses(decode_image, data, "fuzz.png")
    if grey is not None:
        assert grey.ndim == 2 and grey.dtype == np.float32 and 0 <= grey.min() <= grey.max() <= 1
        digit = answers_or_refuses(grey_to_digit, grey)
        assert digit is None or (tuple(digit.shape) == (28, 28) and int(digit.max()) <= 255)


@settings(settings.get_profile(PROFILE))
@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from(["noise", "flat", "blocks", "nan"]), st.integers(0, 2**32 - 1))
def test_preprocessing_any_grey_image(h, w, kind, seed):
    rng = np.random.default_rng(seed)
    grey = {"noise": lambda: rng.random((h, w)), "flat": lambda: np.full((h, w), rng.random()),
            "blocks": lambda: np.kron(rng.random((max(1, h // 8), max(1, w // 8))), np.ones((8, 8)))[:h, :w],
            "nan": lambda: np.where(rng.random((h, w)) < 0.1, np.nan, rng.random((h, w)))}[kind]().astype(np.float32)
    grey = np.nan_to_num(grey, nan=1.0)  # decode_image never yields NaN; the property is about shapes and levels
    digit = answers_or_refuses(grey_to_digit, grey)
    assert digit is None or tuple(digit.shape) == (28, 28)


@settings(settings.get_profile(PROFILE))
@given(st.one_of(mutated(FORM), st.binary(max_size=200)), st.sampled_from([b"x", b"", b"-" * 300, b"\r\n"]))
def test_upload_parser(body, boundary):
    from lenet5.serve.upload import FormFile

    def parse():
        form = FormFile(boundary)
        for k in range(0, len(body), 37):  # as it streams in
            form.write(body[k: k + 37])
        return form.result()

    result = answers_or_refuses(parse)
    assert result is None or (isinstance(result[0], str) and isinstance(result[1], bytes))


@settings(settings.get_profile(PROFILE))
@given(st.integers(8, 60), st.integers(8, 200), st.integers(0, 2**32 - 1))
def test_reading_a_line_of_any_grey_image(h, w, seed):
    from lenet5.read.line import normalize

    rng = np.random.default_rng(seed)
    grey = np.clip(0.9 - (rng.random((h, w)) < rng.random()) * rng.random((h, w)), 0, 1).astype(np.float32)
    line = answers_or_refuses(normalize, grey)
    assert line is None or (line.ink.ndim == 2 and line.ink.min() >= 0 and line.ink.max() <= 1)
