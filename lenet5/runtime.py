"""Process-wide settings: freed memory kept for reuse, the thread count, deterministic kernels.

Threads and device decide rounding: the same code, seed, thread count and device give the
same weights; another thread count or device gives other (equally good) weights.

glibc hands every freed block above 128 KiB straight back to the operating system, so each
training step's feature maps (C1's output alone is 2.4 MB at batch 128) are mapped afresh and
page-faulted in on first touch. Raising the thresholds keeps freed maps in the heap for the
next step: 8-10% off a `paper` step (benchmarks/profile_step.py). Linux with glibc only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys

import torch

from lenet5.errors import Lenet5Error

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 512 << 20

# One thread per run by default. Through PyTorch, on this project's 2-core CPU, idle, a `paper`
# pass over 20,000 digits at batch 32 took 4.0 s on one thread and 3.8 s on two: a second thread
# bought 5% at the preset's small batches, while one thread makes a seed's weights independent of
# how many cores a machine has (not of its CPU type) and leaves the other cores to a second run
# (`ablate --workers`). The paper's network now trains through lenet5/fused.c, where a second
# thread buys 1.7-1.9x and `paper`'s weights do not depend on the thread count (docs/performance.md).
DEFAULT_THREADS = 1


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


def machine_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def use_threads(threads: int) -> int:
    """Run PyTorch's CPU kernels on `threads` threads; a count the machine cannot give is an error."""
    cores = machine_cores()
    if not 1 <= threads <= cores:
        raise Lenet5Error(f"--threads must be between 1 and {cores} (the cores this machine gives), got {threads}")
    torch.set_num_threads(threads)
    return threads


def use_deterministic_algorithms() -> None:
    """Make CUDA runs of one seed repeat exactly: deterministic kernels only, no cuDNN autotuning.
    CPU kernels are deterministic already (at a fixed thread count)."""
    # cuBLAS needs a fixed workspace to be deterministic; read when cuBLAS starts, so set it first
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def repeatable_convolutions(device: torch.device) -> None:
    """On a GPU, cuDNN's deterministic convolutions and no autotuning, for every run: its default
    backward convolutions may add in another order each time, and one seed's weights differed
    run to run (by up to 0.017 after two `paper` passes on an H200). Costs far less than
    `use_deterministic_algorithms` (docs/performance.md)."""
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


NONDETERMINISTIC = re.compile(r"^(?P<op>.+?) does not have a deterministic implementation")


def nondeterministic_operation(error: BaseException) -> Lenet5Error | None:
    """PyTorch's refusal of an operation under deterministic algorithms, as one line naming it."""
    match = NONDETERMINISTIC.match(str(error))
    if not isinstance(error, RuntimeError) or match is None:
        return None
    return Lenet5Error(f"--deterministic: {match['op']} has no deterministic implementation on this device; "
                       "run without --deterministic (results then vary run to run) or on the CPU")
