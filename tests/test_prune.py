"""Forward hooks on Module and ``nn.utils.prune``, against ``torch.nn.utils.prune``."""
import copy
import pickle

import numpy as np
import pytest

import numbagrad as ng
from numbagrad import nn
from numbagrad.nn.utils import prune


class Holder(nn.Module):
    """One parameter ``weight`` of any shape (and a buffer, to check names)."""

    def __init__(self, w, bias=True):
        super().__init__()
        self.weight = nn.Parameter(ng.tensor(np.asarray(w)))
        if bias:
            self.bias = nn.Parameter(ng.zeros(1))
        else:
            self.register_parameter("bias", None)
        self.register_buffer("steps", ng.zeros(1))

    def forward(self, x):
        return x * self.weight


def _torch_holder(torch, w):
    m = torch.nn.Module()
    m.weight = torch.nn.Parameter(torch.tensor(np.asarray(w)))
    return m


def _weights(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _mask(m, name="weight"):
    return getattr(m, name + "_mask").detach().numpy()


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 12)
        self.fc3 = nn.Linear(12, 4)

    def forward(self, x):
        return self.fc3(ng.relu(self.fc2(ng.relu(self.fc1(x)))))


def _torch_mlp_like(torch, net):
    tnet = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 12),
                               torch.nn.ReLU(), torch.nn.Linear(12, 4))
    with torch.no_grad():
        for tl, l in zip((tnet[0], tnet[2], tnet[4]), (net.fc1, net.fc2, net.fc3)):
            tl.weight.copy_(torch.tensor(l.weight.detach().numpy()))
            tl.bias.copy_(torch.tensor(l.bias.detach().numpy()))
    return tnet, [(tnet[0], "weight"), (tnet[2], "weight"), (tnet[4], "weight")]


# ---------------------------------------------------------------- forward hooks

def test_forward_pre_hook_replaces_input_and_handle_removes_it():
    m = nn.Linear(3, 2)
    x = ng.ones(1, 3)
    base = m(x).detach().numpy()
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append(("pre", mod, args)))
    h2 = m.register_forward_pre_hook(lambda mod, args: args[0] * 0)  # single value: wrapped
    out = m(x)
    np.testing.assert_allclose(out.detach().numpy(), m.bias.detach().numpy()[None])
    assert seen[0][1] is m and seen[0][2] == (x,)
    h2.remove()
    h2.remove()  # a second remove does nothing
    np.testing.assert_allclose(m(x).detach().numpy(), base)
    h3 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))  # a tuple replaces args
    np.testing.assert_allclose(m(x).detach().numpy(), m.forward(2 * x).detach().numpy())
    h1.remove()
    h3.remove()
    assert not m._forward_pre_hooks
    np.testing.assert_allclose(m(x).detach().numpy(), base)


def test_forward_hook_replaces_output_and_hooks_run_in_order():
    m = nn.Identity()
    order = []
    m.register_forward_pre_hook(lambda mod, args: order.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: order.append("pre2"))
    m.register_forward_pre_hook(lambda mod, args: order.append("pre0"), prepend=True)
    h = m.register_forward_hook(lambda mod, args, out: out + 1)
    m.register_forward_hook(lambda mod, args, out: order.append(("post", out.item())))
    assert m(ng.tensor(1.0)).item() == 2.0
    assert order == ["pre0", "pre1", "pre2", ("post", 2.0)]
    h.remove()
    assert m(ng.tensor(1.0)).item() == 1.0
    # the forward hook sees the args after the pre-hooks changed them
    m2 = nn.Identity()
    m2.register_forward_pre_hook(lambda mod, args: (args[0] * 10,))
    m2.register_forward_hook(lambda mod, args, out: (args[0] - out).item())
    assert m2(ng.tensor(3.0)) == 0.0
    with pytest.raises(TypeError, match="callable"):
        m2.register_forward_hook(3)


