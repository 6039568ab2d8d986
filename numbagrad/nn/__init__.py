"""Layers, losses and the Module system (``numbagrad.nn``), with PyTorch's names."""
from . import functional, init
from .layers import (
    GELU, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh,
)
from .module import Module, ModuleDict, ModuleList, Sequential
from .parameter import Parameter
