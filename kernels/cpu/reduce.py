r"""Reductions over one group of adjacent dimensions of a C-contiguous array.

The launcher views the input as ``(outer, r, inner)`` and reduces the middle axis, so
``sum(dim=1)`` of ``(A, B, C)`` is ``outer=A, r=B, inner=C`` and a full reduction is
``outer=inner=1``. Several reduced groups are done one pass after another
(``kernels.layout.reduce_view``). Float sums accumulate in float64 when the rows are
contiguous (``inner == 1``), which is what keeps a float32 sum of millions of elements
accurate.

.. math:: \mathrm{out}[o, i] = \mathrm{scale} \sum_{k<r} x[o, k, i]
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange, uint64

from .. import layout
from . import _jit
from ._jit import Kernel, parallel, serial
from .elementwise import contiguous

_BLOCK = 256  # columns per task when reducing a non-last axis


def _sum_rows(x, outer, r, scale, out, acc0):
    """Sums of ``outer`` contiguous rows of length ``r`` (the reduced axis is the last)."""
    for o in prange(outer):
        s = acc0
        base = o * r
        for k in range(r):
            s += x[uint64(base + k)]
        out[o] = s * scale


def _sum_middle(x, outer, r, inner, scale, out):
    """Sums over the middle axis of ``(outer, r, inner)``, ``inner > 1``: each task adds
    whole rows into a block of ``_BLOCK`` outputs (contiguous loads, no reduction chain).
    Kept apart from ``_sum_rows`` so that a program compiles only the loop it uses (a bias
    gradient needs this one alone)."""
    nb = (inner + _BLOCK - 1) // _BLOCK
    for t in prange(outer * nb):
        o = t // nb
        c0 = (t - o * nb) * _BLOCK
        c1 = min(c0 + _BLOCK, inner)
        ob = o * inner
        for i in range(c0, c1):
            out[uint64(ob + i)] = 0
        for k in range(r):
            base = (o * r + k) * inner
            for i in range(c0, c1):
                out[uint64(ob + i)] += x[uint64(base + i)]
        for i in range(c0, c1):
            out[uint64(ob + i)] *= scale


def _sum_all(x, acc0):
    s = acc0
    for i in prange(x.size):
        s += x[i]
    return s


def _extreme_rows(x, outer, r, inner, out, idx, want_max):
    """max/min along the middle axis with the index of the first extreme; NaN wins."""
    for t in prange(outer * inner):
        o = t // inner
        i = t - o * inner
        base = o * r * inner + i
        best = x[base]
        bi = 0
        if best == best:
            for k in range(1, r):
                v = x[base + k * inner]
                if v != v:
                    best = v
                    bi = k
                    break
                if (v > best) if want_max else (v < best):
                    best = v
                    bi = k
        out[t] = best
        idx[t] = bi


def _logsumexp_rows(x, outer, r, inner, out):
    for t in prange(outer * inner):
        o = t // inner
        i = t - o * inner
        base = o * r * inner + i
        m = x[base]
        for k in range(1, r):
            v = x[base + k * inner]
            if v > m:
                m = v
        if math.isinf(m):
            out[t] = m if m > 0 else -math.inf
            continue
        s = 0.0
        for k in range(r):
            s += math.exp(x[base + k * inner] - m)
        out[t] = m + math.log(s)


def _softmax_rows(x, outer, r, inner, out, log):
    for t in prange(outer * inner):
        o = t // inner
        i = t - o * inner
        base = o * r * inner + i
        m = x[base]
        for k in range(1, r):
            v = x[base + k * inner]
            if v > m:
                m = v
        s = 0.0
        for k in range(r):
            s += math.exp(x[base + k * inner] - m)
        if log:
            lse = m + math.log(s)
            for k in range(r):
                out[base + k * inner] = x[base + k * inner] - lse
        else:
            inv = 1.0 / s
            for k in range(r):
                out[base + k * inner] = math.exp(x[base + k * inner] - m) * inv


_sum_k = Kernel(_sum_rows, fastmath={"reassoc", "contract"})
_sum_middle_k = Kernel(_sum_middle, fastmath={"reassoc", "contract"})
_sum_all_ser = serial(_sum_all, fastmath={"reassoc", "contract"})
_sum_all_par = parallel(_sum_all, fastmath={"reassoc", "contract"})
_extreme_k = Kernel(_extreme_rows)
_lse_k = Kernel(_logsumexp_rows)
_softmax_k = Kernel(_softmax_rows)


def _acc(dtype):
    if dtype.kind == "f":
        return np.float64(0)
    if dtype.kind == "b":
        return np.int64(0)
    return np.int64(0)


def sum(x, dims=None, scale=1.0, out_dtype=None):
    """Sum of a C-contiguous ``x`` over ``dims`` (all when None), times ``scale``.

    Returns an array of ``x``'s shape with the reduced dims set to 1 (the caller reshapes).
    Integer and bool inputs sum into int64, as in PyTorch.
    """
    x = contiguous(x)
    out_dtype = np.dtype(out_dtype or (x.dtype if x.dtype.kind == "f" else np.int64))
    if x.dtype.kind == "b":
        x = x.view(np.uint8)
    if dims is None:
        dims = tuple(range(x.ndim))
    kept = tuple(1 if d in dims else n for d, n in enumerate(x.shape))
    if x.size == 0:
        return np.zeros(kept, out_dtype)
    if len(dims) == x.ndim:
        k = _sum_all_par if x.size >= _jit.PARALLEL_MIN else _sum_all_ser
        s = k(x.reshape(-1), _acc(x.dtype))
        return np.full(kept, s * scale if scale != 1.0 else s, out_dtype)
    cur = x.reshape(-1)
    passes = layout.reduce_view(x.shape, dims)
    for p, (outer, r, inner) in enumerate(passes):
        out = np.empty(outer * inner, out_dtype)
        sc = scale if p == len(passes) - 1 else 1.0
        if inner == 1:
            _sum_k.pick(cur.size)(cur, outer, r, out.dtype.type(sc), out,
                                  _acc(out_dtype) if out_dtype.kind == "f" else out_dtype.type(0))
        else:
            _sum_middle_k.pick(cur.size)(cur, outer, r, inner, out.dtype.type(sc), out)
        cur = out
    return cur.reshape(kept)


def _split(x, dim):
    outer = int(np.prod(x.shape[:dim], dtype=np.int64))
    inner = int(np.prod(x.shape[dim + 1:], dtype=np.int64))
    return outer, x.shape[dim], inner


def max_dim(x, dim):
    """(values, indices) of the maximum along ``dim``; shapes have ``dim`` set to 1."""
    return _extreme(x, dim, True)


def min_dim(x, dim):
    """(values, indices) of the minimum along ``dim``; shapes have ``dim`` set to 1."""
    return _extreme(x, dim, False)


def _extreme(x, dim, want_max):
    x = contiguous(x)
    outer, r, inner = _split(x, dim)
    kept = x.shape[:dim] + (1,) + x.shape[dim + 1:]
    out = np.empty(kept, x.dtype)
    idx = np.empty(kept, np.int64)
    _extreme_k.pick(x.size)(x.reshape(-1), outer, r, inner, out.reshape(-1),
                            idx.reshape(-1), want_max)
    return out, idx


def max_all(x):
    """(value, flat index) of the maximum of all elements."""
    v, i = _extreme(contiguous(x).reshape(-1), 0, True)
    return v[0], int(i[0])


def min_all(x):
    """(value, flat index) of the minimum of all elements."""
    v, i = _extreme(contiguous(x).reshape(-1), 0, False)
    return v[0], int(i[0])


def logsumexp(x, dim):
    r""":math:`\log\sum_k e^{x_k}` along ``dim`` (max-shifted); ``dim`` kept as size 1."""
    x = contiguous(x)
    outer, r, inner = _split(x, dim)
    out = np.empty(x.shape[:dim] + (1,) + x.shape[dim + 1:], x.dtype)
    _lse_k.pick(x.size)(x.reshape(-1), outer, r, inner, out.reshape(-1))
    return out


def softmax_forward(x, dim):
    r"""Softmax along ``dim``: :math:`e^{x_k - m} / \sum_j e^{x_j - m}` with :math:`m = \max x`."""
    x = contiguous(x)
    out = np.empty(x.shape, x.dtype)
    outer, r, inner = _split(x, dim)
    _softmax_k.pick(x.size)(x.reshape(-1), outer, r, inner, out.reshape(-1), False)
    return out


def log_softmax_forward(x, dim):
    r"""Log-softmax along ``dim``: :math:`x_k - \log\sum_j e^{x_j}`."""
    x = contiguous(x)
    out = np.empty(x.shape, x.dtype)
    outer, r, inner = _split(x, dim)
    _softmax_k.pick(x.size)(x.reshape(-1), outer, r, inner, out.reshape(-1), True)
    return out


__all__ = ["sum", "max_dim", "min_dim", "max_all", "min_all", "logsumexp",
           "softmax_forward", "log_softmax_forward"]


def _cumsum_rows(x, outer, r, inner, out):
    for t in prange(outer * inner):
        o = t // inner
        i = t - o * inner
        base = o * r * inner + i
        s = x[base] * 0
        for k in range(r):
            s += x[base + k * inner]
            out[base + k * inner] = s


def _argsort_rows(x, outer, r, inner, descending, out):
    """Stable argsort of every line along the middle axis (NaN sorts last, as in PyTorch)."""
    for t in prange(outer * inner):
        o = t // inner
        i = t - o * inner
        base = o * r * inner + i
        line = np.empty(r, x.dtype)
        for k in range(r):
            v = x[base + k * inner]
            line[k] = -v if descending else v
        order = np.argsort(line, kind="mergesort")
        for k in range(r):
            out[base + k * inner] = order[k]


_cumsum_k = Kernel(_cumsum_rows)
_argsort_k = Kernel(_argsort_rows)


def cumsum(x, dim):
    """Running sum along ``dim`` (same shape as ``x``)."""
    x = contiguous(x)
    out = np.empty(x.shape, x.dtype if x.dtype.kind == "f" else np.int64)
    if x.size:
        outer, r, inner = _split(x, dim)
        _cumsum_k.pick(x.size)(x.reshape(-1), outer, r, inner, out.reshape(-1))
    return out


def argsort(x, dim, descending=False):
    """Indices (int64) that sort ``x`` along ``dim``; stable."""
    x = contiguous(x)
    out = np.empty(x.shape, np.int64)
    if x.size:
        outer, r, inner = _split(x, dim)
        src = x if x.dtype.kind != "b" else x.view(np.uint8)
        if descending and src.dtype.kind == "u":
            src = src.astype(np.int64)
        _argsort_k.pick(x.size)(src.reshape(-1), outer, r, inner, descending, out.reshape(-1))
    return out


__all__ += ["cumsum", "argsort"]
