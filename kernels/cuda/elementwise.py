"""Elementwise CUDA kernels: unary maps (forward and fused backward), binary maps with
broadcasting, ``where``, casts and strided copies, with the CPU module's names.

Each kernel is a grid-stride loop: thread ``t`` of ``T`` handles items ``t, t+T, ...``, so
one launch shape serves any size and neighbouring threads touch neighbouring elements
(coalesced loads). The strided variants take the shape and element strides as tuples,
passed by value, and turn the flat output index into operand offsets with one division
per dimension. Scalar math comes from ``kernels.scalar``, the same functions the CPU
kernels compile.
"""
from __future__ import annotations

import numpy as np

from .. import layout, scalar
from ._jit import CudaKernel, device
from ._runtime import cuda, grid
from .array import CudaArray

_f = _b = None  # bound per op in each template copy


def _unary_flat(x, p0, p1, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = _f(x[i], p0, p1)


def _unary_strided(x, sx, shape, p0, p1, out):
    nd = len(shape)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        rem = i
        ox = 0
        for d in range(nd - 1, -1, -1):
            q = rem // shape[d]
            ox += (rem - q * shape[d]) * sx[d]
            rem = q
        out[i] = _f(x[ox], p0, p1)


def _binary_flat(a, b, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = _f(a[i], b[i])


def _binary_scalar_right(a, s, out):
    v = s[0]
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = _f(a[i], v)


def _binary_scalar_left(s, b, out):
    v = s[0]
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = _f(v, b[i])


def _binary_strided(a, sa, b, sb, shape, out):
    nd = len(shape)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        rem = i
        oa = 0
        ob = 0
        for d in range(nd - 1, -1, -1):
            q = rem // shape[d]
            k = rem - q * shape[d]
            oa += k * sa[d]
            ob += k * sb[d]
            rem = q
        out[i] = _f(a[oa], b[ob])


def _backward_flat(g, s, p0, p1, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = _b(g[i], s[i], p0, p1)


def _where_strided(c, sc, a, sa, b, sb, shape, out):
    nd = len(shape)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        rem = i
        oc = 0
        oa = 0
        ob = 0
        for d in range(nd - 1, -1, -1):
            q = rem // shape[d]
            k = rem - q * shape[d]
            oc += k * sc[d]
            oa += k * sa[d]
            ob += k * sb[d]
            rem = q
        out[i] = a[oa] if c[oc] else b[ob]


def _copy_strided(src, ss, shape, dst, sd, n):
    """dst[...] = src[...] for arbitrary strides on both sides (the dtype cast is implicit)."""
    nd = len(shape)
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        rem = i
        os_ = 0
        od = 0
        for d in range(nd - 1, -1, -1):
            q = rem // shape[d]
            k = rem - q * shape[d]
            os_ += k * ss[d]
            od += k * sd[d]
            rem = q
        dst[od] = src[os_]


def _to_bool_strided(src, ss, shape, dst, sd, n):
    nd = len(shape)
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        rem = i
        os_ = 0
        od = 0
        for d in range(nd - 1, -1, -1):
            q = rem // shape[d]
            k = rem - q * shape[d]
            os_ += k * ss[d]
            od += k * sd[d]
            rem = q
        dst[od] = src[os_] != 0


def _fill(out, v):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = v


_where_k = CudaKernel(_where_strided)
_copy_k = CudaKernel(_copy_strided)
_to_bool_k = CudaKernel(_to_bool_strided)
_fill_k = CudaKernel(_fill)


def _t(seq):
    return tuple(int(v) for v in seq)


def _flat(x):
    """The contiguous 1-D numba array of a C-contiguous CudaArray."""
    if isinstance(x, np.ndarray):
        raise TypeError(f"a host numpy array reached a CUDA launch (shape {x.shape}); move it "
                        "with CudaArray.from_host first")
    return x.flat()


def _unary_launcher(name, kflat, kstrided):
    def launch(x, p0=0, p1=0, out=None):
        if out is None:
            out = CudaArray.empty(x.shape, x.dtype)
        n = out.size
        if n == 0:
            return out
        p0 = x.dtype.type(p0)
        p1 = x.dtype.type(p1)
        g = grid(n)
        if x.flags.c_contiguous and out.flags.c_contiguous:
            kflat.launch(*g, _flat(x), p0, p1, _flat(out))
            return out
        shape, (sx,) = layout.coalesce(x.shape, [layout.element_strides(x)])
        res = out if out.flags.c_contiguous else CudaArray.empty(x.shape, out.dtype)
        kstrided.launch(*g, x.flat(), _t(sx), _t(shape), p0, p1, _flat(res))
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
            out = CudaArray.empty(g.shape, g.dtype)
        if out.size:
            dt = g.dtype.type
            kflat.launch(*grid(out.size), _flat(g), _flat(s), dt(p0), dt(p1), _flat(out))
        return out

    launch.__name__ = f"{name}_backward"
    launch.__doc__ = f"Fused gradient of ``{name}``: ``g * {name}'`` from the saved value."
    return launch


def _binary_launcher(name, kflat, kstrided, kright, kleft, out_dtype=None):
    def launch(a, b, out=None):
        """Elementwise op with numpy broadcasting. ``a`` and ``b`` share a dtype."""
        shape = layout.broadcast_shapes(a.shape, b.shape)
        if shape is None:
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast")
        if out is None:
            out = CudaArray.empty(shape, out_dtype or a.dtype)
        n = out.size
        if n == 0:
            return out
        g = grid(n)
        if out.flags.c_contiguous:
            if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
                kflat.launch(*g, _flat(a), _flat(b), _flat(out))
                return out
            if b.size == 1 and a.shape == shape and a.flags.c_contiguous:
                kright.launch(*g, _flat(a), b.flat(), _flat(out))
                return out
            if a.size == 1 and b.shape == shape and b.flags.c_contiguous:
                kleft.launch(*g, a.flat(), _flat(b), _flat(out))
                return out
        sa = layout.broadcast_strides(a.shape, layout.element_strides(a), shape)
        sb = layout.broadcast_strides(b.shape, layout.element_strides(b), shape)
        cshape, (sa, sb) = layout.coalesce(shape, [sa, sb])
        res = out if out.flags.c_contiguous else CudaArray.empty(shape, out.dtype)
        kstrided.launch(*g, a.flat(), _t(sa), b.flat(), _t(sb), _t(cshape), _flat(res))
        if res is not out:
            copy(out, res)
        return out

    launch.__name__ = name
    return launch


def copy(dst, src):
    """``dst[...] = src`` with broadcasting and any layout on both sides."""
    if dst.size == 0:
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
    k.launch(*grid(n), src.flat(), _t(ss), _t(shape), dst.flat(), _t(sd), n)
    return dst


def contiguous(x):
    """``x`` itself when C-contiguous, else a C-contiguous copy."""
    if x.flags.c_contiguous:
        return x
    return copy(CudaArray.empty(x.shape, x.dtype), x)


def cast(x, dtype):
    """A C-contiguous copy of ``x`` converted to ``dtype`` (to bool means ``!= 0``)."""
    return copy(CudaArray.empty(x.shape, dtype), x)


def fill(out, value):
    """Set every element of a C-contiguous ``out`` to ``value``."""
    if out.size:
        _fill_k.launch(*grid(out.size), _flat(out), out.dtype.type(value))
    return out


def where(cond, a, b, out=None):
    """``a`` where ``cond`` else ``b``, broadcasting all three. ``a`` and ``b`` share a dtype."""
    shape = layout.broadcast_shapes(cond.shape, a.shape)
    if shape is not None:
        shape = layout.broadcast_shapes(shape, b.shape)
    if shape is None:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape}, {b.shape} do not broadcast")
    if out is None:
        out = CudaArray.empty(shape, a.dtype)
    n = out.size
    if n == 0:
        return out
    strides = [layout.broadcast_strides(t.shape, layout.element_strides(t), shape)
               for t in (cond, a, b)]
    cshape, (sc, sa, sb) = layout.coalesce(shape, strides)
    _where_k.launch(*grid(n), cond.flat(), _t(sc), a.flat(), _t(sa), b.flat(), _t(sb),
                    _t(cshape), _flat(out))
    return out


UNARY_NAMES = tuple(scalar.UNARY)
BINARY_NAMES = scalar.BINARY
_COMPARE = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}

__all__ = ["copy", "contiguous", "cast", "fill", "where"]

for _name in UNARY_NAMES:
    _fj = {"_f": device(getattr(scalar, f"{_name}_f"))}
    _bj = {"_b": device(getattr(scalar, f"{_name}_b"))}
    globals()[f"{_name}_forward"] = _unary_launcher(
        _name, CudaKernel(_unary_flat, _name, _fj), CudaKernel(_unary_strided, _name, _fj))
    globals()[f"{_name}_backward"] = _backward_launcher(
        _name, CudaKernel(_backward_flat, _name, _bj))
    __all__ += [f"{_name}_forward", f"{_name}_backward"]

for _name in BINARY_NAMES:
    _fj = {"_f": device(getattr(scalar, f"{_name}_f"))}
    globals()[_name] = _binary_launcher(_name, CudaKernel(_binary_flat, _name, _fj),
                                        CudaKernel(_binary_strided, _name, _fj),
                                        CudaKernel(_binary_scalar_right, _name, _fj),
                                        CudaKernel(_binary_scalar_left, _name, _fj),
                                        np.dtype(np.bool_) if _name in _COMPARE else None)
    __all__.append(_name)

del _name, _fj, _bj
