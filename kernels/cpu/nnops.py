r"""Kernels of the normalization layers, dropout, embedding and the softmax cross-entropy.

Shapes the launchers work on (every array C-contiguous, the launcher makes it so):

* batch norm: ``x`` viewed as ``(N, C, S)`` (channels on dim 1, ``S`` the product of the
  spatial dims, 1 for a 2-D input); statistics per channel over ``N`` and ``S``.
* layer norm: ``x`` viewed as ``(M, D)``; statistics per row of ``D`` elements.
* cross-entropy: logits viewed as ``(N, C, S)``, classes on dim 1 as in PyTorch; a
  *sample* is one ``(n, s)`` pair, ``M = N S`` samples.

Cross-entropy is one fused pass per sample. With :math:`\ell = \mathrm{logsumexp}(x)` and
a non-negative *weighted target* :math:`r` (class weights times target distribution),

.. math::
    L = \sum_c r_c(\ell - x_c), \qquad
    \frac{\partial L}{\partial x_k} = S\,p_k - r_k,\quad p = \mathrm{softmax}(x),\
    S = \sum_c r_c

so the backward pass is ``(softmax - target distribution) * per-sample weight * g``. For a
class index :math:`y` with class weights :math:`w` and label smoothing :math:`\varepsilon`:
:math:`r_c = (1-\varepsilon) w_y [c = y] + \frac{\varepsilon}{C} w_c` (0 when
:math:`y` is the ignored index); for probabilities :math:`q`:
:math:`r_c = w_c((1-\varepsilon) q_c + \varepsilon / C)`.

Every parallel task owns what it writes (a channel for batch-norm statistics, a block of
rows for layer norm's weight gradient, whose per-block sums are then added, a vocabulary
row for the embedding gradient), so nothing races and the results do not depend on the
number of threads.
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._jit import Kernel, serial
from .elementwise import contiguous

_ROWS = 64  # rows per task in the layer-norm weight-gradient partial sums


def _prod(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _dummy(dtype):
    return np.empty(0, dtype)


# ------------------------------------------------------------------------ batch norm


def _bn_stats(x, N, C, S, mean, var):
    """Two-pass mean and biased variance per channel."""
    for c in prange(C):
        s = 0.0
        for n in range(N):
            base = (n * C + c) * S
            for i in range(S):
                s += x[base + i]
        mu = s / (N * S)
        v = 0.0
        for n in range(N):
            base = (n * C + c) * S
            for i in range(S):
                d = x[base + i] - mu
                v += d * d
        mean[c] = mu
        var[c] = v / (N * S)


def _bn_invstd(var, eps, out):
    for c in range(var.size):
        out[c] = 1.0 / math.sqrt(var[c] + eps)


def _bn_apply(x, mean, invstd, w, b, has_w, has_b, N, C, S, out):
    for r in prange(N * C):
        c = r % C
        mu = mean[c]
        sc = invstd[c] * w[c] if has_w else invstd[c]
        sh = b[c] if has_b else 0.0
        base = r * S
        for i in range(S):
            out[base + i] = (x[base + i] - mu) * sc + sh


def _bn_update(rm, rv, mean, var, momentum, unbias):
    for c in range(rm.size):
        rm[c] = (1.0 - momentum) * rm[c] + momentum * mean[c]
        rv[c] = (1.0 - momentum) * rv[c] + momentum * var[c] * unbias


def _bn_grad_sums(g, x, mean, invstd, N, C, S, sg, sgx):
    r"""Per channel :math:`\sum g` and :math:`\sum g \hat x`."""
    for c in prange(C):
        a = 0.0
        b = 0.0
        mu = mean[c]
        for n in range(N):
            base = (n * C + c) * S
            for i in range(S):
                gv = g[base + i]
                a += gv
                b += gv * (x[base + i] - mu)
        sg[c] = a
        sgx[c] = b * invstd[c]


def _bn_grad_input(g, x, mean, invstd, w, has_w, sg, sgx, training, N, C, S, out):
    m = N * S
    for r in prange(N * C):
        c = r % C
        rs = invstd[c]
        sc = rs * w[c] if has_w else rs
        base = r * S
        if training:
            mg = sg[c] / m
            k = sgx[c] * rs / m
            mu = mean[c]
            for i in range(S):
                out[base + i] = sc * (g[base + i] - mg - (x[base + i] - mu) * k)
        else:
            for i in range(S):
                out[base + i] = sc * g[base + i]


_bn_stats_k = Kernel(_bn_stats)
_bn_invstd_k = serial(_bn_invstd)
_bn_apply_k = Kernel(_bn_apply)
_bn_update_k = serial(_bn_update)
_bn_sums_k = Kernel(_bn_grad_sums)
_bn_gin_k = Kernel(_bn_grad_input)


def _ncs(x):
    return x.shape[0], x.shape[1], _prod(x.shape[2:])


def batch_norm_stats(x):
    """(mean, biased variance) per channel of ``x`` (N, C, ...), each of shape (C,)."""
    x = contiguous(x)
    N, C, S = _ncs(x)
    mean = np.empty(C, x.dtype)
    var = np.empty(C, x.dtype)
    _bn_stats_k.pick(x.size)(x.reshape(-1), N, C, S, mean, var)
    return mean, var


def batch_norm_forward(x, mean, var, weight, bias, eps):
    r""":math:`y = (x - \mu_c)\,\sigma_c^{-1} w_c + b_c` with
    :math:`\sigma_c^{-1} = 1/\sqrt{\mathrm{var}_c + \epsilon}`. ``weight``/``bias`` may be
    None. Returns ``(y, invstd)``."""
    x = contiguous(x)
    N, C, S = _ncs(x)
    dt = x.dtype
    invstd = np.empty(C, dt)
    _bn_invstd_k(contiguous(var).astype(dt, copy=False), dt.type(eps), invstd)
    out = np.empty(x.shape, dt)
    if x.size:
        _bn_apply_k.pick(x.size)(
            x.reshape(-1), contiguous(mean).astype(dt, copy=False), invstd,
            _dummy(dt) if weight is None else contiguous(weight),
            _dummy(dt) if bias is None else contiguous(bias),
            weight is not None, bias is not None, N, C, S, out.reshape(-1))
    return out, invstd


def batch_norm_update_stats(running_mean, running_var, mean, var, momentum, n):
    """In place: ``rm = (1-m) rm + m mean``, ``rv = (1-m) rv + m var n/(n-1)`` (unbiased)."""
    unbias = n / (n - 1) if n > 1 else math.nan
    dt = running_mean.dtype.type
    _bn_update_k(running_mean, running_var, mean, var, dt(momentum), dt(unbias))
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
    sg = np.empty(C, dt)
    sgx = np.empty(C, dt)
    n = x.size
    if training or need_weight or need_bias:
        _bn_sums_k.pick(n)(g.reshape(-1), x.reshape(-1), mean, invstd, N, C, S, sg, sgx)
    gx = gw = gb = None
    if need_input:
        gx = np.empty(x.shape, dt)
        if n:
            _bn_gin_k.pick(n)(g.reshape(-1), x.reshape(-1), mean, invstd,
                              _dummy(dt) if weight is None else contiguous(weight),
                              weight is not None, sg, sgx, training, N, C, S, gx.reshape(-1))
    if need_weight:
        gw = sgx
    if need_bias:
        gb = sg
    return gx, gw, gb


# ------------------------------------------------------------------------ layer norm


def _ln_fwd(x, w, b, has_w, has_b, M, D, eps, out, mean, rstd):
    for r in prange(M):
        base = r * D
        s = 0.0
        for j in range(D):
            s += x[base + j]
        mu = s / D
        v = 0.0
        for j in range(D):
            d = x[base + j] - mu
            v += d * d
        rs = 1.0 / math.sqrt(v / D + eps)
        mean[r] = mu
        rstd[r] = rs
        for j in range(D):
            y = (x[base + j] - mu) * rs
            if has_w:
                y = y * w[j]
            if has_b:
                y = y + b[j]
            out[base + j] = y


def _ln_grad_input(g, x, w, has_w, mean, rstd, M, D, out):
    for r in prange(M):
        base = r * D
        mu = mean[r]
        rs = rstd[r]
        a = 0.0
        c = 0.0
        for j in range(D):
            dy = g[base + j] * w[j] if has_w else g[base + j]
            a += dy
            c += dy * (x[base + j] - mu) * rs
        a /= D
        c /= D
        for j in range(D):
            dy = g[base + j] * w[j] if has_w else g[base + j]
            out[base + j] = rs * (dy - a - (x[base + j] - mu) * rs * c)


def _ln_grad_affine(g, x, mean, rstd, M, D, rows, pw, pb):
    """Partial sums of ``g * xhat`` and ``g`` over blocks of ``rows`` rows."""
    nt = (M + rows - 1) // rows
    for t in prange(nt):
        ob = t * D
        for j in range(D):
            pw[ob + j] = 0.0
            pb[ob + j] = 0.0
        for r in range(t * rows, min(M, (t + 1) * rows)):
            base = r * D
            mu = mean[r]
            rs = rstd[r]
            for j in range(D):
                gv = g[base + j]
                pw[ob + j] += gv * (x[base + j] - mu) * rs
                pb[ob + j] += gv


def _col_sums(p, T, D, out):
    for j in prange(D):
        s = 0.0
        for t in range(T):
            s += p[t * D + j]
        out[j] = s


_ln_fwd_k = Kernel(_ln_fwd)
_ln_gin_k = Kernel(_ln_grad_input)
_ln_gaff_k = Kernel(_ln_grad_affine)
_col_sums_k = Kernel(_col_sums)


def layer_norm_forward(x, D, weight, bias, eps):
    r"""Normalize every run of the last ``D`` elements:
    :math:`y = (x - \mu)/\sqrt{\sigma^2 + \epsilon}\; w + b`. Returns ``(y, mean, rstd)``
    with ``mean``/``rstd`` of shape ``(x.size // D,)``; ``weight``/``bias`` (``D``
    elements) may be None."""
    x = contiguous(x)
    dt = x.dtype
    M = x.size // D if D else 0
    out = np.empty(x.shape, dt)
    mean = np.empty(M, dt)
    rstd = np.empty(M, dt)
    if x.size:
        _ln_fwd_k.pick(x.size)(
            x.reshape(-1), _dummy(dt) if weight is None else contiguous(weight).reshape(-1),
            _dummy(dt) if bias is None else contiguous(bias).reshape(-1),
            weight is not None, bias is not None, M, D, dt.type(eps), out.reshape(-1), mean,
            rstd)
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
    gx = gw = gb = None
    if need_input:
        gx = np.empty(x.shape, dt)
        if x.size:
            _ln_gin_k.pick(x.size)(
                g.reshape(-1), x.reshape(-1),
                _dummy(dt) if weight is None else contiguous(weight).reshape(-1),
                weight is not None, mean, rstd, M, D, gx.reshape(-1))
    if need_weight or need_bias:
        T = max((M + _ROWS - 1) // _ROWS, 1)
        pw = np.zeros(T * D, dt)
        pb = np.zeros(T * D, dt)
        if x.size:
            _ln_gaff_k.pick(x.size)(g.reshape(-1), x.reshape(-1), mean, rstd, M, D, _ROWS,
                                    pw, pb)
        gw = np.empty(D, dt)
        gb = np.empty(D, dt)
        _col_sums_k.pick(T * D)(pw, T, D, gw)
        _col_sums_k.pick(T * D)(pb, T, D, gb)
    return gx, gw if need_weight else None, gb if need_bias else None


# ------------------------------------------------------------------------ dropout


@serial
def _dropout(x, p, scale, out, mask):
    for i in range(x.size):
        if np.random.random() < p:
            mask[i] = 0.0
            out[i] = 0.0
        else:
            mask[i] = scale
            out[i] = x[i] * scale


def dropout_forward(x, p):
    r"""Zero each element with probability ``p`` and scale the rest by :math:`1/(1-p)`.

    Returns ``(out, mask)``, ``mask`` holding 0 or :math:`1/(1-p)` (the backward is
    ``g * mask``). One thread, Numba's generator: ``manual_seed`` makes it repeatable."""
    x = contiguous(x)
    out = np.empty(x.shape, x.dtype)
    mask = np.empty(x.shape, x.dtype)
    if x.size:
        scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
        _dropout(x.reshape(-1), float(p), x.dtype.type(scale), out.reshape(-1),
                 mask.reshape(-1))
    return out, mask


