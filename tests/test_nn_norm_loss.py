"""Normalization, dropout, embedding and the losses: gradcheck and gradgradcheck in float64
for every variant, forward and backward against PyTorch at 1e-10, BatchNorm's running
statistics, dropout's statistics and seeding, and the argument checks."""
from __future__ import annotations

import numpy as np
import pytest

import numbagrad as ng
import numbagrad.nn.functional as F
from numbagrad import autograd, nn
from numbagrad.autograd import gradcheck, gradgradcheck

RTOL, ATOL = 1e-10, 1e-12
REDUCTIONS = ["none", "mean", "sum"]


def rnd(*shape, seed=0, lo=None, hi=None):
    rng = np.random.default_rng(seed)
    if lo is None:
        return rng.standard_normal(shape)
    return rng.uniform(lo, hi, shape)


def leaf(a, grad=True):
    return ng.tensor(np.asarray(a), requires_grad=grad and np.asarray(a).dtype.kind == "f")


def npy(t):
    if isinstance(t, np.ndarray):
        return t
    return t.detach().numpy() if isinstance(t, ng.Tensor) else t.detach().cpu().numpy()


def close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(npy(a), npy(b), rtol=rtol, atol=atol)


def away_from(d, kinks, gap=0.15):
    """``d`` moved so that no |element| is within ``gap`` of a kink (for piecewise losses)."""
    d = d.copy()
    for k in kinks:
        near = np.abs(np.abs(d) - k) < gap
        d[near] = np.sign(d[near] + 1e-300) * (k + 2 * gap)
    return d


# ---------------------------------------------------------------- gradcheck table


def _idx(*vals):
    return ng.tensor(np.array(vals, dtype=np.int64))


