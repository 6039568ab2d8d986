"""Devices and the kernel namespace behind each.

A tensor's ``_device`` is one of the ``device`` singletons here; ``device.kernels`` is
the module of launchers (``numbagrad.kernels.cpu`` for ``"cpu"``) that the ops call, so an
op never names a device: it calls ``x._device.kernels.exp_forward(x._data)``.
"""
from __future__ import annotations


class device:
    """``numbagrad.device("cpu")``: where a tensor's memory lives."""

    _instances: dict = {}

    def __new__(cls, spec="cpu", index=None):
        if isinstance(spec, device):
            return spec
        if not isinstance(spec, str):
            raise TypeError(f"device() expects a string such as 'cpu', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if idx:
            index = int(idx)
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device "
                               f"string: {spec}")
        if kind == "cpu":
            index = None
        elif index is None:
            index = 0
        key = (kind, index)
        inst = cls._instances.get(key)
        if inst is None:
            inst = object.__new__(cls)
            inst.type = kind
            inst.index = index
            inst._kernels = None
            cls._instances[key] = inst
        return inst

    @property
    def kernels(self):
        if self._kernels is None:
            self._kernels = _load_kernels(self)
        return self._kernels

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return self is other

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


def _load_kernels(dev):
    if dev.type == "cpu":
        from .kernels import cpu

        return cpu
    reason = cuda_unavailable_reason()
    if reason:
        raise RuntimeError(f"numbagrad: device '{dev}' is not available: {reason}")
    if dev.index >= _cuda_device_count():
        raise RuntimeError(f"numbagrad: device '{dev}' is not available: found "
                           f"{_cuda_device_count()} CUDA device(s)")
    if dev.index != 0:
        raise RuntimeError(f"numbagrad: device '{dev}': only cuda:0 is supported (one "
                           "kernel stream and memory pool per process)")
    from .kernels import cuda

    return cuda


_cuda_reason: list = []


def cuda_unavailable_reason() -> str:
    """Why the CUDA backend cannot be used here ('' when it can). Imports numba-cuda on
    first call only: ``import numbagrad`` itself never touches CUDA."""
    if not _cuda_reason:
        try:
            from .kernels.cuda import _runtime
        except ImportError as e:
            _cuda_reason.append(str(e))
        else:
            if _runtime.available():
                _cuda_reason.append("")
            else:
                _cuda_reason.append(
                    "no CUDA GPU was found (numba.cuda.is_available() is False). Set "
                    "NUMBA_ENABLE_CUDASIM=1 before importing numbagrad to run the CUDA "
                    "kernels on numba's CPU simulator")
    return _cuda_reason[0]


def _cuda_device_count() -> int:
    from .kernels.cuda import _runtime

    if _runtime.SIM:
        return 1
    return len(_runtime.cuda.gpus)


CPU = device("cpu")


def as_device(d) -> device:
    if d is None:
        return CPU
    dev = device(d)
    dev.kernels  # noqa: B018  (raises a clear error for an unavailable device)
    return dev
