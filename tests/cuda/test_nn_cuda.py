"""Every layer, loss and optimizer on ``"cuda"`` against the same thing on the CPU:
forward, backward (input and parameter gradients) and, in float64, ``gradcheck`` on the
device. Tiny shapes: under the simulator every GPU thread is a Python thread."""
from __future__ import annotations

import numpy as np
import pytest

import numbagrad as ng
from numbagrad import nn
from numbagrad.autograd import gradcheck

CUDA = "cuda"
rng = np.random.default_rng(0)


def host(t):
    return t.detach().cpu().numpy()


def _x(*shape):
    return rng.standard_normal(shape)


# (name, module factory, input factory): inputs are float64 numpy arrays or int arrays
LAYERS = [
    ("Linear", lambda: nn.Linear(3, 2), lambda: _x(2, 3)),
    ("Linear_nobias", lambda: nn.Linear(3, 2, bias=False), lambda: _x(2, 3)),
    ("Conv2d", lambda: nn.Conv2d(2, 2, 2, padding=1), lambda: _x(1, 2, 3, 3)),
    ("Conv2d_stride_groups", lambda: nn.Conv2d(2, 2, 2, stride=2, groups=2),
     lambda: _x(1, 2, 4, 4)),
    ("Conv1d", lambda: nn.Conv1d(1, 2, 2), lambda: _x(2, 1, 4)),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), lambda: _x(1, 1, 4, 4)),
    ("MaxPool1d", lambda: nn.MaxPool1d(2), lambda: _x(1, 2, 4)),
    ("AvgPool2d", lambda: nn.AvgPool2d(2, stride=1), lambda: _x(1, 1, 3, 3)),
    ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d(2), lambda: _x(1, 1, 3, 3)),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3), lambda: _x(4, 3)),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(2), lambda: _x(2, 2, 2, 2)),
    ("LayerNorm", lambda: nn.LayerNorm(3), lambda: _x(2, 3)),
    ("Embedding", lambda: nn.Embedding(5, 3, padding_idx=0),
     lambda: np.array([[1, 0, 4], [2, 2, 3]])),
    ("ReLU", nn.ReLU, lambda: _x(2, 3)),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.1), lambda: _x(2, 3)),
    ("GELU", nn.GELU, lambda: _x(2, 3)),
    ("Sigmoid", nn.Sigmoid, lambda: _x(2, 3)),
    ("Tanh", nn.Tanh, lambda: _x(2, 3)),
    ("Softplus", nn.Softplus, lambda: _x(2, 3)),
    ("LogSigmoid", nn.LogSigmoid, lambda: _x(2, 3)),
    ("Softmax", lambda: nn.Softmax(dim=1), lambda: _x(2, 3)),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=1), lambda: _x(2, 3)),
    ("Flatten", nn.Flatten, lambda: _x(2, 2, 2)),
    ("Dropout_eval", lambda: nn.Dropout(0.5).eval(), lambda: _x(2, 3)),
]


def _pair(make, seed=0):
    ng.manual_seed(seed)
    cpu = make().to(ng.float64)
    gpu = make().to(ng.float64)
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu.to(CUDA)


