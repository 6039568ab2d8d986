"""Importing numba-cuda safely, and the facts a launcher needs about the device.

* numba-cuda 0.30.x registers an implementation of ``np.row_stack`` when it compiles its
  first kernel; numpy 2.5 removed that alias of ``np.vstack``, so the first compile fails
  with ``AttributeError``. The alias is put back (``np.row_stack = np.vstack``, which it
  always was) before ``numba.cuda`` is imported.
* ``SIM`` is true under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set before
  Numba is imported): kernels then run as Python threads on the CPU, about 70 us per
  thread, so the launchers give the simulator as few threads as the work allows.
"""
from __future__ import annotations

import numpy as np

if not hasattr(np, "row_stack"):  # numpy >= 2.5
    np.row_stack = np.vstack

try:
    from numba import cuda
    from numba.core import config
except ImportError as e:  # pragma: no cover - numba itself is a dependency
    raise ImportError(f"numbagrad CUDA backend: cannot import numba.cuda ({e})") from e

try:
    import numba_cuda  # noqa: F401  (the maintained CUDA target, with the simulator)
except ImportError as e:
    raise ImportError(
        "numbagrad's CUDA backend needs numba-cuda 0.30.x: pip install 'numbagrad[cuda]'"
    ) from e

SIM = bool(config.ENABLE_CUDASIM)

# Threads per block on a real GPU, and the most threads one simulated launch gets.
BLOCK = 256
SIM_THREADS = 16


def available() -> bool:
    try:
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001  (a broken driver means "not available")
        return False


def grid(n: int, block: int = BLOCK) -> tuple:
    """``(blocks, threads)`` for a grid-stride loop over ``n`` items."""
    if SIM:
        return 1, max(1, min(n, SIM_THREADS))
    if n <= block:
        return 1, max(32, (n + 31) // 32 * 32)
    return min((n + block - 1) // block, 65535), block
