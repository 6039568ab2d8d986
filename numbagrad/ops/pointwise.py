r"""Elementwise ops: unary math, binary arithmetic with broadcasting, comparisons, where.

Unary ops share one pattern. Forward calls ``<name>_forward``; backward calls the fused
kernel ``<name>_backward(g, s)`` (``s`` is the saved input or output) through the
Function ``<Name>Grad``, whose own backward is the op's second derivative stated once in
``SECOND`` below. So ``create_graph=True`` works to any order and a first-order backward is
a single kernel.

Derivatives (:math:`y = f(x)`, :math:`g` the incoming gradient):

.. math::
    \frac{\partial}{\partial s}\big(g\, f'\big):\quad
    \exp: g,\quad \log: -g/x^2,\quad \sqrt{\cdot}: -g/(2y^2),\quad \sin: -g\sin x,
    \quad \cos: -g\cos x,\quad \tanh: -2gy,\quad \sigma: g(1-2y),\quad x^p: g\,p(p-1)x^{p-2}
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..kernels import layout
from ..tensor import Tensor
from ._util import fmt_shape, is_scalar, scalar_tensor

# ---------------------------------------------------------------- operand handling


def _operands(a, b, op: str, out_dtype=None):
    """Promote ``a`` and ``b`` (Tensors or scalars) to Tensors of one dtype; check shapes."""
    if out_dtype is None and type(a) is Tensor and type(b) is Tensor and \
            a._data.dtype is b._data.dtype and a._data.shape == b._data.shape:
        return a, b  # the common case, checked first: nothing to promote or broadcast
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if not ta and not tb:
        raise TypeError(f"{op}: expected at least one Tensor argument")
    if ta and tb:
        if a._data.dtype is b._data.dtype or a._data.dtype == b._data.dtype:
            dt = a.dtype
        else:
            dt = dtypes.result_type(a, b)
        if layout.broadcast_shapes(a._data.shape, b._data.shape) is None:
            _broadcast_error(op, a.shape, b.shape)
    else:
        t, s = (a, b) if ta else (b, a)
        if not is_scalar(s):
            if isinstance(s, (list, tuple, np.ndarray)):
                raise TypeError(f"{op}: expected a Tensor or a Python number, got "
                                f"{type(s).__name__}; wrap it with numbagrad.tensor()")
            raise TypeError(f"{op}: unsupported operand type {type(s).__name__}")
        dt = dtypes.result_type(t, s)
    if out_dtype is not None:
        dt = out_dtype
    if ta:
        if a.dtype is not dt:
            a = cast(a, dt)
    else:
        a = scalar_tensor(a, dt, b._device)
    if tb:
        if b.dtype is not dt:
            b = cast(b, dt)
    else:
        b = scalar_tensor(b, dt, a._device)
    return a, b


def _broadcast_error(op, sa, sb):
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    for d in range(n):
        if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
            raise RuntimeError(
                f"{op}: shapes {fmt_shape(sa)} and {fmt_shape(sb)} do not broadcast: the size "
                f"of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                f"non-singleton dimension {d}")
    raise RuntimeError(f"{op}: shapes {fmt_shape(sa)} and {fmt_shape(sb)} do not broadcast")


# ---------------------------------------------------------------- dtype cast


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dt):
        ctx.src = x.dtype
        return x._device.kernels.cast(x._data, dt.np)

    @staticmethod
    def backward(ctx, g):
        return (cast(g, ctx.src) if ctx.src.is_floating_point else None), None


def cast(x: Tensor, dt) -> Tensor:
    dt = dtypes.as_dtype(dt)
    if x.dtype is dt:
        return x
    return Cast.apply(x, dt)


# ---------------------------------------------------------------- unary ops


class _Unary(Function):
    kname = ""
    saves = ""  # "x", "y" or ""
    grad_cls = None

    @staticmethod
    def forward(ctx, x, p0=0, p1=0):
        cls = type(ctx)
        ctx.p = (p0, p1)
        if cls.saves == "x":
            ctx.save_for_backward(x)
        return getattr(x._device.kernels, cls.kname + "_forward")(x._data, p0, p1)

    @staticmethod
    def backward(ctx, g):
        cls = type(ctx)
        if cls.saves == "x":
            s = ctx.saved_tensors[0]
        elif cls.saves == "y":
            s = ctx.output
        else:
            s = None
        return cls.grad_cls.apply(g, s, *ctx.p), None, None


class _UnaryGrad(Function):
    """``g * f'(s)`` as one kernel; its backward is ``(grad wrt g, grad wrt s)``."""

    kname = ""
    second = None

    @staticmethod
    def forward(ctx, g, s, p0, p1):
        ctx.p = (p0, p1)
        ctx.save_for_backward(g, s)
        sd = s._data if s is not None else g._data
        return getattr(g._device.kernels, type(ctx).kname + "_backward")(g._data, sd, p0, p1)

    @staticmethod
    def backward(ctx, gg):
        g, s = ctx.saved_tensors
        p0, p1 = ctx.p
        cls = type(ctx)
        dg = cls.apply(gg, s, p0, p1) if ctx.needs_input_grad[0] else None
        ds = None
        if s is not None and ctx.needs_input_grad[1] and cls.second is not None:
            ds = cls.second(gg, g, s, p0, p1)
        return dg, ds, None, None


