r"""Loss modules: thin wrappers over ``numbagrad.nn.functional`` that hold the options.

``reduction`` is ``'none'`` (one loss per element or sample), ``'mean'`` or ``'sum'``;
the formulas are in the functional docstrings, e.g. cross-entropy
:math:`\ell_n = -w_{y_n}\log \mathrm{softmax}(x_n)_{y_n}`.
"""
from __future__ import annotations

from ..ops.nn_loss import _distillation_hparams, _reduction
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if reduction != "batchmean" or size_average is not None or reduce is not None:
            reduction = _reduction(reduction, size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    r""":math:`\ell_i = (x_i - y_i)^2`."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    r""":math:`\ell_i = |x_i - y_i|`."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    r""":math:`\ell_i = \tfrac12 d_i^2/\beta` for :math:`|d_i| < \beta`, else
    :math:`|d_i| - \tfrac12\beta`."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    r""":math:`\ell_i = \tfrac12 d_i^2` for :math:`|d_i| < \delta`, else
    :math:`\delta(|d_i| - \tfrac12\delta)`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    r"""Softmax cross-entropy of logits, class indices or probabilities as targets:
    :math:`\ell_n = -\sum_c w_c q_{n,c}\log\mathrm{softmax}(x_n)_c`."""

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    r""":math:`\ell_n = -w_{y_n} x_{n,y_n}` for log-probabilities :math:`x`."""

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    r""":math:`\ell_i = -w_i(y_i\log x_i + (1-y_i)\log(1-x_i))`."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r""":math:`\ell_i = w_i((1-y_i)x_i - (1 + (p_c-1)y_i)\log\sigma(x_i))`."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    r""":math:`\ell_i = y_i(\log y_i - x_i)` with ``input`` :math:`x` as log-probabilities;
    ``reduction='batchmean'`` gives the true KL divergence per sample."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class DistillationLoss(_Loss):
    r"""Knowledge distillation from a teacher's logits:
    :math:`\ell_n = \alpha T^2\,\mathrm{KL}(\mathrm{softmax}(t_n/T)\,\|\,
    \mathrm{softmax}(s_n/T)) + (1-\alpha)\,\mathrm{CE}(s_n, y_n)`.

    ``forward(student_logits, teacher_logits, targets)``; the teacher's logits get no
    gradient. See ``numbagrad.nn.functional.distillation_loss``."""

    def __init__(self, T: float = 4.0, alpha: float = 0.9, reduction: str = "mean"):
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"DistillationLoss: reduction must be 'none', 'mean' or 'sum', "
                             f"got {reduction!r}")
        super().__init__(reduction=reduction)
        self.T, self.alpha = _distillation_hparams(T, alpha, "DistillationLoss")

    def forward(self, student_logits, teacher_logits, targets):
        return F.distillation_loss(student_logits, teacher_logits, targets, T=self.T,
                                   alpha=self.alpha, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"T={self.T}, alpha={self.alpha}, reduction={self.reduction!r}"


__all__ = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "DistillationLoss"]
