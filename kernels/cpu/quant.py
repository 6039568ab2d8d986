r"""Int8 quantization kernels: quantize / dequantize, fake quantization (forward and its
straight-through gradient), an exact int8 matrix product with int32 accumulation, the
float epilogue of a quantized linear layer, int8 im2col, and a histogram for observers.

**Affine quantization.** A real value :math:`x` is stored as an int8 :math:`q` with a
scale :math:`s > 0` and a zero point :math:`z` (the integer that stands for 0.0):

.. math::
    q = \operatorname{clamp}\big(\operatorname{rint}(x \cdot s^{-1}) + z,\
        q_{min},\ q_{max}\big), \qquad \hat x = (q - z)\, s

``rint`` rounds half to even (C's ``nearbyint``, ``np.rint``: 2.5 -> 2, -0.5 -> -0). The
inverse scale is the float32 :math:`s^{-1} = \mathrm{fl}_{32}(1 / s)` and :math:`x s^{-1}`
is one multiplication in ``x``'s dtype: exactly what PyTorch's CPU
``fake_quantize_per_tensor_affine`` / ``fake_quantize_per_channel_affine`` compute, so
``fake_quantize`` here agrees with them bit for bit in float32, and
``dequantize(quantize(x))`` is ``fake_quantize(x)``. (``x / s`` differs from
:math:`x s^{-1}` in the last bit often enough to change a few results in a million.)
:math:`q - z` is an exact small integer; ``fake_quantize`` multiplies it by :math:`s` in
``x``'s dtype (as torch's per-channel kernel does; torch's per-tensor kernel multiplies in
float32 even for float64 input, so there the two differ below float32 precision), and
``dequantize`` gives float32. ``torch.quantize_per_tensor`` itself rounds differently: its
x86 path (FBGEMM) rounds the fused :math:`x s^{-1} + z`, ties and all, so it can differ
from this (and from torch's own fake quantization) by one step where :math:`x s^{-1}` lies
within an ulp of a half-integer (about 5 values in a million); with :math:`z = 0` the two
agree exactly. NaN quantizes to :math:`q_{min}`
(its fake-quantization gradient is 0), as in torch's fake quantization.

``scale`` (float32) and ``zero_point`` (int32) are 1-D arrays of length 1 (*per tensor*) or
``x.shape[0]`` (*per channel*, along axis 0: a weight's output channels).

**Int8 products.** With int8 operands every product satisfies
:math:`|a b| \le 128 \cdot 128 = 2^{14}`, so a sum of :math:`K` of them stays below
:math:`2^{31}` while :math:`K < 2^{17}`: int32 accumulation is exact (``matmul_int8``
refuses a larger :math:`K`). For a linear layer with activations
:math:`a \approx s_a (q_a - z_a)` and a symmetric weight :math:`w_{n} \approx s_{w,n}\, q_{w,n}`
(zero point 0, PyTorch's default for int8 weights):

.. math::
    y_{mn} = \sum_k s_a (q_{a,mk} - z_a)\, s_{w,n}\, q_{w,nk} + b_n
    = s_a s_{w,n} \Big(\underbrace{\textstyle\sum_k q_{a,mk}\, q_{w,nk}}_{\text{matmul\_int8}}
    - z_a \underbrace{\textstyle\sum_k q_{w,nk}}_{\text{int8\_row\_sums}}\Big) + b_n

so the zero point costs one precomputed row sum per output feature, not a pass over the
activations (``qlinear_epilogue`` applies it). A convolution is the same product over the
patches ``unfold_int8`` cuts out, padded with the activation's zero point :math:`z_a` (the
int8 that means 0.0).

**matmul_int8** reads both operands along :math:`K` (``b_t`` is the weight as stored,
``(N, K)``), so its inner loop is a dot product of two contiguous int8 rows. Each step
computes a 4 x 2 block of outputs (4 rows of ``a`` against 2 rows of ``b_t``): 6 loads feed
8 multiply-adds, and LLVM vectorises the :math:`K` loop (8 int32 lanes, ``vpmulld`` on
AVX2). The sums are written ``int32(s + a * b)``: Numba types integer arithmetic as int64,
and without the cast the accumulators are int64 (4 lanes per register; the loops ran at
half the speed or less).
Work is split into tiles of ``ib`` rows x ``jb`` columns, ``jb`` chosen so that ``jb`` rows
of ``b_t`` stay in the L1 cache while the tile's rows of ``a`` go by; tiles run in
parallel (``prange``). Measured on one core of the 2-core AMD EPYC (AVX2): about 60
GOP/s, 20-25x numpy's int32 ``@`` and about 0.8x single-threaded float32 BLAS. A lone dot
product (1 x 1 block) compiles to ``vpmaddwd`` (int16 products added in pairs) but loads
two bytes per multiply-add and ran at half the speed; larger blocks compile to
``vpmulld``; 4 x 4 blocks run out of the 16 vector registers; 2 x 4 and 3 x 3 blocks
measured like 4 x 2.

**histogram** reproduces ``np.histogram(x, bins, (lo, hi))`` (``lo``, ``hi`` Python
floats) step by step, including numpy's correction of the computed bin by the stored bin
edges, so values on or next to an edge land in the same bin; each parallel chunk counts
into its own row and the rows are summed.

Every launcher checks its arguments (dtypes, shapes, ranges) and raises ``TypeError`` /
``ValueError`` naming itself and the shapes; the kernels read unchecked memory and never
see bad input. Computed flat positions are provably non-negative and are indexed with
``uint64`` (see ``conv.py``) so that the loops vectorise.
"""
from __future__ import annotations

