"""CUDA convolution and pooling launchers (``kernels/cuda/conv.py``) against the CPU launchers
of the same names, on tiny shapes: stride, padding (symmetric and 4-sided), dilation,
groups, bias None, ceil_mode, count_include_pad, divisor_override, height-1 (1-D) images,
non-contiguous inputs, ties and NaN in max pooling, and empty arrays.

Runs on a GPU or under the simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is
imported); ``conftest.py`` skips it otherwise.
"""
import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numbagrad.kernels.cpu import conv as C  # noqa: E402
from numbagrad.kernels.cuda import CudaArray  # noqa: E402
from numbagrad.kernels.cuda import conv as G  # noqa: E402

DTYPES = [np.float32, np.float64]


def tol(dt):
    return dict(rtol=2e-5, atol=2e-5) if dt == np.float32 else dict(rtol=1e-12, atol=1e-12)


def dev(a, transposed=False):
    """A device copy of ``a``; with ``transposed`` a non-contiguous view of the same values
    (the last two axes stored swapped)."""
    if not transposed:
        return CudaArray.from_host(a)
    return CudaArray.from_host(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(
        0, 1, 3, 2)


def host(a):
    return a.to_host()


def rand(rng, shape, dt):
    return rng.standard_normal(shape).astype(dt)


# --------------------------------------------------------------------------- conv2d

# (N, C, H, W, O, KH, KW, stride, padding, dilation, groups, bias)
CONV_CASES = [
    (1, 1, 5, 5, 1, 3, 3, (1, 1), (0, 0), (1, 1), 1, True),
    (2, 2, 6, 5, 3, 2, 3, (2, 1), (1, 1), (1, 1), 1, False),
    (1, 3, 6, 6, 2, 3, 3, (1, 2), (1, 0, 2, 1), (2, 1), 1, True),
    (2, 4, 5, 6, 2, 3, 2, (2, 2), (1, 1), (1, 2), 2, True),
    (1, 3, 5, 5, 6, 3, 3, (1, 1), (1, 1), (1, 1), 3, False),
    (2, 2, 1, 6, 2, 1, 3, (1, 2), (0, 0, 1, 1), (1, 1), 1, True),
    (1, 2, 6, 6, 2, 2, 2, (3, 3), (1, 1), (2, 2), 1, True),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d(case, dt):
    N, Cin, H, W, O, KH, KW, s, p, d, groups, has_bias = case
    rng = np.random.default_rng(len(str(case)))
    x = rand(rng, (N, Cin, H, W), dt)
    w = rand(rng, (O, Cin // groups, KH, KW), dt)
    b = rand(rng, (O,), dt) if has_bias else None
    ref = C.conv2d_forward(x, w, b, s, p, d, groups)
    out = G.conv2d_forward(dev(x), dev(w), None if b is None else dev(b), s, p, d, groups)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_allclose(host(out), ref, **tol(dt))

    g = rand(rng, ref.shape, dt)
    ref_gx = C.conv2d_backward_input(g, w, (H, W), s, p, d, groups)
    gx = G.conv2d_backward_input(dev(g), dev(w), (H, W), s, p, d, groups)
    assert gx.shape == ref_gx.shape and gx.dtype == ref_gx.dtype
    np.testing.assert_allclose(host(gx), ref_gx, **tol(dt))

    ref_gw = C.conv2d_backward_weight(x, g, (KH, KW), s, p, d, groups)
    gw = G.conv2d_backward_weight(dev(x), dev(g), (KH, KW), s, p, d, groups)
    assert gw.shape == ref_gw.shape and gw.dtype == ref_gw.dtype
    np.testing.assert_allclose(host(gw), ref_gw, **tol(dt))


def test_conv2d_noncontiguous():
    rng = np.random.default_rng(1)
    dt = np.float32
    x = rand(rng, (2, 2, 4, 5), dt)
    w = rand(rng, (3, 2, 2, 3), dt)
    g = rand(rng, (2, 3, 4, 4), dt)
    args = ((1, 1), (1, 1, 0, 1), (1, 1), 1)
    np.testing.assert_allclose(host(G.conv2d_forward(dev(x, True), dev(w, True), None, *args)),
                               C.conv2d_forward(x, w, None, *args), **tol(dt))
    np.testing.assert_allclose(
        host(G.conv2d_backward_input(dev(g, True), dev(w, True), (4, 5), *args)),
        C.conv2d_backward_input(g, w, (4, 5), *args), **tol(dt))
    np.testing.assert_allclose(
        host(G.conv2d_backward_weight(dev(x, True), dev(g, True), (2, 3), *args)),
        C.conv2d_backward_weight(x, g, (2, 3), *args), **tol(dt))


@pytest.mark.parametrize("slices, dt", [(2, np.float32), (5, np.float64)])
def test_conv2d_backward_weight_slices(monkeypatch, slices, dt):
    """The weight gradient cut into slices of its sum, then the partial sums added."""
    monkeypatch.setattr(G, "WGRAD_SLICES", slices)
    rng = np.random.default_rng(slices)
    x = rand(rng, (2, 4, 5, 4), dt)
    g = rand(rng, (2, 2, 3, 2), dt)
    args = ((2, 2), (1, 0, 1, 1), (1, 1), 2)
    np.testing.assert_allclose(host(G.conv2d_backward_weight(dev(x), dev(g), (2, 2), *args)),
                               C.conv2d_backward_weight(x, g, (2, 2), *args), **tol(dt))


def test_conv2d_empty():
    dt = np.float64
    x = np.zeros((0, 2, 4, 4), dt)
    w = np.ones((3, 2, 3, 3), dt)
    out = G.conv2d_forward(dev(x), dev(w), None, (1, 1), (0, 0), (1, 1), 1)
    assert out.shape == (0, 3, 2, 2)
    g = np.ones((0, 3, 2, 2), dt)
    assert G.conv2d_backward_input(dev(g), dev(w), (4, 4), (1, 1), (0, 0), (1, 1),
                                   1).shape == (0, 2, 4, 4)
    gw = G.conv2d_backward_weight(dev(x), dev(g), (3, 3), (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_array_equal(host(gw), np.zeros((3, 2, 3, 3)))


# --------------------------------------------------------------------------- max pooling

# (N, C, H, W, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    (1, 2, 5, 5, (2, 2), (2, 2), (0, 0), (1, 1), False),
    (2, 1, 5, 6, (3, 3), (2, 2), (1, 1), (1, 1), True),
    (1, 2, 6, 6, (3, 2), (1, 2), (1, 1), (2, 1), False),  # overlapping windows
    (1, 1, 6, 5, (2, 3), (2, 1), (1, 1), (2, 2), True),
    (2, 1, 1, 6, (1, 3), (1, 2), (0, 1), (1, 1), True),  # a 1-D pooling
    (1, 1, 2, 2, (2, 2), (1, 1), (1, 1), (3, 3), False),  # windows on padding only
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d(case, dt):
    N, Cin, H, W, k, s, p, d, ceil = case
    rng = np.random.default_rng(len(str(case)))
    x = rng.integers(-3, 4, (N, Cin, H, W)).astype(dt)  # many ties
    x.reshape(-1)[rng.integers(0, x.size, 2)] = np.nan
    ref, ref_idx = C.max_pool2d_forward(x, k, s, p, d, ceil)
    out, idx = G.max_pool2d_forward(dev(x, True), k, s, p, d, ceil)
    assert out.shape == ref.shape and out.dtype == ref.dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(host(out), ref)
    np.testing.assert_array_equal(host(idx), ref_idx)

    g = rand(rng, ref.shape, dt)
    ref_gx = C.max_pool2d_backward(g, ref_idx, (H, W))
    gx = G.max_pool2d_backward(dev(g), idx, (H, W))
    assert gx.shape == ref_gx.shape and gx.dtype == ref_gx.dtype
    np.testing.assert_allclose(host(gx), ref_gx, **tol(dt))

    y = rand(rng, x.shape, dt)
    np.testing.assert_array_equal(host(G.max_pool2d_gather(dev(y, True), idx)),
                                  C.max_pool2d_gather(y, ref_idx))


# --------------------------------------------------------------------------- average pooling

# (N, C, H, W, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    (1, 2, 5, 5, (2, 2), (2, 2), (0, 0), False, True, 0),
    (2, 1, 5, 6, (3, 3), (2, 2), (1, 1), True, True, 0),
    (1, 1, 5, 6, (3, 3), (2, 2), (1, 1), True, False, 0),
    (1, 2, 6, 5, (3, 2), (1, 2), (1, 1), False, False, 3),
    (2, 1, 1, 6, (1, 3), (1, 2), (0, 1), True, True, 0),
    (1, 1, 4, 4, (2, 2), (1, 1), (1, 0), True, True, -2),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d(case, dt):
    N, Cin, H, W, *params = case
    rng = np.random.default_rng(len(str(case)))
    x = rand(rng, (N, Cin, H, W), dt)
    ref = C.avg_pool2d_forward(x, *params)
    out = G.avg_pool2d_forward(dev(x, True), *params)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_allclose(host(out), ref, **tol(dt))

    g = rand(rng, ref.shape, dt)
    ref_gx = C.avg_pool2d_backward(g, (H, W), *params)
    gx = G.avg_pool2d_backward(dev(g, True), (H, W), *params)
    assert gx.shape == ref_gx.shape and gx.dtype == ref_gx.dtype
    np.testing.assert_allclose(host(gx), ref_gx, **tol(dt))


# (N, C, H, W, output_size)
ADAPTIVE_CASES = [
    (1, 2, 5, 5, (3, 2)),
    (2, 1, 6, 4, (4, 4)),
    (1, 1, 3, 5, (5, 7)),  # more bins than inputs
    (1, 2, 5, 5, (1, 1)),
    (1, 1, 4, 6, (0, 2)),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d(case, dt):
    N, Cin, H, W, size = case
    rng = np.random.default_rng(len(str(case)))
    x = rand(rng, (N, Cin, H, W), dt)
    ref = C.adaptive_avg_pool2d_forward(x, size)
    out = G.adaptive_avg_pool2d_forward(dev(x), size)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_allclose(host(out), ref, **tol(dt))

    g = rand(rng, ref.shape, dt)
    ref_gx = C.adaptive_avg_pool2d_backward(g, (H, W))
    gx = G.adaptive_avg_pool2d_backward(dev(g), (H, W))
    assert gx.shape == ref_gx.shape and gx.dtype == ref_gx.dtype
    np.testing.assert_allclose(host(gx), ref_gx, **tol(dt))


def test_size_helpers_shared():
    assert G.conv_output_size is C.conv_output_size
    assert G.pool_output_size is C.pool_output_size
    assert set(G.__all__) == set(C.__all__)