def _cases():
    """(id, fn, float64 inputs). Inputs that require grad are checked."""
    x34 = rnd(3, 4, seed=1)
    x4 = rnd(2, 3, 2, 2, seed=2)
    w3, b3 = rnd(3, seed=3) + 1.5, rnd(3, seed=4)
    t3 = _idx(0, 3, 2)
    tk = ng.tensor(np.array([[[0, 2], [1, 1]], [[2, 0], [1, 2]]], dtype=np.int64))
    cw = np.array([0.5, 2.0, 1.0, 1.5])
    q34 = np.random.default_rng(5).dirichlet(np.ones(4), size=3)
    rm, rv = ng.tensor(rnd(3, seed=6)), ng.tensor(rnd(3, seed=7, lo=0.5, hi=2.0))
    d34 = away_from(rnd(3, 4, seed=8) * 1.5, [0.0, 1.0, 0.7])
    p34 = rnd(3, 4, seed=9, lo=0.1, hi=0.9)
    y34 = rnd(3, 4, seed=10, lo=0.0, hi=1.0)
    yield "bn_train_2d", lambda x, w, b: F.batch_norm(x, None, None, w, b, True), \
        (leaf(rnd(4, 3, seed=11)), leaf(w3), leaf(b3))
    yield "bn_train_4d", lambda x, w, b: F.batch_norm(x, None, None, w, b, True), \
        (leaf(x4), leaf(w3), leaf(b3))
    yield "bn_train_3d_noaffine", lambda x: F.batch_norm(x, None, None, training=True), \
        (leaf(rnd(2, 3, 3, seed=12)),)
    yield "bn_eval", lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), \
        (leaf(x4), leaf(w3), leaf(b3))
    yield "ln_affine", lambda x, w, b: F.layer_norm(x, (4,), w, b), \
        (leaf(x34), leaf(rnd(4, seed=13) + 1), leaf(rnd(4, seed=14)))
    yield "ln_2d_shape", lambda x, w, b: F.layer_norm(x, (2, 2), w, b), \
        (leaf(rnd(3, 2, 2, seed=15)), leaf(rnd(2, 2, seed=16)), leaf(rnd(2, 2, seed=17)))
    yield "ln_plain", lambda x: F.layer_norm(x, 4), (leaf(x34),)

    def drop(x):
        ng.manual_seed(3)
        return F.dropout(x, 0.4)

    yield "dropout", drop, (leaf(x34),)
    yield "embedding", lambda w: F.embedding(_idx(1, 3, 1, 0), w), (leaf(rnd(4, 3, seed=18)),)
    yield "embedding_pad_unused", lambda w: F.embedding(_idx(1, 3, 1), w, padding_idx=0), \
        (leaf(rnd(4, 3, seed=19)),)
    for r in REDUCTIONS:
        yield f"mse_{r}", lambda x, y, r=r: F.mse_loss(x, y, reduction=r), \
            (leaf(x34), leaf(x34 + d34))
        yield f"l1_{r}", lambda x, y, r=r: F.l1_loss(x, y, reduction=r), \
            (leaf(x34), leaf(x34 + d34))
        yield f"smooth_l1_{r}", lambda x, y, r=r: F.smooth_l1_loss(x, y, reduction=r), \
            (leaf(x34), leaf(x34 + d34))
        yield f"huber_{r}", lambda x, y, r=r: F.huber_loss(x, y, reduction=r, delta=0.7), \
            (leaf(x34), leaf(x34 + d34))
        yield f"ce_{r}", lambda x, r=r: F.cross_entropy(x, t3, reduction=r), (leaf(x34),)
        yield f"ce_weight_ignore_{r}", lambda x, r=r: F.cross_entropy(
            x, _idx(0, 3, 1), weight=ng.tensor(cw), ignore_index=3, reduction=r), (leaf(x34),)
        yield f"ce_smooth_weight_{r}", lambda x, r=r: F.cross_entropy(
            x, _idx(0, 3, -100), weight=ng.tensor(cw), label_smoothing=0.2, reduction=r), \
            (leaf(x34),)
        yield f"ce_prob_{r}", lambda x, q, r=r: F.cross_entropy(x, q, reduction=r), \
            (leaf(x34), leaf(q34))
        yield f"ce_prob_weight_smooth_{r}", lambda x, q, r=r: F.cross_entropy(
            x, q, weight=ng.tensor(cw), label_smoothing=0.3, reduction=r), \
            (leaf(x34), leaf(q34))
        yield f"ce_kdim_{r}", lambda x, r=r: F.cross_entropy(
            x, tk, ignore_index=1, label_smoothing=0.1, reduction=r), (leaf(x4),)
        yield f"nll_{r}", lambda x, r=r: F.nll_loss(x, t3, reduction=r), (leaf(x34),)
        yield f"nll_weight_ignore_{r}", lambda x, r=r: F.nll_loss(
            x, _idx(0, 3, 2), weight=ng.tensor(cw), ignore_index=2, reduction=r), (leaf(x34),)
        yield f"bce_{r}", lambda x, y, r=r: F.binary_cross_entropy(x, y, reduction=r), \
            (leaf(p34), leaf(y34))
        yield f"bce_logits_{r}", lambda x, y, r=r: F.binary_cross_entropy_with_logits(
            x, y, reduction=r), (leaf(x34), leaf(y34))
        yield f"kl_{r}", lambda x, y, r=r: F.kl_div(x, y, reduction=r), \
            (leaf(np.log(q34 + 0.1)), leaf(q34 + 0.05))
    yield "ce_1d_input", lambda x: F.cross_entropy(x, ng.tensor(2)), (leaf(rnd(4, seed=20)),)
    yield "ce_kdim_prob", lambda x, q: F.cross_entropy(x, q, label_smoothing=0.1), \
        (leaf(rnd(2, 3, 2, seed=21)), leaf(np.random.default_rng(22).dirichlet(
            np.ones(3), size=(2, 2)).transpose(0, 2, 1).copy()))
    yield "nll_kdim", lambda x: F.nll_loss(x, tk, weight=ng.tensor(cw[:3])), (leaf(x4),)
    yield "mse_weight", lambda x, y: F.mse_loss(x, y, weight=ng.tensor(p34)), \
        (leaf(x34), leaf(x34 + d34))
    yield "l1_weight", lambda x, y: F.l1_loss(x, y, weight=ng.tensor(p34)), \
        (leaf(x34), leaf(x34 + d34))
    yield "huber_weight", lambda x, y: F.huber_loss(x, y, weight=ng.tensor(p34)), \
        (leaf(x34), leaf(x34 + d34))
    yield "smooth_l1_beta0", lambda x, y: F.smooth_l1_loss(x, y, beta=0.0), \
        (leaf(x34), leaf(x34 + d34))
    yield "bce_weight", lambda x, y: F.binary_cross_entropy(x, y, weight=ng.tensor(cw)), \
        (leaf(p34), leaf(y34))
    yield "bce_logits_weight_pos", lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, weight=ng.tensor(p34), pos_weight=ng.tensor(cw)), (leaf(x34), leaf(y34))
    yield "kl_batchmean", lambda x, y: F.kl_div(x, y, reduction="batchmean"), \
        (leaf(np.log(q34 + 0.1)), leaf(q34 + 0.05))
    yield "kl_log_target", lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True), \
        (leaf(np.log(q34 + 0.1)), leaf(np.log(q34 + 0.05)))


CASES = list(_cases())


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("name, fn, inputs", [pytest.param(*c, id=c[0]) for c in CASES])
def test_gradcheck_and_gradgradcheck(name, fn, inputs):
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_embedding_double_backward_with_padding_in_use():
    idx = _idx(1, 0, 1, 2)
    w = leaf(rnd(3, 2, seed=23))
    assert gradgradcheck(lambda w: F.embedding(idx, w, padding_idx=1), (w,), atol=1e-6)


