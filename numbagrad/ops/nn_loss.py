r"""Loss functions with PyTorch's signatures, reductions and argument checks.

``cross_entropy`` is one fused kernel each way (log-softmax and NLL in one pass; the
gradient :math:`(\mathrm{softmax}(x) - r/S)\,S\,g` in one pass, see
``kernels/cpu/nnops.py``); its second derivative is written with ops. The other losses
are short compositions of differentiable ops, so their gradients of every order follow.
Every argument is checked here, before any kernel runs: a class index out of range never
reaches a kernel.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..creation import arange
from ..kernels import layout
from ..tensor import Tensor
from ._util import fmt_shape
from .nn_norm import _check_tensor, _t
from .pointwise import _broadcast_error, abs, cast, clamp, exp, log, sigmoid, where
from .reduction import log_softmax, softmax
from .shape import gather

_TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:  # PyTorch's legacy arguments
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else "mean" if size_average else "sum"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _float_input(x, op: str) -> Tensor:
    _check_tensor(x, op)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    return x


def _pointwise_pair(input, target, op: str):
    """Check a regression loss's operands: PyTorch warns when the sizes differ (and
    broadcasts), and fails when they do not broadcast."""
    _float_input(input, op)
    _check_tensor(target, op, "target")
    if input.shape != target.shape:
        if layout.broadcast_shapes(tuple(input.shape), tuple(target.shape)) is None:
            _broadcast_error(op, input.shape, target.shape)
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)
    return input, target


def _weighted(loss: Tensor, input: Tensor, weight, reduction: str, mean_by_weight: bool,
              op: str):
    if weight is None:
        return _reduce(loss, reduction)
    _check_tensor(weight, op, "weight")
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    r"""Squared error :math:`\ell_i = w_i (x_i - y_i)^2`; ``'mean'`` divides by
    :math:`\sum w_i` (the element count without weights)."""
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _pointwise_pair(input, target, "mse_loss")
    d = input - target
    return _weighted(d * d, input, weight, reduction, True, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    r"""Absolute error :math:`\ell_i = w_i |x_i - y_i|`."""
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _pointwise_pair(input, target, "l1_loss")
    return _weighted(abs(input - target), input, weight, reduction, True, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    r""":math:`\ell_i = \tfrac{1}{2} d_i^2/\beta` if :math:`|d_i| < \beta`, else
    :math:`|d_i| - \tfrac{1}{2}\beta`, with :math:`d = x - y` (``beta=0``: L1)."""
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = _pointwise_pair(input, target, "smooth_l1_loss")
    d = input - target
    ad = abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    r""":math:`\ell_i = \tfrac{1}{2} d_i^2` if :math:`|d_i| < \delta`, else
    :math:`\delta(|d_i| - \tfrac{1}{2}\delta)`, with :math:`d = x - y`."""
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _pointwise_pair(input, target, "huber_loss")
    d = input - target
    ad = abs(d)
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(loss, input, weight, reduction, False, "huber_loss")


# ---------------------------------------------------------------- cross-entropy


def _bcast_c(t: Tensor, ndim: int) -> Tensor:
    """A per-class (C,) tensor shaped to broadcast along dim 1 of an ``ndim``-D input."""
    return t.reshape((1, t.shape[0]) + (1,) * (ndim - 2))


def _per_sample(g: Tensor) -> Tensor:
    """The incoming gradient shaped to broadcast against the logits (N, C, ...)."""
    return g if g.ndim == 0 else g.unsqueeze(1)


def _weighted_target(x, target, weight, wy, ignore_index, eps, probs):
    r"""The weighted target :math:`r` (the shape of ``x``): what the loss pulls
    :math:`S\,\mathrm{softmax}(x)` towards."""
    C = x.shape[1]
    dt = x.dtype
    wb = _bcast_c(weight, x.ndim) if weight is not None else None
    if probs:
        r = target * (1.0 - eps) + eps / C
        return r * wb if wb is not None else r
    with no_grad():
        classes = arange(C, device=x.device).reshape((1, C) + (1,) * (x.ndim - 2))
        onehot = cast(classes == target.unsqueeze(1), dt)
        r = onehot * (_t(wy, x).reshape(target.shape).unsqueeze(1) * (1.0 - eps))
        if eps:
            valid = cast(target != ignore_index, dt).unsqueeze(1)
            r = r + valid * ((wb if wb is not None else 1.0) * (eps / C))
    return r


class CrossEntropy(Function):
    """Fused log-softmax + NLL. Output: per-sample losses or their sum/mean."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, eps, reduction, probs):
        k = x._device.kernels
        w = None if weight is None else weight._data
        if probs:
            loss, prob = k.cross_entropy_prob_forward(x._data, target._data, w, eps)
            wy = None
        else:
            loss, prob, wy = k.cross_entropy_forward(x._data, target._data, w, ignore_index,
                                                     eps)
        ctx.save_for_backward(x, target, weight)
        ctx.prob, ctx.wy = prob, wy
        ctx.ignore, ctx.eps, ctx.probs = ignore_index, eps, probs
        if reduction == "none":
            ctx.scale = 1.0
            return loss.reshape((x._data.shape[0],) + x._data.shape[2:])
        out, ctx.scale = k.cross_entropy_reduce(loss, wy, reduction == "mean")
        return out

    @staticmethod
    def backward(ctx, g):
        x, target, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gt = None
        if need[0]:
            gx = CrossEntropyGrad.apply(g, x, target, weight, ctx.prob, ctx.wy, ctx.scale,
                                        ctx.ignore, ctx.eps, ctx.probs)
        if ctx.probs and need[1]:
            # d/dq_c = -a (1 - eps) w_c log softmax(x)_c
            a = _per_sample(g) * _scale(ctx.scale, x) * (-(1.0 - ctx.eps))
            gt = a * log_softmax(x, 1)
            if weight is not None:
                gt = gt * _bcast_c(weight, x.ndim)
        return gx, gt, None, None, None, None, None


