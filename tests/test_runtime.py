import ctypes
import sys

import pytest
import torch

from lenet5.runtime import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_takes_and_changes_no_number():
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
