r"""Int8 quantization kernels on the GPU, with the launchers of ``kernels/cpu/quant.py``
(same names, parameters, checks, results; the math is explained there).

* **Elementwise** (``quantize``, ``dequantize``, ``fake_quantize`` and its backward): one
  thread per element in a grid-stride loop; channel :math:`c = \lfloor i / \text{inner}
  \rfloor`. The float32 inverse scale :math:`\mathrm{fl}_{32}(1/s)` is computed in the
  kernel (an IEEE division, as on the CPU). ``rint`` is Python's ``round``, which numba-cuda
  compiles to ``llrint`` (round half to even). Since :math:`q_{min} - z` and
  :math:`q_{max} - z` are integers and rounding is monotonic,
  :math:`\operatorname{clamp}(\operatorname{rint}(v), L, H) = \operatorname{rint}
  (\operatorname{clamp}(v, L, H))`: the kernels clamp first (a NaN goes to the lower end),
  so ``round`` only ever sees small finite values. The backward clamps to
  :math:`[L - 1, H + 1]` and tests the rounded value against :math:`[L, H]`.
  ``fake_quantize`` multiplies :math:`(q - z) s` exactly in float64 and rounds once on
  the store, which gives the CPU's product in ``x``'s dtype for float32 and float64.
* **matmul_int8**: the shared-memory tiling of ``linalg.py`` with int32 tiles and
  accumulators. A block computes ``BM x BN`` outputs, walking :math:`K` in ``BK`` steps; both
  operands are K-contiguous (``b_t`` is ``(N, K)``), so consecutive threads load consecutive
  bytes of a row. Integer sums are exact, so the result equals the CPU's bit for bit.
* **qlinear_epilogue**, **int8_row_sums**, **unfold_int8**: one thread per output.
* **histogram**: one thread per element, ``cuda.atomic.add`` into int64 counts (integer
  additions in any order give the same counts). The bin edges are computed on the host as
  numpy does and copied to the device.

The launchers check shapes, dtypes and ranges like the CPU ones, but do not read the
values of device arrays (a zero point outside ``[qmin, qmax]`` or a non-positive scale):
that would cost a device-to-host copy per call. No such value can make a kernel access
memory out of bounds: the clamp keeps every result in ``[qmin, qmax]``.

Float results equal the CPU's, except that the GPU may fuse the epilogue's multiply and
bias add into one FMA (a difference in the last bit).
"""
from __future__ import annotations

import numba
import numpy as np

from ..cpu.quant import (
    _FLOATS,
    QMAX,
    QMIN,
    _check_epilogue,
    _check_histogram,
    _check_matmul,
    _check_out,
    _check_qparams,
    _check_qrange,
    _check_unfold,
    _dtype_is,
)
from ._jit import CudaKernel
from ._runtime import SIM, cuda, grid
from .array import CudaArray
from .elementwise import contiguous, fill

# Tile sizes of matmul_int8 (as in linalg.py): BM x BN outputs per block, BK-deep K steps,
# RM x RN outputs per thread.
if SIM:
    BM, BN, BK, RM, RN = 4, 4, 4, 2, 2
    _MAX_BLOCKS = 2
else:
    BM, BN, BK, RM, RN = 64, 64, 16, 4, 4
    _MAX_BLOCKS = 65535

_BM, _BN, _BK, _RM, _RN, _BMP, _BNP = BM, BN, BK, RM, RN, BM + 1, BN + 1


def _device(name, what, a):
    if not isinstance(a, CudaArray):
        raise TypeError(f"{name}: {what} must be a CudaArray (move host arrays with "
                        f"CudaArray.from_host), got {type(a).__name__}")


# --------------------------------------------------------------------------- elementwise


