"""Convolution and pooling: first- and second-order gradient checks in float64, forward and
backward against PyTorch, the threaded kernel variants, the layers and the error messages.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import numbagrad as ng
import numbagrad.nn.functional as F
from numbagrad import nn
from numbagrad.autograd import gradcheck
from numbagrad.kernels import cpu as K
from numbagrad.kernels.cpu import _jit
from numbagrad.kernels.cpu import conv as conv_kernels

rng = np.random.default_rng(20240611)


def T(a, requires_grad=True) -> ng.Tensor:
    return ng.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def randn(*shape, requires_grad=True) -> ng.Tensor:
    return T(rng.standard_normal(shape), requires_grad)


def separated(*shape) -> ng.Tensor:
    """Distinct values at least 0.1 apart (a max-pool argmax that a 1e-6 finite-difference
    step cannot flip)."""
    n = int(np.prod(shape))
    return T((rng.permutation(n) * 0.1 - n * 0.05).reshape(shape))


def gradgradcheck(fn, inputs, **kw) -> bool:
    """Second-order check: ``gradcheck`` of ``(inputs, v) -> v^T J``.

    Written here because ``numbagrad.autograd.gradgradcheck`` evaluates its first-derivative
    function under ``no_grad`` for the finite differences, where it yields no outputs, so it
    compares nothing (reported). Here the first derivatives run with grad enabled.
    """
    inputs = tuple(inputs)
    n = len(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, ng.Tensor) and t.requires_grad]
    outs = fn(*inputs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    vs = tuple(randn(*o.shape) for o in outs)

    def first(*args):
        xs, v = args[:n], args[n:]
        with ng.enable_grad():
            os_ = fn(*xs)
            os_ = os_ if isinstance(os_, tuple) else (os_,)
            gs = ng.autograd.grad(list(os_), [xs[i] for i in diff], grad_outputs=list(v),
                                  create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    assert first(*inputs, *vs), "no first derivatives to check"
    return gradcheck(first, inputs + vs, **kw)


def close(got, expected, rtol=1e-10):
    """Equal to ``rtol`` relative to each element and to the array's scale."""
    got = got.detach().numpy() if isinstance(got, ng.Tensor) else np.asarray(got)
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    assert got.shape == expected.shape, (got.shape, expected.shape)
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * max(scale, 1e-300))


def tt(torch, a: ng.Tensor, requires_grad=True):
    return torch.tensor(a.detach().numpy(), requires_grad=requires_grad)


# ---------------------------------------------------------------- gradient checks

CONV2D_CASES = [
    pytest.param((2, 2, 5, 5), (3, 2, 3, 3), True, dict(), id="plain"),
    pytest.param((2, 2, 5, 5), (2, 2, 3, 3), True, dict(stride=2, padding=1), id="stride-pad"),
    pytest.param((1, 2, 6, 5), (2, 2, 3, 2), False,
                 dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)), id="asym-dilation"),
    pytest.param((2, 4, 4, 4), (4, 2, 3, 3), True, dict(padding=1, groups=2), id="groups"),
    pytest.param((1, 2, 5, 5), (2, 2, 3, 3), True, dict(padding="same", dilation=2),
                 id="same-dilated"),
    pytest.param((1, 2, 4, 5), (2, 2, 2, 2), False, dict(padding="same"), id="same-even"),
]


@pytest.mark.parametrize("xs, ws, bias, kw", CONV2D_CASES)
def test_conv2d_gradcheck_and_gradgradcheck(xs, ws, bias, kw):
    x, w = randn(*xs), randn(*ws)
    b = randn(ws[0]) if bias else None

    def f(x, w, b=None):
        return F.conv2d(x, w, b, **kw)

    args = (x, w, b) if bias else (x, w)
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(dilation=2, groups=2),
                                dict(padding="same")], ids=["stride-pad", "dil-groups", "same"])
def test_conv1d_gradcheck_and_gradgradcheck(kw):
    x, w, b = randn(2, 2, 7), randn(4, 1 if kw.get("groups") else 2, 3), randn(4)

    def f(x, w, b):
        return F.conv1d(x, w, b, **kw)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv_double_backward_is_wrong_when_a_rule_is_wrong(monkeypatch):
    """The second-order check above can fail: break one rule of the bilinear triple."""
    from numbagrad.ops import nn_conv

    x, w = randn(1, 2, 4, 4), randn(2, 2, 3, 3)

    def f(x, w):
        return F.conv2d(x, w, padding=1)

    orig = nn_conv.Conv2dGradInput.backward

    def wrong(ctx, gg):
        dg, dw, a, b = orig(ctx, gg)
        return dg, dw * 1.01, a, b

    monkeypatch.setattr(nn_conv.Conv2dGradInput, "backward", staticmethod(wrong))
    assert not gradgradcheck(f, (x, w), raise_exception=False)


