r"""Observers: they watch the values a tensor takes and choose its quantization parameters.

Affine quantization maps a real value :math:`x` to an integer :math:`q` in
:math:`[q_{min}, q_{max}]` (int8: :math:`[-128, 127]`) with a *scale* :math:`s > 0` and a
*zero point* :math:`z`:

.. math::
    q = \mathrm{clamp}(\mathrm{round}(x / s) + z,\ q_{min},\ q_{max}),\qquad
    \hat x = (q - z)\, s .

Given the observed range :math:`[m, M]` (widened to contain 0, so that 0 is exact):

* **affine** (``per_tensor_affine``): :math:`s = (M - m) / (q_{max} - q_{min})`,
  :math:`z = q_{min} - \mathrm{round}(m / s)`; the whole int8 range covers :math:`[m, M]`.
* **symmetric** (``per_tensor_symmetric``, ``per_channel_symmetric``):
  :math:`s = \max(|m|, |M|) / ((q_{max} - q_{min}) / 2)`, :math:`z = 0`; used for weights,
  so that a product of two quantized values needs no weight zero-point correction.

The scale is at least float32's machine epsilon (a tensor of zeros still gets a usable
scale). These are PyTorch's rules, computed in float32 as PyTorch does.

Observers here:

* ``MinMaxObserver``: running minimum and maximum of everything seen;
* ``MovingAverageMinMaxObserver``: exponential moving averages of each batch's minimum and
  maximum (quantization-aware training, where the range drifts while the model learns);
* ``PerChannelMinMaxObserver``: one range per slice along ``ch_axis`` (weights: one scale
  per output channel);
* ``HistogramObserver``: a histogram of everything seen, and a range that keeps a given
  fraction (``percentile``) of the values' mass, clipping rare outliers instead of
  stretching the scale to cover them. (PyTorch's observer of that name searches for the
  range with the smallest quantization error instead; percentile clipping is the simpler
  and common calibration rule.)
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..tensor import Tensor

per_tensor_affine = "per_tensor_affine"
per_tensor_symmetric = "per_tensor_symmetric"
per_channel_symmetric = "per_channel_symmetric"
per_channel_affine = "per_channel_affine"

_EPS = np.float32(np.finfo(np.float32).eps)
_SCHEMES = (per_tensor_affine, per_tensor_symmetric, per_channel_symmetric,
            per_channel_affine)


def calculate_qparams(min_val, max_val, qscheme: str, quant_min: int = -128,
                      quant_max: int = 127):
    """``(scale float32 array, zero_point int32 array)`` for observed ranges ``min_val``,
    ``max_val`` (numpy arrays or floats, one entry per channel or a single one)."""
    if qscheme not in _SCHEMES:
        raise ValueError(f"calculate_qparams: unknown qscheme {qscheme!r}, expected one of "
                         f"{list(_SCHEMES)}")
    lo = np.minimum(np.asarray(min_val, np.float32), np.float32(0)).reshape(-1)
    hi = np.maximum(np.asarray(max_val, np.float32), np.float32(0)).reshape(-1)
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("calculate_qparams: the observed range contains NaN")
    if qscheme.endswith("symmetric"):
        amax = np.maximum(-lo, hi)
        scale = amax / np.float32((quant_max - quant_min) / 2)
        scale = np.maximum(scale, _EPS).astype(np.float32)
        zero = np.zeros(scale.shape, np.int32)
    else:
        scale = (hi - lo) / np.float32(quant_max - quant_min)
        scale = np.maximum(scale, _EPS).astype(np.float32)
        zero = quant_min - np.rint(lo / scale).astype(np.int64)
        zero = np.clip(zero, quant_min, quant_max).astype(np.int32)
    return scale, zero


class ObserverBase(Module):
    """An identity module that records statistics of what passes through it."""

    def __init__(self, qscheme: str = per_tensor_affine, quant_min: int = -128,
                 quant_max: int = 127):
        super().__init__()
        if qscheme not in _SCHEMES:
            raise ValueError(f"{type(self).__name__}: unknown qscheme {qscheme!r}, expected "
                             f"one of {list(_SCHEMES)}")
        if not (-128 <= quant_min < quant_max <= 127):
            raise ValueError(f"{type(self).__name__}: need -128 <= quant_min < quant_max <= "
                             f"127 for int8, got [{quant_min}, {quant_max}]")
        self.qscheme = qscheme
        self.quant_min = quant_min
        self.quant_max = quant_max

    def _check(self, x) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got "
                            f"{type(x).__name__}")
        if np.dtype(x.dtype.np).kind != "f":
            raise TypeError(f"{type(self).__name__}: expected a float tensor, got {x.dtype}")
        if x.numel() == 0:
            raise ValueError(f"{type(self).__name__}: cannot observe an empty tensor of "
                             f"shape {list(x.shape)}")

    def calculate_qparams(self):
        """``(scale, zero_point)`` as numpy arrays (float32, int32)."""
        lo, hi = self._range()
        return calculate_qparams(lo, hi, self.qscheme, self.quant_min, self.quant_max)

    def extra_repr(self) -> str:
        return f"qscheme={self.qscheme}, quant_min={self.quant_min}, quant_max={self.quant_max}"


def _minmax(x: Tensor):
    with no_grad():
        return np.float32(x.detach().amin().item()), np.float32(x.detach().amax().item())


class MinMaxObserver(ObserverBase):
    """Running minimum and maximum over every tensor seen."""

    def __init__(self, qscheme: str = per_tensor_affine, quant_min: int = -128,
                 quant_max: int = 127):
        super().__init__(qscheme, quant_min, quant_max)
        if qscheme.startswith("per_channel"):
            raise ValueError("MinMaxObserver is per tensor; use PerChannelMinMaxObserver")
        self.min_val = np.float32(np.inf)
        self.max_val = np.float32(-np.inf)

    def forward(self, x):
        self._check(x)
        lo, hi = _minmax(x)
        self.min_val = min(self.min_val, lo)
        self.max_val = max(self.max_val, hi)
        return x

    def _range(self):
        if not self.min_val <= self.max_val:
            raise RuntimeError(f"{type(self).__name__}: no values observed yet; run "
                               "calibration data through the model first")
        return self.min_val, self.max_val


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Exponential moving average of each batch's minimum and maximum
    (:math:`m \\leftarrow m + c\\,(m_{batch} - m)`); the first batch sets the range."""

    def __init__(self, averaging_constant: float = 0.01, qscheme: str = per_tensor_affine,
                 quant_min: int = -128, quant_max: int = 127):
        super().__init__(qscheme, quant_min, quant_max)
        if not 0 < averaging_constant <= 1:
            raise ValueError("MovingAverageMinMaxObserver: averaging_constant must be in "
                             f"(0, 1], got {averaging_constant}")
        self.averaging_constant = float(averaging_constant)

    def forward(self, x):
        self._check(x)
        lo, hi = _minmax(x)
        if not self.min_val <= self.max_val:
            self.min_val, self.max_val = lo, hi
        else:
            c = np.float32(self.averaging_constant)
            self.min_val = np.float32(self.min_val + c * (lo - self.min_val))
            self.max_val = np.float32(self.max_val + c * (hi - self.max_val))
        return x