@pytest.mark.parametrize("kind", ["bn_train", "bn_eval", "ln"])
def test_create_graph_backward_matches_fused_backward(kind):
    """With create_graph=True the normalizations' backward is built from ops; it must give
    the same first derivatives as the fused kernels."""
    x = leaf(rnd(4, 3, 5, seed=24))
    w, b = leaf(rnd(3, seed=25)), leaf(rnd(3, seed=26))
    if kind == "ln":
        w, b = leaf(rnd(5, seed=25)), leaf(rnd(5, seed=26))
        y = F.layer_norm(x, (5,), w, b)
    else:
        rm, rv = ng.zeros(3, dtype=ng.float64), ng.ones(3, dtype=ng.float64) * 2
        y = F.batch_norm(x, rm, rv, w, b, training=kind == "bn_train")
    go = ng.tensor(rnd(*y.shape, seed=27))
    fused = autograd.grad(y, (x, w, b), go, retain_graph=True)
    composed = autograd.grad(y, (x, w, b), go, create_graph=True)
    assert composed[0].requires_grad
    for f, c in zip(fused, composed):
        close(f, c)


def test_cross_entropy_first_backward_is_one_fused_node():
    x = leaf(rnd(3, 4, seed=28))
    loss = F.cross_entropy(x, _idx(0, 1, 2))
    assert loss.grad_fn.name() == "CrossEntropyBackward0"
    (g,) = autograd.grad(loss, x, create_graph=True)
    assert g.grad_fn.name() == "CrossEntropyGradBackward0"
    (h,) = autograd.grad(g.sum(), x)  # the rows of softmax - onehot sum to zero
    close(h, np.zeros((3, 4)), atol=1e-12)


# ---------------------------------------------------------------- against PyTorch


def both(torch, arrays, grad):
    """The same inputs as numbagrad and torch tensors; those in ``grad`` require grad."""
    ngs = [ng.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    ths = [torch.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    return ngs, ths


def check_vs_torch(torch, ng_fn, th_fn, arrays, grad=(0,), seed=0):
    """Forward, then backward of a random upstream gradient, compared at 1e-10."""
    ngs, ths = both(torch, arrays, grad)
    yn, yt = ng_fn(*ngs), th_fn(*ths)
    assert tuple(yn.shape) == tuple(yt.shape)
    close(yn, yt)
    go = np.asarray(rnd(*yt.shape, seed=seed + 100))
    gn = autograd.grad(yn, [ngs[i] for i in grad], ng.tensor(go))
    gt = torch.autograd.grad(yt, [ths[i] for i in grad], torch.tensor(go))
    for a, b in zip(gn, gt):
        close(a, b)


def rand_shape(seed, spatial_max=2):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    spatial = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(0, spatial_max + 1))))
    return n, c, spatial


@pytest.mark.parametrize("seed", range(3))
def test_batch_norm_functional_vs_torch(torch, seed):
    n, c, sp = rand_shape(seed)
    x = rnd(n, c, *sp, seed=seed) * 3 + 1
    w, b = rnd(c, seed=seed + 1), rnd(c, seed=seed + 2)
    for training in (True, False):
        rm_n, rv_n = ng.tensor(rnd(c, seed=3)), ng.tensor(rnd(c, seed=4, lo=0.5, hi=2))
        rm_t, rv_t = torch.tensor(npy(rm_n)), torch.tensor(npy(rv_n))
        check_vs_torch(
            torch, lambda x, w, b, rm=rm_n, rv=rv_n, tr=training: F.batch_norm(
                x, rm, rv, w, b, tr, 0.2, 1e-3),
            lambda x, w, b, rm=rm_t, rv=rv_t, tr=training: torch.nn.functional.batch_norm(
                x, rm, rv, w, b, tr, 0.2, 1e-3),
            [x, w, b], grad=(0, 1, 2), seed=seed)
        close(rm_n, rm_t)
        close(rv_n, rv_t)


@pytest.mark.parametrize("seed", range(3))
def test_layer_norm_functional_vs_torch(torch, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(2, 5))))
    k = int(rng.integers(1, len(shape)))
    ns = shape[len(shape) - k:]
    x, w, b = rnd(*shape, seed=seed) * 2, rnd(*ns, seed=seed + 1), rnd(*ns, seed=seed + 2)
    check_vs_torch(torch, lambda x, w, b: F.layer_norm(x, ns, w, b, 1e-4),
                   lambda x, w, b: torch.nn.functional.layer_norm(x, ns, w, b, 1e-4),
                   [x, w, b], grad=(0, 1, 2), seed=seed)
    check_vs_torch(torch, lambda x: F.layer_norm(x, ns), lambda x: torch.nn.functional
                   .layer_norm(x, ns), [x], seed=seed)


