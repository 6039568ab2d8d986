"""Define-by-run automatic differentiation.

Every differentiable op is a :class:`Function`; calling it while grad mode is on and an
input requires grad records a node. :func:`backward` and :func:`grad` sweep that graph
(see ``engine.py``). Because every ``backward`` is written in numbagrad ops,
``create_graph=True`` records the backward itself, which gives second and higher
derivatives.
"""
from __future__ import annotations

from .engine import run_backward
from .function import AccumulateGrad, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "AccumulateGrad", "backward", "grad", "gradcheck", "gradgradcheck",
           "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


def _seq(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _make_grads(outputs, grad_outputs):
    from ..creation import ones_like
    from ..tensor import Tensor

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} "
                           f"grad_outputs for {len(outputs)} outputs")
    res = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(o, Tensor):
            raise TypeError(f"outputs[{i}] is a {type(o).__name__}, not a Tensor")
        if g is None:
            if o.requires_grad and o.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = ones_like(o)
        elif not isinstance(g, Tensor):
            raise TypeError(f"grad_outputs[{i}] is a {type(g).__name__}, not a Tensor")
        elif g.shape != o.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} "
                               f"and output[{i}] has a shape of {o.shape}.")
        elif g._device is not o._device:
            raise RuntimeError(f"grad_output[{i}] is on {g.device} but output[{i}] is on "
                               f"{o.device}")
        res.append(g)
    return tuple(res)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves."""
    tensors = _seq(tensors)
    grad_tensors = _make_grads(tensors, _seq(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, grad_tensors, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    r"""The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple.

    Computes :math:`\sum_i v_i^\top \partial\, \mathrm{out}_i / \partial\, \mathrm{in}_j`
    for each input, with ``v = grad_outputs`` (ones for scalar outputs). With
    ``create_graph=True`` the result carries its own graph, so it can be differentiated
    again. ``.grad`` attributes are left alone.
    """
    from ..creation import zeros_like

    outputs = _seq(outputs)
    inputs = _seq(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grad_outputs = _make_grads(outputs, _seq(grad_outputs))
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    res = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs)
    out = []
    for t, g in zip(inputs, res):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = zeros_like(t)
        elif not create_graph:
            g = g.detach()
        out.append(g)
    return tuple(out)
