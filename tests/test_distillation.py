"""Knowledge distillation: ``F.distillation_loss`` against a numpy reference and against
PyTorch's composition, its first and second derivatives, the teacher kept constant, the
argument checks, ``nn.DistillationLoss``, and a short ``distill`` run on the digits."""
from __future__ import annotations

import numpy as np
import pytest

import numbagrad as ng
import numbagrad.nn.functional as F
from numbagrad import autograd, nn
from numbagrad.autograd import gradcheck, gradgradcheck
from numbagrad.nn.utils.distillation import distill

RTOL, ATOL = 1e-10, 1e-12
REDUCTIONS = ["none", "mean", "sum"]
SETTINGS = [(1.0, 0.5), (4.0, 0.9), (2.5, 0.0), (0.5, 1.0)]  # (T, alpha)


def logits(n=5, c=4, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal((n, c)) * scale


def labels(n=5, c=4, seed=0):
    return np.random.default_rng(seed + 1000).integers(0, c, n)


def npy(t):
    return t.detach().numpy() if isinstance(t, ng.Tensor) else t.detach().cpu().numpy()


def reference(s, t, y, T, alpha, reduction):
    """The loss written out in numpy, float64."""
    def log_softmax(z):
        z = z - z.max(1, keepdims=True)
        return z - np.log(np.exp(z).sum(1, keepdims=True))

    log_q, log_p = log_softmax(t / T), log_softmax(s / T)
    kl = (np.exp(log_q) * (log_q - log_p)).sum(1)
    ce = -log_softmax(s)[np.arange(len(y)), y]
    loss = alpha * T * T * kl + (1 - alpha) * ce
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def call(s, t, y, T, alpha, reduction, grad=False):
    return F.distillation_loss(ng.tensor(s, requires_grad=grad), ng.tensor(t),
                               ng.tensor(y), T=T, alpha=alpha, reduction=reduction)


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("T,alpha", SETTINGS)
def test_matches_numpy_reference(T, alpha, reduction):
    s, t, y = logits(seed=1), logits(seed=2, scale=3.0), labels(seed=1)
    out = call(s, t, y, T, alpha, reduction)
    assert out.shape == ((5,) if reduction == "none" else ())
    np.testing.assert_allclose(npy(out), reference(s, t, y, T, alpha, reduction),
                               rtol=RTOL, atol=ATOL)


def test_reductions_agree_and_float32_stays_float32():
    s, t, y = logits(7, 10, seed=3), logits(7, 10, seed=4), labels(7, 10, seed=3)
    per = npy(call(s, t, y, 3.0, 0.7, "none"))
    np.testing.assert_allclose(npy(call(s, t, y, 3.0, 0.7, "mean")), per.mean(), rtol=RTOL)
    np.testing.assert_allclose(npy(call(s, t, y, 3.0, 0.7, "sum")), per.sum(), rtol=RTOL)
    out = F.distillation_loss(ng.tensor(s.astype(np.float32)), ng.tensor(t), ng.tensor(y))
    assert out.dtype is ng.float32
    np.testing.assert_allclose(npy(out), reference(s, t, y, 4.0, 0.9, "mean"), rtol=1e-5)


def test_identical_logits_leave_only_the_hard_term():
    s, y = logits(seed=5), labels(seed=5)
    soft_only = call(s, s, y, 3.0, 1.0, "none")
    np.testing.assert_allclose(npy(soft_only), np.zeros(5), atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("T,alpha", SETTINGS[:2])
def test_matches_torch_composition(torch, T, alpha, reduction):
    tf = torch.nn.functional
    s, t, y = logits(6, 5, seed=6), logits(6, 5, seed=7), labels(6, 5, seed=6)
    sn = ng.tensor(s, requires_grad=True)
    st = torch.tensor(s, requires_grad=True)
    yn = F.distillation_loss(sn, ng.tensor(t), ng.tensor(y), T=T, alpha=alpha,
                             reduction=reduction)
    kl = tf.kl_div(tf.log_softmax(st / T, 1), tf.softmax(torch.tensor(t) / T, 1),
                   reduction="none").sum(1)
    kl = {"none": kl, "mean": kl.sum() / len(y), "sum": kl.sum()}[reduction]
    yt = alpha * T * T * kl + (1 - alpha) * tf.cross_entropy(st, torch.tensor(y),
                                                             reduction=reduction)
    if reduction == "mean":  # the batchmean form named in the docstring, too
        bm = tf.kl_div(tf.log_softmax(st / T, 1), tf.softmax(torch.tensor(t) / T, 1),
                       reduction="batchmean")
        torch.testing.assert_close(kl, bm, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(npy(yn), npy(yt), rtol=RTOL, atol=ATOL)
    go = np.random.default_rng(8).standard_normal(tuple(yt.shape))
    (gn,) = autograd.grad(yn, [sn], ng.tensor(go))
    (gt,) = torch.autograd.grad(yt, [st], torch.tensor(go))
    np.testing.assert_allclose(npy(gn), npy(gt), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("T,alpha", [(2.0, 0.6), (0.7, 1.0), (3.0, 0.0)])
def test_gradcheck_and_gradgradcheck(T, alpha, reduction):
    t, y = ng.tensor(logits(3, 4, seed=9)), ng.tensor(labels(3, 4, seed=9))
    s = ng.tensor(logits(3, 4, seed=10), requires_grad=True)

    def fn(s):
        return F.distillation_loss(s, t, y, T=T, alpha=alpha, reduction=reduction)

    assert gradcheck(fn, (s,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(fn, (s,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_no_gradient_reaches_the_teacher():
    s = ng.tensor(logits(seed=11), requires_grad=True)
    t = ng.tensor(logits(seed=12), requires_grad=True)
    y = ng.tensor(labels(seed=11))
    loss = F.distillation_loss(s, t, y)
    assert autograd.grad(loss, [t], retain_graph=True, allow_unused=True) == (None,)
    loss.backward()
    assert t.grad is None and s.grad is not None
    # the same tensor as student and teacher: the gradient is the student path's only
    w = ng.tensor(logits(seed=13), requires_grad=True)
    (g,) = autograd.grad(F.distillation_loss(w, w, y), [w])
    (g_ref,) = autograd.grad(F.distillation_loss(w, w.detach(), y), [w])
    np.testing.assert_allclose(npy(g), npy(g_ref), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- argument checks


@pytest.mark.parametrize("args,kwargs,exc,match", [
    ((np.zeros(4), np.zeros(4), [0]), {}, ValueError, r"shape \(N, C\), got \[4\]"),
    ((np.zeros((2, 3)), np.zeros((2, 4)), [0, 1]), {}, ValueError,
     r"teacher_logits of shape \[2, 4\] do not match student_logits of shape \[2, 3\]"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 1, 2]), {}, ValueError,
     r"targets must have shape \[2\].*\[2, 3\].*got \[3\]"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [[0], [1]]), {}, ValueError, r"got \[2, 1\]"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0.0, 1.0]), {}, RuntimeError, "integer class"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 3]), {}, IndexError,
     r"target 3 is out of range for 3 classes \(student_logits \[2, 3\]\)"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [-1, 0]), {}, IndexError, "target -1"),
    ((np.zeros((2, 3), np.int64), np.zeros((2, 3)), [0, 1]), {}, RuntimeError,
     "student_logits must be floating point"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 1]), {"T": 0.0}, ValueError, "T must be"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 1]), {"T": float("nan")}, ValueError,
     "T must be"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 1]), {"alpha": 1.5}, ValueError,
     r"alpha must be in \[0, 1\], got 1.5"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 1]), {"alpha": -0.1}, ValueError, "alpha"),
    ((np.zeros((2, 3)), np.zeros((2, 3)), [0, 1]), {"reduction": "batchmean"}, ValueError,
     "reduction must be 'none', 'mean' or 'sum', got 'batchmean'"),
])
def test_argument_errors(args, kwargs, exc, match):
    s, t, y = (ng.tensor(np.asarray(a)) for a in args)
    with pytest.raises(exc, match=match) as info:
        F.distillation_loss(s, t, y, **kwargs)
    assert "distillation_loss" in str(info.value)


