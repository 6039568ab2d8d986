"""The Tensor: an n-dimensional array on a device, plus what autograd needs.

A Tensor holds

* ``_data``: a numpy array (CPU). View ops (``view``, ``permute``, basic indexing, ...)
  return tensors whose arrays share memory with their base, as in PyTorch;
* ``requires_grad``, ``grad`` and ``grad_fn`` (the node that made it; None for leaves);
* ``_version``: a one-element list shared by a tensor and all its views, bumped by every
  in-place write, which lets backward notice a saved value that was overwritten.

Most methods forward to the functions in ``numbagrad.ops``; both forms exist, as in
PyTorch (``x.exp()`` and ``numbagrad.exp(x)``).
"""
from __future__ import annotations

import weakref

import numpy as np

from . import dtypes
from .autograd import function as _function
from .autograd.function import AccumulateGrad
from .backend import CPU, as_device


class Size(tuple):
    """The shape of a tensor: a tuple that prints like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"numbagrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_version", "_base",
                 "_accum", "_device", "__weakref__")
    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators

    def __new__(cls, data=(), *, dtype=None, device=None, requires_grad=False):
        """``Tensor(data)``: like ``numbagrad.tensor`` but float32 by default."""
        from .creation import tensor

        return tensor(data, dtype=dtype or dtypes.get_default_dtype(), device=device,
                      requires_grad=requires_grad)

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, version=None, base=None, device=CPU):
        t = object.__new__(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._version = version if version is not None else [0]
        t._base = base
        t._accum = None
        t._device = device
        return t

    # ---- attributes ----

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_ops.norm_dim(dim, self.ndim, "size")]

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes._FROM_NP[self._data.dtype]

    @property
    def device(self):
        return self._device

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_ops.norm_dim(dim, self.ndim, "stride")]

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               f"gradients (got {self.dtype})")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, g) -> None:
        if g is not None:
            if not isinstance(g, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(g).__name__}")
            if g.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(g.shape)} vs {list(self.shape)}")
            if g.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: {g.dtype} vs "
                                   f"{self.dtype}")
        self._grad = g

    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside the graph (``requires_grad=False``)."""
        return Tensor._make(self._data, False, None, self._version, self._base, self._device)

    @data.setter
    def data(self, other: Tensor) -> None:
        if not isinstance(other, Tensor):
            raise TypeError("data must be set to a Tensor")
        self._data = other._data
        self._device = other._device
        self._version = other._version

    def _accumulator(self) -> AccumulateGrad:
        acc = self._accum
        if acc is None:
            acc = self._accum = AccumulateGrad(self)
        return acc

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time ``backward`` has finished writing this leaf's
        ``.grad`` (once per backward sweep: the engine sums every contribution first), as
        PyTorch's method of that name. Returns a handle whose ``remove()`` unregisters it.
        Data-parallel training uses it to start a gradient's all-reduce while the rest of
        the backward still runs."""
        from collections import OrderedDict

        from .nn.module import RemovableHandle

        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        acc = self._accumulator()
        if acc._post_hooks is None:
            acc._post_hooks = OrderedDict()
        handle = RemovableHandle(acc._post_hooks)
        acc._post_hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        r = getattr(self.grad_fn, "_retained", None)
        return r is not None and r() is self

    # ---- conversion ----

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._host().reshape(-1)[0].item()

    def tolist(self):
        return self._host().tolist()

    def _host(self) -> np.ndarray:
        """The data as a numpy array: the array itself on the CPU, a copy from a GPU."""
        return self._device.kernels.to_host(self._data)

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._device.type != "cpu":
            raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule sharing this tensor's memory (``numbagrad.from_dlpack``)."""
        if self._requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use "
                               "tensor.detach()")
        from .dlpack import to_dlpack

        return to_dlpack(self)

    def __dlpack_device__(self) -> tuple:
        return (2, self._device.index or 0) if self._device.type == "cuda" else (1, 0)

    @property
    def __cuda_array_interface__(self) -> dict:
        if self._device.type != "cuda":
            raise AttributeError(f"Can't get __cuda_array_interface__ on non-CUDA tensor "
                                 f"(device {self._device})")
        if self._requires_grad:
            raise RuntimeError("Can't get __cuda_array_interface__ on a tensor that requires "
                               "grad. Use tensor.detach() first.")
        return self._data.__cuda_array_interface__

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def detach(self) -> Tensor:
        """A tensor sharing this memory, cut from the graph."""
        return Tensor._make(self._data, False, None, self._version, self._base, self._device)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``."""
        dt = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dt, dev = a.dtype, a.device
            elif isinstance(a, dtypes.dtype) or a in (float, int, bool) or (
                    isinstance(a, str) and a in dtypes._NAMES):
                dt = a
            else:
                dev = a
        out = self
        if dev is not None:
            dev = as_device(dev)
            if dev is not self._device:
                out = _ops.to_device(out, dev)
        if dt is not None:
            dt = dtypes.as_dtype(dt)
            if dt is not out.dtype:
                out = _ops.cast(out, dt)
        if copy and out is self:
            out = self.clone()
        return out

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to(device or "cuda")

    # ---- printing ----

    def __repr__(self) -> str:
        from ._format import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    # ---- Python protocol ----

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is "
                               "ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        if self._data.size == 1 and self._data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        k = self._device.kernels
        new = Tensor._make(k.copy(k.empty_like(self._data), self._data),
                           self._requires_grad, device=self._device)
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        if self.grad_fn is not None:
            raise RuntimeError("pickling a tensor that is part of a graph is not supported; "
                               "pickle tensor.detach() instead")
        return (_rebuild, (np.array(self._host()), self._requires_grad, str(self._device)))

    # ---- new tensors with this tensor's dtype and device ----

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self._device,
                      requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from .creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=device or self._device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from .creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=device or self._device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from .creation import empty

        return empty(*size, dtype=dtype or self.dtype, device=device or self._device,
                     requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self._device,
                    requires_grad=requires_grad)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf of the graph."""
        from . import autograd

        if inputs is not None:
            grads = autograd.grad(self, inputs, gradient, retain_graph, create_graph,
                                  allow_unused=True)
            for t, g in zip(inputs if isinstance(inputs, (list, tuple)) else (inputs,), grads):
                if g is not None:
                    t._grad = g if t._grad is None else t._grad + g
            return
        autograd.backward(self, gradient, retain_graph, create_graph)

    # ---- operators (broadcasting like numpy) ----

    def __add__(self, o):
        return _ops.add(self, o)

    def __radd__(self, o):
        return _ops.add(o, self)

    def __sub__(self, o):
        return _ops.sub(self, o)

    def __rsub__(self, o):
        return _ops.sub(o, self)

    def __mul__(self, o):
        return _ops.mul(self, o)

    def __rmul__(self, o):
        return _ops.mul(o, self)

    def __truediv__(self, o):
        return _ops.div(self, o)

    def __rtruediv__(self, o):
        return _ops.div(o, self)

    def __pow__(self, o):
        return _ops.pow(self, o)

    def __rpow__(self, o):
        return _ops.pow(o, self)

    def __floordiv__(self, o):
        return _ops.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _ops.floor_divide(o, self)

    def __mod__(self, o):
        return _ops.remainder(self, o)

    def __rmod__(self, o):
        return _ops.remainder(o, self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __eq__(self, o):
        return _ops.eq(self, o)

    def __ne__(self, o):
        return _ops.ne(self, o)

    def __lt__(self, o):
        return _ops.lt(self, o)

    def __le__(self, o):
        return _ops.le(self, o)

    def __gt__(self, o):
        return _ops.gt(self, o)

    def __ge__(self, o):
        return _ops.ge(self, o)

    def __and__(self, o):
        return _ops.bitwise_and(self, o)

    __rand__ = __and__

    def __or__(self, o):
        return _ops.bitwise_or(self, o)

    __ror__ = __or__

    def __xor__(self, o):
        return _ops.bitwise_xor(self, o)

    __rxor__ = __xor__

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __iadd__(self, o):
        return self.add_(o)

    def __isub__(self, o):
        return self.sub_(o)

    def __imul__(self, o):
        return self.mul_(o)

    def __itruediv__(self, o):
        return self.div_(o)

    def __getitem__(self, idx):
        return _ops.getitem(self, idx)

    def __setitem__(self, idx, value):
        _ops.setitem(self, idx, value)

    # ---- in-place ----

    def add_(self, other, *, alpha=1):
        return _ops.inplace_binary(self, "add", other if alpha == 1 else other * alpha)

    def sub_(self, other, *, alpha=1):
        return _ops.inplace_binary(self, "sub", other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return _ops.inplace_binary(self, "mul", other)

    def div_(self, other):
        return _ops.inplace_binary(self, "div", other)

    def zero_(self):
        return _ops.overwrite_(self, 0)

    def fill_(self, value):
        return _ops.overwrite_(self, value)

    def copy_(self, src):
        return _ops.overwrite_(self, src)

    def clamp_(self, min=None, max=None):
        return _ops.overwrite_(self, _ops.clamp(self, min, max), check_leaf=True)

    def uniform_(self, a=0.0, b=1.0):
        return _ops.random_fill_(self, "uniform", a, b)

    def normal_(self, mean=0.0, std=1.0):
        return _ops.random_fill_(self, "normal", mean, std)


def _rebuild(arr, requires_grad, device):
    from .creation import tensor

    return tensor(arr, device=device, requires_grad=requires_grad)


def _method(name, fn_name=None):
    fn_name = fn_name or name

    def m(self, *args, **kwargs):
        return getattr(_ops, fn_name)(self, *args, **kwargs)

    m.__name__ = name
    m.__qualname__ = f"Tensor.{name}"
    return m


_METHODS = (
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "log1p", "expm1", "sqrt", "abs",
    "sin", "cos",
    "tanh", "sigmoid", "relu", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
    "minimum", "eq", "ne", "lt", "le", "gt", "ge", "sign", "square", "reciprocal", "rsqrt",
    "logical_and", "logical_or", "logical_not", "matmul", "mm", "sum", "mean", "max", "min",
    "argmax", "argmin", "var", "std", "softmax", "log_softmax", "logsumexp", "reshape",
    "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "expand", "expand_as",
    "contiguous", "split", "chunk", "unbind", "clone", "view_as", "reshape_as", "t",
    "masked_fill", "all", "any", "isnan", "dot", "narrow", "floor", "floor_divide",
    "remainder", "isclose", "allclose", "norm", "amax", "amin", "cumsum", "sort", "argsort",
    "topk", "gather", "take_along_dim", "flip", "tril", "triu", "nonzero", "outer",
)
for _n in _METHODS:
    setattr(Tensor, _n, _method(_n))
Tensor.absolute = _method("absolute", "abs")
Tensor.negative = _method("negative", "neg")
Tensor.subtract = _method("subtract", "sub")
Tensor.multiply = _method("multiply", "mul")
Tensor.divide = _method("divide", "div")
Tensor.where = lambda self, condition, other: _ops.where(condition, self, other)
Tensor.T = property(lambda self: _ops.permute(self, tuple(range(self.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: _ops.transpose(self, -2, -1))

_function.Tensor = Tensor  # the graph recorder builds outputs without importing us

from . import ops as _ops  # noqa: E402  (the ops import Tensor)