import math

import numpy as np
from numba import int32, int64, prange, uint64

from ._jit import CHUNK, Kernel, serial
from .conv import _pad4, conv_output_size
from .elementwise import contiguous

QMIN, QMAX = -128, 127
# Largest K whose int8 x int8 sum cannot leave int32: K * 2^14 <= 2^31 - 1.
K_MAX = (1 << 17) - 1
# Bytes of b_t rows kept hot per matmul tile (about half of a 32 KB L1 data cache).
_TILE_BYTES = 16 * 1024
_TILE_ROWS = 64  # rows of ``a`` per matmul tile

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------- checks
# Shared with kernels/cuda/quant.py: they read only .shape, .dtype and .ndim.


def _dtype_is(name, what, a, dtypes):
    if not hasattr(a, "dtype") or not hasattr(a, "shape"):
        raise TypeError(f"{name}: {what} must be an array, got {type(a).__name__}")
    if np.dtype(a.dtype) not in [np.dtype(d) for d in dtypes]:
        want = " or ".join(np.dtype(d).name for d in dtypes)
        raise TypeError(f"{name}: {what} must be {want}, got {a.dtype} (shape "
                        f"{tuple(a.shape)})")


def _int_arg(name, what, v, lo=None, hi=None):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}: {what} must be an int, got {v!r}")
    v = int(v)
    if hi is None and lo is not None and v < lo:
        raise ValueError(f"{name}: {what} = {v} must be at least {lo}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name}: {what} = {v} is outside [{lo}, {hi}]")
    return v


def _check_qrange(name, qmin, qmax):
    qmin = _int_arg(name, "qmin", qmin, QMIN, QMAX)
    qmax = _int_arg(name, "qmax", qmax, QMIN, QMAX)
    if qmin > qmax:
        raise ValueError(f"{name}: qmin = {qmin} > qmax = {qmax}")
    return qmin, qmax


def _check_qparams(name, x, scale, zero_point):
    """``(channels, inner)``: 1 and ``x.size`` per tensor, ``x.shape[0]`` and the size of
    one channel per channel."""
    _dtype_is(name, "scale", scale, (np.float32,))
    _dtype_is(name, "zero_point", zero_point, (np.int32,))
    if scale.ndim != 1 or zero_point.ndim != 1 or scale.shape != zero_point.shape:
        raise ValueError(f"{name}: scale and zero_point must be 1-D of one length, got "
                         f"shapes {tuple(scale.shape)} and {tuple(zero_point.shape)}")
    c = scale.shape[0]
    if x.ndim < 1:
        raise ValueError(f"{name}: x must have at least one dimension, got shape "
                         f"{tuple(x.shape)}")
    if c == 1:
        return 1, int(np.prod(x.shape, dtype=np.int64))
    if c != x.shape[0]:
        raise ValueError(f"{name}: {c} scales for x of shape {tuple(x.shape)}: give 1 "
                         f"(per tensor) or x.shape[0] = {x.shape[0]} (per channel)")
    inner = int(np.prod(x.shape[1:], dtype=np.int64))
    return c, inner


