r"""Scalar math of the elementwise ops, written once and compiled per device.

Each unary op ``name`` has a forward ``name_f(x, p0, p1)`` and a backward
``name_b(g, s, p0, p1)``, where ``g`` is the incoming gradient and ``s`` is the value the
op saved (its input ``x`` or its output ``y``, as listed in ``UNARY``). ``p0, p1`` are
scalar parameters (clamp bounds, an exponent) that most ops ignore. Binary ops have
``name_f(a, b)``. The device factories (``kernels/cpu/elementwise.py``) wrap these
plain functions with ``njit`` (and, later, ``cuda.jit(device=True)``).

Backward formulas, with :math:`y = f(x)`:

.. math::
    \exp' = y,\quad \log' = 1/x,\quad \sqrt{x}' = \tfrac{1}{2y},\quad |x|' = \operatorname{sgn} x,
    \quad \tanh' = 1 - y^2,\quad \sigma' = y(1-y),\quad \mathrm{relu}' = [y > 0]
"""
import math

# --- unary: forward f(x, p0, p1) and backward b(g, s, p0, p1) ---------------------------

def exp_f(x, p0, p1):
    return math.exp(x)


def exp_b(g, y, p0, p1):  # s = y
    return g * y


def log_f(x, p0, p1):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def log_b(g, x, p0, p1):  # s = x
    return g / x


def log1p_f(x, p0, p1):
    return math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan)


def log1p_b(g, x, p0, p1):  # s = x
    return g / (x + 1)


def expm1_f(x, p0, p1):
    return math.expm1(x)


def expm1_b(g, y, p0, p1):  # s = y;  d/dx (e^x - 1) = y + 1
    return g * (y + 1)


def sqrt_f(x, p0, p1):
    return math.sqrt(x) if x >= 0 else math.nan


def sqrt_b(g, y, p0, p1):  # s = y
    return g / (y + y)


def abs_f(x, p0, p1):
    return abs(x)


def abs_b(g, x, p0, p1):  # s = x
    if x > 0:
        return g
    if x < 0:
        return -g
    return g * 0


def sin_f(x, p0, p1):
    return math.sin(x)


def sin_b(g, x, p0, p1):
    return g * math.cos(x)


def cos_f(x, p0, p1):
    return math.cos(x)


def cos_b(g, x, p0, p1):
    return -g * math.sin(x)


def tanh_f(x, p0, p1):
    return math.tanh(x)


def tanh_b(g, y, p0, p1):  # s = y
    return g * (1 - y * y)


def sigmoid_f(x, p0, p1):
    # two branches keep exp() from overflowing for large |x|
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def sigmoid_b(g, y, p0, p1):  # s = y
    return g * y * (1 - y)


def relu_f(x, p0, p1):
    return x if x > 0 else x * 0  # NaN stays NaN, like PyTorch


def relu_b(g, y, p0, p1):  # s = y
    return g if y > 0 else g * 0


def neg_f(x, p0, p1):
    return -x


def neg_b(g, s, p0, p1):
    return -g


def clamp_f(x, lo, hi):
    if x != x:
        return x
    if x < lo:
        x = lo
    if x > hi:
        x = hi
    return x


def clamp_b(g, x, lo, hi):  # s = x; the gradient passes on the closed interval [lo, hi]
    return g if (x >= lo and x <= hi) else g * 0


def pow_scalar_f(x, p, p1):  # x ** p
    return x ** p


def pow_scalar_b(g, x, p, p1):  # s = x
    if p == 0:
        return g * 0
    return g * p * x ** (p - 1)


def rpow_scalar_f(x, c, p1):  # c ** x
    return c ** x


def rpow_scalar_b(g, y, c, p1):  # s = y
    return g * y * math.log(c)


def identity_f(x, p0, p1):
    return x


def identity_b(g, s, p0, p1):
    return g


def leaky_relu_f(x, slope, p1):
    return x if x > 0 else x * slope


def leaky_relu_b(g, x, slope, p1):  # s = x
    return g if x > 0 else g * slope


_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def gelu_f(x, p0, p1):
    r""":math:`x\,\Phi(x)` with the exact normal CDF."""
    return 0.5 * x * (1.0 + math.erf(x * _INV_SQRT2))


def gelu_b(g, x, p0, p1):  # s = x;  d/dx = Phi(x) + x phi(x)
    cdf = 0.5 * (1.0 + math.erf(x * _INV_SQRT2))
    pdf = _INV_SQRT_2PI * math.exp(-0.5 * x * x)
    return g * (cdf + x * pdf)


def floor_f(x, p0, p1):
    return math.floor(x)


def floor_b(g, s, p0, p1):
    return g * 0


def sign_f(x, p0, p1):
    if x > 0:
        return x * 0 + 1
    if x < 0:
        return x * 0 - 1
    return x * 0


def sign_b(g, s, p0, p1):
    return g * 0


# --- binary: f(a, b) -------------------------------------------------------------------

def add_f(a, b):
    return a + b


def sub_f(a, b):
    return a - b


def mul_f(a, b):
    return a * b


def div_f(a, b):
    return a / b


def pow_f(a, b):
    return a ** b


def floor_divide_f(a, b):
    return a // b  # Python's rounding toward -inf, as torch.floor_divide


def remainder_f(a, b):
    return a % b  # the sign of the divisor, as torch.remainder and Python


def maximum_f(a, b):
    if a != a or b != b:
        return a + b  # NaN propagates
    return a if a >= b else b


def minimum_f(a, b):
    if a != a or b != b:
        return a + b
    return a if a <= b else b


def eq_f(a, b):
    return a == b


def ne_f(a, b):
    return a != b


def lt_f(a, b):
    return a < b


def le_f(a, b):
    return a <= b


def gt_f(a, b):
    return a > b


def ge_f(a, b):
    return a >= b


def logical_and_f(a, b):
    return a and b


def logical_or_f(a, b):
    return a or b


def logical_xor_f(a, b):
    return a != b


def bitwise_and_f(a, b):
    return a & b


def bitwise_or_f(a, b):
    return a | b


def bitwise_xor_f(a, b):
    return a ^ b


# The op tables the device factories iterate over. For unary ops the tag says which
# value the backward reads: "x" (the input), "y" (the output) or "" (neither).
UNARY = {
    "exp": "y", "log": "x", "log1p": "x", "expm1": "y",
    "sqrt": "y", "abs": "x", "sin": "x", "cos": "x",
    "tanh": "y", "sigmoid": "y", "relu": "y", "neg": "", "clamp": "x",
    "pow_scalar": "x", "rpow_scalar": "y", "identity": "", "sign": "", "floor": "",
    "leaky_relu": "x", "gelu": "x",
}
BINARY = (
    "add", "sub", "mul", "div", "pow", "floor_divide", "remainder", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
)
