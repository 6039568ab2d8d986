"""Utilities with PyTorch's layout: ``numbagrad.utils.data`` (datasets, samplers,
``DataLoader``)."""
from . import data