MAXPOOL_CASES = [
    pytest.param((2, 2, 4, 4), dict(kernel_size=2), id="k2"),
    pytest.param((1, 2, 5, 5), dict(kernel_size=3, stride=2, padding=1), id="k3s2p1"),
    pytest.param((1, 2, 5, 6), dict(kernel_size=(2, 3), stride=(2, 1), ceil_mode=True),
                 id="ceil"),
    pytest.param((1, 2, 6, 6), dict(kernel_size=2, stride=1, dilation=2), id="dilation"),
]


@pytest.mark.parametrize("xs, kw", MAXPOOL_CASES)
def test_max_pool2d_gradcheck_and_gradgradcheck(xs, kw):
    x = separated(*xs)

    def f(x):
        return F.max_pool2d(x, **kw)

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_max_pool1d_gradcheck_and_gradgradcheck():
    x = separated(2, 2, 9)

    def f(x):
        return F.max_pool1d(x, 3, stride=2, padding=1, dilation=1, ceil_mode=True)

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


AVGPOOL_CASES = [
    pytest.param(dict(kernel_size=2), id="k2"),
    pytest.param(dict(kernel_size=3, stride=2, padding=1), id="pad-include"),
    pytest.param(dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                      count_include_pad=False), id="pad-exclude-ceil"),
    pytest.param(dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), divisor_override=5),
                 id="divisor"),
]


@pytest.mark.parametrize("kw", AVGPOOL_CASES)
def test_avg_pool2d_gradcheck_and_gradgradcheck(kw):
    x = randn(1, 2, 5, 6)

    def f(x):
        return F.avg_pool2d(x, **kw)

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("size", [(3, 2), 1, (None, 4), (6, 7)])
def test_adaptive_avg_pool2d_gradcheck_and_gradgradcheck(size):
    x = randn(1, 2, 5, 6)

    def f(x):
        return F.adaptive_avg_pool2d(x, size)

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


# ---------------------------------------------------------------- against PyTorch


def _random_conv_config(seed):
    r = np.random.default_rng(seed)
    G = int(r.integers(1, 4))
    cg, og = int(r.integers(1, 4)), int(r.integers(1, 4))
    kh, kw = (int(v) for v in r.integers(1, 5, 2))
    sh, sw = (int(v) for v in r.integers(1, 4, 2))
    dh, dw = (int(v) for v in r.integers(1, 3, 2))
    ph, pw = (int(v) for v in r.integers(0, 3, 2))
    H = max(1, dh * (kh - 1) + 1 - 2 * ph) + int(r.integers(0, 7))
    W = max(1, dw * (kw - 1) + 1 - 2 * pw) + int(r.integers(0, 7))
    N = int(r.integers(1, 4))
    return dict(x=(N, G * cg, H, W), w=(G * og, cg, kh, kw), bias=bool(r.integers(0, 2)),
                kw=dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=G))


def _check_conv_vs_torch(torch, cfg, dims=2):
    tf = torch.nn.functional
    x, w = randn(*cfg["x"]), randn(*cfg["w"])
    b = randn(cfg["w"][0]) if cfg["bias"] else None
    fn, tfn = (F.conv2d, tf.conv2d) if dims == 2 else (F.conv1d, tf.conv1d)
    y = fn(x, w, b, **cfg["kw"])
    xt, wt = tt(torch, x), tt(torch, w)
    bt = tt(torch, b) if b is not None else None
    yt = tfn(xt, wt, bt, **cfg["kw"])
    close(y, yt)
    g = randn(*y.shape, requires_grad=False)
    y.backward(g)
    yt.backward(torch.tensor(g.numpy()))
    close(x.grad, xt.grad)
    close(w.grad, wt.grad)
    if b is not None:
        close(b.grad, bt.grad)


@pytest.mark.parametrize("seed", range(10))
def test_conv2d_random_configs_match_torch(torch, seed):
    _check_conv_vs_torch(torch, _random_conv_config(seed))