def _scale(scale, like: Tensor):
    """The loss scale from ``cross_entropy_reduce``: a number on the CPU, a 0-d device
    array on the GPU (kept there: reading it would wait for the device)."""
    if isinstance(scale, (int, float)):
        return scale
    return Tensor._make(scale.reshape(()), device=like._device)


class CrossEntropyGrad(Function):
    r"""The fused gradient :math:`a\,(S\,p - r)` (``a = g * scale`` per sample), from the
    softmax ``prob`` the forward kernel kept (``x`` is an input only for the graph).

    Its own backward, with :math:`\bar G` the incoming gradient:
    :math:`\bar x = a S\, p \odot (\bar G - \langle \bar G, p\rangle)`,
    :math:`\bar g = \mathrm{scale} \sum_c \bar G_c (S p_c - r_c)` and, for probability
    targets, :math:`\bar q_c = a(1-\varepsilon) w_c(\langle \bar G, p\rangle - \bar G_c)`.
    """

    @staticmethod
    def forward(ctx, g, x, target, weight, prob, wy, scale, ignore_index, eps, probs):
        k = x._device.kernels
        w = None if weight is None else weight._data
        ctx.save_for_backward(g, x, target, weight)
        ctx.wy, ctx.scale, ctx.ignore, ctx.eps, ctx.probs = wy, scale, ignore_index, eps, probs
        if probs:
            return k.cross_entropy_prob_backward(g._data, prob, target._data, w, scale, eps)
        return k.cross_entropy_backward(g._data, prob, target._data, w, scale, ignore_index,
                                        eps)

    @staticmethod
    def backward(ctx, gg):
        g, x, target, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        p = softmax(x, 1)
        r = _weighted_target(x, target, weight, ctx.wy, ctx.ignore, ctx.eps, ctx.probs)
        s = r.sum(1, keepdim=True)
        sc = _scale(ctx.scale, x)
        a = _per_sample(g) * sc
        ggp = (gg * p).sum(1, keepdim=True)
        dg = dx = dq = None
        if need[0]:
            dg = (gg * (s * p - r)).sum(1) * sc
            dg = dg.sum() if g.ndim == 0 else dg
        if need[1]:
            dx = a * s * p * (gg - ggp)
        if ctx.probs and need[2]:
            dq = a * (1.0 - ctx.eps) * (ggp - gg)
            if weight is not None:
                dq = dq * _bcast_c(weight, x.ndim)
        return dg, dx, dq, None, None, None, None, None, None, None


def _torch_name(dt) -> str:
    return _TORCH_NAMES.get(dt.name, dt.name)


