"""Tensor creation: ``tensor``, ``zeros``, ``rand``, ``arange``, ``*_like``, ``from_numpy`` ...

Memory comes from the device's allocator (``kernels.empty``/``zeros``); contents are
written by kernels (``fill``, ``arange_``, the random fills), so the same functions serve
every device.
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes
from .backend import as_device
from .ops._util import shape_arg
from .tensor import Tensor


def _finish(arr, dev, requires_grad):
    t = Tensor._make(arr, device=dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _host_to(arr, dev):
    if dev.type == "cpu":
        return arr
    return dev.kernels.from_host(np.require(arr, requirements='C'))


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, a numpy array or a
    Tensor). Python floats give the default float dtype (float32), ints int64, bools bool;
    a numpy array keeps its dtype."""
    dev = as_device(device)
    if isinstance(data, Tensor):
        src = data.detach()
        out = src.to(dtype=dtype) if dtype is not None else src
        out = out.clone() if out is src else out
        if dev is not out.device:
            out = out.to(dev)
        return _finish(out._data, dev, requires_grad)
    if isinstance(data, np.ndarray):
        arr = np.array(data, copy=True)
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
    else:
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(f"tensor(): could not build a tensor from the data: {e}") from None
        if arr.dtype == object:
            raise TypeError("tensor(): data must be numbers or (nested) lists of numbers of a "
                            "regular shape")
        if dtype is None and arr.dtype.kind == "f" and not _is_np_typed(data):
            arr = arr.astype(dtypes.get_default_dtype().np)
        elif dtype is None and arr.dtype.kind in "iu" and not _is_np_typed(data):
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "U" or arr.dtype.kind == "S":
            raise TypeError("tensor(): new(): invalid data type 'str'")
    if dtype is not None:
        arr = arr.astype(dtypes.as_dtype(dtype).np)
    else:
        dtypes.from_numpy_dtype(arr.dtype)  # raises for unsupported dtypes
    arr = np.require(arr, requirements='C')  # (ascontiguousarray would make 0-d 1-d)
    return _finish(_host_to(arr, dev), dev, requires_grad)


def _is_np_typed(data):
    return isinstance(data, (np.generic,))


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory when ``data`` is already a suitable array/tensor."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if (dtype or device) else data
    if isinstance(data, np.ndarray) and (device is None or as_device(device).type == "cpu"):
        t = from_numpy(data)
        return t.to(dtype) if dtype is not None else t
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A CPU tensor that shares ``arr``'s memory (writes show through both ways)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    dtypes.from_numpy_dtype(arr.dtype)
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    if arr.strides and any(s % arr.itemsize for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. "
                         "Copy the numpy array to reallocate the memory.")
    return Tensor._make(arr)


def _dtype_or_default(dtype, default=None):
    if dtype is None:
        return default or dtypes.get_default_dtype()
    return dtypes.as_dtype(dtype)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dev = as_device(device)
    shape = shape_arg(size, "empty")
    return _finish(dev.kernels.empty(shape, _dtype_or_default(dtype).np), dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dev = as_device(device)
    shape = shape_arg(size, "zeros")
    return _finish(dev.kernels.zeros(shape, _dtype_or_default(dtype).np), dev, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dev = as_device(device)
    shape = shape_arg((size,) if isinstance(size, int) else (tuple(size),), "full")
    if dtype is None:
        dtype = dtypes.default_for_rank(dtypes.scalar_rank(fill_value))
    dt = dtypes.as_dtype(dtype)
    arr = dev.kernels.fill(dev.kernels.empty(shape, dt.np), fill_value)
    return _finish(arr, dev, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(shape_arg(size, "ones"), 1, dtype=_dtype_or_default(dtype), device=device,
                requires_grad=requires_grad)


def _like(x, dtype, device):
    return (dtypes.as_dtype(dtype) if dtype is not None else x.dtype,
            as_device(device) if device is not None else x.device)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return empty(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return zeros(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return ones(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def _random(kind, size, dtype, device, requires_grad, a=0.0, b=1.0):
    dev = as_device(device)
    dt = _dtype_or_default(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{kind}: expected a floating point dtype, got {dt}")
    shape = shape_arg(size, kind)
    k = dev.kernels
    arr = k.empty(shape, dt.np)
    (k.uniform_ if kind == "rand" else k.normal_)(arr, a, b)
    return _finish(arr, dev, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _random("rand", size, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _random("randn", size, dtype, device, requires_grad)


def rand_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return rand(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return randn(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randint(*args, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size'")
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dev = as_device(device)
    dt = _dtype_or_default(dtype, dtypes.int64)
    shape = shape_arg((size,) if isinstance(size, int) else (tuple(size),), "randint")
    k = dev.kernels
    tmp = k.randint_(k.empty(shape, np.int64), low, high)
    arr = tmp if dt is dtypes.int64 else k.cast(tmp, dt.np)
    return _finish(arr, dev, requires_grad)


def randperm(n: int, dtype=None, device=None) -> Tensor:
    dev = as_device(device)
    k = dev.kernels
    arr = k.randperm_(k.empty((int(n),), np.int64))
    dt = _dtype_or_default(dtype, dtypes.int64)
    return Tensor._make(arr if dt is dtypes.int64 else k.cast(arr, dt.np), device=dev)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``[start, start + step, ...)`` up to (not including) ``end``."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("arange: upper bound and larger bound inconsistent with step sign")
    vals = [start, end, step]
    if dtype is None:
        dtype = (dtypes.get_default_dtype() if any(isinstance(v, float) for v in vals)
                 else dtypes.int64)
    dt = dtypes.as_dtype(dtype)
    n = max(int(math.ceil((end - start) / step)), 0)
    dev = as_device(device)
    arr = dev.kernels.arange_(dev.kernels.empty((n,), dt.np), start, step)
    return _finish(arr, dev, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    dt = _dtype_or_default(dtype)
    dev = as_device(device)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    k = dev.kernels
    arr = k.arange_(k.empty((steps,), np.float64), float(start), float(step))
    if steps > 1:
        arr[-1] = end
    arr = arr if dt is dtypes.float64 else k.cast(arr, dt.np)
    return _finish(arr, dev, requires_grad)


def eye(n: int, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dev = as_device(device)
    dt = _dtype_or_default(dtype)
    arr = dev.kernels.eye_(dev.kernels.empty((n, n if m is None else m), dt.np))
    return _finish(arr, dev, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed the random generators of every device, so ``rand``/``randn``/``randint`` and
    random fills repeat."""
    from .backend import CPU

    CPU.kernels.seed(int(seed))
    from . import backend

    for dev in list(backend.device._instances.values()):
        if dev is not CPU and dev._kernels is not None:
            dev._kernels.seed(int(seed))


def seed() -> int:
    s = int(np.random.SeedSequence().entropy % (2**32))
    manual_seed(s)
    return s
