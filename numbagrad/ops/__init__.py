"""Every tensor op, as a function of tensors. ``numbagrad`` re-exports these and ``Tensor``
methods call them."""
from ._util import norm_dim, norm_dims
from .linalg import dot, matmul, mm
from .pointwise import (
    abs, add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, cast, clamp,
    clamp_max, clamp_min, clip, cos, div, eq, exp, floor, floor_divide, ge, gt, isclose, isnan,
    expm1, gelu, le, leaky_relu, log, log1p, logical_and, logical_not, logical_or, logical_xor, lt,
    masked_fill, maximum, minimum, mul, ne, neg, pow, reciprocal, relu, remainder, rsqrt,
    sigmoid, sign, sin, softplus, sqrt, square, sub, tanh, where,
)
from .reduction import (
    all, amax, amin, any, argmax, argmin, argsort, cumsum, log_softmax, logsumexp, max, mean,
    min, norm, softmax, sort, std, sum, topk, var,
)
from .shape import (
    cat, chunk, clone, concat, concatenate, contiguous, expand, expand_as, flatten, flip,
    gather, getitem, inplace_binary, narrow, nonzero, outer, overwrite_, permute, random_fill_,
    reshape, reshape_as, setitem, split, squeeze, stack, swapaxes, t, take_along_dim,
    to_device, transpose, tril, triu, unbind, unsqueeze, view, view_as,
)

absolute = abs
negative = neg
subtract = sub
multiply = mul
divide = div
true_divide = div

_INTERNAL = {"norm_dim", "norm_dims", "cast", "getitem", "setitem", "inplace_binary",
             "overwrite_", "random_fill_", "to_device"}
__all__ = [n for n in dir() if not n.startswith("_") and n not in _INTERNAL
           and n not in ("linalg", "pointwise", "reduction", "shape")]