def _class_target(input: Tensor, target: Tensor, op: str) -> Tensor:
    """Check class-index targets against ``input`` (N, C, ...) : shape, then dtype."""
    xs, ts = input._data.shape, target._data.shape
    if ts and ts[0] != xs[0]:
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target "
                         f"batch_size ({ts[0]}).")
    if len(xs) == 2 and len(ts) != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if ts != xs[:1] + xs[2:]:
        raise RuntimeError(f"Expected target size {list(xs[:1] + xs[2:])}, got {list(ts)}")
    dt = target.dtype
    if dt is dtypes.int64:
        return target
    if dt is not dtypes.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_torch_name(dt)}")
    return cast(target, dtypes.int64)


def _check_range(target: Tensor, C: int, ignore_index: int) -> None:
    t = target._host()
    if t.size == 0 or (np.minimum.reduce(t, None) >= 0 and np.maximum.reduce(t, None) < C):
        return
    bad = ((t < 0) | (t >= C)) & (t != ignore_index)
    if bad.any():
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")


def _class_weight(weight, input: Tensor, C: int) -> Tensor | None:
    if weight is None:
        return None
    _check_tensor(weight, "cross_entropy", "weight")
    if weight.ndim != 1 or weight.shape[0] != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    w = weight.detach()
    return cast(w, input.dtype) if w.dtype is not input.dtype else w


def _logits_2d(input: Tensor, target: Tensor, op: str):
    """Batch a single (C,) sample: returns (input, target, unbatched)."""
    if input.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:
        return input.unsqueeze(0), target.unsqueeze(0), True
    return input, target, False


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    r"""Softmax cross-entropy over logits ``input`` (N, C, ...) (classes on dim 1).

    With class indices :math:`y` (N, ...):
    :math:`\ell_n = -(1-\varepsilon) w_{y_n} \log p_{n,y_n}
    - \frac{\varepsilon}{C}\sum_c w_c \log p_{n,c}`, :math:`p = \mathrm{softmax}(x)`;
    ``'mean'`` divides by :math:`\sum_n w_{y_n}` over the targets that are not
    ``ignore_index`` (ignored ones contribute 0). With class probabilities :math:`q`
    (``target`` floating, the shape of ``input``):
    :math:`\ell_n = -\sum_c w_c \big((1-\varepsilon) q_{n,c} + \tfrac{\varepsilon}{C}\big)
    \log p_{n,c}` and ``'mean'`` divides by the number of samples.
    """
    op = "cross_entropy"
    reduction = _reduction(reduction, size_average, reduce)
    _float_input(input, op)
    _check_tensor(target, op, "target")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    probs = target.dtype.is_floating_point and target._data.shape == input._data.shape
    x, t, unbatched = _logits_2d(input, target, op)
    C = x._data.shape[1]
    w = _class_weight(weight, x, C)
    if probs:
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if t.dtype is not x.dtype:
            t = cast(t, x.dtype)
    else:
        t = _class_target(x, t, op)
        _check_range(t, C, ignore_index)
    out = CrossEntropy.apply(x, t.contiguous(), w, int(ignore_index), float(label_smoothing),
                             reduction, probs)
    return out.reshape(()) if unbatched and reduction == "none" else out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    r"""Negative log-likelihood of log-probabilities ``input`` (N, C, ...):
    :math:`\ell_n = -w_{y_n} x_{n, y_n}` (0 where :math:`y_n` is ``ignore_index``);
    ``'mean'`` divides by :math:`\sum_n w_{y_n}` over the non-ignored targets."""
    op = "nll_loss"
    reduction = _reduction(reduction, size_average, reduce)
    _float_input(input, op)
    _check_tensor(target, op, "target")
    x, t, unbatched = _logits_2d(input, target, op)
    C = x.shape[1]
    w = _class_weight(weight, x, C)
    t = _class_target(x, t, op)
    _check_range(t, C, ignore_index)
    with no_grad():
        valid = t != ignore_index
        safe = where(valid, t, 0)
        wn = w[safe] if w is not None else cast(valid, x.dtype)
        if w is not None:
            wn = where(valid, wn, 0.0)
    loss = -gather(x, 1, safe.unsqueeze(1)).squeeze(1) * wn
    if reduction == "none":
        return loss.reshape(()) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wn.sum()


# ---------------------------------------------------------------- binary and KL


