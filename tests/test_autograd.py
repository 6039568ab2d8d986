"""The autograd engine: accumulation, graph lifetime, higher-order gradients, grad modes."""
import numpy as np
import pytest

import numbagrad as ng
from numbagrad import autograd


def t64(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return ng.tensor(rng.standard_normal(shape), dtype=ng.float64, requires_grad=True)


def test_issue_example_grad_outputs_and_second_derivative():
    x = ng.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    y = ng.tensor([[5., 6.], [7., 8.]])
    z = x * y
    (dx,) = autograd.grad(z, x, grad_outputs=ng.ones_like(z), create_graph=True)
    np.testing.assert_array_equal(dx.numpy(), y.numpy())
    f = (x ** 3).sum()
    (g,) = autograd.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())


def test_third_derivative():
    x = ng.tensor([0.3, -1.2, 2.0], dtype=ng.float64, requires_grad=True)
    y = x.sin() * x ** 2
    g1 = autograd.grad(y.sum(), x, create_graph=True)[0]
    g2 = autograd.grad(g1.sum(), x, create_graph=True)[0]
    g3 = autograd.grad(g2.sum(), x)[0]
    v = x.detach().numpy()
    # d^3/dx^3 (x^2 sin x) = -x^2 cos x - 6x sin x + 6 cos x
    want = -v ** 2 * np.cos(v) - 6 * v * np.sin(v) + 6 * np.cos(v)
    np.testing.assert_allclose(g3.numpy(), want, rtol=1e-10)


def test_hessian_vector_product():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 4))
    A = ng.tensor(a + a.T, dtype=ng.float64)
    x = t64(4)
    v = ng.tensor(rng.standard_normal(4), dtype=ng.float64)
    f = 0.5 * (x @ (A @ x)) + (x ** 4).sum()
    (g,) = autograd.grad(f, x, create_graph=True)
    (hv,) = autograd.grad(g, x, grad_outputs=v)
    H = (a + a.T) + np.diag(12 * x.detach().numpy() ** 2)
    np.testing.assert_allclose(hv.numpy(), H @ v.numpy(), rtol=1e-10)


def test_accumulation_on_leaves_and_zero():
    x = t64(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 5.0))
    x.grad.zero_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_shared_leaf_in_two_branches_gets_sum():
    x = t64(2, 3)
    y = x.exp() + x * x + x
    y.sum().backward()
    v = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(v) + 2 * v + 1)


def test_leaf_grads_do_not_alias():
    a = t64(3)
    b = t64(3, seed=1)
    (a + b).sum().backward()
    a.grad.add_(1)
    np.testing.assert_allclose(b.grad.numpy(), np.ones(3))


def test_freed_graph_raises_and_retain_graph_allows_second_pass():
    x = t64(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.detach().numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_non_scalar_backward_needs_gradient():
    x = t64(3)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    y.backward(ng.tensor([1., 2., 3.], dtype=ng.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2., 4., 6.])


def test_gradient_shape_mismatch():
    x = t64(3)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ng.ones(4, dtype=ng.float64))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ng.ones(2).sum().backward()


def test_integer_tensor_gradient_is_a_clear_error():
    x = ng.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        x.requires_grad_()
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        ng.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * x).sum(), x)


def test_grad_unused_and_allow_unused():
    x = t64(2)
    y = t64(2, seed=1)
    z = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        autograd.grad(z, [x, y], retain_graph=True)
    gx, gy = autograd.grad(z, [x, y], allow_unused=True, retain_graph=True)
    assert gy is None
    np.testing.assert_allclose(gx.numpy(), [2., 2.])
    gx, gy = autograd.grad(z, [x, y], materialize_grads=True)
    np.testing.assert_allclose(gy.numpy(), [0., 0.])


def test_grad_does_not_touch_dot_grad_and_works_for_non_leaf():
    x = t64(3)
    h = x * 3
    y = (h * h).sum()
    gh, gx = autograd.grad(y, [h, x])
    assert x.grad is None
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.detach().numpy())


def test_long_chain_is_iterative():
    x = ng.tensor([1.0], dtype=ng.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)


def test_no_grad_enable_grad_and_decorators():
    x = t64(2)
    with ng.no_grad():
        y = x * 2
        with ng.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @ng.no_grad()
    def f(a):
        return a * 2

    assert not f(x).requires_grad
    assert ng.is_grad_enabled()
    ng.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ng.set_grad_enabled(True)
    with ng.set_grad_enabled(False):
        assert not ng.is_grad_enabled()
    assert ng.is_grad_enabled()


def test_detach_shares_memory_and_cuts_graph():
    x = t64(3)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x * 1
    y_d = y.detach()
    with ng.no_grad():
        y_d.add_(1)  # shares memory with y
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() + 1)


