r"""int8 layers for inference, and their quantization-aware training twins.

A quantized ``Linear`` keeps its weight :math:`W` as int8 with one scale per output
feature (symmetric: zero point 0), :math:`W \approx s_w[n]\,Q_w`. An input row is
quantized with a scale and zero point of its own, :math:`x \approx s_a (Q_a - z_a)`, so

.. math::
    y[m, n] = \sum_k x[m,k] W[n,k] + b[n]
      \approx s_a\, s_w[n] \Big(\underbrace{\textstyle\sum_k Q_a[m,k]\,Q_w[n,k]}_
      {\text{int8} \times \text{int8} \to \text{int32}} - z_a \sum_k Q_w[n,k]\Big) + b[n].

The sum is the ``matmul_int8`` kernel (exact in int32); the row sums of :math:`Q_w` are
computed once; ``qlinear_epilogue`` applies the correction, the scales and the bias in one
pass. A quantized ``Conv2d`` is the same product over unfolded int8 patches (padding is
filled with :math:`z_a`, the integer that stands for 0.0).

* ``DynamicQuantizedLinear``: the activation scale comes from each input's own range
  (post-training *dynamic* quantization: nothing to calibrate).
* ``QuantizedLinear``, ``QuantizedConv2d``: the activation scale was fixed beforehand by
  an observer that watched calibration data (*static* quantization).

These layers take and return float32 tensors (they quantize on entry and dequantize on
exit) and do not record gradients. ``QATLinear`` and ``QATConv2d`` train in float with
fake quantization of the weight and the input, and convert to the static layers.
"""
from __future__ import annotations

import numpy as np

from .. import creation, dtypes
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..nn.conv import Conv2d
from ..nn.layers import Linear
from ..nn.module import Module
from ..ops.nn_conv import _conv_padding
from ..tensor import Tensor
from .fake_quantize import FakeQuantize
from .observer import PerChannelMinMaxObserver, calculate_qparams


def quantize_weight(w: Tensor, per_channel: bool = True):
    """``(int8 weight, float32 scales of shape (out_features,))``: symmetric, one scale per
    output feature (``per_channel``) or one for the whole weight repeated per feature."""
    k = w._device.kernels
    with no_grad():
        flat = w.detach().reshape(w.shape[0], -1)
        if per_channel:
            lo = flat.amin(1).cpu().numpy()
            hi = flat.amax(1).cpu().numpy()
        else:
            lo = np.float32(flat.amin().item())
            hi = np.float32(flat.amax().item())
    scale, zero = calculate_qparams(lo, hi, "per_channel_symmetric" if per_channel
                                    else "per_tensor_symmetric")
    q = k.quantize(flat._data, k.from_host(scale), k.from_host(zero), -128, 127)
    if not per_channel:
        scale = np.repeat(scale, w.shape[0])
    return (Tensor._make(q, device=w._device).reshape(w.shape),
            Tensor._make(k.from_host(scale.astype(np.float32)), device=w._device))


def _input_qparams(x: Tensor):
    """Affine int8 scale and zero point of ``x``'s own range (dynamic quantization)."""
    with no_grad():
        lo = np.float32(x.amin().item())
        hi = np.float32(x.amax().item())
    s, z = calculate_qparams(lo, hi, "per_tensor_affine")
    return float(s[0]), int(z[0])


