"""CUDA nnops launchers against the CPU launchers of the same names (tiny shapes; runs under
the CUDA simulator with ``NUMBA_ENABLE_CUDASIM=1 NUMBAGRAD_CUDA_SUITE=1``)."""
import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numbagrad.kernels import cpu as C  # noqa: E402
from numbagrad.kernels.cuda import SIM, CudaArray, available  # noqa: E402
from numbagrad.kernels.cuda import creation as Gc  # noqa: E402
from numbagrad.kernels.cuda import nnops as G  # noqa: E402

if not (SIM or available()):
    pytest.skip("no CUDA device and NUMBA_ENABLE_CUDASIM is not set", allow_module_level=True)

DTYPES = [np.float32, np.float64]


def dev(a):
    return CudaArray.from_host(np.asarray(a))


def host(a):
    return None if a is None else a.to_host()


def tol(dt):
    return dict(rtol=2e-5, atol=2e-6) if np.dtype(dt) == np.float32 else dict(rtol=1e-11,
                                                                                atol=1e-12)


def close(got, want, dt, **kw):
    t = tol(dt)
    t.update(kw)
    got = host(got) if isinstance(got, CudaArray) else got
    assert got.shape == np.shape(want)
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, **t)


def rnd(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


# ------------------------------------------------------------------------ batch norm


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 3)])
def test_batch_norm_stats_forward(dt, shape):
    x = rnd(shape, dt) * 2 + 1
    w = rnd(shape[1], dt, 1)
    b = rnd(shape[1], dt, 2)
    mc, vc = C.batch_norm_stats(x)
    mg, vg = G.batch_norm_stats(dev(x))
    close(mg, mc, dt)
    close(vg, vc, dt)
    for ww, bb in ((w, b), (None, None), (w, None)):
        yc, ic = C.batch_norm_forward(x, mc, vc, ww, bb, 1e-5)
        yg, ig = G.batch_norm_forward(dev(x), mg, vg, None if ww is None else dev(ww),
                                      None if bb is None else dev(bb), 1e-5)
        close(yg, yc, dt)
        close(ig, ic, dt)


def test_batch_norm_non_contiguous_input():
    base = rnd((5, 3, 4), np.float64)
    x = base.transpose(2, 1, 0)  # (4, 3, 5), not contiguous
    xg = dev(base).transpose(2, 1, 0)
    assert not xg.flags.c_contiguous
    mc, vc = C.batch_norm_stats(x)
    mg, vg = G.batch_norm_stats(xg)
    close(mg, mc, np.float64)
    close(vg, vc, np.float64)
    yc, _ = C.batch_norm_forward(x, mc, vc, None, None, 1e-3)
    yg, _ = G.batch_norm_forward(xg, mg, vg, None, None, 1e-3)
    close(yg, yc, np.float64)


@pytest.mark.parametrize("dt", DTYPES)
def test_batch_norm_update_stats(dt):
    rm, rv = rnd(3, dt), np.abs(rnd(3, dt, 1))
    m, v = rnd(3, dt, 2), np.abs(rnd(3, dt, 3))
    rmg, rvg = dev(rm), dev(rv)
    for n in (7, 1):
        C.batch_norm_update_stats(rm, rv, m, v, 0.1, n)
        out = G.batch_norm_update_stats(rmg, rvg, dev(m), dev(v), 0.1, n)
        assert out[0] is rmg and out[1] is rvg
        close(rmg, rm, dt)
        close(rvg, rv, dt, equal_nan=True)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("has_w", [True, False])
def test_batch_norm_backward(dt, training, has_w):
    x = rnd((4, 3, 5), dt)
    g = rnd((4, 3, 5), dt, 1)
    w = rnd(3, dt, 2) if has_w else None
    mc, vc = C.batch_norm_stats(x)
    _, ic = C.batch_norm_forward(x, mc, vc, w, None, 1e-5)
    want = C.batch_norm_backward(g, x, mc, ic, w, training)
    got = G.batch_norm_backward(dev(g), dev(x), dev(mc), dev(ic),
                                None if w is None else dev(w), training)
    for a, b in zip(got, want):
        close(a, b, dt)
    got = G.batch_norm_backward(dev(g), dev(x), dev(mc), dev(ic), None, training,
                                need_input=False, need_bias=False)
    assert got[0] is None and got[2] is None
    close(got[1], want[1], dt)