# ------------------------------------------------------------------------ embedding


def _emb_gather(w, idx, D, zero_idx, out):
    for j in prange(idx.size):
        v = idx[j]
        ob = j * D
        if v == zero_idx:
            for k in range(D):
                out[ob + k] = 0.0
        else:
            wb = v * D
            for k in range(D):
                out[ob + k] = w[wb + k]


@serial
def _emb_bucket(idx, start, order):
    """Counting sort of positions by index: rows ``start[v]:start[v+1]`` of ``order``."""
    V = start.size - 1
    for v in range(V + 1):
        start[v] = 0
    for j in range(idx.size):
        start[idx[j] + 1] += 1
    for v in range(V):
        start[v + 1] += start[v]
    for j in range(idx.size):  # start[v] walks to the end of bucket v ...
        v = idx[j]
        order[start[v]] = j
        start[v] += 1
    for v in range(V, 0, -1):  # ... so shift it back by one bucket
        start[v] = start[v - 1]
    start[0] = 0


def _emb_scatter(g, start, order, D, skip, out):
    for v in prange(start.size - 1):
        ob = v * D
        for k in range(D):
            out[ob + k] = 0.0
        if v == skip:
            continue
        for t in range(start[v], start[v + 1]):
            gb = order[t] * D
            for k in range(D):
                out[ob + k] += g[gb + k]


