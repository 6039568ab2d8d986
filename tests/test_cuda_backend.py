"""The CUDA backend, seen from the main (CPU) test process.

* The CUDA suite (``tests/cuda`` plus the op table on ``device="cuda"``) runs in a child
  process: on the GPU when there is one, else under numba's CUDA simulator, which must be
  switched on before numba is imported. Every kernel launch there records its signature,
  and each one is then compiled to PTX for a real GPU, so code that only the simulator
  accepts fails here too.
* The kernel namespaces mirror each other, the memory pool reuses blocks, and numbagrad
  imports and says why when CUDA is asked for and missing.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

cuda_mod = pytest.importorskip("numba_cuda", reason="numba-cuda not installed "
                               "(pip install 'numbagrad[cuda]')")


def _has_gpu() -> bool:
    code = "from numba import cuda; print(int(cuda.is_available()))"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return r.stdout.strip() == "1"


@pytest.fixture(scope="module")
def cuda_suite(tmp_path_factory):
    record = str(tmp_path_factory.mktemp("cuda") / "signatures.pkl")
    env = dict(os.environ, NUMBAGRAD_CUDA_SUITE="1", NUMBAGRAD_TEST_DEVICE="cuda",
               NUMBAGRAD_CUDA_RECORD=record)
    gpu = _has_gpu()
    if gpu:
        env.pop("NUMBA_ENABLE_CUDASIM", None)
    else:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "tests/cuda", "tests/test_ops.py"]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return r, record, gpu


def test_cuda_suite(cuda_suite):
    r, _, gpu = cuda_suite
    where = "GPU" if gpu else "CUDA simulator"
    print(f"CUDA suite on the {where}:\n" + r.stdout[-3000:])
    assert r.returncode == 0, f"CUDA suite failed on the {where}:\n{r.stdout[-20000:]}" \
                              f"\n{r.stderr[-5000:]}"


def test_cuda_kernels_compile_to_ptx(cuda_suite):
    r, record, _ = cuda_suite
    if not os.path.exists(record):
        pytest.fail("the CUDA suite recorded no kernel launches")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "cuda_ptx.py"), record],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    if "DynamicLibNotFoundError" in p.stdout + p.stderr or "NVVM" in p.stderr[-500:]:
        pytest.skip("NVVM/NVRTC not installed: pip install 'numbagrad[cuda]'")
    print(p.stdout[-2000:])
    assert p.returncode == 0, p.stdout[-20000:] + p.stderr[-5000:]


def test_kernel_namespaces_mirror_each_other():
    from numbagrad.kernels import cpu
    from numbagrad.kernels import cuda as gpu

    only_cpu = sorted(set(cpu.__all__) - set(gpu.__all__))
    only_gpu = sorted(set(gpu.__all__) - set(cpu.__all__))
    assert not only_cpu and not only_gpu, f"CPU only: {only_cpu}; CUDA only: {only_gpu}"
    for name in cpu.__all__:
        assert callable(getattr(gpu, name)), name


def test_pool_reuses_blocks_by_size():
    from numbagrad.kernels.cuda._memory import CachingAllocator, round_size

    raw = []
    pool = CachingAllocator(lambda n: raw.append(n) or bytearray(n))
    a = pool.malloc(1000)
    assert a.size == round_size(1000) == 1024 and pool.allocated == 1024
    del a
    assert pool.allocated == 0 and pool.stats()["cached_blocks"] == 1
    b = pool.malloc(1024)  # same size class: the cached block, no driver call
    assert len(raw) == 1 and pool.num_device_alloc == 1
    c = pool.malloc(3 << 20)
    assert c.size == 3 << 20 and len(raw) == 2
    del b, c
    assert pool.reserved == 1024 + (3 << 20)
    pool.empty_cache()
    assert pool.reserved == 0 and pool.stats()["cached_blocks"] == 0
    assert pool.peak == 1024 + (3 << 20)


def test_pool_retries_after_out_of_memory():
    from numbagrad.kernels.cuda._memory import CachingAllocator

    free = [4096]  # device bytes the fake driver has left

    class Mem:
        def __init__(self, n):
            self.n = 0
            if n > free[0]:
                raise MemoryError("out of device memory")
            free[0] -= n
            self.n = n

        def __del__(self):
            free[0] += self.n

    pool = CachingAllocator(Mem)
    a = pool.malloc(1024)
    b = pool.malloc(1024)
    del a, b  # cached by the pool, still taken from the driver
    assert free[0] == 2048
    c = pool.malloc(4096)  # fails, drops the cache, retries and succeeds
    assert c.size == 4096 and free[0] == 0 and pool.stats()["cached_blocks"] == 0


def test_numpy_without_row_stack_gets_it_back():
    code = ("import numpy as np\n"
            "del np.row_stack\n"
            "import numbagrad.kernels.cuda._runtime\n"
            "assert np.row_stack is np.vstack\n"
            "print('ok')")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.stdout.strip() == "ok", r.stderr


def test_import_without_gpu_says_why_only_when_asked():
    code = ("import numbagrad as ng\n"
            "assert not ng.cuda.is_available() and ng.cuda.device_count() == 0\n"
            "x = ng.ones(2)\n"
            "try:\n    x.cuda()\nexcept RuntimeError as e:\n    print(e)\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    if _has_gpu():
        pytest.skip("a GPU is present")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "no CUDA GPU was found" in r.stdout and "NUMBA_ENABLE_CUDASIM" in r.stdout


def test_cpu_transfer_is_identity():
    from numbagrad.kernels import cpu

    a = np.arange(6.0).reshape(2, 3)
    assert cpu.to_host(a) is a
    assert cpu.from_host(a.T).flags.c_contiguous
