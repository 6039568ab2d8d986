r"""Batch norm, layer norm, dropout and embedding: Functions and the functional API.

Both normalizations compute, over their group of elements (a channel across the batch and
spatial dims for batch norm; the trailing ``normalized_shape`` for layer norm),

.. math::
    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\qquad y = w \hat x + b,\qquad
    \bar x = \frac{1}{\sqrt{\sigma^2+\epsilon}}\Big(\bar{\hat x}
    - \langle \bar{\hat x} \rangle - \hat x \langle \bar{\hat x} \hat x\rangle\Big),
    \quad \bar{\hat x} = w g

with :math:`\sigma^2` the biased variance and :math:`\langle\cdot\rangle` the mean over
the group. Forward and first-order backward are fused kernels. When the backward itself
is recorded (``create_graph=True``) the same formula is built from differentiable ops
instead, so second and higher derivatives come for free.
"""
from __future__ import annotations

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor
from ._util import fmt_shape, is_scalar
from .pointwise import cast


def _t(arr, like: Tensor) -> Tensor:
    return Tensor._make(arr, device=like._device)


def _check_tensor(x, op: str, arg: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _check_float(x: Tensor, op: str) -> None:
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")


def _check_same_dtype(x: Tensor, t, what: str, op: str) -> None:
    if t is not None and t.dtype is not x.dtype:
        raise RuntimeError(f"{op}: expected {what} to have the same dtype as input "
                           f"({x.dtype.name}), but got {t.dtype.name}")


# ---------------------------------------------------------------- batch norm


class BatchNorm(Function):
    """Batch norm over ``(N, C, *)``; the extra output is the batch ``(mean, var)``."""

    has_extra = True

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, eps):
        k = x._device.kernels
        dt = x._data.dtype
        if training:
            mean, var = k.batch_norm_stats(x._data)
        else:
            mean = k.cast(running_mean, dt)
            var = k.cast(running_var, dt)
        out, invstd = k.batch_norm_forward(x._data, mean, var,
                                           None if weight is None else weight._data,
                                           None if bias is None else bias._data, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, invstd)
        ctx.training = training
        ctx.eps = eps
        return out, (mean, var)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        mean, invstd = ctx.stats
        nw = w is not None and need[1]
        nb = len(need) > 2 and need[2]
        if is_grad_enabled():
            gx, gw, gb = _batch_norm_grad_ops(g, x, w, mean, invstd, ctx.training, ctx.eps)
        else:
            k = x._device.kernels
            gx, gw, gb = k.batch_norm_backward(g._data, x._data, mean, invstd,
                                               None if w is None else w._data, ctx.training,
                                               need[0], nw, nb)
            gx = None if gx is None else _t(gx, x)
            gw = None if gw is None else _t(gw, x)
            gb = None if gb is None else _t(gb, x)
        return (gx if need[0] else None, gw if nw else None, gb if nb else None,
                None, None, None, None)


