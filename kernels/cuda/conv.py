r"""Convolution and pooling CUDA kernels on C-contiguous ``NCHW`` arrays, with the launchers
of ``kernels/cpu/conv.py`` (same names, parameters, checks, output shapes and dtypes).

Every kernel is *direct*: a grid-stride loop over the elements of its output (for the weight
gradient: over slices of each element's sum), each computed from the inputs it reads. No
kernel writes an element another thread also writes, except the max-pooling backward, so
all results but that one are deterministic. Neighbouring threads own neighbouring output
columns, so their loads of the input rows are (strided) coalesced and the weight loads of a
warp are broadcasts.

**conv2d.** With padding :math:`(p_t, p_l)` (the bottom/right padding only sets the output
size), stride :math:`s`, dilation :math:`d`, :math:`G` groups, :math:`C_g = C/G` input and
:math:`O_g = O/G` output channels per group, and :math:`\gamma(o) = \lfloor o/O_g \rfloor`:

.. math::
    y[n,o,o_h,o_w] = b[o] + \sum_{c=0}^{C_g-1}\sum_{k_h,k_w} W[o,c,k_h,k_w]\;
    x[n,\ \gamma(o) C_g + c,\ o_h s_h - p_t + k_h d_h,\ o_w s_w - p_l + k_w d_w]

(terms whose input index falls in the padding are skipped): one thread per output element.

*Input gradient* (a gather, the transposed convolution): input row :math:`i_h` meets output
row :math:`o_h` through kernel row :math:`k_h` iff :math:`i_h + p_t - k_h d_h = o_h s_h`, so

.. math::
    \bar x[n,c,i_h,i_w] = \sum_{k_h,k_w}
    \sum_{o=\gamma O_g}^{(\gamma+1) O_g - 1} \bar y\Big[n,o,\tfrac{i_h + p_t - k_h d_h}{s_h},
    \tfrac{i_w + p_l - k_w d_w}{s_w}\Big]\; W[o,\ c - \gamma C_g,\ k_h,\ k_w]

over the :math:`(k_h,k_w)` whose quotients are exact and inside the output,
:math:`\gamma = \lfloor c / C_g \rfloor`: one thread per input element, no atomics (the CPU
col2im gets the same race freedom by giving each task its own planes).

*Weight gradient*: a reduction over the batch and the output positions,

.. math::
    \bar W[o,c,k_h,k_w] = \sum_{j=0}^{N O_H O_W - 1} \bar y[n_j,o,o_{h,j},o_{w,j}]\;
    x[n_j,\ \gamma(o) C_g + c,\ o_{h,j} s_h - p_t + k_h d_h,\ o_{w,j} s_w - p_l + k_w d_w]

with :math:`j = (n_j, o_{h,j}, o_{w,j})` running over the batch and the output positions
(padding terms skipped). There are few weight elements and many terms, so the terms are cut
into :math:`S` slices of :math:`L = \lceil N O_H O_W / S \rceil` and one thread per
``(slice, element)`` sums its slice into ``part[s, e]``; a second kernel adds the
:math:`S` partial sums of each element in slice order (deterministic, no atomics, no shared
memory). :math:`S` is chosen for about :math:`2^{18}` threads, at least 64 terms a slice
(:math:`S = 1` under the simulator: the threads write the result directly). Threads of
neighbouring elements walk the same :math:`j` together, so a warp's loads of
:math:`\bar y` are broadcasts and of :math:`x` neighbours.

**Max pooling** runs one thread per output: the maximum over the (dilated) window clipped to
the input, NaN winning, the first maximum kept on ties, exactly the CPU loop; the index is
``h W + w`` inside the plane (int64). Its backward adds each gradient at its saved index.
Overlapping windows may pick the same input element and the backward only has the indices
(not the window geometry a gather would need), so it zeroes the result and adds with
``cuda.atomic.add``, as PyTorch does. Non-overlapping windows (stride at least the kernel
size, the common case) add one term per element, and two terms add the same in either
order; only elements picked by three or more windows may round differently from run to run
(and from the CPU's output order). ``max_pool2d_gather`` reads at the indices.

**Average pooling** (and adaptive average pooling) share one kernel pair. Instead of the
tables the CPU launcher builds on the host, the kernels compute each window: for
``avg_pool2d`` output :math:`o` along an axis of length :math:`n` covers
:math:`[\max(o s - p, 0),\ \min(o s - p + k, n))` with divisor factor
:math:`\min(o s - p + k, n + p) - (o s - p)` (``count_include_pad``) or the clipped length
(at least 1), the product of the two axes' factors unless ``divisor_override`` is set;
for the adaptive form bin :math:`o` of :math:`m` covers
:math:`[\lfloor o n/m \rfloor, \lceil (o+1) n/m \rceil)`. The forward is one thread per
output; the backward is a gather, one thread per input element summing
:math:`\bar y / \text{divisor}` over the outputs whose window holds it (their range is
computed, then each is checked against its window), in the CPU's ``(o_h, o_w)`` order.

Sums are accumulated in the arrays' dtype (a typed zero, or ``_DT`` bound per dtype in the
average-pooling kernels, keeps float32 kernels in float32); the CPU kernels sum in another
order (BLAS) or in float64, so float32 results agree to rounding.
"""
from __future__ import annotations

