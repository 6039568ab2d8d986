"""Learning-rate schedulers: against torch.optim.lr_scheduler step by step, the documented
closed forms without torch, argument errors, warnings and state-dict round trips."""
import math
import warnings

import pytest

import numbagrad as ng
from numbagrad.optim import lr_scheduler as L

TOL = 1e-12


def _ng_opt(name="SGD", lr=0.1, **kw):
    params = [ng.nn.Parameter(ng.zeros(2)), ng.nn.Parameter(ng.zeros(3))]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": lr * 0.3}]
    return getattr(ng.optim, name)(groups, lr=lr, **kw)


def _torch_opt(torch, name="SGD", lr=0.1, **kw):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": lr * 0.3}]
    return getattr(torch.optim, name)(groups, lr=lr, **kw)


def _lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


_SGD = ("SGD", {"lr": 0.1, "momentum": 0.9})
_ADAM = ("Adam", {"lr": 0.01})
_BUMPY = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.81, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49995, 0.5, 0.5, 0.5,
          0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
CASES = [
    ("StepLR", _SGD, {"step_size": 3, "gamma": 0.5}, 30, None),
    ("MultiStepLR", _SGD, {"milestones": [2, 5, 5, 11], "gamma": 0.3}, 25, None),
    ("MultiStepLR", _ADAM, {"milestones": [0, 3]}, 25, None),
    ("ExponentialLR", _SGD, {"gamma": 0.93}, 40, None),
    ("CosineAnnealingLR", _SGD, {"T_max": 7, "eta_min": 1e-3}, 60, None),
    ("CosineAnnealingLR", _ADAM, {"T_max": 20}, 45, None),
    ("LambdaLR", _SGD, {"lr_lambda": lambda e: 1.0 / (1 + e) ** 0.5}, 25, None),
    ("OneCycleLR", _SGD, {"max_lr": [1.0, 0.4], "total_steps": 41}, 41, None),
    ("OneCycleLR", _SGD, {"max_lr": 0.5, "epochs": 3, "steps_per_epoch": 9,
                          "pct_start": 0.25, "anneal_strategy": "linear"}, 27, None),
    ("OneCycleLR", _ADAM, {"max_lr": 0.02, "total_steps": 30, "three_phase": True,
                           "base_momentum": [0.8, 0.7], "max_momentum": 0.9}, 30, None),
    ("OneCycleLR", _ADAM, {"max_lr": 0.02, "total_steps": 25, "cycle_momentum": False,
                           "div_factor": 10.0, "final_div_factor": 100.0}, 25, None),
    ("ReduceLROnPlateau", _SGD, {"patience": 2, "cooldown": 1, "min_lr": [4e-3, 2e-3]}, 30,
     _BUMPY),
    ("ReduceLROnPlateau", _SGD, {"mode": "max", "threshold_mode": "abs", "threshold": 0.1,
                                 "patience": 1, "factor": 0.5}, 30,
     [math.sin(i) for i in range(30)]),
    ("ReduceLROnPlateau", _ADAM, {"threshold": 1e-3, "patience": 0, "eps": 1e-4}, 30,
     [1 / (1 + 0.0001 * i) for i in range(30)]),
]