def test_hooks_with_kwargs_context_manager_and_self_removal():
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scale()

    def pre(mod, args, kwargs):
        return args, {**kwargs, "scale": 3.0}

    def post(mod, args, kwargs, out):
        assert kwargs["scale"] == 3.0
        return out + 1

    with m.register_forward_pre_hook(pre, with_kwargs=True), \
            m.register_forward_hook(post, with_kwargs=True):
        assert m(ng.tensor(2.0)).item() == 7.0
    assert not m._forward_pre_hooks and not m._forward_pre_hooks_with_kwargs
    assert m(ng.tensor(2.0)).item() == 2.0
    m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"\(new_args, new_kwargs\)"):
        m(ng.tensor(1.0))

    m = Scale()
    calls = []
    handle = None

    def once(mod, args):
        calls.append(1)
        handle.remove()

    handle = m.register_forward_pre_hook(once)
    m(ng.tensor(1.0))
    m(ng.tensor(1.0))
    assert calls == [1]


def test_hooks_survive_deepcopy_and_stay_out_of_state_dict():
    m = nn.Linear(2, 2)
    m.register_forward_hook(lambda mod, args, out: out * 0)
    assert list(m.state_dict()) == ["weight", "bias"]
    m2 = copy.deepcopy(m)
    assert m2(ng.ones(1, 2)).abs().sum().item() == 0.0
    m2.to(ng.float64)
    assert m2(ng.ones(1, 2, dtype=ng.float64)).dtype == ng.float64
    m3 = nn.Linear(2, 2)
    m3.load_state_dict(m.state_dict())
    assert not m3._forward_hooks
    # a module pickled before hooks existed has no hook dicts: unpickling adds empty ones
    state = {k: v for k, v in nn.Linear(2, 2).__getstate__().items() if "hooks" not in k}
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    assert old(ng.ones(1, 2)).shape == (1, 2) and not old._forward_pre_hooks


# ---------------------------------------------------------------- masks against PyTorch

@pytest.mark.parametrize("amount", [0, 5, 0.3, 0.45, 1.0, 30])
def test_l1_unstructured_matches_torch(torch, amount):
    import torch.nn.utils.prune as tprune

    w = _weights((5, 6))
    m, tm = Holder(w), _torch_holder(torch, w)
    assert prune.l1_unstructured(m, "weight", amount) is m
    tprune.l1_unstructured(tm, "weight", amount)
    np.testing.assert_array_equal(_mask(m), tm.weight_mask.numpy())
    np.testing.assert_array_equal(m.weight.detach().numpy(), tm.weight.detach().numpy())
    assert m.weight_mask.dtype == ng.float32
    assert int((_mask(m) == 0).sum()) == (amount if isinstance(amount, int)
                                          else round(amount * 30))


def test_l1_unstructured_importance_scores_match_torch(torch):
    import torch.nn.utils.prune as tprune

    w, s = _weights((4, 5)), _weights((4, 5), seed=1)
    m, tm = Holder(w), _torch_holder(torch, w)
    prune.l1_unstructured(m, "weight", 0.5, importance_scores=ng.tensor(s))
    tprune.l1_unstructured(tm, "weight", 0.5, importance_scores=torch.tensor(s))
    np.testing.assert_array_equal(_mask(m), tm.weight_mask.numpy())