@pytest.mark.parametrize("seed", range(4))
def test_conv1d_random_configs_match_torch(torch, seed):
    cfg = _random_conv_config(100 + seed)
    n, c, _, length = cfg["x"]
    o, cg, _, k = cfg["w"]
    kw = cfg["kw"]
    cfg = dict(x=(n, c, length), w=(o, cg, k), bias=cfg["bias"],
               kw=dict(stride=kw["stride"][1], padding=kw["padding"][1],
                       dilation=kw["dilation"][1], groups=kw["groups"]))
    _check_conv_vs_torch(torch, cfg, dims=1)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("padding, dilation", [("same", 1), ("same", (2, 1)), ("valid", 1)])
def test_conv2d_string_padding_matches_torch(torch, padding, dilation):
    cfg = dict(x=(2, 3, 6, 5), w=(4, 3, 4, 3), bias=True,
               kw=dict(padding=padding, dilation=dilation))
    _check_conv_vs_torch(torch, cfg)


def test_conv2d_second_order_matches_torch(torch):
    """A Hessian-vector product through conv (create_graph) against torch's."""
    kw = dict(stride=(1, 2), padding=1, dilation=(2, 1), groups=2)
    x, w = randn(2, 4, 6, 5), randn(4, 2, 3, 3)
    y = F.conv2d(x, w, **kw)
    v = randn(*y.shape)
    u, z = randn(*x.shape, requires_grad=False), randn(*w.shape, requires_grad=False)
    gx, gw = ng.autograd.grad(y, (x, w), v, create_graph=True)
    h = ng.autograd.grad((gx * u).sum() + (gw * z).sum() + (gx * gx).sum(), (x, w, v))

    xt, wt, vt = tt(torch, x), tt(torch, w), tt(torch, v)
    yt = torch.nn.functional.conv2d(xt, wt, **kw)
    gxt, gwt = torch.autograd.grad(yt, (xt, wt), vt, create_graph=True)
    ut, zt = tt(torch, u, False), tt(torch, z, False)
    ht = torch.autograd.grad((gxt * ut).sum() + (gwt * zt).sum() + (gxt * gxt).sum(),
                             (xt, wt, vt))
    for a, b in zip(h, ht):
        close(a, b)


def _random_pool_config(seed, dilation=True):
    r = np.random.default_rng(seed)
    kh, kw = (int(v) for v in r.integers(1, 5, 2))
    sh, sw = (int(v) for v in r.integers(1, 4, 2))
    dh, dw = (int(v) for v in r.integers(1, 3, 2)) if dilation else (1, 1)
    ph, pw = int(r.integers(0, kh // 2 + 1)), int(r.integers(0, kw // 2 + 1))
    H = (kh - 1) * dh + 1 + int(r.integers(0, 7))
    W = (kw - 1) * dw + 1 + int(r.integers(0, 7))
    kw_ = dict(kernel_size=(kh, kw), stride=(sh, sw), padding=(ph, pw),
               ceil_mode=bool(r.integers(0, 2)))
    if dilation:
        kw_["dilation"] = (dh, dw)
    return (int(r.integers(1, 3)), int(r.integers(1, 4)), H, W), kw_


@pytest.mark.parametrize("seed", range(8))
def test_max_pool2d_random_configs_match_torch(torch, seed):
    shape, kw = _random_pool_config(seed)
    x = randn(*shape)
    y, idx = F.max_pool2d(x, return_indices=True, **kw)
    xt = tt(torch, x)
    yt, it = torch.nn.functional.max_pool2d(xt, return_indices=True, **kw)
    close(y, yt)
    assert idx.dtype is ng.int64
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    g = randn(*y.shape, requires_grad=False)
    y.backward(g)
    yt.backward(torch.tensor(g.numpy()))
    close(x.grad, xt.grad)


def test_max_pool_ties_nan_and_inf_like_torch(torch):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = 5.0          # tie: first one wins
    x[0, 0, 0, 2:] = -np.inf                     # an all -inf window
    x[0, 0, 0, 3] = np.nan                       # NaN propagates
    x[0, 0, 2:, :2] = -np.inf
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        y, i = F.max_pool2d(T(x, False), return_indices=True, **kw)
        yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(i.numpy(), it.numpy())


def test_max_pool_several_nans_in_a_window_like_torch(torch):
    # the last NaN of a window wins and stays, whatever follows it
    x = np.array([[np.nan, 1.0, 2.0, np.nan], [3.0, np.nan, 9.0, 1.0],
                  [np.nan, 7.0, 1.0, 2.0], [0.0, 0.0, np.nan, 8.0]]).reshape(1, 1, 4, 4)
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
               dict(kernel_size=2, stride=1, dilation=2)):
        y, i = F.max_pool2d(T(x, False), return_indices=True, **kw)
        yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(i.numpy(), it.numpy())


def test_max_pool_window_on_padding_only():
    # padding 1 and dilation 3 on a 2x2 input: the single window's taps (-1, 2) miss it
    x = T(np.arange(1.0, 5.0).reshape(1, 1, 2, 2))
    y, i = F.max_pool2d(x, 2, stride=1, padding=1, dilation=3, return_indices=True)
    assert y.detach().numpy().tolist() == [[[[-np.inf]]]]
    assert i.numpy().tolist() == [[[[-1]]]]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 1, 2, 2)))


