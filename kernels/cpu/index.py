"""Gather and scatter by flat element positions.

Every indexing expression (integer tensors, boolean masks, mixed with slices) is turned by
the tensor layer into the flat positions it selects; these two kernels then move the
data. ``scatter_add`` is the gradient of ``gather`` and accumulates repeated positions, so
it runs on one thread (a parallel version would race on duplicates).
"""
from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import Kernel, serial


def _gather(x, idx, out):
    for i in prange(idx.size):
        out[i] = x[idx[i]]


def _scatter_add(src, idx, out):
    for i in range(idx.size):
        out[idx[i]] += src[i]


def _scatter_set(src, idx, out):
    for i in range(idx.size):
        out[idx[i]] = src[i]


_gather_k = Kernel(_gather)
_scatter_add_k = serial(_scatter_add)
_scatter_set_k = serial(_scatter_set)


def gather(x, idx):
    """``x.ravel()[idx]``: ``x`` C-contiguous, ``idx`` int64 positions already range-checked."""
    out = np.empty(idx.shape, x.dtype)
    if idx.size:
        _gather_k.pick(idx.size)(x.reshape(-1), idx.reshape(-1), out.reshape(-1))
    return out


def scatter_add(src, idx, out):
    """``out.ravel()[idx] += src`` with repeated positions accumulated; returns ``out``."""
    if idx.size:
        _scatter_add_k(src.reshape(-1), idx.reshape(-1), out.reshape(-1))
    return out


def scatter_set(src, idx, out):
    """``out.ravel()[idx] = src`` (the last write wins for repeated positions)."""
    if idx.size:
        _scatter_set_k(src.reshape(-1), idx.reshape(-1), out.reshape(-1))
    return out


__all__ = ["gather", "scatter_add", "scatter_set"]