@pytest.mark.parametrize("n", [1, 2, "fro", 3, float("inf"), float("-inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("amount", [1, 0.5, 0])
def test_ln_structured_matches_torch(torch, n, dim, amount):
    import torch.nn.utils.prune as tprune

    # PyTorch computes 'fro' only over one or two dims (a matrix norm); numbagrad over any
    w = _weights((4, 3, 2) if n == "fro" else (4, 3, 2, 2), seed=2)
    m, tm = Holder(w), _torch_holder(torch, w)
    prune.ln_structured(m, "weight", amount, n=n, dim=dim)
    tprune.ln_structured(tm, "weight", amount, n=n, dim=dim)
    np.testing.assert_array_equal(_mask(m), tm.weight_mask.numpy())


def test_ln_structured_importance_scores_and_conv(torch):
    import torch.nn.utils.prune as tprune

    ng.manual_seed(0)
    conv = nn.Conv2d(2, 4, 3)
    w = conv.weight.detach().numpy()
    s = _weights(w.shape, seed=3)
    tm = _torch_holder(torch, w)
    prune.ln_structured(conv, "weight", 2, 1, 0, importance_scores=ng.tensor(s))
    tprune.ln_structured(tm, "weight", 2, 1, 0, importance_scores=torch.tensor(s))
    np.testing.assert_array_equal(_mask(conv), tm.weight_mask.numpy())
    # two whole output channels are pruned, and the conv runs on the masked weight
    assert (_mask(conv).reshape(4, -1).sum(1) == 0).sum() == 2
    y = conv(ng.rand(1, 2, 5, 5))
    dead = _mask(conv).reshape(4, -1).sum(1) == 0
    np.testing.assert_allclose(y.detach().numpy()[0, dead],
                               np.broadcast_to(conv.bias.detach().numpy()[dead, None, None],
                                               (2, 3, 3)), rtol=1e-6)


def test_ln_structured_zero_norm_counts_nonzeros():
    w = np.array([[1.0, 0.0, 0.0], [1.0, 2.0, 0.0], [5.0, 0.0, 0.0]], np.float32)
    m = Holder(w)
    prune.ln_structured(m, "weight", 1, n=0, dim=0)  # rows with 1, 2, 1 non-zeros
    np.testing.assert_array_equal(_mask(m).sum(1), [0, 3, 3])  # tie: lower index pruned


def test_ties_prune_the_lower_index_first():
    m = Holder(np.ones((2, 3), np.float32))
    prune.l1_unstructured(m, "weight", 4)
    np.testing.assert_array_equal(_mask(m), [[0, 0, 0], [0, 1, 1]])


def test_global_unstructured_mlp_exactly_90_percent_and_matches_torch(torch):
    import torch.nn.utils.prune as tprune

    ng.manual_seed(0)
    net = MLP()
    tnet, tparams = _torch_mlp_like(torch, net)
    params = [(net.fc1, "weight"), (net.fc2, "weight"), (net.fc3, "weight")]
    total = sum(m.weight.numel() for m, _ in params)
    assert prune.global_unstructured(iter(params), prune.L1Unstructured, amount=0.9) is None
    tprune.global_unstructured(tparams, tprune.L1Unstructured, amount=0.9)
    zeros = sum(int((m.weight.detach().numpy() == 0).sum()) for m, _ in params)
    assert zeros == round(0.9 * total)
    assert zeros / total == pytest.approx(0.9, abs=0.5 / total)
    for (m, _), (tm, _) in zip(params, tparams):
        np.testing.assert_array_equal(_mask(m), tm.weight_mask.numpy())
    # the layers are pruned unevenly (one threshold for all), and the net still runs
    fracs = [(_mask(m) == 0).mean() for m, _ in params]
    assert len(set(fracs)) > 1
    assert net(ng.rand(3, 8)).shape == (3, 4)
    # again: 50% of what is left, pooled over all three
    prune.global_unstructured(params, prune.L1Unstructured, amount=0.5)
    tprune.global_unstructured(tparams, tprune.L1Unstructured, amount=0.5)
    for (m, _), (tm, _) in zip(params, tparams):
        np.testing.assert_array_equal(_mask(m), tm.weight_mask.numpy())
    left = total - round(0.9 * total)
    assert sum(int(_mask(m).sum()) for m, _ in params) == left - round(0.5 * left)
    assert all(isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))],
                          prune.PruningContainer) for m, _ in params)


def test_global_unstructured_importance_scores_and_random():
    ng.manual_seed(1)
    a, b = nn.Linear(4, 5), nn.Linear(5, 2)
    scores = {(a, "weight"): ng.zeros(5, 4), (b, "weight"): ng.ones(2, 5)}
    prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured,
                              importance_scores=scores, amount=20)
    assert _mask(a).sum() == 0 and _mask(b).sum() == 10  # all of a's zero scores go first
    c, d = nn.Linear(4, 5), nn.Linear(5, 2)
    prune.global_unstructured([(c, "weight"), (d, "weight")], prune.RandomUnstructured,
                              amount=0.5)
    assert _mask(c).sum() + _mask(d).sum() == 15


