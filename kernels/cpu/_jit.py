"""Compilation helpers for the CPU kernels.

Every kernel body is compiled twice, lazily: serially (small arrays, where starting the
thread pool costs more than the work) and with ``parallel=True`` (``prange`` split over
threads). Only the variants a program actually calls get compiled.
``error_model='numpy'`` makes float division by zero give inf/nan as in numpy instead of
raising.
"""
from numba import njit

# Below this many elements a kernel runs on one thread.
PARALLEL_MIN = 1 << 15

# At most this many elements per parallel chunk of a strided kernel.
CHUNK = 1 << 14


def serial(fn=None, **kw):
    opts = dict(error_model="numpy", nogil=True)
    opts.update(kw)
    return njit(**opts)(fn) if fn is not None else (lambda f: njit(**opts)(f))


def parallel(fn=None, **kw):
    opts = dict(error_model="numpy", nogil=True, parallel=True)
    opts.update(kw)
    return njit(**opts)(fn) if fn is not None else (lambda f: njit(**opts)(f))


class Kernel:
    """A kernel body compiled serially and in parallel; called with the variant that fits."""

    __slots__ = ("py", "_ser", "_par", "_opts")

    def __init__(self, py, **opts):
        self.py = py
        self._opts = opts
        self._ser = None
        self._par = None

    def pick(self, n):
        if n >= PARALLEL_MIN:
            if self._par is None:
                self._par = parallel(self.py, **self._opts)
            return self._par
        if self._ser is None:
            self._ser = serial(self.py, **self._opts)
        return self._ser