# ------------------------------------------------------------------------ layer norm


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape,D", [((3, 6), 6), ((2, 3, 4), 12), ((5,), 5)])
def test_layer_norm_forward(dt, shape, D):
    x = rnd(shape, dt) * 3 - 1
    w = rnd(D, dt, 1)
    b = rnd(D, dt, 2)
    for ww, bb in ((w, b), (None, None), (None, b)):
        want = C.layer_norm_forward(x, D, ww, bb, 1e-5)
        got = G.layer_norm_forward(dev(x), D, None if ww is None else dev(ww),
                                   None if bb is None else dev(bb), 1e-5)
        for a, c in zip(got, want):
            close(a, c, dt)


def test_layer_norm_non_contiguous():
    base = rnd((6, 4), np.float32)
    want = C.layer_norm_forward(base.T, 6, None, None, 1e-5)
    got = G.layer_norm_forward(dev(base).T, 6, None, None, 1e-5)
    for a, c in zip(got, want):
        close(a, c, np.float32)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("has_w", [True, False])
def test_layer_norm_backward(dt, has_w):
    x = rnd((3, 5), dt)
    g = rnd((3, 5), dt, 1)
    w = rnd(5, dt, 2) if has_w else None
    _, mean, rstd = C.layer_norm_forward(x, 5, w, None, 1e-5)
    want = C.layer_norm_backward(g, x, 5, mean, rstd, w)
    got = G.layer_norm_backward(dev(g), dev(x), 5, dev(mean), dev(rstd),
                                None if w is None else dev(w))
    for a, c in zip(got, want):
        close(a, c, dt)


def test_layer_norm_backward_affine_many_rows():
    # 70 rows: two 64-row partial-sum blocks; only the weight/bias gradients
    dt = np.float32
    x = rnd((70, 3), dt)
    g = rnd((70, 3), dt, 1)
    _, mean, rstd = C.layer_norm_forward(x, 3, None, None, 1e-5)
    want = C.layer_norm_backward(g, x, 3, mean, rstd, None, need_input=False)
    got = G.layer_norm_backward(dev(g), dev(x), 3, dev(mean), dev(rstd), None,
                                need_input=False, need_bias=False)
    assert got[0] is None and got[2] is None
    close(got[1], want[1], dt)


# ------------------------------------------------------------------------ dropout


def test_dropout_distribution_and_structure():
    n, p = 400, 0.3
    x = rnd(n, np.float32) + 3
    Gc.seed(123)
    out, mask = G.dropout_forward(dev(x.reshape(20, 20)), p)
    assert out.shape == mask.shape == (20, 20)
    o, m = host(out).ravel(), host(mask).ravel()
    assert o.dtype == m.dtype == np.float32
    scale = np.float32(1 / (1 - p))
    assert set(np.unique(m)) <= {0, scale}
    assert abs((m == 0).mean() - p) < 0.1
    np.testing.assert_array_equal(o, x * m)
    Gc.seed(123)
    _, mask2 = G.dropout_forward(dev(x.reshape(20, 20)), p)
    np.testing.assert_array_equal(host(mask2).ravel(), m)
    _, mask3 = G.dropout_forward(dev(x.reshape(20, 20)), p)
    assert (host(mask3).ravel() != m).any()


def test_dropout_all_and_empty():
    out, mask = G.dropout_forward(dev(np.ones(5)), 1.0)
    assert not host(out).any() and not host(mask).any()
    out, mask = G.dropout_forward(dev(np.ones((0, 3))), 0.5)
    assert out.shape == mask.shape == (0, 3)


# ------------------------------------------------------------------------ embedding


@pytest.mark.parametrize("dt", DTYPES)
def test_embedding_forward(dt):
    w = rnd((5, 3), dt)
    idx = np.array([[0, 4, 2], [2, 2, 1]], np.int64)
    for z in (-1, 2):
        close(G.embedding_forward(dev(w), dev(idx), z), C.embedding_forward(w, idx, z), dt,
              rtol=0, atol=0)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("pad", [-1, 1])
def test_embedding_backward_deterministic(dt, pad):
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 6, (3, 7)).astype(np.int64)  # 21 positions: several chunks
    idx[0, 0] = 1
    g = rnd((3, 7, 4), dt, 4)
    want = C.embedding_backward(g, idx, 7, pad)  # row 6 never occurs
    got = G.embedding_backward(dev(g), dev(idx), 7, pad)
    # same summation order as the CPU: bit-identical
    close(got, want, dt, rtol=0, atol=0)


