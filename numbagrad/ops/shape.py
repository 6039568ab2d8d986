"""Shape ops, indexing, joining and splitting, and in-place writes.

View ops (``view``/``reshape`` when possible, ``permute``, ``transpose``, ``expand``,
``squeeze``, ``unsqueeze``, basic indexing, ``narrow``) return tensors that share memory
with their input, as in PyTorch; their backward maps the gradient back through the
inverse view. Advanced indexing (integer tensors, boolean masks) is turned into the flat
positions it selects, which the ``gather`` kernel reads and the ``scatter_add`` kernel
accumulates into for the gradient.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..kernels import layout
from ..tensor import Tensor
from ._util import fmt_shape, is_scalar, norm_dim, on_device, scalar_tensor, shape_arg
from .pointwise import _operands, cast

# ---------------------------------------------------------------- views


def _try_view(arr, shape):
    if not isinstance(arr, np.ndarray):
        return arr.try_view(shape)
    v = arr.view()
    try:
        v.shape = shape
    except AttributeError:
        return None
    return v


def _infer_shape(shape, numel, op):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension {min(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{shape}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"{op}: shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


class View(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        v = _try_view(x._data, shape)
        if v is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return v

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape), None


def view(x: Tensor, *shape) -> Tensor:
    """Same memory, new shape; fails when the layout does not allow it (use ``reshape``)."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(shape_arg(shape, "view"), x.numel(), "view")
    if shape == x._data.shape:
        return View.apply(x, shape)
    return View.apply(x, shape)


def reshape(x: Tensor, *shape) -> Tensor:
    """A view when the layout allows, else a contiguous copy with the new shape."""
    shape = _infer_shape(shape_arg(shape, "reshape"), x.numel(), "reshape")
    if shape == x._data.shape:
        return x
    if _try_view(x._data, shape) is None:
        x = contiguous(x)
    return View.apply(x, shape)


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    s = norm_dim(start_dim, x.ndim, "flatten")
    e = norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = x.shape
    n = 1
    for d in range(s, e + 1):
        n *= shp[d]
    return reshape(x, tuple(shp[:s]) + (n,) + tuple(shp[e + 1:]))


def squeeze(x: Tensor, dim=None) -> Tensor:
    shp = x.shape
    if dim is None:
        new = tuple(n for n in shp if n != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {norm_dim(d, x.ndim, "squeeze") for d in dims} if x.ndim else set()
        new = tuple(n for i, n in enumerate(shp) if not (i in dims and n == 1))
    return View.apply(x, new) if new != tuple(shp) else View.apply(x, tuple(shp))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    shp = tuple(x.shape)
    return View.apply(x, shp[:d] + (1,) + shp[d:])


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._data.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return Permute.apply(g, tuple(inv)), None


def permute(x: Tensor, *dims) -> Tensor:
    dims = shape_arg(dims, "permute") if dims else ()
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
                           .replace("(sparse_coo)", ""))
    nd = tuple(norm_dim(d, x.ndim, "permute") for d in dims) if x.ndim else ()
    if len(set(nd)) != len(nd):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, nd)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    if x.ndim == 0:
        return x
    d0 = norm_dim(dim0, x.ndim, "transpose")
    d1 = norm_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))


swapaxes = transpose


def t(x: Tensor) -> Tensor:
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        arr = x._data
        st = layout.broadcast_strides(arr.shape, arr.strides, shape)
        return layout.as_strided(arr, shape, st)

    @staticmethod
    def backward(ctx, g):
        from ..autograd.engine import sum_to

        return sum_to(g, ctx.in_shape, "ExpandBackward0"), None


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying (``-1`` keeps a dimension)."""
    sizes = shape_arg(sizes, "expand")
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    shp = tuple(x.shape)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't allowed "
                                   "in a leading, non-existing dimension")
            out.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({cur}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(shp)}")
        out.append(s)
    out = tuple(out)
    if out == shp:
        return x
    return Expand.apply(x, out)


def expand_as(x, other):
    return expand(x, other.shape)


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        k = x._device.kernels
        return k.copy(k.empty_like(x._data), x._data)

    @staticmethod
    def backward(ctx, g):
        return g


class Clone(Contiguous):
    pass


def contiguous(x: Tensor) -> Tensor:
    return x if x._data.flags.c_contiguous else Contiguous.apply(x)


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; the gradient flows straight through."""
    return Clone.apply(x)


