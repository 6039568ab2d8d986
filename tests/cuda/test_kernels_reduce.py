"""CUDA reduction launchers (``kernels/cuda/reduce.py``) against the CPU launchers of the same
names on tiny shapes: every axis position (last axis, middle axis, first axis), several
reduced dims at once, long rows that take the two-pass split, ties and NaN in max/min,
inf in the softmax family, integer and bool inputs, non-contiguous inputs and empty arrays.

Runs on a GPU or under the simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is
imported); skipped otherwise. The shapes are small because every simulated
``syncthreads`` costs milliseconds.
"""
import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numbagrad.kernels.cpu import reduce as C  # noqa: E402
from numbagrad.kernels.cuda import SIM, CudaArray, available  # noqa: E402
from numbagrad.kernels.cuda import reduce as G  # noqa: E402

if not (SIM or available()):
    pytest.skip("no CUDA device and NUMBA_ENABLE_CUDASIM is not set", allow_module_level=True)

DTYPES = [np.float32, np.float64]


def tol(dt):
    return dict(rtol=2e-6, atol=2e-6) if dt == np.float32 else dict(rtol=1e-12, atol=1e-12)


def dev(a, transposed=False):
    """A device copy of ``a``; with ``transposed`` a non-contiguous view of the same values
    (stored with the first two axes swapped)."""
    if not transposed:
        return CudaArray.from_host(a)
    return CudaArray.from_host(np.ascontiguousarray(np.swapaxes(a, 0, 1))).transpose(
        (1, 0) + tuple(range(2, a.ndim)))


def host(a):
    return a.to_host()


def check(got, want, **kw):
    got = host(got)
    assert got.shape == np.shape(want)
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, **kw)


def check_equal(got, want):
    got = host(got)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- sum


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("dims", [None, (0,), (1,), (2,), (0, 2), (1, 2)])
def test_sum(dt, dims):
    x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(dt)
    check(G.sum(dev(x), dims, 0.5), C.sum(x, dims, 0.5), **tol(dt))


def test_sum_long_rows_split():
    """Few outputs, long rows: the two-pass split (float64 partials)."""
    x = np.random.default_rng(1).standard_normal((2, 70)).astype(np.float32)
    check(G.sum(dev(x), (1,)), C.sum(x, (1,)), **tol(np.float32))
    v = np.random.default_rng(2).standard_normal(150).astype(np.float32) + 1e4
    check(G.sum(dev(v)), C.sum(v), rtol=1e-7)  # float64 accumulation, as on the CPU
    check(G.sum(dev(v), None, 1 / 150), C.sum(v, None, 1 / 150), rtol=1e-7)


def test_sum_column_split():
    x = np.random.default_rng(3).standard_normal((70, 3))
    check(G.sum(dev(x), (0,), 2.0), C.sum(x, (0,), 2.0), **tol(np.float64))


def test_sum_int_bool_out_dtype():
    x = np.arange(-6, 18, dtype=np.int32).reshape(2, 3, 4)
    check_equal(G.sum(dev(x)), C.sum(x))
    check_equal(G.sum(dev(x), (1,)), C.sum(x, (1,)))
    b = x % 3 == 0
    check_equal(G.sum(dev(b), (2,)), C.sum(b, (2,)))
    check_equal(G.sum(dev(b)), C.sum(b))
    f = x.astype(np.float32)
    check(G.sum(dev(f), (0,), 1.0, np.float64), C.sum(f, (0,), 1.0, np.float64))


def test_sum_noncontiguous_and_empty():
    x = np.random.default_rng(4).standard_normal((3, 4, 2))
    check(G.sum(dev(x, True), (1,)), C.sum(x, (1,)), **tol(np.float64))
    e = np.zeros((0, 3), np.float32)
    check_equal(G.sum(dev(e), (0,)), C.sum(e, (0,)))
    check_equal(G.sum(dev(e)), C.sum(e))


# --------------------------------------------------------------------------- max / min


def _ties_nan(dt):
    x = np.random.default_rng(5).integers(0, 3, (3, 4, 5)).astype(dt)
    if dt in (np.float32, np.float64):
        x[0, 1, 2] = np.nan
        x[1, 2, 0] = np.nan
        x[1, 3, 0] = np.nan  # two NaNs on one line: the first one's index
        x[2, 0, :] = np.nan
    return x


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int16, np.uint8])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_max_min_dim(dt, dim):
    x = _ties_nan(dt)
    for name in ("max_dim", "min_dim"):
        gv, gi = getattr(G, name)(dev(x), dim)
        cv, ci = getattr(C, name)(x, dim)
        check_equal(gv, cv)
        check_equal(gi, ci)