class PerChannelMinMaxObserver(ObserverBase):
    """Running minimum and maximum of each slice along ``ch_axis``."""

    def __init__(self, ch_axis: int = 0, qscheme: str = per_channel_symmetric,
                 quant_min: int = -128, quant_max: int = 127):
        super().__init__(qscheme, quant_min, quant_max)
        if not qscheme.startswith("per_channel"):
            raise ValueError("PerChannelMinMaxObserver needs a per_channel qscheme, got "
                             f"{qscheme!r}")
        self.ch_axis = ch_axis
        self.min_val = None
        self.max_val = None

    def forward(self, x):
        self._check(x)
        if x.ndim == 0:
            raise ValueError("PerChannelMinMaxObserver: a 0-d tensor has no channel axis")
        axis = self.ch_axis % x.ndim
        with no_grad():
            flat = x.detach().transpose(0, axis).reshape(x.shape[axis], -1)
            lo = flat.amin(1).cpu().numpy().astype(np.float32)
            hi = flat.amax(1).cpu().numpy().astype(np.float32)
        if self.min_val is None:
            self.min_val, self.max_val = lo, hi
        elif self.min_val.shape != lo.shape:
            raise ValueError(f"PerChannelMinMaxObserver: saw {self.min_val.size} channels "
                             f"before and {lo.size} now (shape {list(x.shape)})")
        else:
            self.min_val = np.minimum(self.min_val, lo)
            self.max_val = np.maximum(self.max_val, hi)
        return x

    def _range(self):
        if self.min_val is None:
            raise RuntimeError("PerChannelMinMaxObserver: no values observed yet")
        return self.min_val, self.max_val