def test_iterative_pruning_matches_torch(torch):
    import torch.nn.utils.prune as tprune

    w = _weights((6, 5), seed=4)
    m, tm = Holder(w), _torch_holder(torch, w)
    steps = [
        (prune.l1_unstructured, tprune.l1_unstructured, dict(amount=0.4)),
        (prune.l1_unstructured, tprune.l1_unstructured, dict(amount=3)),
        (prune.ln_structured, tprune.ln_structured, dict(amount=0.34, n=1, dim=0)),
        (prune.l1_unstructured, tprune.l1_unstructured, dict(amount=0.5)),
        (prune.ln_structured, tprune.ln_structured, dict(amount=1, n=2, dim=1)),
        (prune.identity, tprune.identity, dict()),
    ]
    for ours, theirs, kw in steps:
        ours(m, "weight", **kw)
        theirs(tm, "weight", **kw)
        np.testing.assert_array_equal(_mask(m), tm.weight_mask.numpy())
    hook = next(iter(m._forward_pre_hooks.values()))
    assert isinstance(hook, prune.PruningContainer) and len(hook) == len(steps)
    assert [type(h).__name__ for h in hook] == ["L1Unstructured", "L1Unstructured",
                                                "LnStructured", "L1Unstructured",
                                                "LnStructured", "Identity"]
    assert len(m._forward_pre_hooks) == 1
    assert list(m.state_dict()) == ["bias", "weight_orig", "steps", "weight_mask"]


def test_iterative_amount_applies_to_the_remaining_entries():
    m = Holder(_weights((10, 10), seed=5))
    prune.l1_unstructured(m, "weight", 0.5)
    prune.l1_unstructured(m, "weight", 0.5)
    assert int((_mask(m) == 0).sum()) == 75
    prune.l1_unstructured(m, "weight", 25)  # an int: entries among the 25 left
    assert _mask(m).sum() == 0
    with pytest.raises(ValueError, match="smaller than the number of parameters to prune=0"):
        prune.l1_unstructured(m, "weight", 1)
    # the failed call changed nothing: still one hook, same mask, same parameters
    assert len(m._forward_pre_hooks) == 1 and len(next(iter(m._forward_pre_hooks.values()))) == 3
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]


def test_random_unstructured_count_and_reproducible():
    w = _weights((7, 9), seed=6)
    masks = []
    for _ in range(2):
        ng.manual_seed(123)
        m = Holder(w)
        prune.random_unstructured(m, "weight", 0.3)
        masks.append(_mask(m))
    np.testing.assert_array_equal(masks[0], masks[1])
    assert set(np.unique(masks[0])) <= {0.0, 1.0}
    assert int((masks[0] == 0).sum()) == round(0.3 * 63)
    ng.manual_seed(124)
    m = Holder(w)
    prune.random_unstructured(m, "weight", 0.3)
    assert (_mask(m) != masks[0]).any()
    prune.random_unstructured(m, "weight", 10)  # iterative: 10 more among the survivors
    assert int((_mask(m) == 0).sum()) == round(0.3 * 63) + 10


def test_random_structured_prunes_whole_slices():
    ng.manual_seed(3)
    m = Holder(_weights((4, 6), seed=7))
    prune.random_structured(m, "weight", 2, dim=1)
    cols = _mask(m).sum(0)
    assert sorted(cols.tolist()) == [0, 0, 4, 4, 4, 4]


# ---------------------------------------------------------------- reparametrization, training

def test_reparametrization_and_gradients():
    m = Holder(_weights((3, 4), seed=8))
    orig = m.weight
    prune.l1_unstructured(m, "weight", 5)
    assert m.weight_orig is orig and isinstance(m.weight_orig, nn.Parameter)
    assert "weight" not in m._parameters and "weight_mask" in m._buffers
    assert not isinstance(m.weight, nn.Parameter) and m.weight.grad_fn is not None
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert prune.is_pruned(m)
    loss = (m(ng.ones(3, 4)) ** 2).sum()
    loss.backward()
    g = m.weight_orig.grad.numpy()
    mask = _mask(m)
    np.testing.assert_array_equal(g[mask == 0], 0)
    np.testing.assert_allclose(g, 2 * m.weight_orig.detach().numpy() * mask, rtol=1e-6)


