"""numbagrad: a PyTorch-shaped deep-learning library whose kernels are Numba functions.

>>> import numbagrad as ng
>>> x = ng.tensor([[1., 2.], [3., 4.]], requires_grad=True)
>>> (x ** 3).sum().backward()
>>> x.grad
tensor([[ 3., 12.],
        [27., 48.]])
"""
from ._threading import configure as _configure_threads

_configure_threads()

from . import autograd, dtypes  # noqa: E402
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from .autograd.grad_mode import inference_mode  # noqa: E402
from .backend import device  # noqa: E402
from .creation import (  # noqa: E402
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (  # noqa: E402
    bool_ as bool,  # noqa: A004
)
from .dtypes import (  # noqa: E402
    dtype,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .ops import *  # noqa: E402,F401,F403
from .ops import (  # noqa: E402,F401
    abs,  # noqa: A004
    all,
    any,
    max,
    min,
    pow,
    sum,
)
from .tensor import Size, Tensor  # noqa: E402

from . import nn, optim  # noqa: E402  (after Tensor: layers build on it)
from . import cuda, datasets, quantization, utils  # noqa: E402
from .dlpack import from_dlpack  # noqa: E402
from .random import Generator  # noqa: E402
from .serialization import load, save  # noqa: E402

float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
half = None
del half

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    return x.numel()


def result_type(a, b):
    return dtypes.result_type(a, b)


def promote_types(a, b):
    return dtypes.promote_types(dtypes.as_dtype(a), dtypes.as_dtype(b))