# ---------------------------------------------------------------- indexing


class BasicIndex(Function):
    """``x[ints, slices, None, ...]``: a view; the gradient is placed back into zeros."""

    is_view = True

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx = idx
        ctx.in_shape = x._data.shape
        return x._data[idx]

    @staticmethod
    def backward(ctx, g):
        return BasicIndexBackward.apply(g, ctx.idx, ctx.in_shape), None


class BasicIndexBackward(Function):
    @staticmethod
    def forward(ctx, g, idx, shape):
        ctx.idx = idx
        k = g._device.kernels
        out = k.zeros(shape, g._data.dtype)
        k.copy(out[idx], g._data)
        return out

    @staticmethod
    def backward(ctx, gg):
        return BasicIndex.apply(gg, ctx.idx), None, None


class Gather(Function):
    """``x.ravel()[pos]`` for precomputed flat positions ``pos`` (any shape)."""

    @staticmethod
    def forward(ctx, x, pos):
        k = x._device.kernels
        ctx.pos = pos = on_device(k, pos)
        ctx.in_shape = x._data.shape
        return k.gather(k.contiguous(x._data), pos)

    @staticmethod
    def backward(ctx, g):
        return ScatterAdd.apply(g, ctx.pos, ctx.in_shape), None


class ScatterAdd(Function):
    """Zeros of ``shape`` with ``g`` added at flat positions ``pos`` (repeats accumulate)."""

    @staticmethod
    def forward(ctx, g, pos, shape):
        k = g._device.kernels
        ctx.pos = pos = on_device(k, pos)
        out = k.zeros(shape, g._data.dtype)
        k.scatter_add(k.contiguous(g._data), pos, out)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Gather.apply(gg, ctx.pos), None, None


_BASIC = (int, slice, type(None), type(Ellipsis), np.integer)


