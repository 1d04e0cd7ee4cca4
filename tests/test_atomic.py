"""Files written whole or not at all, by any number of processes at once."""

import multiprocessing
import os
import stat

import pytest
from filelock import FileLock, Timeout

from lenet5.atomic import write_atomic
from lenet5.data import sources
from lenet5.data.datasets import MNIST


def _writer(args):
    path, k = args
    for _ in range(30):
        write_atomic(path, lambda tmp: tmp.write_bytes(bytes([k]) * 100_000))
    return k


def test_concurrent_writers_never_delete_each_others_files(tmp_path):
    # with one fixed temporary name, one process renamed or deleted the other's half-written file
    path = tmp_path / "shared.bin"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        assert sorted(pool.map(_writer, [(path, 1), (path, 2)])) == [1, 2]
    data = path.read_bytes()
    assert len(data) == 100_000 and len(set(data)) == 1  # one writer's whole file
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]  # no temporaries left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("old")

    def fail(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(path, fail)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_written_files_have_the_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "g", lambda tmp: tmp.write_text("x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "g").stat().st_mode) == 0o644  # not mkstemp's private 0600


def test_fetch_holds_a_lock_so_one_process_fetches_at_a_time(tmp_path, monkeypatch):
    held = []

    def route(spec, directory, log):  # while one fetch runs, another cannot take the lock
        try:
            FileLock(str(tmp_path / f".{directory.name}.fetch.lock"), timeout=0, thread_local=False, is_singleton=False).acquire()
            held.append(False)
        except Timeout:
            held.append(True)
        raise sources.Lenet5Error("offline")

    monkeypatch.setitem(sources.ROUTES, MNIST.name, [("route", route)])
    with pytest.raises(sources.Lenet5Error, match="offline"):
        sources.fetch(MNIST.name, tmp_path, log=lambda s: None)
    assert held == [True]