@pytest.mark.parametrize("seed", range(3))
def test_max_pool1d_matches_torch(torch, seed):
    shape, kw = _random_pool_config(200 + seed)
    kw = {k: (v[1] if isinstance(v, tuple) else v) for k, v in kw.items()}
    x = randn(shape[0], shape[1], shape[3])
    y, idx = F.max_pool1d(x, return_indices=True, **kw)
    xt = tt(torch, x)
    yt, it = torch.nn.functional.max_pool1d(xt, return_indices=True, **kw)
    close(y, yt)
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    y.sum().backward()
    yt.sum().backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("seed", range(8))
def test_avg_pool2d_random_configs_match_torch(torch, seed):
    shape, kw = _random_pool_config(300 + seed, dilation=False)
    r = np.random.default_rng(seed)
    kw["count_include_pad"] = bool(r.integers(0, 2))
    kw["divisor_override"] = [None, None, 3][seed % 3]
    x = randn(*shape)
    y = F.avg_pool2d(x, **kw)
    xt = tt(torch, x)
    yt = torch.nn.functional.avg_pool2d(xt, **kw)
    close(y, yt)
    g = randn(*y.shape, requires_grad=False)
    y.backward(g)
    yt.backward(torch.tensor(g.numpy()))
    close(x.grad, xt.grad)


@pytest.mark.parametrize("in_hw, out_hw", [((7, 7), (3, 3)), ((5, 9), (2, 4)),
                                           ((4, 5), (7, 3)), ((10, 3), 1), ((6, 6), (6, None))])
def test_adaptive_avg_pool2d_matches_torch(torch, in_hw, out_hw):
    x = randn(2, 3, *in_hw)
    y = F.adaptive_avg_pool2d(x, out_hw)
    xt = tt(torch, x)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, out_hw)
    close(y, yt)
    g = randn(*y.shape, requires_grad=False)
    y.backward(g)
    yt.backward(torch.tensor(g.numpy()))
    close(x.grad, xt.grad)


def test_unbatched_and_noncontiguous_inputs(torch):
    tf = torch.nn.functional
    x, w = randn(3, 6, 5), randn(4, 3, 3, 3)
    close(F.conv2d(x, w, padding=1), tf.conv2d(tt(torch, x), tt(torch, w), padding=1))
    xs = randn(2, 3, 5, 6)
    xnc = xs.transpose(2, 3)  # a strided view
    assert not xnc.is_contiguous()
    close(F.conv2d(xnc, w, stride=2), tf.conv2d(tt(torch, xs).transpose(2, 3),
                                                tt(torch, w), stride=2))
    y, i = F.max_pool2d(x, 2, return_indices=True)
    yt, it = tf.max_pool2d(tt(torch, x), 2, return_indices=True)
    assert tuple(i.shape) == tuple(it.shape) == (3, 3, 2)
    close(y, yt)
    close(F.avg_pool2d(x, 2, padding=1), tf.avg_pool2d(tt(torch, x), 2, padding=1))
    close(F.adaptive_avg_pool2d(x, 2), tf.adaptive_avg_pool2d(tt(torch, x), 2))
    x1, w1 = randn(3, 8), randn(2, 3, 3)
    close(F.conv1d(x1, w1), tf.conv1d(tt(torch, x1), tt(torch, w1)))
    close(F.max_pool1d(x1, 2), tf.max_pool1d(tt(torch, x1), 2))


