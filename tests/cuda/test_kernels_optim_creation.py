"""CUDA optimizer steps and creation kernels against the CPU launchers of the same names
(tiny shapes; runs under the CUDA simulator with
``NUMBA_ENABLE_CUDASIM=1 NUMBAGRAD_CUDA_SUITE=1``). Random fills are checked for their
distribution (the streams differ from the CPU's by design)."""
import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numbagrad.kernels import cpu as C  # noqa: E402
from numbagrad.kernels.cuda import SIM, CudaArray, available  # noqa: E402
from numbagrad.kernels.cuda import creation as Gc  # noqa: E402
from numbagrad.kernels.cuda import optim as Go  # noqa: E402

if not (SIM or available()):
    pytest.skip("no CUDA device and NUMBA_ENABLE_CUDASIM is not set", allow_module_level=True)

DTYPES = [np.float32, np.float64]


def dev(a):
    return CudaArray.from_host(np.asarray(a))


def tol(dt):
    # float32: a few ulp (the simulator runs math.sqrt of a float32 in float64, and the
    # centered RMSprop denominator cancels)
    return dict(rtol=1e-5, atol=1e-6) if np.dtype(dt) == np.float32 else dict(rtol=1e-13,
                                                                                atol=1e-15)


def rnd(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def run_steps(name, dt, nstate, args_of, steps=3, shape=(2, 3)):
    """``steps`` updates by the CPU and the CUDA launcher from the same start; compares
    the parameter and every state after each step."""
    p = rnd(shape, dt)
    states = [np.abs(rnd(shape, dt, 10 + i)) * 0.1 for i in range(nstate)]
    pg = dev(p)
    sg = [dev(s) for s in states]
    for step in range(1, steps + 1):
        g = rnd(shape, dt, 100 + step)
        getattr(C, name)(p, g, *states, *args_of(step))
        getattr(Go, name)(pg, dev(g), *sg, *args_of(step))
        np.testing.assert_allclose(pg.to_host(), p, **tol(dt))
        for a, b in zip(sg, states):
            np.testing.assert_allclose(a.to_host(), b, **tol(dt))
    assert pg.to_host().dtype == np.dtype(dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("mom,damp,nest,wd,maxi", [
    (0.9, 0.0, False, 0.0, False), (0.9, 0.1, False, 0.01, True), (0.8, 0.0, True, 0.1, False),
])
def test_sgd_momentum(dt, mom, damp, nest, wd, maxi):
    run_steps("sgd_step", dt, 1,
              lambda s: (0.1, wd, mom, damp, nest, maxi, s == 1))


@pytest.mark.parametrize("dt", DTYPES)
def test_sgd_plain_empty_or_none_buffer(dt):
    p = rnd(5, dt)
    g = rnd(5, dt, 1)
    pg = dev(p)
    C.sgd_step(p, g, p[:0], 0.1, 0.01, 0.0, 0.0, False, False, False)
    Go.sgd_step(pg, dev(g), pg[:0], 0.1, 0.01, 0.0, 0.0, False, False, False)
    np.testing.assert_allclose(pg.to_host(), p, **tol(dt))
    C.sgd_step(p, g, p[:0], 0.1, 0.0, 0.0, 0.0, False, True, False)
    Go.sgd_step(pg, dev(g), None, 0.1, 0.0, 0.0, 0.0, False, True, False)
    np.testing.assert_allclose(pg.to_host(), p, **tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("wd,ams,dec,maxi", [
    (0.0, False, False, False), (0.1, True, False, True), (0.01, False, True, False),
    (0.01, True, True, False),
])
def test_adam(dt, wd, ams, dec, maxi):
    run_steps("adam_step", dt, 3,
              lambda s: (1e-2, 0.9, 0.999, 1e-8, wd, s, ams, dec, maxi))


def test_adam_without_amsgrad_state():
    dt = np.float32
    p, g = rnd(4, dt), rnd(4, dt, 1)
    m, v = np.zeros(4, dt), np.zeros(4, dt)
    pg, mg, vg = dev(p), dev(m), dev(v)
    C.adam_step(p, g, m, v, v, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, False, False, False)
    Go.adam_step(pg, dev(g), mg, vg, None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, False, False,
                 False)
    np.testing.assert_allclose(pg.to_host(), p, **tol(dt))
    np.testing.assert_allclose(vg.to_host(), v, **tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("wd,mom,cen,maxi", [
    (0.0, 0.0, False, False), (0.1, 0.9, True, False), (0.0, 0.5, False, True),
    (0.01, 0.0, True, False),
])
def test_rmsprop(dt, wd, mom, cen, maxi):
    run_steps("rmsprop_step", dt, 3,
              lambda s: (1e-2, 0.99, 1e-8, wd, mom, cen, maxi))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("wd,maxi", [(0.0, False), (0.1, True)])
def test_adagrad(dt, wd, maxi):
    run_steps("adagrad_step", dt, 1, lambda s: (0.1 / (1 + (s - 1) * 0.01), 1e-10, wd, maxi))


def test_float32_update_stays_float32():
    # an lr that rounds differently in float32 and float64: the update must use float32's
    dt = np.float32
    p = np.ones(3, dt)
    g = np.full(3, 1e-3, dt)
    pg = dev(p)
    C.sgd_step(p, g, p[:0], 0.1 + 1e-9, 0.0, 0.0, 0.0, False, False, False)
    Go.sgd_step(pg, dev(g), None, 0.1 + 1e-9, 0.0, 0.0, 0.0, False, False, False)
    np.testing.assert_array_equal(pg.to_host(), p)


def test_non_contiguous_param_is_refused():
    pg = dev(np.ones((3, 2))).T
    with pytest.raises(ValueError, match="C-contiguous"):
        Go.sgd_step(pg, dev(np.ones((2, 3))), None, 0.1, 0.0, 0.0, 0.0, False, False, False)


# ------------------------------------------------------------------------ creation


def test_allocators():
    e = Gc.empty((2, 3), np.float32)
    assert isinstance(e, CudaArray) and e.shape == (2, 3) and e.dtype == np.float32
    assert e.flags.c_contiguous
    z = Gc.zeros((4,), np.int64)
    np.testing.assert_array_equal(z.to_host(), np.zeros(4, np.int64))
    like = Gc.empty_like(dev(np.ones((3, 1), np.float64)).T)
    assert like.shape == (1, 3) and like.dtype == np.float64 and like.flags.c_contiguous
    assert Gc.zeros((0, 2), np.float32).shape == (0, 2)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.int32])
def test_arange(dt):
    start, step = (0.5, 0.25) if np.dtype(dt).kind == "f" else (-3, 2)
    want = C.arange_(np.empty(7, dt), start, step)
    got = Gc.arange_(Gc.empty(7, dt), start, step)
    np.testing.assert_array_equal(got.to_host(), want)


@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_])
def test_eye(dt):
    for shape in ((3, 3), (2, 4), (4, 2)):
        np.testing.assert_array_equal(Gc.eye_(Gc.empty(shape, dt)).to_host(),
                                      C.eye_(np.empty(shape, dt)))
    base = Gc.zeros((4, 3), dt)
    Gc.eye_(base.T)  # a transposed view
    np.testing.assert_array_equal(base.to_host(), C.eye_(np.empty((3, 4), dt)).T)


