"""The CUDA suite: run by ``tests/test_cuda_backend.py`` in its own process, on the GPU
when there is one and otherwise under numba's CUDA simulator (tiny shapes)."""
import pytest

import numbagrad as ng

if not ng.cuda.is_available():
    pytest.skip(f"CUDA unavailable: {ng.backend.cuda_unavailable_reason()}",
                allow_module_level=True)