def test_embedding_backward_empty_indices():
    got = G.embedding_backward(dev(np.ones((0, 3))), dev(np.zeros(0, np.int64)), 4)
    np.testing.assert_array_equal(host(got), np.zeros((4, 3)))


# ------------------------------------------------------------------------ cross-entropy


def ce_case(shape, dt, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dt)
    tshape = (shape[0],) + shape[2:]
    t = rng.integers(0, shape[1], tshape).astype(np.int64)
    t.reshape(-1)[1] = -100
    w = rng.uniform(0.5, 2, shape[1]).astype(dt)
    return x, t, w


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_index(dt, shape, eps, weighted):
    x, t, w = ce_case(shape, dt)
    w = w if weighted else None
    wg = None if w is None else dev(w)
    lc, pc, yc = C.cross_entropy_forward(x, t, w, -100, eps)
    lg, pg, yg = G.cross_entropy_forward(dev(x), dev(t), wg, -100, eps)
    close(lg, lc, dt)
    close(yg, yc, dt)
    valid = np.moveaxis(t != -100, 0, 0)
    keep = np.expand_dims(valid, 1).repeat(shape[1], 1)
    np.testing.assert_allclose(host(pg)[keep], pc[keep], **tol(dt))
    for mean in (True, False):
        oc, sc = C.cross_entropy_reduce(lc, yc, mean)
        og, sg = G.cross_entropy_reduce(lg, yg, mean)
        assert og.shape == sg.shape == ()
        close(og, oc, dt)
        close(sg, np.asarray(sc, dt), dt)
        M = lc.size
        for g in (np.asarray(1.5, dt), rnd(M, dt, 7)):
            want = C.cross_entropy_backward(g, pc, t, w, sc, -100, eps)
            for s in (sg, sc):  # scale as a 0-d device array or a number
                got = G.cross_entropy_backward(dev(g), pg, dev(t), wg, s, -100, eps)
                close(got, want, dt)


def test_cross_entropy_reduce_zero_weight_is_nan():
    loss = np.zeros(3, np.float32)
    wy = np.zeros(3, np.float32)
    og, sg = G.cross_entropy_reduce(dev(loss), dev(wy), True)
    assert np.isnan(host(og)) and np.isnan(host(sg))
    og, sg = G.cross_entropy_reduce(dev(np.zeros(0)), None, True)
    assert np.isnan(host(og))
    og, sg = G.cross_entropy_reduce(dev(np.arange(4.0)), None, False)
    assert host(og) == 6 and host(sg) == 1


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 2)])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_prob(dt, shape, eps):
    x = rnd(shape, dt) * 2
    q = np.random.default_rng(1).uniform(size=shape).astype(dt)
    q /= q.sum(1, keepdims=True)
    w = np.linspace(0.5, 1.5, shape[1]).astype(dt)
    for ww in (None, w):
        wg = None if ww is None else dev(ww)
        lc, pc = C.cross_entropy_prob_forward(x, q, ww, eps)
        lg, pg = G.cross_entropy_prob_forward(dev(x), dev(q), wg, eps)
        close(lg, lc, dt)
        close(pg, pc, dt)
        oc, sc = C.cross_entropy_reduce(lc, None, True)
        og, sg = G.cross_entropy_reduce(lg, None, True)
        close(og, oc, dt)
        g = np.asarray(0.7, dt)
        want = C.cross_entropy_prob_backward(g, pc, q, ww, sc, eps)
        close(G.cross_entropy_prob_backward(dev(g), pg, dev(q), wg, sg, eps), want, dt)
        close(G.cross_entropy_prob_backward(dev(g), pg, dev(q), wg, sc, eps), want, dt)


# ------------------------------------------------------------------------ log-sigmoid


@pytest.mark.parametrize("dt", DTYPES)
def test_log_sigmoid(dt):
    x = np.array([[-50, -3, -0.5, 0], [0.25, 2, 20, 80]], dt)
    close(G.log_sigmoid_forward(dev(x)), C.log_sigmoid_forward(x), dt)
    close(G.log_sigmoid_forward(dev(x).T), C.log_sigmoid_forward(x.T), dt)
