"""Functional forms of the layers and losses (``numbagrad.nn.functional``, usually
imported as ``F``)."""
from __future__ import annotations

from ..ops import nn_conv, nn_loss, nn_norm
from ..ops.nn_conv import *  # noqa: F401,F403
from ..ops.nn_linear import linear
from ..ops.nn_loss import *  # noqa: F401,F403
from ..ops.nn_norm import *  # noqa: F401,F403
from ..ops.pointwise import gelu, leaky_relu, relu, sigmoid, softplus, tanh
from ..ops.reduction import log_softmax, softmax


def one_hot(tensor, num_classes: int = -1):
    """``(..., num_classes)`` int64 tensor with a 1 at each index of ``tensor``."""
    from ..creation import arange
    from ..ops.pointwise import eq

    if tensor.dtype.is_floating_point or tensor.dtype.name == "bool":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() and int(tensor.min().item()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    top = int(tensor.max().item()) + 1 if tensor.numel() else 0
    if num_classes == -1:
        num_classes = top
    elif top > num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return eq(tensor.unsqueeze(-1), arange(num_classes, device=tensor.device)).long()


__all__ = (["linear", "relu", "leaky_relu", "gelu", "sigmoid", "softplus", "tanh", "softmax",
            "log_softmax", "one_hot"] + nn_conv.__all__ + nn_loss.__all__ + nn_norm.__all__)
