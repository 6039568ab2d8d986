"""Int8 quantization kernels (``kernels/cpu/quant.py``): exact against numpy references
written from the formulas, bit for bit against PyTorch's fake quantization (forward and
gradient), ``quantize``/``dequantize`` round trips, the int8 matrix product against numpy's
int32 product, an int8 convolution through ``unfold_int8`` against a float64 convolution,
``histogram`` against ``np.histogram``, the threaded variants and the error messages.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from numbagrad.kernels import cpu as K
from numbagrad.kernels.cpu import _jit
from numbagrad.kernels.cpu import quant as Q

rng = np.random.default_rng(20240907)
BIG = _jit.PARALLEL_MIN  # first size that runs the threaded variant


def f32(*v):
    return np.array(v, np.float32)


def i32(*v):
    return np.array(v, np.int32)


def ref_round(x, scale, zp, qmin, qmax):
    """``clamp(rint(x * fl32(1/s)) + z)`` with numpy, per tensor or per channel (axis 0),
    as float (NaN -> qmin)."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    inv = (np.float32(1) / scale).reshape(shape)
    r = np.rint(x * inv) + zp.reshape(shape)
    r = np.where(np.isnan(r), qmin, r)
    return np.clip(r, qmin, qmax)


def ref_quantize(x, scale, zp, qmin=-128, qmax=127):
    return ref_round(x, scale, zp, qmin, qmax).astype(np.int8)