def _quantize(x, scale, zp, inner, qmin, qmax, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        c = i // inner
        z = zp[c]
        lo = np.float32(qmin - z)
        hi = np.float32(qmax - z)
        v = x[i] * (np.float32(1.0) / scale[c])
        if not v >= lo:  # also NaN
            v = lo
        elif v > hi:
            v = hi
        out[i] = round(v) + z


def _dequantize(q, scale, zp, inner, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        c = i // inner
        out[i] = (np.float32(q[i]) - np.float32(zp[c])) * scale[c]


def _fake_quantize(x, scale, zp, inner, qmin, qmax, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        c = i // inner
        s = scale[c]
        z = zp[c]
        lo = np.float32(qmin - z)
        hi = np.float32(qmax - z)
        v = x[i] * (np.float32(1.0) / s)
        if not v >= lo:
            v = lo
        elif v > hi:
            v = hi
        # (q - z) * s: an integer of at most 9 bits times a float32 is exact in float64,
        # so storing the float64 product rounds once, to x's dtype (as the CPU does)
        out[i] = np.float64(round(v)) * np.float64(s)


def _fake_quantize_backward(g, x, scale, zp, inner, qmin, qmax, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        c = i // inner
        z = zp[c]
        lo = np.float32(qmin - z)
        hi = np.float32(qmax - z)
        v = x[i] * (np.float32(1.0) / scale[c])
        if not v >= lo - 1:  # one step outside is enough to fail the test below
            v = lo - 1
        elif v > hi + 1:
            v = hi + 1
        r = round(v)
        m = np.float32(1.0) if (r >= lo and r <= hi) else np.float32(0.0)
        out[i] = g[i] * m


_quantize_k = CudaKernel(_quantize)
_dequantize_k = CudaKernel(_dequantize)
_fake_quantize_k = CudaKernel(_fake_quantize)
_fake_quantize_backward_k = CudaKernel(_fake_quantize_backward)


def _qcheck(name, x, scale, zero_point, xdtypes):
    _device(name, "x" if name != "dequantize" else "q", x)
    _device(name, "scale", scale)
    _device(name, "zero_point", zero_point)
    _dtype_is(name, "x" if name != "dequantize" else "q", x, xdtypes)
    c, inner = _check_qparams(name, x, scale, zero_point)
    return max(inner, 1)


def _new_out(name, out, shape, dtype):
    if out is None:
        return CudaArray.empty(shape, dtype)
    _device(name, "out", out)
    _check_out(name, out, shape, dtype)
    return out


def quantize(x, scale, zero_point, qmin: int = QMIN, qmax: int = QMAX, out=None):
    """int8 ``clamp(rint(x * fl32(1/scale)) + zero_point, qmin, qmax)`` (see the CPU
    launcher)."""
    name = "quantize"
    inner = _qcheck(name, x, scale, zero_point, _FLOATS)
    qmin, qmax = _check_qrange(name, qmin, qmax)
    out = _new_out(name, out, x.shape, np.int8)
    if out.size:
        _quantize_k.launch(*grid(out.size), contiguous(x).flat(), scale.flat(),
                           zero_point.flat(), inner, qmin, qmax, out.flat())
    return out


def dequantize(q, scale, zero_point, out=None):
    """float32 ``fl32(q - zero_point) * scale`` of an int8 ``q``."""
    name = "dequantize"
    inner = _qcheck(name, q, scale, zero_point, (np.int8,))
    out = _new_out(name, out, q.shape, np.float32)
    if out.size:
        _dequantize_k.launch(*grid(out.size), contiguous(q).flat(), scale.flat(),
                             zero_point.flat(), inner, out.flat())
    return out


def fake_quantize(x, scale, zero_point, qmin: int = QMIN, qmax: int = QMAX, out=None):
    """``dequantize(quantize(x))`` in ``x``'s dtype (PyTorch's fake quantization)."""
    name = "fake_quantize"
    inner = _qcheck(name, x, scale, zero_point, _FLOATS)
    qmin, qmax = _check_qrange(name, qmin, qmax)
    out = _new_out(name, out, x.shape, x.dtype)
    if out.size:
        _fake_quantize_k.launch(*grid(out.size), contiguous(x).flat(), scale.flat(),
                                zero_point.flat(), inner, qmin, qmax, out.flat())
    return out


def fake_quantize_backward(g, x, scale, zero_point, qmin: int = QMIN, qmax: int = QMAX,
                           out=None):
    """``g * mask``, ``mask = qmin <= rint(x / scale) + zero_point <= qmax``."""
    name = "fake_quantize_backward"
    inner = _qcheck(name, x, scale, zero_point, _FLOATS)
    _device(name, "g", g)
    _dtype_is(name, "g", g, (x.dtype,))
    if tuple(g.shape) != tuple(x.shape):
        raise ValueError(f"{name}: g of shape {tuple(g.shape)} for x of shape "
                         f"{tuple(x.shape)}")
    qmin, qmax = _check_qrange(name, qmin, qmax)
    out = _new_out(name, out, x.shape, x.dtype)
    if out.size:
        _fake_quantize_backward_k.launch(*grid(out.size), contiguous(g).flat(),
                                         contiguous(x).flat(), scale.flat(),
                                         zero_point.flat(), inner, qmin, qmax, out.flat())
    return out


# --------------------------------------------------------------------------- int8 matmul


def _mm_int8_tiled(a, b, m, n, k, out):
    """``out[i, j] = sum_p a[i, p] b[j, p]`` for flat C-ordered ``a (m, k)``, ``b (n, k)``,
    ``out (m, n)``; one ``BM x BN`` tile per block at a time."""
    As = cuda.shared.array(shape=(_BK, _BMP), dtype=numba.int32)
    Bs = cuda.shared.array(shape=(_BK, _BNP), dtype=numba.int32)
    acc = cuda.local.array(shape=(_RM, _RN), dtype=numba.int32)
    ar = cuda.local.array(shape=_RM, dtype=numba.int32)
    br = cuda.local.array(shape=_RN, dtype=numba.int32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    cols = _BN // _RN
    rows = _BM // _RM
    nth = cols * rows
    tid = ty * cols + tx
    tm = (m + _BM - 1) // _BM
    tn = (n + _BN - 1) // _BN
    for task in range(cuda.blockIdx.x, tm * tn, cuda.gridDim.x):
        m0 = (task // tn) * _BM
        n0 = (task - (task // tn) * tn) * _BN
        for u in range(_RM):
            for v in range(_RN):
                acc[u, v] = 0
        for k0 in range(0, k, _BK):
            for e in range(tid, _BM * _BK, nth):  # consecutive threads: consecutive k
                mm = e // _BK
                kk = e - mm * _BK
                if m0 + mm < m and k0 + kk < k:
                    As[kk, mm] = a[(m0 + mm) * k + k0 + kk]
                else:
                    As[kk, mm] = 0
            for e in range(tid, _BN * _BK, nth):
                nn = e // _BK
                kk = e - nn * _BK
                if n0 + nn < n and k0 + kk < k:
                    Bs[kk, nn] = b[(n0 + nn) * k + k0 + kk]
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
                        acc[u, v] = numba.int32(acc[u, v] + ar[u] * br[v])
            cuda.syncthreads()
        for u in range(_RM):
            i = m0 + ty + u * rows
            if i < m:
                for v in range(_RN):
                    j = n0 + tx + v * cols
                    if j < n:
                        out[i * n + j] = acc[u, v]


def _row_sums(b, n, k, out):
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        s = numba.int32(0)
        for p in range(k):
            s = numba.int32(s + b[j * k + p])
        out[j] = s


_TILE = {"_BM": BM, "_BN": BN, "_BK": BK, "_RM": RM, "_RN": RN, "_BMP": BM + 1,
         "_BNP": BN + 1}
_mm_int8_k = CudaKernel(_mm_int8_tiled, "", _TILE)
_row_sums_k = CudaKernel(_row_sums)


def matmul_int8(a, b_t, out=None):
    """Exact int32 ``a @ b_t.T`` of int8 ``a (M, K)`` and ``b_t (N, K)``."""
    name = "matmul_int8"
    _device(name, "a", a)
    _device(name, "b_t", b_t)
    m, n, k = _check_matmul(name, a, b_t)
    out = _new_out(name, out, (m, n), np.int32)
    if out.size == 0:
        return out
    if k == 0:
        return fill(out, 0)
    tasks = (-(-m // BM)) * (-(-n // BN))
    _mm_int8_k.launch(max(1, min(tasks, _MAX_BLOCKS)), (BN // RN, BM // RM),
                      contiguous(a).flat(), contiguous(b_t).flat(), m, n, k, out.flat())
    return out


def int8_row_sums(b_t):
    """int32 row sums of an int8 ``(N, K)`` array."""
    name = "int8_row_sums"
    _device(name, "b_t", b_t)
    _dtype_is(name, "b_t", b_t, (np.int8,))
    if b_t.ndim != 2:
        raise ValueError(f"{name}: b_t must be (N, K), got shape {tuple(b_t.shape)}")
    n, k = b_t.shape
    if k >= 1 << 24:
        raise ValueError(f"{name}: K = {k} is too large for an int32 sum (shape "
                         f"{tuple(b_t.shape)})")
    out = CudaArray.empty((n,), np.int32)
    if n:
        _row_sums_k.launch(*grid(n), contiguous(b_t).flat(), n, k, out.flat())
    return out


# --------------------------------------------------------------------------- epilogue


def _qlinear_epilogue(acc, a_scale, a_zp, rows, b_scale, bias, has_bias, n, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        j = i % n
        d = np.float32(numba.int64(acc[i]) - a_zp * numba.int64(rows[j]))
        v = d * (a_scale * b_scale[j])
        if has_bias:
            v = v + bias[j]
        out[i] = v


_qlinear_epilogue_k = CudaKernel(_qlinear_epilogue)


def qlinear_epilogue(acc, a_scale, a_zero_point, b_row_sums, b_scale, bias=None, out=None):
    """float32 ``fl32(acc - a_zero_point * b_row_sums) * (a_scale * b_scale) + bias``."""
    name = "qlinear_epilogue"
    _device(name, "acc", acc)
    _device(name, "b_row_sums", b_row_sums)
    _device(name, "b_scale", b_scale)
    if bias is not None:
        _device(name, "bias", bias)
    a_scale, a_zp = _check_epilogue(name, acc, a_scale, a_zero_point, b_row_sums, b_scale,
                                    bias)
    m, n = acc.shape
    out = _new_out(name, out, (m, n), np.float32)
    if out.size:
        has_bias = bias is not None
        b = contiguous(bias) if has_bias else b_scale  # unread when there is no bias
        _qlinear_epilogue_k.launch(*grid(out.size), contiguous(acc).flat(), a_scale,
                                   np.int64(a_zp), contiguous(b_row_sums).flat(),
                                   contiguous(b_scale).flat(), b.flat(), has_bias, n,
                                   out.flat())
    return out


# --------------------------------------------------------------------------- unfold


def _unfold_int8(x, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, pad, out):
    R = C * KH * KW
    KK = KH * KW
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        row = i // R
        col = i - row * R
        c = col // KK
        r = col - c * KK
        kh = r // KW
        kw = r - kh * KW
        t = row // OW
        ow = row - t * OW
        n = t // OH
        oh = t - n * OH
        ih = oh * sh - pt + kh * dh
        iw = ow * sw - pl + kw * dw
        if ih >= 0 and ih < H and iw >= 0 and iw < W:
            out[i] = x[((n * C + c) * H + ih) * W + iw]
        else:
            out[i] = pad


_unfold_int8_k = CudaKernel(_unfold_int8)


def unfold_int8(x, kernel_size, stride, padding, dilation, pad_value, out=None):
    """im2col of an int8 ``x (N, C, H, W)`` into ``(N OH OW, C KH KW)``, ``pad_value``
    outside the input."""
    name = "unfold_int8"
    _device(name, "x", x)
    geo, pad = _check_unfold(name, x, kernel_size, stride, padding, dilation, pad_value)
    n, c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow = geo
    shape = (n * oh * ow, c * kh * kw)
    out = _new_out(name, out, shape, np.int8)
    if out.size:
        _unfold_int8_k.launch(*grid(out.size), contiguous(x).flat(), c, h, w, kh, kw, sh, sw,
                              pt, pl, dh, dw, oh, ow, np.int8(pad), out.flat())
    return out


# --------------------------------------------------------------------------- histogram


def _histogram(x, lo, hi, denom, bins, edges, counts):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        if v >= lo and v <= hi:
            f = (numba.float64(v - lo) / denom) * bins
            j = numba.int64(f)
            if j == bins:
                j -= 1
            if v < edges[j]:
                j -= 1
            if j != bins - 1 and v >= edges[j + 1]:
                j += 1
            cuda.atomic.add(counts, j, 1)


_histogram_k = CudaKernel(_histogram)


def histogram(x, lo: float, hi: float, bins: int):
    """int64 counts of ``x`` over ``bins`` equal bins on ``[lo, hi]``, as
    ``np.histogram(x, bins, (lo, hi))``."""
    name = "histogram"
    _device(name, "x", x)
    lo, hi, bins, edges = _check_histogram(name, x, lo, hi, bins)
    counts = fill(CudaArray.empty((bins,), np.int64), 0)
    if x.size:
        dt = np.dtype(x.dtype).type
        _histogram_k.launch(*grid(x.size), contiguous(x).flat(), dt(lo), dt(hi), hi - lo,
                            bins, CudaArray.from_host(edges).flat(), counts.flat())
    return counts


__all__ = ["quantize", "dequantize", "fake_quantize", "fake_quantize_backward",
           "matmul_int8", "int8_row_sums", "qlinear_epilogue", "unfold_int8", "histogram"]
