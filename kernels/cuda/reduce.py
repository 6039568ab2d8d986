r"""Reductions, softmax, cumsum and argsort on the GPU, with the CPU module's names.

Every launcher views its (C-contiguous) input as ``(outer, r, inner)`` and works along the
middle axis, exactly as ``kernels/cpu/reduce.py`` does: ``sum(dim=1)`` of ``(A, B, C)`` is
``outer=A, r=B, inner=C``, a full reduction is ``outer=inner=1``.

**The block tree.** A *line* is one ``(o, i)`` pair: the ``r`` elements
``x[o, k, i]``, ``k < r``, at stride ``inner``. A thread block is two-dimensional,
``(TX, TY)`` with ``TX * TY = TPB`` threads, and owns ``TX`` consecutive lines; thread
``(tx, ty)`` first folds the elements :math:`k \equiv ty \pmod{TY}` of line ``tx`` into a
private accumulator (``TY`` threads stride down each line), writes it to shared memory
``s[ty, tx]``, and then the ``TY`` partial results of every line are combined pairwise in
:math:`\log_2 TY` steps,

.. math:: s_{ty} \leftarrow s_{ty} \oplus s_{ty + h}, \qquad h = TY/2, TY/4, \dots, 1,

with a ``syncthreads`` between steps, leaving the line's result in ``s[0, tx]``.

``TY`` is the next power of two of ``r``, at most ``TPB`` (so a block never spends threads
on a line beyond its length), and ``TX = TPB / TY``:

* a long last-axis row (``inner == 1``, ``r >= TPB``) gets the whole block, ``(1, TPB)``:
  neighbouring threads read neighbouring elements (coalesced);
* short last-axis rows (``r = 10`` classes of a softmax) are packed ``TPB / 16`` rows per
  block, the block reading one contiguous span of ``TX * r`` elements;
* for a middle axis (``inner > 1``) ``TY`` is also capped at ``TPB / 32``, so a warp holds
  32 consecutive lines, i.e. 32 adjacent columns ``i``, and every load of the warp is
  one contiguous run.

Tile after tile is taken by a block-stride loop, so any number of lines fits one launch.

**Splitting long rows.** When there are few tasks but long rows (``sum`` of all elements,
``max`` of a long vector), one block per row would leave the GPU idle. ``sum`` and the
extremes then split each row into ``nsplit`` chunks, one task each, writing partial results
laid out as ``(outer, nsplit, inner)``, which is again an ``(outer, r, inner)`` problem: a
second launch of the same kernel (``r = nsplit``) finishes it.

* ``sum``: float inputs accumulate in float64 (private sums, the shared tree and the split
  partials), integers and bools in int64, then the result is scaled and cast once.
* ``max_dim``/``min_dim``/``max_all``/``min_all``: the tree combines ``(value, index)``
  pairs with the CPU kernel's rule: a NaN beats everything, then the larger (smaller) value,
  then the lower index, so the result is the first NaN if any, else the first extreme.
  That order is associative, so the tree and the split give the sequential answer exactly.
* ``logsumexp``/``softmax_forward``/``log_softmax_forward``: one task per line; a max tree
  (NaN ignored, then a leading NaN adopted as the CPU kernel does), then a float64 tree of
  :math:`\sum_k e^{x_k - m}`, then the outputs. Lines are never split.
* ``cumsum``: per chunk of ``TY`` rows a Hillis-Steele inclusive scan in shared memory
  (:math:`\log_2 TY` steps), plus a per-column carry from the previous chunks; accumulates
  in float64 (floats) or int64.
* ``argsort``: one thread per line runs a stable bottom-up merge sort of the indices,
  ping-ponging between the output and a scratch array (no shared memory); NaN sorts last
  and ties keep their order, as ``np.argsort(kind="mergesort")`` does on the CPU. Simple
  rather than fast for very long lines.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .. import layout
from ._jit import CudaKernel, device
from ._runtime import SIM, cuda, grid
from .array import CudaArray
from .elementwise import contiguous, fill

# Threads per block of the tree kernels, widest column tile, blocks per launch.
TPB = 8 if SIM else 256
_TX_MAX = 4 if SIM else 32
_MAX_BLOCKS = 2 if SIM else 65535
# Split a row when there are fewer tasks than _SPLIT_TASKS and at least _SPLIT_MIN
# elements per thread in every chunk.
_SPLIT_TASKS = 4 if SIM else 512
_SPLIT_MIN = 4 if SIM else 16

_ACC = _DT = numba.float64  # bound per kernel copy
_TPB = TPB
_MAX = True
_HASIDX = False
_MODE = 0


# --------------------------------------------------------------------------------------
# sum


def _sum_tree(x, outer, r, inner, nsplit, scale, out):
    """out[o, s, i] = scale * sum of x[o, k, i] over chunk s of k (block (TX, TY))."""
    sm = cuda.shared.array(shape=_TPB, dtype=_ACC)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tw = cuda.blockDim.x
    th = cuda.blockDim.y
    t = ty * tw + tx
    nl = outer * inner
    ntile = (nl + tw - 1) // tw
    chunk = (r + nsplit - 1) // nsplit
    for b in range(cuda.blockIdx.x, nsplit * ntile, cuda.gridDim.x):
        s = b // ntile
        line = (b - s * ntile) * tw + tx
        ok = line < nl
        o = line // inner
        i = line - o * inner
        base = o * r * inner + i
        k1 = min((s + 1) * chunk, r)
        acc = _ACC(0)
        if ok:
            for k in range(s * chunk + ty, k1, th):
                acc += x[base + k * inner]
        sm[t] = acc
        cuda.syncthreads()
        h = th // 2
        while h > 0:
            if ty < h:
                sm[t] += sm[t + h * tw]
            cuda.syncthreads()
            h //= 2
        if ty == 0 and ok:
            out[(o * nsplit + s) * inner + i] = sm[t] * scale


_SUM_K = {a: CudaKernel(_sum_tree, a, {"_ACC": getattr(numba, a), "_TPB": TPB})
          for a in ("float64", "int64")}


def _pow2(n):
    p = 1
    while p < n:
        p *= 2
    return p


def _block(r, inner):
    """(TX, TY) with TX * TY = TPB: TY threads per line (a power of two, at most ``r``'s
    next power of two, and at most TPB / TX_MAX when lines are strided), TX lines."""
    ty = min(_pow2(r), TPB // min(_pow2(inner), _TX_MAX))
    return TPB // ty, ty


def _ntasks(outer, inner, tx):
    return (outer * inner + tx - 1) // tx


def _nsplit(outer, r, inner, blk):
    tasks = _ntasks(outer, inner, blk[0])
    per = _SPLIT_MIN * blk[1]
    if tasks >= _SPLIT_TASKS or r < 2 * per:
        return 1
    return max(1, min(-(-_SPLIT_TASKS // tasks), r // per))


def _blocks(tasks):
    return max(1, min(tasks, _MAX_BLOCKS))


def _acc_name(*dtypes):
    return "float64" if any(d.kind == "f" for d in dtypes) else "int64"


def _sum_pass(xf, outer, r, inner, scale, out_flat, acc):
    """One (outer, r, inner) sum of the 1-D device array ``xf`` into ``out_flat``."""
    k = _SUM_K[acc]
    blk = _block(r, inner)
    ns = _nsplit(outer, r, inner, blk)
    if ns > 1:
        part = CudaArray.empty(outer * ns * inner, np.dtype(acc))
        k.launch(_blocks(ns * _ntasks(outer, inner, blk[0])), blk, xf, outer, r, inner, ns,
                 np.dtype(acc).type(1), part.flat())
        xf, r = part.flat(), ns
        blk = _block(r, inner)
    k.launch(_blocks(_ntasks(outer, inner, blk[0])), blk, xf, outer, r, inner, 1, scale,
             out_flat)


def sum(x, dims=None, scale=1.0, out_dtype=None):
    """Sum of ``x`` over ``dims`` (all when None), times ``scale``.

    Returns an array of ``x``'s shape with the reduced dims set to 1 (the caller reshapes).
    Integer and bool inputs sum into int64, as in PyTorch.
    """
    x = contiguous(x)
    out_dtype = np.dtype(out_dtype or (x.dtype if x.dtype.kind == "f" else np.int64))
    if dims is None:
        dims = tuple(range(x.ndim))
    kept = tuple(1 if d in dims else n for d, n in enumerate(x.shape))
    out = CudaArray.empty(kept, out_dtype)
    if x.size == 0:
        return fill(out, 0)
    acc = _acc_name(x.dtype, out_dtype)
    if len(dims) == x.ndim:
        sc = np.dtype(acc).type(1) if scale == 1.0 else np.float64(scale)
        _sum_pass(x.flat(), 1, x.size, 1, sc, out.flat(), acc)
        return out
    cur = x.flat()
    passes = layout.reduce_view(x.shape, dims)
    for p, (outer, r, inner) in enumerate(passes):
        last = p == len(passes) - 1
        nxt = out.flat() if last else CudaArray.empty(outer * inner, out_dtype).flat()
        _sum_pass(cur, outer, r, inner, out_dtype.type(scale if last else 1.0), nxt, acc)
        cur = nxt
    return out


# --------------------------------------------------------------------------------------
# max / min with the index of the first extreme


def _better_max(v, i, w, j):
    """Does candidate ``(w, j)`` beat ``(v, i)``? NaN first, then larger, then lower index;
    an index < 0 marks "no candidate"."""
    if j < 0:
        return False
    if i < 0:
        return True
    if w != w:
        return v == v or j < i
    if v != v:
        return False
    return w > v or (w == v and j < i)


def _better_min(v, i, w, j):
    """As ``_better_max`` with smaller values winning."""
    if j < 0:
        return False
    if i < 0:
        return True
    if w != w:
        return v == v or j < i
    if v != v:
        return False
    return w < v or (w == v and j < i)


_better_max_d = device(_better_max)
_better_min_d = device(_better_min)
_better = _better_max_d


def _extreme_tree(x, xi, outer, r, inner, nsplit, out, idx):
    """(value, index) of the extreme of x[o, chunk s, i] into out/idx[o, s, i].

    With ``_HASIDX`` the candidates' indices are read from ``xi`` (the second pass over
    split partials), else an element's index is its position ``k`` in the row."""
    sv = cuda.shared.array(shape=_TPB, dtype=_DT)
    si = cuda.shared.array(shape=_TPB, dtype=numba.int64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tw = cuda.blockDim.x
    th = cuda.blockDim.y
    t = ty * tw + tx
    nl = outer * inner
    ntile = (nl + tw - 1) // tw
    chunk = (r + nsplit - 1) // nsplit
    for b in range(cuda.blockIdx.x, nsplit * ntile, cuda.gridDim.x):
        s = b // ntile
        line = (b - s * ntile) * tw + tx
        ok = line < nl
        o = line // inner
        i = line - o * inner
        base = o * r * inner + i
        k1 = min((s + 1) * chunk, r)
        bv = _DT(0)
        bi = -1
        if ok:
            for k in range(s * chunk + ty, k1, th):
                p = base + k * inner
                v = x[p]
                j = xi[p] if _HASIDX else k
                if _better(bv, bi, v, j):
                    bv = v
                    bi = j
        sv[t] = bv
        si[t] = bi
        cuda.syncthreads()
        h = th // 2
        while h > 0:
            if ty < h:
                u = t + h * tw
                if _better(sv[t], si[t], sv[u], si[u]):
                    sv[t] = sv[u]
                    si[t] = si[u]
            cuda.syncthreads()
            h //= 2
        if ty == 0 and ok:
            out[(o * nsplit + s) * inner + i] = sv[t]
            idx[(o * nsplit + s) * inner + i] = si[t]


_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")


def _nb(name):
    return numba.boolean if name == "bool" else getattr(numba, name)


_EXT_K = {(d, m, h): CudaKernel(_extreme_tree, f"{d}_{'max' if m else 'min'}{'_idx' * h}",
                                {"_DT": _nb(d), "_TPB": TPB, "_HASIDX": h,
                                 "_better": _better_max_d if m else _better_min_d})
          for d in _DTYPES for m in (True, False) for h in (False, True)}


def _extreme_pass(x, outer, r, inner, want_max, out, idx):
    name = "bool" if x.dtype == np.bool_ else x.dtype.name
    blk = _block(r, inner)
    ns = _nsplit(outer, r, inner, blk)
    xf, xi = x.flat(), idx.flat()  # xi: a placeholder until there are partial indices
    hasidx = False
    if ns > 1:
        pv = CudaArray.empty(outer * ns * inner, x.dtype)
        pi = CudaArray.empty(outer * ns * inner, np.int64)
        _EXT_K[name, want_max, False].launch(
            _blocks(ns * _ntasks(outer, inner, blk[0])), blk, xf, xi, outer, r, inner, ns,
            pv.flat(), pi.flat())
        xf, xi, r, hasidx = pv.flat(), pi.flat(), ns, True
        blk = _block(r, inner)
    _EXT_K[name, want_max, hasidx].launch(_blocks(_ntasks(outer, inner, blk[0])), blk, xf,
                                          xi, outer, r, inner, 1, out.flat(), idx.flat())


def _split(x, dim):
    outer = int(np.prod(x.shape[:dim], dtype=np.int64))
    inner = int(np.prod(x.shape[dim + 1:], dtype=np.int64))
    return outer, x.shape[dim], inner


def _extreme(x, dim, want_max):
    x = contiguous(x)
    outer, r, inner = _split(x, dim)
    kept = x.shape[:dim] + (1,) + x.shape[dim + 1:]
    out = CudaArray.empty(kept, x.dtype)
    idx = CudaArray.empty(kept, np.int64)
    if out.size:
        _extreme_pass(x, outer, r, inner, want_max, out, idx)
    return out, idx


def max_dim(x, dim):
    """(values, indices) of the maximum along ``dim``; shapes have ``dim`` set to 1."""
    return _extreme(x, dim, True)


def min_dim(x, dim):
    """(values, indices) of the minimum along ``dim``; shapes have ``dim`` set to 1."""
    return _extreme(x, dim, False)


def max_all(x):
    """(value, flat index) of the maximum of all elements, as two 0-d device arrays
    (the CPU launcher returns host scalars; reading them here would sync the device)."""
    v, i = _extreme(contiguous(x).reshape(-1), 0, True)
    return v.reshape(()), i.reshape(())


def min_all(x):
    """(value, flat index) of the minimum of all elements, as two 0-d device arrays."""
    v, i = _extreme(contiguous(x).reshape(-1), 0, False)
    return v.reshape(()), i.reshape(())


# --------------------------------------------------------------------------------------
# logsumexp, softmax, log-softmax


def _softmax_tree(x, outer, r, inner, out):
    """One line per column of the block: max tree, exp-sum tree, then the outputs.

    ``_MODE``: 0 logsumexp (``out`` is ``(outer, inner)``), 1 softmax, 2 log-softmax."""
    sm = cuda.shared.array(shape=_TPB, dtype=_DT)
    ss = cuda.shared.array(shape=_TPB, dtype=numba.float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tw = cuda.blockDim.x
    th = cuda.blockDim.y
    t = ty * tw + tx
    nl = outer * inner
    ntile = (nl + tw - 1) // tw
    for b in range(cuda.blockIdx.x, ntile, cuda.gridDim.x):
        line = b * tw + tx
        ok = line < nl
        o = line // inner
        base = o * r * inner + line - o * inner
        m = _DT(-math.inf)
        if ok:
            for k in range(ty, r, th):
                v = x[base + k * inner]
                if v > m:
                    m = v
        sm[t] = m
        cuda.syncthreads()
        h = th // 2
        while h > 0:
            if ty < h and sm[t + h * tw] > sm[t]:
                sm[t] = sm[t + h * tw]
            cuda.syncthreads()
            h //= 2
        m = sm[tx]
        if ok and r > 0:
            x0 = x[base]
            if x0 != x0:  # the CPU kernel starts from x[0]: a leading NaN stays the max
                m = x0
        s = 0.0
        if ok:
            for k in range(ty, r, th):
                s += math.exp(x[base + k * inner] - m)
        ss[t] = s
        cuda.syncthreads()
        h = th // 2
        while h > 0:
            if ty < h:
                ss[t] += ss[t + h * tw]
            cuda.syncthreads()
            h //= 2
        s = ss[tx]
        if ok:
            if _MODE == 0:
                if ty == 0:
                    if math.isinf(m):
                        out[line] = m if m > 0 else -math.inf
                    else:
                        out[line] = m + math.log(s)
            elif _MODE == 1:
                inv = 1.0 / s
                for k in range(ty, r, th):
                    p = base + k * inner
                    out[p] = math.exp(x[p] - m) * inv
            else:
                lse = m + math.log(s)
                for k in range(ty, r, th):
                    p = base + k * inner
                    out[p] = x[p] - lse
        cuda.syncthreads()  # everyone has read sm[tx] and ss[tx] before the next task


_SOFTMAX_K = {(d, mode): CudaKernel(_softmax_tree, f"{d}_{name}",
                                    {"_DT": getattr(numba, d), "_TPB": TPB, "_MODE": mode})
              for d in ("float32", "float64")
              for mode, name in enumerate(("lse", "softmax", "log_softmax"))}


def _softmax_launch(x, dim, mode, out):
    outer, r, inner = _split(x, dim)
    if outer * inner == 0:
        return out
    blk = _block(r, inner)
    _SOFTMAX_K[x.dtype.name, mode].launch(_blocks(_ntasks(outer, inner, blk[0])), blk,
                                          x.flat(), outer, r, inner, out.flat())
    return out


def _float_only(x, name):
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a float32 or float64 array, got {x.dtype}")


def logsumexp(x, dim):
    r""":math:`\log\sum_k e^{x_k}` along ``dim`` (max-shifted); ``dim`` kept as size 1."""
    x = contiguous(x)
    _float_only(x, "logsumexp")
    out = CudaArray.empty(x.shape[:dim] + (1,) + x.shape[dim + 1:], x.dtype)
    return _softmax_launch(x, dim, 0, out)


def softmax_forward(x, dim):
    r"""Softmax along ``dim``: :math:`e^{x_k - m} / \sum_j e^{x_j - m}` with :math:`m = \max x`."""
    x = contiguous(x)
    _float_only(x, "softmax_forward")
    return _softmax_launch(x, dim, 1, CudaArray.empty(x.shape, x.dtype))


def log_softmax_forward(x, dim):
    r"""Log-softmax along ``dim``: :math:`x_k - \log\sum_j e^{x_j}`."""
    x = contiguous(x)
    _float_only(x, "log_softmax_forward")
    return _softmax_launch(x, dim, 2, CudaArray.empty(x.shape, x.dtype))


__all__ = ["sum", "max_dim", "min_dim", "max_all", "min_all", "logsumexp",
           "softmax_forward", "log_softmax_forward"]


# --------------------------------------------------------------------------------------
# cumsum and argsort


def _cumsum_scan(x, outer, r, inner, out):
    """Inclusive scan along k: per chunk of TY rows a Hillis-Steele scan plus a carry."""
    sm = cuda.shared.array(shape=_TPB, dtype=_ACC)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tw = cuda.blockDim.x
    th = cuda.blockDim.y
    t = ty * tw + tx
    nl = outer * inner
    ntile = (nl + tw - 1) // tw
    for b in range(cuda.blockIdx.x, ntile, cuda.gridDim.x):
        line = b * tw + tx
        o = line // inner
        base = o * r * inner + line - o * inner
        carry = _ACC(0)
        for k0 in range(0, r, th):
            k = k0 + ty
            live = line < nl and k < r
            v = _ACC(0)
            if live:
                v = x[base + k * inner]
            sm[t] = v
            cuda.syncthreads()
            h = 1
            while h < th:
                w = _ACC(0)
                if ty >= h:
                    w = sm[t - h * tw]
                cuda.syncthreads()
                if ty >= h:
                    sm[t] += w
                cuda.syncthreads()
                h *= 2
            if live:
                out[base + k * inner] = carry + sm[t]
            carry += sm[(th - 1) * tw + tx]
            cuda.syncthreads()  # all carries read before the next chunk is stored


_CUMSUM_K = {a: CudaKernel(_cumsum_scan, a, {"_ACC": getattr(numba, a), "_TPB": TPB})
             for a in ("float64", "int64")}


def _before(a, b, desc):
    """Does key ``a`` sort strictly before ``b``? NaN last; ``desc`` reverses the values."""
    if a != a:
        return False
    if b != b:
        return True
    return a > b if desc else a < b


_before_d = device(_before)


def _merge_pass(x, base, inner, r, w, desc, src, dst):
    """Merge the sorted runs of length ``w`` of ``src`` into ``dst`` (stable)."""
    for lo in range(0, r, 2 * w):
        mid = min(lo + w, r)
        hi = min(lo + 2 * w, r)
        p = lo
        q = mid
        for d in range(lo, hi):
            right = False
            if q < hi:
                if p >= mid:
                    right = True
                else:
                    right = _before_d(x[base + src[base + q * inner] * inner],
                                      x[base + src[base + p * inner] * inner], desc)
            if right:
                dst[base + d * inner] = src[base + q * inner]
                q += 1
            else:
                dst[base + d * inner] = src[base + p * inner]
                p += 1


_merge_pass_d = device(_merge_pass)


def _argsort_lines(x, outer, r, inner, desc, out, tmp):
    """A stable bottom-up merge sort of every line's indices, one line per thread."""
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o = t // inner
        i = t - o * inner
        base = o * r * inner + i
        for k in range(r):
            out[base + k * inner] = k
        w = 1
        in_out = True
        while w < r:
            if in_out:
                _merge_pass_d(x, base, inner, r, w, desc, out, tmp)
            else:
                _merge_pass_d(x, base, inner, r, w, desc, tmp, out)
            in_out = not in_out
            w *= 2
        if not in_out:
            for k in range(r):
                out[base + k * inner] = tmp[base + k * inner]


_argsort_k = CudaKernel(_argsort_lines)


def cumsum(x, dim):
    """Running sum along ``dim`` (same shape as ``x``)."""
    x = contiguous(x)
    out = CudaArray.empty(x.shape, x.dtype if x.dtype.kind == "f" else np.int64)
    if x.size:
        outer, r, inner = _split(x, dim)
        blk = _block(r, inner)
        _CUMSUM_K[_acc_name(x.dtype)].launch(_blocks(_ntasks(outer, inner, blk[0])), blk,
                                             x.flat(), outer, r, inner, out.flat())
    return out


def argsort(x, dim, descending=False):
    """Indices (int64) that sort ``x`` along ``dim``; stable."""
    x = contiguous(x)
    out = CudaArray.empty(x.shape, np.int64)
    if x.size:
        outer, r, inner = _split(x, dim)
        tmp = CudaArray.empty(x.shape, np.int64)
        _argsort_k.launch(*grid(outer * inner), x.flat(), outer, r, inner, bool(descending),
                          out.flat(), tmp.flat())
    return out


__all__ += ["cumsum", "argsort"]