_emb_gather_k = Kernel(_emb_gather)
_emb_scatter_k = Kernel(_emb_scatter)


def embedding_forward(weight, idx, zero_idx=-1):
    """Rows ``weight[idx]``: ``weight`` (V, D), ``idx`` int64 indices already checked to lie
    in ``[0, V)``. Rows whose index equals ``zero_idx`` come out as zeros (the double
    backward of a padding index). Returns shape ``idx.shape + (D,)``."""
    weight = contiguous(weight)
    idx = contiguous(idx)
    D = weight.shape[1]
    out = np.empty(idx.shape + (D,), weight.dtype)
    if out.size:
        _emb_gather_k.pick(out.size)(weight.reshape(-1), idx.reshape(-1), D, zero_idx,
                                     out.reshape(-1))
    return out


def embedding_backward(g, idx, num_weights, padding_idx=-1):
    """Sum of the rows of ``g`` (..., D) into a (V, D) gradient by ``idx``, skipping
    ``padding_idx``. Positions are bucketed by index first, then every output row is summed
    by one task: race-free and deterministic."""
    g = contiguous(g)
    idx = contiguous(idx).reshape(-1)
    D = g.shape[-1] if g.ndim else 1
    out = np.empty((num_weights, D), g.dtype)
    start = np.empty(num_weights + 1, np.int64)
    order = np.empty(idx.size, np.int64)
    _emb_bucket(idx, start, order)
    if out.size:
        _emb_scatter_k.pick(max(out.size, g.size))(g.reshape(-1), start, order, D,
                                                   padding_idx, out.reshape(-1))
    return out


