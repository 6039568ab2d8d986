r"""Convolution and pooling: Functions and the functional API (PyTorch's signatures).

A convolution :math:`y = x \star W` is linear in ``x`` and in ``W`` separately, so its
two gradients are again convolution-shaped maps, stated once as Functions:

.. math::
    \bar x = \mathrm{GI}(\bar y, W),\qquad \bar W = \mathrm{GW}(x, \bar y),\qquad
    \bar b = \textstyle\sum_{n,h,w} \bar y

with :math:`\langle \bar y, x \star W\rangle = \langle \mathrm{GI}(\bar y, W), x\rangle
= \langle \mathrm{GW}(x, \bar y), W\rangle`. The same identity gives the backward of
``GI`` and ``GW`` in terms of ``Conv2d``, ``GI`` and ``GW`` again, so derivatives of any
order come from the same three kernels. Pooling backwards are linear in the gradient;
each is paired with its adjoint (max pooling: scatter by the saved argmax indices and
gather at them; average pooling: its backward and its forward).

Every argument is checked here, before a kernel runs, with PyTorch-style messages.
``conv1d`` and ``max_pool1d`` run as their 2-D forms on height-1 images.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import fmt_shape

# ---------------------------------------------------------------- argument handling


def _tuple(v, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of ``n`` ints as an ``n``-tuple."""
    if isinstance(v, bool):
        raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of {n} ints, "
                        f"not bool")
    if isinstance(v, int):
        return (v,) * n
    if isinstance(v, (tuple, list)):
        vals = tuple(v)
        if len(vals) == 1:
            vals = vals * n
        if len(vals) == n and all(isinstance(a, int) and not isinstance(a, bool)
                                  for a in vals):
            return vals
    if hasattr(v, "__index__") and not isinstance(v, (tuple, list)):
        return (int(v),) * n
    raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of {n} ints, "
                    f"got {v!r}")


def _check_tensor(x, op: str, arg: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _check_float(x: Tensor, op: str) -> None:
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, but got {x.dtype.name} "
                           f"(input of size {fmt_shape(x.shape)})")


def _fmt_sizes(vals) -> str:
    return " x ".join(str(v) for v in vals)


def _wrap(arr, like: Tensor) -> Tensor:
    return Tensor._make(arr, device=like._device)


# ---------------------------------------------------------------- conv2d Functions


class Conv2d(Function):
    r""":math:`y[n,o] = b[o] + \sum_{c \in g(o)} \sum_{k_h,k_w}
    W[o,c,k_h,k_w]\, x_{\mathrm{pad}}[n, c, o_h s_h + k_h d_h, o_w s_w + k_w d_w]`.
    ``p`` is ``(stride, padding (top, bottom, left, right), dilation, groups)``."""

    @staticmethod
    def forward(ctx, x, w, b, p):
        ctx.save_for_backward(x, w)
        ctx.p = p
        return x._device.kernels.conv2d_forward(x._data, w._data,
                                                None if b is None else b._data, *p)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        p = ctx.p
        gx = Conv2dGradInput.apply(g, w, tuple(x.shape[2:]), p) if need[0] else None
        gw = Conv2dGradWeight.apply(x, g, tuple(w.shape[2:]), p) if need[1] else None
        gb = g.sum((0, 2, 3)) if need[2] else None
        return gx, gw, gb, None


class Conv2dGradInput(Function):
    r"""``GI(g, W)``: gradient of ``Conv2d`` w.r.t. its input (a transposed convolution).
    Bilinear: :math:`\partial/\partial g = \mathrm{Conv2d}(\bar z, W)`,
    :math:`\partial/\partial W = \mathrm{GW}(\bar z, g)`."""

    @staticmethod
    def forward(ctx, g, w, input_size, p):
        ctx.save_for_backward(g, w)
        ctx.p = p
        return g._device.kernels.conv2d_backward_input(g._data, w._data, input_size, *p)

    @staticmethod
    def backward(ctx, gg):
        g, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        p = ctx.p
        dg = Conv2d.apply(gg, w, None, p) if need[0] else None
        dw = Conv2dGradWeight.apply(gg, g, tuple(w.shape[2:]), p) if need[1] else None
        return dg, dw, None, None


