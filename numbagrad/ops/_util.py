"""Helpers shared by the ops: argument checks and conversions, done in Python before any
kernel sees the data."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..backend import CPU
from ..tensor import Tensor


def norm_dim(dim, ndim: int, op: str = "") -> int:
    """Wrap a negative dim and check its range, with PyTorch's message."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if dim < lo or dim > hi:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{lo}, {hi}], but got {dim})")
    return int(dim) % max(ndim, 1)


def norm_dims(dim, ndim: int, op: str = "") -> tuple:
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        ds = tuple(norm_dim(d, ndim, op) for d in dim)
        if ndim == 0:
            return ()
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"{op}: dim {ds} appears multiple times in the list of dims")
        return ds
    d = norm_dim(dim, ndim, op)
    return () if ndim == 0 else (d,)


def shape_arg(args, op: str = "") -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: size must be a sequence of ints, got {a!r}")
        out.append(int(a))
    return tuple(out)


def scalar_tensor(value, dt: dtypes.dtype, device=CPU) -> Tensor:
    """A 0-d constant tensor holding a Python scalar."""
    if device is CPU:
        return Tensor._make(np.array(value, dtype=dt.np), device=device)
    key = (device, type(value), value, dt)
    arr = _DEVICE_CONSTS.get(key)
    if arr is None:  # one host-to-device copy per distinct constant, not one per op
        if len(_DEVICE_CONSTS) > 4096:
            _DEVICE_CONSTS.clear()
        arr = _DEVICE_CONSTS[key] = device.kernels.from_host(np.array(value, dtype=dt.np))
    return Tensor._make(arr, device=device)


_DEVICE_CONSTS: dict = {}


def is_scalar(v) -> bool:
    return isinstance(v, (int, float, bool, np.integer, np.floating, np.bool_))


def fmt_shape(s) -> str:
    return str(list(s))


def on_device(k, a):
    """A host index/value array moved to the kernels' device (explicitly; identity on the
    CPU). Device arrays pass through."""
    return k.from_host(a) if isinstance(a, np.ndarray) else a