def _ce_args(seed, probs):
    n, c, sp = rand_shape(seed)
    rng = np.random.default_rng(seed)
    x = rnd(n, c, *sp, seed=seed) * 3
    if probs:
        t = rng.dirichlet(np.ones(c), size=(n,) + sp)
        t = np.moveaxis(t, -1, 1).copy()
    else:
        t = rng.integers(0, c, size=(n,) + sp)
    return x, t, rng.uniform(0.2, 2.0, c)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_indices_vs_torch(torch, seed, reduction):
    x, t, w = _ce_args(seed, False)
    t.reshape(-1)[::3] = 1  # some targets equal to the ignored class below
    tf = torch.nn.functional
    for kw in ({}, {"weight": w}, {"ignore_index": 1}, {"label_smoothing": 0.25},
               {"weight": w, "ignore_index": 1, "label_smoothing": 0.1}):
        kn = {k: ng.tensor(v) if k == "weight" else v for k, v in kw.items()}
        kt = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
        check_vs_torch(torch, lambda x, t, kn=kn: F.cross_entropy(x, t, reduction=reduction,
                                                                  **kn),
                       lambda x, t, kt=kt: tf.cross_entropy(x, t, reduction=reduction, **kt),
                       [x, t], seed=seed)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_vs_torch(torch, seed, reduction):
    x, q, w = _ce_args(seed, True)
    tf = torch.nn.functional
    for kw in ({}, {"weight": w, "label_smoothing": 0.2}):
        kn = {k: ng.tensor(v) if k == "weight" else v for k, v in kw.items()}
        kt = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
        check_vs_torch(torch, lambda x, q, kn=kn: F.cross_entropy(x, q, reduction=reduction,
                                                                  **kn),
                       lambda x, q, kt=kt: tf.cross_entropy(x, q, reduction=reduction, **kt),
                       [x, q], grad=(0, 1), seed=seed)


def test_cross_entropy_unbatched_and_byte_targets_vs_torch(torch):
    tf = torch.nn.functional
    x = rnd(5, seed=30)
    for r in REDUCTIONS:
        check_vs_torch(torch, lambda x, r=r: F.cross_entropy(x, ng.tensor(3), reduction=r),
                       lambda x, r=r: tf.cross_entropy(x, torch.tensor(3), reduction=r), [x])
    x = rnd(4, 3, seed=31)
    t = np.array([2, 0, 1, 1], dtype=np.uint8)
    check_vs_torch(torch, lambda x: F.cross_entropy(x, ng.tensor(t)),
                   lambda x: tf.cross_entropy(x, torch.tensor(t)), [x])


def test_cross_entropy_all_ignored_mean_is_nan_like_torch(torch):
    x = leaf(rnd(2, 3, seed=32))
    loss = F.cross_entropy(x, _idx(-100, -100))
    ref = torch.nn.functional.cross_entropy(torch.tensor(npy(x)), torch.tensor([-100, -100]))
    assert np.isnan(loss.item()) and torch.isnan(ref)


