"""Quantization: observers and fake quantization against PyTorch, the int8 layers against
the float ones and an int8 reference, and the dynamic / static / QAT workflows on the
digits data set."""
import numpy as np
import pytest

import numbagrad as ng
import numbagrad.quantization as Q
from numbagrad import nn
from numbagrad.autograd import gradcheck
from numbagrad.train import evaluate, load_data, make_model


def T(a, dtype=np.float32, requires_grad=False):
    return ng.tensor(np.asarray(a, dtype), requires_grad=requires_grad)


# ---------------------------------------------------------------- scales and zero points


@pytest.mark.parametrize("qscheme", ["per_tensor_affine", "per_tensor_symmetric"])
def test_minmax_observer_matches_torch(torch, qscheme):
    tq = torch.ao.quantization
    rng = np.random.default_rng(0)
    ours = Q.MinMaxObserver(qscheme=qscheme)
    ref = tq.MinMaxObserver(dtype=torch.qint8, qscheme=getattr(torch, qscheme))
    for shift in (0.3, -1.2, 0.0):
        x = (rng.standard_normal((4, 7)) * 2 + shift).astype(np.float32)
        ours(T(x))
        ref(torch.tensor(x))
    s, z = ours.calculate_qparams()
    rs, rz = ref.calculate_qparams()
    np.testing.assert_array_equal(s, rs.numpy())
    np.testing.assert_array_equal(z, rz.numpy())


def test_per_channel_observer_matches_torch(torch):
    tq = torch.ao.quantization
    x = np.random.default_rng(1).standard_normal((5, 3, 2)).astype(np.float32)
    x[2] = 0.0  # an all-zero channel still gets a usable scale
    ours = Q.PerChannelMinMaxObserver(0)
    ref = tq.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8,
                                      qscheme=torch.per_channel_symmetric)
    ours(T(x))
    ref(torch.tensor(x))
    s, z = ours.calculate_qparams()
    rs, rz = ref.calculate_qparams()
    np.testing.assert_array_equal(s, rs.numpy())
    np.testing.assert_array_equal(z, rz.numpy())


def test_histogram_observer_clips_outliers():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, 100_000).astype(np.float32)
    x[:5] = 50.0  # rare outliers
    mm = Q.MinMaxObserver()
    hist = Q.HistogramObserver(bins=2048, percentile=99.9)
    mm(T(x))
    hist(T(x[:50_000]))
    hist(T(x[50_000:] * 1.01))  # a second batch widens the range: old counts are rebinned
    s_mm, _ = mm.calculate_qparams()
    s_h, z_h = hist.calculate_qparams()
    lo, hi = hist._range()
    assert -1.1 < lo < -0.9 and 0.9 < hi < 1.1  # the outliers are left out
    assert s_h[0] < s_mm[0] / 10
    assert hist.histogram.sum() == x.size
    sym = Q.HistogramObserver(percentile=99.9, qscheme="per_tensor_symmetric")
    sym(T(x))
    assert sym.calculate_qparams()[1][0] == 0


def test_observer_errors():
    with pytest.raises(ValueError, match="qscheme"):
        Q.MinMaxObserver(qscheme="nope")
    with pytest.raises(RuntimeError, match="no values observed"):
        Q.MinMaxObserver().calculate_qparams()
    with pytest.raises(TypeError, match="float"):
        Q.MinMaxObserver()(ng.tensor([1, 2]))
    with pytest.raises(ValueError, match="quant_min"):
        Q.MinMaxObserver(quant_min=0, quant_max=300)
    with pytest.raises(ValueError, match="percentile"):
        Q.HistogramObserver(percentile=10)


# ---------------------------------------------------------------- fake quantization


def test_fake_quantize_per_tensor_matches_torch_forward_and_gradient(torch):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(200) * 3).astype(np.float32)
    x[:4] = [0.25, -0.75, 12.5, -13.0]  # ties at the scale, and values clipped at both ends
    g = rng.standard_normal(200).astype(np.float32)
    xs = T(x, requires_grad=True)
    y = Q.fake_quantize_per_tensor_affine(xs, 0.1, 3, -128, 127)
    y.backward(T(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.fake_quantize_per_tensor_affine(xt, 0.1, 3, -128, 127)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())
    assert (xs.grad.numpy() == 0).any()  # clipped values pass no gradient


@pytest.mark.parametrize("axis", [0, 1])
def test_fake_quantize_per_channel_matches_torch(torch, axis):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((3, 4, 5)) * 2).astype(np.float32)
    n = x.shape[axis]
    scale = rng.uniform(0.01, 0.05, n).astype(np.float32)
    zero = rng.integers(-5, 5, n).astype(np.int32)
    xs = T(x, requires_grad=True)
    y = Q.fake_quantize_per_channel_affine(xs, scale, zero, axis)
    y.sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.fake_quantize_per_channel_affine(xt, torch.tensor(scale),
                                                torch.tensor(zero), axis, -128, 127)
    yt.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())


