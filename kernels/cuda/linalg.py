r"""Matrix products on the GPU: :math:`C = A B` for 2-D and batched 3-D arrays.

A shared-memory tiled, register-blocked kernel (the classic SGEMM structure). One thread
block computes a ``BM x BN`` tile of :math:`C`; it walks :math:`K` in steps of ``BK``:

1. the block loads the ``BM x BK`` tile of :math:`A` and the ``BK x BN`` tile of :math:`B`
   into shared memory (zeros past the edges of ``M``, ``N`` and ``K``), every thread a few
   elements, consecutive threads along the operand's unit-stride axis so that the loads
   are coalesced whether the operand is C- or F-ordered (a transposed view);
2. ``syncthreads``; then for each ``kk < BK`` every thread reads ``RM`` values of the A
   column and ``RN`` values of the B row into registers and updates its ``RM x RN``
   accumulators with their outer product,

.. math:: c_{ij} \mathrel{+}= a_{i,kk}\, b_{kk,j}, \qquad i < RM,\ j < RN,

   so each shared-memory value read is used ``RN`` (``RM``) times;
3. ``syncthreads`` before the next tiles overwrite shared memory.

Thread ``(tx, ty)`` owns rows ``ty + u * BM/RM`` and columns ``tx + v * BN/RN`` of the tile:
neighbouring threads hold neighbouring columns, so the shared reads of ``B`` are free of
bank conflicts and the final stores to :math:`C` are coalesced. Tiles (and batch entries)
are handed to blocks by a block-stride loop. Operands are addressed through their element
strides, so transposed and other strided views need no copy; the output may be strided too.

Float32 accumulates in float32 and float64 in float64 (as BLAS does); integer and bool
matrices accumulate in int64 and are cast to the output type on store (``_OUT``), which
gives the wrap-around result of the CPU loop for narrow integer types (and ``!= 0`` for
bool).
"""
from __future__ import annotations

import numba
import numpy as np

from .. import layout
from ._jit import CudaKernel
from ._runtime import SIM, cuda
from .array import CudaArray
from .elementwise import copy, fill

# Tile sizes: BM x BN outputs per block, BK-deep K steps, RM x RN outputs per thread.
if SIM:
    BM, BN, BK, RM, RN = 4, 4, 4, 2, 2
    _MAX_BLOCKS = 2
else:
    BM, BN, BK, RM, RN = 64, 64, 16, 4, 4
    _MAX_BLOCKS = 65535

_ACC = _OUT = numba.float32  # bound per kernel copy
_BM, _BN, _BK, _RM, _RN, _BMP, _BNP = BM, BN, BK, RM, RN, BM + 1, BN + 1