def _normalize_index(x, idx):
    """Return (index tuple for numpy, is_basic). Checks types and slice steps."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    basic = True
    for i in idx:
        if isinstance(i, bool):
            i = np.bool_(i)
            basic = False
        elif isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
        elif isinstance(i, Tensor):
            if i.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 f"tensors (got {i.dtype.name})")
            if i._device is not x._device:
                raise RuntimeError(f"indices should be either on cpu or on the same device as "
                                   f"the indexed tensor ({x.device})")
            i = i._data if i._device.type == "cpu" else i._host()
            basic = False
        elif isinstance(i, (list, np.ndarray)):
            i = np.asarray(i)
            if i.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            basic = False
        elif not isinstance(i, _BASIC):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(i).__name__})")
        out.append(i)
    if basic and not any(i is Ellipsis for i in out):
        out.append(Ellipsis)  # x[0, 1] on a 2-D array is then a 0-d view, not a scalar copy
    return tuple(out), basic


def _reword(e: IndexError) -> IndexError:
    msg = str(e)
    if msg.startswith("too many indices"):
        import re

        m = re.search(r"array is (\d+)-dimensional", msg)
        if m:
            return IndexError(f"too many indices for tensor of dimension {m.group(1)}")
    return IndexError(msg.replace("axis", "dimension"))


def _split_int_index(nidx):
    """PyTorch applies integer indices before advanced ones (numpy broadcasts them
    together, which moves dimensions differently). Split ``x[i, :, [0, 3]]`` into a basic
    step ``x[i, :, :]`` and an advanced step ``[:, [0, 3]]``."""
    first, second = [], []
    for i in nidx:
        if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            first.append(i)
        elif i is None or i is Ellipsis:
            first.append(i)
            second.append(slice(None) if i is None else i)
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim > 0:
            first.extend([slice(None)] * i.ndim)
            second.append(i)
        else:
            first.append(slice(None))
            second.append(i)
    return tuple(first), tuple(second)


def getitem(x: Tensor, idx) -> Tensor:
    if x.ndim == 0 and idx is not None and idx is not Ellipsis and not (
            isinstance(idx, tuple) and all(i is None or i is Ellipsis for i in idx)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a "
                         "0-dim tensor to a number")
    nidx, basic = _normalize_index(x, idx)
    if basic:
        try:
            np.empty(x._data.shape, np.bool_)[nidx]  # shape and range check only
        except IndexError as e:
            raise _reword(e) from None
        return BasicIndex.apply(x, nidx)
    if any(isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))
           for i in nidx):
        first, second = _split_int_index(nidx)
        try:
            np.empty(x._data.shape, np.bool_)[first]
        except IndexError as e:
            raise _reword(e) from None
        x = BasicIndex.apply(x, first)
        nidx = second
    try:
        pos = _select_offsets(x._data.shape, layout.c_strides(x._data.shape), nidx)
    except IndexError as e:
        raise _reword(e) from None
    return Gather.apply(x, pos)


def _select_offsets(shape, strides, nidx):
    """Element offsets ``sum_d i_d * strides[d]`` of the elements ``nidx`` selects.

    Each dimension's coordinate is a zero-stride view of ``arange(n_d) * stride_d`` over
    the whole shape; indexing those views costs the size of the result, not of the
    tensor (numpy also range-checks the indices here)."""
    if not shape:
        return np.require(np.zeros((), np.int64)[nidx], requirements="C")
    pos = None
    for d, n in enumerate(shape):
        base = np.arange(n, dtype=np.int64) * strides[d]
        st = [0] * len(shape)
        st[d] = base.itemsize
        sel = np.lib.stride_tricks.as_strided(base, shape=shape, strides=st,
                                              writeable=False)[nidx]
        pos = sel if pos is None else pos + sel
    return np.require(pos, requirements="C")  # keeps a 0-d result 0-d


def _check_inplace(x: Tensor, op: str):
    if _state.enabled and x._requires_grad:
        if x.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        b = x._base
        if b is not None and b._requires_grad and b.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being "
                               "used in an in-place operation.")
    st = x._data.strides
    if any(s == 0 and n > 1 for s, n in zip(st, x._data.shape)):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the "
                           "written-to tensor refers to a single memory location. Please "
                           "clone() the tensor before performing the operation.")


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value`` for a tensor outside the graph (no grad needed)."""
    _check_inplace(x, "setitem")
    if _state.enabled and (x._requires_grad or (isinstance(value, Tensor)
                                                and value._requires_grad)):
        raise RuntimeError(
            "setitem: assigning into a tensor that takes part in autograd is not supported; "
            "build the new value out of place (e.g. with where() or cat()), or assign under "
            "numbagrad.no_grad()")
    k = x._device.kernels
    if isinstance(value, Tensor):
        if value._device is not x._device:
            raise RuntimeError(f"setitem: value is on {value.device} but the tensor is on "
                               f"{x.device}")
        v = value._data
    elif is_scalar(value):
        v = on_device(k, np.array(value, dtype=x._data.dtype))
    else:
        v = on_device(k, np.asarray(value))
    if v.dtype != x._data.dtype:
        v = k.cast(v, x._data.dtype)
    nidx, basic = _normalize_index(x, idx)
    try:
        if basic:
            target = x._data[nidx]
            if layout.broadcast_shapes(v.shape, target.shape) != target.shape:
                raise RuntimeError(f"setitem: shape mismatch: value tensor of shape "
                                   f"{fmt_shape(v.shape)} cannot be broadcast to indexing "
                                   f"result of shape {fmt_shape(target.shape)}")
            k.copy(target, v)
        else:
            arr = x._data
            offs = _select_offsets(arr.shape, [st // arr.itemsize for st in arr.strides],
                                   nidx)
            if layout.broadcast_shapes(v.shape, offs.shape) != offs.shape:
                raise RuntimeError(f"setitem: shape mismatch: value tensor of shape "
                                   f"{fmt_shape(v.shape)} cannot be broadcast to indexing "
                                   f"result of shape {fmt_shape(offs.shape)}")
            src = k.copy(k.empty(offs.shape, v.dtype), v)
            k.scatter_set(src, on_device(k, offs), layout.flat_buffer(x._data))
    except IndexError as e:
        raise _reword(e) from None
    x._version[0] += 1


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = norm_dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    if start < 0:
        start += n
    if start < 0 or length < 0 or start + length > n:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                         f"({n}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return BasicIndex.apply(x, idx)


# ---------------------------------------------------------------- join / split


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x._data.shape[dim] for x in xs]
        shape = list(xs[0]._data.shape)
        shape[dim] = sum(ctx.sizes)
        k = xs[0]._device.kernels
        out = k.empty(tuple(shape), xs[0]._data.dtype)
        off = 0
        for x, n in zip(xs, ctx.sizes):
            k.copy(out[(slice(None),) * dim + (slice(off, off + n),)], x._data)
            off += n
        return out

    @staticmethod
    def backward(ctx, g):
        grads = [None]
        off = 0
        for n, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(narrow(g, ctx.dim, off, n) if need else None)
            off += n
        return tuple(grads)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise TypeError(f"cat(): expected a sequence of Tensors, element {i} is "
                            f"{type(t_).__name__}")
    # PyTorch skips legacy empty 1-D tensors of shape (0,)
    tensors = [x for x in tensors if not (x.ndim == 1 and x.numel() == 0)] or tensors[:1]
    ref = tensors[0]
    if ref.ndim == 0:
        raise RuntimeError("cat(): zero-dimensional tensor (at position 0) cannot be "
                           "concatenated")
    d = norm_dim(dim, ref.ndim, "cat")
    dt = tensors[0].dtype
    for x in tensors[1:]:
        dt = dtypes.promote_types(dt, x.dtype)
    for i, x in enumerate(tensors):
        if x.ndim != ref.ndim:
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got "
                               f"{ref.ndim} and {x.ndim}")
        for j in range(ref.ndim):
            if j != d and x.shape[j] != ref.shape[j]:
                raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}."
                                   f" Expected size {ref.shape[j]} but got size {x.shape[j]} "
                                   f"for tensor number {i} in the list.")
    tensors = [cast(x, dt) for x in tensors]
    return Cat.apply(d, *tensors)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(x.shape)} at "
                               f"entry {i}")
    d = norm_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(x, d) for x in tensors], d)


