"""``numbagrad.Generator``: a seedable random stream for shuffling and splitting data.

The tensor random functions (``rand``, ``randperm`` ...) draw from the device kernels'
global stream that ``numbagrad.manual_seed`` resets. A ``Generator`` is a second,
independent stream, owned by the caller: pass one to ``DataLoader`` / ``random_split`` and
the order of the data no longer depends on how many random numbers the model drew. It
plans indices only (host-side), so it wraps a numpy PCG64 generator.
"""
from __future__ import annotations

import json

import numpy as np

from .backend import device as _device

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed for a new generator


class Generator:
    """``Generator(device="cpu")``: ``manual_seed(s)`` (returns self), ``seed()``,
    ``initial_seed()``, ``get_state()`` / ``set_state()``."""

    def __init__(self, device="cpu") -> None:
        self.device = _device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an integer in [-2**63, 2**64))."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expected an integer seed, got {type(seed).__name__}")
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed used."""
        s = int(np.random.SeedSequence().entropy) % 2**64
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The stream's position as a uint8 tensor (what ``set_state`` takes back)."""
        from .creation import tensor

        state = {"seed": self._seed, "pcg64": self._rng.bit_generator.state}
        raw = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
        return tensor(raw)

    def set_state(self, new_state) -> Generator:
        try:
            state = json.loads(np.asarray(new_state, dtype=np.uint8).tobytes().decode())
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = state["pcg64"]
            seed = int(state["seed"])
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"Generator.set_state: not a state from get_state(): {e}") from None
        self._seed, self._rng = seed, rng
        return self

    def __repr__(self) -> str:
        return f"<numbagrad.Generator object, seed={self._seed}>"


def _numpy_rng(generator) -> np.random.Generator:
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a numbagrad.Generator (or a numpy.random.Generator), "
                    f"got {type(generator).__name__}")


def randperm_indices(n: int, generator=None) -> np.ndarray:
    """A random permutation of ``0..n-1`` as an int64 numpy array: from ``generator`` when
    given, else from the global stream that ``numbagrad.manual_seed`` seeds."""
    if generator is None:
        from .creation import randperm

        return randperm(n).numpy()
    return _numpy_rng(generator).permutation(n).astype(np.int64)


def randint_indices(high: int, size: int, generator=None) -> np.ndarray:
    """``size`` integers drawn uniformly from ``[0, high)`` (int64 numpy array)."""
    if generator is None:
        from .creation import randint

        return randint(high, (size,)).numpy()
    return _numpy_rng(generator).integers(0, high, size=size, dtype=np.int64)
