import ctypes
import subprocess
import sys

import pytest
import torch

from lenet5.runtime import keep_freed_memory, repeatable_convolutions


FREED_BYTES = """
import ctypes, sys
from lenet5.runtime import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
block = libc.malloc(16 << 20)
libc.free(ctypes.c_void_p(block))
print(libc.mallinfo2().fordblks)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_keeps_a_freed_16_mib_block_for_reuse():
    # glibc unmaps a fresh process's freed 16 MiB block at once (mmap threshold 128 KiB); after
    # keep_freed_memory it stays in the heap, free, for the next pass's feature maps
    kept = {mode: int(subprocess.run([sys.executable, "-c", FREED_BYTES, mode], capture_output=True, text=True,
                                     check=True).stdout) for mode in ("default", "keep")}
    assert kept["keep"] >= 16 << 20 > kept["default"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_changes_no_number():
    torch.manual_seed(0)
    x, w = torch.randn(64, 1, 32, 32), torch.randn(6, 1, 5, 5)
    before = torch.tanh(torch.nn.functional.conv2d(x, w))
    assert keep_freed_memory() is True
    assert torch.equal(torch.tanh(torch.nn.functional.conv2d(x, w)), before)


def test_keep_freed_memory_without_glibc(monkeypatch):
    def no_libc(*args, **kwargs):
        raise OSError("no libc here")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert keep_freed_memory() is False


def test_use_threads_sets_the_count_and_refuses_what_the_machine_lacks():
    from lenet5.errors import Lenet5Error
    from lenet5.runtime import machine_cores, use_threads

    before = torch.get_num_threads()
    try:
        assert use_threads(1) == 1 and torch.get_num_threads() == 1
        for bad in (0, -1, machine_cores() + 1):
            with pytest.raises(Lenet5Error, match=f"between 1 and {machine_cores()}"):
                use_threads(bad)
    finally:
        torch.set_num_threads(before)


def test_nondeterministic_refusal_becomes_one_line_naming_the_operation():
    from lenet5.runtime import nondeterministic_operation

    torch.use_deterministic_algorithms(True)
    try:
        with pytest.raises(RuntimeError) as refusal:
            torch.zeros(4).put_(torch.tensor([1, 1]), torch.tensor([1.0, 2.0]))
    finally:
        torch.use_deterministic_algorithms(False)
    message = str(nondeterministic_operation(refusal.value))
    assert message.startswith("--deterministic: put_ has no deterministic implementation") and "\n" not in message
    assert nondeterministic_operation(RuntimeError("shapes do not match")) is None


def test_gpu_runs_use_cudnns_deterministic_convolutions_and_cpu_runs_change_nothing():
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
    repeatable_convolutions(torch.device("cpu"))
    assert (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) == (False, True)
    repeatable_convolutions(torch.device("cuda"))  # flags only: no GPU needed
    assert (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) == (True, False)