def ref_fake(x, scale, zp, qmin=-128, qmax=127):
    """``(q - z) * s`` in ``x``'s dtype (``q - z`` is exact; +0.0 where it is 0)."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    q = ref_round(x, scale, zp, qmin, qmax) - zp.reshape(shape)
    return q.astype(x.dtype) * scale.reshape(shape).astype(x.dtype)


def same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    ia = a.view(np.int32 if a.dtype == np.float32 else np.int64)
    ib = b.view(np.int32 if b.dtype == np.float32 else np.int64)
    bad = np.flatnonzero(ia != ib)
    assert bad.size == 0, f"{bad.size} differ, e.g. {a.ravel()[bad[:5]]} vs {b.ravel()[bad[:5]]}"


def no_deprecation(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


# --------------------------------------------------------------------------- rounding


def test_round_half_to_even_and_specials():
    x = f32(2.5, -0.5, 0.5, 1.5, -2.5, 3.5, -1.5, 0.49999997, -0.0, np.nan, np.inf, -np.inf,
            126.5, 1e30)
    one, zero = f32(1), i32(0)
    q = Q.quantize(x, one, zero)
    np.testing.assert_array_equal(q, [2, 0, 0, 2, -2, 4, -2, 0, 0, -128, 127, -128, 126, 127])
    # the tie is rounded before the zero point is added
    np.testing.assert_array_equal(Q.quantize(f32(0.5, -0.5, 1.5), one, i32(3)), [3, 3, 5])
    fq = Q.fake_quantize(x, f32(1), i32(3))
    np.testing.assert_array_equal(fq[:9], [2, 0, 0, 2, -2, 4, -2, 0, 0])
    assert not np.signbit(fq[1])  # rint(-0.5) = -0.0, but (q - z) * s is +0.0
    np.testing.assert_array_equal(fq[9:], [-131, 124, -131, 124, 124])


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("scale,zp,qmin,qmax", [(0.1, 3, -128, 127), (0.0372, 0, -127, 127),
                                                (1 / 3, -7, -100, 90), (0.3, 5, 0, 15)])
def test_quantize_per_tensor_matches_formula(dt, scale, zp, qmin, qmax):
    x = (rng.standard_normal((70, 1000)) * 10).astype(dt)  # 70000: the threaded variant
    x.ravel()[::997] = np.nan
    s, z = f32(scale), i32(zp)
    q = Q.quantize(x, s, z, qmin, qmax)
    assert q.dtype == np.int8 and q.shape == x.shape
    np.testing.assert_array_equal(q, ref_quantize(x, s, z, qmin, qmax))
    same_bits(Q.fake_quantize(x, s, z, qmin, qmax), ref_fake(x, s, z, qmin, qmax))
    # dequantize(quantize(x)) is fake_quantize(x), bit for bit (float32)
    if dt == np.float32:
        same_bits(Q.dequantize(q, s, z), Q.fake_quantize(x, s, z, qmin, qmax))


@pytest.mark.parametrize("shape", [(5,), (4, 7), (3, 2, 3, 3), (3, 20000)])
def test_quantize_per_channel_matches_formula(shape):
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    c = shape[0]
    s = rng.uniform(0.01, 0.5, c).astype(np.float32)
    z = rng.integers(-20, 20, c).astype(np.int32)
    q = Q.quantize(x, s, z)
    np.testing.assert_array_equal(q, ref_quantize(x, s, z))
    same_bits(Q.fake_quantize(x, s, z), ref_fake(x, s, z))
    same_bits(Q.dequantize(q, s, z), Q.fake_quantize(x, s, z))
    d = Q.dequantize(q, s, z)
    ref = (q.astype(np.float32) - z.reshape((-1,) + (1,) * (q.ndim - 1)).astype(np.float32))
    same_bits(d, ref * s.reshape((-1,) + (1,) * (q.ndim - 1)))


def test_quantize_noncontiguous_out_and_empty():
    x = (rng.standard_normal((6, 9)) * 3).astype(np.float32)
    s, z = f32(0.2), i32(1)
    np.testing.assert_array_equal(Q.quantize(x.T, s, z), ref_quantize(x.T.copy(), s, z))
    out = np.empty((9, 6), np.int8)
    assert Q.quantize(x.T, s, z, out=out) is out
    assert Q.quantize(np.empty((0, 3), np.float32), s, z).shape == (0, 3)
    assert Q.fake_quantize(np.empty(0), s, z).dtype == np.float64


# --------------------------------------------------------------------------- vs PyTorch


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("scale,zp,qmin,qmax", [(0.1, 3, -128, 127), (0.0372, 0, -127, 127),
                                                (1 / 3, -7, -100, 90), (0.3, 5, 0, 15)])
def test_fake_quantize_per_tensor_matches_torch(torch, dt, scale, zp, qmin, qmax):
    x = (rng.standard_normal(40000) * 10).astype(dt)
    x[:8] = [np.nan, np.inf, -np.inf, 0.5 * scale, -0.5 * scale, 2.5 * scale, 0, -0.0]
    s = f32(scale)
    xt = torch.from_numpy(x).requires_grad_()
    yt = torch.fake_quantize_per_tensor_affine(xt, float(s[0]), zp, qmin, qmax)
    g = rng.standard_normal(x.shape).astype(dt)
    yt.backward(torch.from_numpy(g))
    y = Q.fake_quantize(x, s, i32(zp), qmin, qmax)
    if dt == "float32":
        same_bits(y, yt.detach().numpy())
    else:  # torch multiplies (q - z) * s in float32 here, numbagrad in float64
        same_bits(y, ref_fake(x, s, i32(zp), qmin, qmax))
        same_bits(y.astype(np.float32), yt.detach().numpy().astype(np.float32))
    same_bits(Q.fake_quantize_backward(g, x, s, i32(zp), qmin, qmax), xt.grad.numpy())


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 50), (4, 3, 5, 5), (2, 20000)])
def test_fake_quantize_per_channel_matches_torch(torch, dt, shape):
    x = (rng.standard_normal(shape) * 5).astype(dt)
    c = shape[0]
    s = rng.uniform(0.01, 0.3, c).astype(np.float32)
    z = rng.integers(-10, 10, c).astype(np.int32)
    xt = torch.from_numpy(x).requires_grad_()
    yt = torch.fake_quantize_per_channel_affine(xt, torch.from_numpy(s), torch.from_numpy(z),
                                                0, -100, 100)
    g = rng.standard_normal(shape).astype(dt)
    yt.backward(torch.from_numpy(g))
    same_bits(Q.fake_quantize(x, s, z, -100, 100), yt.detach().numpy())
    same_bits(Q.fake_quantize_backward(g, x, s, z, -100, 100), xt.grad.numpy())


def test_quantize_matches_torch_quantize_with_zero_point_0(torch):
    """``torch.quantize_per_tensor`` rounds ``x / s + z`` as one fused value (FBGEMM); with
    ``z = 0`` that is our ``rint(x / s) + z``, so the two agree exactly."""
    x = (rng.standard_normal((64, 600)) * 10).astype(np.float32)
    for scale in (0.1, 0.0372, 1 / 3):
        s = f32(scale)
        tq = no_deprecation(torch.quantize_per_tensor, torch.from_numpy(x), float(s[0]), 0,
                            torch.qint8)
        np.testing.assert_array_equal(Q.quantize(x, s, i32(0)), tq.int_repr().numpy())
        np.testing.assert_array_equal(Q.dequantize(Q.quantize(x, s, i32(0)), s, i32(0)),
                                      tq.dequantize().numpy())
    sc = rng.uniform(0.01, 0.3, 64).astype(np.float32)
    zc = np.zeros(64, np.int32)
    tq = no_deprecation(torch.quantize_per_channel, torch.from_numpy(x),
                        torch.from_numpy(sc.astype(np.float64)),
                        torch.zeros(64, dtype=torch.int64), 0, torch.qint8)
    np.testing.assert_array_equal(Q.quantize(x, sc, zc), tq.int_repr().numpy())


# --------------------------------------------------------------------------- matmul_int8


def ref_mm(a, b_t):
    return a.astype(np.int32) @ b_t.astype(np.int32).T


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 7, 3), (4, 16, 2), (37, 130, 23),
                                   (3, 50, 9), (130, 300, 67), (64, 1000, 130)])
def test_matmul_int8_exact(m, k, n):
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    c = Q.matmul_int8(a, b)
    assert c.dtype == np.int32 and c.shape == (m, n)
    np.testing.assert_array_equal(c, ref_mm(a, b))


def test_matmul_int8_extremes_views_out_and_empty():
    k = Q.K_MAX  # the largest K: all products 128 * 128 sum to 2^31 - 2^14
    a = np.full((5, k), -128, np.int8)
    c = Q.matmul_int8(a, a[:3])
    assert (c == k * 16384).all() and k * 16384 < 2 ** 31
    a = rng.integers(-128, 128, (20, 30), dtype=np.int8)
    b = rng.integers(-128, 128, (30, 11), dtype=np.int8)
    np.testing.assert_array_equal(Q.matmul_int8(a[::2], b.T), ref_mm(a[::2], b.T))
    out = np.empty((10, 11), np.int32)
    assert Q.matmul_int8(a[::2], b.T, out=out) is out
    assert (Q.matmul_int8(np.empty((3, 0), np.int8), np.empty((4, 0), np.int8)) == 0).all()
    assert Q.matmul_int8(np.empty((0, 30), np.int8), b.T).shape == (0, 11)


def test_row_sums_and_qlinear_epilogue():
    m, k, n = 50, 200, 40  # 2000 outputs; the epilogue's threaded variant needs more
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-127, 128, (n, k), dtype=np.int8)
    rows = Q.int8_row_sums(w)
    np.testing.assert_array_equal(rows, w.astype(np.int64).sum(1))
    acc = Q.matmul_int8(a, w)
    b_scale = rng.uniform(1e-3, 1e-2, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    for a_scale, a_zp, b in [(0.05, 3, bias), (0.0173, -128, None), (1.0, 0, bias)]:
        y = Q.qlinear_epilogue(acc, a_scale, a_zp, rows, b_scale, b)
        d = (acc.astype(np.int64) - a_zp * rows.astype(np.int64)).astype(np.float32)
        ref = d * (np.float32(a_scale) * b_scale)
        if b is not None:
            ref = ref + b
        same_bits(y, ref)
    big = rng.integers(-2 ** 20, 2 ** 20, (300, 130), dtype=np.int32)  # threaded
    r = rng.integers(-2 ** 15, 2 ** 15, 130).astype(np.int32)
    s = np.full(130, 0.5, np.float32)
    same_bits(Q.qlinear_epilogue(big, 0.25, 7, r, s),
              (big.astype(np.int64) - 7 * r).astype(np.float32) * np.float32(0.125))


def test_quantized_linear_layer_end_to_end():
    """int8 linear = dequantized float linear, up to float32 rounding of the epilogue."""
    x = rng.standard_normal((32, 100)).astype(np.float32)
    w = (rng.standard_normal((20, 100)) * 0.1).astype(np.float32)
    bias = rng.standard_normal(20).astype(np.float32)
    sa = np.float32((x.max() - x.min()) / 255)
    za = int(np.clip(np.rint(-128 - x.min() / sa), -128, 127))
    sw = (np.abs(w).max(1) / 127).astype(np.float32)  # symmetric per-channel weight
    qa = Q.quantize(x, f32(sa), i32(za))
    qw = Q.quantize(w, sw, np.zeros(20, np.int32))
    y = Q.qlinear_epilogue(Q.matmul_int8(qa, qw), float(sa), za, Q.int8_row_sums(qw), sw,
                           bias)
    xd = Q.dequantize(qa, f32(sa), i32(za)).astype(np.float64)
    wd = Q.dequantize(qw, sw, np.zeros(20, np.int32)).astype(np.float64)
    np.testing.assert_allclose(y, xd @ wd.T + bias, rtol=1e-5, atol=1e-5)
    assert np.abs(y - (x @ w.T + bias)).max() < 0.05  # and near the float layer


# --------------------------------------------------------------------------- unfold_int8


def ref_unfold(x, k, s, p, d, pad):
    n, c, h, w = x.shape
    pt, pb, pl, pr = p if len(p) == 4 else (p[0], p[0], p[1], p[1])
    xp = np.full((n, c, h + pt + pb, w + pl + pr), pad, np.int8)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    oh = (h + pt + pb - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + pl + pr - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.empty((n, oh, ow, c, k[0], k[1]), np.int8)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0], j * s[1]
            out[:, i, j] = xp[:, :, hs:hs + d[0] * (k[0] - 1) + 1:d[0],
                              ws:ws + d[1] * (k[1] - 1) + 1:d[1]]
    return out.reshape(n * oh * ow, c * k[0] * k[1])


UNFOLD_CASES = [  # x shape, kernel, stride, padding, dilation
    ((1, 1, 4, 4), (3, 3), (1, 1), (0, 0), (1, 1)),
    ((2, 3, 5, 6), (3, 2), (2, 1), (1, 1), (1, 1)),
    ((1, 2, 7, 7), (3, 3), (1, 2), (1, 0, 2, 1), (2, 1)),
    ((2, 2, 1, 6), (1, 3), (1, 1), (0, 0, 1, 1), (1, 2)),
    ((4, 8, 16, 16), (3, 3), (1, 1), (1, 1), (1, 1)),  # 73728 elements: threaded
]


@pytest.mark.parametrize("case", UNFOLD_CASES)
def test_unfold_int8(case):
    shape, k, s, p, d = case
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    got = Q.unfold_int8(x, k, s, p, d, -7)
    np.testing.assert_array_equal(got, ref_unfold(x, k, s, p, d, -7))


def test_int8_conv_through_unfold_matches_float_conv(torch):
    """Patches x (O, C KH KW) weight rows = the convolution of the zero-point-padded input:
    the column order is a Conv2d weight's."""
    x = rng.integers(-128, 128, (2, 3, 6, 7), dtype=np.int8)
    w = rng.integers(-127, 128, (5, 3, 3, 2), dtype=np.int8)
    za = 9
    cols = Q.unfold_int8(x, (3, 2), (2, 1), (1, 1), (1, 2), za)
    y = Q.matmul_int8(cols, w.reshape(5, -1))  # (N OH OW, O)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=za)
    ref = torch.nn.functional.conv2d(torch.from_numpy(xp),
                                     torch.from_numpy(w.astype(np.float64)),
                                     stride=(2, 1), dilation=(1, 2)).numpy()
    n, o, oh, ow = ref.shape
    np.testing.assert_array_equal(y.reshape(n, oh, ow, o).transpose(0, 3, 1, 2), ref)


