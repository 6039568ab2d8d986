"""Gather and scatter by flat element positions on the GPU, with the CPU module's names.

The tensor layer turns every indexing expression into the flat positions it selects
(int64, already range-checked); these kernels move the data, one position per thread in a
grid-stride loop.

* ``gather``: ``out[i] = x[idx[i]]``, race-free.
* ``scatter_add``: ``out[idx[i]] += src[i]`` with ``cuda.atomic.add`` (float32, float64,
  int32, int64, uint32, uint64), so repeated positions accumulate correctly. For floats the
  order in which the duplicates are added is not fixed, so sums over repeated positions can
  differ in the last bits between runs (the CPU kernel adds them in order). Integer sums
  are exact. Dtypes without a hardware atomic (bool, int8, uint8, int16) run the
  sequential loop on one thread, as the CPU does.
* ``scatter_set``: ``out[idx[i]] = src[i]`` where the *last* write wins, as on the CPU,
  made deterministic in two race-free passes: ``winner[idx[i]] = max(i)`` with
  ``cuda.atomic.max`` over a scratch array, then only the winning ``i`` of each position
  writes.
"""
from __future__ import annotations

import numpy as np

from ._jit import CudaKernel
from ._runtime import cuda, grid
from .array import CudaArray
from .elementwise import contiguous, copy, fill


def _gather(x, idx, out):
    for i in range(cuda.grid(1), idx.size, cuda.gridsize(1)):
        out[i] = x[idx[i]]


def _scatter_add_atomic(src, idx, out):
    for i in range(cuda.grid(1), idx.size, cuda.gridsize(1)):
        cuda.atomic.add(out, idx[i], src[i])


def _scatter_add_serial(src, idx, out):
    """The ordered loop, on one thread, for dtypes without an atomic add."""
    if cuda.grid(1) == 0:
        for i in range(idx.size):
            out[idx[i]] += src[i]


def _scatter_winner(idx, winner):
    for i in range(cuda.grid(1), idx.size, cuda.gridsize(1)):
        cuda.atomic.max(winner, idx[i], i)


def _scatter_set_last(src, idx, winner, out):
    for i in range(cuda.grid(1), idx.size, cuda.gridsize(1)):
        p = idx[i]
        if winner[p] == i:
            out[p] = src[i]


_gather_k = CudaKernel(_gather)
_scatter_add_atomic_k = CudaKernel(_scatter_add_atomic)
_scatter_add_serial_k = CudaKernel(_scatter_add_serial)
_scatter_winner_k = CudaKernel(_scatter_winner)
_scatter_set_last_k = CudaKernel(_scatter_set_last)

_ATOMIC = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32,
                                 np.uint64)}


def gather(x, idx):
    """``x.ravel()[idx]``: ``idx`` int64 positions already range-checked."""
    out = CudaArray.empty(idx.shape, x.dtype)
    if idx.size:
        _gather_k.launch(*grid(idx.size), contiguous(x).flat(), contiguous(idx).flat(),
                         out.flat())
    return out


def _scatter(out, body):
    """Run ``body(flat_out)`` on ``out``'s C-order elements (through a copy if strided)."""
    if out.flags.c_contiguous:
        body(out.flat())
        return out
    tmp = contiguous(out)
    body(tmp.flat())
    copy(out, tmp)
    return out


def scatter_add(src, idx, out):
    """``out.ravel()[idx] += src`` with repeated positions accumulated; returns ``out``.

    Uses atomics where the dtype has one: float sums over repeated positions are then
    not bitwise reproducible (the order of the additions varies)."""
    if not idx.size:
        return out
    s = contiguous(src).flat()
    i = contiguous(idx).flat()
    if out.dtype in _ATOMIC:
        return _scatter(out, lambda o: _scatter_add_atomic_k.launch(*grid(idx.size), s, i, o))
    return _scatter(out, lambda o: _scatter_add_serial_k.launch(1, 1, s, i, o))


def scatter_set(src, idx, out):
    """``out.ravel()[idx] = src`` (the last write wins for repeated positions)."""
    if not idx.size:
        return out
    s = contiguous(src).flat()
    i = contiguous(idx).flat()
    winner = fill(CudaArray.empty(out.size, np.int64), -1)
    g = grid(idx.size)

    def body(o):
        _scatter_winner_k.launch(*g, i, winner.flat())
        _scatter_set_last_k.launch(*g, s, i, winner.flat(), o)

    return _scatter(out, body)


__all__ = ["gather", "scatter_add", "scatter_set"]