def _pow_second(gg, g, x, p, _):
    if p in (0, 1):
        return None
    return gg * g * (p * (p - 1)) * x ** (p - 2)


SECOND = {
    "exp": lambda gg, g, y, p0, p1: gg * g,
    "log": lambda gg, g, x, p0, p1: -(gg * g) / (x * x),
    "log1p": lambda gg, g, x, p0, p1: -(gg * g) / ((x + 1) * (x + 1)),
    "expm1": lambda gg, g, y, p0, p1: gg * g,
    "sqrt": lambda gg, g, y, p0, p1: -(gg * g) / (2 * y * y),
    "sin": lambda gg, g, x, p0, p1: -(gg * g) * x.sin(),
    "cos": lambda gg, g, x, p0, p1: -(gg * g) * x.cos(),
    "tanh": lambda gg, g, y, p0, p1: -2 * (gg * g) * y,
    "sigmoid": lambda gg, g, y, p0, p1: (gg * g) * (1 - 2 * y),
    "pow_scalar": _pow_second,
    "rpow_scalar": lambda gg, g, y, c, p1: (gg * g) * math.log(c),
    # d/dx [g (Phi(x) + x phi(x))] = g phi(x) (2 - x^2)
    "gelu": lambda gg, g, x, p0, p1: (gg * g) * (-0.5 * x * x).exp() * 0.3989422804014327
    * (2 - x * x),
}

_SAVES = {"exp": "y", "log": "x", "log1p": "x", "expm1": "y", "sqrt": "y", "abs": "x",
          "sin": "x", "cos": "x", "tanh": "y", "sigmoid": "y", "relu": "y", "neg": "", "clamp": "x",
          "pow_scalar": "x", "rpow_scalar": "y", "sign": "", "floor": "",
          "leaky_relu": "x", "gelu": "x"}
_CLASS_NAMES = {"log1p": "Log1p", "expm1": "Expm1", "pow_scalar": "Pow", "rpow_scalar": "Pow",
                "clamp": "Clamp", "leaky_relu": "LeakyRelu", "gelu": "Gelu"}


def _make_unary(kname):
    title = _CLASS_NAMES.get(kname) or kname.capitalize()
    grad_cls = type(f"{title}Grad", (_UnaryGrad,), {"kname": kname,
                                                    "second": SECOND.get(kname)})
    op = type(title, (_Unary,), {"kname": kname, "saves": _SAVES[kname],
                                 "save_output": _SAVES[kname] == "y", "grad_cls": grad_cls})
    return op


UNARY_FUNCTIONS = {k: _make_unary(k) for k in _SAVES}


