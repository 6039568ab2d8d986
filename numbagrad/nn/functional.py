"""Functional forms of the layers and losses (``numbagrad.nn.functional``, usually
imported as ``F``)."""
from __future__ import annotations

from ..ops.nn_linear import linear
from ..ops.pointwise import gelu, leaky_relu, relu, sigmoid, tanh
from ..ops.reduction import log_softmax, softmax

__all__ = ["linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax"]
