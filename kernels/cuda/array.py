"""``CudaArray``: an n-d view of device memory with numpy's view semantics.

numba's ``DeviceNDArray`` is what a ``@cuda.jit`` kernel takes, but it cannot express every
view numbagrad makes (transposes of any rank, ``as_strided``, no-copy reshapes of
non-contiguous arrays). ``CudaArray`` keeps just the metadata (``shape``, byte ``strides``,
``dtype``, a byte ``offset`` into a pooled block) and builds the numba array a kernel needs
on demand (``.dev``, cached). Its attributes mirror the subset of ``numpy.ndarray`` the
tensor layer uses, so ``Tensor._data`` is a numpy array on the CPU and a ``CudaArray`` on
the GPU and most shape code does not need to know which.

Moving data between host and device happens only through ``from_host`` and ``to_host``:
never inside a kernel launch.
"""
from __future__ import annotations

import operator

import numpy as np

from ..layout import c_strides
from ._memory import POOL
from ._runtime import SIM, cuda

if SIM:
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray
else:
    from numba.cuda.cudadrv.devicearray import DeviceNDArray


def _is_c_contig(shape, strides, itemsize):
    acc = itemsize
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 0:
            return True
        if n != 1 and s != acc:
            return False
        acc *= n
    return True


def _nocopy_strides(shape, strides, new_shape, itemsize):
    """Strides that let ``new_shape`` view the same elements, or None (numpy's rule)."""
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    nd = len(new_shape)
    new = [0] * nd
    if not old:
        return c_strides(new_shape, itemsize)
    oi, oj, ni, nj = 0, 1, 0, 1
    while ni < nd and oi < len(old):
        np_, op = new_shape[ni], old[oi][0]
        while np_ != op:
            if np_ < op:
                np_ *= new_shape[nj]
                nj += 1
            else:
                op *= old[oj][0]
                oj += 1
        for ok in range(oi, oj - 1):
            if old[ok][1] != old[ok + 1][0] * old[ok + 1][1]:
                return None
        new[nj - 1] = old[oj - 1][1]
        for nk in range(nj - 1, ni, -1):
            new[nk - 1] = new[nk] * new_shape[nk]
        ni, nj, oi, oj = nj, nj + 1, oj, oj + 1
    last = new[ni - 1] if ni >= 1 else itemsize
    for k in range(ni, nd):
        new[k] = last
    return tuple(new)


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous", "writeable")

    def __init__(self, c, f):
        self.c_contiguous = c
        self.f_contiguous = f
        self.writeable = True


class _Foreign:
    """Keeps memory owned by another library (torch, CuPy) alive while a view uses it."""

    __slots__ = ("mem", "owner")

    def __init__(self, mem, owner):
        self.mem = mem
        self.owner = owner


