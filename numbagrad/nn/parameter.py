"""``Parameter``: a leaf tensor that a ``Module`` registers as trainable."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that requires grad by default and that ``Module.__setattr__`` registers.

    ``Parameter(t)`` shares ``t``'s memory, like PyTorch's.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        from ..creation import empty

        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data = data._data
        p._requires_grad = False
        p._grad = None
        p.grad_fn = None
        p._version = data._version
        p._base = None
        p._accum = None
        p._device = data._device
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))

    def __deepcopy__(self, memo):
        t = Tensor.__deepcopy__(self.detach(), memo)
        p = Parameter(t, self._requires_grad)
        if self._grad is not None:
            p._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