def _float_input(x: Tensor, op: str) -> Tensor:
    """Integer inputs of a float-valued op (exp, sin, ...) are promoted like PyTorch."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind != "f":
        return cast(x, dtypes.get_default_dtype())
    return x


def _unary_float(kname):
    fn_cls = UNARY_FUNCTIONS[kname]

    def op(x: Tensor) -> Tensor:
        return fn_cls.apply(_float_input(x, kname))

    op.__name__ = kname
    op.__doc__ = f"Elementwise ``{kname}``; integer inputs give the default float dtype."
    return op


exp = _unary_float("exp")
log = _unary_float("log")
log1p = _unary_float("log1p")
expm1 = _unary_float("expm1")
sqrt = _unary_float("sqrt")
sin = _unary_float("sin")
cos = _unary_float("cos")
tanh = _unary_float("tanh")
sigmoid = _unary_float("sigmoid")


def _check_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")


def relu(x: Tensor) -> Tensor:
    r""":math:`\max(x, 0)`."""
    _check_tensor(x, "relu")
    if x.dtype is dtypes.bool_:
        raise RuntimeError("relu: not implemented for bool tensors")
    return UNARY_FUNCTIONS["relu"].apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha x`."""
    return UNARY_FUNCTIONS["leaky_relu"].apply(_float_input(x, "leaky_relu"), negative_slope)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    r""":math:`x\,\Phi(x)` (``approximate='tanh'``: the tanh approximation)."""
    x = _float_input(x, "gelu")
    if approximate == "tanh":
        c = 0.7978845608028654
        return 0.5 * x * (1 + tanh(c * (x + 0.044715 * x ** 3)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return UNARY_FUNCTIONS["gelu"].apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r""":math:`\frac{1}{\beta}\log(1 + e^{\beta x})`, and :math:`x` itself where
    :math:`\beta x > \mathrm{threshold}` (PyTorch's rule, which avoids overflow)."""
    x = _float_input(x, "softplus")
    bx = x * beta
    big = bx > threshold
    return where(big, x, log1p(exp(where(big, 0.0, bx))) / beta)


def neg(x: Tensor) -> Tensor:
    _check_tensor(x, "neg")
    if x.dtype is dtypes.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return UNARY_FUNCTIONS["neg"].apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001
    _check_tensor(x, "abs")
    if x.dtype is dtypes.bool_:
        raise RuntimeError("abs: not implemented for bool tensors")
    return UNARY_FUNCTIONS["abs"].apply(x)


def sign(x: Tensor) -> Tensor:
    _check_tensor(x, "sign")
    return UNARY_FUNCTIONS["sign"].apply(x)


def square(x: Tensor) -> Tensor:
    return pow(x, 2)


def reciprocal(x: Tensor) -> Tensor:
    return div(1.0, _float_input(x, "reciprocal"))


def rsqrt(x: Tensor) -> Tensor:
    return pow(_float_input(x, "rsqrt"), -0.5)


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit ``x`` to ``[min, max]``; the gradient passes where ``min <= x <= max``.
    Tensor bounds broadcast (computed with ``maximum``/``minimum``)."""
    _check_tensor(x, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        dt = dtypes.result_type(x, *(b for b in (min, max) if b is not None))
        lo = min if min is not None else -math.inf if dt.is_floating_point else \
            int(np.iinfo(dt.np).min)
        hi = max if max is not None else math.inf if dt.is_floating_point else \
            int(np.iinfo(dt.np).max)
        x, lo = _operands(x, lo, "clamp", dt)
        x, hi = _operands(x, hi, "clamp", dt)
        return ClampTensor.apply(x, lo, hi)
    bounds = [b for b in (min, max) if b is not None]
    dt = dtypes.result_type(x, *bounds)
    if x.dtype is not dt:
        x = cast(x, dt)
    if dt.is_floating_point:
        lo = -math.inf if min is None else min
        hi = math.inf if max is None else max
    else:
        info = np.iinfo(dt.np) if dt is not dtypes.bool_ else None
        lo = (info.min if info else 0) if min is None else min
        hi = (info.max if info else 1) if max is None else max
    return UNARY_FUNCTIONS["clamp"].apply(x, lo, hi)


clip = clamp


class ClampTensor(Function):
    """``clamp`` with tensor bounds: the gradient goes to ``x`` where ``lo <= x <= hi`` and to
    the bound that was applied elsewhere (``hi`` wins when ``lo > hi``, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        k = x._device.kernels
        return k.minimum(k.maximum(x._data, lo._data), hi._data)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        zero = scalar_tensor(0, g.dtype, g._device)
        above = logical_or(x > hi, lo > hi)  # the output is hi wherever max(x, lo) > hi
        below = logical_and(x < lo, logical_not(above))
        inside = logical_not(logical_or(above, below))
        return (Where.apply(inside, g, zero), Where.apply(below, g, zero),
                Where.apply(above, g, zero))


def clamp_min(x, min):  # noqa: A002
    return clamp(x, min=min)


def clamp_max(x, max):  # noqa: A002
    return clamp(x, max=max)


# ---------------------------------------------------------------- binary ops


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a._device.kernels.add(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a._device.kernels.sub(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                                  b if ctx.needs_input_grad[0] else None)
        return a._device.kernels.mul(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (g * b if b is not None else None), (g * a if a is not None else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a._device.kernels.div(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -(g * a) / (b * b) if a is not None else None
        return ga, gb


class Pow(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._device.kernels.pow(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:  # 0 where the exponent is 0 (also at 0 ** 0)
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        if ctx.needs_input_grad[1]:
            zero = (a == 0) & (b >= 0)
            gb = where(zero, 0.0, g * ctx.output * log(where(zero, 1.0, a)))
        return ga, gb


class _Extremum(Function):
    """Elementwise maximum/minimum; ties split the gradient half and half."""

    kname = ""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return getattr(a._device.kernels, type(ctx).kname)(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        wins = (a > b) if type(ctx).kname == "maximum" else (a < b)
        w = cast(wins, g.dtype) + cast(a == b, g.dtype) * 0.5
        return g * w, g * (1 - w)


class Maximum(_Extremum):
    kname = "maximum"


class Minimum(_Extremum):
    kname = "minimum"


def add(a, b, *, alpha=1) -> Tensor:
    if alpha != 1:
        b = mul(b, alpha)
    a, b = _operands(a, b, "add")
    return Add.apply(a, b)


def sub(a, b, *, alpha=1) -> Tensor:
    if alpha != 1:
        b = mul(b, alpha)
    a, b = _operands(a, b, "sub")
    if a.dtype is dtypes.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    return Sub.apply(a, b)


def mul(a, b) -> Tensor:
    a, b = _operands(a, b, "mul")
    return Mul.apply(a, b)


def div(a, b) -> Tensor:
    """True division; integer operands give the default float dtype, as in PyTorch."""
    dt = dtypes.result_type(a, b)
    a, b = _operands(a, b, "div", dt if dt.is_floating_point else dtypes.get_default_dtype())
    return Div.apply(a, b)


def pow(a, b) -> Tensor:  # noqa: A001
    """``a ** b``. A Python-number exponent uses a single fused kernel."""
    if isinstance(a, Tensor) and is_scalar(b):
        dt = dtypes.result_type(a, b)
        if not dt.is_floating_point and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if a.dtype is not dt:
            a = cast(a, dt)
        return UNARY_FUNCTIONS["pow_scalar"].apply(a, b)
    if is_scalar(a) and isinstance(b, Tensor):
        dt = dtypes.result_type(a, b)
        if dt.is_floating_point and a > 0:
            if b.dtype is not dt:
                b = cast(b, dt)
            return UNARY_FUNCTIONS["rpow_scalar"].apply(b, a)
    a, b = _operands(a, b, "pow")
    return Pow.apply(a, b)


def maximum(a, b) -> Tensor:
    a, b = _operands(a, b, "maximum")
    return Maximum.apply(a, b)


def minimum(a, b) -> Tensor:
    a, b = _operands(a, b, "minimum")
    return Minimum.apply(a, b)


# ---------------------------------------------------------------- comparisons, logic


def _compare(kname):
    def op(a, b) -> Tensor:
        a, b = _operands(a, b, kname)
        return Tensor._make(getattr(a._device.kernels, kname)(a._data, b._data),
                            device=a._device)

    op.__name__ = kname
    op.__doc__ = f"Elementwise ``{kname}`` comparison; a bool tensor with no gradient."
    return op


eq = _compare("eq")
ne = _compare("ne")
lt = _compare("lt")
le = _compare("le")
gt = _compare("gt")
ge = _compare("ge")
greater, less, greater_equal, less_equal, equal_elementwise = gt, lt, ge, le, eq


def _logical(kname):
    def op(a, b) -> Tensor:
        a, b = _operands(a, b, kname, dtypes.bool_)
        return Tensor._make(getattr(a._device.kernels, kname)(a._data, b._data),
                            device=a._device)

    op.__name__ = kname
    return op


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def _bitwise(kname):
    def op(a, b) -> Tensor:
        a, b = _operands(a, b, kname)
        if a.dtype.is_floating_point:
            raise TypeError(f"{kname}: only integer and bool tensors are supported, got "
                            f"{a.dtype}")
        return Tensor._make(getattr(a._device.kernels, kname)(a._data, b._data),
                            device=a._device)

    op.__name__ = kname
    return op


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def logical_not(x: Tensor) -> Tensor:
    return eq(cast(x, dtypes.bool_), False)


def bitwise_not(x: Tensor) -> Tensor:
    if x.dtype is dtypes.bool_:
        return logical_not(x)
    if x.dtype.is_floating_point:
        raise TypeError(f"bitwise_not: only integer and bool tensors are supported, got "
                        f"{x.dtype}")
    return sub(neg(x), 1)


def isnan(x: Tensor) -> Tensor:
    return ne(x, x)


# ---------------------------------------------------------------- where


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return a._device.kernels.where(cond._data, a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = scalar_tensor(0, g.dtype, g._device)
        ga = Where.apply(cond, g, zero) if ctx.needs_input_grad[1] else None
        gb = Where.apply(cond, zero, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(condition: Tensor, input, other) -> Tensor:
    """``input`` where ``condition`` else ``other``, all three broadcast together."""
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition.dtype is not dtypes.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype.name}")
    a, b = _operands(input, other, "where")
    shape = layout.broadcast_shapes(condition._data.shape, a._data.shape)
    if shape is None or layout.broadcast_shapes(shape, b._data.shape) is None:
        raise RuntimeError(f"where: shapes {fmt_shape(condition.shape)}, {fmt_shape(a.shape)} "
                           f"and {fmt_shape(b.shape)} do not broadcast")
    return Where.apply(condition, a, b)


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``x`` with the elements where ``mask`` is True set to ``value`` (``x``'s dtype kept)."""
    if is_scalar(value):
        value = scalar_tensor(value, x.dtype, x._device)
    return where(mask, cast(value, x.dtype), x)


# ---------------------------------------------------------------- rounding, modulo, closeness


def floor(x: Tensor) -> Tensor:
    """Round toward minus infinity (gradient zero, as in PyTorch)."""
    _check_tensor(x, "floor")
    if not x.dtype.is_floating_point:
        return x.clone()
    return UNARY_FUNCTIONS["floor"].apply(x)


def _check_int_zero(b, op):
    if not b.dtype.is_floating_point and bool((b == 0).any()):
        raise ZeroDivisionError(f"{op}: integer division by zero")


def floor_divide(a, b) -> Tensor:
    """``a // b`` rounded toward minus infinity; no gradient."""
    a, b = _operands(a, b, "floor_divide")
    _check_int_zero(b, "floor_divide")
    return Tensor._make(a._device.kernels.floor_divide(a._data, b._data), device=a._device)


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._device.kernels.remainder(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = -g * floor_divide(a.detach(), b.detach()) if ctx.needs_input_grad[1] else None
        return g, gb


def remainder(a, b) -> Tensor:
    r"""``a % b`` with the sign of ``b`` (Python's rule): :math:`a - b\lfloor a/b \rfloor`."""
    a, b = _operands(a, b, "remainder")
    _check_int_zero(b, "remainder")
    return Remainder.apply(a, b)


def isclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    r""":math:`|a - b| \le \mathrm{atol} + \mathrm{rtol}\,|b|` elementwise (bool)."""
    a, b = _operands(a, b, "isclose")
    with _no_grad():
        close = le(abs(sub(a, b)), add(mul(abs(b), rtol), atol)) if a.dtype.is_floating_point \
            else eq(a, b)
        close = logical_or(close, eq(a, b))  # equal infinities
        if equal_nan:
            close = logical_or(close, logical_and(isnan(a), isnan(b)))
    return close


def allclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    from .reduction import all as all_

    return bool(all_(isclose(a, b, rtol, atol, equal_nan)).item())


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()
