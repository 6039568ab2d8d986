r"""Fused optimizer updates: one pass over a parameter updates it and its state in place.

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

Hyper-parameters arrive already cast to the parameter's dtype, so a float32 update stays in
float32 arithmetic.
"""
from __future__ import annotations

import math

from numba import prange

from ._jit import Kernel


def _sgd(p, g, buf, lr, wd, momentum, dampening, nesterov, maximize, first):
    for i in prange(p.size):
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
    for i in prange(p.size):
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
    for i in prange(p.size):
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
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d = d + wd * p[i]
        s = ssum[i] + d * d
        ssum[i] = s
        p[i] = p[i] - clr * (d / (math.sqrt(s) + eps))


_sgd_k = Kernel(_sgd)
_adam_k = Kernel(_adam)
_rmsprop_k = Kernel(_rmsprop)
_adagrad_k = Kernel(_adagrad)


def _flat(a):
    return a.reshape(-1)


def sgd_step(p, g, buf, lr, weight_decay, momentum, dampening, nesterov, maximize, first):
    """In-place SGD update of C-contiguous ``p`` (and momentum buffer ``buf``)."""
    t = p.dtype.type
    _sgd_k.pick(p.size)(_flat(p), _flat(g), _flat(buf), t(lr), t(weight_decay), t(momentum),
                        t(dampening), bool(nesterov), bool(maximize), bool(first))


def adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, amsgrad,
              decoupled, maximize):
    """In-place Adam (``decoupled=False``) or AdamW update at step ``step`` (1-based)."""
    t = p.dtype.type
    bc1 = 1 - beta1 ** step
    bc2_sqrt = math.sqrt(1 - beta2 ** step)
    _adam_k.pick(p.size)(_flat(p), _flat(g), _flat(m), _flat(v), _flat(vmax), t(lr), t(beta1),
                         t(beta2), t(eps), t(weight_decay), t(bc1), t(bc2_sqrt), bool(amsgrad),
                         bool(decoupled), bool(maximize))


def rmsprop_step(p, g, sq, gavg, buf, lr, alpha, eps, weight_decay, momentum, centered,
                 maximize):
    """In-place RMSprop update (``gavg`` used when centered, ``buf`` when momentum > 0)."""
    t = p.dtype.type
    _rmsprop_k.pick(p.size)(_flat(p), _flat(g), _flat(sq), _flat(gavg), _flat(buf), t(lr),
                            t(alpha), t(eps), t(weight_decay), t(momentum), bool(centered),
                            bool(maximize))


def adagrad_step(p, g, ssum, clr, eps, weight_decay, maximize):
    """In-place Adagrad update with the step's learning rate ``clr``."""
    t = p.dtype.type
    _adagrad_k.pick(p.size)(_flat(p), _flat(g), _flat(ssum), t(clr), t(eps), t(weight_decay),
                            bool(maximize))


__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step"]