@pytest.mark.parametrize("shape", [(512, 100), (8, 10, 32, 16)], ids=["2d", "4d"])
def test_cross_entropy_large_parallel_vs_torch(torch, shape):
    """>= 32768 logits: the parallel kernels run (forward and backward). (The probability
    kernels share their loop structure; they are left out here to save ~5 s of compiling.)"""
    n, c = shape[0], shape[1]
    rng = np.random.default_rng(33)
    x = rnd(*shape, seed=34) * 4
    t = rng.integers(0, c, size=(n,) + shape[2:])
    w = rng.uniform(0.5, 2, c)
    tf = torch.nn.functional
    check_vs_torch(torch, lambda x, t: F.cross_entropy(x, t, weight=ng.tensor(w),
                                                       ignore_index=3, label_smoothing=0.1),
                   lambda x, t: tf.cross_entropy(x, t, weight=torch.tensor(w), ignore_index=3,
                                                 label_smoothing=0.1), [x, t])


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_vs_torch(torch, seed, reduction):
    x, t, w = _ce_args(seed, False)
    tf = torch.nn.functional
    check_vs_torch(torch, lambda x, t: F.nll_loss(x, t, ng.tensor(w), ignore_index=0,
                                                  reduction=reduction),
                   lambda x, t: tf.nll_loss(x, t, torch.tensor(w), ignore_index=0,
                                            reduction=reduction), [x, t], seed=seed)
    check_vs_torch(torch, lambda x, t: F.nll_loss(x, t, reduction=reduction),
                   lambda x, t: tf.nll_loss(x, t, reduction=reduction), [x, t], seed=seed)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_vs_torch(torch, seed, reduction):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 6, size=3))
    x = rnd(*shape, seed=seed) * 2
    y = x + away_from(rnd(*shape, seed=seed + 1) * 2, [0.0, 0.5, 1.0], 0.05)
    wt = rnd(*shape, seed=seed + 2, lo=0.1, hi=2)
    tf = torch.nn.functional
    pairs = [
        (lambda x, y: F.mse_loss(x, y, reduction=reduction),
         lambda x, y: tf.mse_loss(x, y, reduction=reduction)),
        (lambda x, y: F.l1_loss(x, y, reduction=reduction),
         lambda x, y: tf.l1_loss(x, y, reduction=reduction)),
        (lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5),
         lambda x, y: tf.smooth_l1_loss(x, y, reduction=reduction, beta=0.5)),
        (lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=0.5),
         lambda x, y: tf.huber_loss(x, y, reduction=reduction, delta=0.5)),
        (lambda x, y: F.mse_loss(x, y, reduction=reduction, weight=ng.tensor(wt)),
         lambda x, y: tf.mse_loss(x, y, reduction=reduction, weight=torch.tensor(wt))),
        (lambda x, y: F.huber_loss(x, y, reduction=reduction, weight=ng.tensor(wt)),
         lambda x, y: tf.huber_loss(x, y, reduction=reduction, weight=torch.tensor(wt))),
    ]
    for fn, tfn in pairs:
        check_vs_torch(torch, fn, tfn, [x, y], grad=(0, 1), seed=seed)


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_probability_losses_vs_torch(torch, seed, reduction):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
    c = shape[1]
    tf = torch.nn.functional
    logp = np.log(rng.dirichlet(np.ones(c), size=shape[0]))
    q = rng.dirichlet(np.ones(c), size=shape[0])
    q[0, 0] = 0.0  # 0 * log 0 = 0
    for lt in (False, True):
        tgt = np.log(q + 0.01) if lt else q
        check_vs_torch(torch, lambda x, y, lt=lt: F.kl_div(x, y, reduction=reduction,
                                                           log_target=lt),
                       lambda x, y, lt=lt: tf.kl_div(x, y, reduction=reduction, log_target=lt),
                       [logp, tgt], grad=(0,) if not lt else (0, 1), seed=seed)
    if reduction == "batchmean":
        return
    p = rng.uniform(0.02, 0.98, shape)
    y = rng.uniform(0, 1, shape)
    x = rnd(*shape, seed=seed) * 5
    w, pw = rng.uniform(0.2, 2, shape), rng.uniform(0.2, 3, c)
    check_vs_torch(torch, lambda p, y: F.binary_cross_entropy(p, y, ng.tensor(w),
                                                              reduction=reduction),
                   lambda p, y: tf.binary_cross_entropy(p, y, torch.tensor(w),
                                                        reduction=reduction),
                   [p, y], grad=(0, 1), seed=seed)
    check_vs_torch(torch, lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, ng.tensor(w), reduction=reduction, pos_weight=ng.tensor(pw)),
        lambda x, y: tf.binary_cross_entropy_with_logits(
            x, y, torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pw)),
        [x, y], grad=(0, 1), seed=seed)


def test_bce_extremes_match_torch(torch):
    """Logs clamp at -100 (BCE) and large logits stay finite (BCE with logits)."""
    p = np.array([0.0, 1.0, 1e-50, 0.5])
    y = np.array([1.0, 0.0, 1.0, 0.5])
    close(F.binary_cross_entropy(ng.tensor(p), ng.tensor(y), reduction="none"),
          torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y),
                                                   reduction="none"))
    x = np.array([-800.0, 800.0, 40.0, -40.0])
    yn = F.binary_cross_entropy_with_logits(ng.tensor(x), ng.tensor(y), reduction="none")
    close(yn, torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(x), torch.tensor(y), reduction="none"))
    assert np.isfinite(npy(yn)).all()


def test_embedding_vs_torch(torch):
    rng = np.random.default_rng(35)
    w = rnd(7, 4, seed=36)
    idx = rng.integers(0, 7, size=(3, 5))
    idx[0, :3] = 2  # repeats accumulate; 2 is the padding row below
    for pad in (None, 2, -5):
        ngs, ths = both(torch, [w], (0,))
        yn = F.embedding(ng.tensor(idx), ngs[0], padding_idx=pad)
        yt = torch.nn.functional.embedding(torch.tensor(idx), ths[0], padding_idx=pad)
        close(yn, yt)
        go = rnd(3, 5, 4, seed=37)
        yn.backward(ng.tensor(go))
        yt.backward(torch.tensor(go))
        close(ngs[0].grad, ths[0].grad)
    assert np.all(npy(ngs[0].grad)[2] == 0)


