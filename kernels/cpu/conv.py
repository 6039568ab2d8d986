r"""Convolution and pooling kernels on C-contiguous ``NCHW`` arrays.

**conv2d** is a matrix product over unfolded patches (*im2col*). For one chunk of ``nb``
images, ``col`` holds in row :math:`(c, k_h, k_w)` and column :math:`(n, o_h, o_w)`

.. math::
    \mathrm{col}[(c,k_h,k_w),\,(n,o_h,o_w)] =
    x[n,\ c,\ o_h s_h - p_t + k_h d_h,\ o_w s_w - p_l + k_w d_w]

(0 where the index falls in the padding), so for group :math:`g` with weight rows
:math:`W_g` of shape :math:`(O/G,\ C/G\cdot K_h K_w)`:

.. math::
    Y_g = W_g\,\mathrm{col}_g,\qquad
    \bar W_g = \bar Y_g\,\mathrm{col}_g^\top,\qquad
    \overline{\mathrm{col}}_g = W_g^\top\,\bar Y_g,\qquad
    \bar x = \mathrm{col2im}(\overline{\mathrm{col}})

Each product is one BLAS call (``np.dot`` inside ``@njit``) over the whole chunk; the
chunk is sized so ``col`` stays under ``COL_BUDGET`` elements. ``Y`` comes out as
``(O, n, o_h, o_w)`` and is copied into ``NCHW`` with the bias added, and the incoming
gradient is copied the other way (both ``_swap01``). *col2im* adds each patch back into
the image: it runs one task per ``(n, c)`` plane, so no two threads ever add into the same
element.

**Pooling** kernels run one task per output row (forward) and one task per ``(n, c)``
plane (backward: overlapping windows may add into the same input element, and a plane
is only ever touched by its own task). Average and adaptive average pooling share one
kernel pair: the launcher tabulates every window's rows, columns and divisor. Max pooling
returns, like PyTorch, the index of the maximum inside its ``H x W`` plane (``h W + w``);
its backward adds the gradient at those indices, and ``max_pool2d_gather`` reads at them
(the backward of that backward).

**Indexing with** ``uint64``: Numba wraps a negative index around (``a[-1]``), so every
``a[i]`` with a signed ``i`` it cannot prove non-negative costs a compare and a select,
and the loop is no longer vectorised. The hot loops here compute flat positions
(``row + ow``) that are never negative, and index with ``uint64(...)``, which has no
wrap-around: im2col ran 5-6x faster on 2 cores.

Every launcher takes arrays and ints only (``stride`` etc. as tuples of ints) and picks
the serial or threaded compilation by size, as the other kernel files do.
"""
from __future__ import annotations

import numpy as np
from numba import prange, uint64

from ._jit import Kernel, serial
from .elementwise import contiguous

# Largest im2col buffer (elements); bigger batches are processed in chunks of images, and
# the product's buffer is bounded the same way. 1M elements (4 MB in float32) keeps the
# CNN benchmark's peak step memory at 1.2x PyTorch's (4M: 1.5x). Step times with 1M and
# 4M were within this machine's run-to-run noise; an earlier measurement, made when
# im2col was 5x slower, found cache-sized (1 MB) chunks fragile under load: each chunk
# makes its own threaded BLAS call, which waits on any descheduled OpenBLAS thread.
COL_BUDGET = 1 << 20


# --------------------------------------------------------------------------- conv2d


