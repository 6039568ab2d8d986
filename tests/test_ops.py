"""Every op in ``op_table.OPS``: forward against numpy (float32 and float64), the alternate
spelling (method vs function), ``gradcheck`` and ``gradgradcheck`` in float64, and, for
broadcasting elementwise ops, forward and ``out.sum()`` gradients on random shapes."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from op_table import IDX, KINK_X, KINK_Y, KINKS, OPS, Arg, sample, sum_to

import numbagrad as ng
from numbagrad.autograd import gradcheck, gradgradcheck

DEVICES = [os.environ.get("NUMBAGRAD_TEST_DEVICE", "cpu")]

# Under the CUDA simulator (a Python thread per GPU thread) the op table runs forward in
# both dtypes, gradcheck in float64, no-grad outputs and repeated-index accumulation; the
# second-order, float32-backward, kink and hypothesis checks exercise the same kernels and
# run on the CPU and on a real GPU (or with NUMBAGRAD_CUDA_FULL=1).
_SIM_SUBSET = (DEVICES == ["cuda"] and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
               and os.environ.get("NUMBAGRAD_CUDA_FULL") != "1")
not_on_simulator = pytest.mark.skipif(_SIM_SUBSET, reason="CPU and real-GPU runs only")


def _params(ops, dtypes=None):
    return [pytest.param(op, dt, id=f"{op.name}-{dt}")
            for op in ops for dt in op.dtypes if dtypes is None or dt in dtypes]


def _ids(ops):
    return [pytest.param(op, id=op.name) for op in ops]


def to_numpy(t: ng.Tensor) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


def to_tensor(a: np.ndarray, device, requires_grad: bool = False) -> ng.Tensor:
    """A leaf tensor holding ``a``, with ``a``'s shape."""
    return ng.tensor(a, device=device, requires_grad=requires_grad)


def make_inputs(op, args, dtype, device, seed, requires_grad=False):
    """(input tensors, const tensors, float64/int numpy arrays for the reference)."""
    arrays = sample(args, dtype, seed)
    tensors = [to_tensor(a, device, requires_grad and arg.differentiable and a.dtype.kind == "f")
               for a, arg in zip(arrays, args)]
    consts = [to_tensor(c, device) for c in op.consts]
    ref_in = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    return tensors, consts, ref_in + list(op.consts)


def _seq(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_matches(op, out, expected, dtype):
    outs, exps = _seq(out), _seq(expected)
    assert len(outs) == len(exps), f"{op.name}: {len(outs)} outputs, expected {len(exps)}"
    rtol, atol = op.forward_tol(dtype)
    for k, (o, e) in enumerate(zip(outs, exps)):
        assert isinstance(o, ng.Tensor), f"{op.name}: output {k} is {type(o).__name__}"
        e = np.asarray(e)
        got = to_numpy(o)
        assert got.shape == e.shape, f"{op.name}: output {k} shape {got.shape} != {e.shape}"
        if e.dtype.kind == "f":
            assert o.dtype is getattr(ng, dtype), f"{op.name}: output {k} dtype {o.dtype}"
            np.testing.assert_allclose(got, e, rtol=rtol, atol=atol,
                                       err_msg=f"{op.name}: output {k}")
        else:
            assert got.dtype == e.dtype, f"{op.name}: output {k} dtype {got.dtype} != {e.dtype}"
            np.testing.assert_array_equal(got, e, err_msg=f"{op.name}: output {k}")


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op, dtype", _params(OPS))
def test_forward(device, op, dtype):
    xs, cs, ref_in = make_inputs(op, op.args, dtype, device, op.name)
    assert_matches(op, op.fn(*xs, *cs), op.ref(*ref_in), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tensor_keeps_0d_shape(device, dtype):
    """0-d inputs of the table (and of the broadcasting test) are built this way."""
    a = np.array(1.5, dtype=dtype)
    t = ng.tensor(a, device=device)
    assert t.shape == ()
    assert t.dtype is getattr(ng, dtype)
    assert t.item() == 1.5


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _ids([op for op in OPS if op.alt is not None]))
def test_alternate_form(device, op):
    dtype = op.dtypes[-1]
    xs, cs, ref_in = make_inputs(op, op.args, dtype, device, op.name)
    assert_matches(op, op.alt(*xs, *cs), op.ref(*ref_in), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _ids([op for op in OPS if not op.grad
                                     and "float64" in op.dtypes]))
def test_no_grad_outputs(device, op):
    """Ops without a gradient (comparisons, arg-reductions) return untracked tensors."""
    xs, cs, _ = make_inputs(op, op.args, "float64", device, op.name, requires_grad=True)
    xs = [x.requires_grad_() if x.dtype.is_floating_point else x for x in xs]
    for o in _seq(op.fn(*xs, *cs)):
        assert not o.requires_grad
        assert o.grad_fn is None


# ---------------------------------------------------------------- gradients


GRAD_OPS = [op for op in OPS if op.grad]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _ids(GRAD_OPS))
def test_gradcheck(device, op):
    xs, cs, _ = make_inputs(op, op.args, "float64", device, op.name, requires_grad=True)
    assert any(x.requires_grad for x in xs)
    rtol, atol = op.gc_tol
    assert gradcheck(lambda *a: op.fn(*a, *cs), tuple(xs), rtol=rtol, atol=atol)


