"""CUDA ``matmul`` (``kernels/cuda/linalg.py``) and gather/scatter (``kernels/cuda/index.py``)
against the CPU launchers of the same names on tiny shapes: matrix edges that are not
multiples of the tile sizes, K smaller and larger than a K step, K = 0, batched products,
transposed (F-ordered) and sliced operands, a strided ``out=``, integer and bool matrices;
gathers and scatters with repeated positions, every dtype, and a non-contiguous target.

Runs on a GPU or under the simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is
imported); skipped otherwise.
"""
import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numbagrad.kernels.cpu import index as CI  # noqa: E402
from numbagrad.kernels.cpu import linalg as CL  # noqa: E402
from numbagrad.kernels.cuda import SIM, CudaArray, available  # noqa: E402
from numbagrad.kernels.cuda import index as GI  # noqa: E402
from numbagrad.kernels.cuda import linalg as GL  # noqa: E402

if not (SIM or available()):
    pytest.skip("no CUDA device and NUMBA_ENABLE_CUDASIM is not set", allow_module_level=True)


def tol(dt):
    return dict(rtol=1e-5, atol=1e-5) if dt == np.float32 else dict(rtol=1e-12, atol=1e-12)


def dev(a):
    return CudaArray.from_host(a)


def dev_t(a):
    """A transposed (non-C-contiguous) device view holding the values of ``a``."""
    axes = tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2)
    return CudaArray.from_host(np.ascontiguousarray(a.transpose(axes))).transpose(axes)


def host(a):
    return a.to_host()


def rand(rng, shape, dt):
    if np.dtype(dt).kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if dt == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(-5, 6, shape).astype(dt)


# --------------------------------------------------------------------------- matmul


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 7, 3), (4, 4, 4), (9, 2, 6), (3, 10, 1)])
def test_matmul_2d(dt, m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, b = rand(rng, (m, k), dt), rand(rng, (k, n), dt)
    got = GL.matmul(dev(a), dev(b))
    assert got.dtype == dt and got.shape == (m, n)
    np.testing.assert_allclose(host(got), CL.matmul(a, b), **tol(dt))


@pytest.mark.parametrize("ta,tb", [(True, False), (False, True), (True, True)])
def test_matmul_transposed(ta, tb):
    rng = np.random.default_rng(1)
    a, b = rand(rng, (6, 5), np.float32), rand(rng, (5, 7), np.float32)
    got = GL.matmul(dev_t(a) if ta else dev(a), dev_t(b) if tb else dev(b))
    np.testing.assert_allclose(host(got), CL.matmul(a, b), **tol(np.float32))


def test_matmul_sliced_and_out():
    rng = np.random.default_rng(2)
    big = rand(rng, (7, 9), np.float64)
    a = dev(big)[1:6, ::2]  # (5, 5) with a row stride of 9 and a column stride of 2
    b = rand(rng, (5, 3), np.float64)
    out = CudaArray.empty((3, 5), np.float64).T  # an F-ordered out=
    res = GL.matmul(a, dev(b), out=out)
    assert res is out
    np.testing.assert_allclose(host(out), CL.matmul(big[1:6, ::2], b), **tol(np.float64))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_matmul_batched(dt):
    rng = np.random.default_rng(3)
    a, b = rand(rng, (3, 5, 6), dt), rand(rng, (3, 6, 2), dt)
    np.testing.assert_allclose(host(GL.matmul(dev(a), dev(b))), CL.matmul(a, b), **tol(dt))
    np.testing.assert_allclose(host(GL.matmul(dev_t(a), dev_t(b))), CL.matmul(a, b),
                               **tol(dt))


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.int8, np.uint8, np.bool_])
def test_matmul_integer(dt):
    rng = np.random.default_rng(4)
    a, b = rand(rng, (5, 6), dt), rand(rng, (6, 3), dt)
    if dt == np.int8:
        a *= 10  # products wrap around in int8, as on the CPU
        b *= 10
    got = GL.matmul(dev(a), dev(b))
    want = CL.matmul(a, b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(host(got), want)
    ab, bb = rand(rng, (2, 3, 4), dt), rand(rng, (2, 4, 3), dt)
    np.testing.assert_array_equal(host(GL.matmul(dev(ab), dev(bb))), CL.matmul(ab, bb))


def test_matmul_empty_and_k0():
    a, b = np.zeros((3, 0), np.float32), np.zeros((0, 4), np.float32)
    np.testing.assert_array_equal(host(GL.matmul(dev(a), dev(b))), CL.matmul(a, b))
    out = CudaArray.from_host(np.full((4, 3), 7.0, np.float32)).T
    GL.matmul(dev(a), dev(b), out=out)
    np.testing.assert_array_equal(host(out), np.zeros((3, 4), np.float32))
    e = GL.matmul(dev(np.zeros((0, 2))), dev(np.zeros((2, 5))))
    assert e.shape == (0, 5)
    bz = GL.matmul(dev(np.ones((2, 3, 0))), dev(np.ones((2, 0, 2))))
    np.testing.assert_array_equal(host(bz), np.zeros((2, 3, 2)))


# --------------------------------------------------------------------------- gather / scatter


ALL = [np.float32, np.float64, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # uint8 sums wrap in the simulator
@pytest.mark.parametrize("dt", ALL)
def test_gather_scatter(dt):
    rng = np.random.default_rng(5)
    x = rand(rng, (4, 5), dt)
    idx = np.array([[3, 0, 19], [3, 7, 3]], np.int64)  # repeated positions
    got = GI.gather(dev(x), dev(idx))
    assert got.dtype == x.dtype and got.shape == idx.shape
    np.testing.assert_array_equal(host(got), CI.gather(x, idx))

    src = rand(rng, idx.shape, dt)
    want = CI.scatter_add(src, idx, np.zeros((4, 5), dt))
    out = dev(np.zeros((4, 5), dt))
    assert GI.scatter_add(dev(src), dev(idx), out) is out
    np.testing.assert_allclose(host(out), want, **(tol(dt) if x.dtype.kind == "f" else {}))

    want = CI.scatter_set(src, idx, x.copy())
    out = dev(x)
    assert GI.scatter_set(dev(src), dev(idx), out) is out
    np.testing.assert_array_equal(host(out), want)  # the last write wins


def test_gather_noncontiguous_and_empty():
    x = np.arange(12.0).reshape(3, 4)
    xt = dev(np.ascontiguousarray(x.T)).T  # the same values, F-ordered
    idx = np.array([11, 0, 5, 5], np.int64)
    np.testing.assert_array_equal(host(GI.gather(xt, dev(idx))), CI.gather(x, idx))
    e = np.zeros(0, np.int64)
    assert GI.gather(dev(x), dev(e)).shape == (0,)
    out = dev(x)
    GI.scatter_add(dev(np.zeros(0)), dev(e), out)
    GI.scatter_set(dev(np.zeros(0)), dev(e), out)
    np.testing.assert_array_equal(host(out), x)


def test_scatter_into_strided_target():
    """A non-contiguous ``out`` is addressed in its own C order (``out.ravel()``)."""
    base = np.zeros((4, 3), np.float32)
    out = dev(base).T  # (3, 4) view, F-ordered
    idx = np.array([0, 5, 5, 11], np.int64)
    src = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    GI.scatter_add(dev(src), dev(idx), out)
    want = np.zeros((3, 4), np.float32)
    np.add.at(want.reshape(-1), idx, src)
    np.testing.assert_array_equal(host(out), want)
    GI.scatter_set(dev(src), dev(idx), out)
    want.reshape(-1)[idx] = src
    np.testing.assert_array_equal(host(out), want)
