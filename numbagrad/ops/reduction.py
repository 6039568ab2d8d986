r"""Reductions and the softmax family.

.. math::
    \mathrm{sum}:\ \frac{\partial}{\partial x_i} \sum_j x_j = 1 \quad(\text{so the gradient is } g
    \text{ broadcast back}),\qquad
    \mathrm{softmax}:\ \bar x = y \odot (g - \langle g, y\rangle),\qquad
    \log\mathrm{softmax}:\ \bar x = g - e^{y} \textstyle\sum g

``max``/``min`` along a dim send the gradient to the selected element; over all elements
they share it evenly between ties (PyTorch's rule). ``var``/``std`` are compositions of
differentiable ops, so their gradients (and second derivatives) come for free.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import norm_dim, norm_dims, on_device
from .pointwise import cast, exp, sqrt

values_indices = namedtuple("values_indices", ["values", "indices"])


def _kept_shape(shape, dims):
    return tuple(1 if d in dims else n for d, n in enumerate(shape))


def _out_shape(shape, dims, keepdim):
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple(n for d, n in enumerate(shape) if d not in dims)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, scale, out_dt):
        ctx.in_shape = x._data.shape
        ctx.kept = _kept_shape(x._data.shape, dims)
        ctx.scale = scale
        out = x._device.kernels.sum(x._data, dims, scale, out_dt.np if out_dt else None)
        return out.reshape(_out_shape(x._data.shape, dims, keepdim))

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(ctx.kept).expand(ctx.in_shape)
        if ctx.scale != 1.0:
            g = g * ctx.scale
        return g, None, None, None, None


class Mean(Sum):
    pass


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or all dims). Bool/int inputs sum into int64."""
    dims = norm_dims(dim, x.ndim, "sum")
    dt = dtypes.as_dtype(dtype) if dtype is not None else None
    if dt is not None and x.dtype is not dt:
        x = cast(x, dt)
    return Sum.apply(x, dims, keepdim, 1.0, None)


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    dims = norm_dims(dim, x.ndim, "mean")
    if dtype is not None:
        x = cast(x, dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {x.dtype.name}")
    n = 1
    for d in dims:
        n *= x._data.shape[d]
    return Mean.apply(x, dims, keepdim, 1.0 / n if n else float("nan"), None)


def _flat_positions(k, shape, dim, idx):
    """C-order positions in ``shape`` of the elements picked by ``idx`` along ``dim``:
    ``o * (r * inner) + idx * inner + i``, computed on ``idx``'s device."""
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    inner = int(np.prod(shape[dim + 1:], dtype=np.int64))
    r = shape[dim]
    o = k.arange_(k.empty((outer,), np.int64), 0, r * inner).reshape(outer, 1)
    i = k.arange_(k.empty((inner,), np.int64), 0, 1).reshape(1, inner)
    scaled = k.mul(idx.reshape(outer, inner), on_device(k, np.array(inner, np.int64)))
    return k.add(k.add(o, scaled), i).reshape(-1)


def _scalar_array(k, v, dtype):
    """A 0-d array on ``k``'s device from a kernel's scalar result (a host scalar from the
    CPU kernels, a 0-d device array from the CUDA ones)."""
    if isinstance(v, (np.generic, np.ndarray, int, float, bool)):
        return on_device(k, np.asarray(v, dtype=dtype).reshape(()))
    return v.reshape(())


class ExtremeDim(Function):
    has_extra = True

    @staticmethod
    def forward(ctx, x, dim, keepdim, want_max):
        k = x._device.kernels
        vals, idx = (k.max_dim if want_max else k.min_dim)(x._data, dim)
        ctx.in_shape = x._data.shape
        ctx.kept = vals.shape
        if ctx.needs_input_grad:
            ctx.pos = _flat_positions(k, x._data.shape, dim, idx)
        if not keepdim:
            vals = vals.reshape(_out_shape(x._data.shape, (dim,), False))
            idx = idx.reshape(vals.shape)
        return vals, idx

    @staticmethod
    def backward(ctx, g):
        from .shape import ScatterAdd

        return ScatterAdd.apply(g.reshape(-1), ctx.pos, ctx.in_shape), None, None, None


class ExtremeAll(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, want_max):
        ctx.save_for_backward(x)
        k = x._device.kernels
        v, _ = (k.max_all if want_max else k.min_all)(x._data)
        return _scalar_array(k, v, x._data.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        mask = cast(x == ctx.output.detach(), g.dtype)
        return g * mask / mask.sum(), None


def _extreme(x, dim, keepdim, want_max, name):
    if x.numel() == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                         "== 0. Specify the reduction dim with the 'dim' argument.")
    if dim is None:
        return ExtremeAll.apply(x, want_max)
    if isinstance(dim, Tensor):
        from .pointwise import maximum, minimum

        return (maximum if want_max else minimum)(x, dim)
    d = norm_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return values_indices(x, Tensor._make(x._device.kernels.zeros((), np.int64),
                                              device=x._device))
    out, idx = ExtremeDim.apply(x, d, keepdim, want_max)
    return values_indices(out, Tensor._make(idx, device=x._device))


def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``max(x)``: the largest element. ``max(x, dim)``: ``(values, indices)``.
    ``max(x, other)``: elementwise ``maximum``."""
    return _extreme(x, dim, keepdim, True, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _extreme(x, dim, keepdim, False, "min")


def _arg(x, dim, keepdim, want_max, name):
    k = x._device.kernels
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0.")
        _, i = (k.max_all if want_max else k.min_all)(x._data)
        res = _scalar_array(k, i, np.int64)
        if keepdim:
            res = res.reshape((1,) * x.ndim)
        return Tensor._make(res, device=x._device)
    d = norm_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return Tensor._make(k.zeros((), np.int64), device=x._device)
    _, idx = (k.max_dim if want_max else k.min_dim)(x._data, d)
    if not keepdim:
        idx = idx.reshape(_out_shape(x._data.shape, (d,), False))
    return Tensor._make(idx, device=x._device)


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (flat when ``dim`` is None); int64, no gradient."""
    return _arg(x, dim, keepdim, True, "argmax")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, False, "argmin")


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    r""":math:`\frac{1}{N - c}\sum (x - \bar x)^2` with ``correction`` :math:`c` (1 by default;
    ``unbiased=False`` means 0)."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"var(): only floating point inputs are supported, got {x.dtype}")
    dims = norm_dims(dim, x.ndim, "var")
    n = 1
    for d in dims:
        n *= x._data.shape[d]
    mu = mean(x, dims, keepdim=True)
    d2 = (x - mu) ** 2
    denom = n - correction
    return sum(d2, dims, keepdim) / (denom if denom > 0 else float("nan") if denom < 0 else 0.0)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


class LogSumExp(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_for_backward(x)
        ctx.kept = _kept_shape(x._data.shape, (dim,))
        out = x._device.kernels.logsumexp(x._data, dim)
        return out if keepdim else out.reshape(_out_shape(x._data.shape, (dim,), False))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        y = ctx.output.reshape(ctx.kept)
        return g.reshape(ctx.kept) * exp(x - y), None, None


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    r""":math:`\log \sum_i e^{x_i}` along ``dim``, computed with the max shifted out."""
    if not x.dtype.is_floating_point:
        x = cast(x, dtypes.get_default_dtype())
    dims = norm_dims(dim, x.ndim, "logsumexp")
    if x.ndim == 0:
        return x.clone()
    if len(dims) != 1:
        out = x
        for d in sorted(dims, reverse=True):
            out = LogSumExp.apply(out, d, True)
        return out if keepdim else out.reshape(_out_shape(x._data.shape, dims, False))
    return LogSumExp.apply(x, dims[0], keepdim)


class Softmax(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x._device.kernels.softmax_forward(x._data, dim)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output
        return y * (g - sum(g * y, ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x._device.kernels.log_softmax_forward(x._data, dim)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output
        return g - exp(y) * sum(g, ctx.dim, keepdim=True), None


def _softmax_input(x, dim, dtype, name):
    if dtype is not None:
        x = cast(x, dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating point input, got {x.dtype} "
                           "(pass dtype=numbagrad.float32)")
    if x.ndim == 0:
        x = x.reshape(1)
        return x, 0, True
    return x, norm_dim(dim, x.ndim, name), False


def softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    r""":math:`e^{x_i} / \sum_j e^{x_j}` along ``dim``."""
    x, d, was0 = _softmax_input(x, dim, dtype, "softmax")
    out = Softmax.apply(x, d)
    return out.reshape(()) if was0 else out


def log_softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    r""":math:`x_i - \log\sum_j e^{x_j}` along ``dim`` (stable; no softmax is formed)."""
    x, d, was0 = _softmax_input(x, dim, dtype, "log_softmax")
    out = LogSoftmax.apply(x, d)
    return out.reshape(()) if was0 else out


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (along ``dim``) is non-zero."""
    from .pointwise import eq

    b = cast(x, dtypes.bool_)
    n_false = sum(eq(b, False), dim, keepdim)
    return eq(n_false, 0)


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    from .pointwise import gt

    return gt(sum(cast(x, dtypes.bool_), dim, keepdim), 0)


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    r"""Vector p-norm over ``dim`` (all elements by default): :math:`(\sum |x|^p)^{1/p}`;
    ``p`` may be 2 or ``'fro'``, 1, ``inf``/``-inf``, or another positive number. At
    :math:`x = 0` the 2-norm's gradient is 0 (a subgradient), as in PyTorch."""
    from .pointwise import abs as abs_
    from .pointwise import where

    if not x.dtype.is_floating_point:
        raise RuntimeError(f"norm(): input dtype should be floating point, got {x.dtype}")
    if p in ("fro", 2, 2.0):
        return Norm2.apply(x, norm_dims(dim, x.ndim, "norm"), keepdim)
    if p == 1:
        return sum(abs_(x), dim, keepdim)
    if p in (float("inf"), "inf"):
        a = abs_(x)
        return a.max() if dim is None and not keepdim else amax(a, dim, keepdim)
    if p in (float("-inf"), "-inf"):
        a = abs_(x)
        return a.min() if dim is None and not keepdim else amin(a, dim, keepdim)
    if isinstance(p, (int, float)) and p > 0:
        s = sum(abs_(x) ** p, dim, keepdim)
        return where(s > 0, s, 1.0) ** (1.0 / p) * cast(s > 0, x.dtype)
    raise ValueError(f"norm(): unsupported p={p!r}")


