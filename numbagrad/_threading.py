"""Pick Numba's threading layer before the first parallel kernel runs.

Numba's default ``omp`` layer and OpenBLAS's own threads fight over the cores when a BLAS
call and a ``prange`` kernel alternate (a training step does exactly that): idle OpenMP
workers spin while BLAS runs, and on two cores a step measured 13.6 ms instead of 0.5 ms.
The ``tbb`` layer does not spin. pip's ``tbb`` package puts ``libtbb.so.12`` in the
environment's ``lib/``, where Numba does not look, so it is loaded here (RTLD_GLOBAL)
before the layer is chosen. Without tbb the ``workqueue`` layer is used; a layer named in
``NUMBA_THREADING_LAYER`` always wins.
"""
from __future__ import annotations

import ctypes
import os
import site
import sys

LAYER = "default"


def _tbb_candidates():
    prefixes = [sys.prefix, sys.base_prefix, getattr(site, "USER_BASE", None) or ""]
    for p in prefixes:
        if p:
            yield os.path.join(p, "lib", "libtbb.so.12")
            yield os.path.join(p, "Library", "bin", "tbb12.dll")


def configure() -> str:
    global LAYER
    import numba

    wanted = os.environ.get("NUMBA_THREADING_LAYER", "")
    if wanted and wanted not in ("tbb", "default", "safe", "threadsafe"):
        LAYER = wanted  # the user's explicit choice of a layer that needs no loading
        return LAYER
    for path in _tbb_candidates():
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                from numba.np.ufunc import tbbpool  # noqa: F401  (fails if TBB is unusable)
            except (OSError, ImportError):
                continue
            numba.config.THREADING_LAYER = "tbb"
            LAYER = "tbb"
            return LAYER
    try:
        from numba.np.ufunc import tbbpool  # noqa: F401,F811  (a system-wide TBB)

        numba.config.THREADING_LAYER = "tbb"
        LAYER = "tbb"
    except ImportError:
        numba.config.THREADING_LAYER = "workqueue"
        LAYER = "workqueue"
    return LAYER