def test_large_inputs_run_threaded_kernels_and_match_torch(torch, monkeypatch):
    """Inputs of >= PARALLEL_MIN elements take the prange variants; a small im2col budget
    also splits the batch into chunks (the weight gradient then accumulates over them)."""
    tf = torch.nn.functional
    x = randn(4, 8, 32, 32)
    assert x.numel() >= _jit.PARALLEL_MIN
    w, b = randn(16, 4, 3, 3), randn(16)
    xt, wt, bt = tt(torch, x), tt(torch, w), tt(torch, b)
    for budget in (conv_kernels.COL_BUDGET, 70000):
        monkeypatch.setattr(conv_kernels, "COL_BUDGET", budget)
        for t in (x, w, b):
            t.grad = None
        for t in (xt, wt, bt):
            t.grad = None
        y = F.conv2d(x, w, b, padding=1, dilation=(2, 1), groups=2)
        yt = tf.conv2d(xt, wt, bt, padding=1, dilation=(2, 1), groups=2)
        close(y, yt)
        g = randn(*y.shape, requires_grad=False)
        y.backward(g)
        yt.backward(torch.tensor(g.numpy()))
        close(x.grad, xt.grad)
        close(w.grad, wt.grad)
        close(b.grad, bt.grad)

    # max pooling with overlapping windows: the threaded scatter must not race (the average
    # pools share its one-plane-per-task layout; left out to keep compile time down)
    x.grad = xt.grad = None
    y, yt = F.max_pool2d(x, 3, 2, 1), tf.max_pool2d(xt, 3, 2, 1)
    close(y, yt)
    g = randn(*y.shape, requires_grad=False)
    y.backward(g)
    yt.backward(torch.tensor(g.numpy()))
    close(x.grad, xt.grad)


def test_float32_conv_matches_torch(torch):
    x = ng.randn(2, 3, 9, 9, requires_grad=True)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    y = conv(x)
    assert y.dtype is ng.float32
    tconv = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(conv.weight.detach().numpy()))
        tconv.bias.copy_(torch.tensor(conv.bias.detach().numpy()))
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    yt = tconv(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv.weight.grad.numpy(), tconv.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)


# ---------------------------------------------------------------- layers


@pytest.mark.parametrize("cls, nd", [(nn.Conv1d, 1), (nn.Conv2d, 2)])
def test_conv_layer_parameters_and_init(cls, nd):
    ng.manual_seed(0)
    m = cls(4, 6, 3, stride=2, padding=1, groups=2)
    assert tuple(m.weight.shape) == (6, 2) + (3,) * nd
    assert tuple(m.bias.shape) == (6,)
    assert list(m.state_dict().keys()) == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 3 ** nd)  # kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), ...)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.7 * bound
    assert w.std() > 0.4 * bound
    bias = m.bias.detach().numpy()
    assert np.abs(bias).max() <= bound and len(set(bias.tolist())) == 6
    nb = cls(4, 6, 3, bias=False)
    assert nb.bias is None and list(nb.state_dict().keys()) == ["weight"]
    assert len(list(nb.parameters())) == 1
    m64 = cls(2, 3, 2, dtype=ng.float64)
    assert m64.weight.dtype is ng.float64 and m64.bias.dtype is ng.float64


def test_conv_layer_forward_is_the_functional_form():
    m = nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2,
                  dtype=ng.float64)
    x = randn(2, 2, 7, 6)
    y = m(x)
    ref = F.conv2d(x, m.weight, m.bias, stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                   groups=2)
    close(y, ref, rtol=0)
    y.sum().backward()
    assert m.weight.grad is not None and m.bias.grad is not None
    assert tuple(m.weight.grad.shape) == (4, 1, 3, 2)


def test_layer_reprs_match_torch():
    assert repr(nn.Conv2d(1, 16, 3, padding=1)) == \
        "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Conv2d(4, 8, (3, 5), stride=2, dilation=(1, 2), groups=4, bias=False)) == (
        "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(1, 2), groups=4, "
        "bias=False)")
    assert repr(nn.Conv1d(3, 8, 3, padding="same")) == \
        "Conv1d(3, 8, kernel_size=(3,), stride=(1,), padding=same)"
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool1d(3, 2, 1, ceil_mode=True)) == \
        "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)"
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