def _same_size(input: Tensor, target: Tensor, op: str, msg: str) -> None:
    _float_input(input, op)
    _check_tensor(target, op, "target")
    if target.shape != input.shape:
        raise ValueError(msg.format(t=target.shape, i=input.shape))
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point target, got {target.dtype}")


def _broadcast_weight(weight, target: Tensor, op: str, what: str = "weight"):
    if weight is None:
        return None
    _check_tensor(weight, op, what)
    if layout.broadcast_shapes(tuple(weight.shape), tuple(target.shape)) != tuple(target.shape):
        raise RuntimeError(f"{op}: {what} of shape {fmt_shape(weight.shape)} does not "
                           f"broadcast to the target shape {fmt_shape(target.shape)}")
    return weight


def _clamped_logs(x):
    """(max(log x, -100), max(log(1 - x), -100)): finite even at x = 0 or 1."""
    return clamp(log(x), min=-100.0), clamp(log(1 - x), min=-100.0)


class BinaryCrossEntropy(Function):
    r"""Elementwise BCE with PyTorch's guards: each log is clamped at :math:`-100` (so the
    loss stays finite at :math:`x \in \{0, 1\}`) and the gradient
    :math:`\bar x = g\,(x - y) / \max(x(1-x), 10^{-12})` stays finite too."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with no_grad():
            logx, log1mx = _clamped_logs(x)
            return (-(y * logx + (1 - y) * log1mx))._data

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - y) / clamp(x * (1 - x), min=1e-12)
        if ctx.needs_input_grad[1]:
            logx, log1mx = _clamped_logs(x)
            gy = g * (log1mx - logx)
        return gx, gy


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    r""":math:`\ell_i = -w_i\big(y_i \log x_i + (1 - y_i)\log(1 - x_i)\big)` for
    probabilities :math:`x_i \in [0, 1]`, each log clamped at :math:`-100`."""
    op = "binary_cross_entropy"
    reduction = _reduction(reduction, size_average, reduce)
    _same_size(input, target, op, "Using a target size ({t}) that is different to the input "
               "size ({i}) is deprecated. Please ensure they have the same size.")
    weight = _broadcast_weight(weight, target, op)
    with no_grad():
        bad = bool(((input < 0) | (input > 1) | (input != input)).any())
    if bad:
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, cast(target, input.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class LogSigmoid(Function):
    r""":math:`\log\sigma(x)`, stable; gradient :math:`g\,\sigma(-x)`."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._device.kernels.log_sigmoid_forward(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    r""":math:`\log \sigma(x) = -\log(1 + e^{-x})`, computed without overflow."""
    return LogSigmoid.apply(_float_input(input, "logsigmoid"))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    r"""BCE on logits, stable for any :math:`x`:
    :math:`\ell_i = w_i\big((1 - y_i)x_i - (1 + (p_c - 1) y_i)\log\sigma(x_i)\big)`,
    ``pos_weight`` :math:`p_c` broadcast along the last (class) dim."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(reduction, size_average, reduce)
    _same_size(input, target, op, "Target size ({t}) must be the same as input size ({i})")
    weight = _broadcast_weight(weight, target, op)
    pos_weight = _broadcast_weight(pos_weight, target, op, "pos_weight")
    ls = logsigmoid(input)
    if pos_weight is not None:
        ls = ls * (1 + (pos_weight - 1) * target)
    loss = (1 - target) * input - ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    r"""KL divergence with ``input`` as log-probabilities:
    :math:`\ell_i = y_i(\log y_i - x_i)` (:math:`0` where :math:`y_i = 0`), or
    :math:`e^{y_i}(y_i - x_i)` with ``log_target``. ``'batchmean'`` divides the sum by the
    batch size (the mathematical KL); ``'mean'`` by the element count."""
    op = "kl_div"
    batchmean = reduction == "batchmean" and size_average is None and reduce is None
    if not batchmean:
        reduction = _reduction(reduction, size_average, reduce)
        if reduction == "mean" and size_average is None and reduce is None:
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
    _float_input(input, op)
    _check_tensor(target, op, "target")
    if layout.broadcast_shapes(tuple(input.shape), tuple(target.shape)) is None:
        _broadcast_error(op, input.shape, target.shape)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = target == 0
        loss = where(zero, 0.0, target * log(where(zero, 1.0, target))) - target * input
    if batchmean:
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- distillation


