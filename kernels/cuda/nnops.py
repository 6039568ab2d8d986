r"""CUDA kernels of the normalization layers, dropout, embedding and the softmax
cross-entropy, with the launchers of ``kernels.cpu.nnops`` (same names, arguments and
results; the arithmetic of every kernel body is the CPU body's, statement for statement,
so the float32/float64 mix of each expression is the same).

The bodies are copies, not one shared function compiled for both devices. That was tried:
a shared per-item function taking the arrays was bitwise identical, but it made the
CPU's serial kernels keep a reference-count update per array per item unless every body
kept to LLVM's pruning patterns (layer-norm forward was up to 6-9x slower before the
rewrites). Such a hidden rule is a poor trade for a few dozen lines, so each device keeps
its loop, as in Chainer's ``forward_cpu``/``forward_gpu``.

Shapes the launchers work on (every array C-contiguous, the launcher makes it so):

* batch norm: ``x`` viewed as ``(N, C, S)`` (channels on dim 1, ``S`` the product of the
  spatial dims); statistics per channel over ``N`` and ``S``.
* layer norm: ``x`` viewed as ``(M, D)``; statistics per row of ``D`` elements.
* cross-entropy: logits viewed as ``(N, C, S)``, classes on dim 1; a *sample* is one
  ``(n, s)`` pair, ``M = N S`` samples.

**Statistics: one block per row.** Batch-norm channel statistics (and the two gradient
sums of its backward), layer-norm row statistics (and the two row sums of its backward)
and the cross-entropy sum are block reductions: block ``b`` owns row (channel) ``r = b,
b + gridDim, ...``; its ``TPB`` threads stride over the row's elements accumulating in
float64 (as the CPU kernels do), write their partial sums to a float64 shared-memory array
and halve it in ``log2(TPB)`` steps separated by ``syncthreads`` (``_block_sum2``: two
sums in one tree). Mean and variance are two passes, as on the CPU:

.. math::
    \mu = \tfrac1n\textstyle\sum x,\qquad \sigma^2 = \tfrac1n\sum (x - \mu)^2
    \ \text{(biased)},\qquad \sigma^{-1} = 1/\sqrt{\sigma^2 + \epsilon}.

``TPB`` (a compile-time constant) is 256 for batch norm and the cross-entropy sum, 128 for
layer norm on a GPU, 8 under the simulator. Only the summation order differs from the
CPU; elementwise parts are grid-stride loops over the flat output.

**Cross-entropy** is one fused pass per sample (one thread per sample, the classes strided
by ``S``: neighbouring threads read neighbouring logits when ``S > 1``). With
:math:`\ell = \mathrm{logsumexp}(x)` and the weighted target :math:`r`,

.. math::
    L = \sum_c r_c(\ell - x_c), \qquad
    \frac{\partial L}{\partial x_k} = S_r\,p_k - r_k,\quad p = \mathrm{softmax}(x),\
    S_r = \sum_c r_c

(``kernels.cpu.nnops`` derives :math:`r` for class indices, ignore_index, class weights
and label smoothing). ``cross_entropy_reduce`` returns its result *and* ``scale`` as 0-d
device arrays (no device-to-host sync); the backward launchers take ``scale`` as a Python
number or such a 0-d array.

**Embedding gradient: race-free and deterministic.** One block sorts the positions by
index with a stable counting sort (integer histogram with ``atomic.add``, a block scan of
the counts, then the positions placed chunk by chunk: each thread ranks its position among
the equal indices of its chunk in shared memory). Then each thread owns one ``(row,
column)`` of the ``(V, D)`` gradient and sums its bucket's rows of ``g`` in position order,
the CPU's order: the float sums use no atomics and equal the CPU's.

**Dropout** draws one float64 uniform per element from the xoroshiro128+ states of
``kernels.cuda.creation`` (thread ``t`` uses state ``t``).
"""
from __future__ import annotations

import math

import numba

from ._jit import CudaKernel, device
from ._runtime import SIM, cuda, grid
from .array import CudaArray
from .creation import rng_launch, xoroshiro128p_uniform_float64
from .elementwise import cast, contiguous, fill

_ROWS = 64  # rows per task in the layer-norm weight-gradient partial sums
_RED_TPB = 8 if SIM else 256  # threads per block of the batch-norm / sum reductions
_LN_TPB = 8 if SIM else 128  # threads per block of the layer-norm row kernels
_MAX_BLOCKS = 65535

_TPB = 1  # bound per kernel copy (a compile-time constant)
_F64 = numba.float64
_I64 = numba.int64


