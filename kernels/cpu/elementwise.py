"""Elementwise kernels: unary maps (forward and fused backward), binary maps with
broadcasting, ``where``, casts and strided copies.

Two loop shapes cover every case:

* flat: all operands C-contiguous with the output's shape; one ``prange`` over elements.
* strided: any layout and broadcasting. The launcher merges dimensions
  (``kernels.layout.coalesce``); the kernel walks the flat output index in chunks,
  decomposes the chunk start into per-operand offsets once per row and then steps along
  the last dimension by stride, so a division per element is never needed.

Each public launcher allocates its output (or writes ``out=``) and picks the serial or
parallel compilation by size. Scalar math comes from ``kernels.scalar``, written once.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from .. import layout, scalar
from ._jit import CHUNK, Kernel

_inline = dict(inline="always", error_model="numpy")

# Templates. ``_f`` (unary ``f(x, p0, p1)`` or binary ``f(a, b)``) and ``_b`` (backward
# ``b(g, s, p0, p1)``) are bound per op by ``Kernel(template, name, {"_f": ...})``: each op
# gets its own copy of the template, compiled and cached under its own name.
_f = _b = None


def _unary_flat(x, p0, p1, out):
    for i in prange(out.size):
        out[i] = _f(x[i], p0, p1)


def _unary_strided(x, sx, shape, p0, p1, out, chunk):
    nd = shape.size
    inner = shape[nd - 1]
    n = out.size
    nchunks = (n + chunk - 1) // chunk
    last = sx[nd - 1]
    for c in prange(nchunks):
        i = c * chunk
        hi = min(i + chunk, n)
        while i < hi:
            rem = i // inner
            j = i - rem * inner
            ox = j * last
            for d in range(nd - 2, -1, -1):
                q = rem // shape[d]
                ox += (rem - q * shape[d]) * sx[d]
                rem = q
            end = min(hi, i + inner - j)
            if last == 1:
                for q in range(end - i):
                    out[uint64(i + q)] = _f(x[uint64(ox + q)], p0, p1)
            else:
                for t in range(i, end):
                    out[uint64(t)] = _f(x[uint64(ox)], p0, p1)
                    ox += last
            i = end


def _binary_flat(a, b, out):
    for i in prange(out.size):
        out[i] = _f(a[i], b[i])


def _binary_scalar_right(a, s, out):
    for i in prange(out.size):
        out[i] = _f(a[i], s)


def _binary_scalar_left(s, b, out):
    for i in prange(out.size):
        out[i] = _f(s, b[i])


def _binary_rows(m, row, row_left, out):
    """``out[i, j] = f(m[i, j], row[j])`` (``f(row[j], m[i, j])`` when ``row_left``) on
    flat C-contiguous arrays: a bias row against a matrix, the common broadcast, with a
    loop far cheaper to compile than ``_binary_strided``."""
    n = row.size
    for i in prange(out.size // n):
        base = i * n
        if row_left:
            for j in range(n):
                out[uint64(base + j)] = _f(row[j], m[uint64(base + j)])
        else:
            for j in range(n):
                out[uint64(base + j)] = _f(m[uint64(base + j)], row[j])


def _binary_strided(a, sa, b, sb, shape, out, chunk):
    nd = shape.size
    inner = shape[nd - 1]
    n = out.size
    nchunks = (n + chunk - 1) // chunk
    la = sa[nd - 1]
    lb = sb[nd - 1]
    for c in prange(nchunks):
        i = c * chunk
        hi = min(i + chunk, n)
        while i < hi:
            rem = i // inner
            j = i - rem * inner
            oa = j * la
            ob = j * lb
            for d in range(nd - 2, -1, -1):
                q = rem // shape[d]
                k = rem - q * shape[d]
                oa += k * sa[d]
                ob += k * sb[d]
                rem = q
            end = min(hi, i + inner - j)
            if la == 1 and lb == 1:  # unit inner strides: a loop LLVM vectorises
                for q in range(end - i):
                    out[uint64(i + q)] = _f(a[uint64(oa + q)], b[uint64(ob + q)])
            elif la == 1 and lb == 0:  # e.g. a bias row added to every row
                bv = b[uint64(ob)]
                for q in range(end - i):
                    out[uint64(i + q)] = _f(a[uint64(oa + q)], bv)
            else:
                for t in range(i, end):
                    out[uint64(t)] = _f(a[uint64(oa)], b[uint64(ob)])
                    oa += la
                    ob += lb
            i = end


def _backward_flat(g, s, p0, p1, out):
    for i in prange(out.size):
        out[i] = _b(g[i], s[i], p0, p1)


def _where_strided(c, sc, a, sa, b, sb, shape, out, chunk):
    nd = shape.size
    inner = shape[nd - 1]
    n = out.size
    nchunks = (n + chunk - 1) // chunk
    lc = sc[nd - 1]
    la = sa[nd - 1]
    lb = sb[nd - 1]
    for ch in prange(nchunks):
        i = ch * chunk
        hi = min(i + chunk, n)
        while i < hi:
            rem = i // inner
            j = i - rem * inner
            oc = j * lc
            oa = j * la
            ob = j * lb
            for d in range(nd - 2, -1, -1):
                q = rem // shape[d]
                k = rem - q * shape[d]
                oc += k * sc[d]
                oa += k * sa[d]
                ob += k * sb[d]
                rem = q
            end = min(hi, i + inner - j)
            for t in range(i, end):
                out[uint64(t)] = a[uint64(oa)] if c[uint64(oc)] else b[uint64(ob)]
                oc += lc
                oa += la
                ob += lb
            i = end


def _copy_strided(src, ss, shape, dst, sd, chunk):
    """dst[...] = src[...] for arbitrary strides on both sides (the dtype cast is implicit)."""
    nd = shape.size
    inner = shape[nd - 1]
    n = 1
    for d in range(nd):
        n *= shape[d]
    nchunks = (n + chunk - 1) // chunk
    ls = ss[nd - 1]
    ld = sd[nd - 1]
    for ch in prange(nchunks):
        i = ch * chunk
        hi = min(i + chunk, n)
        while i < hi:
            rem = i // inner
            j = i - rem * inner
            os_ = j * ls
            od = j * ld
            for d in range(nd - 2, -1, -1):
                q = rem // shape[d]
                k = rem - q * shape[d]
                os_ += k * ss[d]
                od += k * sd[d]
                rem = q
            end = min(hi, i + inner - j)
            if ls == 1 and ld == 1:
                for q in range(end - i):
                    dst[uint64(od + q)] = src[uint64(os_ + q)]
            else:
                for _ in range(i, end):
                    dst[uint64(od)] = src[uint64(os_)]
                    os_ += ls
                    od += ld
            i = end


def _to_bool_strided(src, ss, shape, dst, sd, chunk):
    nd = shape.size
    inner = shape[nd - 1]
    n = 1
    for d in range(nd):
        n *= shape[d]
    nchunks = (n + chunk - 1) // chunk
    for ch in prange(nchunks):
        i = ch * chunk
        hi = min(i + chunk, n)
        while i < hi:
            rem = i // inner
            j = i - rem * inner
            os_ = j * ss[nd - 1]
            od = j * sd[nd - 1]
            for d in range(nd - 2, -1, -1):
                q = rem // shape[d]
                k = rem - q * shape[d]
                os_ += k * ss[d]
                od += k * sd[d]
                rem = q
            end = min(hi, i + inner - j)
            for _ in range(i, end):
                dst[od] = src[os_] != 0
                os_ += ss[nd - 1]
                od += sd[nd - 1]
            i = end


def _copy_flat(src, dst):
    for i in prange(dst.size):
        dst[i] = src[i]


def _fill(out, v):
    for i in prange(out.size):
        out[i] = v


_where_k = Kernel(_where_strided)
_copy_k = Kernel(_copy_strided)
_copy_flat_k = Kernel(_copy_flat)
_to_bool_k = Kernel(_to_bool_strided)
_fill_k = Kernel(_fill)


# --- launchers ------------------------------------------------------------------------

def _chunk(n):
    return CHUNK if n >= CHUNK * 2 else max(n, 1)


def _i64(seq):
    return np.asarray(seq, dtype=np.int64)


def _unary_launcher(name, kflat, kstrided):
    def launch(x, p0=0, p1=0, out=None):
        if out is None:
            out = np.empty(x.shape, x.dtype)
        n = out.size
        if n == 0:
            return out
        p0 = x.dtype.type(p0)
        p1 = x.dtype.type(p1)
        if x.flags.c_contiguous and out.flags.c_contiguous:
            kflat.pick(n)(x.reshape(-1), p0, p1, out.reshape(-1))
            return out
        shape, (sx,) = layout.coalesce(x.shape, [layout.element_strides(x)])
        res = out if out.flags.c_contiguous else np.empty(x.shape, out.dtype)
        kstrided.pick(n)(layout.flat_buffer(x), _i64(sx), _i64(shape), p0, p1,
                         res.reshape(-1), _chunk(n))
        if res is not out:
            copy(out, res)
        return out

    launch.__name__ = f"{name}_forward"
    launch.__doc__ = f"Elementwise ``{name}`` of ``x`` (any layout) into a C-contiguous array."
    return launch


def _backward_launcher(name, kflat):
    def launch(g, s, p0=0, p1=0, out=None):
        if g.shape != s.shape:
            raise ValueError(f"{name}_backward: grad shape {g.shape} != saved shape {s.shape}")
        g = contiguous(g)
        s = contiguous(s)
        if out is None:
            out = np.empty(g.shape, g.dtype)
        if out.size:
            dt = g.dtype.type
            kflat.pick(out.size)(g.reshape(-1), s.reshape(-1), dt(p0), dt(p1), out.reshape(-1))
        return out

    launch.__name__ = f"{name}_backward"
    launch.__doc__ = f"Fused gradient of ``{name}``: ``g * {name}'`` from the saved value."
    return launch


def _is_row_of(r, m, shape) -> bool:
    """Whether ``r`` broadcasts against the C-contiguous ``m`` (of the result's ``shape``)
    as one row repeated: ``r``'s shape is ``shape[-1:]`` with ones before it."""
    return (m.shape == shape and m.flags.c_contiguous and r.flags.c_contiguous and
            len(shape) >= 2 and r.size == shape[-1] and r.size > 0 and
            (len(r.shape) == 0 or r.shape[-1] == shape[-1]))


def _binary_launcher(name, kflat, kstrided, kright, kleft, krows, out_dtype=None):
    def launch(a, b, out=None):
        """Elementwise op with numpy broadcasting. ``a`` and ``b`` share a dtype."""
        if out is None and a.shape == b.shape and a.flags.c_contiguous and \
                b.flags.c_contiguous:  # the common case first: one flat loop
            out = np.empty(a.size, out_dtype or a.dtype)
            if a.size:
                kflat.pick(a.size)(a.reshape(-1), b.reshape(-1), out)
            return out.reshape(a.shape)
        shape = layout.broadcast_shapes(a.shape, b.shape)
        if shape is None:
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast")
        if out is None:
            out = np.empty(shape, out_dtype or a.dtype)
        n = out.size
        if n == 0:
            return out
        if out.flags.c_contiguous:
            if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
                kflat.pick(n)(a.reshape(-1), b.reshape(-1), out.reshape(-1))
                return out
            if b.size == 1 and a.shape == shape and a.flags.c_contiguous:
                kright.pick(n)(a.reshape(-1), b.reshape(-1)[0], out.reshape(-1))
                return out
            if a.size == 1 and b.shape == shape and b.flags.c_contiguous:
                kleft.pick(n)(a.reshape(-1)[0], b.reshape(-1), out.reshape(-1))
                return out
            if _is_row_of(b, a, shape):
                krows.pick(n)(a.reshape(-1), b.reshape(-1), False, out.reshape(-1))
                return out
            if _is_row_of(a, b, shape):
                krows.pick(n)(b.reshape(-1), a.reshape(-1), True, out.reshape(-1))
                return out
        sa = layout.broadcast_strides(a.shape, layout.element_strides(a), shape)
        sb = layout.broadcast_strides(b.shape, layout.element_strides(b), shape)
        cshape, (sa, sb) = layout.coalesce(shape, [sa, sb])
        res = out if out.flags.c_contiguous else np.empty(shape, out.dtype)
        kstrided.pick(n)(layout.flat_buffer(a), _i64(sa), layout.flat_buffer(b), _i64(sb),
                         _i64(cshape), res.reshape(-1), _chunk(n))
        if res is not out:
            copy(out, res)
        return out

    launch.__name__ = name
    return launch


def copy(dst, src):
    """``dst[...] = src`` with broadcasting and any layout on both sides (Numba strided copy)."""
    if dst.size == 0:
        return dst
    if src.shape == dst.shape and src.dtype == dst.dtype and src.flags.c_contiguous and \
            dst.flags.c_contiguous:  # a flat loop: faster, and far cheaper to compile
        _copy_flat_k.pick(dst.size)(src.reshape(-1), dst.reshape(-1))
        return dst
    if src.shape != dst.shape:
        shape = layout.broadcast_shapes(src.shape, dst.shape)
        if shape != dst.shape:
            raise ValueError(f"copy: source shape {src.shape} does not broadcast to {dst.shape}")
    ss = layout.broadcast_strides(src.shape, layout.element_strides(src), dst.shape)
    sd = list(layout.element_strides(dst))
    shape, (ss, sd) = layout.coalesce(dst.shape, [ss, sd])
    k = _to_bool_k if (dst.dtype == np.bool_ and src.dtype != np.bool_) else _copy_k
    n = dst.size
    k.pick(n)(layout.flat_buffer(src), _i64(ss), _i64(shape), layout.flat_buffer(dst),
              _i64(sd), _chunk(n))
    return dst


def contiguous(x):
    """``x`` itself when C-contiguous, else a C-contiguous copy."""
    if x.flags.c_contiguous:
        return x
    return copy(np.empty(x.shape, x.dtype), x)


def cast(x, dtype):
    """A C-contiguous copy of ``x`` converted to ``dtype`` (to bool means ``!= 0``)."""
    return copy(np.empty(x.shape, dtype), x)


def fill(out, value):
    """Set every element of a C-contiguous ``out`` to ``value``."""
    if out.size:
        _fill_k.pick(out.size)(out.reshape(-1), out.dtype.type(value))
    return out


def where(cond, a, b, out=None):
    """``a`` where ``cond`` else ``b``, broadcasting all three. ``a`` and ``b`` share a dtype."""
    shape = layout.broadcast_shapes(cond.shape, a.shape)
    if shape is not None:
        shape = layout.broadcast_shapes(shape, b.shape)
    if shape is None:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape}, {b.shape} do not broadcast")
    if out is None:
        out = np.empty(shape, a.dtype)
    n = out.size
    if n == 0:
        return out
    strides = [layout.broadcast_strides(t.shape, layout.element_strides(t), shape)
               for t in (cond, a, b)]
    cshape, (sc, sa, sb) = layout.coalesce(shape, strides)
    _where_k.pick(n)(layout.flat_buffer(cond), _i64(sc), layout.flat_buffer(a), _i64(sa),
                     layout.flat_buffer(b), _i64(sb), _i64(cshape), out.reshape(-1), _chunk(n))
    return out