# ------------------------------------------------------------------------ cross-entropy


def _ce_index_fwd(x, tgt, w, has_w, C, inner, ignore, eps, loss, prob, wy):
    ec = eps / C
    for t in prange(loss.size):
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


def _ce_index_bwd(prob, tgt, w, has_w, wsum, g, gstride, scale, C, inner, ignore, eps, out):
    ec = eps / C
    for t in prange(tgt.size):
        o = t // inner
        base = o * C * inner + (t - o * inner)
        y = tgt[t]
        if y == ignore:
            for k in range(C):
                out[base + k * inner] = 0.0
            continue
        a = g[t * gstride] * scale
        wv = w[y] if has_w else 1.0
        sa = a * ((1.0 - eps) * wv + ec * wsum)
        for k in range(C):
            r = a * ec * w[k] if has_w else a * ec
            out[base + k * inner] = sa * prob[base + k * inner] - r
        out[base + y * inner] -= a * (1.0 - eps) * wv


def _ce_prob_fwd(x, q, w, has_w, C, inner, eps, loss, prob):
    ec = eps / C
    for t in prange(loss.size):
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


def _ce_prob_bwd(prob, q, w, has_w, g, gstride, scale, C, inner, eps, out):
    ec = eps / C
    n = prob.size // C
    for t in prange(n):
        o = t // inner
        base = o * C * inner + (t - o * inner)
        a = g[t * gstride] * scale
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


def _ce_sums(loss, wy, has_wy):
    sl = 0.0
    sw = 0.0
    for t in prange(loss.size):
        sl += loss[t]
        if has_wy:
            sw += wy[t]
    return sl, sw


_ce_index_fwd_k = Kernel(_ce_index_fwd)
_ce_index_bwd_k = Kernel(_ce_index_bwd)
_ce_prob_fwd_k = Kernel(_ce_prob_fwd)
_ce_prob_bwd_k = Kernel(_ce_prob_bwd)
_ce_sums_k = Kernel(_ce_sums)


def _weights(weight, dt):
    return _dummy(dt) if weight is None else contiguous(weight).astype(dt, copy=False)


def _g_flat(g):
    g = contiguous(g).reshape(-1)
    return g, (0 if g.size == 1 else 1)


def _layout(x):
    C = x.shape[1]
    inner = _prod(x.shape[2:])
    return C, inner, x.shape[0] * inner


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing):
    r"""Fused log-softmax + NLL with class-index targets.

    ``x`` (N, C, ...), ``target`` int64 (N, ...) holding values in ``[0, C)`` or
    ``ignore_index``; ``weight`` (C,) or None. Returns ``(loss, prob, w_target)``: the
    per-sample :math:`L = \sum_c r_c (\ell - x_c)` (shape ``(M,)``), the softmax (the shape
    of ``x``; the backward reads it, so no exponential is taken twice; rows of ignored
    samples are left unset) and the weight of each sample's target class (0 where ignored;
    their sum divides a 'mean')."""
    x = contiguous(x)
    dt = x.dtype
    C, inner, m = _layout(x)
    loss = np.empty(m, dt)
    prob = np.empty(x.shape, dt)
    wy = np.empty(m, dt)
    if m:
        _ce_index_fwd_k.pick(x.size)(x.reshape(-1), contiguous(target).reshape(-1),
                                     _weights(weight, dt), weight is not None, C, inner,
                                     np.int64(ignore_index), dt.type(label_smoothing), loss,
                                     prob.reshape(-1), wy)
    return loss, prob, wy