class Conv2dGradWeight(Function):
    r"""``GW(x, g)``: gradient of ``Conv2d`` w.r.t. its weight.
    Bilinear: :math:`\partial/\partial x = \mathrm{GI}(g, \bar z)`,
    :math:`\partial/\partial g = \mathrm{Conv2d}(x, \bar z)`."""

    @staticmethod
    def forward(ctx, x, g, kernel_size, p):
        ctx.save_for_backward(x, g)
        ctx.p = p
        return x._device.kernels.conv2d_backward_weight(x._data, g._data, kernel_size, *p)

    @staticmethod
    def backward(ctx, gg):
        x, g = ctx.saved_tensors
        need = ctx.needs_input_grad
        p = ctx.p
        dx = Conv2dGradInput.apply(g, gg, tuple(x.shape[2:]), p) if need[0] else None
        dg = Conv2d.apply(x, gg, None, p) if need[1] else None
        return dx, dg, None, None


# ---------------------------------------------------------------- conv functional API


def _conv_padding(padding, n, kernel, dilation, stride, op):
    """``(lo_0, hi_0, lo_1, hi_1, ...)`` from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * n)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 "convolutions")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]  # the odd extra goes at the end
            return tuple(out)
        raise ValueError(f"{op}: Invalid padding string '{padding}', should be one of "
                         "['valid', 'same']")
    pads = _tuple(padding, n, "padding", op)
    if any(q < 0 for q in pads):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding="
                           f"{list(pads)}")
    return tuple(v for q in pads for v in (q, q))


def _conv_check(x, weight, bias, stride, padding, dilation, groups, op, nd):
    """Validate everything for an ``nd``-D convolution; returns the 2-D parameters
    ``(stride, padding4, dilation, groups)`` for ``Conv2d`` and whether ``x`` is batched."""
    _check_tensor(x, op)
    _check_tensor(weight, op, "weight")
    if bias is not None:
        _check_tensor(bias, op, "bias")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) "
                           f"input to {op}, but got input of size: {fmt_shape(x.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected weight to be {nd + 2}-dimensional (out_channels, "
                           f"in_channels/groups, {', '.join('k' for _ in range(nd))}), "
                           f"but got weight of size {fmt_shape(weight.shape)}")
    _check_float(x, op)
    if weight.dtype is not x.dtype:
        raise RuntimeError(f"{op}: expected input and weight to have the same dtype, but "
                           f"got input {x.dtype.name} and weight {weight.dtype.name}")
    if bias is not None and bias.dtype is not x.dtype:
        raise RuntimeError(f"{op}: expected input and bias to have the same dtype, but got "
                           f"input {x.dtype.name} and bias {bias.dtype.name}")
    if x.device != weight.device or (bias is not None and bias.device != x.device):
        raise RuntimeError(f"{op}: expected input, weight and bias on the same device")
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"{op}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride="
                           f"{list(stride)}")
    if any(d < 1 for d in dilation):
        raise RuntimeError(f"{op}: dilation should be greater than zero, got dilation="
                           f"{list(dilation)}")
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, nd, kernel, dilation, stride, op)
    wshape = fmt_shape(weight.shape)
    out_ch = weight.shape[0]
    if out_ch % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {wshape} instead")
    batched = x.ndim == nd + 2
    shape = tuple(x.shape) if batched else (1,) + tuple(x.shape)
    if shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"{op}: Given groups={groups}, weight of size {wshape}, expected "
                           f"input{fmt_shape(x.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {shape[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_ch):
        raise RuntimeError(f"{op}: Given weight of size {wshape}, expected bias to be "
                           f"1-dimensional with {out_ch} elements, but got bias of size "
                           f"{fmt_shape(bias.shape)} instead")
    padded = [shape[2 + i] + pads[2 * i] + pads[2 * i + 1] for i in range(nd)]
    eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(e > q for e, q in zip(eff, padded)):
        raise RuntimeError(f"{op}: Calculated padded input size per channel: "
                           f"({_fmt_sizes(padded)}). Kernel size: ({_fmt_sizes(eff)}). "
                           "Kernel size can't be greater than actual input size")
    if nd == 1:
        return ((1,) + stride, (0, 0) + pads, (1,) + dilation, groups), batched
    return (stride, pads, dilation, groups), batched


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    r"""2-D convolution (cross-correlation) of ``input (N, C, H, W)`` or ``(C, H, W)`` with
    ``weight (O, C/groups, kH, kW)``; ``padding`` may be an int, a pair, ``'valid'`` or
    ``'same'``. Output size :math:`\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`."""
    p, batched = _conv_check(input, weight, bias, stride, padding, dilation, groups,
                             "conv2d", 2)
    x = input if batched else input.unsqueeze(0)
    out = Conv2d.apply(x, weight, bias, p)
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution of ``input (N, C, L)`` or ``(C, L)`` with ``weight (O, C/groups, k)``,
    computed as ``conv2d`` on height-1 images."""
    p, batched = _conv_check(input, weight, bias, stride, padding, dilation, groups,
                             "conv1d", 1)
    x = input if batched else input.unsqueeze(0)
    out = Conv2d.apply(x.unsqueeze(2), weight.unsqueeze(2), bias, p).squeeze(2)
    return out if batched else out.squeeze(0)