class CudaArray:
    __slots__ = ("_owner", "_mem", "offset", "shape", "strides", "dtype", "_dev", "_flat",
                 "_flags", "__weakref__")

    def __init__(self, owner, mem, offset, shape, strides, dtype):
        self._owner = owner
        self._mem = mem
        self.offset = offset
        self.shape = tuple(int(n) for n in shape)
        self.strides = tuple(int(s) for s in strides)
        self.dtype = dtype
        self._dev = None  # numba views, built on first use and kept: building one costs
        self._flat = None  # more than a kernel launch's own Python overhead
        self._flags = None

    # --- construction -----------------------------------------------------------------
    @classmethod
    def empty(cls, shape, dtype):
        if isinstance(shape, (int, np.integer)):
            shape = (int(shape),)
        shape = tuple(int(n) for n in shape)
        dtype = np.dtype(dtype)
        n = 1
        for s in shape:
            if s < 0:
                raise ValueError(f"negative dimensions are not allowed: {shape}")
            n *= s
        blk = POOL.malloc(n * dtype.itemsize)
        return cls(blk, blk.mem, 0, shape, c_strides(shape, dtype.itemsize), dtype)

    @classmethod
    def from_host(cls, a):
        """A device copy of the numpy array ``a`` (the one host-to-device path)."""
        a = np.require(a, requirements="C")  # (ascontiguousarray would make 0-d 1-d)
        out = cls.empty(a.shape, a.dtype)
        if a.size:
            out.dev.copy_to_device(a)
        return out

    @classmethod
    def from_cuda_array(cls, obj):
        """A view (no copy) of any object with ``__cuda_array_interface__``."""
        if SIM:  # simulated device memory is host memory: read the interface by hand
            cai = obj.__cuda_array_interface__
            dtype = np.dtype(cai["typestr"])
            shape = tuple(cai["shape"])
            strides = cai.get("strides") or c_strides(shape, dtype.itemsize)
            if any(s < 0 for s in strides):
                raise ValueError("from_cuda_array: negative strides are not supported")
            span = _span(shape, strides, dtype.itemsize)
            mem = _host_bytes(cai["data"][0], span)
            return cls(_Foreign(mem, obj), mem, 0, shape, strides, dtype)
        arr = cuda.as_cuda_array(obj)
        if any(s < 0 for s in arr.strides):
            raise ValueError("from_cuda_array: negative strides are not supported")
        return cls(_Foreign(arr.gpu_data, obj), arr.gpu_data, 0, arr.shape, arr.strides,
                   arr.dtype)

    def _view(self, shape, strides, offset=None):
        return CudaArray(self._owner, self._mem, self.offset if offset is None else offset,
                         shape, strides, self.dtype)

    # --- numpy-like attributes --------------------------------------------------------
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def flags(self):
        f = self._flags
        if f is None:  # shape and strides never change: compute once
            it = self.dtype.itemsize
            f = self._flags = _Flags(_is_c_contig(self.shape, self.strides, it),
                                     _is_c_contig(self.shape[::-1], self.strides[::-1], it))
        return f

    @property
    def base(self):
        return self._owner

    @property
    def device(self):
        return "cuda"

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self):
        return f"CudaArray(shape={self.shape}, dtype={self.dtype}, strides={self.strides})"

    # --- views --------------------------------------------------------------------------
    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(range(self.ndim - 1, -1, -1))
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} do not match an array of rank "
                             f"{self.ndim}")
        return self._view([self.shape[a] for a in axes], [self.strides[a] for a in axes])

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        elif len(shape) == 1 and isinstance(shape[0], (int, np.integer)):
            shape = (int(shape[0]),)
        shape = list(int(s) for s in shape)
        n = self.size
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if -1 in shape:
            known = 1
            for s in shape:
                if s != -1:
                    known *= s
            if known == 0 or n % known:
                raise ValueError(f"cannot reshape array of size {n} into shape "
                                 f"{tuple(shape)}")
            shape[shape.index(-1)] = n // known
        shape = tuple(shape)
        total = 1
        for s in shape:
            total *= s
        if total != n:
            raise ValueError(f"cannot reshape array of size {n} into shape {shape}")
        if shape == self.shape:
            return self._view(shape, self.strides)
        if n == 0:
            return self._view(shape, c_strides(shape, self.itemsize))
        st = _nocopy_strides(self.shape, self.strides, shape, self.itemsize)
        if st is not None:
            return self._view(shape, st)
        from .elementwise import contiguous

        c = contiguous(self)
        return c._view(shape, c_strides(shape, self.itemsize))

    def try_view(self, shape):
        """A view with ``shape`` (same size) when no copy is needed, else None."""
        if self.size == 0:
            return self._view(shape, c_strides(shape, self.itemsize))
        st = _nocopy_strides(self.shape, self.strides, tuple(shape), self.itemsize)
        return None if st is None else self._view(shape, st)

    def ravel(self):
        return self.reshape(-1)

    def as_strided(self, shape, strides):
        """A view with the given shape and byte strides from this view's first element."""
        return self._view(shape, strides)

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        nreal = sum(1 for i in idx if i is not None and i is not Ellipsis)
        if nreal > self.ndim:
            raise IndexError(f"too many indices for array: array is {self.ndim}-dimensional, "
                             f"but {nreal} were indexed")
        if any(i is Ellipsis for i in idx):
            k = next(j for j, i in enumerate(idx) if i is Ellipsis)
            idx = idx[:k] + (slice(None),) * (self.ndim - nreal) + idx[k + 1:]
        else:
            idx = idx + (slice(None),) * (self.ndim - nreal)
        shape, strides, off, d = [], [], self.offset, 0
        for i in idx:
            if i is None:
                shape.append(1)
                strides.append(0)
            elif isinstance(i, slice):
                start, stop, step = i.indices(self.shape[d])
                if step <= 0:
                    raise ValueError("CudaArray: slices need a positive step")
                n = max(0, (stop - start + step - 1) // step)
                if n:
                    off += start * self.strides[d]
                shape.append(n)
                strides.append(self.strides[d] * step)
                d += 1
            else:
                try:
                    j = operator.index(i)
                except TypeError:
                    raise IndexError(f"CudaArray supports basic indexing only, got "
                                     f"{type(i).__name__}") from None
                n = self.shape[d]
                if not -n <= j < n:
                    raise IndexError(f"index {j} is out of bounds for axis {d} with size {n}")
                off += (j % n) * self.strides[d]
                d += 1
        return self._view(shape, strides, off)

    def __setitem__(self, idx, value):
        """``a[idx] = value`` for basic ``idx`` (a scalar or array value, broadcast)."""
        from .elementwise import copy

        src = value if isinstance(value, CudaArray) else \
            CudaArray.from_host(np.asarray(value, dtype=self.dtype))
        copy(self[idx], src)

    # --- what kernels take --------------------------------------------------------------
    @property
    def dev(self):
        """The numba device array of this view (what a ``@cuda.jit`` kernel is passed)."""
        d = self._dev
        if d is None:
            d = self._dev = _numba_view(self._mem, self.offset, self.shape, self.strides,
                                        self.dtype)
        return d

    def flat(self):
        """A 1-D device array from this view's first element to the last one it reaches
        (what the strided kernels index with explicit element strides)."""
        f = self._flat
        if f is None:
            if self.flags.c_contiguous:
                shape = (self.size,)
            elif any(s < 0 for s in self.strides):
                raise ValueError("strided kernels need non-negative strides")
            else:
                shape = (_span(self.shape, self.strides, self.itemsize) // self.itemsize,)
            f = self._flat = _numba_view(self._mem, self.offset, shape, (self.itemsize,),
                                         self.dtype)
        return f

    def flat_buffer(self) -> CudaArray:
        """Like ``flat()`` but as a 1-D ``CudaArray`` (``kernels.layout.flat_buffer``)."""
        if self.flags.c_contiguous:
            return self._view((self.size,), (self.itemsize,))
        if any(s < 0 for s in self.strides):
            raise ValueError("strided kernels need non-negative strides")
        span = _span(self.shape, self.strides, self.itemsize) // self.itemsize
        return self._view((span,), (self.itemsize,))

    def to_host(self) -> np.ndarray:
        """A numpy copy (the one device-to-host path)."""
        if self.size == 0:
            return np.empty(self.shape, self.dtype)
        src = self
        if not self.flags.c_contiguous:
            from .elementwise import contiguous

            src = contiguous(self)
        out = np.empty(self.shape, self.dtype)
        src.dev.copy_to_host(out)
        return out

    @property
    def __cuda_array_interface__(self):
        c = self.flags.c_contiguous
        return {"shape": self.shape, "strides": None if c else self.strides,
                "typestr": self.dtype.str, "data": (self.data_ptr(), False), "version": 3,
                "stream": None if SIM else 1}

    def data_ptr(self) -> int:
        if SIM:
            return self._mem.ctypes.data + self.offset
        return int(self._mem.device_ctypes_pointer.value or 0) + self.offset


def _host_bytes(ptr, nbytes):
    """A uint8 numpy view of host memory at ``ptr`` (simulated device memory)."""
    import ctypes

    return np.frombuffer((ctypes.c_uint8 * max(nbytes, 1)).from_address(ptr), np.uint8)


def _span(shape, strides, itemsize):
    """Bytes from the first element to the end of the last one."""
    if any(n == 0 for n in shape):
        return 0
    return itemsize + sum((n - 1) * s for n, s in zip(shape, strides))


def _numba_view(mem, offset, shape, strides, dtype):
    if SIM:
        nbytes = _span(shape, strides, dtype.itemsize)
        if nbytes == 0:
            return FakeCUDAArray(np.empty(shape, dtype))
        host = np.ndarray(shape, dtype, buffer=mem, offset=offset, strides=strides)
        return FakeCUDAArray(host)
    if any(n == 0 for n in shape):
        return DeviceNDArray(shape, strides, dtype, gpu_data=None)
    return DeviceNDArray(shape, strides, dtype, gpu_data=mem.view(offset))