def split(x: Tensor, split_size_or_sections, dim: int = 0):
    """Views of consecutive pieces along ``dim`` (an int size, or a list of sizes)."""
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got split_sizes="
                               f"{sizes}")
    else:
        s = int(split_size_or_sections)
        if s <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if n else [0]
    out = []
    off = 0
    for s in sizes:
        out.append(narrow(x, d, off, s))
        off += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0):
    """Split into at most ``chunks`` pieces of size ``ceil(n / chunks)``."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = norm_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    size = max(-(-n // chunks), 1)
    return split(x, size, d)


def unbind(x: Tensor, dim: int = 0):
    d = norm_dim(dim, x.ndim, "unbind")
    return tuple(BasicIndex.apply(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))


# ---------------------------------------------------------------- in-place ops


class Overwrite(Function):
    """``x`` replaced by ``src`` broadcast to its shape: no gradient to ``x``."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_shape = src._data.shape
        k = x._device.kernels
        return k.copy(k.empty_like(x._data), src._data)

    @staticmethod
    def backward(ctx, g):
        from ..autograd.engine import sum_to

        return None, sum_to(g, ctx.src_shape, "OverwriteBackward0")


def _dtype_name(dt):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
            "bool": "Bool", "int16": "Short", "int8": "Char", "uint8": "Byte"}[dt.name]


def _commit(x: Tensor, r: Tensor, op: str) -> Tensor:
    """Write the out-of-place result ``r`` into ``x``'s memory and take over its history."""
    if r.shape != x.shape:
        raise RuntimeError(f"{op}: output with shape {list(x.shape)} doesn't match the broadcast "
                           f"shape {list(r.shape)}")
    if r.dtype is not x.dtype:
        if not dtypes.can_cast(r.dtype, x.dtype):
            raise RuntimeError(f"{op}: result type {_dtype_name(r.dtype)} can't be cast to the "
                               f"desired output type {_dtype_name(x.dtype)}")
        r = cast(r, x.dtype)
    x._device.kernels.copy(x._data, r._data)
    x._version[0] += 1
    if r._requires_grad:
        if x._base is not None:
            raise RuntimeError(f"{op}: an in-place operation on a view of a tensor that requires "
                               "grad is not supported; use the out-of-place op instead")
        x.grad_fn = r.grad_fn
        x._requires_grad = True
    return x


