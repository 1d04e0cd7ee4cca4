"""Process-wide settings that make CPU training faster without changing a single number.

glibc hands every freed block above 128 KiB straight back to the operating system, so each
training step's feature maps (C1's output alone is 2.4 MB at batch 128) are mapped afresh and
page-faulted in on first touch. Raising the thresholds keeps freed maps in the heap for the
next step: 8-10% off a `paper` step (benchmarks/profile_step.py). Linux with glibc only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 512 << 20


def keep_freed_memory() -> bool:
    """Let glibc reuse freed blocks up to 32 MiB instead of unmapping them; True if it took."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