class HistogramObserver(ObserverBase):
    """A histogram of every value seen (``bins`` equal bins over the running range) and a
    range that keeps ``percentile`` percent of the mass: for the affine scheme the lower
    and upper tails of ``(100 - percentile) / 2`` percent each are clipped; for the
    symmetric one, the largest ``100 - percentile`` percent of ``|x|``.

    When a new tensor extends the range, the old counts are moved into the wider bins
    (each old bin's count goes to the new bin holding its centre)."""

    def __init__(self, bins: int = 2048, percentile: float = 99.99,
                 qscheme: str = per_tensor_affine, quant_min: int = -128,
                 quant_max: int = 127):
        super().__init__(qscheme, quant_min, quant_max)
        if qscheme.startswith("per_channel"):
            raise ValueError("HistogramObserver is per tensor")
        if not isinstance(bins, int) or bins < 2:
            raise ValueError(f"HistogramObserver: bins must be an int >= 2, got {bins!r}")
        if not 50.0 < percentile <= 100.0:
            raise ValueError(f"HistogramObserver: percentile must be in (50, 100], got "
                             f"{percentile}")
        self.bins = bins
        self.percentile = float(percentile)
        self.histogram = None
        self.min_val = np.float32(np.inf)
        self.max_val = np.float32(-np.inf)

    def forward(self, x):
        self._check(x)
        lo, hi = _minmax(x)
        if self.qscheme.endswith("symmetric"):
            a = max(abs(lo), abs(hi))
            lo, hi = -a, a
        if self.histogram is None:
            new_lo, new_hi = lo, hi
        else:
            new_lo, new_hi = min(lo, self.min_val), max(hi, self.max_val)
        if new_hi <= new_lo:  # a constant tensor: give the bins some width
            new_hi = np.float32(new_lo + max(abs(new_lo), 1.0) * 1e-3)
        k = x._device.kernels
        counts = k.histogram(x.detach().reshape(-1)._data, float(new_lo), float(new_hi),
                             self.bins)
        counts = np.asarray(k.to_host(counts), np.int64)
        if self.histogram is not None:
            counts = counts + self._rebin(new_lo, new_hi)
        self.histogram = counts
        self.min_val, self.max_val = np.float32(new_lo), np.float32(new_hi)
        return x

    def _rebin(self, lo, hi):
        old = self.histogram
        width = (self.max_val - self.min_val) / self.bins
        centres = self.min_val + (np.arange(self.bins) + 0.5) * width
        idx = np.clip(((centres - lo) / (hi - lo) * self.bins).astype(np.int64), 0,
                      self.bins - 1)
        out = np.zeros(self.bins, np.int64)
        np.add.at(out, idx, old)
        return out

    def _range(self):
        if self.histogram is None:
            raise RuntimeError("HistogramObserver: no values observed yet; run calibration "
                               "data through the model first")
        h = self.histogram.astype(np.float64)
        total = h.sum()
        edges = np.linspace(self.min_val, self.max_val, self.bins + 1)
        cdf = np.cumsum(h) / total
        if self.qscheme.endswith("symmetric"):
            # |x| mass: fold the histogram around 0 by bin centres
            centres = (edges[:-1] + edges[1:]) / 2
            order = np.argsort(np.abs(centres), kind="stable")
            acc = np.cumsum(h[order]) / total
            j = int(np.searchsorted(acc, self.percentile / 100.0))
            j = min(j, self.bins - 1)
            a = np.float32(np.abs(centres[order[j]]) + (edges[1] - edges[0]) / 2)
            return -a, a
        tail = (100.0 - self.percentile) / 200.0
        i = int(np.searchsorted(cdf, tail, side="right"))
        j = int(np.searchsorted(cdf, 1.0 - tail, side="left"))
        i = min(i, self.bins - 1)
        j = min(max(j, i), self.bins - 1)
        return np.float32(edges[i]), np.float32(edges[j + 1])

    def extra_repr(self) -> str:
        return f"bins={self.bins}, percentile={self.percentile}, " + super().extra_repr()


__all__ = ["calculate_qparams", "ObserverBase", "MinMaxObserver",
           "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver", "HistogramObserver",
           "per_tensor_affine", "per_tensor_symmetric", "per_channel_symmetric",
           "per_channel_affine"]