def test_straight_through_gradient_is_the_clamp_derivative():
    # f has the value of the clamp the STE stands for, and fake quantization's gradient:
    # gradcheck then compares the STE with finite differences of that clamp.
    scale, zero = 0.05, 2
    lo, hi = (-128 - zero - 0.5) * scale, (127 - zero + 0.5) * scale

    def f(x):
        fq = Q.fake_quantize_per_tensor_affine(x, scale, zero)
        return fq + (x.clamp(lo, hi) - fq).detach()

    x = np.concatenate([np.linspace(-5.9, 5.9, 23), [-9.0, 8.0]])  # away from the edges
    assert gradcheck(f, (T(x, np.float64, True),))


def test_fake_quant_in_a_model_gradcheck():
    rng = np.random.default_rng(5)
    x = T(rng.standard_normal((4, 3)), np.float64)
    w = T(rng.standard_normal((2, 3)), np.float64, True)
    b = T(rng.standard_normal(2), np.float64, True)
    fq = Q.FakeQuantize()
    fq(x)  # observe once, then freeze the range
    fq.disable_observer()
    assert gradcheck(lambda w, b: nn.functional.linear(fq(x), w, b), (w, b))


def test_fake_quantize_errors():
    x = T([1.0, 2.0])
    with pytest.raises(ValueError, match="scales must be finite and > 0"):
        Q.fake_quantize_per_tensor_affine(x, 0.0, 0)
    with pytest.raises(ValueError, match="one per channel"):
        Q.fake_quantize_per_channel_affine(T(np.ones((3, 2))), [0.1, 0.1], [0, 0], 0)
    with pytest.raises(TypeError, match="float"):
        Q.fake_quantize_per_tensor_affine(ng.tensor([1, 2]), 0.1, 0)


# ---------------------------------------------------------------- int8 layers


def _int8_reference(x, w, b):
    """Dynamic int8 linear computed in numpy from the formulas."""
    s_a, z_a = Q.calculate_qparams(x.min(), x.max(), "per_tensor_affine")
    s_w, _ = Q.calculate_qparams(w.min(1), w.max(1), "per_channel_symmetric")
    inv_a = np.float32(1) / s_a[0]  # x times the float32 inverse scale, as the kernels do
    inv_w = (np.float32(1) / s_w)[:, None]
    qa = np.clip(np.rint(x * inv_a) + z_a[0], -128, 127).astype(np.int32)
    qw = np.clip(np.rint(w * inv_w), -128, 127).astype(np.int32)
    acc = qa @ qw.T - z_a[0] * qw.sum(1)
    return acc.astype(np.float32) * (s_a[0] * s_w) + b


def test_dynamic_linear_matches_int8_reference_and_float():
    rng = np.random.default_rng(6)
    lin = nn.Linear(20, 7)
    x = rng.standard_normal((9, 20)).astype(np.float32)
    q = Q.quantize_dynamic(lin)
    assert isinstance(q, Q.DynamicQuantizedLinear) and q.weight.dtype is ng.int8
    y = q(T(x)).numpy()
    ref = _int8_reference(x, lin.weight.detach().numpy(), lin.bias.detach().numpy())
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    yf = lin(T(x)).detach().numpy()
    assert np.abs(y - yf).max() < 0.05 * np.abs(yf).max()
    # 3-D input and a per-tensor weight
    y3 = q(T(x.reshape(3, 3, 20)))
    assert y3.shape == (3, 3, 7)
    qt = Q.quantize_dynamic(lin, per_channel=False)
    assert np.allclose(qt.weight_scale.numpy(), qt.weight_scale.numpy()[0])


def test_quantized_conv2d_close_to_float():
    rng = np.random.default_rng(7)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    x = T(rng.uniform(0.0, 1.0, (2, 3, 9, 8)))
    m = Q.prepare(nn.Sequential(conv))
    m(x)
    q = Q.convert(m)
    assert isinstance(q[0], Q.QuantizedConv2d)
    y = q(x).numpy()
    yf = conv(x).detach().numpy()
    assert y.shape == yf.shape
    assert np.abs(y - yf).max() < 0.03 * np.abs(yf).max()