@pytest.mark.parametrize("name,opt,kwargs,steps,metrics", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(torch, name, opt, kwargs, steps, metrics):
    o_ng, o_t = _ng_opt(opt[0], **opt[1]), _torch_opt(torch, opt[0], **opt[1])
    s_ng = getattr(L, name)(o_ng, **kwargs)
    s_t = getattr(torch.optim.lr_scheduler, name)(o_t, **kwargs)
    assert s_ng.get_last_lr() == pytest.approx(s_t.get_last_lr(), abs=TOL)
    changed = set()
    for i in range(steps):
        for a, b in zip(_lrs(o_ng), _lrs(o_t)):
            assert abs(a - b) <= TOL, (i, a, b)
        assert _momenta(o_ng) == pytest.approx(_momenta(o_t), abs=TOL)
        changed.add(tuple(_lrs(o_ng)))
        o_ng.step()
        o_t.step()
        if metrics is None:
            s_ng.step()
            s_t.step()
        else:
            s_ng.step(metrics[i])
            s_t.step(metrics[i])
        assert s_ng.get_last_lr() == pytest.approx(s_t.get_last_lr(), abs=TOL)
    assert len(changed) >= 2  # the schedule really moved


def test_resume_and_epoch_argument_match_torch(torch):
    o_ng, o_t = _ng_opt(**_SGD[1]), _torch_opt(torch, **_SGD[1])
    for o in (o_ng, o_t):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"] * 2
    s_ng = L.StepLR(o_ng, step_size=2, gamma=0.5, last_epoch=4)
    s_t = torch.optim.lr_scheduler.StepLR(o_t, step_size=2, gamma=0.5, last_epoch=4)
    assert s_ng.base_lrs == s_t.base_lrs and s_ng.last_epoch == s_t.last_epoch == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated step(epoch)
        for epoch in (7, 3, 10):
            o_ng.step()
            o_t.step()
            s_ng.step(epoch)
            s_t.step(epoch)
            assert _lrs(o_ng) == pytest.approx(_lrs(o_t), abs=TOL)
            assert s_ng.last_epoch == epoch


# ---------------------------------------------------------------- formulas, no torch


def _run(sched, n, metric=None):
    """lrs of group 0 at epochs 0..n-1 (the constructor set epoch 0)."""
    out = []
    for i in range(n):
        out.append(sched.optimizer.param_groups[0]["lr"])
        sched.optimizer.step()
        sched.step() if metric is None else sched.step(metric[i])
    return out


def test_step_and_multistep_closed_forms():
    got = _run(L.StepLR(_ng_opt(lr=0.2), step_size=4, gamma=0.5), 25)
    assert got == pytest.approx([0.2 * 0.5 ** (t // 4) for t in range(25)], rel=1e-14)
    ms = [3, 7, 7, 12]
    got = _run(L.MultiStepLR(_ng_opt(lr=0.2), milestones=ms, gamma=0.1), 25)
    want = [0.2 * 0.1 ** sum(m <= t for m in ms) for t in range(25)]
    assert got == pytest.approx(want, rel=1e-12)
    assert got[7] == pytest.approx(0.2 * 1e-3)  # the repeated milestone applies twice


def test_exponential_and_lambda_closed_forms():
    got = _run(L.ExponentialLR(_ng_opt(lr=0.5), gamma=0.9), 30)
    assert got == pytest.approx([0.5 * 0.9**t for t in range(30)], rel=1e-13)
    opt = _ng_opt(lr=0.5)
    s = L.LambdaLR(opt, [lambda t: 1 / (t + 1), lambda t: 0.5**t])
    for t in range(20):
        assert _lrs(opt) == pytest.approx([0.5 / (t + 1), 0.15 * 0.5**t], rel=1e-15)
        opt.step()
        s.step()


def test_cosine_recursive_form_follows_the_closed_form():
    T, lo, lr0 = 10, 0.01, 0.3
    got = _run(L.CosineAnnealingLR(_ng_opt(lr=lr0), T_max=T, eta_min=lo), 3 * T + 1)
    want = [lo + (lr0 - lo) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(3 * T + 1)]
    assert got == pytest.approx(want, abs=1e-12)
    assert got[T] == pytest.approx(lo) and got[2 * T] == pytest.approx(lr0)  # down, back up


def test_onecycle_shape_and_momentum():
    opt = _ng_opt("SGD", lr=0.1, momentum=0.9)
    s = L.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.25)
    lrs, mom = [], []
    for _ in range(20):
        lrs.append(_lrs(opt)[0])
        mom.append(opt.param_groups[0]["momentum"])
        opt.step()
        s.step()
    peak = int(0.25 * 20) - 1
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs[peak] == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert mom[0] == pytest.approx(0.95) and mom[peak] == pytest.approx(0.85)
    assert mom[-1] == pytest.approx(0.95)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a > b for a, b in zip(lrs[peak:-1], lrs[peak + 1:]))
    adam = _ng_opt("Adam", lr=1e-3, betas=(0.9, 0.98))
    L.OneCycleLR(adam, max_lr=0.01, total_steps=10)
    assert adam.param_groups[0]["betas"] == (0.95, 0.98)  # beta1 cycles, beta2 kept


def test_onecycle_past_total_steps_raises():
    # as in PyTorch, epoch == total_steps is still computed (one step past the last
    # scheduled value); the step after it raises
    opt = _ng_opt()
    s = L.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total "
                                         "steps is 3"):
        s.step()


def test_plateau_patience_cooldown_min_lr_and_modes():
    opt = _ng_opt(lr=1.0)
    s = L.ReduceLROnPlateau(opt, patience=2, cooldown=1, factor=0.5, min_lr=[0.2, 0.0])
    seen = []
    for m in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        s.step(m)
        seen.append(_lrs(opt)[0])
    # best 4 at epoch 2; three bad epochs -> halve; one cooldown epoch, then 3 bad again
    assert seen == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    assert s.get_last_lr()[1] == pytest.approx(0.3 * 0.125)  # group 1 has no floor
    m = L.ReduceLROnPlateau(_ng_opt(), mode="max", threshold=0.1, threshold_mode="abs")
    assert m.is_better(1.11, 1.0) and not m.is_better(1.09, 1.0)
    r = L.ReduceLROnPlateau(_ng_opt(), threshold=0.1)
    assert r.is_better(0.89, 1.0) and not r.is_better(0.91, 1.0)
    tiny = _ng_opt(lr=1e-9)
    e = L.ReduceLROnPlateau(tiny, patience=0, eps=1e-8)
    e.step(1.0)
    e.step(2.0)
    assert _lrs(tiny)[0] == 1e-9  # the change would be below eps: skipped


@pytest.mark.parametrize("make,exc,msg", [
    (lambda o: L.OneCycleLR(o, 0.1), ValueError, "either total_steps OR"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=0), ValueError, "positive integer total"),
    (lambda o: L.OneCycleLR(o, 0.1, 10, pct_start=1), ValueError, "pct_start"),
    (lambda o: L.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda o: L.OneCycleLR(o, [0.1, 0.2, 0.3], 10), ValueError, "max_lr must have the same"),
    (lambda o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
    (lambda o: L.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
    (lambda o: L.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda o: L.LambdaLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    (lambda o: L.StepLR(o, 0), ValueError, "step_size must be a positive integer"),
    (lambda o: L.CosineAnnealingLR(o, 0), ValueError, "T_max must be positive"),
    (lambda o: L.StepLR(o, 2, last_epoch=3), KeyError, "initial_lr"),
    (lambda o: L.StepLR(object(), 2), TypeError, "is not an Optimizer"),
])
def test_bad_arguments(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make(_ng_opt())


def test_cycle_momentum_needs_momentum():
    p = [ng.nn.Parameter(ng.zeros(2))]
    with pytest.raises(ValueError, match="must support momentum"):
        L.OneCycleLR(ng.optim.Adagrad(p), max_lr=0.1, total_steps=5)
    L.OneCycleLR(ng.optim.Adagrad(p), max_lr=0.1, total_steps=5, cycle_momentum=False)


def test_order_and_get_lr_warnings():
    opt = _ng_opt()
    s = L.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    opt = _ng_opt()
    s = L.StepLR(opt, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        s.step()  # the right order: silent
    with pytest.warns(UserWarning, match="get_last_lr"):
        assert s.get_lr() == _lrs(opt)


# ---------------------------------------------------------------- state dicts


class _Warmup:
    """A callable object: its attributes travel in LambdaLR's state dict."""

    def __init__(self, n):
        self.n = n

    def __call__(self, t):
        return min(1.0, (t + 1) / self.n)


ROUND_TRIP = [
    (L.StepLR, {"step_size": 3}, None),
    (L.MultiStepLR, {"milestones": [2, 4, 4, 9]}, None),
    (L.ExponentialLR, {"gamma": 0.8}, None),
    (L.CosineAnnealingLR, {"T_max": 5}, None),
    (L.OneCycleLR, {"max_lr": 0.5, "total_steps": 30}, None),
    (L.ReduceLROnPlateau, {"patience": 1, "mode": "max"}, [0.1 * (i % 4) for i in range(30)]),
]


@pytest.mark.parametrize("cls,kwargs,metric", ROUND_TRIP, ids=[c[0].__name__ for c in ROUND_TRIP])
def test_state_dict_round_trip(cls, kwargs, metric):
    opt_a = _ng_opt(momentum=0.9)
    a = cls(opt_a, **kwargs)
    m = metric or [None] * 30
    for i in range(7):
        opt_a.step()
        a.step() if metric is None else a.step(m[i])
    sd = a.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 7
    opt_b = _ng_opt(momentum=0.9)
    b = cls(opt_b, **kwargs)
    opt_b.load_state_dict(opt_a.state_dict())
    b.load_state_dict(sd)
    assert b.get_last_lr() == a.get_last_lr()
    for i in range(7, 25):
        for o, s in ((opt_a, a), (opt_b, b)):
            o.step()
            s.step() if metric is None else s.step(m[i])
        assert _lrs(opt_a) == _lrs(opt_b) and _momenta(opt_a) == _momenta(opt_b)


def test_lambda_state_dict_skips_functions_and_restores_callable_objects():
    opt = _ng_opt()
    s = L.LambdaLR(opt, [lambda t: 0.9**t, _Warmup(5)])
    s.lr_lambdas[1].n = 8
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 8}]
    s2 = L.LambdaLR(_ng_opt(), [lambda t: 0.9**t, _Warmup(5)])
    s2.load_state_dict(sd)
    assert s2.lr_lambdas[1].n == 8 and callable(s2.lr_lambdas[0])