@pytest.mark.parametrize("name,make,inp", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_matches_cpu(name, make, inp):
    cpu, gpu = _pair(make)
    a = inp()
    diff = a.dtype.kind == "f"
    xc = ng.tensor(a, requires_grad=diff)
    xg = ng.tensor(a, device=CUDA, requires_grad=diff)
    yc, yg = cpu(xc), gpu(xg)
    assert yg.is_cuda
    np.testing.assert_allclose(host(yg), host(yc), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(yc.shape)
    (yc * ng.tensor(w)).sum().backward()
    (yg * ng.tensor(w, device=CUDA)).sum().backward()
    if diff:
        np.testing.assert_allclose(host(xg.grad), host(xc.grad), rtol=1e-10, atol=1e-12)
    for (n, pc), (_, pg) in zip(cpu.named_parameters(), gpu.named_parameters()):
        assert pg.is_cuda, n
        np.testing.assert_allclose(host(pg.grad), host(pc.grad), rtol=1e-10, atol=1e-12,
                                   err_msg=n)
    for (n, bc), (_, bg) in zip(cpu.named_buffers(), gpu.named_buffers()):
        np.testing.assert_allclose(host(bg), host(bc), rtol=1e-10, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("name,make,inp", [row for row in LAYERS if row[0] in (
    "Linear", "Conv2d", "Conv2d_stride_groups", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm2d", "LayerNorm", "GELU", "LogSoftmax")], ids=lambda v: v if isinstance(v, str)
    else "")
def test_layer_gradcheck_on_device(name, make, inp):
    _, gpu = _pair(make)
    x = ng.tensor(inp(), device=CUDA, requires_grad=True)
    params = [p for p in gpu.parameters()]
    assert gradcheck(lambda x, *ps: gpu(x), (x, *params))


def test_embedding_gradcheck_on_device():
    _, gpu = _pair(lambda: nn.Embedding(4, 2))
    idx = ng.tensor([[0, 3], [3, 1]], device=CUDA)
    assert gradcheck(lambda w: nn.functional.embedding(idx, w), (gpu.weight,))


def _t(a, dev, grad=False):
    return ng.tensor(a, device=dev, requires_grad=grad)


LOSSES = [
    ("MSELoss", nn.MSELoss(), lambda: (_x(2, 3), _x(2, 3))),
    ("L1Loss", nn.L1Loss(), lambda: (_x(2, 3), _x(2, 3))),
    ("HuberLoss", nn.HuberLoss(delta=0.5), lambda: (_x(2, 3), _x(2, 3))),
    ("SmoothL1Loss", nn.SmoothL1Loss(), lambda: (_x(2, 3), _x(2, 3))),
    ("CrossEntropyLoss", nn.CrossEntropyLoss(), lambda: (_x(3, 4), np.array([0, 3, 1]))),
    ("CrossEntropyLoss_smooth_weight",
     nn.CrossEntropyLoss(weight=ng.tensor([1.0, 2.0, 0.5, 1.0], dtype=ng.float64),
                         label_smoothing=0.1, ignore_index=1),
     lambda: (_x(3, 4), np.array([0, 1, 2]))),
    ("CrossEntropyLoss_probs", nn.CrossEntropyLoss(),
     lambda: (_x(2, 3), np.full((2, 3), 1 / 3))),
    ("CrossEntropyLoss_2d", nn.CrossEntropyLoss(reduction="sum"),
     lambda: (_x(1, 3, 2, 2), np.array([[[0, 2], [1, 1]]]))),
    ("NLLLoss", nn.NLLLoss(), lambda: (_x(3, 4), np.array([1, 0, 3]))),
    ("BCELoss", nn.BCELoss(), lambda: (rng.uniform(0.1, 0.9, (2, 3)),
                                       rng.integers(0, 2, (2, 3)).astype(np.float64))),
    ("BCEWithLogitsLoss", nn.BCEWithLogitsLoss(), lambda: (_x(2, 3),
                                                           rng.uniform(0, 1, (2, 3)))),
    ("KLDivLoss", nn.KLDivLoss(reduction="batchmean"),
     lambda: (np.log(rng.dirichlet(np.ones(3), 2)), rng.dirichlet(np.ones(3), 2))),
]


def _loss_on(loss, dev):
    for name, b in loss.named_buffers():
        setattr(loss, name, b.to(dev)) if b is not None else None
    w = getattr(loss, "weight", None)
    if isinstance(w, ng.Tensor):
        loss.weight = w.to(dev)
    return loss


@pytest.mark.parametrize("name,loss,data", LOSSES, ids=[n for n, _, _ in LOSSES])
def test_loss_matches_cpu_and_gradchecks(name, loss, data):
    a, t = data()
    xc, xg = _t(a, "cpu", True), _t(a, CUDA, True)
    lc = _loss_on(loss, "cpu")(xc, _t(t, "cpu"))
    lg = _loss_on(loss, CUDA)(xg, _t(t, CUDA))
    assert lg.is_cuda
    np.testing.assert_allclose(host(lg), host(lc), rtol=1e-10, atol=1e-12)
    lc.backward()
    lg.backward()
    np.testing.assert_allclose(host(xg.grad), host(xc.grad), rtol=1e-10, atol=1e-12)
    tg = _t(t, CUDA)
    assert gradcheck(lambda x: loss(x, tg), (_t(a, CUDA, True),))
    _loss_on(loss, "cpu")


OPTIMS = [
    ("SGD", lambda p: ng.optim.SGD(p, lr=0.1)),
    ("GD", lambda p: ng.optim.GD(p, lr=0.1)),
    ("SGD_momentum_nesterov_wd", lambda p: ng.optim.SGD(p, lr=0.1, momentum=0.9,
                                                       nesterov=True, weight_decay=0.01)),
    ("Adam", lambda p: ng.optim.Adam(p, lr=0.01)),
    ("Adam_amsgrad_wd", lambda p: ng.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", lambda p: ng.optim.AdamW(p, lr=0.01)),
    ("RMSprop_centered_momentum", lambda p: ng.optim.RMSprop(p, lr=0.01, momentum=0.5,
                                                            centered=True)),
    ("Adagrad", lambda p: ng.optim.Adagrad(p, lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize("dtype", [ng.float32, ng.float64])
@pytest.mark.parametrize("name,make", OPTIMS, ids=[n for n, _ in OPTIMS])
def test_optimizer_trajectory_matches_cpu(name, make, dtype):
    p0 = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(3)]
    traj = {}
    for dev in ("cpu", CUDA):
        p = nn.Parameter(ng.tensor(p0, dtype=dtype, device=dev))
        opt = make([p])
        for g in grads:
            opt.zero_grad()
            (p * ng.tensor(g, dtype=dtype, device=dev)).sum().backward()
            opt.step()
        traj[dev] = host(p)
        assert p.is_cuda == (dev == CUDA)
    tol = 1e-5 if dtype is ng.float32 else 1e-12
    np.testing.assert_allclose(traj[CUDA], traj["cpu"], rtol=tol, atol=tol)


def test_dropout_on_device_keeps_scale_and_zeros():
    ng.manual_seed(0)
    x = ng.ones(400, device=CUDA, requires_grad=True)
    y = nn.functional.dropout(x, 0.25, training=True)
    v = host(y)
    kept = v[v != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    assert 0.15 < (v == 0).mean() < 0.35
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), v)