def test_inplace_on_saved_tensor_is_detected():
    x = t64(3)
    y = x.exp()
    z = y.sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_inplace_on_leaf_requiring_grad():
    x = t64(3)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.add_(1)
    with ng.no_grad():
        x.add_(1)  # allowed: optimizer updates work like this


def test_inplace_on_non_leaf_rebases_history():
    x = t64(3)
    y = x * 2
    y.mul_(3)
    y.add_(x)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 7.0))


def test_inplace_mul_by_tensor_requiring_grad():
    x = t64(3)
    w = t64(3, seed=2)
    y = x * 1
    y.mul_(w)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), w.detach().numpy())


def test_retain_grad():
    x = t64(3)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())


def test_requires_grad_flag_rules():
    x = t64(2)
    y = x * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    assert y.requires_grad
    assert not ng.ones(2).requires_grad
    assert ng.ones(2, requires_grad=True).requires_grad


def test_mixed_dtype_gradients_keep_input_dtype():
    a = ng.ones(3, requires_grad=True)  # float32
    b = ng.ones(3, dtype=ng.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is ng.float32 and b.grad.dtype is ng.float64


def test_broadcast_gradient_is_reduced_to_input_shape():
    a = t64(4, 1, 3)
    b = t64(5, 1, seed=3)
    (a * b).sum().backward()
    assert a.grad.shape == (4, 1, 3) and b.grad.shape == (5, 1)
    np.testing.assert_allclose(a.grad.numpy(), np.broadcast_to(b.detach().numpy().sum(), (4, 1, 3)))
    np.testing.assert_allclose(b.grad.numpy(),
                               np.full((5, 1), a.detach().numpy().sum()))


def test_create_graph_backward_builds_graph_on_leaf_grad():
    x = t64(3)
    (x ** 2).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.full(3, 2.0))


def test_backward_inputs_argument():
    x = t64(2)
    y = t64(2, seed=1)
    (x * y).sum().backward(inputs=[x])
    assert y.grad is None
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())


def test_custom_function():
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._data ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = t64(3)
    assert autograd.gradcheck(Cube.apply, (x,))
    assert autograd.gradgradcheck(Cube.apply, (x,))
    assert Cube.apply(x).grad_fn.name() == "CubeBackward0"


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = t64(2)
    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch"):
        autograd.gradcheck(Wrong.apply, (x,))
    assert autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class CubeFirstOrderOnly(autograd.Function):
        """Right first derivative, but its backward drops the path through x."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._data ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    x = t64(3)
    assert autograd.gradcheck(CubeFirstOrderOnly.apply, (x,))
    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch"):
        autograd.gradgradcheck(CubeFirstOrderOnly.apply, (x,))


# ---- a first gradient is kept without a copy only when nothing else holds it


def test_owned_first_gradient_is_kept_and_accumulates():
    x = ng.tensor(np.ones((3, 4)))
    w = ng.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    (x @ w).sum().backward()
    g1 = w.grad.numpy().copy()
    (x @ w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * g1)


def test_gradient_returned_for_two_leaves_is_copied_for_each():
    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a._data + b._data

        @staticmethod
        def backward(ctx, g):
            h = g * 2.0
            return h, h  # one Tensor, two leaves

    a = ng.zeros(3, requires_grad=True)
    b = ng.zeros(3, requires_grad=True)
    Twice.apply(a, b).sum().backward()
    with ng.no_grad():
        a.grad.add_(1.0)
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0, 3.0])


def test_gradient_also_held_by_the_backward_is_copied():
    kept = []

    class Keep(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a._data * 1.0

        @staticmethod
        def backward(ctx, g):
            h = g * 3.0
            kept.append(h)  # someone else still holds the returned gradient
            return h

    a = ng.zeros(2, requires_grad=True)
    Keep.apply(a).sum().backward()
    Keep.apply(a).sum().backward()  # accumulates into a.grad in place
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(kept[0].numpy(), [3.0, 3.0])


def test_incoming_gradient_passed_through_is_copied():
    a = ng.zeros(2, requires_grad=True)
    g = ng.tensor([1.0, 2.0])
    (a * 1.0 + 0.0).backward(g)
    b = ng.zeros(2, requires_grad=True)
    (b + 0.0).backward(g)  # Add passes the incoming gradient straight through
    with ng.no_grad():
        b.grad.add_(10.0)
    np.testing.assert_array_equal(g.numpy(), [1.0, 2.0])


def test_leaf_keeps_one_accumulator_without_a_reference_cycle():
    import gc
    import weakref

    x = ng.ones(2, requires_grad=True)
    n1 = (x * 2).grad_fn.next_functions[0][0]
    n2 = (x * 3).grad_fn.next_functions[0][0]
    assert n1 is n2 and n1.variable is x
    gc.disable()
    try:
        ref = weakref.ref(x)
        del x, n1, n2
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()
    # a graph whose leaf nobody holds any more still runs backward
    y = (ng.ones(2, requires_grad=True) * 2).sum()
    y.backward()