def test_embedding_parallel_scatter_and_int32_indices():
    """A (100, 400) table: the gradient scatter runs on the parallel path (one task per
    table row, so repeated indices cannot race)."""
    rng = np.random.default_rng(38)
    w = leaf(rnd(100, 400, seed=39))
    idx = rng.integers(0, 100, size=60)
    idx[:10] = 7
    y = F.embedding(ng.tensor(idx.astype(np.int32)), w, padding_idx=4)
    go = rnd(60, 400, seed=40)
    (gw,) = autograd.grad(y, w, ng.tensor(go))
    want = np.zeros((100, 400))
    np.add.at(want, idx, go)
    want[4] = 0
    close(gw, want)
    close(y, npy(w)[idx])


def test_float32_inputs_stay_float32_and_match_torch(torch):
    x = rnd(6, 5, seed=80).astype(np.float32)
    t = np.array([0, 4, 2, 2, 1, 3])
    ngs, ths = both(torch, [x], (0,))
    yn = F.cross_entropy(ngs[0], ng.tensor(t), label_smoothing=0.1)
    yt = torch.nn.functional.cross_entropy(ths[0], torch.tensor(t), label_smoothing=0.1)
    yn.backward()
    yt.backward()
    assert yn.dtype is ng.float32 and ngs[0].grad.dtype is ng.float32
    close(yn, yt, rtol=1e-6, atol=1e-7)
    close(ngs[0].grad, ths[0].grad, rtol=1e-5, atol=1e-7)
    m = nn.BatchNorm1d(5)
    y = m(ngs[0])
    assert y.dtype is ng.float32 and m.running_mean.dtype is ng.float32
    np.testing.assert_allclose(npy(m.running_mean), 0.1 * x.mean(0), rtol=1e-5, atol=1e-7)
    close(y, torch.nn.functional.batch_norm(ths[0], None, None, training=True), rtol=1e-5,
          atol=1e-6)


@pytest.mark.parametrize("kind", ["bn", "ln", "ce_none"])
def test_fused_backward_takes_a_broadcast_gradient(kind):
    """``.sum()`` hands the fused backward kernels a stride-0 (expanded) gradient."""
    rm, rv = ng.tensor(rnd(4, seed=83)), ng.tensor(rnd(4, seed=84, lo=0.5, hi=2))
    fn = {"bn": lambda x: F.batch_norm(x, rm, rv, ng.tensor(rnd(4, seed=82))),
          "ln": lambda x: F.layer_norm(x, (4,), ng.tensor(rnd(4, seed=82))),
          "ce_none": lambda x: F.cross_entropy(x, _idx(0, 1, 3), reduction="none")}[kind]
    x = leaf(rnd(3, 4, seed=81))
    fn(x).sum().backward()
    x2 = leaf(npy(x))
    y = fn(x2)
    y.backward(ng.ones(*y.shape, dtype=ng.float64))
    close(x.grad, x2.grad)
    assert np.abs(npy(x.grad)).max() > 1e-3


# ---------------------------------------------------------------- modules


def _copy_params(mod_n, mod_t, torch):
    with torch.no_grad():
        for (_, p), (_, q) in zip(mod_n.named_parameters(), mod_t.named_parameters()):
            q.copy_(torch.tensor(npy(p)))


@pytest.mark.parametrize("cls, shape, kw", [
    ("BatchNorm1d", (6, 3), {}),
    ("BatchNorm1d", (4, 3, 5), {"momentum": None}),
    ("BatchNorm2d", (3, 3, 4, 2), {"momentum": 0.3, "eps": 1e-3}),
    ("BatchNorm2d", (2, 3, 2, 2), {"affine": False}),
    ("BatchNorm1d", (5, 3), {"track_running_stats": False}),
], ids=["1d-2d", "1d-3d-cumulative", "2d", "2d-noaffine", "1d-untracked"])
def test_batchnorm_modules_three_steps_then_eval_vs_torch(torch, cls, shape, kw):
    mn = getattr(nn, cls)(3, **kw).double()
    mt = getattr(torch.nn, cls)(3, **kw).double()
    if mn.weight is not None:
        with ng.no_grad():
            mn.weight.copy_(ng.tensor(rnd(3, seed=41)))
            mn.bias.copy_(ng.tensor(rnd(3, seed=42)))
        _copy_params(mn, mt, torch)
    for step in range(3):
        x = rnd(*shape, seed=50 + step) * (step + 1) + step
        ngs, ths = both(torch, [x], (0,))
        yn, yt = mn(ngs[0]), mt(ths[0])
        close(yn, yt)
        go = rnd(*shape, seed=60 + step)
        yn.backward(ng.tensor(go))
        yt.backward(torch.tensor(go))
        close(ngs[0].grad, ths[0].grad)
        if mn.weight is not None:
            close(mn.weight.grad, mt.weight.grad)
            close(mn.bias.grad, mt.bias.grad)
        if mn.track_running_stats:
            close(mn.running_mean, mt.running_mean)
            close(mn.running_var, mt.running_var)
            assert mn.num_batches_tracked.item() == mt.num_batches_tracked.item() == step + 1
    assert mn.num_batches_tracked is None or mn.num_batches_tracked.dtype is ng.int64
    mn.eval()
    mt.eval()
    x = rnd(*shape, seed=70)
    close(mn(ng.tensor(x)), mt(torch.tensor(x)))
    assert set(mn.state_dict()) == set(mt.state_dict())
    assert repr(mn) == repr(mt)