def test_max_min_bool_and_noncontiguous():
    b = np.array([[False, True, True], [False, False, False]])
    for name in ("max_dim", "min_dim"):
        for dim in (0, 1):
            gv, gi = getattr(G, name)(dev(b), dim)
            cv, ci = getattr(C, name)(b, dim)
            check_equal(gv, cv)
            check_equal(gi, ci)
    x = _ties_nan(np.float32)
    gv, gi = G.max_dim(dev(x, True), 2)
    cv, ci = C.max_dim(x, 2)
    check_equal(gv, cv)
    check_equal(gi, ci)


@pytest.mark.parametrize("dt", [np.float32, np.int64])
def test_max_min_all(dt):
    """Long enough for the split (second pass reads the partial indices)."""
    rng = np.random.default_rng(6)
    x = rng.integers(-4, 5, 150).astype(dt)
    for name in ("max_all", "min_all"):
        gv, gi = getattr(G, name)(dev(x))
        cv, ci = getattr(C, name)(x)
        assert gv.shape == () and gi.shape == ()  # 0-d device arrays, not host scalars
        assert host(gv) == cv and int(host(gi)) == ci
    if dt == np.float32:
        x[[90, 40, 120]] = np.nan
        for name in ("max_all", "min_all"):
            gv, gi = getattr(G, name)(dev(x.reshape(10, 15), True))
            cv, ci = getattr(C, name)(x.reshape(10, 15))
            assert np.isnan(host(gv)) and int(host(gi)) == ci == 40


# --------------------------------------------------------------------------- softmax family


SOFT = ["logsumexp", "softmax_forward", "log_softmax_forward"]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_softmax_family(dt, dim):
    x = (np.random.default_rng(7).standard_normal((2, 3, 5)) * 30).astype(dt)
    x[0, 0, 0] = 500  # max-subtraction keeps exp finite
    for name in SOFT:
        check(getattr(G, name)(dev(x), dim), getattr(C, name)(x, dim), **tol(dt))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in the simulator
def test_softmax_family_inf_nan_noncontiguous():
    x = np.random.default_rng(8).standard_normal((3, 4)).astype(np.float32)
    x[0, :] = -np.inf  # logsumexp -inf, softmax NaN
    x[1, 2] = np.inf
    x[2, 0] = np.nan  # a leading NaN
    for name in SOFT:
        check(getattr(G, name)(dev(x), 1), getattr(C, name)(x, 1), **tol(np.float32))
    y = np.random.default_rng(9).standard_normal((3, 4, 2))
    for name in SOFT:
        check(getattr(G, name)(dev(y, True), 1), getattr(C, name)(y, 1), **tol(np.float64))


# --------------------------------------------------------------------------- cumsum / argsort


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_cumsum(dim):
    x = np.random.default_rng(10).standard_normal((2, 11, 3)).astype(np.float32)
    check(G.cumsum(dev(x), dim), C.cumsum(x, dim), rtol=1e-5, atol=1e-5)


def test_cumsum_int_bool_float64_noncontiguous():
    i = np.arange(-5, 13, dtype=np.int32).reshape(2, 9)
    check_equal(G.cumsum(dev(i), 1), C.cumsum(i, 1))
    b = i % 2 == 0
    check_equal(G.cumsum(dev(b), 0), C.cumsum(b, 0))
    x = np.random.default_rng(11).standard_normal((4, 3))
    check(G.cumsum(dev(x, True), 0), C.cumsum(x, 0), **tol(np.float64))
    e = np.zeros((0, 3), np.float32)
    check_equal(G.cumsum(dev(e), 1), C.cumsum(e, 1))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.uint8, np.bool_])
def test_argsort(dt, descending):
    rng = np.random.default_rng(12)
    x = rng.integers(0, 4, (3, 9, 2)).astype(dt)  # many ties: stability matters
    if dt in (np.float32, np.float64):
        x[0, 3, 0] = x[0, 5, 0] = x[1, 0, 1] = np.nan
        x[2, 1, 1] = -np.inf
        x[2, 4, 1] = -0.0
    for dim in (0, 1, 2):
        check_equal(G.argsort(dev(x), dim, descending), C.argsort(x, dim, descending))
    check_equal(G.argsort(dev(x, True), 1, descending), C.argsort(x, 1, descending))


def test_argsort_long_row_and_empty():
    x = np.random.default_rng(13).integers(-20, 20, 67).astype(np.float64)
    check_equal(G.argsort(dev(x), 0), C.argsort(x, 0))
    check_equal(G.argsort(dev(x), 0, True), C.argsort(x, 0, True))
    e = np.zeros((2, 0), np.float32)
    check_equal(G.argsort(dev(e), 1), C.argsort(e, 1))
