r"""Finite-difference checks of the analytical gradients.

``gradcheck`` compares, for every input that requires grad, the Jacobian the backward
pass computes (one vector-Jacobian product per output element) with the central
difference

.. math::
    \frac{\partial f_i}{\partial x_j}
    \approx \frac{f_i(x + \epsilon e_j) - f_i(x - \epsilon e_j)}{2\epsilon}

in float64. ``gradgradcheck`` applies the same test to the function that maps
``(inputs, grad_outputs)`` to the first derivatives, which checks second derivatives.
"""
from __future__ import annotations

import warnings

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when a numerical and an analytical Jacobian disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    from ..tensor import Tensor

    out = _as_tuple(fn(*inputs))
    return tuple(o for o in out if isinstance(o, Tensor) and o.dtype.is_floating_point)


def _f64(t) -> np.ndarray:
    return t._host().astype(np.float64).ravel()


def _store(x, host: np.ndarray) -> None:
    """Write the numpy array ``host`` into tensor ``x``'s memory, on any device."""
    k = x._device.kernels
    k.copy(x._data, k.from_host(host.reshape(x._data.shape)))


def _numerical(fn, inputs, idx, eps):
    """Numerical Jacobian of every output w.r.t. input ``idx``: list of (n_in, n_out)."""
    from ..autograd import grad_mode

    x = inputs[idx]
    if not x._data.flags.c_contiguous:
        raise ValueError("gradcheck: inputs must be contiguous")
    flat = x._host().reshape(-1).copy()
    with grad_mode.no_grad():
        outs = _outputs(fn, inputs)
        jac = [np.zeros((x.numel(), o.numel())) for o in outs]
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            _store(x, flat)
            plus = [_f64(o) for o in _outputs(fn, inputs)]
            flat[j] = orig - eps
            _store(x, flat)
            minus = [_f64(o) for o in _outputs(fn, inputs)]
            flat[j] = orig
            _store(x, flat)
            for k in range(len(outs)):
                jac[k][j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical(fn, inputs, diff_idx):
    """Analytical Jacobians: one backward per output element. [input][output] arrays."""
    from .. import autograd
    from ..creation import tensor

    outs = _outputs(fn, inputs)
    diff = [inputs[i] for i in diff_idx]
    jac = [[np.zeros((inputs[i].numel(), o.numel())) for o in outs] for i in diff_idx]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for m in range(o.numel()):
            onehot = np.zeros(o.numel(), o._data.dtype)
            onehot[m] = 1
            go = tensor(onehot.reshape(o._data.shape), device=o.device)
            grads = autograd.grad(o, diff, grad_outputs=go, retain_graph=True,
                                  allow_unused=True)
            for a, gr in enumerate(grads):
                if gr is not None:
                    jac[a][k][:, m] = _f64(gr)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_ignored) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central differences.

    ``inputs`` is a Tensor or a tuple of them (other values are passed through); those
    with ``requires_grad=True`` are checked and should be float64. Returns True, or raises
    ``GradcheckError`` (returns False with ``raise_exception=False``) naming the input,
    output and the worst element.
    """
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype.name}, not float64; "
                          "the check is likely to fail from rounding alone.", stacklevel=2)
    ana = _analytical(func, inputs, diff_idx)
    if not ana or not ana[0]:
        raise ValueError("gradcheck: the function returned no floating-point output to check")
    for a, i in enumerate(diff_idx):
        num = _numerical(func, inputs, i, eps)
        if len(num) != len(ana[a]):
            raise GradcheckError(f"gradcheck: the function returned {len(num)} outputs under "
                                 f"no_grad but {len(ana[a])} with grad enabled")
        for k, (n, an) in enumerate(zip(num, ana[a])):
            if not np.allclose(an, n, rtol=rtol, atol=atol, equal_nan=True):
                bad = np.unravel_index(np.argmax(np.abs(an - n)), n.shape)
                msg = (f"Jacobian mismatch for output {k} with respect to input {i},\n"
                       f"numerical:{n!r}\nanalytical:{an!r}\n"
                       f"worst at (input element {bad[0]}, output element {bad[1]}): "
                       f"numerical {n[bad]:.6g} vs analytical {an[bad]:.6g}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **_ignored) -> bool:
    """Check second derivatives: ``gradcheck`` of ``(inputs, v) -> v^T J(inputs)``.

    ``grad_outputs`` (random float64 tensors when None) are treated as extra inputs that
    require grad, so mixed derivatives w.r.t. them are checked too.
    """
    from .. import autograd
    from ..creation import randn_like
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    n_in = len(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o).requires_grad_() for o in outs)
    else:
        grad_outputs = tuple(g.detach().requires_grad_() for g in _as_tuple(grad_outputs))
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_grads(*args):
        # gradcheck evaluates this under no_grad for its finite differences; the first
        # derivatives still need a graph of the function, so grad is switched back on
        from .grad_mode import enable_grad

        xs, vs = args[:n_in], args[n_in:]
        with enable_grad():
            os_ = _outputs(func, xs)
            pairs = [(o, v) for o, v in zip(os_, vs) if o.requires_grad]
            gs = autograd.grad([p[0] for p in pairs], [xs[i] for i in diff_idx],
                               grad_outputs=[p[1] for p in pairs], create_graph=True,
                               allow_unused=True, materialize_grads=True)
        return gs

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