# --------------------------------------------------------------------------- histogram


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("lo,hi,bins", [(-3.0, 3.0, 10), (0.1, 0.7, 2048), (-1, 2, 1),
                                        (-2.5, 1.1, 37)])
def test_histogram_matches_numpy(dt, lo, hi, bins):
    x = rng.standard_normal(200_000).astype(dt)  # several threaded chunks
    edges = np.linspace(lo, hi, bins + 1, dtype=dt)
    x[:bins + 1] = edges  # on every edge
    x[bins + 1:2 * bins + 2] = np.nextafter(edges, dt(np.inf))
    x[2 * bins + 2:3 * bins + 3] = np.nextafter(edges, dt(-np.inf))
    x[-6:] = [np.nan, np.inf, -np.inf, hi, lo, np.nextafter(dt(hi), dt(np.inf))]
    got = Q.histogram(x, lo, hi, bins)
    assert got.dtype == np.int64 and got.shape == (bins,)
    np.testing.assert_array_equal(got, np.histogram(x, bins, (float(lo), float(hi)))[0])
    small = x[:1000]
    np.testing.assert_array_equal(Q.histogram(small.reshape(10, 100), lo, hi, bins),
                                  np.histogram(small, bins, (float(lo), float(hi)))[0])


def test_histogram_empty_range_and_empty_input():
    x = f32(1.0, 0.5, 1.5, 1.2, 0.4)
    np.testing.assert_array_equal(Q.histogram(x, 1.0, 1.0, 4), np.histogram(x, 4, (1.0, 1.0))[0])
    np.testing.assert_array_equal(Q.histogram(np.empty(0, np.float32), 0, 1, 3), [0, 0, 0])


