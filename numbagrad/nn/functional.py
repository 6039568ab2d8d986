"""Functional forms of the layers and losses (``numbagrad.nn.functional``, usually
imported as ``F``)."""
from __future__ import annotations

from ..ops import nn_conv, nn_loss, nn_norm
from ..ops.nn_conv import *  # noqa: F401,F403
from ..ops.nn_linear import linear
from ..ops.nn_loss import *  # noqa: F401,F403
from ..ops.nn_norm import *  # noqa: F401,F403
from ..ops.pointwise import gelu, leaky_relu, relu, sigmoid, tanh
from ..ops.reduction import log_softmax, softmax

__all__ = (["linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax",
            "log_softmax"] + nn_conv.__all__ + nn_loss.__all__ + nn_norm.__all__)
