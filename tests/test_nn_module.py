"""Module system, Linear, activations, init and clip_grad, against PyTorch's behaviour."""
import math

import numpy as np
import pytest

import numbagrad as ng
from numbagrad import nn
from numbagrad.autograd import gradcheck, gradgradcheck


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(ng.relu(self.fc1(x)))


def test_classic_training_loop_loss_falls():
    """The PyTorch loop from the issue, with only the import changed."""
    import numbagrad as torch
    import numbagrad.nn as nn
    import numbagrad.optim as optim

    torch.manual_seed(0)
    net = Net()
    criterion = nn.MSELoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    x = torch.rand(16, 2)
    y = x.sum(1, keepdim=True)
    losses = []
    for _ in range(1000):
        optimizer.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    assert losses[-1] < 0.05


def test_registration_and_iteration():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                      "fc2.bias"]
    assert [n for n, _ in net.named_children()] == ["fc1", "fc2"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Linear", "Linear"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    net.register_buffer("steps", ng.zeros((), dtype=ng.int64))
    net.register_buffer("scratch", ng.zeros(2), persistent=False)
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert "steps" in net.state_dict() and "scratch" not in net.state_dict()
    with pytest.raises(TypeError, match="cannot assign"):
        net.fc1 = ng.zeros(2)
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2  # shared parameters counted once


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())
    sd = a.state_dict()
    sd["extra"] = ng.zeros(1)
    del sd["fc2.bias"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "fc2.bias"'):
        b.load_state_dict(sd)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        b.load_state_dict(sd)
    result = b.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["extra"]
    bad = a.state_dict()
    bad["fc1.weight"] = ng.zeros(4, 4)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        b.load_state_dict(bad)


def test_state_dict_shares_memory_and_is_detached():
    net = Net()
    sd = net.state_dict()
    assert not sd["fc1.weight"].requires_grad
    with ng.no_grad():
        net.fc1.weight.fill_(3.0)
    assert float(sd["fc1.weight"][0, 0]) == 3.0


def test_train_eval_zero_grad_apply_to():
    net = Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.fc2.training
    net.train()
    net(ng.rand(4, 2)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad()
    assert net.fc1.weight.grad is None
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Net"]
    net.to(ng.float64)
    assert net.fc1.weight.dtype is ng.float64 and isinstance(net.fc1.weight, nn.Parameter)
    with pytest.raises(TypeError, match="floating point"):
        net.to(ng.int64)


def test_repr_like_pytorch():
    net = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.LeakyReLU(0.2))
    assert repr(net) == ("Sequential(\n  (0): Linear(in_features=4, out_features=2, bias=True)\n"
                         "  (1): ReLU()\n  (2): LeakyReLU(negative_slope=0.2)\n)")


def test_containers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 1))
    assert isinstance(layers[-1], nn.Linear) and layers[-1].out_features == 1
    d = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(d.keys()) == ["a", "b"] and "a" in d
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert isinstance(seq[1], nn.ReLU) and len(seq[:2]) == 2
    assert seq(ng.rand(5, 3)).shape == (5, 2)


def test_linear_matches_formula_and_gradchecks():
    lin = nn.Linear(3, 2).double()
    x = ng.randn(4, 3, dtype=ng.float64, requires_grad=True)
    want = x.detach().numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(x).detach().numpy(), want, rtol=1e-12)
    f = nn.functional.linear
    assert gradcheck(f, (x, lin.weight, lin.bias))
    assert gradgradcheck(f, (x, lin.weight, lin.bias))
    x3 = ng.randn(2, 2, 3, dtype=ng.float64, requires_grad=True)
    assert gradcheck(lambda a: f(a, lin.weight), (x3,))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        lin(ng.randn(4, 5, dtype=ng.float64))


def test_default_init_bounds():
    ng.manual_seed(0)
    lin = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound


def test_init_functions():
    w = ng.empty(300, 200)
    nn.init.xavier_uniform_(w)
    a = math.sqrt(6 / 500)
    assert np.abs(w.numpy()).max() <= a and np.abs(w.numpy()).max() > 0.95 * a
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 200)) < 0.01
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.ones_(w)
    assert (w.numpy() == 1).all()
    nn.init.constant_(w, 0.5)
    assert (w.numpy() == 0.5).all()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))


@pytest.mark.parametrize("layer, ref", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.Identity(), lambda x: x),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_activation_modules(layer, ref):
    x = ng.randn(3, 4, dtype=ng.float64, requires_grad=True)
    np.testing.assert_allclose(layer(x).detach().numpy(), ref(x.detach().numpy()), rtol=1e-12)
    assert gradcheck(layer, (x,))


def test_gelu_against_erf_formula():
    from math import erf

    x = ng.linspace(-3, 3, 13, dtype=ng.float64, requires_grad=True)
    want = [0.5 * v * (1 + erf(v / math.sqrt(2))) for v in x.detach().tolist()]
    np.testing.assert_allclose(nn.GELU()(x).detach().numpy(), want, rtol=1e-12)
    assert gradcheck(nn.GELU(), (x,)) and gradgradcheck(nn.GELU(), (x,))
    assert gradcheck(nn.GELU("tanh"), (x,))


def test_clip_grad_norm_and_value():
    w = nn.Parameter(ng.tensor([[3.0, 0.0]]))
    b = nn.Parameter(ng.tensor([4.0]))
    w.grad = ng.tensor([[3.0, 0.0]])
    b.grad = ng.tensor([4.0])
    total = nn.utils.clip_grad_norm_([w, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.numpy(), [[0.6, 0.0]], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.8], rtol=1e-5)
    nn.utils.clip_grad_value_([w, b], 0.7)
    np.testing.assert_allclose(b.grad.numpy(), [0.7], rtol=1e-6)
    w.grad = ng.tensor([[float("inf"), 0.0]])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_matches_torch(torch):
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ps = [nn.Parameter(ng.tensor(g)) for g in gs]
    tps = [torch.nn.Parameter(torch.tensor(g)) for g in gs]
    for p, tp, g in zip(ps, tps, gs):
        p.grad = ng.tensor(g * 3)
        tp.grad = torch.tensor(g * 3)
    for norm_type in (2.0, 1.0, float("inf")):
        n1 = nn.utils.clip_grad_norm_(ps, 0.5, norm_type)
        n2 = torch.nn.utils.clip_grad_norm_(tps, 0.5, norm_type)
        assert n1.item() == pytest.approx(n2.item(), rel=1e-12)
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_one_hot_softplus_logsigmoid_inference_mode():
    F = nn.functional
    oh = F.one_hot(ng.tensor([0, 2, 1]), 4)
    np.testing.assert_array_equal(oh.numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(ng.tensor([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ng.tensor([5]), 3)
    x = ng.tensor([-30.0, 0.0, 30.0], dtype=ng.float64)
    np.testing.assert_allclose(nn.Softplus()(x).numpy(), np.log1p(np.exp([-30.0, 0.0, 30.0])))
    np.testing.assert_allclose(nn.LogSigmoid()(x).numpy(), -np.log1p(np.exp([30.0, 0.0, -30.0])))
    w = ng.ones(2, requires_grad=True)
    with ng.inference_mode():
        assert not (w * 2).requires_grad
    with ng.inference_mode(False):
        assert (w * 2).requires_grad