class _QuantizedBase(Module):
    """Holds the int8 weight (buffer ``weight``), its per-feature scales
    (``weight_scale``) and the float bias (``bias``, or None) as state."""

    def _set_weight(self, w: Tensor, bias: Tensor | None, per_channel: bool) -> None:
        q, scale = quantize_weight(w, per_channel)
        self.register_buffer("weight", q)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if bias is None
                             else bias.detach().to(dtypes.float32).clone())
        self._row_sums = None

    def _prepared(self):
        """``(int8 weight as (out, in), its row sums, scales, bias array or None)``."""
        k = self.weight._device.kernels
        w2 = self.weight.reshape(self.weight.shape[0], -1)._data
        data, version = self.weight._data, self.weight._version[0]
        c = self._row_sums  # recomputed for a new or rewritten weight
        if c is None or c[0] is not data or c[1] != version:
            self._row_sums = c = (data, version, k.int8_row_sums(w2))
        b = None if self.bias is None else self.bias._data
        return w2, c[2], self.weight_scale._data, b

    def _check_input(self, x: Tensor, ndim: tuple, what: str) -> None:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        if x.dtype is not dtypes.float32:
            raise TypeError(f"{name}: expected a float32 input, got {x.dtype}")
        if x.ndim not in ndim or x.shape[-1 if what == "features" else 1] != self.in_dim:
            raise RuntimeError(f"{name}: expected input with {self.in_dim} {what} "
                               f"({ '/'.join(map(str, ndim))}-D), got shape {list(x.shape)}")
        if x._device is not self.weight._device:
            raise RuntimeError(f"{name}: input is on {x._device} but the layer is on "
                               f"{self.weight._device}")

    def _linear(self, x2: Tensor, a_scale: float, a_zero: int) -> Tensor:
        k = x2._device.kernels
        w2, row_sums, w_scale, b = self._prepared()
        one = np.array([a_scale], np.float32)
        zp = np.array([a_zero], np.int32)
        qa = k.quantize(x2.contiguous()._data, k.from_host(one), k.from_host(zp), -128, 127)
        acc = k.matmul_int8(qa, w2)
        out = k.qlinear_epilogue(acc, a_scale, a_zero, row_sums, w_scale, b)
        return Tensor._make(out, device=x2._device)

    def state_bytes(self) -> int:
        """Bytes of this layer's state (int8 weight, float32 scales and bias)."""
        return sum(t.numel() * t.element_size() for t in self.state_dict().values())


class DynamicQuantizedLinear(_QuantizedBase):
    """``Linear`` with an int8 weight; each input is quantized with its own range."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = self.in_dim = in_features
        self.out_features = out_features
        self._set_weight(creation.zeros(out_features, in_features),
                         creation.zeros(out_features) if bias else None, True)

    @classmethod
    def from_float(cls, mod: Linear, per_channel: bool = True):
        q = cls(mod.in_features, mod.out_features, mod.bias is not None)
        q._set_weight(mod.weight, mod.bias, per_channel)
        return q.to(mod.weight.device)

    def forward(self, x):
        self._check_input(x, (1, 2, 3, 4, 5, 6, 7, 8), "features")
        lead = tuple(x.shape[:-1])
        x2 = x.detach().reshape(-1, self.in_features)
        if x2.shape[0] == 0:
            return creation.zeros(*lead, self.out_features, device=x.device)
        s, z = _input_qparams(x2)
        return self._linear(x2, s, z).reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype=int8, qscheme=per_channel_symmetric")


class QuantizedLinear(_QuantizedBase):
    """``Linear`` with an int8 weight and a calibrated input scale and zero point
    (buffers ``scale`` and ``zero_point``)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = self.in_dim = in_features
        self.out_features = out_features
        self._set_weight(creation.zeros(out_features, in_features),
                         creation.zeros(out_features) if bias else None, True)
        self.register_buffer("scale", creation.tensor([1.0]))
        self.register_buffer("zero_point", creation.tensor([0], dtype=dtypes.int32))

    @classmethod
    def from_float(cls, mod: Linear, act_scale, act_zero, per_channel: bool = True):
        q = cls(mod.in_features, mod.out_features, mod.bias is not None)
        q._set_weight(mod.weight, mod.bias, per_channel)
        q.scale = creation.tensor(np.asarray(act_scale, np.float32).reshape(1))
        q.zero_point = creation.tensor(np.asarray(act_zero, np.int32).reshape(1))
        return q.to(mod.weight.device)

    def forward(self, x):
        self._check_input(x, (1, 2, 3, 4, 5, 6, 7, 8), "features")
        lead = tuple(x.shape[:-1])
        x2 = x.detach().reshape(-1, self.in_features)
        out = self._linear(x2, float(self.scale.item()), int(self.zero_point.item()))
        return out.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={float(self.scale.item()):.4g}, "
                f"zero_point={int(self.zero_point.item())}")


