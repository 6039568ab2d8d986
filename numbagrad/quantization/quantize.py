"""Turning a float model into an int8 one: the three workflows of PyTorch's
``torch.ao.quantization``, for ``Linear`` (all three) and ``Conv2d`` (static and QAT).

* **Dynamic** (``quantize_dynamic``): weights become int8 at once; activations are
  quantized on the fly from their own range. No data needed.
* **Static** (``prepare`` -> run calibration batches -> ``convert``): an observer in front
  of each layer records the range of its inputs; ``convert`` fixes the activation scales
  from those ranges and quantizes the weights.
* **Quantization-aware training** (``prepare_qat`` -> train -> ``convert``): layers train
  with fake-quantized weights and inputs (straight-through gradient), so the weights adapt
  to the rounding; ``convert`` then builds the static int8 layers from the observers the
  training updated.

Every function returns a new model (a deep copy) unless ``inplace=True``, like PyTorch.
``model_size_bytes`` reports what a model's state takes (what ``numbagrad.save`` writes, less
the archive's small headers). A quantized model is saved with ``numbagrad.save(
model.state_dict(), path)`` and loaded by building the same quantized structure from the
float architecture (``quantize_dynamic(float_model)``, or ``prepare``/``convert``) and
calling ``load_state_dict``.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import NamedTuple

from ..nn.conv import Conv2d
from ..nn.layers import Linear
from ..nn.module import Module
from .fake_quantize import FakeQuantize
from .modules import (
    DynamicQuantizedLinear,
    QATConv2d,
    QATLinear,
    QuantizedConv2d,
    QuantizedLinear,
    default_weight_fake_quant,
)
from .observer import HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver


class QConfig(NamedTuple):
    """Factories of the activation and weight observers (or fake-quant modules)."""

    activation: Callable[[], Module]
    weight: Callable[[], Module]


default_qconfig = QConfig(activation=MinMaxObserver, weight=lambda: None)
histogram_qconfig = QConfig(activation=HistogramObserver, weight=lambda: None)
default_qat_qconfig = QConfig(activation=lambda: FakeQuantize(MovingAverageMinMaxObserver()),
                              weight=default_weight_fake_quant)


def _copy(model, inplace):
    if not isinstance(model, Module):
        raise TypeError(f"expected a numbagrad.nn.Module, got {type(model).__name__}")
    return model if inplace else copy.deepcopy(model)


def _swap(model: Module, fn) -> None:
    """Replace every descendant ``m`` for which ``fn(m)`` returns a module."""
    for name, child in list(model._modules.items()):
        if child is None:
            continue
        new = fn(child)
        if new is not None:
            model._modules[name] = new
        else:
            _swap(child, fn)


def quantize_dynamic(model: Module, qconfig_spec=None, dtype: str = "qint8",
                     inplace: bool = False, per_channel: bool = True) -> Module:
    """Replace every ``nn.Linear`` (the types in ``qconfig_spec``, a set; only ``Linear``
    is supported) with ``DynamicQuantizedLinear``: int8 weights, per output feature
    (``per_channel``, the default) or per tensor."""
    if dtype not in ("qint8", "int8"):
        raise ValueError(f"quantize_dynamic: only dtype 'qint8' is supported, got {dtype!r}")
    types = set(qconfig_spec) if qconfig_spec is not None else {Linear}
    bad = [t for t in types if t is not Linear]
    if bad:
        raise NotImplementedError(f"quantize_dynamic: dynamic quantization supports "
                                  f"nn.Linear only, got {[t.__name__ for t in bad]}")
    model = _copy(model, inplace)
    if type(model) is Linear:
        return DynamicQuantizedLinear.from_float(model, per_channel)

    def fn(m):
        if type(m) is Linear:
            return DynamicQuantizedLinear.from_float(m, per_channel)
        return None

    _swap(model, fn)
    return model


class ObservedModule(Module):
    """A float layer with an observer of its input in front (made by ``prepare``)."""

    def __init__(self, module: Module, observer: Module):
        super().__init__()
        self.module = module
        self.activation_post_process = observer

    def forward(self, x):
        return self.module(self.activation_post_process(x))


def prepare(model: Module, qconfig: QConfig = default_qconfig, inplace: bool = False):
    """Put an input observer in front of every ``Linear`` and ``Conv2d`` (static
    quantization); run calibration data through the result, then ``convert`` it."""
    model = _copy(model, inplace)

    def fn(m):
        if type(m) in (Linear, Conv2d):
            return ObservedModule(m, qconfig.activation())
        return None

    if type(model) in (Linear, Conv2d):
        return ObservedModule(model, qconfig.activation())
    _swap(model, fn)
    return model


def prepare_qat(model: Module, qconfig: QConfig = default_qat_qconfig,
                inplace: bool = False):
    """Replace every ``Linear``/``Conv2d`` by its fake-quantizing twin, sharing the same
    Parameters (an optimizer built on the result trains them)."""
    model = _copy(model, inplace)

    def fn(m):
        if type(m) is Linear:
            return QATLinear.from_float(m, qconfig)
        if type(m) is Conv2d:
            return QATConv2d.from_float(m, qconfig)
        return None

    new = fn(model)
    if new is not None:
        return new
    _swap(model, fn)
    return model


def _convert_one(m):
    if isinstance(m, ObservedModule):
        inner = m.module
        scale, zero = m.activation_post_process.calculate_qparams()
        if type(inner) is Linear:
            return QuantizedLinear.from_float(inner, scale, zero)
        return QuantizedConv2d.from_float(inner, scale, zero)
    if isinstance(m, (QATLinear, QATConv2d)):
        scale, zero = m.activation_fake_quant.calculate_qparams()
        base = Linear.__new__(Linear) if isinstance(m, QATLinear) else Conv2d.__new__(Conv2d)
        base.__dict__.update({k: v for k, v in m.__dict__.items()})
        if isinstance(m, QATLinear):
            return QuantizedLinear.from_float(base, scale, zero)
        return QuantizedConv2d.from_float(base, scale, zero)
    return None


def convert(model: Module, inplace: bool = False) -> Module:
    """Replace observed and QAT layers by int8 layers (``QuantizedLinear``,
    ``QuantizedConv2d``), with activation scales from their observers."""
    model = _copy(model, inplace)
    new = _convert_one(model)
    if new is not None:
        return new
    _swap(model, _convert_one)
    return model.eval()


def model_size_bytes(model: Module) -> int:
    """Bytes of every tensor in ``model.state_dict()`` (parameters and buffers)."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


__all__ = ["QConfig", "default_qconfig", "histogram_qconfig", "default_qat_qconfig",
           "quantize_dynamic", "prepare", "prepare_qat", "convert", "ObservedModule",
           "model_size_bytes"]
