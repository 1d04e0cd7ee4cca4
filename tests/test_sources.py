import gzip
import pickle

import numpy as np
import pytest

from lenet5.data import sources
from lenet5.data.datasets import MNIST, TEST_LABELS, load_digits, verify
from lenet5.data.safe_pickle import loads_numpy_only
from lenet5.errors import Lenet5Error


class RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_restricted_unpickler_refuses_code_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Lenet5Error, match="os.system|posix.system"):
        loads_numpy_only(pickle.dumps(RunsCode()))
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(Lenet5Error, match="builtin__?.eval"):
        loads_numpy_only(pickle.dumps(eval, protocol=2))


def test_restricted_unpickler_reads_numpy_arrays():
    a = (np.arange(12, dtype=np.float32).reshape(3, 4), np.arange(3))
    x, y = loads_numpy_only(pickle.dumps(a, protocol=3))
    np.testing.assert_array_equal(x, a[0])
    np.testing.assert_array_equal(y, a[1])


def test_checksum_mismatch_leaves_no_file(tmp_path):
    with pytest.raises(Lenet5Error, match="md5"):
        sources.install_file(MNIST, tmp_path, TEST_LABELS, b"\x00" * 10_008)
    assert not (tmp_path / TEST_LABELS).exists()
    assert list(tmp_path.iterdir()) == []


def test_hub_pickle_with_wrong_sha256_is_refused_before_unpickling():
    with pytest.raises(Lenet5Error, match="sha256"):
        sources.mnist_from_hub_pickle(gzip.compress(pickle.dumps(RunsCode())))


def test_all_routes_failing_says_what_was_tried(tmp_path, monkeypatch):
    def fail(spec, directory, log):
        raise Lenet5Error("offline")

    monkeypatch.setitem(sources.ROUTES, "mnist", [("route A", fail), ("route B", fail)])
    with pytest.raises(Lenet5Error, match=r"tried: route A \(offline\); route B \(offline\).*by hand"):
        sources.fetch("mnist", tmp_path, log=lambda s: None)


def test_load_missing_dataset_says_how_to_fetch(tmp_path):
    with pytest.raises(Lenet5Error, match="lenet5 data fetch mnist"):
        load_digits("mnist", tmp_path)
    with pytest.raises(Lenet5Error, match="unknown dataset"):
        load_digits("cifar", tmp_path)


def test_verify_reports_each_problem(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / TEST_LABELS).write_bytes(b"x")
    problems = verify(MNIST, tmp_path / "mnist")
    assert problems[TEST_LABELS] == "1 bytes, expected 10008"
    assert problems["train-images-idx3-ubyte"] == "missing"