def _mm_tiled(a, sa, b, sb, nb, m, n, k, out, so):
    """out[q] = a[q] @ b[q] for q < nb; ``sa``/``sb``/``so`` are (batch, row, col) element
    strides of the flat arrays ``a``, ``b``, ``out``."""
    As = cuda.shared.array(shape=(_BK, _BMP), dtype=_ACC)  # padded rows: fewer bank
    Bs = cuda.shared.array(shape=(_BK, _BNP), dtype=_ACC)  # conflicts on strided stores
    acc = cuda.local.array(shape=(_RM, _RN), dtype=_ACC)
    ar = cuda.local.array(shape=_RM, dtype=_ACC)
    br = cuda.local.array(shape=_RN, dtype=_ACC)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    cols = _BN // _RN  # threads along x
    rows = _BM // _RM  # threads along y
    nth = cols * rows
    tid = ty * cols + tx
    tm = (m + _BM - 1) // _BM
    tn = (n + _BN - 1) // _BN
    a_k_fast = sa[2] == 1 or sa[1] != 1  # A's unit stride is along k (C-ordered)
    b_n_fast = sb[2] == 1 or sb[1] != 1  # B's unit stride is along n (C-ordered)
    for task in range(cuda.blockIdx.x, nb * tm * tn, cuda.gridDim.x):
        q = task // (tm * tn)
        rem = task - q * tm * tn
        m0 = (rem // tn) * _BM
        n0 = (rem - (rem // tn) * tn) * _BN
        abase = q * sa[0]
        bbase = q * sb[0]
        for u in range(_RM):
            for v in range(_RN):
                acc[u, v] = 0
        for k0 in range(0, k, _BK):
            for e in range(tid, _BM * _BK, nth):
                if a_k_fast:
                    mm = e // _BK
                    kk = e - mm * _BK
                else:
                    kk = e // _BM
                    mm = e - kk * _BM
                if m0 + mm < m and k0 + kk < k:
                    As[kk, mm] = a[abase + (m0 + mm) * sa[1] + (k0 + kk) * sa[2]]
                else:
                    As[kk, mm] = 0
            for e in range(tid, _BK * _BN, nth):
                if b_n_fast:
                    kk = e // _BN
                    nn = e - kk * _BN
                else:
                    nn = e // _BK
                    kk = e - nn * _BK
                if n0 + nn < n and k0 + kk < k:
                    Bs[kk, nn] = b[bbase + (k0 + kk) * sb[1] + (n0 + nn) * sb[2]]
                else:
                    Bs[kk, nn] = 0
            cuda.syncthreads()
            for kk in range(_BK):
                for u in range(_RM):
                    ar[u] = As[kk, ty + u * rows]
                for v in range(_RN):
                    br[v] = Bs[kk, tx + v * cols]
                for u in range(_RM):
                    for v in range(_RN):
                        acc[u, v] += ar[u] * br[v]
            cuda.syncthreads()
        obase = q * so[0]
        for u in range(_RM):
            i = m0 + ty + u * rows
            if i < m:
                for v in range(_RN):
                    j = n0 + tx + v * cols
                    if j < n:
                        out[obase + i * so[1] + j * so[2]] = _OUT(acc[u, v])


_TILE = {"_BM": BM, "_BN": BN, "_BK": BK, "_RM": RM, "_RN": RN, "_BMP": BM + 1,
         "_BNP": BN + 1}
_DTYPES = ("float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")


def _nb(name):
    return numba.boolean if name == "bool" else getattr(numba, name)


_MM_K = {d: CudaKernel(_mm_tiled, d, {"_ACC": _nb(d) if d.startswith("float") else numba.int64,
                                      "_OUT": _nb(d), **_TILE})
         for d in _DTYPES}


def _strides3(x):
    st = layout.element_strides(x)
    if x.ndim == 2:
        return (0,) + tuple(int(s) for s in st)
    return tuple(int(s) for s in st)


def matmul(a, b, out=None):
    """``a @ b`` for 2-D ``(m, k) @ (k, n)`` or batched 3-D ``(B, m, k) @ (B, k, n)``.

    Shapes are checked by the caller; ``a`` and ``b`` share a dtype. Any strides (e.g.
    transposed views) are read in place; ``out``, when given, may be strided too.
    """
    if a.ndim == 2:
        shape = (a.shape[0], b.shape[1])
    else:
        shape = (a.shape[0], a.shape[1], b.shape[2])
    if out is None:
        out = CudaArray.empty(shape, a.dtype)
    if out.size == 0:
        return out
    k = a.shape[-1]
    if k == 0:
        if out.flags.c_contiguous:
            return fill(out, 0)
        return copy(out, fill(CudaArray.empty((1,) * out.ndim, out.dtype), 0))
    nb = 1 if a.ndim == 2 else a.shape[0]
    m, n = shape[-2], shape[-1]
    tasks = nb * (-(-m // BM)) * (-(-n // BN))
    _MM_K["bool" if a.dtype == np.bool_ else a.dtype.name].launch(
        max(1, min(tasks, _MAX_BLOCKS)), (BN // RN, BM // RM), a.flat(), _strides3(a),
        b.flat(), _strides3(b), nb, m, n, k, out.flat(), _strides3(out))
    return out


__all__ = ["matmul"]