def cross_entropy_reduce(loss, wy, mean):
    r"""Sum (or mean) of the per-sample losses as a 0-d array, and the factor ``scale``
    every sample's gradient gets: 1 for a sum; for a mean :math:`1/\sum w_{y_n}` (``wy``
    from the forward) or ``1/M`` when ``wy`` is None (probability targets); NaN when
    that sum is 0, as in PyTorch."""
    dt = loss.dtype
    has_wy = wy is not None
    sl, sw = _ce_sums_k.pick(loss.size)(loss, wy if has_wy else loss, has_wy)
    if mean:
        d = sw if has_wy else loss.size
        scale = 1.0 / d if d else math.nan
    else:
        scale = 1.0
    out = np.empty((), dt)
    out[()] = sl * scale
    return out, scale


def cross_entropy_backward(g, prob, target, weight, scale, ignore_index, label_smoothing):
    r"""d(loss)/d(logits) for class-index targets in one pass from the saved softmax
    ``prob``: :math:`a\,(S p - r)` with :math:`a = g \cdot \mathrm{scale}` per sample (``g``
    one value or one per sample)."""
    dt = prob.dtype
    C, inner, m = _layout(prob)
    out = np.empty(prob.shape, dt)
    if m:
        w = _weights(weight, dt)
        wsum = dt.type(w.sum() if weight is not None else C)
        gf, gs = _g_flat(g)
        _ce_index_bwd_k.pick(prob.size)(prob.reshape(-1), contiguous(target).reshape(-1), w,
                                        weight is not None, wsum, gf, gs, dt.type(scale), C,
                                        inner, np.int64(ignore_index),
                                        dt.type(label_smoothing), out.reshape(-1))
    return out


def cross_entropy_prob_forward(x, target, weight, label_smoothing):
    """Fused log-softmax + cross-entropy with class-probability targets (``target`` the
    shape of ``x``). Returns ``(loss, prob)``: per-sample losses and the softmax."""
    x = contiguous(x)
    dt = x.dtype
    C, inner, m = _layout(x)
    loss = np.empty(m, dt)
    prob = np.empty(x.shape, dt)
    if m:
        _ce_prob_fwd_k.pick(x.size)(x.reshape(-1), contiguous(target).reshape(-1),
                                    _weights(weight, dt), weight is not None, C, inner,
                                    dt.type(label_smoothing), loss, prob.reshape(-1))
    return loss, prob


def cross_entropy_prob_backward(g, prob, target, weight, scale, label_smoothing):
    """d(loss)/d(logits) for probability targets, in one pass from the saved softmax."""
    dt = prob.dtype
    C, inner, m = _layout(prob)
    out = np.empty(prob.shape, dt)
    if m:
        gf, gs = _g_flat(g)
        _ce_prob_bwd_k.pick(prob.size)(prob.reshape(-1), contiguous(target).reshape(-1),
                                       _weights(weight, dt), weight is not None, gf, gs,
                                       dt.type(scale), C, inner, dt.type(label_smoothing),
                                       out.reshape(-1))
    return out


# ------------------------------------------------------------------------ log-sigmoid


def _log_sigmoid(x, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = min(v, 0.0) - math.log1p(math.exp(-abs(v)))


_log_sigmoid_k = Kernel(_log_sigmoid)


def log_sigmoid_forward(x):
    r""":math:`\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, stable for any ``x``."""
    x = contiguous(x)
    out = np.empty(x.shape, x.dtype)
    if x.size:
        _log_sigmoid_k.pick(x.size)(x.reshape(-1), out.reshape(-1))
    return out


__all__ = [
    "batch_norm_stats", "batch_norm_forward", "batch_norm_update_stats",
    "batch_norm_backward", "layer_norm_forward", "layer_norm_backward", "dropout_forward",
    "embedding_forward", "embedding_backward", "cross_entropy_forward",
    "cross_entropy_backward", "cross_entropy_prob_forward", "cross_entropy_prob_backward",
    "cross_entropy_reduce",
    "log_sigmoid_forward",
]