def test_pool_layers(torch):
    x = separated(2, 3, 6, 6)
    xt = tt(torch, x, False)
    y, i = nn.MaxPool2d(2, return_indices=True)(x)
    yt, it = torch.nn.MaxPool2d(2, return_indices=True)(xt)
    close(y, yt)
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    close(nn.MaxPool1d(3, 2)(x[0]), torch.nn.MaxPool1d(3, 2)(xt[0]))
    close(nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)(x),
          torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)(xt))
    close(nn.AdaptiveAvgPool2d((2, None))(x), torch.nn.AdaptiveAvgPool2d((2, None))(xt))


def test_small_cnn_trains_like_torch(torch):
    """A conv/pool/linear stack: same weights, same loss and gradients as torch."""
    ng.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(4, 6, 3, padding="same", groups=2), nn.ReLU(),
                        nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(6, 3))
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(4, 6, 3, padding="same", groups=2),
                               torch.nn.ReLU(), torch.nn.AvgPool2d(2),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(6, 3)).double()
    net = net.to(ng.float64)
    params = list(net.parameters())
    tparams = list(tnet.parameters())
    assert len(params) == len(tparams) == 6
    with torch.no_grad():
        for p, tp in zip(params, tparams):
            assert tuple(p.shape) == tuple(tp.shape)
            tp.copy_(torch.tensor(p.detach().numpy()))
    x = randn(4, 1, 8, 8, requires_grad=False)
    loss = (net(x) ** 2).mean()
    tloss = (tnet(torch.tensor(x.numpy())) ** 2).mean()
    close(loss, tloss)
    loss.backward()
    tloss.backward()
    for p, tp in zip(params, tparams):
        close(p.grad, tp.grad)


# ---------------------------------------------------------------- errors


@pytest.fixture
def no_kernels(monkeypatch):
    """Every conv/pool kernel raises if called: errors must come from the Python checks."""
    def boom(*a, **k):
        raise AssertionError("a kernel ran before the arguments were checked")

    for name in conv_kernels.__all__:
        monkeypatch.setattr(K, name, boom)


CONV_ERRORS = [
    (lambda: F.conv2d(randn(2, 3), randn(4, 3, 3, 3)), RuntimeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: "
     r"\[2, 3\]"),
    (lambda: F.conv2d(randn(2, 4, 5, 5), randn(8, 3, 3, 3)), RuntimeError,
     r"conv2d: Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 4, 5, 5\] "
     r"to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv2d(randn(2, 4, 5, 5), randn(3, 2, 3, 3), groups=2), RuntimeError,
     r"Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight "
     r"of size \[3, 2, 3, 3\]"),
    (lambda: F.conv2d(randn(2, 3, 5, 5), randn(4, 1, 3, 3), groups=2), RuntimeError,
     r"expected input\[2, 3, 5, 5\] to have 2 channels"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 5, 5)), RuntimeError,
     r"Calculated padded input size per channel: \(4 x 4\). Kernel size: \(5 x 5\). "
     r"Kernel size can't be greater than actual input size"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), dilation=2), RuntimeError,
     r"Kernel size: \(5 x 5\)"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), stride=(1, 0)), RuntimeError,
     r"conv2d: non-positive stride is not supported"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), padding=-1), RuntimeError,
     r"negative padding is not supported"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), dilation=0), RuntimeError,
     r"dilation should be greater than zero"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), groups=0), RuntimeError,
     r"non-positive groups is not supported"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), ng.randn(1, 1, 3, 3)), RuntimeError,
     r"conv2d: expected input and weight to have the same dtype, but got input float64 and "
     r"weight float32"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(2, 1, 3, 3), ng.zeros(2)), RuntimeError,
     r"same dtype, but got input float64 and bias float32"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(2, 1, 3, 3), randn(3)), RuntimeError,
     r"expected bias to be 1-dimensional with 2 elements, but got bias of size \[3\]"),
    (lambda: F.conv2d(ng.ones(1, 1, 4, 4, dtype=ng.int64), ng.ones(1, 1, 3, 3,
                                                                    dtype=ng.int64)),
     RuntimeError, r"conv2d: expected a floating point input, but got int64"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3)), RuntimeError,
     r"expected weight to be 4-dimensional"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), stride=2, padding="same"),
     ValueError, r"padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), padding="full"), ValueError,
     r"Invalid padding string 'full'"),
    (lambda: F.conv2d(randn(1, 1, 4, 4), randn(1, 1, 3, 3), stride=(1, 2, 3)), TypeError,
     r"argument 'stride' must be an int or a tuple of 2 ints"),
    (lambda: F.conv2d(np.ones((1, 1, 4, 4)), randn(1, 1, 3, 3)), TypeError,
     r"conv2d\(\): argument 'input' must be Tensor, not ndarray"),
    (lambda: F.conv1d(randn(2, 3, 4, 4), randn(2, 3, 3)), RuntimeError,
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"),
    (lambda: F.conv1d(randn(2, 3, 4), randn(2, 3, 5)), RuntimeError,
     r"conv1d: Calculated padded input size per channel: \(4\). Kernel size: \(5\)"),
]