def test_layernorm_module_vs_torch(torch):
    for kw in ({}, {"elementwise_affine": False}, {"bias": False, "eps": 1e-3}):
        mn, mt = nn.LayerNorm((3, 4), **kw).double(), torch.nn.LayerNorm((3, 4), **kw).double()
        if mn.weight is not None:
            with ng.no_grad():
                mn.weight.copy_(ng.tensor(rnd(3, 4, seed=43)))
            _copy_params(mn, mt, torch)
        x = rnd(2, 3, 4, seed=44)
        ngs, ths = both(torch, [x], (0,))
        yn, yt = mn(ngs[0]), mt(ths[0])
        close(yn, yt)
        yn.backward(ng.tensor(npy(yt) * 0 + 1.5))
        yt.backward(torch.ones_like(yt) * 1.5)
        close(ngs[0].grad, ths[0].grad)
        if mn.weight is not None:
            close(mn.weight.grad, mt.weight.grad)
        assert repr(mn) == repr(mt)


def test_embedding_module_and_from_pretrained(torch):
    m = nn.Embedding(6, 3, padding_idx=2)
    assert np.all(npy(m.weight)[2] == 0) and m.weight.requires_grad
    assert repr(m) == repr(torch.nn.Embedding(6, 3, padding_idx=2))
    table = ng.tensor(rnd(4, 2, seed=45))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    close(frozen(_idx(3, 0)), npy(table)[[3, 0]])
    tuned = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    tuned(_idx(1, 3, 3)).sum().backward()
    close(tuned.weight.grad, np.array([[0, 0], [0, 0], [0, 0], [2, 2.]]))


def test_loss_modules_match_functional(torch):
    x, y = leaf(rnd(4, 3, seed=46)), ng.tensor(rnd(4, 3, seed=47))
    p, q = ng.tensor(rnd(4, 3, seed=48, lo=0.1, hi=0.9)), ng.tensor(rnd(4, 3, seed=49, lo=0, hi=1))
    t = _idx(0, 2, 1, 2)
    w = ng.tensor(np.array([1.0, 2.0, 0.5]))
    logq = F.log_softmax(ng.tensor(rnd(4, 3, seed=51)), 1)
    pairs = [
        (nn.MSELoss(reduction="sum")(x, y), F.mse_loss(x, y, reduction="sum")),
        (nn.L1Loss()(x, y), F.l1_loss(x, y)),
        (nn.SmoothL1Loss(beta=0.3)(x, y), F.smooth_l1_loss(x, y, beta=0.3)),
        (nn.HuberLoss(delta=0.3)(x, y), F.huber_loss(x, y, delta=0.3)),
        (nn.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.1)(x, t),
         F.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.1)),
        (nn.NLLLoss(w, reduction="none")(x, t), F.nll_loss(x, t, w, reduction="none")),
        (nn.BCELoss(w)(p, q), F.binary_cross_entropy(p, q, w)),
        (nn.BCEWithLogitsLoss(pos_weight=w)(x, q),
         F.binary_cross_entropy_with_logits(x, q, pos_weight=w)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True)(x, logq),
         F.kl_div(x, logq, reduction="batchmean", log_target=True)),
    ]
    for a, b in pairs:
        close(a, b, rtol=0, atol=0)
    crit = nn.CrossEntropyLoss(w)
    assert "weight" in crit.state_dict() and crit.reduction == "mean"
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())


# ---------------------------------------------------------------- dropout