class QuantizedConv2d(_QuantizedBase):
    """``Conv2d`` (``groups=1``) with an int8 weight and a calibrated input scale."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=(1, 1),
                 padding=(0, 0), dilation=(1, 1), bias: bool = True):
        super().__init__()
        self.in_channels = self.in_dim = in_channels
        self.out_channels = out_channels
        self.kernel_size = tuple(kernel_size)
        self.stride = tuple(stride)
        self.padding = tuple(padding)
        self.dilation = tuple(dilation)
        self._set_weight(creation.zeros(out_channels, in_channels, *self.kernel_size),
                         creation.zeros(out_channels) if bias else None, True)
        self.register_buffer("scale", creation.tensor([1.0]))
        self.register_buffer("zero_point", creation.tensor([0], dtype=dtypes.int32))

    @classmethod
    def from_float(cls, mod: Conv2d, act_scale, act_zero, per_channel: bool = True):
        if mod.groups != 1:
            raise NotImplementedError(f"QuantizedConv2d: groups={mod.groups} is not "
                                      "supported (only groups=1)")
        pads = _conv_padding(mod.padding, 2, mod.kernel_size, mod.dilation, mod.stride,
                             "QuantizedConv2d")
        if pads[0] != pads[1] or pads[2] != pads[3]:
            raise NotImplementedError(f"QuantizedConv2d: asymmetric padding {list(pads)} "
                                      "(padding='same' with an even kernel) is not supported")
        q = cls(mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride,
                (pads[0], pads[2]), mod.dilation, mod.bias is not None)
        q._set_weight(mod.weight, mod.bias, per_channel)
        q.scale = creation.tensor(np.asarray(act_scale, np.float32).reshape(1))
        q.zero_point = creation.tensor(np.asarray(act_zero, np.int32).reshape(1))
        return q.to(mod.weight.device)

    def forward(self, x):
        self._check_input(x, (4,), "channels")
        k = x._device.kernels
        N, _, H, W = x.shape
        a_scale, a_zero = float(self.scale.item()), int(self.zero_point.item())
        one = np.array([a_scale], np.float32)
        zp = np.array([a_zero], np.int32)
        qx = k.quantize(x.detach().contiguous()._data, k.from_host(one), k.from_host(zp),
                        -128, 127)
        cols = k.unfold_int8(qx, self.kernel_size, self.stride, self.padding, self.dilation,
                             a_zero)
        w2, row_sums, w_scale, b = self._prepared()
        out = k.qlinear_epilogue(k.matmul_int8(cols, w2), a_scale, a_zero, row_sums,
                                 w_scale, b)
        oh = (H + 2 * self.padding[0] - self.dilation[0] * (self.kernel_size[0] - 1) - 1) \
            // self.stride[0] + 1
        ow = (W + 2 * self.padding[1] - self.dilation[1] * (self.kernel_size[1] - 1) - 1) \
            // self.stride[1] + 1
        y = Tensor._make(out, device=x._device).reshape(N, oh, ow, self.out_channels)
        return y.permute(0, 3, 1, 2).contiguous()

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"scale={float(self.scale.item()):.4g}, "
                f"zero_point={int(self.zero_point.item())}")


# ------------------------------------------------------------ quantization-aware training


class QATLinear(Linear):
    """``Linear`` that trains with fake-quantized weights (per output feature, symmetric)
    and fake-quantized inputs (moving-average range)."""

    @classmethod
    def from_float(cls, mod: Linear, qconfig):
        q = cls.__new__(cls)
        Module.__init__(q)
        q.in_features, q.out_features = mod.in_features, mod.out_features
        q.weight = mod.weight
        if mod.bias is not None:
            q.bias = mod.bias
        else:
            q.register_parameter("bias", None)
        q.activation_fake_quant = qconfig.activation()
        q.weight_fake_quant = qconfig.weight()
        q.train(mod.training)
        return q

    def forward(self, x):
        return F.linear(self.activation_fake_quant(x), self.weight_fake_quant(self.weight),
                        self.bias)


class QATConv2d(Conv2d):
    """``Conv2d`` that trains with fake-quantized weights and inputs."""

    @classmethod
    def from_float(cls, mod: Conv2d, qconfig):
        q = cls.__new__(cls)
        Module.__init__(q)
        for a in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                  "dilation", "groups", "padding_mode"):
            object.__setattr__(q, a, getattr(mod, a))
        q.weight = mod.weight
        if mod.bias is not None:
            q.bias = mod.bias
        else:
            q.register_parameter("bias", None)
        q.activation_fake_quant = qconfig.activation()
        q.weight_fake_quant = qconfig.weight()
        q.train(mod.training)
        return q

    def forward(self, x):
        return F.conv2d(self.activation_fake_quant(x), self.weight_fake_quant(self.weight),
                        self.bias, self.stride, self.padding, self.dilation, self.groups)


def default_weight_fake_quant():
    return FakeQuantize(PerChannelMinMaxObserver(0), per_channel=True, ch_axis=0)


__all__ = ["DynamicQuantizedLinear", "QuantizedLinear", "QuantizedConv2d", "QATLinear",
           "QATConv2d", "quantize_weight"]