POOL_ERRORS = [
    (lambda: F.max_pool2d(randn(1, 2, 5, 5), 3, padding=2), RuntimeError,
     r"max_pool2d: pad should be smaller than or equal to half of kernel size, but got "
     r"padding=\[2, 2\] and kernel_size=\[3, 3\]"),
    (lambda: F.max_pool1d(randn(1, 2, 5), 2, padding=2), RuntimeError,
     r"max_pool1d: pad should be smaller than or equal to half of kernel size, but got "
     r"padding=\[2\] and kernel_size=\[2\]"),
    (lambda: F.max_pool2d(randn(1, 2, 2, 2), 3), RuntimeError,
     r"Given input size: \(2x2x2\). Calculated output size: \(2x0x0\). Output size is too "
     r"small"),
    (lambda: F.max_pool1d(randn(1, 2, 2), 3), RuntimeError,
     r"max_pool1d: Given input size: \(2x2\). Calculated output size: \(2x0\)"),
    (lambda: F.max_pool2d(randn(1, 2, 5, 5), 2, stride=0), RuntimeError,
     r"stride should be greater than zero"),
    (lambda: F.max_pool2d(randn(1, 2, 5, 5), 0), RuntimeError,
     r"kernel_size should be greater than zero"),
    (lambda: F.max_pool2d(randn(1, 2, 5, 5), 2, dilation=0), RuntimeError,
     r"dilation should be greater than zero"),
    (lambda: F.max_pool2d(randn(5, 5), 2), RuntimeError,
     r"max_pool2d: Expected 3D or 4D \(batch mode\) tensor .* but got input of size: \[5, 5\]"),
    (lambda: F.avg_pool2d(randn(1, 2, 5, 5), 3, padding=2), RuntimeError,
     r"avg_pool2d: pad should be smaller than or equal to half of kernel size"),
    (lambda: F.avg_pool2d(randn(1, 2, 5, 5), 2, divisor_override=0), RuntimeError,
     r"divisor must be not zero"),
    (lambda: F.avg_pool2d(randn(1, 2, 5, 5), 2, padding=-1), RuntimeError,
     r"pad must be non-negative"),
    (lambda: F.adaptive_avg_pool2d(randn(5, 5), 2), RuntimeError,
     r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor with non-zero sizes for non-batch "
     r"dimensions, but input has sizes \[5, 5\]"),
    (lambda: F.adaptive_avg_pool2d(randn(1, 2, 0, 5), 2), RuntimeError,
     r"but input has sizes \[1, 2, 0, 5\]"),
    (lambda: F.adaptive_avg_pool2d(randn(1, 2, 5, 5), (1, 2, 3)), RuntimeError,
     r"output_size must be 2"),
    (lambda: F.adaptive_avg_pool2d(randn(1, 2, 5, 5), -1), RuntimeError,
     r"elements of output_size must be non-negative"),
]


@pytest.mark.parametrize("call, exc, match", CONV_ERRORS + POOL_ERRORS)
def test_errors_are_raised_before_any_kernel(no_kernels, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv1d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'half'"):
        nn.Conv2d(1, 1, 3, padding="half")
    with pytest.raises(NotImplementedError, match="padding_mode='reflect' is not implemented"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    m = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 2, 5, 5\] to have 3 channels"):
        m(ng.randn(1, 2, 5, 5))


def test_kernel_namespace_exports_conv_and_pool():
    for name in ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
                 "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
                 "avg_pool2d_backward", "adaptive_avg_pool2d_forward",
                 "adaptive_avg_pool2d_backward"):
        assert name in K.__all__ and callable(getattr(K, name))
    assert set(F.__all__) >= {"conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool2d",
                              "adaptive_avg_pool2d"}