import math

import numpy as np

from ..cpu.conv import _pad4, conv_output_size, pool_output_size
from ._jit import CudaKernel, device
from ._runtime import SIM, cuda, grid
from .array import CudaArray
from .elementwise import contiguous, fill

_DT = None  # bound per dtype in each template copy

_FLOATS = ("float32", "float64")


def _per_dtype(tmpl):
    """One ``CudaKernel`` copy of ``tmpl`` per float dtype, with ``_DT`` bound to it."""
    return {n: CudaKernel(tmpl, n, {"_DT": getattr(np, n)}) for n in _FLOATS}


def _pick(kernels, dtype, op):
    k = kernels.get(np.dtype(dtype).name)
    if k is None:
        raise TypeError(f"{op}: the CUDA kernels support {', '.join(_FLOATS)}, got {dtype}")
    return k


# --------------------------------------------------------------------------- conv2d


def _conv_fwd(x, w, b, has_bias, C, H, W, O, OH, OW, cg, og, KH, KW, sh, sw, pt, pl, dh, dw,
              zero, out):
    """``out[n, o, oh, ow]``: one thread per output element."""
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        t = i // OW
        ow = i - t * OW
        q = t // OH
        oh = t - q * OH
        n = q // O
        o = q - n * O
        c0 = (o // og) * cg
        ih0 = oh * sh - pt
        iw0 = ow * sw - pl
        acc = zero
        for ci in range(cg):
            xb = (n * C + c0 + ci) * H
            wb = (o * cg + ci) * KH
            for kh in range(KH):
                ih = ih0 + kh * dh
                if ih < 0 or ih >= H:
                    continue
                xr = (xb + ih) * W
                wr = (wb + kh) * KW
                for kw in range(KW):
                    iw = iw0 + kw * dw
                    if iw >= 0 and iw < W:
                        acc += w[wr + kw] * x[xr + iw]
        if has_bias:
            acc += b[o]
        out[i] = acc


def _conv_bwd_input(g, w, C, H, W, O, OH, OW, cg, og, KH, KW, sh, sw, pt, pl, dh, dw, zero,
                    gx):
    """``gx[n, c, ih, iw]`` gathered over the outputs its element feeds (no atomics)."""
    for i in range(cuda.grid(1), gx.size, cuda.gridsize(1)):
        t = i // W
        iw = i - t * W
        q = t // H
        ih = t - q * H
        n = q // C
        c = q - n * C
        grp = c // cg
        ci = c - grp * cg
        acc = zero
        for kh in range(KH):
            th = ih + pt - kh * dh
            if th < 0:
                break  # th only decreases with kh
            oh = th // sh
            if oh * sh != th or oh >= OH:
                continue
            for kw in range(KW):
                tw = iw + pl - kw * dw
                if tw < 0:
                    break
                ow = tw // sw
                if ow * sw != tw or ow >= OW:
                    continue
                for oo in range(og):
                    o = grp * og + oo
                    acc += (g[((n * O + o) * OH + oh) * OW + ow]
                            * w[((o * cg + ci) * KH + kh) * KW + kw])
        gx[i] = acc


def _conv_bwd_weight(x, g, N, C, H, W, O, OH, OW, cg, og, KH, KW, sh, sw, pt, pl, dh, dw, nw,
                     L, zero, part):
    """``part[s, e]``: the terms ``[s L, (s+1) L)`` of weight element ``e``'s sum, one thread
    each. Threads with neighbouring ``e`` walk the same ``(n, o_h, o_w)`` sequence."""
    P = OH * OW
    NP = N * P
    for t in range(cuda.grid(1), part.size, cuda.gridsize(1)):
        sl = t // nw
        e = t - sl * nw
        q = e // KW
        kw = e - q * KW
        r = q // KH
        kh = q - r * KH
        o = r // cg
        ci = r - o * cg
        c = (o // og) * cg + ci
        offh = kh * dh - pt
        offw = kw * dw - pl
        j0 = sl * L
        j1 = min(j0 + L, NP)
        n = j0 // P
        p = j0 - n * P
        oh = p // OW
        ow = p - oh * OW
        acc = zero
        for _ in range(j0, j1):
            ih = oh * sh + offh
            iw = ow * sw + offw
            if ih >= 0 and ih < H and iw >= 0 and iw < W:
                acc += (g[((n * O + o) * OH + oh) * OW + ow]
                        * x[((n * C + c) * H + ih) * W + iw])
            ow += 1
            if ow == OW:
                ow = 0
                oh += 1
                if oh == OH:
                    oh = 0
                    n += 1
        part[t] = acc


def _sum_slices(part, S, nw, gw):
    """``gw[e] = part[0, e] + part[1, e] + ...`` in slice order (deterministic)."""
    for e in range(cuda.grid(1), nw, cuda.gridsize(1)):
        acc = part[e]
        for s in range(1, S):
            acc += part[s * nw + e]
        gw[e] = acc


_conv_fwd_k = CudaKernel(_conv_fwd)
_conv_bwd_input_k = CudaKernel(_conv_bwd_input)
_conv_bwd_weight_k = CudaKernel(_conv_bwd_weight)
_sum_slices_k = CudaKernel(_sum_slices)

# The weight gradient's sums are split into slices so that about this many threads run;
# a slice keeps at least _WGRAD_MIN_TERMS terms. ``WGRAD_SLICES`` (tests) forces a count.
_WGRAD_THREADS = 1 << 18
_WGRAD_MIN_TERMS = 64
WGRAD_SLICES = 0


def _wgrad_slices(nw, terms):
    if WGRAD_SLICES:
        return max(1, min(WGRAD_SLICES, terms))
    if SIM:
        return 1
    return max(1, min(-(-_WGRAD_THREADS // nw), terms // _WGRAD_MIN_TERMS))


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
    out = CudaArray.empty((N, O, OH, OW), x.dtype)
    if out.size == 0:
        return out
    has_bias = bias is not None
    of = out.flat()
    xf = x.flat() if x.size else of  # never read when empty (no terms)
    wf = w.flat() if w.size else of
    bf = contiguous(bias).flat() if has_bias else of
    _conv_fwd_k.launch(*grid(out.size), xf, wf, bf, has_bias, C, H, W, O, OH, OW, cg,
                       O // groups, KH, KW, sh, sw, pt, pl, dh, dw, x.dtype.type(0), of)
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
    gx = CudaArray.empty((N, C, H, W), g.dtype)
    if gx.size == 0:
        return gx
    if g.size == 0 or w.size == 0:
        return fill(gx, 0)
    _conv_bwd_input_k.launch(*grid(gx.size), g.flat(), w.flat(), C, H, W, O, OH, OW, cg,
                             O // groups, KH, KW, sh, sw, pt, pl, dh, dw, g.dtype.type(0),
                             gx.flat())
    return gx


def conv2d_backward_weight(x, g, kernel_size, stride, padding, dilation, groups):
    r"""Gradient of ``conv2d_forward`` w.r.t. the weight, shape ``(O, C/groups, KH, KW)``
    with ``(KH, KW) = kernel_size``: :math:`\bar W = \sum_{n, o_h, o_w} \bar y\, x`."""
    x = contiguous(x)
    g = contiguous(g)
    N, C, H, W = x.shape
    _, O, OH, OW = g.shape
    KH, KW = kernel_size
    cg = C // groups
    sh, sw = stride
    dh, dw = dilation
    pt, _, pl, _ = _pad4(padding)
    gw = CudaArray.empty((O, cg, KH, KW), x.dtype)
    if gw.size == 0:
        return gw
    if g.size == 0 or x.size == 0:
        return fill(gw, 0)
    nw = gw.size
    NP = N * OH * OW
    S = _wgrad_slices(nw, NP)
    L = -(-NP // S)
    part = gw if S == 1 else CudaArray.empty((S, nw), x.dtype)
    _conv_bwd_weight_k.launch(*grid(S * nw), x.flat(), g.flat(), N, C, H, W, O, OH, OW, cg,
                              O // groups, KH, KW, sh, sw, pt, pl, dh, dw, nw, L,
                              x.dtype.type(0), part.flat())
    if S > 1:
        _sum_slices_k.launch(*grid(nw), part.flat(), S, nw, gw.flat())
    return gw


# --------------------------------------------------------------------------- max pooling


def _max_pool(x, H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW, neg_inf, out, idx):
    """Max over each (dilated) window, NaN winning, first maximum kept on ties."""
    HW = H * W
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        t = i // OW
        ow = i - t * OW
        plane = t // OH
        oh = t - plane * OH
        xb = plane * HW
        hs = oh * sh - ph
        he = min(hs + (KH - 1) * dh + 1, H)
        if hs < 0:
            hs += ((dh - 1 - hs) // dh) * dh
        ws = ow * sw - pw
        we = min(ws + (KW - 1) * dw + 1, W)
        if ws < 0:
            ws += ((dw - 1 - ws) // dw) * dw
        best = neg_inf
        bi = hs * W + ws if hs < he and ws < we else -1  # -1: a window with no element
        for ih in range(hs, he, dh):
            for iw in range(ws, we, dw):
                v = x[xb + ih * W + iw]
                if v > best or v != v:
                    best = v
                    bi = ih * W + iw
        out[i] = best
        idx[i] = bi


def _max_pool_scatter(g, idx, P, HW, gx):
    """``gx[plane, idx[plane, p]] += g[plane, p]`` with atomics (``gx`` zeroed first)."""
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        plane = i // P
        if idx[i] >= 0:
            cuda.atomic.add(gx, plane * HW + idx[i], g[i])


def _max_pool_gather(x, idx, P, HW, out):
    """``out[plane, p] = x[plane, idx[plane, p]]`` (``-inf`` at index ``-1``)."""
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        plane = i // P
        j = idx[i]
        out[i] = x[plane * HW + j] if j >= 0 else -math.inf


_max_pool_k = CudaKernel(_max_pool)
_max_pool_scatter_k = CudaKernel(_max_pool_scatter)
_max_pool_gather_k = CudaKernel(_max_pool_gather)


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
    out = CudaArray.empty((N, C, OH, OW), x.dtype)
    idx = CudaArray.empty((N, C, OH, OW), np.int64)
    if out.size:
        _max_pool_k.launch(*grid(out.size), x.flat() if x.size else out.flat(), H, W, KH, KW,
                           sh, sw, ph, pw, dh, dw, OH, OW, x.dtype.type(-np.inf), out.flat(),
                           idx.flat())
    return out, idx


def max_pool2d_backward(g, idx, input_size):
    """Gradient of max pooling: ``g (N, C, OH, OW)`` added into ``(N, C, H, W)`` zeros at
    the saved ``idx`` (``(H, W) = input_size``)."""
    g = contiguous(g)
    idx = contiguous(idx)
    N, C, OH, OW = g.shape
    H, W = input_size
    gx = CudaArray.empty((N, C, H, W), g.dtype)
    if gx.size:
        fill(gx, 0)
        if g.size:
            _max_pool_scatter_k.launch(*grid(g.size), g.flat(), idx.flat(), OH * OW, H * W,
                                       gx.flat())
    return gx


def max_pool2d_gather(x, idx):
    """``x (N, C, H, W)`` read at the pooling indices ``idx (N, C, OH, OW)``: the adjoint of
    ``max_pool2d_backward`` (and max pooling itself once the indices are known)."""
    x = contiguous(x)
    idx = contiguous(idx)
    N, C, H, W = x.shape
    OH, OW = idx.shape[2:]
    out = CudaArray.empty(idx.shape, x.dtype)
    if out.size:
        _max_pool_gather_k.launch(*grid(out.size), x.flat(), idx.flat(), OH * OW, H * W,
                                  out.flat())
    return out


# --------------------------------------------------------------------------- average pooling


def _window(o, n, m, k, s, p, cip, adaptive):
    """Window ``[start, end)`` of output ``o`` (of ``m``) along an input axis of ``n``, and
    its divisor factor: the adaptive bin, or the pooling window clipped to the input."""
    if adaptive:
        a = (o * n) // m
        e = ((o + 1) * n + m - 1) // m
        return a, e, e - a
    a = o * s - p
    e = min(a + k, n + p)
    f = e - a
    a = max(a, 0)
    e = min(e, n)
    if not cip:
        f = e - a
    return a, e, max(f, 1)


def _covering(i, n, m, k, s, p, adaptive):
    """A range ``[lo, hi)`` of outputs (of ``m``) that holds every window containing input
    ``i`` (exact; the callers still check each window)."""
    if adaptive:
        return (i * m) // n, min(m, ((i + 1) * m - 1) // n + 1)
    a = i + p - k + 1
    lo = 0 if a <= 0 else (a + s - 1) // s
    return lo, min(m, (i + p) // s + 1)


_window_d = device(_window)
_covering_d = device(_covering)


def _window_mean(x, H, W, OH, OW, KH, KW, sh, sw, ph, pw, cip, div, adaptive, out):
    """``out[plane, oh, ow]``: the window's sum over its divisor, one thread per output."""
    HW = H * W
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        t = i // OW
        ow = i - t * OW
        plane = t // OH
        oh = t - plane * OH
        hs, he, fh = _window_d(oh, H, OH, KH, sh, ph, cip, adaptive)
        ws, we, fw = _window_d(ow, W, OW, KW, sw, pw, cip, adaptive)
        xb = plane * HW
        acc = _DT(0)
        for ih in range(hs, he):
            for iw in range(ws, we):
                acc += x[xb + ih * W + iw]
        d = div if div != 0 else fh * fw
        out[i] = acc / _DT(d)


def _window_mean_back(g, H, W, OH, OW, KH, KW, sh, sw, ph, pw, cip, div, adaptive, gx):
    """``gx[plane, ih, iw]``: ``g / divisor`` summed over the windows holding the element."""
    for i in range(cuda.grid(1), gx.size, cuda.gridsize(1)):
        t = i // W
        iw = i - t * W
        plane = t // H
        ih = t - plane * H
        lh, hh = _covering_d(ih, H, OH, KH, sh, ph, adaptive)
        lw, hw = _covering_d(iw, W, OW, KW, sw, pw, adaptive)
        gb = plane * OH * OW
        acc = _DT(0)
        for oh in range(lh, hh):
            hs, he, fh = _window_d(oh, H, OH, KH, sh, ph, cip, adaptive)
            if ih < hs or ih >= he:
                continue
            for ow in range(lw, hw):
                ws, we, fw = _window_d(ow, W, OW, KW, sw, pw, cip, adaptive)
                if iw < ws or iw >= we:
                    continue
                d = div if div != 0 else fh * fw
                acc += g[gb + oh * OW + ow] / _DT(d)
        gx[i] = acc


_window_mean_k = _per_dtype(_window_mean)
_window_mean_back_k = _per_dtype(_window_mean_back)


def _window_mean_forward(x, out_size, params, op):
    x = contiguous(x)
    N, C, H, W = x.shape
    OH, OW = out_size
    out = CudaArray.empty((N, C, OH, OW), x.dtype)
    if out.size:
        k = _pick(_window_mean_k, x.dtype, op)
        k.launch(*grid(out.size), x.flat() if x.size else out.flat(), H, W, OH, OW, *params,
                 out.flat())
    return out


def _window_mean_backward(g, input_size, params, op):
    g = contiguous(g)
    N, C, OH, OW = g.shape
    H, W = input_size
    gx = CudaArray.empty((N, C, H, W), g.dtype)
    if gx.size:
        if g.size == 0:
            return fill(gx, 0)
        k = _pick(_window_mean_back_k, g.dtype, op)
        k.launch(*grid(gx.size), g.flat(), H, W, OH, OW, *params, gx.flat())
    return gx


def _avg_params(input_size, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    """Output size and the kernels' window parameters for ``avg_pool2d``."""
    (H, W), (KH, KW), (sh, sw), (ph, pw) = input_size, kernel_size, stride, padding
    out_size = (pool_output_size(H, KH, sh, ph, 1, ceil_mode),
                pool_output_size(W, KW, sw, pw, 1, ceil_mode))
    div = int(divisor_override) if divisor_override else 0
    return out_size, (KH, KW, sh, sw, ph, pw, bool(count_include_pad), div, False)


_ADAPTIVE = (0, 0, 1, 1, 0, 0, False, 0, True)


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override):
    r"""2-D average pooling: :math:`y = \frac{1}{d}\sum_{\text{window}} x` with :math:`d` the
    window area inside the padded input (``count_include_pad``), inside the input, or
    ``divisor_override`` when that is positive (0 means none)."""
    out_size, params = _avg_params(x.shape[2:], kernel_size, stride, padding, ceil_mode,
                                   count_include_pad, divisor_override)
    return _window_mean_forward(x, out_size, params, "avg_pool2d_forward")


def avg_pool2d_backward(g, input_size, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override):
    """Gradient of ``avg_pool2d_forward``: each output's ``g / d`` added over its window."""
    _, params = _avg_params(input_size, kernel_size, stride, padding, ceil_mode,
                            count_include_pad, divisor_override)
    return _window_mean_backward(g, input_size, params, "avg_pool2d_backward")


def adaptive_avg_pool2d_forward(x, output_size):
    """Average of ``x (N, C, H, W)`` over ``output_size`` bins per plane (PyTorch's bins)."""
    return _window_mean_forward(x, tuple(output_size), _ADAPTIVE,
                                "adaptive_avg_pool2d_forward")


def adaptive_avg_pool2d_backward(g, input_size):
    """Gradient of ``adaptive_avg_pool2d_forward``: each bin's ``g / area`` over the bin."""
    return _window_mean_backward(g, input_size, _ADAPTIVE, "adaptive_avg_pool2d_backward")


__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
           "max_pool2d_forward", "max_pool2d_backward", "max_pool2d_gather",
           "avg_pool2d_forward", "avg_pool2d_backward", "adaptive_avg_pool2d_forward",
           "adaptive_avg_pool2d_backward"]