def test_int8_layer_errors():
    q = Q.quantize_dynamic(nn.Linear(4, 2))
    with pytest.raises(RuntimeError, match="expected input with 4 features"):
        q(T(np.ones((3, 5))))
    with pytest.raises(TypeError, match="float32"):
        q(T(np.ones((3, 4)), np.float64))
    with pytest.raises(NotImplementedError, match="Linear only"):
        Q.quantize_dynamic(nn.Linear(4, 2), {nn.Conv2d})
    with pytest.raises(NotImplementedError, match="groups"):
        m = Q.prepare(nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)))
        m(T(np.ones((1, 2, 5, 5))))
        Q.convert(m)


# ---------------------------------------------------------------- workflows on digits


@pytest.fixture(scope="module")
def digits_mlp():
    ng.manual_seed(0)
    x_tr, x_te, y_tr, y_te = load_data(0)
    model = make_model("mlp")
    opt = ng.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(12):
        model.train()
        perm = np.random.default_rng(epoch).permutation(len(y_tr))
        for i in range(0, len(perm), 64):
            idx = ng.tensor(perm[i:i + 64])
            opt.zero_grad()
            nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
            opt.step()
    model.eval()
    return model, (x_tr, x_te, y_tr, y_te)


def test_dynamic_quantization_of_the_digits_mlp(digits_mlp, tmp_path):
    model, (_, x_te, _, y_te) = digits_mlp
    acc = evaluate(model, x_te, y_te)[1]
    q = Q.quantize_dynamic(model)
    acc_q = evaluate(q, x_te, y_te)[1]
    assert acc >= 0.95
    assert abs(acc - acc_q) <= 0.01
    ratio = Q.model_size_bytes(model) / Q.model_size_bytes(q)
    assert ratio >= 3.5, ratio
    # the float model is untouched (quantize_dynamic copies)
    assert isinstance(model[1], nn.Linear)
    # save and load into the same quantized structure
    path = tmp_path / "q.ngc"
    ng.save(q.state_dict(), path)
    fresh = Q.quantize_dynamic(make_model("mlp")).eval()
    fresh.load_state_dict(ng.load(path))
    np.testing.assert_array_equal(fresh(x_te).numpy(), q(x_te).numpy())
    assert path.stat().st_size < Q.model_size_bytes(model) / 3


@pytest.mark.parametrize("qconfig", ["default_qconfig", "histogram_qconfig"])
def test_static_quantization_of_the_digits_mlp(digits_mlp, qconfig):
    model, (x_tr, x_te, _, y_te) = digits_mlp
    prepared = Q.prepare(model, getattr(Q, qconfig))
    with ng.no_grad():
        for i in range(0, 512, 128):  # calibration batches
            prepared(x_tr[i:i + 128])
    q = Q.convert(prepared)
    assert sum(isinstance(m, Q.QuantizedLinear) for m in q.modules()) == 3
    assert abs(evaluate(model, x_te, y_te)[1] - evaluate(q, x_te, y_te)[1]) <= 0.015


def test_quantization_aware_training_then_convert(digits_mlp):
    model, (x_tr, x_te, y_tr, y_te) = digits_mlp
    qat = Q.prepare_qat(model)
    opt = ng.optim.SGD(qat.parameters(), lr=0.01)
    qat.train()
    for i in range(0, 640, 64):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(qat(x_tr[i:i + 64]), y_tr[i:i + 64])
        loss.backward()
        opt.step()
        assert np.isfinite(loss.item())
    assert any(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0
               for p in qat.parameters())
    q = Q.convert(qat.eval())
    assert sum(isinstance(m, Q.QuantizedLinear) for m in q.modules()) == 3
    acc_qat = evaluate(qat, x_te, y_te)[1]
    acc_q = evaluate(q, x_te, y_te)[1]
    assert acc_q >= 0.93
    assert abs(acc_qat - acc_q) <= 0.02


def test_loading_weights_into_a_used_quantized_layer_refreshes_its_row_sums():
    rng = np.random.default_rng(8)
    a, b = nn.Linear(6, 3), nn.Linear(6, 3)
    qa, qb = Q.quantize_dynamic(a), Q.quantize_dynamic(b)
    x = T(rng.standard_normal((4, 6)))
    qa(x)  # the row sums of a's weight are now cached
    qa.load_state_dict(qb.state_dict())
    np.testing.assert_array_equal(qa(x).numpy(), qb(x).numpy())


def test_a_replaced_weight_buffer_refreshes_the_row_sums():
    rng = np.random.default_rng(9)
    qa, qb = Q.quantize_dynamic(nn.Linear(6, 3)), Q.quantize_dynamic(nn.Linear(6, 3))
    x = T(rng.standard_normal((4, 6)))
    qa(x)
    qa.weight, qa.weight_scale, qa.bias = qb.weight.clone(), qb.weight_scale, qb.bias
    np.testing.assert_array_equal(qa(x).numpy(), qb(x).numpy())