def test_dropout_statistics_scaling_eval_and_seed():
    x = ng.tensor(np.ones(200_000))
    p = 0.3
    ng.manual_seed(123)
    y = F.dropout(x, p)
    v = npy(y)
    frac = (v == 0).mean()
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / v.size)
    np.testing.assert_allclose(v[v != 0], 1 / (1 - p), rtol=1e-15)
    ng.manual_seed(123)
    np.testing.assert_array_equal(npy(F.dropout(x, p)), v)
    assert not np.array_equal(npy(F.dropout(x, p)), v)
    assert F.dropout(x, p, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(npy(F.dropout(x, 1.0)) == 0)


def test_dropout_backward_is_the_mask_and_module_modes():
    x = leaf(rnd(50, 40, seed=52) + 3)
    m = nn.Dropout(0.5)
    assert repr(m) == "Dropout(p=0.5, inplace=False)"
    ng.manual_seed(7)
    y = m(x)
    y.sum().backward()
    keep = npy(y) != 0
    np.testing.assert_array_equal(npy(x.grad), np.where(keep, 2.0, 0.0))
    m.eval()
    assert m(x) is x
    h = leaf(rnd(3, 4, seed=53)) * 1.0
    ng.manual_seed(8)
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h and (npy(h) == 0).any()


# ---------------------------------------------------------------- argument checks


def test_target_index_errors_never_reach_a_kernel():
    x = leaf(rnd(3, 5, seed=54))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(x, _idx(0, 7, 1))
    with pytest.raises(IndexError, match="Target -3 is out of bounds."):
        F.cross_entropy(x, _idx(0, -3, 1))
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.nll_loss(x, _idx(5, 1, 1), ignore_index=1)
    with pytest.raises(IndexError, match="Target 9 is out of bounds."):
        F.cross_entropy(ng.tensor(rnd(2, 3, 4)), ng.tensor(np.array([[0, 9, 1, 1]] * 2)))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(ng.tensor(rnd(5)), ng.tensor(7))
    assert np.isfinite(F.cross_entropy(x, _idx(0, -100, 4)).item())


def test_target_dtype_and_shape_errors():
    x = leaf(rnd(3, 5, seed=55))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)\."):
        F.cross_entropy(x, _idx(0, 1))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                                           "Float"):
        F.cross_entropy(x, ng.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="but got Int"):
        F.nll_loss(x, ng.tensor(np.array([0, 1, 2], dtype=np.int32)))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.cross_entropy(x, ng.tensor(rnd(3, 4)))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
        F.nll_loss(ng.tensor(rnd(2, 3, 4)), ng.zeros(2, 5, dtype=ng.int64))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 5 "
                                           r"classes or no classes but got weight tensor of "
                                           r"shape: \[4\]"):
        F.cross_entropy(x, _idx(0, 1, 2), weight=ng.ones(4, dtype=ng.float64))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. "
                                           "Got: 1.5"):
        F.cross_entropy(x, _idx(0, 1, 2), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(x, ng.tensor(rnd(3, 5)), ignore_index=2)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(RuntimeError, match="expected a floating point input"):
        F.cross_entropy(_idx(1, 2), _idx(0, 1))


def test_pointwise_loss_size_checks():
    x = ng.tensor(rnd(3, 5))
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(x, ng.tensor(rnd(5)))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        F.l1_loss(x, ng.tensor(rnd(3, 4)))
    with pytest.raises(ValueError, match=r"is different to the input size .* is deprecated"):
        F.binary_cross_entropy(ng.rand(3, dtype=ng.float64), ng.rand(3, 1, dtype=ng.float64))
    with pytest.raises(ValueError, match="Target size .* must be the same as input size"):
        F.binary_cross_entropy_with_logits(ng.tensor(rnd(3)), ng.tensor(rnd(3, 1)))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ng.tensor([0.5, 1.5]), ng.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.mse_loss(x, x, weight=ng.ones(5, dtype=ng.float64))
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, x)


def test_normalization_dropout_embedding_errors():
    x = ng.tensor(rnd(4, 3))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="but got -0.1"):
        nn.Dropout(-0.1)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(x, ng.zeros(4), ng.ones(3), training=True)
    with pytest.raises(RuntimeError, match="running_var should contain 3 elements not 4"):
        F.batch_norm(x, ng.zeros(3), ng.ones(4), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(x, None, None, weight=ng.ones(4, dtype=ng.float64), training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size .*\[1, 3\]"):
        F.batch_norm(ng.tensor(rnd(1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(ng.tensor(rnd(2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(ng.tensor(rnd(2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size\[4, 3\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as "
                                           "normalized_shape"):
        F.layer_norm(x, (3,), weight=ng.ones(4, dtype=ng.float64))
    w = ng.tensor(rnd(5, 2))
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(_idx(0, 9), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(_idx(0, -1), w)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have "
                                           "one of the following scalar types: Long, Int"):
        F.embedding(ng.tensor([0.0, 1.0]), w)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        F.embedding(_idx(0, 1), w, padding_idx=7)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=-6)
