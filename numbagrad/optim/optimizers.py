"""The optimizers. Each ``_update`` hands one parameter and its state to a fused Numba
kernel (``kernels/cpu/optim.py``); the formulas are in that file's docstring."""
from __future__ import annotations

from .. import creation
from .optimizer import Optimizer, required


def _check(name, value, cond):
    if not cond:
        raise ValueError(f"Invalid {name}: {value}")


def _zeros_like(p):
    return creation.zeros_like(p)


def _step_tensor(state):
    """PyTorch keeps the step count as a float32 0-d tensor; so does numbagrad."""
    st = state.get("step")
    if st is None:
        st = state["step"] = creation.zeros((), dtype="float32")
    st._data[()] += 1
    return int(st.item())


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
    weight decay (PyTorch's formulation)."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        _check("learning rate", lr, lr is required or lr >= 0)
        _check("momentum value", momentum, momentum >= 0)
        _check("weight_decay value", weight_decay, weight_decay >= 0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, group, p, state):
        k = p._device.kernels
        mom = group["momentum"]
        first = False
        if mom != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = _zeros_like(p)
                first = True
            buf_data = buf._data
        else:
            buf_data = p._data[:0].reshape(-1) if p._data.ndim else p._data.reshape(-1)[:0]
        k.sgd_step(p._data, self._grad(p), buf_data, group["lr"], group["weight_decay"], mom,
                   group["dampening"], group["nesterov"], group["maximize"], first)


class GD(SGD):
    r"""Plain gradient descent, :math:`\theta \leftarrow \theta - \eta \nabla L(\theta)`.

    The update is SGD's without momentum; the difference is in how it is used: GD steps
    on the gradient of the loss over the *whole* training set (one step per epoch, e.g.
    with a ``DataLoader`` whose ``batch_size`` is the data set size), while SGD steps on
    the noisy gradient of each mini-batch."""

    def __init__(self, params, lr=1e-2, weight_decay=0.0, *, maximize=False):
        super().__init__(params, lr=lr, weight_decay=weight_decay, maximize=maximize)


class Adam(Optimizer):
    """Adam (and AMSGrad) with L2 weight decay added to the gradient."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        _check("learning rate", lr, lr >= 0)
        _check("epsilon value", eps, eps >= 0)
        _check("beta parameter at index 0", betas[0], 0 <= betas[0] < 1)
        _check("beta parameter at index 1", betas[1], 0 <= betas[1] < 1)
        _check("weight_decay value", weight_decay, weight_decay >= 0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, group, p, state):
        if "exp_avg" not in state:
            state["exp_avg"] = _zeros_like(p)
            state["exp_avg_sq"] = _zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _zeros_like(p)
        step = _step_tensor(state)
        vmax = state["max_exp_avg_sq"]._data if group["amsgrad"] else state["exp_avg_sq"]._data
        b1, b2 = group["betas"]
        p._device.kernels.adam_step(
            p._data, self._grad(p), state["exp_avg"]._data, state["exp_avg_sq"]._data, vmax,
            group["lr"], b1, b2, group["eps"], group["weight_decay"], step, group["amsgrad"],
            self._decoupled, group["maximize"])


class AdamW(Adam):
    r"""Adam with decoupled weight decay: :math:`\theta \leftarrow \theta(1 - \eta\lambda)`
    before the Adam step."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop with optional momentum and centering."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        _check("learning rate", lr, lr >= 0)
        _check("epsilon value", eps, eps >= 0)
        _check("momentum value", momentum, momentum >= 0)
        _check("weight_decay value", weight_decay, weight_decay >= 0)
        _check("alpha value", alpha, alpha >= 0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, group, p, state):
        if "square_avg" not in state:
            state["step"] = creation.zeros((), dtype="float32")
            state["square_avg"] = _zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_like(p)
        state["step"]._data[()] += 1
        sq = state["square_avg"]._data
        gavg = state["grad_avg"]._data if group["centered"] else sq
        buf = state["momentum_buffer"]._data if group["momentum"] > 0 else sq
        p._device.kernels.rmsprop_step(p._data, self._grad(p), sq, gavg, buf, group["lr"],
                                       group["alpha"], group["eps"], group["weight_decay"],
                                       group["momentum"], group["centered"], group["maximize"])


class Adagrad(Optimizer):
    r"""Adagrad: the learning rate of each coordinate shrinks with its accumulated squared
    gradients, :math:`\eta_t = \eta / (1 + (t-1)\,\mathrm{lr\_decay})`."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        _check("learning rate", lr, lr >= 0)
        _check("lr_decay value", lr_decay, lr_decay >= 0)
        _check("weight_decay value", weight_decay, weight_decay >= 0)
        _check("initial_accumulator_value value", initial_accumulator_value,
               initial_accumulator_value >= 0)
        _check("epsilon value", eps, eps >= 0)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _update(self, group, p, state):
        if "sum" not in state:
            state["step"] = creation.zeros((), dtype="float32")
            state["sum"] = creation.full_like(p, group["initial_accumulator_value"])
        step = _step_tensor(state)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        p._device.kernels.adagrad_step(p._data, self._grad(p), state["sum"]._data, clr,
                                       group["eps"], group["weight_decay"], group["maximize"])
