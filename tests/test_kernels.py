"""Kernel-level checks: the parallel (prange) variants and the strided paths, against numpy.

The op table uses tiny tensors, which run the serial variants; here arrays are large
enough (>= kernels.cpu._jit.PARALLEL_MIN elements) to take the threaded ones.
"""
import numpy as np
import pytest

import numbagrad
from numbagrad import kernels
from numbagrad.kernels import cpu as K
from numbagrad.kernels import layout
from numbagrad.kernels.cpu import _jit

N = _jit.PARALLEL_MIN  # first size that runs threaded
rng = np.random.default_rng(0)


def test_cpu_namespace_exports_callables():
    assert K.__all__, "kernels.cpu exports nothing"
    for name in K.__all__:
        assert callable(getattr(K, name)), name
    for name in ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu"):
        assert f"{name}_forward" in K.__all__ and f"{name}_backward" in K.__all__
    assert kernels.cpu is numbagrad.device("cpu").kernels


def test_threading_layer_selected():
    import numba

    from numbagrad import _threading

    assert _threading.LAYER in ("tbb", "workqueue", "omp") or _threading.LAYER
    big = np.ones(N, np.float32)
    K.exp_forward(big)  # run a parallel kernel so a layer is chosen
    assert numba.threading_layer() in ("tbb", "workqueue", "omp")


def test_parallel_unary_flat_and_strided():
    x = rng.standard_normal((256, 256)).astype(np.float32)
    np.testing.assert_allclose(K.tanh_forward(x), np.tanh(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(K.tanh_forward(x.T), np.tanh(x.T), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(K.tanh_forward(x[:, ::2]), np.tanh(x[:, ::2]), rtol=1e-6,
                               atol=1e-6)


def test_parallel_binary_broadcast_and_transposed():
    a = rng.standard_normal((300, 200))
    b = rng.standard_normal(200)
    np.testing.assert_array_equal(K.add(a, b), a + b)
    np.testing.assert_array_equal(K.mul(a, a.T.copy().T), a * a)
    c = rng.standard_normal((200, 300))
    np.testing.assert_array_equal(K.sub(a, c.T), a - c.T)
    s = np.array(2.5)
    np.testing.assert_array_equal(K.div(a, s), a / 2.5)


def test_backward_kernels_match_formulas():
    g = rng.standard_normal(N)
    x = rng.standard_normal(N)
    y = np.tanh(x)
    np.testing.assert_allclose(K.tanh_backward(g, y), g * (1 - y * y))
    np.testing.assert_allclose(K.relu_backward(g, np.maximum(x, 0)), g * (x > 0))
    np.testing.assert_allclose(K.sin_backward(g, x), g * np.cos(x))


@pytest.mark.parametrize("dims", [(0,), (1,), (2,), (0, 2), (0, 1, 2)])
def test_parallel_sum(dims):
    x = rng.standard_normal((40, 50, 30)).astype(np.float32)
    got = K.sum(x, dims)
    np.testing.assert_allclose(got, x.sum(dims, keepdims=True, dtype=np.float64),
                               rtol=1e-5, atol=1e-4)


def test_float32_sum_is_accurate():
    x = np.full(1 << 20, 0.1, np.float32)
    assert abs(float(K.sum(x).reshape(())) - 0.1 * (1 << 20)) < 1.0


def test_parallel_max_softmax_logsumexp():
    x = rng.standard_normal((300, 128))
    v, i = K.max_dim(x, 1)
    np.testing.assert_array_equal(v[:, 0], x.max(1))
    np.testing.assert_array_equal(i[:, 0], x.argmax(1))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(K.softmax_forward(x, 1), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(K.log_softmax_forward(x, 0),
                               x - np.log(np.exp(x).sum(0, keepdims=True)))
    np.testing.assert_allclose(K.logsumexp(x, 1)[:, 0], np.log(np.exp(x).sum(1)))


def test_max_propagates_nan():
    x = np.array([[1.0, np.nan, 3.0]])
    v, i = K.max_dim(x, 1)
    assert np.isnan(v[0, 0]) and i[0, 0] == 1


def test_matmul_layouts_and_integers():
    a = rng.standard_normal((64, 32)).astype(np.float32)
    b = rng.standard_normal((32, 48)).astype(np.float32)
    for aa in (a, np.asfortranarray(a)):
        for bb in (b, np.asfortranarray(b)):
            np.testing.assert_allclose(K.matmul(aa, bb), a @ b, rtol=1e-5, atol=1e-5)
    ai = rng.integers(-5, 5, (7, 6))
    bi = rng.integers(-5, 5, (6, 9))
    np.testing.assert_array_equal(K.matmul(ai, bi), ai @ bi)
    a3 = rng.standard_normal((3, 4, 5))
    b3 = rng.standard_normal((3, 5, 2))
    np.testing.assert_allclose(K.matmul(a3, b3), a3 @ b3)


def test_gather_scatter_add_accumulates_repeats():
    x = rng.standard_normal(10)
    idx = np.array([3, 3, 0, 9, 3], np.int64)
    np.testing.assert_array_equal(K.gather(x, idx), x[idx])
    out = np.zeros(10)
    K.scatter_add(np.ones(5), idx, out)
    want = np.zeros(10)
    np.add.at(want, idx, 1.0)
    np.testing.assert_array_equal(out, want)


def test_copy_between_strided_views_and_cast():
    src = rng.standard_normal((6, 8))
    dst = np.zeros((8, 12))
    K.copy(dst[:, ::2].T, src)
    np.testing.assert_array_equal(dst[:, ::2].T, src)
    np.testing.assert_array_equal(K.cast(np.array([0.0, -1.5, 2.0]), np.bool_), [False, True, True])
    np.testing.assert_array_equal(K.cast(np.array([1.9, -1.9]), np.int64), [1, -1])


def test_random_fills_repeat_with_seed():
    K.seed(123)
    a = K.normal_(np.empty(1000))
    K.seed(123)
    b = K.normal_(np.empty(1000))
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.15 and abs(a.std() - 1) < 0.1
    r = K.randint_(np.empty(1000, np.int64), 3, 7)
    assert r.min() == 3 and r.max() == 6


def test_layout_helpers():
    assert layout.broadcast_shapes((4, 1, 3), (5, 1)) == (4, 5, 3)
    assert layout.broadcast_shapes((2, 3), (4,)) is None
    shape, (s,) = layout.coalesce((2, 3, 4), [[12, 4, 1]])
    assert shape == (24,) and s == [1]
    assert layout.reduce_view((2, 3, 4), (0, 2)) == [(6, 4, 1), (1, 2, 3)]
