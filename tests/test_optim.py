"""Optimizers: trajectories against PyTorch (float64, 20 steps), state dicts, argument checks."""
import numpy as np
import pytest

import numbagrad as ng
from numbagrad import nn, optim

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal((8, 3)),
            rng.standard_normal((8, 5)))


def _run_numbagrad(name, kw, steps=20):
    W, b, X, Y = _problem()
    lin = nn.Linear(3, 5).double()
    lin.load_state_dict({"weight": ng.tensor(W), "bias": ng.tensor(b)})
    opt = getattr(optim, name)(lin.parameters(), **kw)
    x, y = ng.tensor(X), ng.tensor(Y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((lin(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return lin, opt, losses


@pytest.mark.parametrize("name, kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(torch, name, kw):
    lin, _, losses = _run_numbagrad(name, kw)
    W, b, X, Y = _problem()
    tl = torch.nn.Linear(3, 5).double()
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(W))
        tl.bias.copy_(torch.tensor(b))
    topt = getattr(torch.optim, name)(tl.parameters(), **kw)
    x, y = torch.tensor(X), torch.tensor(Y)
    tlosses = []
    for _ in range(20):
        topt.zero_grad()
        loss = ((tl(x) - y) ** 2).mean()
        loss.backward()
        topt.step()
        tlosses.append(loss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(lin.weight.detach().numpy(), tl.weight.detach().numpy(),
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(lin.bias.detach().numpy(), tl.bias.detach().numpy(), rtol=1e-8,
                               atol=1e-12)


def test_sgd_formula_without_torch():
    p = nn.Parameter(ng.tensor([1.0, -2.0], dtype=ng.float64))
    opt = optim.SGD([p], lr=0.1, momentum=0.5)
    for g, want in (([1.0, 1.0], [0.9, -2.1]), ([1.0, 1.0], [0.75, -2.25])):
        p.grad = ng.tensor(g, dtype=ng.float64)
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12)


def test_adam_first_step_is_lr_times_sign():
    p = nn.Parameter(ng.tensor([1.0, -2.0, 3.0], dtype=ng.float64))
    opt = optim.Adam([p], lr=0.01)
    p.grad = ng.tensor([0.3, -5.0, 1e-3], dtype=ng.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.99, -1.99, 2.99], rtol=1e-6)


def test_gd_is_plain_gradient_descent():
    p = nn.Parameter(ng.tensor([2.0]))
    opt = optim.GD([p], lr=0.25)
    for _ in range(3):
        opt.zero_grad()
        (p * p).sum().backward()  # gradient 2p: p <- p (1 - 2 lr) = p / 2
        opt.step()
    assert p.item() == pytest.approx(0.25)


def test_param_groups_and_state_dict_round_trip():
    a, b = nn.Linear(3, 2), nn.Linear(2, 1)
    opt = optim.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.5}],
                    lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    for _ in range(2):
        opt.zero_grad()
        b(a(ng.rand(4, 3))).sum().backward()
        opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sd["param_groups"][1]["params"] == [2, 3]
    opt2 = optim.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 9.0}],
                     lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.5
    buf1 = opt.state[a.weight]["momentum_buffer"].numpy()
    buf2 = opt2.state[a.weight]["momentum_buffer"].numpy()
    np.testing.assert_array_equal(buf1, buf2)
    assert buf1 is not buf2


def test_adam_state_dict_resume_gives_same_trajectory():
    lin1, opt1, _ = _run_numbagrad("Adam", dict(lr=0.01), steps=10)
    lin2 = nn.Linear(3, 5).double()
    lin2.load_state_dict(lin1.state_dict())
    opt2 = optim.Adam(lin2.parameters(), lr=0.01)
    opt2.load_state_dict(opt1.state_dict())
    assert opt2.state[lin2.weight]["step"].item() == 10
    _, _, X, Y = _problem()
    for lin, opt in ((lin1, opt1), (lin2, opt2)):
        for _ in range(5):
            opt.zero_grad()
            ((lin(ng.tensor(X)) - ng.tensor(Y)) ** 2).mean().backward()
            opt.step()
    np.testing.assert_array_equal(lin1.weight.detach().numpy(), lin2.weight.detach().numpy())


def test_argument_errors():
    p = [nn.Parameter(ng.zeros(2))]
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Adam(p[0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": p}, {"params": p}], lr=0.1)


def test_step_with_closure_and_skips_params_without_grad():
    p = nn.Parameter(ng.tensor([1.0]))
    q = nn.Parameter(ng.tensor([5.0]))
    opt = optim.SGD([p, q], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * 3).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(3.0)
    assert p.item() == pytest.approx(0.7) and q.item() == 5.0


def test_float32_update_stays_float32():
    lin = nn.Linear(4, 3)
    opt = optim.Adam(lin.parameters(), lr=1e-2)
    lin(ng.rand(2, 4)).sum().backward()
    opt.step()
    assert lin.weight.dtype is ng.float32
    assert opt.state[lin.weight]["exp_avg"].dtype is ng.float32


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[4, 9, 15], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=12, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e))),
    ("ReduceLROnPlateau", dict(factor=0.5, patience=1)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=20)),
]


@pytest.mark.parametrize("name, kw", SCHEDULES, ids=[n for n, _ in SCHEDULES])
def test_training_with_scheduler_matches_torch(torch, name, kw):
    """20 steps of SGD with momentum under each schedule: same losses and parameters."""
    W, b, X, Y = _problem(1)

    def run(lib, sched_mod, make_param):
        w, bb = make_param(W), make_param(b)
        opt = lib.optim.SGD([w, bb], lr=0.1, momentum=0.9)
        sched = getattr(sched_mod, name)(opt, **kw)
        x, y = lib.tensor(X), lib.tensor(Y)
        losses = []
        for _ in range(20):
            opt.zero_grad()
            loss = ((x @ w.T + bb - y) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step(loss.item()) if name == "ReduceLROnPlateau" else sched.step()
            losses.append(loss.item())
        return losses, w.detach().numpy(), bb.detach().numpy()

    mine = run(ng, optim.lr_scheduler, lambda a: nn.Parameter(ng.tensor(a)))
    theirs = run(torch, torch.optim.lr_scheduler,
                 lambda a: torch.nn.Parameter(torch.tensor(a)))
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m, t, rtol=1e-8, atol=1e-12)
