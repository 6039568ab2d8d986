"""Moving arrays between the host and this device. On the CPU both are the identity
(``from_host`` only makes the array C-contiguous); ``kernels/cuda/transfer.py`` copies."""
from __future__ import annotations

import numpy as np

__all__ = ["from_host", "to_host", "synchronize"]


def from_host(a: np.ndarray) -> np.ndarray:
    return np.require(a, requirements="C")


def to_host(a: np.ndarray) -> np.ndarray:
    return a


def synchronize() -> None:
    """Kernels on the CPU finish before they return: nothing to wait for."""