def _batch_norm_grad_ops(g, x, w, mean, invstd, training, eps):
    """The batch-norm gradients written with differentiable ops (for ``create_graph``)."""
    C = x.shape[1]
    dims = (0,) + tuple(range(2, x.ndim))
    shp = (1, C) + (1,) * (x.ndim - 2)
    if training:
        mu = x.mean(dims, keepdim=True)
        xc = x - mu
        rs = ((xc * xc).mean(dims, keepdim=True) + eps) ** -0.5
        xhat = xc * rs
    else:
        rs = _t(invstd, x).reshape(shp)
        xhat = (x - _t(mean, x).reshape(shp)) * rs
    gy = g * w.reshape(shp) if w is not None else g
    if training:
        gx = rs * (gy - gy.mean(dims, keepdim=True)
                   - xhat * (gy * xhat).mean(dims, keepdim=True))
    else:
        gx = gy * rs
    return gx, (g * xhat).sum(dims), g.sum(dims)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Batch normalization per channel (dim 1) over the batch and spatial dims.

    Training uses the batch statistics and, when running stats are given, updates them in
    place: :math:`\hat\mu \leftarrow (1-m)\hat\mu + m\mu`,
    :math:`\hat\sigma^2 \leftarrow (1-m)\hat\sigma^2 + m\,\sigma^2 \frac{n}{n-1}` (the
    unbiased variance, as PyTorch). Evaluation normalizes with the running stats.
    """
    op = "batch_norm"
    _check_tensor(input, op)
    _check_float(input, op)
    if input.ndim < 2:
        raise IndexError(f"{op}: expected an input with a channel dim (N, C, ...), got shape "
                         f"{fmt_shape(input.shape)}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None:
            _check_tensor(t, op, name)
            if t.numel() != C:
                raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
            if not t.dtype.is_floating_point:
                raise RuntimeError(f"{op}: expected {name} to be floating point, got {t.dtype}")
    _check_same_dtype(input, weight, "weight", op)
    _check_same_dtype(input, bias, "bias", op)
    if (running_mean is None) != (running_var is None):
        raise RuntimeError(f"{op}: running_mean and running_var must both be given or both be "
                           "None")
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    n = input.numel() // C if C else 0
    if training and n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {input.shape!r}")
    w = weight.reshape(C) if weight is not None and weight.ndim != 1 else weight
    b = bias.reshape(C) if bias is not None and bias.ndim != 1 else bias
    rm = running_mean.contiguous()._data.reshape(C) if running_mean is not None else None
    rv = running_var.contiguous()._data.reshape(C) if running_var is not None else None
    out, (mean, var) = BatchNorm.apply(input, w, b, rm, rv, bool(training), float(eps))
    if training and running_mean is not None:
        with no_grad():
            _update_running(running_mean, running_var, mean, var, momentum, n)
    return out


def _update_running(rm: Tensor, rv: Tensor, mean, var, momentum, n) -> None:
    k = rm._device.kernels
    for t in (rm, rv):
        if not t._data.flags.c_contiguous:
            raise RuntimeError("batch_norm: running stats must be contiguous")
    k.batch_norm_update_stats(rm._data.reshape(-1), rv._data.reshape(-1), mean, var,
                              float(momentum), n)
    rm._version[0] += 1
    rv._version[0] += 1


# ---------------------------------------------------------------- layer norm


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, D, eps):
        k = x._device.kernels
        out, mean, rstd = k.layer_norm_forward(x._data, D,
                                               None if weight is None else weight._data,
                                               None if bias is None else bias._data, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, rstd)
        ctx.D = D
        ctx.eps = eps
        ctx.wshape = None if weight is None else weight._data.shape
        ctx.bshape = None if bias is None else bias._data.shape
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        nw = w is not None and need[1]
        nb = len(need) > 2 and need[2]
        D = ctx.D
        if is_grad_enabled():
            gx, gw, gb = _layer_norm_grad_ops(g, x, w, D, ctx.eps)
        else:
            mean, rstd = ctx.stats
            k = x._device.kernels
            gx, gw, gb = k.layer_norm_backward(g._data, x._data, D, mean, rstd,
                                               None if w is None else w._data, need[0], nw, nb)
            gx = None if gx is None else _t(gx, x)
            gw = None if gw is None else _t(gw, x)
            gb = None if gb is None else _t(gb, x)
        gw = gw.reshape(ctx.wshape) if nw else None
        gb = gb.reshape(ctx.bshape) if nb else None
        return (gx if need[0] else None), gw, gb, None, None


def _layer_norm_grad_ops(g, x, w, D, eps):
    x2 = x.reshape(-1, D)
    g2 = g.reshape(-1, D)
    mu = x2.mean(1, keepdim=True)
    xc = x2 - mu
    rs = ((xc * xc).mean(1, keepdim=True) + eps) ** -0.5
    xhat = xc * rs
    gy = g2 * w.reshape(D) if w is not None else g2
    gx = rs * (gy - gy.mean(1, keepdim=True) - xhat * (gy * xhat).mean(1, keepdim=True))
    return gx.reshape(x.shape), (g2 * xhat).sum(0), g2.sum(0)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    r"""Normalize over the trailing ``normalized_shape`` dims:
    :math:`y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} w + b`."""
    op = "layer_norm"
    _check_tensor(input, op)
    _check_float(input, op)
    if isinstance(normalized_shape, int) or is_scalar(normalized_shape):
        normalized_shape = (int(normalized_shape),)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_tensor(t, op, name)
            if tuple(t.shape) != ns:
                raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, "
                                   f"but got {name} of shape {list(t.shape)} and "
                                   f"normalized_shape = {list(ns)}")
            _check_same_dtype(input, t, name, op)
    D = 1
    for s in ns:
        D *= s
    return LayerNorm.apply(input, weight, bias, D, float(eps))


# ---------------------------------------------------------------- dropout


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p):
        out, mask = x._device.kernels.dropout_forward(x._data, p)
        ctx.mask = mask
        return out

    @staticmethod
    def backward(ctx, g):
        return g * _t(ctx.mask, g), None


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    r"""Zero each element with probability ``p`` and scale the others by :math:`1/(1-p)`
    (training only; identity otherwise). ``numbagrad.manual_seed`` makes it repeatable."""
    _check_tensor(input, "dropout")
    if not is_scalar(p) or p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    _check_float(input, "dropout")
    out = Dropout.apply(input, float(p))
    return input.copy_(out) if inplace else out


# ---------------------------------------------------------------- embedding


class EmbeddingGather(Function):
    """Rows of ``weight`` picked by ``idx``; rows at ``pad`` come out zero if ``zero_pad``
    (how the double backward sees the padding index). Gradient: ``EmbeddingScatter``."""

    @staticmethod
    def forward(ctx, weight, idx, pad, zero_pad):
        ctx.idx = idx
        ctx.pad = pad
        ctx.V = weight._data.shape[0]
        return weight._device.kernels.embedding_forward(weight._data, idx,
                                                        pad if zero_pad else -1)

    @staticmethod
    def backward(ctx, g):
        return EmbeddingScatter.apply(g, ctx.idx, ctx.V, ctx.pad), None, None, None


class EmbeddingScatter(Function):
    """Rows of ``g`` added into a ``(V, D)`` gradient by ``idx``, skipping ``pad``."""

    @staticmethod
    def forward(ctx, g, idx, V, pad):
        ctx.idx = idx
        ctx.pad = pad
        return g._device.kernels.embedding_backward(g._data, idx, V, pad)

    @staticmethod
    def backward(ctx, gg):
        return EmbeddingGather.apply(gg, ctx.idx, ctx.pad, True), None, None, None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``weight[input]``: rows of the ``(num_embeddings, embedding_dim)`` table. The row at
    ``padding_idx`` receives no gradient."""
    op = "embedding"
    _check_tensor(input, op)
    _check_tensor(weight, op, "weight")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{input.dtype.name} instead (while checking arguments for "
                           "embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: 'weight' must be 2-D (num_embeddings, embedding_dim), got "
                           f"shape {fmt_shape(weight.shape)}")
    V = weight.shape[0]
    pad = -1
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError("Padding_idx must be within num_embeddings")
        pad = int(padding_idx) % V
    if input.dtype is not dtypes.int64:
        input = cast(input, dtypes.int64)
    host = input._host()
    if host.size and (host.min() < 0 or host.max() >= V):
        bad = int(host.min() if host.min() < 0 else host.max())
        raise IndexError(f"index out of range in self (embedding: index {bad} with "
                         f"num_embeddings={V})")
    return EmbeddingGather.apply(weight, input.contiguous()._data, pad, False)


__all__ = ["batch_norm", "layer_norm", "dropout", "embedding"]