UNARY_NAMES = tuple(scalar.UNARY)
BINARY_NAMES = scalar.BINARY
_COMPARE = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}

__all__ = ["copy", "contiguous", "cast", "fill", "where"]

for _name in UNARY_NAMES:
    _fj = {"_f": njit(**_inline)(getattr(scalar, f"{_name}_f"))}
    _bj = {"_b": njit(**_inline)(getattr(scalar, f"{_name}_b"))}
    globals()[f"{_name}_forward"] = _unary_launcher(
        _name, Kernel(_unary_flat, _name, _fj), Kernel(_unary_strided, _name, _fj))
    globals()[f"{_name}_backward"] = _backward_launcher(
        _name, Kernel(_backward_flat, _name, _bj))
    __all__ += [f"{_name}_forward", f"{_name}_backward"]

for _name in BINARY_NAMES:
    _fj = {"_f": njit(**_inline)(getattr(scalar, f"{_name}_f"))}
    globals()[_name] = _binary_launcher(_name, Kernel(_binary_flat, _name, _fj),
                                        Kernel(_binary_strided, _name, _fj),
                                        Kernel(_binary_scalar_right, _name, _fj),
                                        Kernel(_binary_scalar_left, _name, _fj),
                                        Kernel(_binary_rows, _name, _fj),
                                        np.dtype(np.bool_) if _name in _COMPARE else None)
    __all__.append(_name)

del _name, _fj, _bj
