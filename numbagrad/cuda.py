"""``numbagrad.cuda``: is a GPU there, and the device memory pool (PyTorch's ``torch.cuda``).

Nothing here imports numba-cuda until a function is called, so ``import numbagrad`` works
without the ``cuda`` extra or a GPU; asking for CUDA then says why it is not available.
"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when tensors can be put on ``"cuda"`` (a GPU, or numba's CUDA simulator)."""
    return backend.cuda_unavailable_reason() == ""


def device_count() -> int:
    return backend._cuda_device_count() if is_available() else 0


def _kernels():
    return backend.device("cuda").kernels  # raises a clear error when unavailable


def current_device() -> int:
    _kernels()
    return 0


def get_device_name(device=None) -> str:
    k = _kernels()
    if k.SIM:
        return "numba CUDA simulator"
    name = k._runtime.cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    """Wait for every kernel launched so far."""
    _kernels().synchronize()


def empty_cache() -> None:
    """Give the cached free blocks of the memory pool back to the driver."""
    _kernels().POOL.empty_cache()


def memory_allocated(device=None) -> int:
    """Bytes held by live tensors (rounded to the pool's block sizes)."""
    return _kernels().POOL.allocated


def max_memory_allocated(device=None) -> int:
    return _kernels().POOL.peak


def memory_reserved(device=None) -> int:
    """Bytes the pool holds from the driver: live blocks plus cached free ones."""
    return _kernels().POOL.reserved


def reset_peak_memory_stats(device=None) -> None:
    _kernels().POOL.reset_peak()


def memory_stats(device=None) -> dict:
    """Counters of the pool; ``num_device_alloc`` counts calls to the driver's allocator."""
    return _kernels().POOL.stats()


def manual_seed(seed: int) -> None:
    """Seed the GPU's random generator."""
    _kernels().seed(int(seed))


manual_seed_all = manual_seed