def _distillation_hparams(T, alpha, op: str = "distillation_loss") -> tuple[float, float]:
    """Check and return ``(T, alpha)`` as floats: a finite ``T > 0``, ``0 <= alpha <= 1``."""
    for name, v in (("T", T), ("alpha", alpha)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{op}: {name} must be a real number, got {type(v).__name__}")
    T, alpha = float(T), float(alpha)
    if not (math.isfinite(T) and T > 0):
        raise ValueError(f"{op}: the temperature T must be a finite number > 0, got {T}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{op}: alpha must be in [0, 1], got {alpha}")
    return T, alpha


def _distillation_args(student, teacher, targets, op: str):
    """Check the three tensors; returns the teacher (detached, student's dtype) and the
    targets (int64)."""
    _check_tensor(student, op, "student_logits")
    _check_tensor(teacher, op, "teacher_logits")
    _check_tensor(targets, op, "targets")
    if student.ndim != 2:
        raise ValueError(f"{op}: student_logits must have shape (N, C), got "
                         f"{fmt_shape(student.shape)}")
    if not student.dtype.is_floating_point:
        raise RuntimeError(f"{op}: student_logits must be floating point, got {student.dtype}")
    if teacher.shape != student.shape:
        raise ValueError(f"{op}: teacher_logits of shape {fmt_shape(teacher.shape)} do not "
                         f"match student_logits of shape {fmt_shape(student.shape)}")
    if not teacher.dtype.is_floating_point:
        raise RuntimeError(f"{op}: teacher_logits must be floating point, got {teacher.dtype}")
    N, C = student.shape
    if targets.shape != (N,):
        raise ValueError(f"{op}: targets must have shape [{N}] (one class index per row of "
                         f"student_logits {fmt_shape(student.shape)}), got "
                         f"{fmt_shape(targets.shape)}")
    if targets.dtype.is_floating_point or targets.dtype is dtypes.bool_:
        raise RuntimeError(f"{op}: targets must be integer class indices, got {targets.dtype}")
    t = targets._host()
    if t.size and (t.min() < 0 or t.max() >= C):
        bad = t[(t < 0) | (t >= C)][0]
        raise IndexError(f"{op}: target {int(bad)} is out of range for {C} classes "
                         f"(student_logits {fmt_shape(student.shape)})")
    teacher = teacher.detach()
    if teacher.dtype is not student.dtype:
        teacher = cast(teacher, student.dtype)
    return teacher, cast(targets.detach(), dtypes.int64)


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, targets: Tensor,
                      T: float = 4.0, alpha: float = 0.9, reduction: str = "mean") -> Tensor:
    r"""Knowledge-distillation loss (Hinton, Vinyals and Dean, 2015) for logits (N, C).

    Per sample :math:`n`, with :math:`q_n = \mathrm{softmax}(t_n / T)` the teacher's
    softened distribution and :math:`p_n = \mathrm{softmax}(s_n / T)` the student's:

    .. math::
        \ell_n = \alpha\, T^2 \sum_c q_{n,c} \log\frac{q_{n,c}}{p_{n,c}}
                 \;+\; (1 - \alpha)\,\bigl(-\log \mathrm{softmax}(s_n)_{y_n}\bigr)

    The :math:`T^2` keeps the soft term's gradient on the scale of the hard term's as
    :math:`T` grows. ``reduction``: ``'none'`` returns :math:`\ell` (N,), ``'sum'``
    :math:`\sum_n \ell_n`, ``'mean'`` :math:`\frac1N \sum_n \ell_n` (so the soft term is
    ``kl_div(..., reduction='batchmean')``). ``teacher_logits`` are constants: they are
    detached, so no gradient reaches them even when they require grad. ``targets`` are
    integer class indices in ``[0, C)``.
    """
    op = "distillation_loss"
    T, alpha = _distillation_hparams(T, alpha, op)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    teacher, targets = _distillation_args(student_logits, teacher_logits, targets, op)
    log_p = log_softmax(student_logits / T, 1)
    q = softmax(teacher / T, 1)
    if reduction == "none":
        soft = kl_div(log_p, q, reduction="none").sum(1)
    else:
        soft = kl_div(log_p, q, reduction="batchmean" if reduction == "mean" else "sum")
    hard = cross_entropy(student_logits, targets, reduction=reduction)
    return soft * (alpha * T * T) + hard * (1.0 - alpha)


__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "logsigmoid", "distillation_loss"]