def _im2col(x, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, n0, nb, col):
    """Unfold images ``n0 .. n0+nb`` of ``x`` into ``col`` of shape ``(C KH KW, nb OH OW)``."""
    P = OH * OW
    KK = KH * KW
    L = nb * P
    for t in prange(C * nb):
        c = t // nb
        n = t - c * nb
        xb = ((n0 + n) * C + c) * H * W
        for k in range(KK):
            kh = k // KW
            kw = k - kh * KW
            base = (c * KK + k) * L + n * P
            off = kw * dw - pl  # iw = ow * sw + off; valid ow in [lo, hi)
            lo = 0 if off >= 0 else min((sw - 1 - off) // sw, OW)
            hi = 0 if W - off <= 0 else min((W - off + sw - 1) // sw, OW)
            lo = min(lo, hi)
            for oh in range(OH):
                ih = oh * sh - pt + kh * dh
                row = base + oh * OW
                if ih < 0 or ih >= H:
                    for ow in range(OW):
                        col[uint64(row + ow)] = 0
                    continue
                for ow in range(lo):
                    col[uint64(row + ow)] = 0
                src = xb + ih * W + off
                if sw == 1:
                    for ow in range(lo, hi):
                        col[uint64(row + ow)] = x[uint64(src + ow)]
                else:
                    for ow in range(lo, hi):
                        col[uint64(row + ow)] = x[uint64(src + ow * sw)]
                for ow in range(hi, OW):
                    col[uint64(row + ow)] = 0


def _col2im(col, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, n0, nb, gx):
    """Fold ``col`` back: every patch entry is added into its image element of ``gx``."""
    P = OH * OW
    KK = KH * KW
    L = nb * P
    HW = H * W
    for t in prange(nb * C):  # one (n, c) plane per task: race-free
        n = t // C
        c = t - n * C
        xb = ((n0 + n) * C + c) * HW
        for i in range(HW):
            gx[uint64(xb + i)] = 0
        for k in range(KK):
            kh = k // KW
            kw = k - kh * KW
            base = (c * KK + k) * L + n * P
            off = kw * dw - pl
            lo = 0 if off >= 0 else min((sw - 1 - off) // sw, OW)
            hi = 0 if W - off <= 0 else min((W - off + sw - 1) // sw, OW)
            for oh in range(OH):
                ih = oh * sh - pt + kh * dh
                if ih < 0 or ih >= H:
                    continue
                row = base + oh * OW
                dst = xb + ih * W + off
                for ow in range(lo, hi):
                    gx[uint64(dst + ow * sw)] += col[uint64(row + ow)]


def _swap01(src, A, B, P, bias, has_bias, dst):
    """``dst[b, a, :] = src[a, b, :] (+ bias[a])`` for ``src`` of shape ``(A, B, P)``: turns
    the product's ``(O, n, P)`` into ``NCHW`` (with the bias) and a gradient back."""
    for t in prange(A * B):
        a = t // B
        b = t - a * B
        s = t * P
        d = (b * A + a) * P
        if has_bias:
            v = bias[a]
            for p in range(P):
                dst[uint64(d + p)] = src[uint64(s + p)] + v
        else:
            for p in range(P):
                dst[uint64(d + p)] = src[uint64(s + p)]


@serial
def _gemm_forward(w2, col, G, yt):
    """``yt[g] = w2[g] @ col[g]`` per group (row blocks)."""
    og = w2.shape[0] // G
    rg = w2.shape[1]
    for g in range(G):
        np.dot(w2[g * og:(g + 1) * og], col[g * rg:(g + 1) * rg], yt[g * og:(g + 1) * og])


@serial
def _gemm_input(w2, gt, G, col):
    """``col[g] = w2[g].T @ gt[g]`` per group."""
    og = w2.shape[0] // G
    rg = w2.shape[1]
    for g in range(G):
        np.dot(w2[g * og:(g + 1) * og].T, gt[g * og:(g + 1) * og], col[g * rg:(g + 1) * rg])


@serial
def _gemm_weight(gt, col, G, gw2, accumulate, tmp):
    """``gw2[g] (+)= gt[g] @ col[g].T`` per group."""
    og = gw2.shape[0] // G
    rg = gw2.shape[1]
    for g in range(G):
        np.dot(gt[g * og:(g + 1) * og], col[g * rg:(g + 1) * rg].T, tmp)
        for i in range(og):  # explicit loops: an array `+=` costs seconds of compile time
            for j in range(rg):
                gw2[g * og + i, j] = tmp[i, j] + gw2[g * og + i, j] if accumulate else tmp[i, j]


_im2col_k = Kernel(_im2col)
_col2im_k = Kernel(_col2im)
_swap01_k = Kernel(_swap01)


def _pad4(padding):
    """``(top, bottom, left, right)`` from ``(ph, pw)`` or a 4-tuple."""
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    return tuple(padding)


def _chunk(N, rows, P):
    """Images per im2col chunk so that ``rows x (nb P)`` stays under the budget."""
    return max(1, min(N, COL_BUDGET // max(rows * P, 1)))


def conv_output_size(size, k, s, p_lo, p_hi, d):
    r""":math:`\lfloor (n + p_{lo} + p_{hi} - d (k - 1) - 1) / s \rfloor + 1`."""
    return (size + p_lo + p_hi - d * (k - 1) - 1) // s + 1


def conv2d_forward(x, w, bias, stride, padding, dilation, groups):
    """2-D cross-correlation of ``x (N, C, H, W)`` with ``w (O, C/groups, KH, KW)``, plus
    ``bias (O,)`` when not None. ``padding`` is ``(ph, pw)`` or ``(top, bottom, left,
    right)``. Returns ``(N, O, OH, OW)``. Shapes are checked by the caller."""
    x = contiguous(x)
    w = contiguous(w)
    N, C, H, W = x.shape
    O, cg, KH, KW = w.shape
    sh, sw = stride
    dh, dw = dilation
    pt, pb, pl, pr = _pad4(padding)
    OH = conv_output_size(H, KH, sh, pt, pb, dh)
    OW = conv_output_size(W, KW, sw, pl, pr, dw)
    out = np.empty((N, O, OH, OW), x.dtype)
    has_bias = bias is not None
    b = contiguous(bias) if has_bias else np.empty(0, x.dtype)
    P = OH * OW
    R = C * KH * KW
    if out.size == 0:
        return out
    if R == 0:
        out[...] = b.reshape(1, O, 1, 1) if has_bias else 0
        return out
    nb = _chunk(N, max(R, O), P)
    col = np.empty(R * nb * P, x.dtype)
    yt = np.empty(O * nb * P, x.dtype)
    w2 = w.reshape(O, cg * KH * KW)
    xf, of = x.reshape(-1), out.reshape(-1)
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        L = m * P
        _im2col_k.pick(R * L)(xf, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, n0, m,
                              col)
        _gemm_forward(w2, col[:R * L].reshape(R, L), groups, yt[:O * L].reshape(O, L))
        _swap01_k.pick(O * L)(yt, O, m, P, b, has_bias, of[n0 * O * P:(n0 + m) * O * P])
    return out


def conv2d_backward_input(g, w, input_size, stride, padding, dilation, groups):
    r"""Gradient of ``conv2d_forward`` w.r.t. its input: ``g (N, O, OH, OW)`` and
    ``w`` give ``(N, C, H, W)`` with ``(H, W) = input_size`` (the transposed convolution).
    """
    g = contiguous(g)
    w = contiguous(w)
    N, O, OH, OW = g.shape
    _, cg, KH, KW = w.shape
    H, W = input_size
    C = cg * groups
    sh, sw = stride
    dh, dw = dilation
    pt, _, pl, _ = _pad4(padding)
    gx = np.empty((N, C, H, W), g.dtype)
    P = OH * OW
    R = C * KH * KW
    if gx.size == 0:
        return gx
    if P == 0 or O == 0:
        gx[...] = 0
        return gx
    nb = _chunk(N, max(R, O), P)
    col = np.empty(R * nb * P, g.dtype)
    gt = np.empty(O * nb * P, g.dtype)
    w2 = w.reshape(O, cg * KH * KW)
    gf, gxf = g.reshape(-1), gx.reshape(-1)
    nob = np.empty(0, g.dtype)
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        L = m * P
        _swap01_k.pick(O * L)(gf[n0 * O * P:(n0 + m) * O * P], m, O, P, nob, False, gt)
        _gemm_input(w2, gt[:O * L].reshape(O, L), groups, col[:R * L].reshape(R, L))
        _col2im_k.pick(R * L)(col, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, n0, m,
                              gxf)
    return gx


def conv2d_backward_weight(x, g, kernel_size, stride, padding, dilation, groups):
    r"""Gradient of ``conv2d_forward`` w.r.t. the weight, shape ``(O, C/groups, KH, KW)``
    with ``(KH, KW) = kernel_size``: :math:`\bar W_g = \sum_{\text{chunks}} \bar Y_g
    \mathrm{col}_g^\top`."""
    x = contiguous(x)
    g = contiguous(g)
    N, C, H, W = x.shape
    _, O, OH, OW = g.shape
    KH, KW = kernel_size
    cg = C // groups
    sh, sw = stride
    dh, dw = dilation
    pt, _, pl, _ = _pad4(padding)
    gw = np.empty((O, cg, KH, KW), x.dtype)
    P = OH * OW
    R = C * KH * KW
    if gw.size == 0:
        return gw
    if N * P == 0:
        gw[...] = 0
        return gw
    nb = _chunk(N, max(R, O), P)
    col = np.empty(R * nb * P, x.dtype)
    gt = np.empty(O * nb * P, x.dtype)
    gw2 = gw.reshape(O, cg * KH * KW)
    tmp = np.empty((O // groups, cg * KH * KW), x.dtype)
    xf, gf = x.reshape(-1), g.reshape(-1)
    nob = np.empty(0, x.dtype)
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        L = m * P
        _im2col_k.pick(R * L)(xf, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, n0, m,
                              col)
        _swap01_k.pick(O * L)(gf[n0 * O * P:(n0 + m) * O * P], m, O, P, nob, False, gt)
        _gemm_weight(gt[:O * L].reshape(O, L), col[:R * L].reshape(R, L), groups, gw2,
                     n0 > 0, tmp)
    return gw


# --------------------------------------------------------------------------- max pooling


def _max_pool(x, H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW, out, idx):
    """Max over each (dilated) window, NaN winning, first maximum kept on ties.

    The scan tests ``not v <= best`` (one unordered compare, which LLVM turns into a
    single branch; ``v > best or v != v`` measured 2.4x slower) and notes whether a NaN
    went by; only a window holding a NaN is scanned again with the exact rule (the last
    NaN wins and stays). A window that holds no input element (possible with padding
    and a large dilation) gives ``-inf`` and index ``-1``, which the backward skips."""
    HW = H * W
    for t in prange(out.size // OW):  # one output row per task
        plane = t // OH
        oh = t - plane * OH
        xb = plane * HW
        hs = oh * sh - ph
        he = min(hs + (KH - 1) * dh + 1, H)
        if hs < 0:
            hs += ((dh - 1 - hs) // dh) * dh
        ob = t * OW
        for ow in range(OW):
            ws = ow * sw - pw
            we = min(ws + (KW - 1) * dw + 1, W)
            if ws < 0:
                ws += ((dw - 1 - ws) // dw) * dw
            if hs >= he or ws >= we:
                out[ob + ow] = -np.inf
                idx[ob + ow] = -1
                continue
            best = x[xb + hs * W + ws]
            bi = hs * W + ws
            nan = False
            ih = hs
            while ih < he:  # while loops: ranges with a runtime step compiled slower
                r = ih * W
                iw = ws
                while iw < we:
                    v = x[uint64(xb + r + iw)]
                    nan |= v != v
                    if not v <= best:
                        best = v
                        bi = r + iw
                    iw += dw
                ih += dh
            if nan:
                for ih in range(hs, he, dh):
                    for iw in range(ws, we, dw):
                        v = x[xb + ih * W + iw]
                        if v != v:
                            best = v
                            bi = ih * W + iw
            out[ob + ow] = best
            idx[ob + ow] = bi


def _scatter_planes(g, idx, P, HW, gx):
    """``gx[plane, idx[plane, p]] += g[plane, p]``, one plane per task (race-free);
    index ``-1`` (an empty window) adds nothing."""
    for plane in prange(gx.size // HW):
        gb = plane * HW
        for i in range(HW):
            gx[uint64(gb + i)] = 0
        ob = plane * P
        for p in range(P):
            j = idx[uint64(ob + p)]
            if j >= 0:
                gx[uint64(gb + j)] += g[uint64(ob + p)]


def _gather_planes(x, idx, P, HW, out):
    """``out[plane, p] = x[plane, idx[plane, p]]`` (``-inf`` at index ``-1``)."""
    for t in prange(out.size):
        plane = t // P
        j = idx[t]
        out[t] = x[plane * HW + j] if j >= 0 else -np.inf


_max_pool_k = Kernel(_max_pool)
_scatter_k = Kernel(_scatter_planes)
_gather_k = Kernel(_gather_planes)


def pool_output_size(size, k, s, p, d, ceil_mode):
    r"""PyTorch's pooling output size: :math:`\lfloor\text{or}\lceil
    (n + 2p - d(k-1) - 1)/s \rceil + 1`, minus one when ``ceil_mode`` would start the
    last window past the input and its left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _planes(x):
    N, C, H, W = x.shape
    return N * C, H, W


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``(values, indices)`` of 2-D max pooling of ``x (N, C, H, W)``; ``indices`` (int64)
    are flat positions ``h W + w`` inside each input plane."""
    x = contiguous(x)
    N, C, H, W = x.shape
    KH, KW = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    OH = pool_output_size(H, KH, sh, ph, dh, ceil_mode)
    OW = pool_output_size(W, KW, sw, pw, dw, ceil_mode)
    out = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    if out.size:
        _max_pool_k.pick(out.size * KH * KW)(x.reshape(-1), H, W, KH, KW, sh, sw, ph, pw,
                                              dh, dw, OH, OW, out.reshape(-1), idx.reshape(-1))
    return out, idx


def max_pool2d_backward(g, idx, input_size):
    """Gradient of max pooling: ``g (N, C, OH, OW)`` added into ``(N, C, H, W)`` zeros at
    the saved ``idx`` (``(H, W) = input_size``)."""
    g = contiguous(g)
    idx = contiguous(idx)
    N, C, OH, OW = g.shape
    H, W = input_size
    gx = np.empty((N, C, H, W), g.dtype)
    if gx.size:
        _scatter_k.pick(gx.size + g.size)(g.reshape(-1), idx.reshape(-1), OH * OW, H * W,
                                           gx.reshape(-1))
    return gx


def max_pool2d_gather(x, idx):
    """``x (N, C, H, W)`` read at the pooling indices ``idx (N, C, OH, OW)``: the adjoint of
    ``max_pool2d_backward`` (and max pooling itself once the indices are known)."""
    x = contiguous(x)
    idx = contiguous(idx)
    N, C, H, W = x.shape
    OH, OW = idx.shape[2:]
    out = np.empty(idx.shape, x.dtype)
    if out.size:
        _gather_k.pick(out.size)(x.reshape(-1), idx.reshape(-1), OH * OW, H * W,
                                 out.reshape(-1))
    return out


# --------------------------------------------------------------------------- average pooling


def _window_mean(x, H, W, hs, he, ws, we, fh, fw, out):
    r"""``out[., oh, ow]`` = sum of ``x`` over rows ``[hs, he)[oh]`` and columns
    ``[ws, we)[ow]``, divided by ``fh[oh] * fw[ow]``. The launcher tabulates the windows,
    so one kernel serves ``avg_pool2d`` and ``adaptive_avg_pool2d``."""
    OH = hs.size
    OW = ws.size
    HW = H * W
    for t in prange(out.size // OW):  # one output row per task
        plane = t // OH
        oh = t - plane * OH
        xb = plane * HW
        for ow in range(OW):
            s = 0.0
            for ih in range(hs[oh], he[oh]):
                for iw in range(ws[ow], we[ow]):
                    s += x[xb + ih * W + iw]
            out[t * OW + ow] = s / (fh[oh] * fw[ow])


def _window_mean_back(g, H, W, hs, he, ws, we, fh, fw, gx):
    """Gradient of ``_window_mean``: each output's ``g / (fh fw)`` added over its window."""
    OH = hs.size
    OW = ws.size
    HW = H * W
    P = OH * OW
    for plane in prange(gx.size // HW):  # race-free: a plane per task
        xb = plane * HW
        for i in range(HW):
            gx[xb + i] = 0
        for oh in range(OH):
            for ow in range(OW):
                v = g[plane * P + oh * OW + ow] / (fh[oh] * fw[ow])
                for ih in range(hs[oh], he[oh]):
                    for iw in range(ws[ow], we[ow]):
                        gx[xb + ih * W + iw] += v


_window_mean_k = Kernel(_window_mean)
_window_mean_back_k = Kernel(_window_mean_back)


def _avg_windows(n, k, s, p, ceil_mode, count_include_pad):
    """Per output index along one axis: window ``[start, end)`` clipped to the input and
    the divisor factor (the extent inside the padded input, or inside the input)."""
    m = pool_output_size(n, k, s, p, 1, ceil_mode)
    start = np.arange(m, dtype=np.int64) * s - p
    end = np.minimum(start + k, n + p)
    ext = end - start
    start = np.maximum(start, 0)
    end = np.minimum(end, n)
    f = ext if count_include_pad else end - start
    return start, end, np.maximum(f, 1)


def _adaptive_windows(n, m):
    r"""Bins :math:`[\lfloor i n/m \rfloor, \lceil (i+1) n/m \rceil)` and their sizes."""
    i = np.arange(m, dtype=np.int64)
    start = (i * n) // m
    end = ((i + 1) * n + m - 1) // m
    return start, end, end - start


def _window_mean_forward(x, rows, cols):
    x = contiguous(x)
    N, C, H, W = x.shape
    out = np.empty((N, C, rows[0].size, cols[0].size), x.dtype)
    if out.size:
        _window_mean_k.pick(max(out.size, x.size))(x.reshape(-1), H, W, *rows[:2], *cols[:2],
                                                   rows[2], cols[2], out.reshape(-1))
    return out


def _window_mean_backward(g, input_size, rows, cols):
    g = contiguous(g)
    N, C = g.shape[:2]
    H, W = input_size
    gx = np.empty((N, C, H, W), g.dtype)
    if gx.size:
        _window_mean_back_k.pick(gx.size + g.size)(g.reshape(-1), H, W, *rows[:2], *cols[:2],
                                                   rows[2], cols[2], gx.reshape(-1))
    return gx


def _avg_tables(input_size, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    rows = _avg_windows(input_size[0], kernel_size[0], stride[0], padding[0], ceil_mode,
                        count_include_pad)
    cols = _avg_windows(input_size[1], kernel_size[1], stride[1], padding[1], ceil_mode,
                        count_include_pad)
    if divisor_override:
        rows = rows[:2] + (np.full(rows[0].size, divisor_override, np.int64),)
        cols = cols[:2] + (np.ones(cols[0].size, np.int64),)
    return rows, cols


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override):
    r"""2-D average pooling: :math:`y = \frac{1}{d}\sum_{\text{window}} x` with :math:`d` the
    window area inside the padded input (``count_include_pad``), inside the input, or
    ``divisor_override`` when that is positive (0 means none)."""
    rows, cols = _avg_tables(x.shape[2:], kernel_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)
    return _window_mean_forward(x, rows, cols)


def avg_pool2d_backward(g, input_size, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override):
    """Gradient of ``avg_pool2d_forward``: each output's ``g / d`` added over its window."""
    rows, cols = _avg_tables(input_size, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)
    return _window_mean_backward(g, input_size, rows, cols)


def adaptive_avg_pool2d_forward(x, output_size):
    """Average of ``x (N, C, H, W)`` over ``output_size`` bins per plane (PyTorch's bins)."""
    H, W = x.shape[2:]
    return _window_mean_forward(x, _adaptive_windows(H, output_size[0]),
                                _adaptive_windows(W, output_size[1]))


def adaptive_avg_pool2d_backward(g, input_size):
    """Gradient of ``adaptive_avg_pool2d_forward``: each bin's ``g / area`` over the bin."""
    H, W = input_size
    OH, OW = g.shape[2:]
    return _window_mean_backward(g, input_size, _adaptive_windows(H, OH),
                                 _adaptive_windows(W, OW))


__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
           "max_pool2d_forward", "max_pool2d_backward", "max_pool2d_gather",
           "avg_pool2d_forward", "avg_pool2d_backward", "adaptive_avg_pool2d_forward",
           "adaptive_avg_pool2d_backward"]