def _check_qparam_values(name, scale, zero_point, qmin, qmax):
    """Value checks (CPU only: on the GPU they would cost a device-to-host copy)."""
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"{name}: scale must be positive and finite, got {scale}")
    if zero_point.size and (zero_point.min() < qmin or zero_point.max() > qmax):
        raise ValueError(f"{name}: zero_point must lie in [qmin, qmax] = [{qmin}, {qmax}], "
                         f"got {zero_point}")


def _check_out(name, out, shape, dtype):
    shape = tuple(int(n) for n in shape)
    if tuple(out.shape) != shape or np.dtype(out.dtype) != np.dtype(dtype):
        raise ValueError(f"{name}: out must have shape {shape} and dtype "
                         f"{np.dtype(dtype).name}, got {tuple(out.shape)} {out.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name}: out must be C-contiguous")


def _check_matmul(name, a, b_t):
    _dtype_is(name, "a", a, (np.int8,))
    _dtype_is(name, "b_t", b_t, (np.int8,))
    if a.ndim != 2 or b_t.ndim != 2 or a.shape[1] != b_t.shape[1]:
        raise ValueError(f"{name}: need a (M, K) and b_t (N, K), got shapes "
                         f"{tuple(a.shape)} and {tuple(b_t.shape)}")
    if a.shape[1] > K_MAX:
        raise ValueError(f"{name}: K = {a.shape[1]} > {K_MAX}: the int32 sum of int8 "
                         f"products could overflow (shapes {tuple(a.shape)}, "
                         f"{tuple(b_t.shape)})")
    return a.shape[0], b_t.shape[0], a.shape[1]


def _check_epilogue(name, acc, a_scale, a_zero_point, b_row_sums, b_scale, bias):
    _dtype_is(name, "acc", acc, (np.int32,))
    _dtype_is(name, "b_row_sums", b_row_sums, (np.int32,))
    _dtype_is(name, "b_scale", b_scale, (np.float32,))
    if acc.ndim != 2:
        raise ValueError(f"{name}: acc must be (M, N), got shape {tuple(acc.shape)}")
    n = acc.shape[1]
    vecs = [("b_row_sums", b_row_sums), ("b_scale", b_scale)]
    if bias is not None:
        _dtype_is(name, "bias", bias, (np.float32,))
        vecs.append(("bias", bias))
    for what, v in vecs:
        if tuple(v.shape) != (n,):
            raise ValueError(f"{name}: {what} must have shape ({n},) for acc of shape "
                             f"{tuple(acc.shape)}, got {tuple(v.shape)}")
    if isinstance(a_scale, (bool, np.bool_)) or not isinstance(
            a_scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: a_scale must be a float, got {a_scale!r}")
    a_scale = np.float32(a_scale)
    if not (np.isfinite(a_scale) and a_scale > 0):
        raise ValueError(f"{name}: a_scale must be positive and finite, got {a_scale}")
    a_zero_point = _int_arg(name, "a_zero_point", a_zero_point, QMIN, QMAX)
    return a_scale, a_zero_point


def _check_unfold(name, x, kernel_size, stride, padding, dilation, pad_value):
    _dtype_is(name, "x", x, (np.int8,))
    if x.ndim != 4:
        raise ValueError(f"{name}: x must be (N, C, H, W), got shape {tuple(x.shape)}")
    pairs = {"kernel_size": kernel_size, "stride": stride, "dilation": dilation,
             "padding": padding}
    for what, v in pairs.items():
        if not isinstance(v, (tuple, list)):
            raise TypeError(f"{name}: {what} must be a tuple of ints, got {v!r}")
        for t in v:
            _int_arg(name, what, t)
    for what, v in pairs.items():
        if what != "padding" and (len(v) != 2 or min(v) < 1):
            raise ValueError(f"{name}: {what} must be two positive ints, got {v}")
    if len(padding) not in (2, 4) or min(padding) < 0:
        raise ValueError(f"{name}: padding must be 2 or 4 non-negative ints, got {padding}")
    pad_value = _int_arg(name, "pad_value", pad_value, QMIN, QMAX)
    n, c, h, w = (int(s) for s in x.shape)
    kh, kw = (int(k) for k in kernel_size)
    sh, sw = (int(s) for s in stride)
    dh, dw = (int(d) for d in dilation)
    pt, pb, pl, pr = (int(p) for p in _pad4(tuple(padding)))
    oh = conv_output_size(h, kh, sh, pt, pb, dh)
    ow = conv_output_size(w, kw, sw, pl, pr, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: kernel {tuple(kernel_size)} (dilation "
                         f"{tuple(dilation)}) does not fit x of shape {tuple(x.shape)} "
                         f"with padding {tuple(padding)}")
    return (n, c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow), pad_value


def _check_histogram(name, x, lo, hi, bins):
    _dtype_is(name, "x", x, _FLOATS)
    bins = _int_arg(name, "bins", bins, 1, None)
    for what, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(
                v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}: {what} must be a float, got {v!r}")
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name}: range [{lo}, {hi}] is not finite")
    if lo > hi:
        raise ValueError(f"{name}: lo = {lo} > hi = {hi}")
    if lo == hi:  # numpy's rule: widen an empty range
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1, dtype=x.dtype)
    if np.any(edges[:-1] >= edges[1:]):
        raise ValueError(f"{name}: {bins} bins are too many for the range [{lo}, {hi}] "
                         f"in {np.dtype(x.dtype).name}")
    return lo, hi, bins, edges