def test_mask_survives_sgd_steps():
    ng.manual_seed(0)
    net = MLP()
    params = [(net.fc1, "weight"), (net.fc2, "weight"), (net.fc3, "weight")]
    prune.global_unstructured(params, prune.L1Unstructured, amount=0.6)
    masks = [_mask(m) for m, _ in params]
    opt = ng.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = ng.rand(16, 8), ng.rand(16, 4)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    net(x)  # the pre-hooks rebuild the weights from the updated orig
    for (m, _), mask in zip(params, masks):
        w = m.weight.detach().numpy()
        assert (w[mask == 0] == 0).all()
        np.testing.assert_array_equal(_mask(m), mask)
        assert (m.weight_orig.detach().numpy()[mask == 0] != 0).all()  # orig itself kept
    assert losses[-1] < losses[0]


def test_state_dict_round_trip_into_a_freshly_pruned_module():
    ng.manual_seed(0)
    a = MLP()
    prune.l1_unstructured(a.fc1, "weight", 0.5)
    prune.ln_structured(a.fc2, "weight", 3, 2, 0)
    sd = a.state_dict()
    assert {"fc1.weight_orig", "fc1.weight_mask", "fc2.weight_orig",
            "fc2.weight_mask"} <= set(sd) and "fc1.weight" not in sd
    ng.manual_seed(1)
    b = MLP()
    prune.identity(b.fc1, "weight")
    prune.identity(b.fc2, "weight")
    result = b.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys
    x = ng.rand(2, 8)
    np.testing.assert_allclose(b(x).detach().numpy(), a(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(_mask(b.fc1), _mask(a.fc1))
    np.testing.assert_array_equal(b.fc2.weight.detach().numpy(), a.fc2.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="Missing key"):
        MLP().load_state_dict(sd)  # an unpruned module has other names


def test_remove_makes_pruning_permanent():
    m = Holder(_weights((4, 4), seed=9))
    orig = m.weight
    prune.l1_unstructured(m, "weight", 6)
    prune.l1_unstructured(m, "weight", 2)
    pruned = m.weight.detach().numpy().copy()
    opt = ng.optim.SGD(m.parameters(), lr=0.1)
    assert prune.remove(m, "weight") is m
    assert not prune.is_pruned(m) and not m._forward_pre_hooks
    assert isinstance(m.weight, nn.Parameter) and m.weight is orig
    assert "weight_orig" not in m._parameters and "weight_mask" not in m._buffers
    assert "weight" not in m.__dict__
    np.testing.assert_array_equal(m.weight.detach().numpy(), pruned)
    assert int((pruned == 0).sum()) == 8
    assert list(m.state_dict()) == ["bias", "weight", "steps"]
    # the optimizer built before remove() still trains the same Parameter object
    (m(ng.ones(4, 4)).sum()).backward()
    opt.step()
    assert (m.weight.detach().numpy() != pruned).all()
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


def test_is_pruned_nested_and_deepcopy_pickle_to():
    ng.manual_seed(0)
    net = MLP()
    assert not prune.is_pruned(net)
    prune.random_unstructured(net.fc2, "weight", 0.5)
    prune.l1_unstructured(net.fc2, "bias", 2)
    assert prune.is_pruned(net) and not prune.is_pruned(net.fc1)
    x = ng.rand(2, 8)
    y = net(x).detach().numpy()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert prune.is_pruned(clone)
        assert clone.fc2.weight_orig is not net.fc2.weight_orig
        np.testing.assert_allclose(clone(x).detach().numpy(), y, rtol=1e-6)
        loss = clone(x).sum()
        loss.backward()  # the copy's hook feeds the copy's own orig
        assert clone.fc2.weight_orig.grad is not None and net.fc2.weight_orig.grad is None
    net.to(ng.float64)
    assert net.fc2.weight_mask.dtype == ng.float64
    out = net(x.to(ng.float64))
    assert out.dtype == ng.float64 and net.fc2.weight.dtype == ng.float64
    np.testing.assert_allclose(out.detach().numpy(), y, rtol=1e-5)


def test_prune_method_on_a_tensor_and_containers():
    t = ng.tensor([[3.0, -1.0], [0.5, 2.0]], requires_grad=True)
    out = prune.L1Unstructured(amount=2).prune(t)
    np.testing.assert_array_equal(out.detach().numpy(), [[3.0, 0.0], [0.0, 2.0]])
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1, 0], [0, 1]])
    a = prune.L1Unstructured(0.5)
    a._tensor_name = "weight"
    b = prune.Identity()
    b._tensor_name = "bias"
    with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter"):
        prune.PruningContainer(a, b)
    with pytest.raises(TypeError, match="not a BasePruningMethod subclass"):
        prune.PruningContainer(a).add_pruning_method(3)
    m = Holder(_weights((3, 3)))
    prune.custom_from_mask(m, "weight", ng.tensor([[1, 0, 1], [0, 1, 0], [1, 1, 1]]))
    np.testing.assert_array_equal(_mask(m), [[1, 0, 1], [0, 1, 0], [1, 1, 1]])
    assert m.weight_mask.dtype == ng.float32


