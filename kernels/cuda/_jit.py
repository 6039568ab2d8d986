"""``CudaKernel``: a ``@cuda.jit`` kernel compiled lazily, launched with a checked argument
list, and known by name so tests can compile every launched signature to PTX.

* A host numpy array passed to a numba-cuda kernel is copied to the device and back on
  every launch (~400 us): in numbagrad that is always a bug, so ``launch`` refuses it.
* ``CudaKernel.registry`` maps each kernel's qualified name to its object. With
  ``NUMBAGRAD_CUDA_RECORD=<file>`` every launch's argument types are recorded and written
  to that file at exit; ``tests/cuda_ptx.py`` then compiles each recorded signature for a
  real GPU (``cuda.compile_ptx``), which needs no GPU. The simulator runs kernels as
  Python and would not notice code that numba-cuda cannot compile; this does.
"""
from __future__ import annotations

import atexit
import os
import pickle

import numba
import numpy as np
from numba.core import types

from ..cpu._jit import _variant
from ._runtime import SIM, cuda

_RECORD = os.environ.get("NUMBAGRAD_CUDA_RECORD")
_seen: set = set()


def device(fn):
    """A device function (callable from kernels) from plain scalar Python."""
    return cuda.jit(device=True)(fn)


def _arg_type(a):
    if hasattr(a, "__cuda_array_interface__") or hasattr(a, "_ary"):
        host = a._ary if SIM else a
        flags = host.flags if SIM else a._dummy.flags
        layout = "C" if flags["C_CONTIGUOUS"] else ("F" if flags["F_CONTIGUOUS"] else "A")
        return types.Array(numba.from_dtype(a.dtype), len(a.shape), layout)
    return numba.typeof(a)


class CudaKernel:
    registry: dict = {}

    __slots__ = ("name", "py", "_k")

    def __init__(self, py, name: str = "", globals_=None):
        if name or globals_:
            py = _variant(py, f"_{name}" if name else "", globals_)
        self.py = py
        self.name = f"{py.__module__}.{py.__qualname__}"
        self._k = None
        if self.name in CudaKernel.registry:
            raise RuntimeError(f"two CUDA kernels named {self.name}")
        CudaKernel.registry[self.name] = self

    @property
    def compiled(self):
        if self._k is None:
            self._k = cuda.jit(self.py)
        return self._k

    def launch(self, blocks, threads, *args, shared: int = 0):
        for a in args:
            if isinstance(a, np.ndarray) and a.ndim > 0:
                raise TypeError(f"{self.name}: a host numpy array reached a CUDA launch "
                                f"(shape {a.shape}); move it with CudaArray.from_host first")
        if _RECORD:
            _seen.add((self.name, tuple(_arg_type(a) for a in args)))
        self.compiled[blocks, threads, 0, shared](*args)


def _dump():
    if _seen:
        prev = set()
        if os.path.exists(_RECORD):
            with open(_RECORD, "rb") as f:
                prev = pickle.load(f)
        with open(_RECORD, "wb") as f:
            pickle.dump(prev | _seen, f)


if _RECORD:
    atexit.register(_dump)