def inplace_binary(x: Tensor, name: str, other) -> Tensor:
    """``x.add_(other)`` and friends, with PyTorch's checks."""
    from . import pointwise as P

    op = name + "_"
    _check_inplace(x, op)
    tracking = _state.enabled and (x._requires_grad or (isinstance(other, Tensor)
                                                        and other._requires_grad))
    if tracking:
        if x._base is not None:
            raise RuntimeError(f"{op}: an in-place operation on a view of a tensor that "
                               "requires grad is not supported; use the out-of-place op instead")
        alias = Tensor._make(x._data, x._requires_grad, x.grad_fn, x._version, None, x._device)
        if name in ("mul", "div") and isinstance(other, Tensor) and other._requires_grad:
            alias = clone(alias)  # the backward needs the old value of x
        return _commit(x, getattr(P, name)(alias, other), op)
    a, b = _operands(x, other, op)
    if a.dtype is not x.dtype and not dtypes.can_cast(a.dtype, x.dtype):
        raise RuntimeError(f"{op}: result type {_dtype_name(a.dtype)} can't be cast to the "
                           f"desired output type {_dtype_name(x.dtype)}")
    if name == "div" and not a.dtype.is_floating_point:
        raise RuntimeError(f"{op}: result type Float can't be cast to the desired output type "
                           f"{_dtype_name(x.dtype)}")
    shape = layout.broadcast_shapes(a._data.shape, b._data.shape)
    if shape != x._data.shape:
        raise RuntimeError(f"{op}: output with shape {list(x.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    k = x._device.kernels
    if a._data is x._data and x._data.flags.c_contiguous:
        getattr(k, name)(a._data, b._data, out=x._data)
    else:
        k.copy(x._data, getattr(k, name)(a._data, b._data))
    x._version[0] += 1
    return x


def overwrite_(x: Tensor, src, check_leaf: bool = True) -> Tensor:
    """``fill_``/``zero_``/``copy_``: set ``x`` to ``src`` (a number or a Tensor)."""
    _check_inplace(x, "copy_" if isinstance(src, Tensor) else "fill_")
    if not isinstance(src, Tensor):
        if not is_scalar(src):
            raise TypeError(f"fill_: expected a number or a Tensor, got {type(src).__name__}")
        src = scalar_tensor(src, x.dtype, x._device)
    elif src._device is not x._device:
        src = src.to(x.device)
    if layout.broadcast_shapes(src._data.shape, x._data.shape) != x._data.shape:
        raise RuntimeError(f"copy_: the size of the source {list(src.shape)} does not broadcast "
                           f"to the destination {list(x.shape)}")
    if _state.enabled and (x._requires_grad or src._requires_grad):
        if x._base is not None:
            raise RuntimeError("copy_: an in-place operation on a view of a tensor that "
                               "requires grad is not supported")
        return _commit(x, Overwrite.apply(x, cast(src, x.dtype)), "copy_")
    k = x._device.kernels
    if src._data.size == 1 and x._data.flags.c_contiguous:
        k.fill(x._data, src._data.reshape(-1)[0] if src._device.type == "cpu"
               else src.item())
    else:
        k.copy(x._data, src._data)
    x._version[0] += 1
    return x


def random_fill_(x: Tensor, kind: str, a, b) -> Tensor:
    _check_inplace(x, kind + "_")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{kind}_: expected a floating point tensor, got {x.dtype}")
    k = x._device.kernels
    tmp = k.empty(x._data.shape, x._data.dtype)
    (k.uniform_ if kind == "uniform" else k.normal_)(tmp, a, b)
    k.copy(x._data, tmp)
    x._version[0] += 1
    return x


class ToDevice(Function):
    """A copy on another device; the gradient goes back to the source device."""

    moves_device = True

    @staticmethod
    def forward(ctx, x, dev):
        ctx.src = x._device
        ctx.out_device = dev
        host = x._device.kernels.to_host(x._data)
        return dev.kernels.from_host(host)

    @staticmethod
    def backward(ctx, g):
        return ToDevice.apply(g, ctx.src), None


def to_device(x: Tensor, dev) -> Tensor:
    """``x`` copied to ``dev`` (differentiable, like PyTorch's ``Tensor.to(device)``)."""
    return ToDevice.apply(x, dev)


# ---------------------------------------------------------------- gather-style ops


def _positions_along(shape, dim, index):
    """Flat C-order positions in ``shape`` of ``x[..., index, ...]`` taken along ``dim``."""
    nd = len(shape)
    strides = [1] * nd
    for d in range(nd - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    pos = index.astype(np.int64) * strides[dim]
    for d in range(nd):
        if d != dim:
            sh = [1] * nd
            sh[d] = index.shape[d]
            pos = pos + (np.arange(index.shape[d], dtype=np.int64) * strides[d]).reshape(sh)
    return np.require(pos, requirements="C")


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for ``dim=1`` (and likewise for others)."""
    if not isinstance(index, Tensor) or index.dtype.is_floating_point or \
            index.dtype is dtypes.bool_:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    d = norm_dim(dim, x.ndim, "gather")
    if index.ndim != x.ndim:
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as "
                           f"input tensor ({index.ndim} vs {x.ndim})")
    for j in range(x.ndim):
        if j != d and index.shape[j] > x.shape[j]:
            raise RuntimeError(f"gather(): Size does not match at dimension {j} expected index "
                               f"{list(index.shape)} to be smaller than self {list(x.shape)} "
                               f"apart from dimension {d}")
    idx = index._host() if index._device.type != "cpu" else index._data
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise IndexError(f"gather(): index {bad} is out of bounds for dimension {d} with size "
                         f"{x.shape[d]}")
    return Gather.apply(x, _positions_along(tuple(x.shape), d, idx))


def take_along_dim(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """``gather`` with indices broadcast against ``x`` (indices already in range)."""
    return gather(x, dim, indices)


def flip(x: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    ds = {norm_dim(d, x.ndim, "flip") for d in dims} if x.ndim else set()
    pos = np.arange(x.numel(), dtype=np.int64).reshape(x._data.shape)
    pos = pos[tuple(slice(None, None, -1) if i in ds else slice(None) for i in range(x.ndim))]
    return Gather.apply(x, np.require(pos, requirements="C"))


def _tri(x, diagonal, upper, name):
    from ..creation import arange
    from .pointwise import ge, le, masked_fill, sub

    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    r = arange(x.shape[-2], device=x.device).unsqueeze(1)
    c = arange(x.shape[-1], device=x.device).unsqueeze(0)
    keep = (ge if upper else le)(sub(c, r), diagonal)
    return masked_fill(x, keep.logical_not(), 0)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle (elements with ``col - row <= diagonal``); the rest zeros."""
    return _tri(x, diagonal, False, "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """Upper triangle (elements with ``col - row >= diagonal``); the rest zeros."""
    return _tri(x, diagonal, True, "triu")


def nonzero(x: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an ``(n, ndim)`` int64 tensor (or one per dim)."""
    from ..creation import arange
    from .pointwise import floor_divide, ne, remainder

    flat = arange(x.numel(), device=x.device)[ne(reshape(x, -1), 0)]
    coords = []
    stride = 1
    for n in reversed(x.shape):
        coords.append(remainder(floor_divide(flat, stride), n))
        stride *= n
    coords.reverse()
    if as_tuple:
        return tuple(coords) if coords else (flat,)
    if not coords:
        return flat.reshape(-1, 0)
    return stack(coords, 1)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``a[:, None] * b[None, :]``."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got {a.ndim}-D and {b.ndim}-D")
    from .pointwise import mul

    return mul(unsqueeze(a, 1), unsqueeze(b, 0))
