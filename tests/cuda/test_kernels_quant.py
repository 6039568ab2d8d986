"""CUDA int8 quantization launchers (``kernels/cuda/quant.py``) against the CPU launchers of
the same names, on tiny shapes: per-tensor and per-channel parameters, ties, NaN and inf,
float32 and float64, non-contiguous inputs, matmul edges (odd sizes, K = 0, empty), the
epilogue with and without bias, unfold geometries, histogram edges, and the argument
errors.

Runs on a GPU or under the simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is
imported); ``conftest.py`` skips it otherwise.
"""
import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numbagrad.kernels.cpu import quant as C  # noqa: E402
from numbagrad.kernels.cuda import CudaArray  # noqa: E402
from numbagrad.kernels.cuda import quant as G  # noqa: E402
from numbagrad.kernels.cuda._runtime import SIM  # noqa: E402

rng = np.random.default_rng(7)


def dev(a):
    return CudaArray.from_host(a)


def host(a):
    return a.to_host()


def same(got, ref):
    got = host(got)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)  # NaN == NaN here; -0.0 == 0.0
    if ref.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))


def data(shape, dt=np.float32):
    x = (rng.standard_normal(shape) * 3).astype(dt)
    flat = x.reshape(-1)
    flat[:6] = [np.nan, np.inf, -np.inf, 2.5, -0.5, -0.2][:flat.size]
    return x


# (x shape, per channel, qmin, qmax)
Q_CASES = [((7,), False, -128, 127), ((3, 5), True, -10, 12), ((2, 3, 2), True, 0, 15),
           ((4, 3), False, -127, 127)]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", Q_CASES)
def test_quantize_family(case, dt):
    shape, per_channel, qmin, qmax = case
    x = data(shape, dt)
    c = shape[0] if per_channel else 1
    s = rng.choice([0.25, 0.5, 1.0, 0.37], c).astype(np.float32)
    z = rng.integers(qmin, qmax + 1, c).astype(np.int32)
    args = (qmin, qmax)
    same(G.quantize(dev(x), dev(s), dev(z), *args), C.quantize(x, s, z, *args))
    same(G.fake_quantize(dev(x), dev(s), dev(z), *args), C.fake_quantize(x, s, z, *args))
    g = rng.standard_normal(shape).astype(dt)
    same(G.fake_quantize_backward(dev(g), dev(x), dev(s), dev(z), *args),
         C.fake_quantize_backward(g, x, s, z, *args))
    q = C.quantize(x, s, z, *args)
    same(G.dequantize(dev(q), dev(s), dev(z)), C.dequantize(q, s, z))


def test_quantize_noncontiguous_and_out():
    x = data((4, 3))
    s, z = np.array([0.5], np.float32), np.array([3], np.int32)
    xt = dev(np.ascontiguousarray(x.T)).T  # a transposed view of the same values
    out = CudaArray.empty((4, 3), np.int8)
    assert G.quantize(xt, dev(s), dev(z), out=out) is out
    same(out, C.quantize(x, s, z))


@pytest.mark.parametrize("m,k,n", [(5, 9, 6), (1, 3, 1), (4, 4, 4), (3, 0, 2), (0, 2, 3)])
def test_matmul_int8_and_row_sums(m, k, n):
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    same(G.matmul_int8(dev(a), dev(b)), C.matmul_int8(a, b))
    same(G.int8_row_sums(dev(b)), C.int8_row_sums(b))


def test_matmul_int8_extremes():
    a = np.full((2, 6), -128, np.int8)
    same(G.matmul_int8(dev(a), dev(a[:1])), C.matmul_int8(a, a[:1]))


@pytest.mark.parametrize("bias", [True, False])
def test_qlinear_epilogue(bias):
    acc = rng.integers(-50000, 50000, (3, 5), dtype=np.int32)
    rows = rng.integers(-3000, 3000, 5).astype(np.int32)
    bs = rng.uniform(1e-3, 1e-2, 5).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32) if bias else None
    ref = C.qlinear_epilogue(acc, 0.037, -5, rows, bs, b)
    got = G.qlinear_epilogue(dev(acc), 0.037, -5, dev(rows), dev(bs),
                             None if b is None else dev(b))
    if SIM:
        same(got, ref)
    else:  # the GPU may fuse the multiply and the bias add (one rounding fewer)
        np.testing.assert_allclose(host(got), ref, rtol=2e-7, atol=1e-7)


UNFOLD_CASES = [  # x shape, kernel, stride, padding, dilation
    ((1, 1, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1)),
    ((2, 2, 4, 5), (3, 2), (1, 2), (1, 1), (1, 1)),
    ((1, 2, 5, 4), (2, 2), (2, 1), (1, 0, 2, 1), (2, 1)),
]


@pytest.mark.parametrize("case", UNFOLD_CASES)
def test_unfold_int8(case):
    shape, k, s, p, d = case
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    same(G.unfold_int8(dev(x), k, s, p, d, -3), C.unfold_int8(x, k, s, p, d, -3))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_histogram(dt):
    lo, hi, bins = -1.0, 1.3, 7
    edges = np.linspace(lo, hi, bins + 1, dtype=dt)
    x = np.concatenate([rng.uniform(-1.5, 1.5, 12).astype(dt), edges,
                        np.nextafter(edges, dt(-np.inf)), [np.nan, np.inf, dt(hi)]]).astype(dt)
    same(G.histogram(dev(x), lo, hi, bins), C.histogram(x, lo, hi, bins))
    same(G.histogram(dev(x[:0]), lo, hi, bins), C.histogram(x[:0], lo, hi, bins))


def test_errors():
    x = np.zeros((3, 4), np.float32)
    s, z = np.ones(1, np.float32), np.zeros(1, np.int32)
    with pytest.raises(TypeError, match=r"quantize: x must be a CudaArray"):
        G.quantize(x, dev(s), dev(z))
    with pytest.raises(ValueError, match=r"quantize: 5 scales for x of shape \(3, 4\)"):
        G.quantize(dev(x), dev(np.ones(5, np.float32)), dev(np.zeros(5, np.int32)))
    with pytest.raises(ValueError, match=r"fake_quantize: qmin = 5 > qmax = 4"):
        G.fake_quantize(dev(x), dev(s), dev(z), 5, 4)
    with pytest.raises(ValueError, match=r"matmul_int8: need a \(M, K\) and b_t \(N, K\), "
                                         r"got shapes \(3, 4\) and \(5, 6\)"):
        G.matmul_int8(dev(np.zeros((3, 4), np.int8)), dev(np.zeros((5, 6), np.int8)))
    with pytest.raises(TypeError, match=r"histogram: x must be float32 or float64"):
        G.histogram(dev(np.zeros(3, np.int32)), 0, 1, 2)