# --------------------------------------------------------------------------- errors


def test_errors_name_the_function_and_shapes():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"quantize: 5 scales for x of shape \(3, 4\)"):
        Q.quantize(x, np.ones(5, np.float32), np.zeros(5, np.int32))
    with pytest.raises(TypeError, match=r"quantize: x must be float32 or float64, got int32"):
        Q.quantize(x.astype(np.int32), f32(1), i32(0))
    with pytest.raises(TypeError, match=r"fake_quantize: scale must be float32, got float64"):
        Q.fake_quantize(x, np.ones(1), i32(0))
    with pytest.raises(TypeError, match=r"zero_point must be int32"):
        Q.quantize(x, f32(1), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match=r"scale and zero_point must be 1-D of one length"):
        Q.dequantize(x.astype(np.int8), f32(1, 1, 1), i32(0))
    with pytest.raises(ValueError, match=r"quantize: qmin = -129 is outside \[-128, 127\]"):
        Q.quantize(x, f32(1), i32(0), -129, 127)
    with pytest.raises(ValueError, match=r"fake_quantize: qmin = 5 > qmax = 4"):
        Q.fake_quantize(x, f32(1), i32(0), 5, 4)
    with pytest.raises(ValueError, match=r"zero_point must lie in \[qmin, qmax\] = \[0, 15\]"):
        Q.quantize(x, f32(1), i32(16), 0, 15)
    with pytest.raises(ValueError, match=r"quantize: scale must be positive"):
        Q.quantize(x, f32(0), i32(0))
    with pytest.raises(ValueError, match=r"fake_quantize_backward: g of shape \(4, 3\) for x"):
        Q.fake_quantize_backward(x.T.copy(), x, f32(1), i32(0))
    with pytest.raises(ValueError, match=r"quantize: out must have shape \(3, 4\) and dtype "
                                         r"int8, got \(3, 4\) float32"):
        Q.quantize(x, f32(1), i32(0), out=x)
    a, b = np.zeros((3, 4), np.int8), np.zeros((5, 6), np.int8)
    with pytest.raises(ValueError, match=r"matmul_int8: need a \(M, K\) and b_t \(N, K\), "
                                         r"got shapes \(3, 4\) and \(5, 6\)"):
        Q.matmul_int8(a, b)
    with pytest.raises(TypeError, match=r"matmul_int8: b_t must be int8, got float32"):
        Q.matmul_int8(a, b.astype(np.float32))
    big = np.zeros((1, Q.K_MAX + 1), np.int8)
    with pytest.raises(ValueError, match=r"matmul_int8: K = 131072 > 131071"):
        Q.matmul_int8(big, big)
    acc = np.zeros((3, 5), np.int32)
    with pytest.raises(ValueError, match=r"qlinear_epilogue: b_scale must have shape \(5,\) "
                                         r"for acc of shape \(3, 5\), got \(4,\)"):
        Q.qlinear_epilogue(acc, 0.1, 0, np.zeros(5, np.int32), np.ones(4, np.float32), None)
    with pytest.raises(ValueError, match=r"a_zero_point = 300 is outside"):
        Q.qlinear_epilogue(acc, 0.1, 300, np.zeros(5, np.int32), np.ones(5, np.float32), None)
    xi = np.zeros((1, 2, 3, 3), np.int8)
    with pytest.raises(ValueError, match=r"unfold_int8: kernel \(4, 4\) .* shape \(1, 2, 3, 3\)"):
        Q.unfold_int8(xi, (4, 4), (1, 1), (0, 0), (1, 1), 0)
    with pytest.raises(TypeError, match=r"unfold_int8: kernel_size must be a tuple of ints"):
        Q.unfold_int8(xi, 3, (1, 1), (0, 0), (1, 1), 0)
    with pytest.raises(ValueError, match=r"unfold_int8: stride must be two positive ints"):
        Q.unfold_int8(xi, (1, 1), (0, 1), (0, 0), (1, 1), 0)
    with pytest.raises(ValueError, match=r"unfold_int8: pad_value = 200 is outside"):
        Q.unfold_int8(xi, (1, 1), (1, 1), (0, 0), (1, 1), 200)
    with pytest.raises(ValueError, match=r"unfold_int8: x must be \(N, C, H, W\)"):
        Q.unfold_int8(xi[0], (1, 1), (1, 1), (0, 0), (1, 1), 0)
    with pytest.raises(ValueError, match=r"histogram: lo = 2.0 > hi = 1.0"):
        Q.histogram(x, 2.0, 1.0, 4)
    with pytest.raises(ValueError, match=r"histogram: range \[0.0, inf\] is not finite"):
        Q.histogram(x, 0, np.inf, 4)
    with pytest.raises(ValueError, match=r"histogram: bins = 0 must be at least 1"):
        Q.histogram(x, 0, 1, 0)