def _prod(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _rows_grid(rows):
    """Blocks for a block-per-row kernel (each block loops over rows b, b + gridDim, ...)."""
    return max(1, min(rows, 2 if SIM else _MAX_BLOCKS))


def _block_sum2(sa, sb, tid, tpb):
    """Sums of the shared float64 arrays ``sa``, ``sb`` (``tpb`` entries, a power of two),
    returned to every thread of the block; the arrays may be reused afterwards."""
    cuda.syncthreads()
    s = tpb // 2
    while s > 0:
        if tid < s:
            sa[tid] += sa[tid + s]
            sb[tid] += sb[tid + s]
        cuda.syncthreads()
        s //= 2
    a = sa[0]
    b = sb[0]
    cuda.syncthreads()
    return a, b


_bsum2 = device(_block_sum2)


# ------------------------------------------------------------------------ batch norm


def _bn_stats(x, N, C, S, mean, var):
    """Block per channel: two-pass mean and biased variance."""
    sa = cuda.shared.array(shape=_TPB, dtype=_F64)
    sb = cuda.shared.array(shape=_TPB, dtype=_F64)
    tid = cuda.threadIdx.x
    m = N * S
    for c in range(cuda.blockIdx.x, C, cuda.gridDim.x):
        s = 0.0
        for k in range(tid, m, _TPB):
            n = k // S
            s += x[(n * C + c) * S + (k - n * S)]
        sa[tid] = s
        sb[tid] = 0.0
        s, _ = _bsum2(sa, sb, tid, _TPB)
        mu = s / (N * S)
        v = 0.0
        for k in range(tid, m, _TPB):
            n = k // S
            d = x[(n * C + c) * S + (k - n * S)] - mu
            v += d * d
        sa[tid] = v
        sb[tid] = 0.0
        v, _ = _bsum2(sa, sb, tid, _TPB)
        if tid == 0:
            mean[c] = mu
            var[c] = v / (N * S)


def _bn_invstd(var, eps, out):
    for c in range(cuda.grid(1), var.size, cuda.gridsize(1)):
        out[c] = 1.0 / math.sqrt(var[c] + eps)


def _bn_apply(x, mean, invstd, w, b, has_w, has_b, C, S, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        c = (i // S) % C
        mu = mean[c]
        sc = invstd[c] * w[c] if has_w else invstd[c]
        sh = b[c] if has_b else 0.0
        out[i] = (x[i] - mu) * sc + sh


def _bn_update(rm, rv, mean, var, momentum, unbias):
    for c in range(cuda.grid(1), rm.size, cuda.gridsize(1)):
        rm[c] = (1.0 - momentum) * rm[c] + momentum * mean[c]
        rv[c] = (1.0 - momentum) * rv[c] + momentum * var[c] * unbias


def _bn_grad_sums(g, x, mean, invstd, N, C, S, sg, sgx):
    r"""Block per channel: :math:`\sum g` and :math:`\sum g \hat x`."""
    sa = cuda.shared.array(shape=_TPB, dtype=_F64)
    sb = cuda.shared.array(shape=_TPB, dtype=_F64)
    tid = cuda.threadIdx.x
    m = N * S
    for c in range(cuda.blockIdx.x, C, cuda.gridDim.x):
        a = 0.0
        b = 0.0
        mu = mean[c]
        for k in range(tid, m, _TPB):
            n = k // S
            i = (n * C + c) * S + (k - n * S)
            gv = g[i]
            a += gv
            b += gv * (x[i] - mu)
        sa[tid] = a
        sb[tid] = b
        a, b = _bsum2(sa, sb, tid, _TPB)
        if tid == 0:
            sg[c] = a
            sgx[c] = b * invstd[c]


def _bn_grad_input(g, x, mean, invstd, w, has_w, sg, sgx, training, N, C, S, out):
    m = N * S
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        c = (i // S) % C
        rs = invstd[c]
        sc = rs * w[c] if has_w else rs
        if training:
            mg = sg[c] / m
            k = sgx[c] * rs / m
            out[i] = sc * (g[i] - mg - (x[i] - mean[c]) * k)
        else:
            out[i] = sc * g[i]


_bn_stats_k = CudaKernel(_bn_stats, "tpb", {"_TPB": _RED_TPB})
_bn_invstd_k = CudaKernel(_bn_invstd)
_bn_apply_k = CudaKernel(_bn_apply)
_bn_update_k = CudaKernel(_bn_update)
_bn_sums_k = CudaKernel(_bn_grad_sums, "tpb", {"_TPB": _RED_TPB})
_bn_gin_k = CudaKernel(_bn_grad_input)


def _ncs(x):
    return x.shape[0], x.shape[1], _prod(x.shape[2:])


def _as(a, dt):
    """``a`` C-contiguous and of dtype ``dt`` (the CPU's ``contiguous(a).astype(dt)``)."""
    return contiguous(a) if a.dtype == dt else cast(a, dt)


def batch_norm_stats(x):
    """(mean, biased variance) per channel of ``x`` (N, C, ...), each of shape (C,)."""
    x = contiguous(x)
    N, C, S = _ncs(x)
    mean = CudaArray.empty(C, x.dtype)
    var = CudaArray.empty(C, x.dtype)
    if C:
        _bn_stats_k.launch(_rows_grid(C), _RED_TPB, x.flat(), N, C, S, mean.flat(),
                           var.flat())
    return mean, var


def batch_norm_forward(x, mean, var, weight, bias, eps):
    r""":math:`y = (x - \mu_c)\,\sigma_c^{-1} w_c + b_c` with
    :math:`\sigma_c^{-1} = 1/\sqrt{\mathrm{var}_c + \epsilon}`. ``weight``/``bias`` may be
    None. Returns ``(y, invstd)``."""
    x = contiguous(x)
    N, C, S = _ncs(x)
    dt = x.dtype
    invstd = CudaArray.empty(C, dt)
    if C:
        _bn_invstd_k.launch(*grid(C), _as(var, dt).flat(), dt.type(eps), invstd.flat())
    out = CudaArray.empty(x.shape, dt)
    if x.size:
        xf = x.flat()
        _bn_apply_k.launch(*grid(x.size), xf, _as(mean, dt).flat(), invstd.flat(),
                           xf if weight is None else contiguous(weight).flat(),
                           xf if bias is None else contiguous(bias).flat(),
                           weight is not None, bias is not None, C, S, out.flat())
    return out, invstd


def batch_norm_update_stats(running_mean, running_var, mean, var, momentum, n):
    """In place: ``rm = (1-m) rm + m mean``, ``rv = (1-m) rv + m var n/(n-1)`` (unbiased)."""
    unbias = n / (n - 1) if n > 1 else math.nan
    dt = running_mean.dtype.type
    if running_mean.size:
        _bn_update_k.launch(*grid(running_mean.size), running_mean.flat(),
                            running_var.flat(), contiguous(mean).flat(),
                            contiguous(var).flat(), dt(momentum), dt(unbias))
    return running_mean, running_var


def batch_norm_backward(g, x, mean, invstd, weight, training, need_input=True,
                        need_weight=True, need_bias=True):
    r"""Gradients of batch norm: ``(gx, gw, gb)`` (None where not needed).

    .. math::
        \bar x = w\sigma^{-1}\big(g - \overline{g} - \hat x\,\overline{g\hat x}\big)
        \ \text{(training)},\qquad \bar x = w\sigma^{-1} g\ \text{(eval)},\qquad
        \bar w = \textstyle\sum g\hat x,\quad \bar b = \sum g

    with :math:`\overline{\cdot}` the mean over the ``N S`` elements of a channel.
    """
    g = contiguous(g)
    x = contiguous(x)
    N, C, S = _ncs(x)
    dt = x.dtype
    sg = CudaArray.empty(C, dt)
    sgx = CudaArray.empty(C, dt)
    n = x.size
    mean = contiguous(mean)
    invstd = contiguous(invstd)
    if C and (training or need_weight or need_bias):
        _bn_sums_k.launch(_rows_grid(C), _RED_TPB, g.flat(), x.flat(), mean.flat(),
                          invstd.flat(), N, C, S, sg.flat(), sgx.flat())
    gx = gw = gb = None
    if need_input:
        gx = CudaArray.empty(x.shape, dt)
        if n:
            xf = x.flat()
            _bn_gin_k.launch(*grid(n), g.flat(), xf, mean.flat(), invstd.flat(),
                             xf if weight is None else contiguous(weight).flat(),
                             weight is not None, sg.flat(), sgx.flat(), bool(training), N, C,
                             S, gx.flat())
    if need_weight:
        gw = sgx
    if need_bias:
        gb = sg
    return gx, gw, gb


# ------------------------------------------------------------------------ layer norm


def _ln_fwd(x, w, b, has_w, has_b, M, D, eps, out, mean, rstd):
    """Block per row: two-pass statistics, then the normalized row."""
    sa = cuda.shared.array(shape=_TPB, dtype=_F64)
    sb = cuda.shared.array(shape=_TPB, dtype=_F64)
    tid = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, M, cuda.gridDim.x):
        base = r * D
        s = 0.0
        for j in range(tid, D, _TPB):
            s += x[base + j]
        sa[tid] = s
        sb[tid] = 0.0
        s, _ = _bsum2(sa, sb, tid, _TPB)
        mu = s / D
        v = 0.0
        for j in range(tid, D, _TPB):
            d = x[base + j] - mu
            v += d * d
        sa[tid] = v
        sb[tid] = 0.0
        v, _ = _bsum2(sa, sb, tid, _TPB)
        rs = 1.0 / math.sqrt(v / D + eps)
        if tid == 0:
            mean[r] = mu
            rstd[r] = rs
        for j in range(tid, D, _TPB):
            y = (x[base + j] - mu) * rs
            if has_w:
                y = y * w[j]
            if has_b:
                y = y + b[j]
            out[base + j] = y


def _ln_grad_input(g, x, w, has_w, mean, rstd, M, D, out):
    """Block per row: the two row means, then the row of the input gradient."""
    sa = cuda.shared.array(shape=_TPB, dtype=_F64)
    sb = cuda.shared.array(shape=_TPB, dtype=_F64)
    tid = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, M, cuda.gridDim.x):
        base = r * D
        mu = mean[r]
        rs = rstd[r]
        a = 0.0
        c = 0.0
        for j in range(tid, D, _TPB):
            dy = g[base + j] * w[j] if has_w else g[base + j]
            a += dy
            c += dy * (x[base + j] - mu) * rs
        sa[tid] = a
        sb[tid] = c
        a, c = _bsum2(sa, sb, tid, _TPB)
        a /= D
        c /= D
        for j in range(tid, D, _TPB):
            dy = g[base + j] * w[j] if has_w else g[base + j]
            out[base + j] = rs * (dy - a - (x[base + j] - mu) * rs * c)


def _ln_grad_affine(g, x, mean, rstd, M, D, rows, zero, pw, pb):
    """Thread per (block of ``rows`` rows, column): partial sums of ``g * xhat`` and ``g``
    (accumulated in the array dtype, as the CPU does)."""
    T = (M + rows - 1) // rows
    for k in range(cuda.grid(1), T * D, cuda.gridsize(1)):
        t = k // D
        j = k - t * D
        aw = zero
        ab = zero
        for r in range(t * rows, min(M, (t + 1) * rows)):
            i = r * D + j
            gv = g[i]
            aw += gv * (x[i] - mean[r]) * rstd[r]
            ab += gv
        pw[k] = aw
        pb[k] = ab


def _col_sums(p, T, D, out):
    for j in range(cuda.grid(1), D, cuda.gridsize(1)):
        s = 0.0
        for t in range(T):
            s += p[t * D + j]
        out[j] = s


_ln_fwd_k = CudaKernel(_ln_fwd, "tpb", {"_TPB": _LN_TPB})
_ln_gin_k = CudaKernel(_ln_grad_input, "tpb", {"_TPB": _LN_TPB})
_ln_gaff_k = CudaKernel(_ln_grad_affine)
_col_sums_k = CudaKernel(_col_sums)


def layer_norm_forward(x, D, weight, bias, eps):
    r"""Normalize every run of the last ``D`` elements:
    :math:`y = (x - \mu)/\sqrt{\sigma^2 + \epsilon}\; w + b`. Returns ``(y, mean, rstd)``
    with ``mean``/``rstd`` of shape ``(x.size // D,)``; ``weight``/``bias`` (``D``
    elements) may be None."""
    x = contiguous(x)
    dt = x.dtype
    M = x.size // D if D else 0
    out = CudaArray.empty(x.shape, dt)
    mean = CudaArray.empty(M, dt)
    rstd = CudaArray.empty(M, dt)
    if x.size:
        xf = x.flat()
        _ln_fwd_k.launch(_rows_grid(M), _LN_TPB, xf,
                         xf if weight is None else contiguous(weight).flat(),
                         xf if bias is None else contiguous(bias).flat(),
                         weight is not None, bias is not None, M, D, dt.type(eps), out.flat(),
                         mean.flat(), rstd.flat())
    return out, mean, rstd


def layer_norm_backward(g, x, D, mean, rstd, weight, need_input=True, need_weight=True,
                        need_bias=True):
    r"""Gradients of layer norm: ``(gx, gw, gb)``, gw/gb of shape ``(D,)``.

    .. math::
        \bar x = \sigma^{-1}\big(\bar y - \langle\bar y\rangle
        - \hat x\,\langle \bar y \hat x\rangle\big),\quad \bar y = g w,\qquad
        \bar w = \textstyle\sum_{\text{rows}} g\hat x,\quad \bar b = \sum_{\text{rows}} g
    """
    g = contiguous(g)
    x = contiguous(x)
    dt = x.dtype
    M = x.size // D if D else 0
    mean = contiguous(mean)
    rstd = contiguous(rstd)
    gx = gw = gb = None
    if need_input:
        gx = CudaArray.empty(x.shape, dt)
        if x.size:
            xf = x.flat()
            _ln_gin_k.launch(_rows_grid(M), _LN_TPB, g.flat(), xf,
                             xf if weight is None else contiguous(weight).flat(),
                             weight is not None, mean.flat(), rstd.flat(), M, D, gx.flat())
    if need_weight or need_bias:
        T = max((M + _ROWS - 1) // _ROWS, 1)
        pw = fill(CudaArray.empty(T * D, dt), 0)
        pb = fill(CudaArray.empty(T * D, dt), 0)
        if x.size:
            _ln_gaff_k.launch(*grid(T * D), g.flat(), x.flat(), mean.flat(), rstd.flat(), M,
                              D, _ROWS, dt.type(0), pw.flat(), pb.flat())
        gw = CudaArray.empty(D, dt)
        gb = CudaArray.empty(D, dt)
        if D:
            _col_sums_k.launch(*grid(D), pw.flat(), T, D, gw.flat())
            _col_sums_k.launch(*grid(D), pb.flat(), T, D, gb.flat())
    return gx, gw if need_weight else None, gb if need_bias else None


# ------------------------------------------------------------------------ dropout


def _dropout(states, x, p, scale, out, mask):
    t = cuda.grid(1)
    for i in range(t, x.size, cuda.gridsize(1)):
        if xoroshiro128p_uniform_float64(states, t) < p:
            mask[i] = 0.0
            out[i] = 0.0
        else:
            mask[i] = scale
            out[i] = x[i] * scale


_dropout_k = CudaKernel(_dropout)


def dropout_forward(x, p):
    r"""Zero each element with probability ``p`` and scale the rest by :math:`1/(1-p)`.

    Returns ``(out, mask)``, ``mask`` holding 0 or :math:`1/(1-p)` (the backward is
    ``g * mask``). Device xoroshiro128+ states: ``seed`` makes it repeatable."""
    x = contiguous(x)
    out = CudaArray.empty(x.shape, x.dtype)
    mask = CudaArray.empty(x.shape, x.dtype)
    if x.size:
        scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
        rng_launch(_dropout_k, x.size, x.flat(), float(p), x.dtype.type(scale), out.flat(),
                   mask.flat())
    return out, mask


# ------------------------------------------------------------------------ embedding


def _emb_gather(w, idx, D, zero_idx, out):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        j = k // D
        col = k - j * D
        v = idx[j]
        if v == zero_idx:
            out[k] = 0.0
        else:
            out[k] = w[v * D + col]


def _emb_bucket(idx, L, V, cnt, start, order):
    """One block: stable counting sort of the positions ``0..L-1`` by ``idx``. Afterwards
    bucket ``v`` is ``order[start[v]:start[v+1]]``, positions in increasing order."""
    sh = cuda.shared.array(shape=_TPB, dtype=_I64)
    part = cuda.shared.array(shape=_TPB, dtype=_I64)
    tid = cuda.threadIdx.x
    for v in range(tid, V, _TPB):
        cnt[v] = 0
    cuda.syncthreads()
    for j in range(tid, L, _TPB):  # histogram (integer atomics: exact)
        cuda.atomic.add(cnt, idx[j], 1)
    cuda.syncthreads()
    # exclusive scan of cnt into start: thread tid owns the slice [lo, hi)
    per = (V + _TPB - 1) // _TPB
    lo = min(tid * per, V)
    hi = min(lo + per, V)
    s = 0
    for v in range(lo, hi):
        s += cnt[v]
    part[tid] = s
    cuda.syncthreads()
    if tid == 0:
        acc = 0
        for k in range(_TPB):
            c = part[k]
            part[k] = acc
            acc += c
        start[V] = acc
    cuda.syncthreads()
    acc = part[tid]
    for v in range(lo, hi):
        c = cnt[v]
        start[v] = acc
        cnt[v] = acc  # from here on: the next free slot of bucket v
        acc += c
    cuda.syncthreads()
    # placement, _TPB positions at a time: rank among equal indices earlier in the chunk
    for base in range(0, L, _TPB):
        j = base + tid
        v = -1
        if j < L:
            v = idx[j]
        sh[tid] = v
        cuda.syncthreads()
        rank = 0
        last = True
        if j < L:
            for k in range(_TPB):
                if sh[k] == v:
                    if k < tid:
                        rank += 1
                    elif k > tid:
                        last = False
            order[cnt[v] + rank] = j
        cuda.syncthreads()
        if j < L and last:  # one thread per index of the chunk moves its cursor
            cnt[v] += rank + 1


def _emb_scatter(g, start, order, D, skip, zero, out):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        v = k // D
        col = k - v * D
        acc = zero
        if v != skip:
            for t in range(start[v], start[v + 1]):
                acc += g[order[t] * D + col]
        out[k] = acc


_emb_gather_k = CudaKernel(_emb_gather)
_emb_bucket_k = CudaKernel(_emb_bucket, "tpb", {"_TPB": _RED_TPB})
_emb_scatter_k = CudaKernel(_emb_scatter)


def embedding_forward(weight, idx, zero_idx=-1):
    """Rows ``weight[idx]``: ``weight`` (V, D), ``idx`` int64 indices already checked to lie
    in ``[0, V)``. Rows whose index equals ``zero_idx`` come out as zeros (the double
    backward of a padding index). Returns shape ``idx.shape + (D,)``."""
    weight = contiguous(weight)
    idx = contiguous(idx)
    D = weight.shape[1]
    out = CudaArray.empty(idx.shape + (D,), weight.dtype)
    if out.size:
        _emb_gather_k.launch(*grid(out.size), weight.flat(), idx.flat(), D, int(zero_idx),
                             out.flat())
    return out


def embedding_backward(g, idx, num_weights, padding_idx=-1):
    """Sum of the rows of ``g`` (..., D) into a (V, D) gradient by ``idx``, skipping
    ``padding_idx``. Positions are bucketed by index first (one block, stable), then every
    output element is summed by one thread: race-free and deterministic."""
    g = contiguous(g)
    idx = contiguous(idx).reshape(-1)
    D = g.shape[-1] if g.ndim else 1
    out = CudaArray.empty((num_weights, D), g.dtype)
    if out.size == 0:
        return out
    L = idx.size
    if L == 0:
        return fill(out, 0)
    V = int(num_weights)
    start = CudaArray.empty(V + 1, "int64")
    cnt = CudaArray.empty(V, "int64")
    order = CudaArray.empty(L, "int64")
    _emb_bucket_k.launch(1, _RED_TPB, idx.flat(), L, V, cnt.flat(), start.flat(),
                         order.flat())
    _emb_scatter_k.launch(*grid(out.size), g.flat(), start.flat(), order.flat(), D,
                          int(padding_idx), g.dtype.type(0), out.flat())
    return out


# ------------------------------------------------------------------------ cross-entropy


def _ce_index_fwd(x, tgt, w, has_w, C, inner, ignore, eps, loss, prob, wy):
    ec = eps / C
    for t in range(cuda.grid(1), loss.size, cuda.gridsize(1)):
        o = t // inner
        base = o * C * inner + (t - o * inner)
        y = tgt[t]
        if y == ignore:
            loss[t] = 0.0
            wy[t] = 0.0
            continue
        m = x[base]
        for k in range(1, C):
            v = x[base + k * inner]
            if v > m:
                m = v
        s = 0.0
        for k in range(C):
            e = math.exp(x[base + k * inner] - m)
            prob[base + k * inner] = e
            s += e
        inv = 1.0 / s
        for k in range(C):
            prob[base + k * inner] *= inv
        lv = m + math.log(s)
        wv = w[y] if has_w else 1.0
        acc = (1.0 - eps) * wv * (lv - x[base + y * inner])
        if eps != 0.0:
            sm = 0.0
            for k in range(C):
                d = lv - x[base + k * inner]
                sm += w[k] * d if has_w else d
            acc += ec * sm
        loss[t] = acc
        wy[t] = wv


def _ce_index_bwd(prob, tgt, w, has_w, g, gstride, scale, sarr, use_sarr, C, inner, ignore,
                  eps, out):
    ec = eps / C
    sc = sarr[0] if use_sarr else scale
    for t in range(cuda.grid(1), tgt.size, cuda.gridsize(1)):
        o = t // inner
        base = o * C * inner + (t - o * inner)
        y = tgt[t]
        if y == ignore:
            for k in range(C):
                out[base + k * inner] = 0.0
            continue
        wsum = 0.0
        if has_w:
            for k in range(C):
                wsum += w[k]
        else:
            wsum += C
        a = g[t * gstride] * sc
        wv = w[y] if has_w else 1.0
        sa = a * ((1.0 - eps) * wv + ec * wsum)
        for k in range(C):
            r = a * ec * w[k] if has_w else a * ec
            out[base + k * inner] = sa * prob[base + k * inner] - r
        out[base + y * inner] -= a * (1.0 - eps) * wv


def _ce_prob_fwd(x, q, w, has_w, C, inner, eps, loss, prob):
    ec = eps / C
    for t in range(cuda.grid(1), loss.size, cuda.gridsize(1)):
        o = t // inner
        base = o * C * inner + (t - o * inner)
        m = x[base]
        for k in range(1, C):
            v = x[base + k * inner]
            if v > m:
                m = v
        s = 0.0
        for k in range(C):
            e = math.exp(x[base + k * inner] - m)
            prob[base + k * inner] = e
            s += e
        inv = 1.0 / s
        lv = m + math.log(s)
        acc = 0.0
        for k in range(C):
            i = base + k * inner
            prob[i] *= inv
            r = (1.0 - eps) * q[i] + ec
            if has_w:
                r *= w[k]
            acc += r * (lv - x[i])
        loss[t] = acc


def _ce_prob_bwd(prob, q, w, has_w, g, gstride, scale, sarr, use_sarr, C, inner, eps, out):
    ec = eps / C
    sc = sarr[0] if use_sarr else scale
    n = prob.size // C
    for t in range(cuda.grid(1), n, cuda.gridsize(1)):
        o = t // inner
        base = o * C * inner + (t - o * inner)
        a = g[t * gstride] * sc
        sr = 0.0
        for k in range(C):
            r = (1.0 - eps) * q[base + k * inner] + ec
            if has_w:
                r *= w[k]
            sr += r
        for k in range(C):
            i = base + k * inner
            r = (1.0 - eps) * q[i] + ec
            if has_w:
                r *= w[k]
            out[i] = a * (sr * prob[i] - r)


def _ce_reduce(loss, wy, n, has_wy, mean, out, scale):
    """One block: float64 sums of the ``n`` losses (and ``wy``), then the reduced value
    and the gradient scale (written by thread 0)."""
    sa = cuda.shared.array(shape=_TPB, dtype=_F64)
    sb = cuda.shared.array(shape=_TPB, dtype=_F64)
    tid = cuda.threadIdx.x
    sl = 0.0
    sw = 0.0
    for t in range(tid, n, _TPB):
        sl += loss[t]
        if has_wy:
            sw += wy[t]
    sa[tid] = sl
    sb[tid] = sw
    sl, sw = _bsum2(sa, sb, tid, _TPB)
    if tid == 0:
        sc = 1.0
        if mean:
            d = sw if has_wy else n * 1.0
            sc = 1.0 / d if d != 0.0 else math.nan
        out[0] = sl * sc
        scale[0] = sc


_ce_index_fwd_k = CudaKernel(_ce_index_fwd)
_ce_index_bwd_k = CudaKernel(_ce_index_bwd)
_ce_prob_fwd_k = CudaKernel(_ce_prob_fwd)
_ce_prob_bwd_k = CudaKernel(_ce_prob_bwd)
_ce_reduce_k = CudaKernel(_ce_reduce, "tpb", {"_TPB": _RED_TPB})


def _weights(weight, dummy, dt):
    """The flat class weights in ``dt`` (``dummy``, never read, when there are none)."""
    return dummy if weight is None else _as(weight, dt).reshape(-1).flat()


def _g_flat(g):
    g = contiguous(g).reshape(-1)
    return g.flat(), (0 if g.size == 1 else 1)


def _scale(scale, dummy, dt):
    """``(value, device array, use the array)`` for a scale given as a number or 0-d array."""
    if isinstance(scale, CudaArray):
        return dt.type(0), _as(scale, dt).reshape(-1).flat(), True
    return dt.type(scale), dummy, False


def _layout(x):
    C = x.shape[1]
    inner = _prod(x.shape[2:])
    return C, inner, x.shape[0] * inner


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing):
    r"""Fused log-softmax + NLL with class-index targets.

    ``x`` (N, C, ...), ``target`` int64 (N, ...) holding values in ``[0, C)`` or
    ``ignore_index``; ``weight`` (C,) or None. Returns ``(loss, prob, w_target)``: the
    per-sample :math:`L = \sum_c r_c (\ell - x_c)` (shape ``(M,)``), the softmax (the shape
    of ``x``; rows of ignored samples are left unset) and the weight of each sample's
    target class (0 where ignored; their sum divides a 'mean')."""
    x = contiguous(x)
    dt = x.dtype
    C, inner, m = _layout(x)
    loss = CudaArray.empty(m, dt)
    prob = CudaArray.empty(x.shape, dt)
    wy = CudaArray.empty(m, dt)
    if m:
        xf = x.flat()
        _ce_index_fwd_k.launch(*grid(m), xf, contiguous(target).reshape(-1).flat(),
                               _weights(weight, xf, dt), weight is not None, C, inner,
                               int(ignore_index), dt.type(label_smoothing), loss.flat(),
                               prob.flat(), wy.flat())
    return loss, prob, wy


def cross_entropy_reduce(loss, wy, mean):
    r"""Sum (or mean) of the per-sample losses as a 0-d array, and the factor ``scale``
    every sample's gradient gets, also as a 0-d array of the loss dtype (the CPU returns a
    Python float; a device value avoids a sync): 1 for a sum; for a mean
    :math:`1/\sum w_{y_n}` (``wy`` from the forward) or ``1/M`` when ``wy`` is None
    (probability targets); NaN when that sum is 0, as in PyTorch."""
    dt = loss.dtype
    loss = contiguous(loss)
    has_wy = wy is not None
    out = CudaArray.empty((), dt)
    scale = CudaArray.empty((), dt)
    n = loss.size
    lf = loss.flat() if n else out.flat()  # (never read when empty)
    wf = contiguous(wy).flat() if has_wy and n else lf
    _ce_reduce_k.launch(1, _RED_TPB, lf, wf, n, has_wy, bool(mean), out.flat(), scale.flat())
    return out, scale


def cross_entropy_backward(g, prob, target, weight, scale, ignore_index, label_smoothing):
    r"""d(loss)/d(logits) for class-index targets in one pass from the saved softmax
    ``prob``: :math:`a\,(S p - r)` with :math:`a = g \cdot \mathrm{scale}` per sample (``g``
    one value or one per sample; ``scale`` a number or a 0-d device array)."""
    dt = prob.dtype
    C, inner, m = _layout(prob)
    out = CudaArray.empty(prob.shape, dt)
    if m:
        pf = contiguous(prob).flat()
        gf, gs = _g_flat(g)
        sv, sarr, use = _scale(scale, pf, dt)
        _ce_index_bwd_k.launch(*grid(m), pf, contiguous(target).reshape(-1).flat(),
                               _weights(weight, pf, dt), weight is not None, gf, gs, sv, sarr,
                               use, C, inner, int(ignore_index), dt.type(label_smoothing),
                               out.flat())
    return out


def cross_entropy_prob_forward(x, target, weight, label_smoothing):
    """Fused log-softmax + cross-entropy with class-probability targets (``target`` the
    shape of ``x``). Returns ``(loss, prob)``: per-sample losses and the softmax."""
    x = contiguous(x)
    dt = x.dtype
    C, inner, m = _layout(x)
    loss = CudaArray.empty(m, dt)
    prob = CudaArray.empty(x.shape, dt)
    if m:
        xf = x.flat()
        _ce_prob_fwd_k.launch(*grid(m), xf, contiguous(target).reshape(-1).flat(),
                              _weights(weight, xf, dt), weight is not None, C, inner,
                              dt.type(label_smoothing), loss.flat(), prob.flat())
    return loss, prob


def cross_entropy_prob_backward(g, prob, target, weight, scale, label_smoothing):
    """d(loss)/d(logits) for probability targets, in one pass from the saved softmax."""
    dt = prob.dtype
    C, inner, m = _layout(prob)
    out = CudaArray.empty(prob.shape, dt)
    if m:
        pf = contiguous(prob).flat()
        gf, gs = _g_flat(g)
        sv, sarr, use = _scale(scale, pf, dt)
        _ce_prob_bwd_k.launch(*grid(m), pf, contiguous(target).reshape(-1).flat(),
                              _weights(weight, pf, dt), weight is not None, gf, gs, sv, sarr,
                              use, C, inner, dt.type(label_smoothing), out.flat())
    return out


# ------------------------------------------------------------------------ log-sigmoid


def _log_sigmoid(x, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        v = x[i]
        out[i] = min(v, 0.0) - math.log1p(math.exp(-abs(v)))


_log_sigmoid_k = CudaKernel(_log_sigmoid)


def log_sigmoid_forward(x):
    r""":math:`\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, stable for any ``x``."""
    x = contiguous(x)
    out = CudaArray.empty(x.shape, x.dtype)
    if x.size:
        _log_sigmoid_k.launch(*grid(x.size), x.flat(), out.flat())
    return out


__all__ = [
    "batch_norm_stats", "batch_norm_forward", "batch_norm_update_stats",
    "batch_norm_backward", "layer_norm_forward", "layer_norm_backward", "dropout_forward",
    "embedding_forward", "embedding_backward", "cross_entropy_forward",
    "cross_entropy_backward", "cross_entropy_prob_forward", "cross_entropy_prob_backward",
    "cross_entropy_reduce",
    "log_sigmoid_forward",
]
