"""Layers, losses and the Module system (``numbagrad.nn``), with PyTorch's names."""
from . import functional, init, parallel, pipeline, utils
from .conv import *
from .dropout import *
from .layers import (
    GELU, Flatten, Identity, LeakyReLU, Linear, LogSigmoid, LogSoftmax, ReLU, Sigmoid, Softmax,
    Softplus, Tanh,
)
from .loss import *
from .module import Module, ModuleDict, ModuleList, Sequential
from .normalization import *
from .parameter import Parameter
from .sparse import *