# --------------------------------------------------------------------------- elementwise
# One task per (channel, chunk of that channel): per-tensor arrays split into chunks,
# per-channel arrays into channels (and chunks of long channels).


def _chunks(inner):
    """Tasks per channel."""
    return max(1, (inner + CHUNK - 1) // CHUNK)


def _quantize(x, inv, zp, inner, nc, qmin, qmax, out):
    """``out[i] = clamp(rint(x[i] inv[c]) + zp[c], qmin, qmax)``, ``c = i // inner``.

    The rounded value and the bounds are floats in ``x``'s dtype (small integers: exact),
    so the loop has no int64 and vectorises."""
    for t in prange(inv.size * nc):
        c = t // nc
        lo = c * inner + (t - c * nc) * CHUNK
        hi = min(lo + CHUNK, (c + 1) * inner)
        si = inv[c]
        z = np.float32(zp[c])
        fmin = np.float32(qmin)
        fmax = np.float32(qmax)
        for i in range(lo, hi):
            q = np.rint(x[uint64(i)] * si) + z
            if not q >= fmin:  # also NaN
                q = fmin
            elif q > fmax:
                q = fmax
            out[uint64(i)] = int32(q)


def _dequantize(q, scale, zp, inner, nc, out):
    """``out[i] = fl32(q[i] - zp[c]) * scale[c]``."""
    for t in prange(scale.size * nc):
        c = t // nc
        lo = c * inner + (t - c * nc) * CHUNK
        hi = min(lo + CHUNK, (c + 1) * inner)
        s = scale[c]
        z = np.float32(zp[c])
        for i in range(lo, hi):
            out[uint64(i)] = (np.float32(q[uint64(i)]) - z) * s  # the difference is exact


def _fake_quantize(x, inv, scale, zp, inner, nc, qmin, qmax, out):
    """``out[i] = (clamp(rint(x[i] inv) + z, qmin, qmax) - z) * scale``, all in ``x``'s
    dtype (``scale`` comes converted to it). ``q - z`` is exact; adding ``z`` before
    subtracting it also turns ``rint(-0.3) = -0.0`` into ``+0.0``, as in PyTorch."""
    for t in prange(inv.size * nc):
        c = t // nc
        lo = c * inner + (t - c * nc) * CHUNK
        hi = min(lo + CHUNK, (c + 1) * inner)
        si = inv[c]
        s = scale[c]
        z = np.float32(zp[c])
        fmin = np.float32(qmin)
        fmax = np.float32(qmax)
        for i in range(lo, hi):
            q = np.rint(x[uint64(i)] * si) + z
            if not q >= fmin:  # also NaN
                q = fmin
            elif q > fmax:
                q = fmax
            out[uint64(i)] = (q - z) * s


def _fake_quantize_backward(g, x, inv, zp, inner, nc, qmin, qmax, out):
    """``out[i] = g[i] * mask[i]``, ``mask = qmin <= rint(x[i] inv) + z <= qmax`` (0 or
    1, multiplied as PyTorch does: a masked-out NaN or inf gradient stays NaN)."""
    for t in prange(inv.size * nc):
        c = t // nc
        lo = c * inner + (t - c * nc) * CHUNK
        hi = min(lo + CHUNK, (c + 1) * inner)
        si = inv[c]
        z = np.float32(zp[c])
        fmin = np.float32(qmin)
        fmax = np.float32(qmax)
        for i in range(lo, hi):
            q = np.rint(x[uint64(i)] * si) + z
            m = np.float32(1.0) if (q >= fmin and q <= fmax) else np.float32(0.0)
            out[uint64(i)] = g[uint64(i)] * m


_quantize_k = Kernel(_quantize)
_dequantize_k = Kernel(_dequantize)
_fake_quantize_k = Kernel(_fake_quantize)
_fake_quantize_backward_k = Kernel(_fake_quantize_backward)


def _inverse(scale):
    """The float32 inverse scale, ``1.0f / s`` as in PyTorch."""
    return np.float32(1.0) / scale


def _flat_c(x):
    return contiguous(x).reshape(-1)


def quantize(x, scale, zero_point, qmin: int = QMIN, qmax: int = QMAX, out=None):
    r"""int8 ``clamp(rint(x * fl32(1/scale)) + zero_point, qmin, qmax)`` of a float32 or
    float64 ``x``; ``scale`` / ``zero_point`` per tensor (length 1) or per channel (length
    ``x.shape[0]``). NaN gives ``qmin``."""
    name = "quantize"
    _dtype_is(name, "x", x, _FLOATS)
    c, inner = _check_qparams(name, x, scale, zero_point)
    qmin, qmax = _check_qrange(name, qmin, qmax)
    _check_qparam_values(name, scale, zero_point, qmin, qmax)
    if out is None:
        out = np.empty(x.shape, np.int8)
    _check_out(name, out, x.shape, np.int8)
    if out.size:
        nc = _chunks(inner)
        _quantize_k.pick(out.size)(_flat_c(x), _inverse(scale), zero_point, inner, nc,
                                   qmin, qmax, out.reshape(-1))
    return out


def dequantize(q, scale, zero_point, out=None):
    r"""float32 ``fl32(q - zero_point) * scale`` of an int8 ``q``, per tensor or per channel
    (axis 0) like ``quantize``."""
    name = "dequantize"
    _dtype_is(name, "q", q, (np.int8,))
    c, inner = _check_qparams(name, q, scale, zero_point)
    _check_qparam_values(name, scale, zero_point, QMIN, QMAX)
    if out is None:
        out = np.empty(q.shape, np.float32)
    _check_out(name, out, q.shape, np.float32)
    if out.size:
        nc = _chunks(inner)
        _dequantize_k.pick(out.size)(_flat_c(q), scale, zero_point, inner, nc,
                                     out.reshape(-1))
    return out


def fake_quantize(x, scale, zero_point, qmin: int = QMIN, qmax: int = QMAX, out=None):
    r"""``(clamp(rint(x * fl32(1/scale)) + z, qmin, qmax) - z) * scale`` in ``x``'s dtype:
    ``dequantize(quantize(x))`` in one pass, and PyTorch's
    ``fake_quantize_per_tensor_affine`` / ``fake_quantize_per_channel_affine`` (axis 0)
    bit for bit in float32."""
    name = "fake_quantize"
    _dtype_is(name, "x", x, _FLOATS)
    c, inner = _check_qparams(name, x, scale, zero_point)
    qmin, qmax = _check_qrange(name, qmin, qmax)
    _check_qparam_values(name, scale, zero_point, qmin, qmax)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    _check_out(name, out, x.shape, x.dtype)
    if out.size:
        nc = _chunks(inner)
        _fake_quantize_k.pick(out.size)(_flat_c(x), _inverse(scale), scale.astype(x.dtype),
                                        zero_point, inner, nc, qmin, qmax, out.reshape(-1))
    return out


def fake_quantize_backward(g, x, scale, zero_point, qmin: int = QMIN, qmax: int = QMAX,
                           out=None):
    r"""Gradient of ``fake_quantize`` (the straight-through estimator):
    :math:`\bar x = \bar y` where :math:`q_{min} \le \operatorname{rint}(x s^{-1}) + z \le
    q_{max}`, else :math:`0 \cdot \bar y` (0 at a NaN ``x``), as PyTorch's
    ``dY * mask``."""
    name = "fake_quantize_backward"
    _dtype_is(name, "x", x, _FLOATS)
    _dtype_is(name, "g", g, (x.dtype,))
    if tuple(g.shape) != tuple(x.shape):
        raise ValueError(f"{name}: g of shape {tuple(g.shape)} for x of shape "
                         f"{tuple(x.shape)}")
    c, inner = _check_qparams(name, x, scale, zero_point)
    qmin, qmax = _check_qrange(name, qmin, qmax)
    _check_qparam_values(name, scale, zero_point, qmin, qmax)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    _check_out(name, out, x.shape, x.dtype)
    if out.size:
        nc = _chunks(inner)
        _fake_quantize_backward_k.pick(out.size)(_flat_c(g), _flat_c(x), _inverse(scale),
                                                 zero_point, inner, nc, qmin, qmax,
                                                 out.reshape(-1))
    return out


# --------------------------------------------------------------------------- int8 matmul


@serial
def _dot(a, pa, b, pb, k):
    """``sum_j a[pa + j] * b[pb + j]`` over ``j < k``, in int32."""
    s = int32(0)
    for j in range(k):
        s = int32(s + int32(a[uint64(pa + j)]) * int32(b[uint64(pb + j)]))
    return s


def _matmul_int8(a, b, m, n, k, ib, jb, out):
    """``out[i, j] = sum_p a[i, p] b[j, p]`` on flat C-ordered ``a (m, k)``, ``b (n, k)``,
    ``out (m, n)``: tiles of ``ib x jb`` outputs in parallel, 4 x 2 blocks inside."""
    nj = (n + jb - 1) // jb
    ni = (m + ib - 1) // ib
    for t in prange(ni * nj):
        ti = t // nj
        i_lo = ti * ib
        i_hi = min(i_lo + ib, m)
        j_lo = (t - ti * nj) * jb
        j_hi = min(j_lo + jb, n)
        i = i_lo
        while i + 4 <= i_hi:
            p0 = i * k
            p1 = p0 + k
            p2 = p1 + k
            p3 = p2 + k
            j = j_lo
            while j + 2 <= j_hi:
                r0 = j * k
                r1 = r0 + k
                s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = int32(0)
                for p in range(k):
                    a0 = int32(a[uint64(p0 + p)])
                    a1 = int32(a[uint64(p1 + p)])
                    a2 = int32(a[uint64(p2 + p)])
                    a3 = int32(a[uint64(p3 + p)])
                    b0 = int32(b[uint64(r0 + p)])
                    b1 = int32(b[uint64(r1 + p)])
                    s00 = int32(s00 + a0 * b0)
                    s01 = int32(s01 + a0 * b1)
                    s10 = int32(s10 + a1 * b0)
                    s11 = int32(s11 + a1 * b1)
                    s20 = int32(s20 + a2 * b0)
                    s21 = int32(s21 + a2 * b1)
                    s30 = int32(s30 + a3 * b0)
                    s31 = int32(s31 + a3 * b1)
                o = i * n + j
                out[uint64(o)] = s00
                out[uint64(o + 1)] = s01
                out[uint64(o + n)] = s10
                out[uint64(o + n + 1)] = s11
                out[uint64(o + 2 * n)] = s20
                out[uint64(o + 2 * n + 1)] = s21
                out[uint64(o + 3 * n)] = s30
                out[uint64(o + 3 * n + 1)] = s31
                j += 2
            if j < j_hi:  # an odd last column
                r0 = j * k
                for u in range(4):
                    out[uint64((i + u) * n + j)] = _dot(a, p0 + u * k, b, r0, k)
            i += 4
        while i < i_hi:  # the last 1-3 rows
            for j in range(j_lo, j_hi):
                out[uint64(i * n + j)] = _dot(a, i * k, b, j * k, k)
            i += 1


def _row_sums(b, n, k, out):
    """``out[j] = sum_p b[j, p]`` (int32) of a flat C-ordered ``b (n, k)``."""
    for j in prange(n):
        s = int32(0)
        base = j * k
        for p in range(k):
            s = int32(s + int32(b[uint64(base + p)]))
        out[j] = s


_matmul_int8_k = Kernel(_matmul_int8)
_row_sums_k = Kernel(_row_sums)


def _tile_cols(k):
    """Columns per matmul tile: ``jb`` rows of ``b_t`` fill about ``_TILE_BYTES``."""
    return max(2, min(64, (_TILE_BYTES // max(k, 1)) // 2 * 2))


def matmul_int8(a, b_t, out=None):
    r"""Exact int32 ``out[m, n] = sum_k a[m, k] b_t[n, k]`` of int8 ``a (M, K)`` and
    ``b_t (N, K)`` (``a @ b_t.T``; ``b_t`` is a weight as stored, one row per output
    feature). ``K`` must be below :math:`2^{17}`."""
    name = "matmul_int8"
    m, n, k = _check_matmul(name, a, b_t)
    if out is None:
        out = np.empty((m, n), np.int32)
    _check_out(name, out, (m, n), np.int32)
    if out.size == 0:
        return out
    if k == 0:
        out[...] = 0
        return out
    _matmul_int8_k.pick(m * n * k)(_flat_c(a), _flat_c(b_t), m, n, k, _TILE_ROWS,
                                   _tile_cols(k), out.reshape(-1))
    return out


def int8_row_sums(b_t):
    r"""int32 ``sum_k b_t[n, k]`` of an int8 ``(N, K)`` array (``K`` below
    :math:`2^{24}`): the zero-point correction of ``qlinear_epilogue``."""
    name = "int8_row_sums"
    _dtype_is(name, "b_t", b_t, (np.int8,))
    if b_t.ndim != 2:
        raise ValueError(f"{name}: b_t must be (N, K), got shape {tuple(b_t.shape)}")
    n, k = b_t.shape
    if k >= 1 << 24:
        raise ValueError(f"{name}: K = {k} is too large for an int32 sum (shape "
                         f"{tuple(b_t.shape)})")
    out = np.empty(n, np.int32)
    if n:
        _row_sums_k.pick(n * k)(_flat_c(b_t), n, k, out)
    return out


# --------------------------------------------------------------------------- epilogue


def _qlinear_epilogue(acc, a_scale, a_zp, rows, b_scale, bias, has_bias, n, out):
    """``out[i, j] = fl32(acc[i, j] - a_zp rows[j]) * (a_scale b_scale[j]) (+ bias[j])``
    on flat C-ordered ``(m, n)`` arrays."""
    for i in prange(out.size // n):
        base = i * n
        for j in range(n):
            d = np.float32(int64(acc[uint64(base + j)]) - a_zp * int64(rows[j]))
            v = d * (a_scale * b_scale[j])
            if has_bias:
                v = v + bias[j]
            out[uint64(base + j)] = v


_qlinear_epilogue_k = Kernel(_qlinear_epilogue)


def qlinear_epilogue(acc, a_scale, a_zero_point, b_row_sums, b_scale, bias=None, out=None):
    r"""float32 ``out[m, n] = fl32(acc[m, n] - a_zero_point * b_row_sums[n]) *
    (a_scale * b_scale[n]) + bias[n]``: a quantized linear layer's output from the int32
    products ``acc (M, N)`` of ``matmul_int8``. ``a_scale`` (a float, rounded to float32)
    and ``a_zero_point`` (an int) quantize the input; ``b_scale`` (float32 ``(N,)``) the
    weight, symmetrically; ``bias`` is float32 ``(N,)`` or None. The difference is exact
    in int64 and rounded once to float32; the products are float32."""
    name = "qlinear_epilogue"
    a_scale, a_zp = _check_epilogue(name, acc, a_scale, a_zero_point, b_row_sums, b_scale,
                                    bias)
    m, n = acc.shape
    if out is None:
        out = np.empty((m, n), np.float32)
    _check_out(name, out, (m, n), np.float32)
    if out.size:
        has_bias = bias is not None
        b = contiguous(bias) if has_bias else np.empty(0, np.float32)
        _qlinear_epilogue_k.pick(out.size)(_flat_c(acc), a_scale, np.int64(a_zp),
                                           contiguous(b_row_sums), contiguous(b_scale), b,
                                           has_bias, n, out.reshape(-1))
    return out


# --------------------------------------------------------------------------- unfold


def _unfold_int8(x, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, pad, out):
    """Row ``(n, oh, ow)`` of ``out`` holds the patch ``x[n, c, oh sh - pt + kh dh,
    ow sw - pl + kw dw]`` over ``(c, kh, kw)`` (``pad`` outside ``x``); one task per
    ``(n, oh)``."""
    R = C * KH * KW
    for t in prange(out.size // (OW * R)):
        n = t // OH
        oh = t - n * OH
        for ow in range(OW):
            row = (t * OW + ow) * R
            iw0 = ow * sw - pl
            for c in range(C):
                xc = (n * C + c) * H
                for kh in range(KH):
                    ih = oh * sh - pt + kh * dh
                    col = row + (c * KH + kh) * KW
                    if ih < 0 or ih >= H:
                        for kw in range(KW):
                            out[uint64(col + kw)] = pad
                        continue
                    xr = (xc + ih) * W
                    for kw in range(KW):
                        iw = iw0 + kw * dw
                        if iw >= 0 and iw < W:
                            out[uint64(col + kw)] = x[uint64(xr + iw)]
                        else:
                            out[uint64(col + kw)] = pad


_unfold_int8_k = Kernel(_unfold_int8)


def unfold_int8(x, kernel_size, stride, padding, dilation, pad_value, out=None):
    r"""im2col of an int8 ``x (N, C, H, W)``: ``(N OH OW, C KH KW)`` patches, row
    ``(n, oh, ow)``, column ``(c, kh, kw)`` (a Conv2d weight reshaped to ``(O, C KH KW)``
    has the same column order), ``pad_value`` where the window leaves the input.
    ``padding`` is ``(ph, pw)`` or ``(top, bottom, left, right)``."""
    name = "unfold_int8"
    geo, pad = _check_unfold(name, x, kernel_size, stride, padding, dilation, pad_value)
    n, c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow = geo
    shape = (n * oh * ow, c * kh * kw)
    if out is None:
        out = np.empty(shape, np.int8)
    _check_out(name, out, shape, np.int8)
    if out.size:
        _unfold_int8_k.pick(out.size)(_flat_c(x), c, h, w, kh, kw, sh, sw, pt, pl, dh, dw,
                                      oh, ow, np.int8(pad), out.reshape(-1))
    return out


# --------------------------------------------------------------------------- histogram


def _histogram(x, lo, hi, denom, bins, edges, chunk, counts):
    """``counts[t, b]``: values of chunk ``t`` of ``x`` in bin ``b``, numpy's way."""
    n = x.size
    for t in prange(counts.shape[0]):
        start = t * chunk
        stop = min(start + chunk, n)
        for i in range(start, stop):
            v = x[uint64(i)]
            if v >= lo and v <= hi:  # false for NaN
                f = (np.float64(v - lo) / denom) * bins
                j = int64(f)
                if j == bins:
                    j -= 1
                if v < edges[j]:
                    j -= 1
                if j != bins - 1 and v >= edges[j + 1]:
                    j += 1
                counts[t, j] += 1


_histogram_k = Kernel(_histogram)


def histogram(x, lo: float, hi: float, bins: int):
    r"""int64 counts of a float array over ``bins`` equal bins on ``[lo, hi]``: equal to
    ``np.histogram(x, bins, (float(lo), float(hi)))[0]``. Values outside the range and NaN
    are not counted; ``x == hi`` falls in the last bin."""
    name = "histogram"
    lo, hi, bins, edges = _check_histogram(name, x, lo, hi, bins)
    xf = _flat_c(x)
    n = xf.size
    if n == 0:
        return np.zeros(bins, np.int64)
    # numpy compares and subtracts in x's dtype (the Python floats are cast to it) and
    # divides by hi - lo in float64.
    dt = xf.dtype.type
    nchunks = max(1, min(64, n // (1 << 16)))
    chunk = (n + nchunks - 1) // nchunks
    counts = np.zeros((nchunks, bins), np.int64)
    _histogram_k.pick(n)(xf, dt(lo), dt(hi), hi - lo, bins, edges, chunk, counts)
    return counts.sum(axis=0)


__all__ = ["quantize", "dequantize", "fake_quantize", "fake_quantize_backward",
           "matmul_int8", "int8_row_sums", "qlinear_epilogue", "unfold_int8", "histogram"]
