"""int8 quantization: observers, fake quantization with a straight-through gradient, int8
layers running on Numba int8 x int8 -> int32 kernels, and the dynamic, static and
quantization-aware workflows (PyTorch's ``torch.ao.quantization`` concepts and names).

    import numbagrad.quantization as Q
    small = Q.quantize_dynamic(model)                     # int8 Linear weights
    print(Q.model_size_bytes(model), Q.model_size_bytes(small))

See ``quantize.py`` for the three workflows, ``observer.py`` for how scales are chosen and
``modules.py`` for the arithmetic of an int8 layer.
"""
from .fake_quantize import (FakeQuantize, fake_quantize_per_channel_affine,
                            fake_quantize_per_tensor_affine)
from .modules import (DynamicQuantizedLinear, QATConv2d, QATLinear, QuantizedConv2d,
                      QuantizedLinear, quantize_weight)
from .observer import (HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver,
                       ObserverBase, PerChannelMinMaxObserver, calculate_qparams,
                       per_channel_affine, per_channel_symmetric, per_tensor_affine,
                       per_tensor_symmetric)
from .quantize import (ObservedModule, QConfig, convert, default_qat_qconfig, default_qconfig,
                       histogram_qconfig, model_size_bytes, prepare, prepare_qat,
                       quantize_dynamic)

__all__ = ["FakeQuantize", "fake_quantize_per_channel_affine",
           "fake_quantize_per_tensor_affine", "DynamicQuantizedLinear", "QATConv2d",
           "QATLinear", "QuantizedConv2d", "QuantizedLinear", "quantize_weight",
           "HistogramObserver", "MinMaxObserver", "MovingAverageMinMaxObserver",
           "ObserverBase", "PerChannelMinMaxObserver", "calculate_qparams",
           "per_channel_affine", "per_channel_symmetric", "per_tensor_affine",
           "per_tensor_symmetric", "ObservedModule", "QConfig", "convert",
           "default_qat_qconfig", "default_qconfig", "histogram_qconfig", "model_size_bytes",
           "prepare", "prepare_qat", "quantize_dynamic"]
