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


@pytest.fixture
def http_server():
    """A loopback HTTP server whose routes are set by the test: path -> (bytes, seconds between 1 KiB chunks)."""
    import http.server
    import threading
    import time

    routes = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body, pause = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 1024):
                self.wfile.write(body[i: i + 1024])
                self.wfile.flush()
                time.sleep(pause)

        def log_message(self, *args):
            return None  # quiet: no request lines in the test output

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", routes
    server.shutdown()


def test_downloads_stream_and_stop_at_bombs_oversize_and_trickles(http_server):
    url, routes = http_server
    routes["/ok.gz"] = (gzip.compress(b"x" * 5000), 0)
    assert sources.download_gzip(url + "/ok.gz", 5000) == b"x" * 5000
    routes["/bomb.gz"] = (gzip.compress(b"\0" * 50_000_000), 0)  # 49 KB that would become 50 MB
    with pytest.raises(Lenet5Error, match="gzip bomb"):
        sources.download_gzip(url + "/bomb.gz", 10_008)
    routes["/big.gz"] = (gzip.compress(b"z" * 10_008) + b"\0" * 200_000, 0)  # the file, then junk that never ends
    with pytest.raises(Lenet5Error, match="more than 10,008 bytes sent"):
        sources.download_gzip(url + "/big.gz", 10_008)
    routes["/slow.gz"] = (gzip.compress(np.random.default_rng(1).bytes(20_000)), 0.2)  # under the per-read timeout
    with pytest.raises(Lenet5Error, match="still arriving after 0.5 s"):
        sources.download_gzip(url + "/slow.gz", 20_000, deadline_s=0.5)
    routes["/cut.gz"] = (gzip.compress(b"y" * 5000)[:-12], 0)
    with pytest.raises(Lenet5Error, match="cut short"):
        sources.download_gzip(url + "/cut.gz", 5000)


@pytest.mark.mnist
def test_two_processes_fetching_at_once_fetch_once_and_both_find_the_files(tmp_path, monkeypatch, mnist_dir):
    """Two workers of a study on a machine without MNIST (threads here: the lock is a file lock,
    taken by each fetch through its own open file, as another process would)."""
    import shutil
    import threading
    import time

    calls = []

    def slow_copy(spec, directory, log):
        calls.append(threading.get_ident())
        directory.mkdir(parents=True, exist_ok=True)
        for name in spec.files:
            time.sleep(0.1)  # long enough for the other fetch to arrive meanwhile
            shutil.copy(mnist_dir / "mnist" / name, directory / name)

    monkeypatch.setitem(sources.ROUTES, "mnist", [("a slow copy", slow_copy)])
    results, errors = [], []

    def fetch():
        try:
            results.append(sources.fetch("mnist", tmp_path, log=lambda s: None))
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(e)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2 and len(calls) == 1
    assert not any(sources.verify(sources.get_spec("mnist"), results[0]).values())
