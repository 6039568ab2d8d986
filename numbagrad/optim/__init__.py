"""Optimizers (``numbagrad.optim``) and learning-rate schedules (``optim.lr_scheduler``)."""
from . import lr_scheduler
from .optimizer import Optimizer
from .optimizers import GD, SGD, Adagrad, Adam, AdamW, RMSprop
