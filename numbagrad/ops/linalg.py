r"""Matrix products.

For :math:`C = AB`: :math:`\bar A = \bar C B^\top` and :math:`\bar B = A^\top \bar C`, written
with ``matmul`` and ``transpose`` so the backward is itself differentiable. ``matmul``
follows ``torch.matmul``: 1-D operands are promoted to matrices and the added dimension is
removed afterwards; batch dimensions broadcast; an ``(..., n, k) @ (k, m)`` product is
folded into one 2-D product.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..kernels import layout
from ..tensor import Tensor
from ._util import fmt_shape


class MatMul(Function):
    """2-D ``(n, k) @ (k, m)`` or batched 3-D ``(B, n, k) @ (B, k, m)``."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad and ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad and ctx.needs_input_grad[0] else None)
        return a._device.kernels.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = MatMul.apply(g, b.transpose(-1, -2)) if b is not None else None
        gb = MatMul.apply(a.transpose(-1, -2), g) if a is not None else None
        return ga, gb


def _check(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected Tensor arguments, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{op}: expected both arguments to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")
    if a.dtype.name == "bool":
        raise RuntimeError(f"{op}: not implemented for bool tensors")


def _mm_error(op, a_shape, b_shape):
    ra = "x".join(map(str, a_shape))
    rb = "x".join(map(str, b_shape))
    raise RuntimeError(f"{op}: mat1 and mat2 shapes cannot be multiplied ({ra} and {rb})")


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D tensors."""
    _check(a, b, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    if a.shape[1] != b.shape[0]:
        _mm_error("mm", a.shape, b.shape)
    return MatMul.apply(a, b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with ``torch.matmul``'s rules for 1-D, 2-D and batched operands."""
    _check(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments to matmul need to be at least 1D, but they "
                           f"are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"matmul: 1D tensors expected to have the same size, but got "
                               f"{a.shape[0]} and {b.shape[0]}")
        return MatMul.apply(a.reshape(1, -1), b.reshape(-1, 1)).reshape(())
    a_vec = a.ndim == 1
    b_vec = b.ndim == 1
    a2 = a.unsqueeze(0) if a_vec else a
    b2 = b.unsqueeze(-1) if b_vec else b
    if a2.shape[-1] != b2.shape[-2]:
        _mm_error("matmul", a2.shape if not a_vec else a.shape,
                  b2.shape if not b_vec else b.shape)
    n, k = a2.shape[-2], a2.shape[-1]
    m = b2.shape[-1]
    if a2.ndim == 2 and b2.ndim == 2:
        out = MatMul.apply(a2, b2)
    elif b2.ndim == 2:  # fold the batch into the rows: one BLAS call
        batch = a2.shape[:-2]
        out = MatMul.apply(a2.reshape(-1, k), b2).reshape(*batch, n, m)
    else:
        batch = layout.broadcast_shapes(tuple(a2.shape[:-2]), tuple(b2.shape[:-2]))
        if batch is None:
            raise RuntimeError(f"matmul: batch dimensions {fmt_shape(a2.shape[:-2])} and "
                               f"{fmt_shape(b2.shape[:-2])} do not broadcast")
        a3 = a2.expand(*batch, n, k).reshape(-1, n, k)
        b3 = b2.expand(*batch, k, m).reshape(-1, k, m)
        out = MatMul.apply(a3, b3).reshape(*batch, n, m)
    if a_vec:
        out = out.squeeze(-2)
    if b_vec:
        out = out.squeeze(-1)
    return out


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)
