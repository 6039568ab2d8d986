r"""Fused optimizer updates on the GPU: one grid-stride pass over a parameter updates it and
its state in place, with the same per-element arithmetic as ``kernels.cpu.optim``.

Each kernel applies, per element, exactly the update of its PyTorch namesake, with ``g``
the gradient (negated when ``maximize``) plus ``weight_decay * p`` where that optimizer
adds it to the gradient:

* SGD: :math:`b \leftarrow \mu b + (1 - \tau) g` (:math:`b = g` on the first step),
  :math:`d = g + \mu b` (Nesterov) or :math:`d = b`, then :math:`p \leftarrow p - \eta d`.
* Adam/AdamW: :math:`m \leftarrow m + (1-\beta_1)(g - m)`,
  :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
  :math:`p \leftarrow p - \frac{\eta}{1-\beta_1^t}\, m / (\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon)`
  (AMSGrad uses :math:`\max` of all :math:`v`; AdamW first scales :math:`p` by
  :math:`1 - \eta\lambda`).
* RMSprop: :math:`s \leftarrow \alpha s + (1-\alpha) g^2`, :math:`p \leftarrow p - \eta\,
  g / (\sqrt{s - \bar g^2} + \epsilon)` (centered) with optional momentum.
* Adagrad: :math:`s \leftarrow s + g^2`,
  :math:`p \leftarrow p - \eta_t\, g / (\sqrt{s} + \epsilon)`.

The launchers cast the hyper-parameters to the parameter's dtype exactly as the CPU
launchers do, so a float32 update stays in float32 arithmetic (where the CPU kernel mixes in
a float64 literal, this one does the same: the kernel bodies are the CPU bodies with the
``prange`` loop turned into a grid-stride loop). Sharing the bodies with the CPU through
per-element functions was tried: with the state arrays read inside conditionals (AMSGrad,
centered RMSprop, momentum), LLVM then stopped vectorising the CPU loops, and a 1000-element
Adam step took 1.5-2x as long, so each device keeps its copy of the loop. A state array
that the chosen variant does not read may be None or empty; the parameter itself is passed
in its place.
"""
from __future__ import annotations

import math

from ._jit import CudaKernel
from ._runtime import cuda, grid
from .elementwise import contiguous


def _sgd(p, g, buf, lr, wd, momentum, dampening, nesterov, maximize, first):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d = d + wd * p[i]
        if momentum != 0:
            if first:
                b = d
            else:
                b = buf[i] * momentum + d * (1 - dampening)
            buf[i] = b
            d = d + momentum * b if nesterov else b
        p[i] = p[i] - lr * d


def _adam(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, bc1, bc2_sqrt, amsgrad, decoupled,
          maximize):
    step_size = lr / bc1
    one = beta1 - beta1 + 1
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            if decoupled:
                p[i] = p[i] * (one - lr * wd)
            else:
                d = d + wd * p[i]
        mi = m[i] + (one - beta1) * (d - m[i])
        vi = v[i] * beta2 + (one - beta2) * d * d
        m[i] = mi
        v[i] = vi
        if amsgrad:
            if vi > vmax[i]:
                vmax[i] = vi
            vi = vmax[i]
        p[i] = p[i] - step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))


def _rmsprop(p, g, sq, gavg, buf, lr, alpha, eps, wd, momentum, centered, maximize):
    one = alpha - alpha + 1
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d = d + wd * p[i]
        s = sq[i] * alpha + (one - alpha) * d * d
        sq[i] = s
        if centered:
            ga = gavg[i] + (one - alpha) * (d - gavg[i])
            gavg[i] = ga
            avg = math.sqrt(s - ga * ga) + eps
        else:
            avg = math.sqrt(s) + eps
        if momentum > 0:
            b = buf[i] * momentum + d / avg
            buf[i] = b
            p[i] = p[i] - lr * b
        else:
            p[i] = p[i] - lr * (d / avg)


def _adagrad(p, g, ssum, clr, eps, wd, maximize):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d = d + wd * p[i]
        s = ssum[i] + d * d
        ssum[i] = s
        p[i] = p[i] - clr * (d / (math.sqrt(s) + eps))


_sgd_k = CudaKernel(_sgd)
_adam_k = CudaKernel(_adam)
_rmsprop_k = CudaKernel(_rmsprop)
_adagrad_k = CudaKernel(_adagrad)


def _param(p):
    """The flat device array of the parameter (updated in place, so it must be contiguous)."""
    if not p.flags.c_contiguous:
        raise ValueError("optimizer step: the parameter must be C-contiguous")
    return p.flat()


def _state(a, p, used):
    """The flat array of an in-place state; ``p``'s when the variant does not read it."""
    if not used or a is None or a.size == 0:
        if used and p.size:
            raise ValueError("optimizer step: a state array the update reads is missing")
        return p.flat()
    if a.shape != p.shape and a.size != p.size:
        raise ValueError(f"optimizer step: state of shape {a.shape} for a parameter of shape "
                         f"{p.shape}")
    if not a.flags.c_contiguous:
        raise ValueError("optimizer step: state arrays must be C-contiguous")
    return a.flat()


def _grad(g):
    return contiguous(g).flat()


def sgd_step(p, g, buf, lr, weight_decay, momentum, dampening, nesterov, maximize, first):
    """In-place SGD update of C-contiguous ``p`` (and momentum buffer ``buf``)."""
    if p.size == 0:
        return
    t = p.dtype.type
    _sgd_k.launch(*grid(p.size), _param(p), _grad(g), _state(buf, p, momentum != 0), t(lr),
                  t(weight_decay), t(momentum), t(dampening), bool(nesterov), bool(maximize),
                  bool(first))


def adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, amsgrad,
              decoupled, maximize):
    """In-place Adam (``decoupled=False``) or AdamW update at step ``step`` (1-based)."""
    if p.size == 0:
        return
    t = p.dtype.type
    bc1 = 1 - beta1 ** step
    bc2_sqrt = math.sqrt(1 - beta2 ** step)
    _adam_k.launch(*grid(p.size), _param(p), _grad(g), _state(m, p, True),
                   _state(v, p, True), _state(vmax, p, bool(amsgrad)), t(lr), t(beta1),
                   t(beta2), t(eps), t(weight_decay), t(bc1), t(bc2_sqrt), bool(amsgrad),
                   bool(decoupled), bool(maximize))


def rmsprop_step(p, g, sq, gavg, buf, lr, alpha, eps, weight_decay, momentum, centered,
                 maximize):
    """In-place RMSprop update (``gavg`` used when centered, ``buf`` when momentum > 0)."""
    if p.size == 0:
        return
    t = p.dtype.type
    _rmsprop_k.launch(*grid(p.size), _param(p), _grad(g), _state(sq, p, True),
                      _state(gavg, p, bool(centered)), _state(buf, p, momentum > 0), t(lr),
                      t(alpha), t(eps), t(weight_decay), t(momentum), bool(centered),
                      bool(maximize))


def adagrad_step(p, g, ssum, clr, eps, weight_decay, maximize):
    """In-place Adagrad update with the step's learning rate ``clr``."""
    if p.size == 0:
        return
    t = p.dtype.type
    _adagrad_k.launch(*grid(p.size), _param(p), _grad(g), _state(ssum, p, True), t(clr),
                      t(eps), t(weight_decay), bool(maximize))


__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step"]