class Norm2(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.kept = _kept_shape(x._data.shape, dims)
        k = x._device.kernels
        sq = k.sum(k.mul(x._data, x._data), dims)
        out = k.sqrt_forward(sq)
        return out if keepdim else out.reshape(_out_shape(x._data.shape, dims, False))

    @staticmethod
    def backward(ctx, g):
        from .pointwise import where

        (x,) = ctx.saved_tensors
        y = ctx.output.reshape(ctx.kept)
        scale = where(y > 0, g.reshape(ctx.kept) / where(y > 0, y, 1.0), 0.0)
        return x * scale, None, None


def _reduce_extreme(x, dim, keepdim, pick, name):
    dims = norm_dims(dim, x.ndim, name)
    out = x
    for d in sorted(dims, reverse=True):
        out = pick(out, d, keepdim=True).values
    return out if keepdim else out.reshape(_out_shape(x._data.shape, dims, False))


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Largest values over ``dim`` (several dims allowed), one ``max`` per dim."""
    return _reduce_extreme(x, dim, keepdim, max, "amax")


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Smallest values over ``dim`` (several dims allowed), one ``min`` per dim."""
    return _reduce_extreme(x, dim, keepdim, min, "amin")


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x._device.kernels.cumsum(x._data, dim)

    @staticmethod
    def backward(ctx, g):
        from .shape import flip

        d = ctx.dim
        return flip(cumsum(flip(g, (d,)), d), (d,)), None


def cumsum(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    r"""Running sum :math:`y_k = \sum_{j \le k} x_j` along ``dim``; its gradient is the
    running sum of ``g`` taken from the other end."""
    if dtype is not None:
        x = cast(x, dtype)
    if x.ndim == 0:
        return x.clone()
    return CumSum.apply(x, norm_dim(dim, x.ndim, "cumsum"))


sort_result = namedtuple("sort_result", ["values", "indices"])


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = True):
    """(values, indices) sorted along ``dim``; differentiable through the values."""
    from .shape import take_along_dim

    if x.ndim == 0:
        return sort_result(x.clone(), Tensor._make(x._device.kernels.zeros((), np.int64),
                                                   device=x._device))
    d = norm_dim(dim, x.ndim, "sort")
    idx = Tensor._make(x._device.kernels.argsort(x._data, d, descending), device=x._device)
    return sort_result(take_along_dim(x, idx, d), idx)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = True):
    return sort(x, dim, descending).indices


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    from .shape import narrow

    d = norm_dim(dim, x.ndim, "topk") if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError(f"topk: selected index k out of range (k={k}, size {n})")
    vals, idx = sort(x, d, descending=largest)
    if x.ndim == 0:
        return sort_result(vals, idx)
    return sort_result(narrow(vals, d, 0, k), narrow(idx, d, 0, k))
