r"""Matrix products: :math:`C = A B` for 2-D and batched 3-D arrays.

Float matrices go to BLAS through ``np.dot`` inside ``@njit`` (Numba links SciPy's BLAS);
C- and F-contiguous operands are both passed without a copy, so ``A @ B.T`` costs no
transpose. Integer matrices, which BLAS does not handle, use an i-k-j loop that streams
rows of ``B`` (``prange`` over rows of ``C``).
"""
from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import Kernel, serial
from .elementwise import contiguous


@serial
def _mm_blas(a, b, out):
    np.dot(a, b, out)


@serial
def _bmm_blas(a, b, out):
    for i in range(a.shape[0]):
        np.dot(a[i], b[i], out[i])


def _mm_loop(a, b, out):
    m, k = a.shape
    n = b.shape[1]
    for i in prange(m):
        for j in range(n):
            out[i, j] = 0
        for p in range(k):
            aip = a[i, p]
            for j in range(n):
                out[i, j] += aip * b[p, j]


def _bmm_loop(a, b, out):
    bs, m, k = a.shape
    n = b.shape[2]
    for t in prange(bs * m):
        q = t // m
        i = t - q * m
        for j in range(n):
            out[q, i, j] = 0
        for p in range(k):
            aip = a[q, i, p]
            for j in range(n):
                out[q, i, j] += aip * b[q, p, j]


_mm_loop_k = Kernel(_mm_loop)
_bmm_loop_k = Kernel(_bmm_loop)


def _layout_ok(x):
    return x.flags.c_contiguous or x.flags.f_contiguous


def matmul(a, b, out=None):
    """``a @ b`` for 2-D ``(m, k) @ (k, n)`` or batched 3-D ``(B, m, k) @ (B, k, n)``.

    Shapes are checked by the caller; ``a`` and ``b`` share a dtype.
    """
    if a.ndim == 2:
        shape = (a.shape[0], b.shape[1])
    else:
        shape = (a.shape[0], a.shape[1], b.shape[2])
    if out is None:
        out = np.empty(shape, a.dtype)
    if out.size == 0:
        return out
    if a.shape[-1] == 0:
        out[...] = 0
        return out
    if a.dtype.kind == "f":
        if a.ndim == 2:
            _mm_blas(a if _layout_ok(a) else contiguous(a),
                     b if _layout_ok(b) else contiguous(b), out)
        else:
            _bmm_blas(contiguous(a), contiguous(b), out)
    else:
        k = _mm_loop_k if a.ndim == 2 else _bmm_loop_k
        k.pick(out.size * a.shape[-1])(contiguous(a), contiguous(b), out)
    return out


__all__ = ["matmul"]
