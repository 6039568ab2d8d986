r"""``linear``: :math:`y = x W^\top + b` as one Function (one BLAS call plus a bias pass).

Backward: :math:`\bar x = \bar y W`, :math:`\bar W = \bar y^\top x`,
:math:`\bar b = \sum_{\text{rows}} \bar y`, written with ops so it is differentiable again.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..tensor import Tensor
from .linalg import MatMul
from .reduction import sum as sum_


class Linear(Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        k = x._device.kernels
        out = k.matmul(x._data, w._data.T)
        if b is not None:
            k.add(out, b._data, out=out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = MatMul.apply(g, w) if need[0] else None
        gw = MatMul.apply(g.transpose(0, 1), x) if need[1] else None
        gb = sum_(g, 0) if len(need) > 2 and need[2] else None
        return gx, gw, gb


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` for ``x`` of shape ``(..., in_features)``."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{list(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: mat1 and mat2 shapes cannot be multiplied "
                           f"({'x'.join(map(str, x.shape))} and "
                           f"{weight.shape[1]}x{weight.shape[0]})")
    if x.dtype is not weight.dtype:
        raise RuntimeError(f"linear: expected input and weight to have the same dtype, but got "
                           f"{x.dtype.name} and {weight.dtype.name}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"linear: bias must have shape [{weight.shape[0]}], got "
                           f"{list(bias.shape)}")
    lead = tuple(x.shape[:-1])
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
    args = (x2, weight, bias) if bias is not None else (x2, weight, None)
    out = Linear.apply(*args)
    return out.reshape(*lead, weight.shape[0]) if x.ndim != 2 else out
