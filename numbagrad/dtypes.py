"""Tensor dtypes (``numbagrad.float32`` ...) and PyTorch's type-promotion rules."""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type; wraps a numpy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_rank")

    def __init__(self, name: str, np_dtype, rank: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize
        self._rank = rank  # 0 bool, 1 integer, 2 float

    def __repr__(self) -> str:
        return f"numbagrad.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float32, float64)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_NAMES.update({"float": float32, "double": float64, "long": int64, "int": int32,
               "bool_": bool_})

_default_float = float32


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d) -> None:
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_numpy_dtype(npd) -> dtype:
    try:
        return _FROM_NP[np.dtype(npd)]
    except KeyError:
        names = ", ".join(d.name for d in ALL)
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(npd)}. "
                        f"The only supported types are: {names}.") from None


def as_dtype(d) -> dtype:
    """Accept a numbagrad dtype, a numpy dtype, a name, or ``float``/``int``/``bool``."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d]
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"{d!r} is not a numbagrad dtype") from None


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to without losing their category."""
    if a is b:
        return a
    if a.is_floating_point or b.is_floating_point:
        if a.is_floating_point and b.is_floating_point:
            return a if a.itemsize >= b.itemsize else b
        return a if a.is_floating_point else b
    return _FROM_NP[np.promote_types(a.np, b.np)]


def scalar_rank(v) -> int:
    if isinstance(v, (bool, np.bool_)):
        return 0
    if isinstance(v, (int, np.integer)):
        return 1
    if isinstance(v, (float, np.floating)):
        return 2
    raise TypeError(f"unsupported scalar type {type(v).__name__}")


def default_for_rank(rank: int) -> dtype:
    return (bool_, int64, _default_float)[rank]


def result_type(*operands) -> dtype:
    """PyTorch's promotion: tensors with dimensions, then 0-dim tensors, then Python scalars.

    A lower-priority group only changes the result when its category (bool < int < float)
    is higher: ``float32 tensor * 2.5`` stays float32, ``int64 tensor * 2.5`` is float32
    (the default float dtype), ``float32 tensor + float64 0-dim tensor`` stays float32.
    """
    dim_t = zero_t = None
    srank = -1
    for o in operands:
        d = getattr(o, "dtype", None)
        if isinstance(d, dtype):
            if o.ndim:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
        else:
            srank = max(srank, scalar_rank(o))
    res = dim_t
    if zero_t is not None and (res is None or zero_t._rank > res._rank):
        res = zero_t if res is None else promote_types(res, zero_t)
        if dim_t is not None and zero_t._rank > dim_t._rank:
            res = zero_t
    if srank >= 0 and (res is None or srank > res._rank):
        res = default_for_rank(srank)
    return res


def can_cast(src: dtype, dst: dtype) -> bool:
    """Whether an in-place op may store a ``src`` result into a ``dst`` tensor."""
    return src._rank <= dst._rank
