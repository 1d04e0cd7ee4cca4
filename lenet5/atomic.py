"""Files written whole or not at all: a unique temporary file beside the target, flushed to disk,
then renamed over it. Two processes writing the same file (two runs of a study fetching MNIST at
once) each write their own temporary file, and the last rename wins with a complete file; a
crash leaves the old file (or none), never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp_path) with a fresh temporary path in path's folder, fsync it, rename it to path."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it (mkstemp makes it private)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _sync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def remove_leftovers(folder: Path, name: str = "*") -> None:
    """Delete the temporary files `write_atomic` left in `folder` for file `name` (any file: "*") when the
    process writing it was killed before its rename."""
    for stale in Path(folder).glob(f".{name}.*.tmp"):
        stale.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a file system that cannot open or sync folders is left as it is."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