def test_non_tensor_arguments():
    with pytest.raises(TypeError, match="argument 'teacher_logits' must be Tensor"):
        F.distillation_loss(ng.zeros(2, 3), np.zeros((2, 3)), ng.tensor([0, 1]))
    with pytest.raises(TypeError, match="T must be a real number"):
        F.distillation_loss(ng.zeros(2, 3), ng.zeros(2, 3), ng.tensor([0, 1]), T="4")


# ---------------------------------------------------------------- the module


def test_module_matches_functional_and_checks_arguments():
    s, t, y = logits(seed=14), logits(seed=15), labels(seed=14)
    for reduction in REDUCTIONS:
        m = nn.DistillationLoss(T=2.0, alpha=0.3, reduction=reduction)
        np.testing.assert_allclose(
            npy(m(ng.tensor(s), ng.tensor(t), ng.tensor(y))),
            reference(s, t, y, 2.0, 0.3, reduction), rtol=RTOL, atol=ATOL)
    assert repr(nn.DistillationLoss()) == "DistillationLoss(T=4.0, alpha=0.9, reduction='mean')"
    assert list(nn.DistillationLoss().parameters()) == []
    with pytest.raises(ValueError, match="DistillationLoss: the temperature T"):
        nn.DistillationLoss(T=-1.0)
    with pytest.raises(ValueError, match="DistillationLoss: alpha"):
        nn.DistillationLoss(alpha=2)
    with pytest.raises(ValueError, match="DistillationLoss: reduction"):
        nn.DistillationLoss(reduction="batchmean")