# ---------------------------------------------------------------- errors

def test_errors():
    m = Holder(_weights((3, 4)), bias=False)
    for bad in (-1, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="should either be a float in the range"):
            prune.l1_unstructured(m, "weight", bad)
    for bad in ("0.5", None, [1]):
        with pytest.raises(TypeError, match="Invalid type for amount"):
            prune.l1_unstructured(m, "weight", bad)
    with pytest.raises(ValueError, match=r"amount=13 should be smaller than the number of "
                                         r"parameters to prune=12"):
        prune.l1_unstructured(m, "weight", 13)
    with pytest.raises(ValueError, match=r"amount=5 should be smaller .*prune=4"):
        prune.ln_structured(m, "weight", 5, 2, dim=1)
    with pytest.raises(AttributeError, match="'Holder' object has no attribute 'wieght'"):
        prune.l1_unstructured(m, "wieght", 1)
    with pytest.raises(ValueError, match="'bias' of Holder is None"):
        prune.l1_unstructured(m, "bias", 1)
    with pytest.raises(TypeError, match="'steps' of Holder is not a Parameter"):
        prune.l1_unstructured(m, "steps", 1)
    with pytest.raises(IndexError, match=r"Invalid index 2 for tensor of size \(3, 4\)"):
        prune.ln_structured(m, "weight", 1, 2, dim=2)
    with pytest.raises(IndexError, match="Invalid index -3"):
        prune.ln_structured(m, "weight", 1, 2, dim=-3)
    with pytest.raises(TypeError, match="dim must be an int"):
        prune.ln_structured(m, "weight", 1, 2, dim=0.5)
    with pytest.raises(ValueError, match="'nuc'"):
        prune.ln_structured(m, "weight", 1, "nuc", dim=0)
    with pytest.raises(ValueError, match="importance_scores should have the same shape"):
        prune.l1_unstructured(m, "weight", 1, importance_scores=ng.ones(4, 3))
    v = Holder(_weights(5))
    with pytest.raises(ValueError, match="Structured pruning can only be applied to "
                                         "multidimensional tensors"):
        prune.ln_structured(v, "weight", 1, 1, dim=0)
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(m, "weight")], prune.LnStructured, amount=1, n=1, dim=0)
    with pytest.raises(TypeError, match="parameters is not an Iterable"):
        prune.global_unstructured(3, prune.L1Unstructured, amount=1)
    with pytest.raises(TypeError, match="importance_scores must be of type dict"):
        prune.global_unstructured([(m, "weight")], prune.L1Unstructured, importance_scores=[],
                                  amount=1)
    with pytest.raises(ValueError, match="listed twice"):
        prune.global_unstructured([(m, "weight"), (m, "weight")], prune.L1Unstructured,
                                  amount=1)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")
    # none of the failures touched the module
    assert not prune.is_pruned(m) and isinstance(m.weight, nn.Parameter)
    assert [n for n, _ in m.named_parameters()] == ["weight"] and "weight_mask" not in m._buffers
    m.weight_orig = ng.zeros(1)  # a clash with the names pruning needs
    with pytest.raises(KeyError, match="attribute 'weight_orig' already exists"):
        prune.l1_unstructured(m, "weight", 1)
