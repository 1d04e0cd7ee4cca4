import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lenet5.data.idx import check_images, check_labels, idx_bytes, parse_idx, read_idx, write_idx
from lenet5.errors import Lenet5Error


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(0, 5), st.integers(1, 6), st.integers(1, 6))), st.booleans())
def test_round_trip_images(tmp_path_factory, images, gz):
    path = tmp_path_factory.mktemp("idx") / ("x.idx.gz" if gz else "x.idx")
    write_idx(path, images)
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == images.shape
    np.testing.assert_array_equal(back, images)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_dtypes(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=np.uint8)
    write_idx(tmp_path / "a.idx", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)


def test_labels_header_is_mnist_layout():
    raw = idx_bytes(np.array([1, 2, 3], dtype=np.uint8))
    assert raw[:4] == b"\x00\x00\x08\x01" and raw[4:8] == b"\x00\x00\x00\x03" and raw[8:] == b"\x01\x02\x03"


def test_gz_file_is_gzipped(tmp_path):
    write_idx(tmp_path / "l.gz", np.zeros(5, np.uint8))
    assert gzip.decompress((tmp_path / "l.gz").read_bytes())[:4] == b"\x00\x00\x08\x01"


GOOD = idx_bytes(np.zeros((2, 3, 3), np.uint8))


@pytest.mark.parametrize("raw, message", [
    (GOOD[:-1], "truncated"),
    (GOOD[:6], "truncated IDX header"),
    (GOOD + b"\x00", "trailing data"),
    (b"\x00\x01" + GOOD[2:], "wrong magic"),
    (b"\x00\x00\x07" + GOOD[3:], "wrong magic"),
    (GOOD[:3] + b"\x00", "0 dimensions"),
    (b"\x00", "not an IDX file"),
    # dimensions whose product wraps int64 (2^32-1 x 2^32-1 x 2^31): np.prod made it negative, then a traceback
    (b"\x00\x00\x08\x03" + b"\xff" * 8 + b"\x80\x00\x00\x00", "truncated: dimensions"),
])
def test_corruptions_raise_clear_errors(raw, message):
    with pytest.raises(Lenet5Error, match=message):
        parse_idx(raw, "file.idx")


def test_error_names_the_file(tmp_path):
    (tmp_path / "bad").write_bytes(b"hello world")
    with pytest.raises(Lenet5Error, match=str(tmp_path / "bad")):
        read_idx(tmp_path / "bad")
    with pytest.raises(Lenet5Error, match="no such file"):
        read_idx(tmp_path / "missing")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(Lenet5Error, match="cannot read"):
        read_idx(tmp_path / "bad.gz")


def test_label_range_and_image_shape_checks():
    with pytest.raises(Lenet5Error, match="label 10 out of range"):
        check_labels(np.array([0, 10], np.uint8), "labels")
    with pytest.raises(Lenet5Error, match="1-d"):
        check_labels(np.zeros((2, 2), np.uint8), "labels")
    with pytest.raises(Lenet5Error, match="3-d uint8"):
        check_images(np.zeros((2, 2), np.uint8), "images")
    check_labels(np.arange(10, dtype=np.uint8), "labels")
