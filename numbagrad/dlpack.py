"""Sharing memory with other libraries, without copies.

* DLPack (``numbagrad.from_dlpack``, ``Tensor.__dlpack__``, ``Tensor.__dlpack_device__``):
  the exchange format of numpy, PyTorch, CuPy, JAX. A producer hands out a ``PyCapsule``
  named ``"dltensor"`` that points to a ``DLManagedTensor`` (data pointer, device, dtype,
  shape, strides, and a deleter); the consumer renames the capsule ``"used_dltensor"``
  and calls the deleter when it no longer needs the memory.
* ``__cuda_array_interface__`` (CUDA tensors): numba's protocol, read by PyTorch
  (``torch.as_tensor``), CuPy and numba itself.

CPU tensors go through numpy's own DLPack support; CUDA tensors use the structs below.
"""
from __future__ import annotations

import ctypes

import numpy as np

from .backend import CPU, device
from .tensor import Tensor

kDLCPU, kDLCUDA = 1, 2
_CODES = {"i": 0, "u": 1, "f": 2, "b": 6}


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    pass


_Deleter = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensor))
DLManagedTensor._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                            ("deleter", _Deleter)]

_api = ctypes.pythonapi
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_api.PyCapsule_IsValid.restype = ctypes.c_int
_api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_SetName.restype = ctypes.c_int
_api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]

_live: dict = {}  # address of an exported DLManagedTensor -> what keeps its memory alive


@_Deleter
def _delete(managed):
    _live.pop(ctypes.addressof(managed.contents), None)


_CapsuleDestructor = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


# The destructor gets the dying capsule as a raw pointer: it must not become a Python
# object again, so these two take it as ``void*``.
_is_valid_raw = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api))
_get_pointer_raw = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))


@_CapsuleDestructor
def _capsule_destructor(cap_ptr):
    if _is_valid_raw(cap_ptr, b"dltensor"):  # never consumed: free it ourselves
        _live.pop(_get_pointer_raw(cap_ptr, b"dltensor"), None)


def _dl_dtype(dt: np.dtype) -> DLDataType:
    if dt.kind not in _CODES:
        raise TypeError(f"DLPack: unsupported dtype {dt}")
    return DLDataType(_CODES[dt.kind], 8 * dt.itemsize, 1)


def _np_dtype(d: DLDataType) -> np.dtype:
    kinds = {0: "i", 1: "u", 2: "f", 6: "b"}
    if d.lanes != 1 or d.code not in kinds:
        raise TypeError(f"DLPack: unsupported dtype code={d.code} bits={d.bits} lanes={d.lanes}")
    return np.dtype(f"{kinds[d.code]}{d.bits // 8}") if d.code != 6 else np.dtype(np.bool_)


def to_dlpack(t: Tensor):
    """A DLPack capsule sharing ``t``'s memory (what ``Tensor.__dlpack__`` returns)."""
    if t._device.type == "cpu":
        return t._data.__dlpack__()
    arr = t._data
    nd = arr.ndim
    managed = DLManagedTensor()
    shape = (ctypes.c_int64 * max(nd, 1))(*arr.shape)
    strides = (ctypes.c_int64 * max(nd, 1))(*(s // arr.itemsize for s in arr.strides))
    dl = managed.dl_tensor
    dl.data = arr.data_ptr()
    dl.device = DLDevice(kDLCUDA, t._device.index or 0)
    dl.ndim = nd
    dl.dtype = _dl_dtype(arr.dtype)
    dl.shape = ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64))
    dl.strides = ctypes.cast(strides, ctypes.POINTER(ctypes.c_int64))
    dl.byte_offset = 0
    managed.deleter = _delete
    addr = ctypes.addressof(managed)
    _live[addr] = (managed, shape, strides, arr)
    return _api.PyCapsule_New(addr, b"dltensor",
                              ctypes.cast(_capsule_destructor, ctypes.c_void_p))


class _Imported:
    """Keeps a consumed DLManagedTensor's memory alive; calls its deleter when dropped."""

    def __init__(self, managed_ptr, cai=None):
        self._ptr = managed_ptr
        if cai is not None:
            self.__cuda_array_interface__ = cai

    def __del__(self):
        m = ctypes.cast(self._ptr, ctypes.POINTER(DLManagedTensor))
        if m.contents.deleter:
            m.contents.deleter(m)


class _Capsule:
    """Hands an existing capsule to ``np.from_dlpack``, which takes care of ownership."""

    def __init__(self, cap, dev):
        self._cap, self._dev = cap, dev

    def __dlpack__(self, **kwargs):
        return self._cap

    def __dlpack_device__(self):
        return self._dev


def _from_capsule(cap) -> Tensor:
    if not _api.PyCapsule_IsValid(cap, b"dltensor"):
        raise ValueError("from_dlpack: expected a DLPack capsule named 'dltensor' that has not "
                         "been consumed yet")
    ptr = _api.PyCapsule_GetPointer(cap, b"dltensor")
    dl = ctypes.cast(ptr, ctypes.POINTER(DLManagedTensor)).contents.dl_tensor
    if dl.device.device_type == kDLCPU:
        return Tensor._make(np.from_dlpack(_Capsule(cap, (kDLCPU, 0))), device=CPU)
    if dl.device.device_type != kDLCUDA:
        raise RuntimeError(f"from_dlpack: unsupported device type {dl.device.device_type}")
    dt = _np_dtype(dl.dtype)
    shape = tuple(dl.shape[i] for i in range(dl.ndim))
    strides = (tuple(dl.strides[i] * dt.itemsize for i in range(dl.ndim))
               if dl.strides else None)
    cai = {"shape": shape, "strides": strides, "typestr": dt.str,
           "data": ((dl.data or 0) + dl.byte_offset, False), "version": 3, "stream": None}
    _api.PyCapsule_SetName(cap, b"used_dltensor")  # ours now: _Imported calls the deleter
    return _from_cuda_array(_Imported(ptr, cai))


def _from_cuda_array(obj) -> Tensor:
    k = device("cuda").kernels
    return Tensor._make(k.CudaArray.from_cuda_array(obj), device=device("cuda"))


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with ``ext``: any object with ``__dlpack__`` (numpy arrays,
    PyTorch/CuPy tensors, ...), a DLPack capsule, or (CUDA) an object with
    ``__cuda_array_interface__``."""
    if isinstance(ext, Tensor):
        return ext
    if hasattr(ext, "__dlpack_device__"):
        dev_type, _ = ext.__dlpack_device__()
        if dev_type == kDLCPU:
            return Tensor._make(np.from_dlpack(ext), device=CPU)
        if dev_type == kDLCUDA:
            if hasattr(ext, "__cuda_array_interface__"):
                return _from_cuda_array(ext)
            return _from_capsule(ext.__dlpack__(stream=1))
        raise RuntimeError(f"from_dlpack: unsupported device type {dev_type}")
    if hasattr(ext, "__cuda_array_interface__"):
        return _from_cuda_array(ext)
    if type(ext).__name__ == "PyCapsule":
        return _from_capsule(ext)
    raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got "
                    f"{type(ext).__name__}")