# ---------------------------------------------------------------- distill on the digits


class Recording(nn.Module):
    """Wraps a network and records its mode and whether grad was enabled at each call."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, ng.is_grad_enabled()))
        return self.net(x)


def mlp(*sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def test_distill_on_digits():
    ng.manual_seed(0)
    x_all, y_all = ng.datasets.load_digits()
    x, y = x_all[:200] / 16.0, y_all[:200]
    x_held, y_held = x_all[200:400] / 16.0, y_all[200:400]
    teacher = Recording(mlp(64, 64, 10))
    opt = ng.optim.Adam(teacher.parameters(), lr=1e-2)
    for _ in range(30):  # a few full-batch steps make a usable teacher
        loss = F.cross_entropy(teacher(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    teacher.calls.clear()
    before = {k: npy(v).copy() for k, v in teacher.state_dict().items()}
    for p in teacher.parameters():
        p.grad = None

    student = mlp(64, 32, 10)
    loader = ng.utils.data.DataLoader(ng.utils.data.TensorDataset(x, y), batch_size=50,
                                      shuffle=True, generator=ng.Generator().manual_seed(0))
    seen = []
    losses = distill(student, teacher, loader, ng.optim.Adam(student.parameters(), lr=1e-2),
                     epochs=10, T=3.0, alpha=0.7, callback=lambda e, v: seen.append((e, v)))

    assert len(losses) == 10 and all(isinstance(v, float) for v in losses)
    assert seen == list(enumerate(losses))
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    # the teacher ran in eval mode without a graph, is unchanged, and is back in train mode
    assert teacher.calls and set(teacher.calls) == {(False, False)}
    assert teacher.training and student.training
    assert all(p.grad is None for p in teacher.parameters())
    for k, v in teacher.state_dict().items():
        np.testing.assert_array_equal(npy(v), before[k])

    with ng.no_grad():  # accuracy on 200 digits it did not train on
        acc = (student(x_held).argmax(1) == y_held).float().mean().item()
    assert acc > 0.75, (acc, losses)


def test_distill_rejects_a_loader_that_runs_dry():
    x, y = ng.randn(8, 4), ng.tensor(np.arange(8) % 3)
    student, teacher = nn.Linear(4, 3), nn.Linear(4, 3)
    batches = ((x[i:i + 4], y[i:i + 4]) for i in (0, 4))  # a generator: one pass only
    with pytest.raises(ValueError, match="no samples in epoch 1"):
        distill(student, teacher, batches, ng.optim.SGD(student.parameters(), lr=0.1),
                epochs=2)
    with pytest.raises(ValueError, match="distill: alpha"):
        distill(student, teacher, [], None, alpha=3)