@not_on_simulator
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _ids([op for op in GRAD_OPS if op.gradgrad]))
def test_gradgradcheck(device, op):
    xs, cs, _ = make_inputs(op, op.args, "float64", device, op.name, requires_grad=True)
    rtol, atol = op.gc_tol
    assert gradgradcheck(lambda *a: op.fn(*a, *cs), tuple(xs), rtol=rtol, atol=atol)


@not_on_simulator
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _ids(GRAD_OPS))
def test_backward_float32(device, op):
    """float32 gradients keep the input's dtype and shape and agree with float64 ones
    (which test_gradcheck checks)."""
    grads = {}
    for dtype in ("float32", "float64"):
        xs, cs, _ = make_inputs(op, op.args, dtype, device, op.name, requires_grad=True)
        outs = [o for o in _seq(op.fn(*xs, *cs)) if o.dtype.is_floating_point]
        total = None
        for o in outs:
            w = np.linspace(0.5, 1.5, o.numel()).reshape(tuple(o.shape)).astype(dtype)
            term = (o * to_tensor(w, device)).sum()
            total = term if total is None else total + term
        total.backward()
        grads[dtype] = [x.grad for x in xs if x.requires_grad]
        for x, g in zip([x for x in xs if x.requires_grad], grads[dtype]):
            assert g is None or (g.dtype is x.dtype and g.shape == x.shape)
    assert any(g is not None for g in grads["float64"])
    for g32, g64 in zip(grads["float32"], grads["float64"]):
        assert (g32 is None) == (g64 is None)
        if g64 is not None:
            np.testing.assert_allclose(to_numpy(g32), to_numpy(g64), rtol=1e-4, atol=1e-5)


@not_on_simulator
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kink", _ids(KINKS))
def test_kinks_match_torch(device, kink, torch):
    """Values and the subgradients PyTorch picks at kinks and ties."""
    res = {}
    for m, dev in ((ng, device), (torch, "cpu")):
        x = m.tensor(KINK_X, dtype=m.float64, device=dev, requires_grad=True)
        y = m.tensor(KINK_Y, dtype=m.float64, device=dev, requires_grad=True)
        out = kink.fn(m, x, y)
        w = m.arange(1, out.numel() + 1, dtype=m.float64, device=dev).reshape(out.shape)
        (out * w).sum().backward()
        res[m] = [out.detach().cpu().numpy(), x.grad, y.grad]
    for k, (a, b) in enumerate(zip(res[ng], res[torch])):
        if k:
            assert (a is None) == (b is None), f"{kink.name}: grad {k} presence differs"
            if a is None:
                continue
            a, b = to_numpy(a), b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{kink.name}: {k}")


@pytest.mark.parametrize("device", DEVICES)
def test_index_repeats_accumulate(device):
    x = ng.zeros(3, 4, dtype=ng.float64, device=device, requires_grad=True)
    x[ng.tensor(IDX, device=device)].sum().backward()
    expected = np.repeat(np.bincount(IDX, minlength=3)[:, None], 4, axis=1)
    np.testing.assert_array_equal(to_numpy(x.grad), expected)


# ---------------------------------------------------------------- broadcasting


@not_on_simulator
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _ids([op for op in OPS if op.broadcast]))
@given(data=st.data())
def test_broadcasting(device, op, data):
    bs = data.draw(mutually_broadcastable_shapes(num_shapes=len(op.args), max_dims=3,
                                                 max_side=4), label="shapes")
    dtype = data.draw(st.sampled_from(op.dtypes), label="dtype")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    args = tuple(Arg(s, a.domain) for s, a in zip(bs.input_shapes, op.args))
    xs, cs, ref_in = make_inputs(op, args, dtype, device, seed, requires_grad=op.grad)
    out = op.fn(*xs, *cs)
    expected = op.ref(*ref_in)
    assert tuple(out.shape) == bs.result_shape
    assert_matches(op, out, expected, dtype)
    if not op.grad:
        assert not out.requires_grad
        return
    out.sum().backward()
    rtol, atol = op.forward_tol(dtype)
    for k, (x, d) in enumerate(zip(xs, op.dref(*ref_in))):
        if d is None:
            assert x.grad is None
            continue
        want = sum_to(np.broadcast_to(d, bs.result_shape), x.shape)
        assert x.grad is not None, f"{op.name}: no gradient for input {k}"
        assert tuple(x.grad.shape) == tuple(x.shape), f"{op.name}: input {k} grad shape"
        assert x.grad.dtype is x.dtype, f"{op.name}: input {k} grad dtype {x.grad.dtype}"
        np.testing.assert_allclose(to_numpy(x.grad), want, rtol=rtol, atol=atol,
                                   err_msg=f"{op.name}: gradient of input {k}")
