r"""Fake quantization: quantize and dequantize in one step, in float, with a gradient.

.. math::
    \mathrm{fq}(x) = (\mathrm{clamp}(\mathrm{round}(x / s) + z,\ q_{min},\ q_{max}) - z)\,s

is a staircase: its true derivative is 0 almost everywhere, which would stop training.
Quantization-aware training uses the *straight-through estimator* instead: the backward
pass treats the rounding as the identity and keeps only the clamp,

.. math::
    \frac{\partial\, \mathrm{fq}}{\partial x} \approx
    \mathbb 1[q_{min} \le \mathrm{round}(x / s) + z \le q_{max}],

so values inside the representable range learn as if there were no quantization and
values clipped at either end get no gradient (PyTorch's rule). The model trains with the
rounding error in its forward pass and learns weights that survive it.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .observer import MovingAverageMinMaxObserver, PerChannelMinMaxObserver


def _qparam_arrays(scale, zero_point, x: Tensor, op: str):
    """``scale`` and ``zero_point`` as 1-D float32 / int32 host arrays, checked against
    ``x`` (one entry, or one per slice along axis 0)."""
    s = np.asarray(scale.detach().cpu().numpy() if isinstance(scale, Tensor) else scale,
                   np.float32).reshape(-1)
    z = np.asarray(zero_point.detach().cpu().numpy() if isinstance(zero_point, Tensor)
                   else zero_point).reshape(-1)
    if s.size != z.size:
        raise ValueError(f"{op}: scale has {s.size} entries but zero_point has {z.size}")
    if s.size not in (1, x.shape[0] if x.ndim else 1):
        raise ValueError(f"{op}: expected 1 scale or one per channel along axis 0 "
                         f"({x.shape[0] if x.ndim else 1}) for input of shape "
                         f"{list(x.shape)}, got {s.size}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"{op}: scales must be finite and > 0")
    if np.any(z != np.round(z)):
        raise ValueError(f"{op}: zero points must be integers")
    return s, z.astype(np.int32)


class FakeQuantizeFn(Function):
    @staticmethod
    def forward(ctx, x, scale, zero, qmin, qmax):
        ctx.save_for_backward(x)
        ctx.qparams = (scale, zero, qmin, qmax)
        k = x._device.kernels
        return k.fake_quantize(x._data, k.from_host(scale), k.from_host(zero), qmin, qmax)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        scale, zero, qmin, qmax = ctx.qparams
        k = x._device.kernels
        s, z = k.from_host(scale), k.from_host(zero)
        if not is_grad_enabled():  # the fused kernel: g where x is in range, else 0
            return Tensor._make(k.fake_quantize_backward(g._data, x._data, s, z, qmin, qmax),
                                device=g._device), None, None, None, None
        ones = k.fill(k.empty_like(x._data), 1)  # the 0/1 mask, so that g * mask records
        mask = Tensor._make(k.fake_quantize_backward(ones, x._data, s, z, qmin, qmax),
                            device=x._device)
        return g * mask, None, None, None, None


def _fake_quantize(x, scale, zero_point, quant_min, quant_max, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if np.dtype(x.dtype.np).kind != "f":
        raise TypeError(f"{op}: expected a float tensor, got {x.dtype}")
    if not (-128 <= quant_min <= quant_max <= 127):
        raise ValueError(f"{op}: need -128 <= quant_min <= quant_max <= 127, got "
                         f"[{quant_min}, {quant_max}]")
    s, z = _qparam_arrays(scale, zero_point, x, op)
    return FakeQuantizeFn.apply(x, s, z, int(quant_min), int(quant_max))


def fake_quantize_per_tensor_affine(x: Tensor, scale, zero_point, quant_min: int = -128,
                                    quant_max: int = 127) -> Tensor:
    """``(clamp(round(x / scale) + zero_point) - zero_point) * scale`` with the
    straight-through gradient (PyTorch: ``torch.fake_quantize_per_tensor_affine``)."""
    s = np.asarray(scale if not isinstance(scale, Tensor) else scale.item(), np.float32)
    if s.size != 1:
        raise ValueError("fake_quantize_per_tensor_affine: scale must be a single value")
    return _fake_quantize(x, s, zero_point, quant_min, quant_max,
                          "fake_quantize_per_tensor_affine")


def fake_quantize_per_channel_affine(x: Tensor, scale, zero_point, axis: int = 0,
                                     quant_min: int = -128, quant_max: int = 127) -> Tensor:
    """Per-channel fake quantization along ``axis`` (one scale and zero point per slice)."""
    if x.ndim == 0:
        raise ValueError("fake_quantize_per_channel_affine: a 0-d tensor has no channels")
    axis = axis % x.ndim
    if axis == 0:
        return _fake_quantize(x, scale, zero_point, quant_min, quant_max,
                              "fake_quantize_per_channel_affine")
    xt = x.transpose(0, axis).contiguous()
    y = _fake_quantize(xt, scale, zero_point, quant_min, quant_max,
                       "fake_quantize_per_channel_affine")
    return y.transpose(0, axis)


class FakeQuantize(Module):
    """Observe, then fake-quantize: in training mode the observer updates the range from
    each batch; ``disable_observer()`` freezes it and ``disable_fake_quant()`` makes the
    module the identity (PyTorch's ``FakeQuantize``)."""

    def __init__(self, observer=None, per_channel: bool = False, ch_axis: int = 0):
        super().__init__()
        if observer is None:
            observer = (PerChannelMinMaxObserver(ch_axis) if per_channel
                        else MovingAverageMinMaxObserver())
        self.activation_post_process = observer
        self.per_channel = per_channel
        self.ch_axis = ch_axis
        self.observer_enabled = True
        self.fake_quant_enabled = True

    def enable_observer(self, enabled: bool = True):
        self.observer_enabled = enabled
        return self

    def disable_observer(self):
        return self.enable_observer(False)

    def enable_fake_quant(self, enabled: bool = True):
        self.fake_quant_enabled = enabled
        return self

    def disable_fake_quant(self):
        return self.enable_fake_quant(False)

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, x):
        obs = self.activation_post_process
        if self.observer_enabled and self.training:
            with no_grad():
                obs(x.detach())
        if not self.fake_quant_enabled:
            return x
        scale, zero = obs.calculate_qparams()
        if self.per_channel:
            return fake_quantize_per_channel_affine(x, scale, zero, self.ch_axis,
                                                    obs.quant_min, obs.quant_max)
        return fake_quantize_per_tensor_affine(x, scale, zero, obs.quant_min, obs.quant_max)

    def extra_repr(self) -> str:
        return (f"per_channel={self.per_channel}, observer_enabled={self.observer_enabled}, "
                f"fake_quant_enabled={self.fake_quant_enabled}")


__all__ = ["FakeQuantize", "fake_quantize_per_tensor_affine",
           "fake_quantize_per_channel_affine"]
