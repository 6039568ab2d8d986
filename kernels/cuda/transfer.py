"""Moving arrays between the host and the GPU: the only places a copy crosses the bus."""
from __future__ import annotations

import numpy as np

from ._runtime import cuda
from .array import CudaArray

__all__ = ["from_host", "to_host", "synchronize"]


def from_host(a: np.ndarray) -> CudaArray:
    """A device copy of a numpy array."""
    return CudaArray.from_host(a)


def to_host(a: CudaArray) -> np.ndarray:
    """A numpy copy of a device array (waits for the kernels that write it)."""
    return a.to_host()


def synchronize() -> None:
    """Wait until every kernel launched so far has finished."""
    cuda.synchronize()