def test_threaded_variants_ran():
    """Inputs of BIG elements (or work) take the prange variants; check they were built."""
    x = rng.standard_normal(BIG).astype(np.float32)
    s, z = f32(0.01), i32(2)  # about a fifth of x is clamped
    q = Q.quantize(x, s, z)
    np.testing.assert_array_equal(q, ref_quantize(x, s, z))
    same_bits(Q.dequantize(q, s, z), Q.fake_quantize(x, s, z))
    r = np.rint(x * (np.float32(1) / s[0])) + z[0]
    mask = (r >= -128) & (r <= 127)
    assert 0.1 < 1 - mask.mean() < 0.3
    same_bits(Q.fake_quantize_backward(x, x, s, z), x * mask.astype(np.float32))
    a = rng.integers(-128, 128, (40, 33), dtype=np.int8)
    np.testing.assert_array_equal(Q.matmul_int8(a, a), ref_mm(a, a))
    w = rng.integers(-128, 128, (BIG // 64, 64), dtype=np.int8)
    np.testing.assert_array_equal(Q.int8_row_sums(w), w.astype(np.int32).sum(1))
    kernels = [Q._quantize_k, Q._dequantize_k, Q._fake_quantize_k, Q._fake_quantize_backward_k,
               Q._matmul_int8_k, Q._row_sums_k, Q._qlinear_epilogue_k, Q._unfold_int8_k,
               Q._histogram_k]
    Q.qlinear_epilogue(np.zeros((BIG // 64, 64), np.int32), 1.0, 0, np.zeros(64, np.int32),
                       np.ones(64, np.float32))
    Q.unfold_int8(np.zeros((1, 1, 200, 200), np.int8), (1, 1), (1, 1), (0, 0), (1, 1), 0)
    Q.histogram(x, -1, 1, 8)
    assert all(k._par is not None for k in kernels)


# --------------------------------------------------------------------------- namespaces


def test_exported_and_mirrored_on_cuda():
    for name in Q.__all__:
        assert getattr(K, name) is getattr(Q, name)
    pytest.importorskip("numba_cuda")
    from numbagrad.kernels.cuda import quant as G

    assert G.__all__ == Q.__all__
    for name in Q.__all__:
        assert inspect.signature(getattr(G, name)) == inspect.signature(getattr(Q, name)), name