# ---------------------------------------------------------------- pooling Functions


class MaxPool2d(Function):
    """Max pooling; the extra output is the int64 argmax index inside each plane."""

    has_extra = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode):
        out, idx = x._device.kernels.max_pool2d_forward(x._data, kernel_size, stride,
                                                         padding, dilation, ceil_mode)
        ctx.idx = idx
        ctx.input_size = tuple(x.shape[2:])
        return out, idx

    @staticmethod
    def backward(ctx, g):
        return MaxPool2dBackward.apply(g, ctx.idx, ctx.input_size), None, None, None, None, None


class MaxPool2dBackward(Function):
    """Scatter-add of ``g`` at the argmax indices; its adjoint is the gather."""

    @staticmethod
    def forward(ctx, g, idx, input_size):
        ctx.idx = idx
        return g._device.kernels.max_pool2d_backward(g._data, idx, input_size)

    @staticmethod
    def backward(ctx, gg):
        return MaxPool2dGather.apply(gg, ctx.idx), None, None


class MaxPool2dGather(Function):
    """``x`` read at the argmax indices; its adjoint is the scatter-add."""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx = idx
        ctx.input_size = tuple(x.shape[2:])
        return x._device.kernels.max_pool2d_gather(x._data, idx)

    @staticmethod
    def backward(ctx, g):
        return MaxPool2dBackward.apply(g, ctx.idx, ctx.input_size), None


class AvgPool2d(Function):
    """``params``: ``(kernel, stride, padding, ceil_mode, count_include_pad, divisor)``."""

    @staticmethod
    def forward(ctx, x, params):
        ctx.params = params
        ctx.input_size = tuple(x.shape[2:])
        return x._device.kernels.avg_pool2d_forward(x._data, *params)

    @staticmethod
    def backward(ctx, g):
        return AvgPool2dBackward.apply(g, ctx.input_size, ctx.params), None


class AvgPool2dBackward(Function):
    """Linear in ``g``; its adjoint is average pooling itself."""

    @staticmethod
    def forward(ctx, g, input_size, params):
        ctx.params = params
        return g._device.kernels.avg_pool2d_backward(g._data, input_size, *params)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, ctx.params), None, None


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.output_size = output_size
        ctx.input_size = tuple(x.shape[2:])
        return x._device.kernels.adaptive_avg_pool2d_forward(x._data, output_size)

    @staticmethod
    def backward(ctx, g):
        return AdaptiveAvgPool2dBackward.apply(g, ctx.input_size, ctx.output_size), None


class AdaptiveAvgPool2dBackward(Function):
    @staticmethod
    def forward(ctx, g, input_size, output_size):
        ctx.output_size = output_size
        return g._device.kernels.adaptive_avg_pool2d_backward(g._data, input_size)

    @staticmethod
    def backward(ctx, gg):
        return AdaptiveAvgPool2d.apply(gg, ctx.output_size), None, None


# ---------------------------------------------------------------- pooling functional API


def _pool_input(x, op: str, nd: int):
    """Check a pooling input; returns it as a batched ``(N, C, H, W)`` tensor and whether
    it was batched (1-D pooling gets a height-1 axis)."""
    _check_tensor(x, op)
    if x.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in x.shape[1:]):
        raise RuntimeError(f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"non-zero sizes for non-batch dimensions for input, but got "
                           f"input of size: {fmt_shape(x.shape)}")
    _check_float(x, op)
    batched = x.ndim == nd + 2
    if not batched:
        x = x.unsqueeze(0)
    if nd == 1:
        x = x.unsqueeze(2)
    return x, batched


