"""Every tensor op, as a function of tensors. ``numbagrad`` re-exports these and ``Tensor``
methods call them."""
from ._util import norm_dim, norm_dims  # noqa: F401
from .linalg import dot, matmul, mm  # noqa: F401
from .pointwise import (  # noqa: F401
    abs, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, cast, clamp, clamp_max,
    clamp_min, clip, cos, div, eq, exp, ge, gt, isnan, le, log, logical_and, logical_not,
    logical_or, logical_xor, lt, masked_fill, maximum, minimum, mul, ne, neg, pow,
    reciprocal, relu, rsqrt, sigmoid, sign, sin, sqrt, square, sub, tanh, where,
)
from .reduction import (  # noqa: F401
    all, any, argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, std, sum, var,
)
from .shape import (  # noqa: F401
    cat, chunk, clone, concat, concatenate, contiguous, expand, expand_as, flatten, getitem,
    inplace_binary, narrow, overwrite_, permute, random_fill_, reshape, reshape_as, setitem,
    split, squeeze, stack, swapaxes, t, to_device, transpose, unbind, unsqueeze, view,
    view_as,
)

absolute = abs
negative = neg
subtract = sub
multiply = mul
divide = div
true_divide = div
