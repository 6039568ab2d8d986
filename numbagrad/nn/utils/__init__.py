"""``clip_grad_norm_`` and ``clip_grad_value_``; pruning in the ``prune`` submodule."""
from __future__ import annotations

import math

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    r"""Scale all gradients together so their joint ``norm_type``-norm is at most
    ``max_norm``: :math:`g \leftarrow g \cdot \min(1, \frac{\mathrm{max\_norm}}{\|g\| + 10^{-6}})`.
    Returns the norm before clipping."""
    from ... import creation, ops

    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return creation.tensor(0.0)
    with no_grad():
        if math.isinf(norm_type):
            norms = [ops.amax(ops.abs(g)) for g in grads]
            total = ops.amax(ops.stack([n.to(grads[0].dtype) for n in norms]))
        else:
            norms = [ops.norm(g, norm_type) for g in grads]
            total = ops.norm(ops.stack([n.to(grads[0].dtype) for n in norms]), norm_type)
        tv = total.item()
        if error_if_nonfinite and not math.isfinite(tv):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable "
                               "this error and scale the gradients by the non-finite norm "
                               "anyway, set `error_if_nonfinite=False`")
        coef = float(max_norm) / (tv + 1e-6)
        if coef < 1:
            for g in grads:
                g.mul_(coef)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


from . import prune  # noqa: E402,F401  (numbagrad.nn.utils.prune)