def _pool_args(kernel_size, stride, padding, dilation, op: str, nd: int):
    k = _tuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _tuple(stride, nd, "stride", op)
    p = _tuple(padding, nd, "padding", op)
    d = _tuple(dilation, nd, "dilation", op)
    if any(v < 1 for v in k):
        raise RuntimeError(f"{op}: kernel_size should be greater than zero, but got "
                           f"kernel_size={list(k)}")
    if any(v < 1 for v in s):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got "
                           f"stride={list(s)}")
    if any(v < 1 for v in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got "
                           f"dilation={list(d)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: pad must be non-negative, but got padding={list(p)}")
    return k, s, p, d


def _pool_out(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length (the last window must start inside the input or
    its left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_output_size(x4, k, s, p, d, ceil_mode, op, shown_shape, nd):
    H, W = x4.shape[2:]
    oh = _pool_out(H, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        c = x4.shape[1]
        inp = (c,) + tuple(shown_shape[-nd:])
        outp = (c,) + ((oh, ow) if nd == 2 else (ow,))
        raise RuntimeError(f"{op}: Given input size: ({'x'.join(map(str, inp))}). "
                           f"Calculated output size: ({'x'.join(map(str, outp))}). "
                           "Output size is too small")


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op, nd):
    x4, batched = _pool_input(x, op, nd)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, op, nd)
    if any(pp > kk // 2 for kk, pp in zip(k, p)):
        raise RuntimeError(f"{op}: pad should be smaller than or equal to half of kernel "
                           f"size, but got padding={list(p)} and kernel_size={list(k)}")
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    _pool_output_size(x4, k, s, p, d, ceil_mode, op, x.shape, nd)
    out, idx = MaxPool2d.apply(x4, k, s, p, d, bool(ceil_mode))
    if nd == 1:
        out = out.squeeze(2)
        idx = idx.reshape(idx.shape[0], idx.shape[1], idx.shape[3])
    if not batched:
        out = out.squeeze(0)
        idx = idx.reshape(idx.shape[1:])
    if return_indices:
        return out, _wrap(idx, x)
    return out


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    r"""2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``. ``stride`` defaults to
    ``kernel_size``; with ``return_indices`` also returns the int64 flat index ``h W + w``
    of each maximum in its input plane. A window that covers only padding (possible with a
    large ``dilation``) gives ``-inf``, index ``-1``, and no gradient."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool2d", 2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)`` (``max_pool2d`` on height-1 images)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool1d", 1)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    r"""2-D average pooling: each output is the window sum divided by the window area
    (counting the zero padding when ``count_include_pad``) or by ``divisor_override``."""
    op = "avg_pool2d"
    x4, batched = _pool_input(input, op, 2)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, op, 2)
    if any(pp > kk // 2 for kk, pp in zip(k, p)):
        raise RuntimeError(f"{op}: pad should be smaller than or equal to half of kernel "
                           f"size, but got padding={list(p)} and kernel_size={list(k)}")
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
            raise TypeError(f"{op}(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
    _pool_output_size(x4, k, s, p, (1, 1), ceil_mode, op, input.shape, 2)
    params = (k, s, p, bool(ceil_mode), bool(count_include_pad), divisor_override or 0)
    out = AvgPool2d.apply(x4, params)
    return out if batched else out.squeeze(0)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    r"""Average over ``output_size`` bins per plane; bin :math:`i` of :math:`n` inputs into
    :math:`m` outputs covers :math:`[\lfloor i n/m \rfloor, \lceil (i+1) n/m \rceil)`.
    ``None`` in ``output_size`` keeps that input size."""
    op = "adaptive_avg_pool2d"
    _check_tensor(input, op)
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[1:]):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor with non-zero sizes for "
                           f"non-batch dimensions, but input has sizes "
                           f"{fmt_shape(input.shape)}")
    x4, batched = _pool_input(input, op, 2)
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(f"{op}: output_size must be 2, got {len(output_size)} values "
                               f"({list(output_size)})")
        size = tuple(x4.shape[2 + i] if v is None else v for i, v in enumerate(output_size))
    else:
        size = (output_size, output_size)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
        raise TypeError(f"{op}(): output_size must be an int or a pair of ints (or None), "
                        f"got {output_size!r}")
    if any(v < 0 for v in size):
        raise RuntimeError(f"{op}: elements of output_size must be non-negative, got "
                           f"{list(size)}")
    out = AdaptiveAvgPool2d.apply(x4, size)
    return out if batched else out.squeeze(0)


__all__ = ["conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d"]
