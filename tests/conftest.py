"""Shared test setup.

* hypothesis: no deadline (a first call compiles a kernel) and few examples, so the whole
  suite stays quick; ``HYPOTHESIS_PROFILE=thorough`` runs more.
* ``torch``: PyTorch CPU is an optional oracle; tests that use the fixture are skipped
  when it is not installed.
* ``tests/cuda`` runs in its own process (``tests/test_cuda_backend.py`` starts it), since
  the CUDA simulator must be chosen before numba is imported; ``NUMBAGRAD_TEST_DEVICE=cuda``
  makes the op table (``tests/test_ops.py``) run on the GPU in that process.
* Kernels switch to their threaded variant at ``NUMBAGRAD_PARALLEL_MIN`` elements; the
  tests lower it to 32768 (set before numbagrad is imported) so that arrays of test size
  reach the threaded code.
"""
import os

os.environ.setdefault("NUMBAGRAD_PARALLEL_MIN", str(1 << 15))

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, max_examples=15,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

if os.environ.get("NUMBAGRAD_CUDA_SUITE") != "1":
    collect_ignore = ["cuda"]


@pytest.fixture(scope="session")
def torch():
    return pytest.importorskip("torch")
