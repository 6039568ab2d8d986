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
    raise RuntimeError(
        f"numbagrad: device '{dev}' is not available: this build of numbagrad has no CUDA "
        "backend. Use device='cpu'.")


CPU = device("cpu")


def as_device(d) -> device:
    if d is None:
        return CPU
    dev = device(d)
    dev.kernels  # noqa: B018  (raises a clear error for an unavailable device)
    return dev
