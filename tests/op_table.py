"""The op table shared by ``test_ops.py``.

Each :class:`OpInfo` names an op variant, a numbagrad callable ``fn`` (tensors in) and a
numpy reference ``ref`` (arrays in, same order), and describes its inputs by shape and
domain. Nothing here names a device: the tests build the inputs on each device they run.

Domains:

* ``real``: uniform in [-2, 2];
* ``positive``: uniform in [0.5, 2] (log, sqrt, non-integer powers);
* ``nonzero``: magnitude in [0.5, 2], random sign (divisors);
* ``distinct``: drawn from one pool shared by all ``distinct`` inputs of the entry, so no
  two values are closer than about 0.19 and none is within 0.09 of 0 or of a multiple of
  0.25 (clamp bounds); kinks and ties (relu, abs, max, maximum, clamp) stay far away from
  every finite-difference step;
* ``ties``: small integers stored as floats (comparisons, argmax of repeated values);
* ``mask``: a random bool array (no gradient);
* ``int``: small int64 values (no gradient).

``consts`` are fixed numpy arrays (index tensors, masks) passed after the inputs, as
tensors without gradient.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import numbagrad as ng

FLOATS = ("float32", "float64")

# (rtol, atol) for forward results, compared with a float64 numpy reference
FORWARD_TOL = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-12), "int64": (0, 0)}


@dataclass(frozen=True)
class Arg:
    shape: tuple
    domain: str = "real"

    @property
    def differentiable(self) -> bool:
        return self.domain not in ("mask", "int", "ties")


def A(*shape, d: str = "real") -> Arg:
    return Arg(tuple(shape), d)


@dataclass(frozen=True)
class OpInfo:
    """One op variant.

    ``alt`` is another spelling of the same call (method form vs function form) that
    must give the same result. ``dref`` (broadcasting elementwise ops only) returns, for
    each input, the elementwise derivative of the output with respect to it (None for
    inputs without gradient); the broadcasting test reduces it to the input's shape.
    """

    name: str
    fn: Callable
    ref: Callable
    args: tuple
    consts: tuple = ()
    alt: Callable | None = None
    grad: bool = True
    gradgrad: bool = True
    dtypes: tuple = FLOATS
    tol: dict = field(default_factory=dict)
    gc_tol: tuple = (1e-3, 1e-5)
    broadcast: bool = False
    dref: Callable | None = None

    def forward_tol(self, dtype: str) -> tuple:
        return self.tol.get(dtype, FORWARD_TOL[dtype])


# ---------------------------------------------------------------- input sampling


def _pool(rng, n):
    """``n`` distinct values: odd multiples of 0.125, shuffled and jittered."""
    half = (n + 1) // 2
    grid = 0.125 + 0.25 * np.arange(-half, half)
    vals = rng.choice(grid, size=n, replace=False)
    return vals + rng.uniform(-0.03, 0.03, size=n)


def sample(args, dtype: str, seed) -> list:
    """Numpy arrays for ``args`` (float inputs in ``dtype``)."""
    if isinstance(seed, str):
        seed = zlib.crc32(seed.encode())
    rng = np.random.default_rng(seed)
    n_distinct = sum(int(np.prod(a.shape, dtype=np.int64)) for a in args
                     if a.domain == "distinct")
    pool = iter(_pool(rng, n_distinct))
    out = []
    for a in args:
        n = int(np.prod(a.shape, dtype=np.int64))
        if a.domain == "real":
            v = rng.uniform(-2, 2, n)
        elif a.domain == "positive":
            v = rng.uniform(0.5, 2, n)
        elif a.domain == "nonzero":
            v = rng.uniform(0.5, 2, n) * rng.choice([-1.0, 1.0], n)
        elif a.domain == "distinct":
            v = np.array([next(pool) for _ in range(n)])
        elif a.domain == "ties":
            v = rng.integers(-2, 3, n).astype(np.float64)
        elif a.domain == "mask":
            out.append(rng.random(n).reshape(a.shape) < 0.5)
            continue
        elif a.domain == "int":
            out.append(rng.integers(-5, 6, n).reshape(a.shape).astype(np.int64))
            continue
        else:
            raise ValueError(f"unknown domain {a.domain!r}")
        out.append(v.reshape(a.shape).astype(dtype if dtype != "int64" else "float64"))
        if dtype == "int64":
            out[-1] = np.round(out[-1] * 3).astype(np.int64)
    return out


def sum_to(g, shape) -> np.ndarray:
    """Reduce a broadcast array ``g`` back to ``shape`` by summing, like a gradient."""
    g = np.asarray(g)
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


# ---------------------------------------------------------------- numpy references


def _np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _np_log_softmax(x, dim):
    s = x - x.max(axis=dim, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=dim, keepdims=True))


def _np_logsumexp(x, dim, keepdim=False):
    m = x.max(axis=dim, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_max_dim(x, dim, keepdim=False):
    return (np.max(x, axis=dim, keepdims=keepdim), np.argmax(x, axis=dim, keepdims=keepdim))


def _np_min_dim(x, dim, keepdim=False):
    return (np.min(x, axis=dim, keepdims=keepdim), np.argmin(x, axis=dim, keepdims=keepdim))


def _f(c):
    return np.asarray(c, dtype=np.float64)


# ---------------------------------------------------------------- the table

S = (2, 3)
OPS: list[OpInfo] = []


def add(*ops: OpInfo) -> None:
    OPS.extend(ops)


# -- arithmetic: tensor-tensor (broadcasting), tensor-scalar, scalar-tensor

add(
    OpInfo("add", ng.add, np.add, (A(*S), A(*S)), alt=lambda a, b: a + b,
           broadcast=True, dref=lambda a, b: (1.0, 1.0)),
    OpInfo("add_alpha", lambda a, b: ng.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b,
           (A(*S), A(*S))),
    OpInfo("add_scalar", lambda x: x + 1.5, lambda x: x + 1.5, (A(*S),),
           alt=lambda x: x.add(1.5)),
    OpInfo("radd_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, (A(*S),)),
    OpInfo("sub", ng.sub, np.subtract, (A(*S), A(*S)), alt=lambda a, b: a - b,
           broadcast=True, dref=lambda a, b: (1.0, -1.0)),
    OpInfo("sub_scalar", lambda x: x - 1.5, lambda x: x - 1.5, (A(*S),),
           alt=lambda x: x.sub(1.5)),
    OpInfo("rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, (A(*S),)),
    OpInfo("mul", ng.mul, np.multiply, (A(*S), A(*S)), alt=lambda a, b: a * b,
           broadcast=True, dref=lambda a, b: (b, a)),
    OpInfo("mul_scalar", lambda x: x * -1.5, lambda x: x * -1.5, (A(*S),),
           alt=lambda x: x.mul(-1.5)),
    OpInfo("rmul_scalar", lambda x: 3 * x, lambda x: 3 * x, (A(*S),)),
    OpInfo("div", ng.div, np.divide, (A(*S), A(*S, d="nonzero")), alt=lambda a, b: a / b,
           broadcast=True, dref=lambda a, b: (1 / b, -a / b**2)),
    OpInfo("div_scalar", lambda x: x / 4.0, lambda x: x / 4.0, (A(*S),),
           alt=lambda x: x.div(4.0)),
    OpInfo("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, (A(*S, d="nonzero"),)),
    OpInfo("pow", ng.pow, np.power, (A(*S, d="positive"), A(*S)), alt=lambda a, b: a**b,
           broadcast=True, dref=lambda a, b: (b * a ** (b - 1), a**b * np.log(a))),
    OpInfo("pow_scalar_3", lambda x: x**3, lambda x: x**3, (A(*S),),
           alt=lambda x: x.pow(3)),
    OpInfo("pow_scalar_2", lambda x: x**2.0, lambda x: x**2.0, (A(*S),)),
    OpInfo("pow_scalar_half", lambda x: x**0.5, np.sqrt, (A(*S, d="positive"),)),
    OpInfo("pow_scalar_neg", lambda x: x**-1.5, lambda x: x**-1.5, (A(*S, d="positive"),)),
    OpInfo("pow_scalar_neg_int", lambda x: x**-2, lambda x: x**-2.0, (A(*S, d="nonzero"),)),
    OpInfo("rpow_scalar_2", lambda x: 2**x, lambda x: 2.0**x, (A(*S),)),
    OpInfo("rpow_scalar_float", lambda x: 0.5**x, lambda x: 0.5**x, (A(*S),)),
    OpInfo("add_broadcast", lambda a, b: a + b, np.add, (A(2, 3, 4), A(3, 1))),
    OpInfo("mul_broadcast_0d", lambda a, b: a * b, np.multiply, (A(2, 3), A())),
)

# -- unary math

_UNARY = [
    ("neg", ng.neg, np.negative, "real", lambda x: -x),
    ("exp", ng.exp, np.exp, "real", lambda x: x.exp()),
    ("log", ng.log, np.log, "positive", lambda x: x.log()),
    ("sqrt", ng.sqrt, np.sqrt, "positive", lambda x: x.sqrt()),
    ("abs", ng.abs, np.abs, "distinct", lambda x: abs(x)),
    ("sin", ng.sin, np.sin, "real", lambda x: x.sin()),
    ("cos", ng.cos, np.cos, "real", lambda x: x.cos()),
    ("tanh", ng.tanh, np.tanh, "real", lambda x: x.tanh()),
    ("sigmoid", ng.sigmoid, _np_sigmoid, "real", lambda x: x.sigmoid()),
    ("relu", ng.relu, lambda x: np.maximum(x, 0), "distinct", lambda x: x.relu()),
    ("sign", ng.sign, np.sign, "distinct", lambda x: x.sign()),
    ("square", ng.square, np.square, "real", lambda x: x.square()),
    ("reciprocal", ng.reciprocal, np.reciprocal, "nonzero", lambda x: x.reciprocal()),
    ("rsqrt", ng.rsqrt, lambda x: 1 / np.sqrt(x), "positive", lambda x: x.rsqrt()),
]
for _name, _fn, _ref, _dom, _alt in _UNARY:
    add(OpInfo(_name, _fn, _ref, (A(*S, d=_dom),), alt=_alt))

add(
    OpInfo("exp_noncontig", lambda x: ng.exp(x.transpose(0, 1)), lambda x: np.exp(x.T),
           (A(3, 4),)),
    OpInfo("mul_noncontig", lambda a, b: a.transpose(0, 1) * b, lambda a, b: a.T * b,
           (A(3, 2), A(2, 3))),
    OpInfo("tanh_expanded", lambda x: ng.tanh(x.expand(2, 3, 4)),
           lambda x: np.tanh(np.broadcast_to(x, (2, 3, 4))), (A(3, 1),)),
)

# -- clamp, maximum, minimum, where

add(
    OpInfo("clamp", lambda x: ng.clamp(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
           (A(3, 4, d="distinct"),), alt=lambda x: x.clamp(-0.5, 0.5)),
    OpInfo("clamp_min_only", lambda x: x.clamp(min=-0.25), lambda x: np.maximum(x, -0.25),
           (A(3, 4, d="distinct"),), alt=lambda x: ng.clamp_min(x, -0.25)),
    OpInfo("clamp_max_only", lambda x: x.clamp(max=0.25), lambda x: np.minimum(x, 0.25),
           (A(3, 4, d="distinct"),), alt=lambda x: ng.clamp_max(x, 0.25)),
    OpInfo("clip", lambda x: ng.clip(x, min=-1.0, max=0.5), lambda x: np.clip(x, -1.0, 0.5),
           (A(3, 4, d="distinct"),), alt=lambda x: x.clip(-1.0, 0.5)),
    OpInfo("clamp_tensor", lambda x, lo, hi: ng.clamp(x, lo, hi),
           lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
           (A(2, 3, d="distinct"), A(2, 3, d="distinct"), A(2, 3, d="distinct")),
           alt=lambda x, lo, hi: x.clamp(min=lo, max=hi)),
    OpInfo("clamp_tensor_broadcast", lambda x, lo, hi: ng.clamp(x, min=lo, max=hi),
           lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
           (A(2, 3, d="distinct"), A(3, d="distinct"), A(2, 1, d="distinct"))),
    OpInfo("clamp_tensor_min_only", lambda x, lo: ng.clamp(x, min=lo), np.maximum,
           (A(2, 3, d="distinct"), A(2, 3, d="distinct"))),
    OpInfo("maximum", ng.maximum, np.maximum, (A(*S, d="distinct"), A(*S, d="distinct")),
           alt=lambda a, b: a.maximum(b), broadcast=True,
           dref=lambda a, b: (_f(a > b), _f(a < b))),
    OpInfo("minimum", ng.minimum, np.minimum, (A(*S, d="distinct"), A(*S, d="distinct")),
           alt=lambda a, b: a.minimum(b), broadcast=True,
           dref=lambda a, b: (_f(a < b), _f(a > b))),
    OpInfo("where", ng.where, np.where, (A(*S, d="mask"), A(*S), A(*S)),
           alt=lambda c, a, b: a.where(c, b), broadcast=True,
           dref=lambda c, a, b: (None, _f(c), _f(~c))),
    OpInfo("where_0d_cond", lambda c, b: ng.where(c, 0.5, b), lambda c, b: np.where(c, 0.5, b),
           (A(d="mask"), A(*S))),
    OpInfo("where_scalar_other", lambda c, a: ng.where(c, a, 0.5),
           lambda c, a: np.where(c, a, 0.5), (A(*S, d="mask"), A(*S))),
    OpInfo("where_scalar_input", lambda c, b: ng.where(c, -1.0, b),
           lambda c, b: np.where(c, -1.0, b), (A(*S, d="mask"), A(*S))),
    OpInfo("masked_fill", lambda x, m: x.masked_fill(m, -1.5),
           lambda x, m: np.where(m, -1.5, x), (A(*S), A(3, d="mask")),
           alt=lambda x, m: ng.masked_fill(x, m, -1.5)),
)

# -- comparisons (no gradient)

for _name, _fn, _ref in [("eq", ng.eq, np.equal), ("ne", ng.ne, np.not_equal),
                         ("lt", ng.lt, np.less), ("le", ng.le, np.less_equal),
                         ("gt", ng.gt, np.greater), ("ge", ng.ge, np.greater_equal)]:
    add(OpInfo(_name, _fn, _ref, (A(3, 4, d="ties"), A(3, 4, d="ties")), grad=False,
               alt=lambda a, b, _n=_name: getattr(a, f"__{_n}__")(b), broadcast=True))
    add(OpInfo(f"{_name}_scalar", lambda a, _fn=_fn: _fn(a, 1.0),
               lambda a, _ref=_ref: _ref(a, 1.0), (A(3, 4, d="ties"),), grad=False,
               alt=lambda a, _n=_name: getattr(a, _n)(1.0)))

# -- matmul

add(
    OpInfo("matmul_1d_1d", lambda a, b: a @ b, np.matmul, (A(4), A(4)),
           alt=lambda a, b: ng.matmul(a, b)),
    OpInfo("matmul_2d_1d", lambda a, b: a @ b, np.matmul, (A(3, 4), A(4)),
           alt=lambda a, b: a.matmul(b)),
    OpInfo("matmul_1d_2d", lambda a, b: a @ b, np.matmul, (A(4), A(4, 3)),
           alt=lambda a, b: ng.matmul(a, b)),
    OpInfo("matmul_2d_2d", lambda a, b: a @ b, np.matmul, (A(2, 4), A(4, 3)),
           alt=lambda a, b: ng.mm(a, b)),
    OpInfo("matmul_3d_3d", lambda a, b: a @ b, np.matmul, (A(2, 3, 4), A(2, 4, 2)),
           alt=lambda a, b: ng.matmul(a, b)),
    OpInfo("matmul_batch_broadcast", lambda a, b: a @ b, np.matmul,
           (A(2, 1, 2, 3), A(3, 3, 2)), alt=lambda a, b: ng.matmul(a, b)),
    OpInfo("matmul_3d_2d", lambda a, b: a @ b, np.matmul, (A(2, 3, 4), A(4, 2)),
           alt=lambda a, b: ng.matmul(a, b)),
    OpInfo("matmul_2d_3d", lambda a, b: a @ b, np.matmul, (A(3, 4), A(2, 4, 2))),
    OpInfo("matmul_1d_3d", lambda a, b: a @ b, np.matmul, (A(3), A(2, 3, 2))),
    OpInfo("matmul_3d_1d", lambda a, b: a @ b, np.matmul, (A(2, 3, 4), A(4))),
    OpInfo("matmul_transposed", lambda a, b: a.T @ b, lambda a, b: a.T @ b,
           (A(4, 2), A(4, 3))),
    OpInfo("dot", ng.dot, np.dot, (A(4), A(4)), alt=lambda a, b: a.dot(b)),
)

# -- reductions

X3 = (2, 3, 4)
add(
    OpInfo("sum", ng.sum, np.sum, (A(*S),), alt=lambda x: x.sum()),
    OpInfo("sum_dim", lambda x: ng.sum(x, 1), lambda x: x.sum(1), (A(*X3),),
           alt=lambda x: x.sum(dim=1)),
    OpInfo("sum_neg_dim_keepdim", lambda x: x.sum(-1, keepdim=True),
           lambda x: x.sum(-1, keepdims=True), (A(*X3),)),
    OpInfo("sum_dims", lambda x: x.sum((0, 2)), lambda x: x.sum((0, 2)), (A(*X3),)),
    OpInfo("sum_dims_keepdim", lambda x: x.sum((0, -1), keepdim=True),
           lambda x: x.sum((0, 2), keepdims=True), (A(*X3),)),
    OpInfo("sum_noncontig", lambda x: x.permute(2, 0, 1).sum(1),
           lambda x: x.transpose(2, 0, 1).sum(1), (A(*X3),)),
    OpInfo("mean", ng.mean, np.mean, (A(*S),), alt=lambda x: x.mean()),
    OpInfo("mean_dim", lambda x: x.mean(1), lambda x: x.mean(1), (A(*X3),),
           alt=lambda x: ng.mean(x, dim=1)),
    OpInfo("mean_dims_keepdim", lambda x: x.mean((0, 2), keepdim=True),
           lambda x: x.mean((0, 2), keepdims=True), (A(*X3),)),
    OpInfo("mean_neg_dim", lambda x: x.mean(-2), lambda x: x.mean(-2), (A(*X3),)),
    OpInfo("max", ng.max, np.max, (A(3, 4, d="distinct"),), alt=lambda x: x.max()),
    OpInfo("min", ng.min, np.min, (A(3, 4, d="distinct"),), alt=lambda x: x.min()),
    OpInfo("max_dim", lambda x: ng.max(x, 1), lambda x: _np_max_dim(x, 1),
           (A(*X3, d="distinct"),), alt=lambda x: x.max(dim=1)),
    OpInfo("max_dim_keepdim", lambda x: x.max(-1, keepdim=True),
           lambda x: _np_max_dim(x, -1, True), (A(*X3, d="distinct"),)),
    OpInfo("min_dim", lambda x: ng.min(x, 0), lambda x: _np_min_dim(x, 0),
           (A(*X3, d="distinct"),), alt=lambda x: x.min(0)),
    OpInfo("min_dim_keepdim", lambda x: x.min(2, keepdim=True),
           lambda x: _np_min_dim(x, 2, True), (A(*X3, d="distinct"),)),
    OpInfo("max_dim_values", lambda x: x.max(1).values, lambda x: x.max(1),
           (A(3, 4, d="distinct"),)),
    OpInfo("min_dim_indices", lambda x: x.min(1).indices, lambda x: x.argmin(1),
           (A(3, 4, d="distinct"),), grad=False),
    OpInfo("argmax", ng.argmax, np.argmax, (A(*X3, d="distinct"),), grad=False,
           alt=lambda x: x.argmax()),
    OpInfo("argmax_dim", lambda x: x.argmax(1), lambda x: np.argmax(x, 1),
           (A(*X3, d="distinct"),), grad=False, alt=lambda x: ng.argmax(x, dim=1)),
    OpInfo("argmax_neg_dim_keepdim", lambda x: x.argmax(-1, keepdim=True),
           lambda x: np.argmax(x, -1, keepdims=True), (A(*X3, d="distinct"),), grad=False),
    OpInfo("argmax_ties_first", lambda x: x.argmax(1), lambda x: np.argmax(x, 1),
           (A(4, 5, d="ties"),), grad=False),
    OpInfo("argmin", ng.argmin, np.argmin, (A(*X3, d="distinct"),), grad=False,
           alt=lambda x: x.argmin()),
    OpInfo("argmin_dim", lambda x: x.argmin(0), lambda x: np.argmin(x, 0),
           (A(*X3, d="distinct"),), grad=False),
    OpInfo("argmin_dim_keepdim", lambda x: x.argmin(2, keepdim=True),
           lambda x: np.argmin(x, 2, keepdims=True), (A(*X3, d="distinct"),), grad=False),
    OpInfo("var", ng.var, lambda x: np.var(x, ddof=1), (A(3, 4),), alt=lambda x: x.var()),
    OpInfo("var_dim", lambda x: x.var(1), lambda x: np.var(x, 1, ddof=1), (A(*X3),)),
    OpInfo("var_dims_keepdim", lambda x: x.var((0, 2), keepdim=True),
           lambda x: np.var(x, (0, 2), ddof=1, keepdims=True), (A(*X3),)),
    OpInfo("var_correction0", lambda x: x.var(-1, correction=0),
           lambda x: np.var(x, -1), (A(*X3),)),
    OpInfo("var_correction2", lambda x: ng.var(x, 1, correction=2),
           lambda x: np.var(x, 1, ddof=2), (A(3, 4),)),
    OpInfo("var_unbiased_false", lambda x: x.var(0, unbiased=False),
           lambda x: np.var(x, 0), (A(3, 4),)),
    OpInfo("std", ng.std, lambda x: np.std(x, ddof=1), (A(3, 4),), alt=lambda x: x.std()),
    OpInfo("std_dim", lambda x: x.std(1), lambda x: np.std(x, 1, ddof=1), (A(*X3),)),
    OpInfo("std_dims_keepdim", lambda x: x.std((0, 2), keepdim=True),
           lambda x: np.std(x, (0, 2), ddof=1, keepdims=True), (A(*X3),)),
    OpInfo("std_correction0", lambda x: x.std(-1, correction=0),
           lambda x: np.std(x, -1), (A(*X3),)),
    OpInfo("std_unbiased_false_keepdim", lambda x: x.std(1, unbiased=False, keepdim=True),
           lambda x: np.std(x, 1, keepdims=True), (A(3, 4),)),
    OpInfo("softmax", lambda x: ng.softmax(x, 1), lambda x: _np_softmax(x, 1), (A(*X3),),
           alt=lambda x: x.softmax(1)),
    OpInfo("softmax_neg_dim", lambda x: x.softmax(-1), lambda x: _np_softmax(x, -1),
           (A(*X3),)),
    OpInfo("softmax_dim0", lambda x: x.softmax(dim=0), lambda x: _np_softmax(x, 0), (A(*X3),)),
    OpInfo("softmax_noncontig", lambda x: x.transpose(0, 1).softmax(-1),
           lambda x: _np_softmax(x.T, -1), (A(3, 4),)),
    OpInfo("log_softmax", lambda x: ng.log_softmax(x, 1), lambda x: _np_log_softmax(x, 1),
           (A(*X3),), alt=lambda x: x.log_softmax(1)),
    OpInfo("log_softmax_neg_dim", lambda x: x.log_softmax(-1),
           lambda x: _np_log_softmax(x, -1), (A(*X3),)),
    OpInfo("log_softmax_dim0", lambda x: x.log_softmax(0), lambda x: _np_log_softmax(x, 0),
           (A(*X3),)),
    OpInfo("logsumexp", lambda x: ng.logsumexp(x, 1), lambda x: _np_logsumexp(x, 1),
           (A(*X3),), alt=lambda x: x.logsumexp(1)),
    OpInfo("logsumexp_neg_dim", lambda x: x.logsumexp(-1), lambda x: _np_logsumexp(x, -1),
           (A(*X3),)),
    OpInfo("logsumexp_dim0_keepdim", lambda x: x.logsumexp(0, keepdim=True),
           lambda x: _np_logsumexp(x, 0, True), (A(*X3),)),
    OpInfo("logsumexp_dims", lambda x: x.logsumexp((0, 2)),
           lambda x: _np_logsumexp(x, (0, 2)), (A(*X3),)),
    OpInfo("logsumexp_large", lambda x: (x * 400).logsumexp(1),
           lambda x: _np_logsumexp(x * 400, 1), (A(3, 4),)),
)

# -- shape ops

add(
    OpInfo("reshape", lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2), (A(*S),),
           alt=lambda x: ng.reshape(x, (3, 2))),
    OpInfo("reshape_infer", lambda x: x.reshape(-1, 6), lambda x: x.reshape(-1, 6),
           (A(*X3),)),
    OpInfo("reshape_noncontig", lambda x: x.transpose(0, 1).reshape(-1),
           lambda x: x.T.reshape(-1), (A(3, 4),)),
    OpInfo("view", lambda x: x.view(6), lambda x: x.reshape(6), (A(*S),),
           alt=lambda x: ng.view(x, 6)),
    OpInfo("view_infer", lambda x: x.view(4, -1), lambda x: x.reshape(4, -1), (A(*X3),)),
    OpInfo("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), (A(*X3),),
           alt=lambda x: ng.flatten(x)),
    OpInfo("flatten_start", lambda x: x.flatten(1), lambda x: x.reshape(2, 12), (A(*X3),)),
    OpInfo("flatten_range", lambda x: x.flatten(0, 1), lambda x: x.reshape(6, 4), (A(*X3),)),
    OpInfo("squeeze", lambda x: x.squeeze(), lambda x: x.squeeze(), (A(1, 3, 1, 2),),
           alt=lambda x: ng.squeeze(x)),
    OpInfo("squeeze_dim", lambda x: x.squeeze(0), lambda x: x.squeeze(0), (A(1, 3, 1, 2),)),
    OpInfo("squeeze_neg_dim", lambda x: x.squeeze(-2), lambda x: x.squeeze(-2),
           (A(1, 3, 1, 2),)),
    OpInfo("squeeze_non_one", lambda x: x.squeeze(1), lambda x: x, (A(1, 3, 1, 2),)),
    OpInfo("unsqueeze", lambda x: x.unsqueeze(0), lambda x: x[None], (A(*S),),
           alt=lambda x: ng.unsqueeze(x, 0)),
    OpInfo("unsqueeze_neg", lambda x: x.unsqueeze(-1), lambda x: x[..., None], (A(*S),)),
    OpInfo("unsqueeze_mid", lambda x: x.unsqueeze(1), lambda x: x[:, None], (A(*S),)),
    OpInfo("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1),
           (A(*X3),), alt=lambda x: ng.permute(x, (2, 0, 1))),
    OpInfo("permute_neg", lambda x: x.permute(-1, 0, -2), lambda x: x.transpose(2, 0, 1),
           (A(*X3),)),
    OpInfo("transpose", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2), (A(*X3),),
           alt=lambda x: ng.transpose(x, 0, 2)),
    OpInfo("transpose_neg", lambda x: x.transpose(-1, -2), lambda x: x.swapaxes(-1, -2),
           (A(*X3),)),
    OpInfo("t", lambda x: x.t(), lambda x: x.T, (A(*S),), alt=lambda x: ng.t(x)),
    OpInfo("T_2d", lambda x: x.T, lambda x: x.T, (A(*S),)),
    OpInfo("mT", lambda x: x.mT, lambda x: x.swapaxes(-1, -2), (A(*X3),)),
    OpInfo("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
           (A(3, 1),), alt=lambda x: ng.expand(x, (2, 3, 4))),
    OpInfo("expand_keep", lambda x: x.expand(-1, 4), lambda x: np.broadcast_to(x, (3, 4)),
           (A(3, 1),)),
    OpInfo("expand_as", lambda x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape),
           (A(1, 3), A(2, 3))),
    OpInfo("contiguous", lambda x: x.transpose(0, 1).contiguous(), lambda x: x.T,
           (A(*S),), alt=lambda x: ng.contiguous(x.transpose(0, 1))),
    OpInfo("clone", lambda x: x.clone(), lambda x: x.copy(), (A(*S),),
           alt=lambda x: ng.clone(x)),
    OpInfo("log1p", ng.log1p, np.log1p, (A(*S, d="positive"),), alt=lambda x: x.log1p()),
    OpInfo("expm1", ng.expm1, np.expm1, (A(*S),), alt=lambda x: x.expm1()),
    OpInfo("softplus", ng.softplus, lambda x: np.log1p(np.exp(x)), (A(*S),),
           alt=lambda x: ng.nn.functional.softplus(x)),
    OpInfo("softplus_beta_threshold", lambda x: ng.softplus(x, 2.0, 1.0),
           lambda x: np.where(2 * x > 1, x, np.log1p(np.exp(2 * x)) / 2),
           (A(*S, d="distinct"),)),
    # ---- sorting, scans, gathers, norms, triangles
    OpInfo("norm", lambda x: x.norm(), lambda x: np.linalg.norm(x.ravel()), (A(*S),),
           alt=lambda x: ng.norm(x)),
    OpInfo("norm_dim_keepdim", lambda x: ng.norm(x, dim=1, keepdim=True),
           lambda x: np.linalg.norm(x, axis=1, keepdims=True), (A(*S),)),
    OpInfo("norm_p1", lambda x: x.norm(1, dim=0), lambda x: np.abs(x).sum(0),
           (A(*S, d="distinct"),), gradgrad=False),
    OpInfo("norm_p3", lambda x: x.norm(3), lambda x: (np.abs(x) ** 3).sum() ** (1 / 3),
           (A(*S, d="distinct"),)),
    OpInfo("norm_inf", lambda x: x.norm(float("inf"), dim=1),
           lambda x: np.abs(x).max(1), (A(*S, d="distinct"),), gradgrad=False),
    OpInfo("amax_dims", lambda x: x.amax((0, 2)), lambda x: x.max((0, 2)),
           (A(2, 3, 2, d="distinct"),), alt=lambda x: ng.amax(x, (0, 2))),
    OpInfo("amin_keepdim", lambda x: x.amin(1, keepdim=True),
           lambda x: x.min(1, keepdims=True), (A(*S, d="distinct"),)),
    OpInfo("cumsum", lambda x: x.cumsum(1), lambda x: np.cumsum(x, 1), (A(2, 3, 2),),
           alt=lambda x: ng.cumsum(x, 1)),
    OpInfo("cumsum_dim0", lambda x: ng.cumsum(x, 0), lambda x: np.cumsum(x, 0), (A(4),)),
    OpInfo("sort_values", lambda x: x.sort(1).values, lambda x: np.sort(x, 1),
           (A(2, 4, d="distinct"),)),
    OpInfo("sort_descending", lambda x: ng.sort(x, 0, descending=True).values,
           lambda x: -np.sort(-x, 0), (A(3, 2, d="distinct"),)),
    OpInfo("topk", lambda x: x.topk(2).values, lambda x: -np.sort(-x, 1)[:, :2],
           (A(2, 4, d="distinct"),)),
    OpInfo("topk_smallest_dim0", lambda x: x.topk(2, dim=0, largest=False).values,
           lambda x: np.sort(x, 0)[:2], (A(3, 2, d="distinct"),)),
    OpInfo("gather_dim1", lambda x, i: x.gather(1, i),
           lambda x, i: np.take_along_axis(x, i, 1), (A(2, 4),),
           consts=(np.array([[0, 3, 3], [2, 1, 0]]),), alt=lambda x, i: ng.gather(x, 1, i)),
    OpInfo("gather_dim0_repeats", lambda x, i: ng.gather(x, 0, i),
           lambda x, i: np.take_along_axis(x, i, 0), (A(3, 2),),
           consts=(np.array([[2, 2], [0, 2]]),)),
    OpInfo("flip", lambda x: x.flip(0), lambda x: x[::-1], (A(*S),),
           alt=lambda x: ng.flip(x, [0])),
    OpInfo("flip_two_dims", lambda x: ng.flip(x, (0, -1)), lambda x: x[::-1, :, ::-1],
           (A(2, 3, 2),)),
    OpInfo("tril", lambda x: x.tril(), np.tril, (A(3, 4),), alt=lambda x: ng.tril(x)),
    OpInfo("triu_diag1", lambda x: ng.triu(x, 1), lambda x: np.triu(x, 1), (A(2, 3, 3),)),
    OpInfo("outer", ng.outer, np.outer, (A(3), A(2))),
    OpInfo("remainder_scalar", lambda x: x % 0.7, lambda x: np.mod(x, 0.7),
           (A(*S, d="distinct"),), gradgrad=False),
    OpInfo("remainder_tensor", lambda a, b: ng.remainder(a, b), np.mod,
           (A(*S, d="distinct"), A(*S, d="nonzero")), gradgrad=False),
    OpInfo("cat", lambda a, b: ng.cat([a, b]), lambda a, b: np.concatenate([a, b]),
           (A(2, 3), A(1, 3)), alt=lambda a, b: ng.concatenate((a, b), 0)),
    OpInfo("cat_dim1", lambda a, b, c: ng.cat([a, b, c], 1),
           lambda a, b, c: np.concatenate([a, b, c], 1), (A(2, 1), A(2, 3), A(2, 2))),
    OpInfo("cat_neg_dim", lambda a, b: ng.cat((a, b), dim=-1),
           lambda a, b: np.concatenate([a, b], -1), (A(2, 2, 3), A(2, 2, 1))),
    OpInfo("cat_same_tensor", lambda a: ng.cat([a, a * 2]),
           lambda a: np.concatenate([a, a * 2]), (A(*S),)),
    OpInfo("stack", lambda a, b: ng.stack([a, b]), lambda a, b: np.stack([a, b]),
           (A(*S), A(*S))),
    OpInfo("stack_last", lambda a, b, c: ng.stack([a, b, c], 2),
           lambda a, b, c: np.stack([a, b, c], 2), (A(*S), A(*S), A(*S))),
    OpInfo("stack_neg_dim", lambda a, b: ng.stack([a, b], dim=-2),
           lambda a, b: np.stack([a, b], -2), (A(*S), A(*S))),
    OpInfo("split", lambda x: x.split(2), lambda x: tuple(np.split(x, [2, 4])), (A(5, 2),),
           alt=lambda x: ng.split(x, 2)),
    OpInfo("split_sections", lambda x: x.split([1, 3], dim=1),
           lambda x: tuple(np.split(x, [1], 1)), (A(2, 4),)),
    OpInfo("split_neg_dim", lambda x: x.split(3, -1), lambda x: tuple(np.split(x, [3], -1)),
           (A(2, 2, 4),)),
    OpInfo("chunk", lambda x: x.chunk(3), lambda x: tuple(np.split(x, [2, 4])), (A(5, 2),),
           alt=lambda x: ng.chunk(x, 3)),
    OpInfo("chunk_fewer", lambda x: x.chunk(3, dim=1), lambda x: tuple(np.split(x, [2], 1)),
           (A(2, 4),)),
    OpInfo("unbind", lambda x: x.unbind(1), lambda x: tuple(x[:, i] for i in range(3)),
           (A(*S),)),
    OpInfo("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], (A(3, 4),)),
)

# -- indexing

IDX = np.array([0, 2, 0, 1, 2, 2])  # repeats: the gradient must accumulate
X34 = (A(3, 4),)
add(
    OpInfo("index_int", lambda x: x[1], lambda x: x[1], X34),
    OpInfo("index_neg_int", lambda x: x[-1], lambda x: x[-1], X34),
    OpInfo("index_int_int", lambda x: x[1, -2], lambda x: x[1, -2], X34),
    OpInfo("index_col", lambda x: x[:, 1], lambda x: x[:, 1], X34),
    OpInfo("index_slice", lambda x: x[1:3], lambda x: x[1:3], X34),
    OpInfo("index_slice_step", lambda x: x[::2, 1::2], lambda x: x[::2, 1::2], X34),
    OpInfo("index_slice_step3", lambda x: x[:, ::3], lambda x: x[:, ::3], X34),
    OpInfo("index_slice_neg", lambda x: x[-2:, :-1], lambda x: x[-2:, :-1], X34),
    OpInfo("index_none", lambda x: x[None], lambda x: x[None], X34),
    OpInfo("index_none_mid", lambda x: x[:, None, 1:], lambda x: x[:, None, 1:], X34),
    OpInfo("index_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], (A(*X3),)),
    OpInfo("index_ellipsis_none", lambda x: x[0, ..., None], lambda x: x[0, ..., None],
           (A(*X3),)),
    OpInfo("index_tensor", lambda x, i: x[i], lambda x, i: x[i], X34, consts=(IDX,)),
    OpInfo("index_tensor_neg", lambda x, i: x[i], lambda x, i: x[i], X34,
           consts=(np.array([-1, 0, -1]),)),
    OpInfo("index_tensor_2d", lambda x, i: x[i], lambda x, i: x[i], X34,
           consts=(np.array([[0, 2], [2, 2]]),)),
    OpInfo("index_tensor_cols", lambda x, i: x[:, i], lambda x, i: x[:, i], X34,
           consts=(np.array([3, 0, 3]),)),
    OpInfo("index_tensor_slice", lambda x, i: x[i, 1:], lambda x, i: x[i, 1:], X34,
           consts=(IDX,)),
    OpInfo("index_int_tensor", lambda x, i: x[1, i], lambda x, i: x[1, i], X34,
           consts=(np.array([2, 2, 0]),)),
    OpInfo("index_ellipsis_tensor", lambda x, i: x[..., i], lambda x, i: x[..., i],
           (A(*X3),), consts=(np.array([1, 1, 3]),)),
    OpInfo("index_two_tensors", lambda x, i, j: x[i, j], lambda x, i, j: x[i, j], X34,
           consts=(np.array([0, 2, 0]), np.array([1, 3, 1]))),
    OpInfo("index_list", lambda x: x[[0, 2, 2]], lambda x: x[[0, 2, 2]], X34),
    OpInfo("index_mask", lambda x, m: x[m], lambda x, m: x[m], X34,
           consts=(np.array([[1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]], bool),)),
    OpInfo("index_row_mask", lambda x, m: x[m], lambda x, m: x[m], X34,
           consts=(np.array([True, False, True]),)),
    OpInfo("index_mask_cols", lambda x, m: x[:, m], lambda x, m: x[:, m], X34,
           consts=(np.array([False, True, True, False]),)),
    OpInfo("index_noncontig", lambda x, i: x.transpose(0, 1)[i], lambda x, i: x.T[i], X34,
           consts=(np.array([3, 1, 3]),)),
)

# -- integer forward (once per op that is defined for integers)

_INT = dict(dtypes=("int64",), grad=False)
add(
    OpInfo("add_int", lambda a, b: a + b, np.add, (A(*S), A(*S)), **_INT),
    OpInfo("mul_int_scalar", lambda a: a * 3, lambda a: a * 3, (A(*S),), **_INT),
    OpInfo("sum_int", lambda a: a.sum(1), lambda a: a.sum(1), (A(*S),), **_INT),
    OpInfo("max_dim_int", lambda a: a.max(1).values, lambda a: a.max(1), (A(*S),), **_INT),
    OpInfo("index_int64", lambda a, i: a[i], lambda a, i: a[i], (A(3, 2),), consts=(IDX,),
           **_INT),
)


# ---------------------------------------------------------------- kinks and ties

# Points where an op is not differentiable (0 for relu/abs, bounds for clamp, ties for
# max/maximum, 0 ** 0 for pow): PyTorch picks a particular subgradient there, which
# finite differences cannot check, so torch is the oracle. ``fn(m, x, y)`` is written
# once for both modules (``m`` is numbagrad or torch).
KINK_X = [[-1.0, 0.0, 1.0, 1.0], [2.0, 0.0, -1.0, 2.0]]
KINK_Y = [[1.0, 0.0, -1.0, 2.0], [2.0, 1.0, -1.0, 0.0]]


@dataclass(frozen=True)
class Kink:
    name: str
    fn: Callable


KINKS = [
    Kink("relu", lambda m, x, y: m.relu(x)),
    Kink("abs", lambda m, x, y: m.abs(x)),
    Kink("sign", lambda m, x, y: m.sign(x)),
    Kink("clamp_at_bounds", lambda m, x, y: m.clamp(x, -1.0, 1.0)),
    Kink("clamp_min_at_bound", lambda m, x, y: m.clamp(x, min=0.0)),
    Kink("clamp_tensor_at_bounds", lambda m, x, y: m.clamp(x, y, y + 1)),
    Kink("clamp_tensor_min_at_bound", lambda m, x, y: m.clamp(x, min=y)),
    Kink("clamp_tensor_max_at_bound", lambda m, x, y: m.clamp(x, max=y)),
    Kink("maximum_ties", lambda m, x, y: m.maximum(x, y)),
    Kink("minimum_ties", lambda m, x, y: m.minimum(x, y)),
    Kink("max_ties", lambda m, x, y: x.max()),
    Kink("min_ties", lambda m, x, y: x.min()),
    Kink("max_dim_ties", lambda m, x, y: x.max(1).values),
    Kink("min_dim_ties", lambda m, x, y: x.min(0)[0]),
    Kink("where_on_compare", lambda m, x, y: m.where(x > y, x, y)),
    Kink("pow_scalar_at_0", lambda m, x, y: x**0 + x**1 + x**2 + x**3.0),
    Kink("pow_tensor_zero_base", lambda m, x, y: m.pow(m.abs(x), m.abs(y) + 1)),
    Kink("pow_tensor_zero_zero", lambda m, x, y: m.pow(m.abs(x), m.abs(y))),
]

_names = [op.name for op in OPS]
assert len(_names) == len(set(_names)), "duplicate op names"
