"""Shape and stride arithmetic shared by the launchers (plain Python, no Numba).

The strided kernels address every operand as a flat 1-D buffer plus one element stride
per dimension. These helpers compute broadcast shapes, per-operand strides (0 along a
broadcast dimension) and merge adjacent dimensions that stay contiguous for every operand,
so a ``(64, 128) + (128,)`` add runs as a 2-D loop and a transposed copy as a 2-D loop,
whatever the original rank.
"""
from __future__ import annotations

import numpy as np


def broadcast_shapes(a: tuple, b: tuple) -> tuple | None:
    """numpy/PyTorch broadcasting of two shapes, or None when they do not broadcast."""
    if a == b:
        return a
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def c_strides(shape: tuple, itemsize: int = 1) -> tuple:
    """Strides of a C-contiguous array of ``shape`` (in bytes for ``itemsize`` bytes per
    element; in elements with the default 1). Size-0 dimensions count as 1."""
    st = []
    acc = itemsize
    for n in reversed(shape):
        st.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(st))


def element_strides(arr) -> tuple:
    """Strides of ``arr`` in elements rather than bytes."""
    item = arr.itemsize
    return tuple(s // item for s in arr.strides)


def broadcast_strides(shape: tuple, strides: tuple, out_shape: tuple) -> list:
    """Strides of an operand of ``shape``/``strides`` read as if broadcast to ``out_shape``."""
    lead = len(out_shape) - len(shape)
    res = [0] * lead
    for d, n in enumerate(shape):
        res.append(0 if (n == 1 and out_shape[lead + d] != 1) else strides[d])
    return res


def coalesce(shape: tuple, strides_list: list) -> tuple:
    """Merge adjacent dimensions that are contiguous for every operand; drop size-1 dims.

    Returns ``(shape, [strides, ...])`` with at least one dimension.
    """
    dims = [d for d in range(len(shape)) if shape[d] != 1]
    if not dims:
        return (1,), [[0] for _ in strides_list]
    new_shape = [shape[dims[0]]]
    new_strides = [[s[dims[0]]] for s in strides_list]
    for d in dims[1:]:
        n = shape[d]
        if all(ns[-1] == s[d] * n for ns, s in zip(new_strides, strides_list)):
            new_shape[-1] *= n
            for ns, s in zip(new_strides, strides_list):
                ns[-1] = s[d]
        else:
            new_shape.append(n)
            for ns, s in zip(new_strides, strides_list):
                ns.append(s[d])
    return tuple(new_shape), new_strides


def as_strided(arr, shape, strides):
    """A view of ``arr`` with ``shape`` and byte ``strides`` (numpy or device array)."""
    if isinstance(arr, np.ndarray):
        return np.lib.stride_tricks.as_strided(arr, shape=shape, strides=strides)
    return arr.as_strided(shape, strides)


def flat_buffer(arr: np.ndarray) -> np.ndarray:
    """A 1-D view of the memory an array addresses, starting at its first element.

    A C-contiguous array is simply raveled. For a strided view the buffer spans from the
    first element to the last one the view can reach; strides must be non-negative (the
    tensor layer never makes negative strides).
    """
    if not isinstance(arr, np.ndarray):
        return arr.flat_buffer()
    if arr.flags.c_contiguous:
        return arr.reshape(-1)
    if arr.size == 0:
        return np.empty(0, arr.dtype)
    item = arr.itemsize
    span = 1
    for n, s in zip(arr.shape, arr.strides):
        if s < 0:
            raise ValueError("strided kernels need non-negative strides")
        span += (n - 1) * (s // item)
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root.flags.c_contiguous or root.flags.f_contiguous:
        offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return np.ndarray((span,), arr.dtype, buffer=root, offset=offset, strides=(item,))
    return np.lib.stride_tricks.as_strided(arr, shape=(span,), strides=(item,))


def reduce_view(shape: tuple, dims: tuple) -> list:
    """Split a C-contiguous shape into (outer, reduced, inner) passes for reducing ``dims``.

    Returns a list of ``(outer, r, inner)`` triples, last reduced group first; applying
    them in order to a contiguous buffer reduces all of ``dims``.
    """
    dims = sorted(set(dims))
    groups = []  # runs of adjacent reduced dims
    for d in dims:
        if groups and groups[-1][1] == d:
            groups[-1][1] = d + 1
        else:
            groups.append([d, d + 1])
    shape = list(shape)
    passes = []
    for lo, hi in reversed(groups):
        outer = int(np.prod(shape[:lo], dtype=np.int64))
        r = int(np.prod(shape[lo:hi], dtype=np.int64))
        inner = int(np.prod(shape[hi:], dtype=np.int64))
        passes.append((outer, r, inner))
        shape[lo:hi] = [1] * (hi - lo)
    return passes