def test_seed_repeatable_and_uniform_distribution():
    n = 400
    Gc.seed(7)
    a = Gc.uniform_(Gc.empty((n,), np.float64), -2.0, 3.0).to_host()
    b = Gc.uniform_(Gc.empty((n,), np.float64), -2.0, 3.0).to_host()
    Gc.seed(7)
    a2 = Gc.uniform_(Gc.empty((n,), np.float64), -2.0, 3.0).to_host()
    np.testing.assert_array_equal(a, a2)
    assert (a != b).any()
    assert a.min() >= -2 and a.max() < 3
    assert abs(a.mean() - 0.5) < 0.5  # sd of the mean: 5 / sqrt(12 n) = 0.072
    assert abs(a.std() - 5 / np.sqrt(12)) < 0.3
    hist = np.histogram(a, bins=5, range=(-2, 3))[0]
    assert hist.min() > 40  # 80 expected per bin
    f = Gc.uniform_(Gc.empty((20, 20), np.float32)).to_host()
    assert f.dtype == np.float32 and f.min() >= 0 and f.max() <= 1 and 0.4 < f.mean() < 0.6


def test_normal_distribution():
    Gc.seed(1)
    x = Gc.normal_(Gc.empty((400,), np.float32), 2.0, 3.0).to_host()
    assert x.dtype == np.float32
    assert abs(x.mean() - 2) < 0.6  # sd of the mean: 0.15
    assert abs(x.std() - 3) < 0.5
    assert 0.55 < (np.abs(x - 2) < 3).mean() < 0.8  # 68% within one sd


def test_randint_randperm():
    Gc.seed(3)
    r = Gc.randint_(Gc.empty((300,), np.int64), -2, 3).to_host()
    assert r.min() == -2 and r.max() == 2
    counts = np.bincount(r + 2)
    assert counts.min() > 30  # 60 expected each
    r32 = Gc.randint_(Gc.empty((40,), np.int32), 5, 6).to_host()
    assert r32.dtype == np.int32 and (r32 == 5).all()
    with pytest.raises(ValueError):
        Gc.randint_(Gc.empty((3,), np.int64), 4, 4)
    p = Gc.randperm_(Gc.empty((50,), np.int64)).to_host()
    np.testing.assert_array_equal(np.sort(p), np.arange(50))
    assert (p != np.arange(50)).sum() > 25
    q = Gc.randperm_(Gc.empty((50,), np.int64)).to_host()
    assert (p != q).any()
    np.testing.assert_array_equal(Gc.randperm_(Gc.empty((1,), np.int64)).to_host(), [0])


def test_random_fill_of_a_view_touches_only_the_view():
    base = Gc.zeros((4, 6), np.float64)
    Gc.uniform_(base[:, ::2], 1.0, 2.0)
    h = base.to_host()
    assert (h[:, 1::2] == 0).all()
    assert (h[:, ::2] >= 1).all() and (h[:, ::2] < 2).all()
    Gc.arange_(base[1], 0, 1)
    np.testing.assert_array_equal(base.to_host()[1], np.arange(6.0))
