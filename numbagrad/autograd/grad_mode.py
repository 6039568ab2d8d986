"""Whether operations record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""
from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode:
    """Base of the grad-mode switches; usable as a context manager and as a decorator."""

    mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Operations inside record no graph: results have ``requires_grad=False``."""

    mode = False


class inference_mode(_GradMode):
    """Like ``no_grad`` (numbagrad has no separate kind of inference tensor);
    ``inference_mode(False)`` leaves grad mode as it is."""

    def __init__(self, mode: bool = True):
        self.active = bool(mode)

    def __enter__(self):
        self._prev = _state.enabled
        if self.active:
            _state.enabled = False
        return self

    def __call__(self, fn):
        active = self.active

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(active):
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` region."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)``: a switch taking the mode as an argument."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self.mode  # takes effect at once, like PyTorch's function form

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self.mode
        _state.enabled = self._prev

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
