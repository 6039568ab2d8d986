"""The Tensor API against PyTorch's documented semantics: creation, dtypes and promotion,
attributes, printing, views and memory sharing, in-place writes, indexing, joining and
splitting, and the errors each raises. numpy gives the reference values; the ``torch``
fixture (skipped when PyTorch is absent) is used as an oracle in a few places."""
import numpy as np
import pytest

import numbagrad as ng


def arr(t):
    """A numpy copy of a tensor's values (works for tensors that require grad too)."""
    return np.array(t.detach().numpy(), copy=True)


def check(t, expected, dtype=None):
    expected = np.asarray(expected)
    assert tuple(t.shape) == expected.shape
    if dtype is not None:
        assert t.dtype is dtype
    np.testing.assert_allclose(arr(t), expected, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- creation


@pytest.mark.parametrize("data, dtype, npdtype", [
    ([1.0, 2.5], ng.float32, np.float32),
    (3.5, ng.float32, np.float32),
    ([[1, 2], [3, 4]], ng.int64, np.int64),
    (7, ng.int64, np.int64),
    ([True, False], ng.bool, np.bool_),
    (True, ng.bool, np.bool_),
    ([1, 2.5], ng.float32, np.float32),
])
def test_tensor_infers_dtype_from_python_data(data, dtype, npdtype):
    t = ng.tensor(data)
    assert t.dtype is dtype
    ref = np.array(data, dtype=npdtype)
    assert t.shape == ref.shape
    assert t.numpy().dtype == npdtype
    np.testing.assert_array_equal(t.numpy(), ref)


@pytest.mark.parametrize("npdtype, dtype", [
    (np.float64, ng.float64), (np.float32, ng.float32), (np.int32, ng.int32),
    (np.int64, ng.int64), (np.bool_, ng.bool),
])
def test_tensor_keeps_numpy_dtype_and_copies(npdtype, dtype):
    a = np.arange(6).reshape(2, 3).astype(npdtype)
    t = ng.tensor(a)
    assert t.dtype is dtype
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 1] = 0
    assert t.numpy()[0, 1] == np.arange(6).astype(npdtype)[1]  # tensor() copies


@pytest.mark.parametrize("dtype, npdtype", [
    (ng.float64, np.float64), (ng.int32, np.int32), (ng.float32, np.float32),
    (ng.bool, np.bool_), (ng.int64, np.int64),
])
def test_tensor_explicit_dtype(dtype, npdtype):
    t = ng.tensor([0, 1, 2], dtype=dtype)
    assert t.dtype is dtype
    assert t.numpy().dtype == npdtype
    np.testing.assert_array_equal(t.numpy(), np.array([0, 1, 2]).astype(npdtype))


def test_tensor_float_to_int_dtype_truncates():
    t = ng.tensor([1.7, -1.7, 2.2], dtype=ng.int64)
    np.testing.assert_array_equal(t.numpy(), [1, -1, 2])


def test_tensor_of_tensor_copies():
    a = ng.tensor([1.0, 2.0])
    b = ng.tensor(a)
    b[:1] = 5.0
    assert b[0].item() == 5.0
    assert a[0].item() == 1.0
    assert b.dtype is ng.float32


@pytest.mark.parametrize("fn, value", [(ng.zeros, 0), (ng.ones, 1)])
def test_zeros_ones(fn, value):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.shape == (2, 3)
        assert t.dtype is ng.float32
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value, np.float32))
    t = fn(4, dtype=ng.int64)
    assert t.dtype is ng.int64
    np.testing.assert_array_equal(t.numpy(), np.full(4, value))
    assert fn(()).shape == ()
    assert fn(0, 2).shape == (0, 2)


@pytest.mark.parametrize("fill, dtype", [
    (1.5, ng.float32), (3, ng.int64), (True, ng.bool), (-2.0, ng.float32),
])
def test_full_infers_dtype_from_fill_value(fill, dtype):
    t = ng.full((2, 3), fill)
    assert t.dtype is dtype
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), fill))


def test_full_explicit_dtype():
    t = ng.full((2,), 7, dtype=ng.float64)
    assert t.dtype is ng.float64
    np.testing.assert_array_equal(t.numpy(), [7.0, 7.0])


def test_empty_shape_and_dtype():
    t = ng.empty(2, 3)
    assert t.shape == (2, 3) and t.dtype is ng.float32
    t = ng.empty((4,), dtype=ng.int32)
    assert t.shape == (4,) and t.dtype is ng.int32


def test_rand_range_and_dtype():
    ng.manual_seed(0)
    t = ng.rand(2000)
    assert t.dtype is ng.float32 and t.shape == (2000,)
    a = t.numpy()
    assert a.min() >= 0.0 and a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.05
    assert ng.rand(2, 3, dtype=ng.float64).dtype is ng.float64
    assert ng.rand((2, 3)).shape == (2, 3)


def test_randn_statistics():
    ng.manual_seed(1)
    t = ng.randn(4000)
    assert t.dtype is ng.float32
    a = t.numpy().astype(np.float64)
    assert abs(a.mean()) < 0.1
    assert abs(a.std() - 1.0) < 0.1
    assert ng.randn(3, 2).shape == (3, 2)


def test_randint_high_size():
    ng.manual_seed(2)
    t = ng.randint(5, (500,))
    assert t.dtype is ng.int64 and t.shape == (500,)
    a = t.numpy()
    assert a.min() >= 0 and a.max() <= 4
    assert set(a.tolist()) == {0, 1, 2, 3, 4}


def test_randint_low_high_size():
    ng.manual_seed(3)
    t = ng.randint(-3, 3, (2, 300))
    assert t.dtype is ng.int64 and t.shape == (2, 300)
    a = t.numpy()
    assert a.min() >= -3 and a.max() <= 2
    assert set(a.ravel().tolist()) == set(range(-3, 3))
    assert ng.randint(0, 10, (4,), dtype=ng.int32).dtype is ng.int32


@pytest.mark.parametrize("args, expected, dtype", [
    ((5,), np.arange(5), ng.int64),
    ((2, 7), np.arange(2, 7), ng.int64),
    ((1, 10, 3), np.arange(1, 10, 3), ng.int64),
    ((5, 0, -1), np.arange(5, 0, -1), ng.int64),
    ((10, 1, -3), np.arange(10, 1, -3), ng.int64),
    ((0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25), ng.float32),
    ((3.0,), np.arange(3.0), ng.float32),
    ((1.0, 0.0, -0.25), np.arange(1.0, 0.0, -0.25), ng.float32),
    ((0, 2, 0.5), np.arange(0, 2, 0.5), ng.float32),
])
def test_arange(args, expected, dtype):
    check(ng.arange(*args), expected, dtype)


def test_arange_explicit_dtype():
    check(ng.arange(4, dtype=ng.float64), np.arange(4.0), ng.float64)


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-2.0, 2.0, 9), (3, 3, 1), (1, 0, 4)])
def test_linspace(start, end, steps):
    check(ng.linspace(start, end, steps), np.linspace(start, end, steps), ng.float32)


def test_eye():
    check(ng.eye(3), np.eye(3), ng.float32)
    check(ng.eye(2, 4), np.eye(2, 4), ng.float32)
    check(ng.eye(4, 2), np.eye(4, 2), ng.float32)
    check(ng.eye(2, dtype=ng.int64), np.eye(2, dtype=np.int64), ng.int64)


@pytest.mark.parametrize("dtype", [ng.float32, ng.float64, ng.int64])
def test_zeros_ones_full_like(dtype):
    x = ng.tensor([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    for fn, val in ((ng.zeros_like, 0), (ng.ones_like, 1)):
        t = fn(x)
        assert t.dtype is dtype and t.shape == (2, 3)
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), val))
    t = ng.full_like(x, 7)
    assert t.dtype is dtype and t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 7))
    assert ng.zeros_like(x, dtype=ng.bool).dtype is ng.bool


def test_rand_like_randn_like():
    x = ng.zeros(3, 4, dtype=ng.float64)
    r = ng.rand_like(x)
    assert r.shape == (3, 4) and r.dtype is ng.float64
    assert (r.numpy() >= 0).all() and (r.numpy() < 1).all()
    assert len(np.unique(r.numpy())) > 1
    n = ng.randn_like(x)
    assert n.shape == (3, 4) and n.dtype is ng.float64
    assert len(np.unique(n.numpy())) > 1


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ng.from_numpy(a)
    assert t.dtype is ng.float64 and t.shape == (2, 3)
    a[0, 1] = 100.0
    assert t[0, 1].item() == 100.0
    t[1:, 2] = -5.0
    assert a[1, 2] == -5.0
    t.add_(1)
    assert a[0, 0] == 1.0
    b = np.array([1, 2, 3], dtype=np.int32)
    assert ng.from_numpy(b).dtype is ng.int32


def test_numpy_shares_memory():
    t = ng.zeros(3)
    a = t.numpy()
    a[1] = 4.0
    assert t[1].item() == 4.0
    t[2:] = 9.0
    assert a[2] == 9.0


def test_manual_seed_repeats():
    ng.manual_seed(123)
    a = (ng.rand(5).numpy().copy(), ng.randn(5).numpy().copy(), ng.randint(100, (5,)).numpy())
    ng.manual_seed(123)
    b = (ng.rand(5).numpy().copy(), ng.randn(5).numpy().copy(), ng.randint(100, (5,)).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    ng.manual_seed(124)
    c = ng.rand(5).numpy()
    assert not np.array_equal(a[0], c)


def test_consecutive_draws_differ():
    ng.manual_seed(0)
    assert not np.array_equal(ng.rand(8).numpy(), ng.rand(8).numpy())


# ---------------------------------------------------------------- dtypes and promotion


def test_dtype_objects():
    assert ng.float32 is not ng.float64
    assert ng.float32.is_floating_point and ng.float64.is_floating_point
    assert not ng.int64.is_floating_point and not ng.int32.is_floating_point
    assert not ng.bool.is_floating_point
    assert repr(ng.float32) == "numbagrad.float32"
    assert repr(ng.int64) == "numbagrad.int64"
    assert repr(ng.bool) == "numbagrad.bool"
    assert ng.float is ng.float32 and ng.double is ng.float64
    assert ng.long is ng.int64 and ng.int is ng.int32


@pytest.mark.parametrize("method, dtype, npdtype", [
    ("float", ng.float32, np.float32), ("double", ng.float64, np.float64),
    ("long", ng.int64, np.int64), ("int", ng.int32, np.int32), ("bool", ng.bool, np.bool_),
])
def test_conversion_methods(method, dtype, npdtype):
    src = np.array([-1.5, 0.0, 2.7])
    t = getattr(ng.tensor(src), method)()
    assert t.dtype is dtype
    np.testing.assert_array_equal(t.numpy(), src.astype(npdtype))


def test_to_dtype():
    x = ng.tensor([1.9, -0.5])
    y = x.to(ng.int32)
    assert y.dtype is ng.int32
    np.testing.assert_array_equal(y.numpy(), [1, 0])
    assert x.to(ng.float64).dtype is ng.float64
    assert x.to(dtype=ng.float64).dtype is ng.float64
    assert x.to(ng.float32) is x  # same dtype: no copy, as in PyTorch
    z = x.to(ng.int64).to(ng.float32)
    np.testing.assert_array_equal(z.numpy(), [1.0, 0.0])
    assert x.to(ng.zeros(1, dtype=ng.float64)).dtype is ng.float64


def test_to_does_not_alias_when_converting():
    x = ng.tensor([1.0, 2.0])
    y = x.double()
    y[:1] = 10.0
    assert y[0].item() == 10.0
    assert x[0].item() == 1.0


@pytest.mark.parametrize("make, expected", [
    (lambda: ng.tensor([1.0, 2.0]) * 2.5, ng.float32),
    (lambda: ng.tensor([1.0, 2.0]) * 2, ng.float32),
    (lambda: ng.tensor([1, 2]) * 2.5, ng.float32),
    (lambda: ng.tensor([1, 2]) * 2, ng.int64),
    (lambda: ng.tensor([1, 2], dtype=ng.int32) * 2, ng.int32),
    (lambda: ng.tensor([1, 2], dtype=ng.int32) + ng.tensor([1, 2]), ng.int64),
    (lambda: ng.tensor([1, 2], dtype=ng.int32) + ng.full((), 5), ng.int32),
    (lambda: ng.tensor([1, 2]) / ng.tensor([2, 4]), ng.float32),
    (lambda: ng.tensor([1, 2]) / 2, ng.float32),
    (lambda: ng.tensor([1.0], dtype=ng.float64) / 2, ng.float64),
    (lambda: ng.tensor([1.0]) + ng.tensor([1.0], dtype=ng.float64), ng.float64),
    (lambda: ng.tensor([1.0]) + ng.full((), 1.0, dtype=ng.float64), ng.float32),
    (lambda: ng.full((), 1.0) + ng.full((), 1.0, dtype=ng.float64), ng.float64),
    (lambda: ng.tensor([1, 2]) + ng.full((), 1.0, dtype=ng.float64), ng.float64),
    (lambda: ng.tensor([1.0], dtype=ng.float64) * ng.tensor([2]), ng.float64),
    (lambda: ng.tensor([True, False]) + ng.tensor([1, 2]), ng.int64),
    (lambda: ng.tensor([True, False]) + 1, ng.int64),
    (lambda: ng.tensor([True, False]) + 1.5, ng.float32),
    (lambda: ng.tensor([True, False]) * True, ng.bool),
    (lambda: ng.tensor([1, 2]) + True, ng.int64),
    (lambda: 2.5 * ng.tensor([1, 2]), ng.float32),
    (lambda: 1 - ng.tensor([1.0], dtype=ng.float64), ng.float64),
    (lambda: ng.tensor([1.0, 2.0]) > 1, ng.bool),
    (lambda: ng.tensor([1, 2]) == ng.tensor([1.0, 3.0]), ng.bool),
    (lambda: ng.tensor([1, 2]) <= 1.5, ng.bool),
    (lambda: ng.tensor([1.0]) != ng.tensor([1.0], dtype=ng.float64), ng.bool),
])
def test_type_promotion(make, expected):
    assert make().dtype is expected


def test_promotion_values():
    check(ng.tensor([1, 2]) * 2.5, [2.5, 5.0], ng.float32)
    check(ng.tensor([1, 3]) / ng.tensor([2, 4]), [0.5, 0.75], ng.float32)
    check(ng.tensor([True, False]) + ng.tensor([1, 2]), [2, 2], ng.int64)
    check(ng.tensor([1, 2]) == ng.tensor([1.0, 3.0]), [True, False], ng.bool)


def test_promotion_matches_torch(torch):
    """The result dtype of ``a + b`` for tensors and scalars of assorted dtypes."""
    kinds = {
        "f32": (lambda m: m.tensor([1.0, 2.0])),
        "f64": (lambda m: m.tensor([1.0, 2.0], dtype=m.float64)),
        "i64": (lambda m: m.tensor([1, 2])),
        "i32": (lambda m: m.tensor([1, 2], dtype=m.int32)),
        "b": (lambda m: m.tensor([True, False])),
        "0f64": (lambda m: m.full((), 1.0, dtype=m.float64)),
        "0i64": (lambda m: m.full((), 3)),
        "0f32": (lambda m: m.full((), 1.0)),
        "0b": (lambda m: m.full((), True)),
    }
    scalars = {"int": 2, "float": 0.5, "bool": True}
    for ka, fa in kinds.items():
        for kb, fb in list(kinds.items()) + [(k, (lambda m, v=v: v)) for k, v in
                                             scalars.items()]:
            want = str((fa(torch) + fb(torch)).dtype).replace("torch.", "")
            assert (fa(ng) + fb(ng)).dtype.name == want, (ka, kb)


# ---------------------------------------------------------------- attributes


def test_shape_is_size():
    t = ng.zeros(2, 3, 4)
    assert isinstance(t.shape, ng.Size)
    assert isinstance(t.shape, tuple)
    assert t.shape == (2, 3, 4)
    assert t.shape[1] == 3 and t.shape[-1] == 4
    assert t.size() == (2, 3, 4) and isinstance(t.size(), ng.Size)
    assert t.size(0) == 2 and t.size(-1) == 4 and t.size(1) == 3
    assert repr(t.shape) == "numbagrad.Size([2, 3, 4])"
    assert t.shape.numel() == 24
    assert ng.tensor(1.0).shape == ()


def test_basic_attributes():
    t = ng.zeros(2, 3)
    assert t.dtype is ng.float32
    assert t.device == ng.device("cpu")
    assert t.device == "cpu"
    assert str(t.device) == "cpu"
    assert t.device.type == "cpu"
    assert t.ndim == 2 and t.dim() == 2
    assert t.numel() == 6
    assert ng.tensor(5).ndim == 0 and ng.tensor(5).numel() == 1
    assert ng.zeros(0, 4).numel() == 0


def test_grad_attributes():
    x = ng.tensor([1.0, 2.0])
    assert x.requires_grad is False and x.grad is None and x.grad_fn is None
    assert x.is_leaf
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    assert w.requires_grad is True and w.is_leaf and w.grad_fn is None and w.grad is None
    y = w * 3
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = x * 3  # no input needs grad: the result is a leaf without a grad_fn
    assert z.is_leaf and z.grad_fn is None and not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    assert w.grad.dtype is ng.float32
    v = ng.zeros(2)
    v.requires_grad_()
    assert v.requires_grad and v.is_leaf
    v.requires_grad = False
    assert not v.requires_grad


def test_detach_shares_memory():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[:1] = 7.0
    assert w[0].item() == 7.0


def test_item_returns_python_scalars():
    v = ng.tensor([2.5]).item()
    assert type(v) is float and v == 2.5
    v = ng.tensor(3).item()
    assert type(v) is int and v == 3
    v = ng.tensor([[True]]).item()
    assert type(v) is bool and v is True
    assert ng.tensor(1.0, dtype=ng.float64).item() == 1.0


def test_tolist():
    assert ng.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    out = ng.tensor([0.5, 1.5]).tolist()
    assert out == [0.5, 1.5] and all(type(v) is float for v in out)
    assert ng.tensor(3).tolist() == 3
    assert ng.tensor([True, False]).tolist() == [True, False]


def test_numpy_and_array_protocol():
    t = ng.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(a, [[1, 2], [3, 4]])
    b = np.asarray(t)
    assert b.dtype == np.float32 and b.shape == (2, 2)
    np.testing.assert_array_equal(b, a)
    c = np.array(t, dtype=np.float64)
    assert c.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(ng.tensor([1, 2], dtype=ng.int32)), [1, 2])


def test_len_and_iteration():
    t = ng.tensor([[1, 2, 3], [4, 5, 6]])
    assert len(t) == 2
    rows = list(t)
    assert len(rows) == 2
    assert all(isinstance(r, ng.Tensor) for r in rows)
    np.testing.assert_array_equal(rows[1].numpy(), [4, 5, 6])
    assert [x.item() for x in ng.tensor([7, 8, 9])] == [7, 8, 9]
    assert len(ng.zeros(0, 3)) == 0


def test_python_number_conversions():
    assert bool(ng.tensor([1.0])) is True
    assert bool(ng.tensor(0)) is False
    assert bool(ng.tensor([[False]])) is False
    assert float(ng.tensor([2.5])) == 2.5
    assert int(ng.tensor(3.9)) == 3
    assert int(ng.tensor([-7])) == -7
    assert [10, 20, 30][ng.tensor(1)] == 20  # __index__


def test_element_size_and_floating_point():
    assert ng.zeros(1).element_size() == 4
    assert ng.zeros(1, dtype=ng.float64).element_size() == 8
    assert ng.zeros(1).is_floating_point()
    assert not ng.zeros(1, dtype=ng.int64).is_floating_point()


# ---------------------------------------------------------------- printing


@pytest.mark.parametrize("make, expected", [
    (lambda: ng.tensor([[1., 2.], [3., 4.]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda: ng.tensor([1.5, 2.0]), "tensor([1.5000, 2.0000])"),
    (lambda: ng.tensor([1., 2.], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: ng.tensor([1., 2.], requires_grad=True) * 2,
     "tensor([2., 4.], grad_fn=<MulBackward0>)"),
    (lambda: ng.tensor([1., 2.], requires_grad=True) + 1,
     "tensor([2., 3.], grad_fn=<AddBackward0>)"),
    (lambda: ng.tensor([1., 2.], dtype=ng.float64), "tensor([1., 2.], dtype=numbagrad.float64)"),
    (lambda: ng.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: ng.tensor([1, 2], dtype=ng.int32), "tensor([1, 2], dtype=numbagrad.int32)"),
    (lambda: ng.tensor([True, False]), "tensor([ True, False])"),
    (lambda: ng.tensor([True, True]), "tensor([True, True])"),
    (lambda: ng.tensor(3.), "tensor(3.)"),
    (lambda: ng.tensor(2.5), "tensor(2.5000)"),
    (lambda: ng.tensor(7), "tensor(7)"),
    (lambda: ng.tensor([-1., 2.]), "tensor([-1.,  2.])"),
    (lambda: ng.tensor([-1, 10]), "tensor([-1, 10])"),
    (lambda: ng.tensor([0.1, -2.25]), "tensor([ 0.1000, -2.2500])"),
    (lambda: ng.tensor([]), "tensor([])"),
    (lambda: ng.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: ng.tensor([1e-5, 1.]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: ng.tensor([float("nan"), 1.]), "tensor([nan, 1.])"),
    (lambda: ng.tensor([0.5, 600.]), "tensor([5.0000e-01, 6.0000e+02])"),
    (lambda: ng.tensor([0.5, 400.]), "tensor([  0.5000, 400.0000])"),
    (lambda: ng.tensor([[[1, 2]], [[3, 4]]]), "tensor([[[1, 2]],\n\n        [[3, 4]]])"),
    (lambda: ng.tensor([[1.5], [2.0]], dtype=ng.float64),
     "tensor([[1.5000],\n        [2.0000]], dtype=numbagrad.float64)"),
    (lambda: ng.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
])
def test_repr_matches_pytorch_format(make, expected):
    t = make()
    assert repr(t) == expected
    assert str(t) == expected


def _print_cases(m):
    return (
        m.tensor([[1.0, 2.0], [3.0, 4.0]]),
        m.tensor([1.5, -2.0, 0.25]),
        m.tensor([[1, -20], [300, 4]]),
        m.tensor([True, False, True]),
        m.tensor([1.0, 2.0], dtype=m.float64),
        m.tensor([5, 6], dtype=m.int32),
        m.tensor(0.5),
        m.tensor([1e-6, 1.0, 100.0]),
        m.tensor([123456789.0, 1.0]),
        m.tensor([float("inf"), -float("inf"), 1.5]),
        m.tensor([[[0.5, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.5]]]),
        m.tensor([1.0, 2.0], requires_grad=True),
        m.tensor([1.0, 2.0], requires_grad=True) * 3,
        m.arange(2000),
        m.zeros(2, 0),
        m.arange(3000.0).reshape(1000, 3) / 7,
    )


@pytest.mark.parametrize("case", range(16))
def test_str_matches_torch(torch, case):
    expected = str(_print_cases(torch)[case]).replace("torch.", "numbagrad.")
    assert str(_print_cases(ng)[case]) == expected


# ---------------------------------------------------------------- views and memory


def base6():
    return ng.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("make_view", [
    lambda b: b.view(6),
    lambda b: b.view(3, 2),
    lambda b: b.view(-1),
    lambda b: b.reshape(3, 2),
    lambda b: b.flatten(),
    lambda b: b.permute(1, 0),
    lambda b: b.transpose(0, 1),
    lambda b: b.t(),
    lambda b: b.T,
    lambda b: b.unsqueeze(0),
    lambda b: b.unsqueeze(-1),
    lambda b: b.unsqueeze(0).squeeze(0),
    lambda b: b.unsqueeze(1).squeeze(),
    lambda b: b[1],
    lambda b: b[1, 2],
    lambda b: b[-1, 0],
    lambda b: b.view(6)[4],
    lambda b: b[:, 1:],
    lambda b: b[:, ::2],
    lambda b: b[None],
    lambda b: b[..., 0],
    lambda b: b.narrow(1, 1, 2),
    lambda b: b.detach(),
])
def test_views_share_memory(make_view):
    b = base6()
    v = make_view(b)
    assert isinstance(v, ng.Tensor)
    before = arr(b)
    v.mul_(0).add_(-1)
    after = arr(b)
    assert (after == -1).sum() == v.numel()
    assert np.all(after[after != -1] == before[after != -1])
    assert np.all(arr(v) == -1)


def test_view_values_match_numpy():
    a = np.arange(6.0).reshape(2, 3)
    b = base6()
    check(b.view(3, 2), a.reshape(3, 2))
    check(b.permute(1, 0), a.T)
    check(b.T, a.T)
    check(b.transpose(-1, -2), a.T)
    check(b.unsqueeze(1), a[:, None])
    check(b.view(1, 2, 1, 3).squeeze(), a)
    check(b.view(1, 2, 1, 3).squeeze(2), a[:, None].reshape(1, 2, 3))
    check(b.view(-1, 2), a.reshape(-1, 2))
    x = ng.arange(24).reshape(2, 3, 4)
    check(x.permute(2, 0, 1), np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1))
    check(x.T, np.arange(24).reshape(2, 3, 4).T)


def test_view_write_to_base_shows_in_view():
    b = base6()
    v = b.t()
    b[0, 2:] = 50.0
    assert v[2, 0].item() == 50.0
    e = ng.tensor([[1.0], [2.0]])
    ex = e.expand(2, 3)
    e[1] = 9.0
    np.testing.assert_array_equal(arr(ex), [[1, 1, 1], [9, 9, 9]])


def test_expand():
    e = ng.tensor([[1.0], [2.0]])
    ex = e.expand(2, 3)
    check(ex, [[1, 1, 1], [2, 2, 2]])
    assert ex.stride() == (1, 0)
    check(e.expand(4, 2, -1), np.broadcast_to([[1.0], [2.0]], (4, 2, 1)))
    check(ng.tensor([1, 2]).expand_as(ng.zeros(3, 2)), [[1, 2]] * 3)


def test_reshape_of_non_contiguous_copies():
    b = base6()
    t = b.t()
    assert not t.is_contiguous()
    r = t.reshape(6)
    check(r, np.arange(6.0).reshape(2, 3).T.reshape(6))
    r[:1] = 100.0
    assert r[0].item() == 100.0
    assert arr(b)[0, 0] == 0.0


def test_reshape_of_contiguous_is_a_view():
    b = base6()
    r = b.reshape(3, 2)
    r[2, 1:] = -3.0
    assert arr(b)[1, 2] == -3.0


def test_contiguous():
    b = base6()
    assert b.is_contiguous()
    assert b.contiguous() is b
    t = b.t()
    c = t.contiguous()
    assert c.is_contiguous() and not t.is_contiguous()
    check(c, np.arange(6.0).reshape(2, 3).T)
    assert c.stride() == (2, 1)
    c[0] = 42.0
    assert arr(c)[0, 1] == 42.0
    assert arr(b)[0, 0] == 0.0


def test_stride():
    x = ng.zeros(2, 3, 4)
    assert x.stride() == (12, 4, 1)
    assert x.stride(0) == 12 and x.stride(-1) == 1
    assert x.permute(2, 0, 1).stride() == (1, 12, 4)
    assert x.transpose(0, 1).stride() == (4, 12, 1)
    assert x[:, :, ::2].stride() == (12, 4, 2)
    assert ng.zeros(3, 1).expand(3, 4).stride() == (1, 0)
    assert x[0].stride() == (4, 1)


def test_clone_does_not_share():
    b = base6()
    c = b.clone()
    c[0, :1] = 5.0
    assert arr(b)[0, 0] == 0.0
    check(c, [[5, 1, 2], [3, 4, 5]])


# ---------------------------------------------------------------- in-place ops


def test_inplace_arithmetic():
    x = ng.tensor([1.0, 2.0, 3.0])
    ref = np.array([1.0, 2.0, 3.0], np.float32)
    out = x.add_(ng.tensor([1.0, 1.0, 1.0]))
    assert out is x
    ref += 1
    check(x, ref)
    x.add_(2.0, alpha=3)
    ref += 6
    check(x, ref)
    x.add_(ng.tensor([1.0, 2.0, 3.0]), alpha=-1)
    ref -= [1, 2, 3]
    check(x, ref)
    x.sub_(1.0)
    ref -= 1
    check(x, ref)
    x.sub_(ng.tensor([1.0, 0.0, 1.0]), alpha=2)
    ref -= [2, 0, 2]
    check(x, ref)
    x.mul_(ng.tensor([2.0]))
    ref *= 2
    check(x, ref)
    x.div_(4)
    ref /= 4
    check(x, ref)
    assert x.dtype is ng.float32


def test_inplace_broadcast_other():
    x = ng.zeros(2, 3)
    x.add_(ng.tensor([1.0, 2.0, 3.0]))
    x.mul_(ng.tensor([[1.0], [2.0]]))
    check(x, [[1, 2, 3], [2, 4, 6]])


def test_inplace_keeps_dtype():
    x = ng.tensor([1, 2, 3])
    x.mul_(2)
    x.add_(ng.tensor([True, False, True]))
    check(x, [3, 4, 7], ng.int64)
    f = ng.tensor([1.0, 2.0])
    f.add_(ng.tensor([1, 2]))
    f.mul_(ng.tensor([2.0], dtype=ng.float64))
    check(f, [4.0, 8.0], ng.float32)


def test_zero_and_fill():
    x = ng.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.zero_() is x
    check(x, np.zeros((2, 2)))
    assert x.fill_(2.5) is x
    check(x, np.full((2, 2), 2.5))
    i = ng.zeros(3, dtype=ng.int64)
    i.fill_(7)
    check(i, [7, 7, 7], ng.int64)
    x.fill_(ng.tensor(1.0))
    check(x, np.ones((2, 2)))


def test_copy_with_broadcasting():
    x = ng.zeros(2, 3)
    assert x.copy_(ng.tensor([1.0, 2.0, 3.0])) is x
    check(x, [[1, 2, 3], [1, 2, 3]])
    x.copy_(ng.tensor([[5.0], [6.0]]))
    check(x, [[5, 5, 5], [6, 6, 6]])
    x.copy_(ng.tensor([[1, 2, 3], [4, 5, 6]]))  # copy_ casts to self's dtype
    check(x, [[1, 2, 3], [4, 5, 6]], ng.float32)
    y = ng.zeros(3, dtype=ng.int64)
    y.copy_(ng.tensor([1.7, -2.2, 3.0]))
    check(y, [1, -2, 3], ng.int64)


def test_augmented_assignment_is_in_place():
    x = ng.tensor([2.0, 4.0])
    alias = x
    x += 1
    x -= ng.tensor([1.0, 2.0])
    x *= 3
    x /= 2
    assert x is alias
    check(alias, ((np.array([2.0, 4.0]) + 1 - [1, 2]) * 3) / 2)


def test_augmented_assignment_on_view_updates_base():
    b = base6()
    v = b[0]
    v += 10
    check(b, [[10, 11, 12], [3, 4, 5]])
    r = b[:, 1]
    r *= -1
    check(b, [[10, -11, 12], [3, -4, 5]])


def test_inplace_on_view_updates_base():
    b = base6()
    b.t().mul_(2)
    check(b, np.arange(6.0).reshape(2, 3) * 2)
    b[1].zero_()
    check(b, [[0, 2, 4], [0, 0, 0]])
    b[:, 0].fill_(9.0)
    check(b, [[9, 2, 4], [9, 0, 0]])
    b.view(6)[::2].copy_(ng.tensor([1.0, 2.0, 3.0]))
    check(b, [[1, 2, 2], [9, 3, 0]])
    b.unsqueeze(0)[0, 0].sub_(1)
    check(b, [[0, 1, 1], [9, 3, 0]])


def test_inplace_under_no_grad_on_leaf():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    with ng.no_grad():
        w.add_(1)
        w.mul_(2)
        w[:1] = 0.0
    check(w, [0.0, 6.0])
    assert w.requires_grad and w.is_leaf


def test_inplace_bumps_version_and_breaks_saved_value():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2
    z = y.exp()
    y.add_(1)  # exp saved its output z, not its input y
    a = w * 1
    b = a.sin()
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    z.sum().backward()
    np.testing.assert_allclose(arr(w.grad), 2 * np.exp([2.0, 4.0]), rtol=1e-5)


# ---------------------------------------------------------------- setitem


def np6():
    return np.arange(6.0, dtype=np.float32).reshape(2, 3)


@pytest.mark.parametrize("idx, value", [
    (0, 5.0),
    ((1, 2), -1.0),
    ((-1, -1), 8.0),
    (slice(None), 0.0),
    ((slice(None), 1), 7.0),
    ((slice(None), slice(0, 3, 2)), 4.0),
    ((Ellipsis, 0), 3.0),
    (1, [10.0, 11.0, 12.0]),
    ((slice(None), 2), [[20.0], [21.0]][0]),
    (slice(None), [1.0, 2.0, 3.0]),
    (slice(None), [[1.0], [2.0]]),
])
def test_setitem_basic(idx, value):
    t = ng.tensor(np6())
    a = np6()
    v = ng.tensor(value) if isinstance(value, list) else value
    t[idx] = v
    a[idx] = value
    check(t, a)


def test_setitem_single_element():
    t = ng.zeros(3)
    t[1] = 4.0
    t[-1] = ng.full((), 2.5)
    check(t, [0.0, 4.0, 2.5])
    i = ng.zeros(2, 2, dtype=ng.int64)
    i[0, 1] = 7
    i[1, -2] = 3.9
    check(i, [[0, 7], [3, 0]], ng.int64)


def test_setitem_with_mask():
    a = np6()
    t = ng.tensor(a)
    m = t > 2
    t[m] = -1.0
    a[a > 2] = -1.0
    check(t, a)
    t[ng.tensor([True, False])] = ng.tensor([9.0, 8.0, 7.0])
    a[np.array([True, False])] = [9.0, 8.0, 7.0]
    check(t, a)
    t[t < 0] = ng.tensor([100.0, 200.0, 300.0])
    a[a < 0] = [100.0, 200.0, 300.0]
    check(t, a)


def test_setitem_with_integer_tensors():
    a = np.arange(5.0, dtype=np.float32)
    t = ng.tensor(a)
    t[ng.tensor([0, 3])] = ng.tensor([10.0, 30.0])
    a[[0, 3]] = [10.0, 30.0]
    check(t, a)
    t[[1, -1]] = 0.5
    a[[1, -1]] = 0.5
    check(t, a)
    b = np6()
    u = ng.tensor(b)
    u[ng.tensor([1, 0]), ng.tensor([2, 0])] = ng.tensor([-5.0, -6.0])
    b[[1, 0], [2, 0]] = [-5.0, -6.0]
    check(u, b)
    u[:, ng.tensor([0, 2])] = ng.tensor([[1.0], [2.0]])
    b[:, [0, 2]] = [[1.0], [2.0]]
    check(u, b)


def test_setitem_through_view_updates_base():
    b = base6()
    v = b.t()
    v[0] = ng.tensor([7.0, 8.0])
    check(b, [[7, 1, 2], [8, 4, 5]])
    v[v > 4] = 0.0
    check(b, [[0, 1, 2], [0, 4, 0]])


def test_setitem_casts_value_to_tensor_dtype():
    t = ng.zeros(3, dtype=ng.int64)
    t[:1] = 2.7
    t[1:2] = True
    t[2:] = ng.tensor([-3.9])
    check(t, [2, 1, -3], ng.int64)
    f = ng.zeros(2)
    f[:] = ng.tensor([1, 2])
    check(f, [1.0, 2.0], ng.float32)


# ---------------------------------------------------------------- indexing


def np24():
    return np.arange(24).reshape(2, 3, 4)


@pytest.mark.parametrize("idx", [
    0, -1, 1, (1, 2), (-1, -2, -3), (0, 1, 3),
    slice(None), slice(1, None), slice(None, None, 2),
    (slice(None), slice(0, 3, 2)), (slice(None), slice(None), slice(1, None, 2)),
    (slice(None), slice(-2, None)), (slice(None), slice(5, 10)),
    (slice(None), 1, slice(None, None, 3)),
    None, (None, 0), (0, None, slice(None)), (slice(None), None, 1),
    Ellipsis, (Ellipsis, 1), (0, Ellipsis), (Ellipsis, None), (1, Ellipsis, slice(0, 2)),
    [0, 1, 0], [-1], ([0, 1], [2, 0]), ([1, 0], slice(None), [3, 1]),
    (slice(None), [0, 2]), (0, [2, 1, 1]), (Ellipsis, [0, 3]),
    ([[0, 1], [1, 0]],),
])
def test_getitem_matches_numpy(idx):
    a = np24()
    t = ng.tensor(a)
    check(t[idx], a[idx], ng.int64)


@pytest.mark.parametrize("idx", [
    lambda m: m([1, 0]),
    lambda m: (slice(None), m([2])),
    lambda m: m([[0, 1], [1, 1]]),
    lambda m: (m([0, 1]), m([1, 2])),
    lambda m: (m([0, 1]), slice(1, 3), m([3, 0])),
    lambda m: (Ellipsis, m([-1, 0])),
])
def test_getitem_with_integer_tensors(idx):
    a = np24()
    t = ng.tensor(a)
    check(t[idx(ng.tensor)], a[idx(np.array)], ng.int64)
    check(t[idx(lambda v: ng.tensor(v, dtype=ng.int32))], a[idx(np.array)], ng.int64)


def test_getitem_with_zero_dim_integer_tensor():
    a = np24()
    t = ng.tensor(a)
    check(t[ng.full((), 1)], a[1])
    check(t[:, ng.full((), 2)], a[:, 2])


def test_getitem_with_boolean_masks():
    a = np24()
    t = ng.tensor(a)
    check(t[t > 10], a[a > 10])
    m0 = np.array([False, True])
    check(t[ng.tensor(m0)], a[m0])
    m2 = a[..., 0] % 4 == 0
    check(t[ng.tensor(m2)], a[m2])
    check(t[:, ng.tensor([True, False, True])], a[:, [True, False, True]])
    check(t[:, :, ng.tensor([True, False, False, True])], a[:, :, [True, False, False, True]])
    check(t[t > 100], a[a > 100])
    assert t[t > 100].shape == (0,)


def test_getitem_mixed_basic_and_advanced():
    a = np24()
    t = ng.tensor(a)
    check(t[None, 1, [0, 2]], a[None, 1, [0, 2]])
    check(t[1:, [2, 0], ::2], a[1:, [2, 0], ::2])
    check(t[..., None, [1]], a[..., None, [1]])
    check(t[-1, -1, -1], a[-1, -1, -1])
    assert t[-1, -1, -1].item() == 23


def test_integer_then_advanced_index_follows_torch():
    """An int index is applied first, as a view (numpy would move the advanced dims first)."""
    a = np24()
    t = ng.tensor(a)
    check(t[1, :, [0, 3]], a[1][:, [0, 3]])
    check(t[0, :, ng.tensor([True, False, False, True])], a[0][:, [True, False, False, True]])
    check(t[:, 2, [1, 0]], a[:, 2][:, [1, 0]])


def test_advanced_indexing_returns_a_copy():
    t = ng.tensor(np24())
    c = t[[0]]
    c.zero_()
    assert arr(c).sum() == 0
    assert t[0, 0, 1].item() == 1
    m = t[t > 5]
    m.zero_()
    assert arr(m).sum() == 0
    assert t[1, 0, 0].item() == 12


def test_getitem_on_zero_dim():
    t = ng.full((), 3.0)
    assert t[None].shape == (1,)
    assert t[...].shape == ()
    assert t[...].item() == 3.0


# ---------------------------------------------------------------- split, chunk, join


@pytest.mark.parametrize("n, chunks, sizes", [
    (6, 5, [2, 2, 2]), (6, 3, [2, 2, 2]), (6, 4, [2, 2, 2]), (10, 4, [3, 3, 3, 1]),
    (5, 1, [5]), (3, 5, [1, 1, 1]), (7, 2, [4, 3]),
])
def test_chunk_sizes(n, chunks, sizes):
    a = np.arange(2.0 * n).reshape(2, n)
    parts = ng.tensor(a).chunk(chunks, 1)
    assert [p.shape[1] for p in parts] == sizes
    off = 0
    for p, s in zip(parts, sizes):
        check(p, a[:, off:off + s])
        off += s
    parts0 = ng.chunk(ng.tensor(a.T), chunks)
    assert [p.shape[0] for p in parts0] == sizes


def test_split():
    a = np.arange(10.0).reshape(5, 2)
    t = ng.tensor(a)
    parts = t.split(2)
    assert [p.shape for p in parts] == [(2, 2), (2, 2), (1, 2)]
    for p, r in zip(parts, (a[:2], a[2:4], a[4:])):
        check(p, r)
    parts = t.split([1, 4])
    assert [p.shape for p in parts] == [(1, 2), (4, 2)]
    check(parts[1], a[1:])
    parts = ng.split(t, 1, dim=1)
    assert len(parts) == 2
    check(parts[1], a[:, 1:])
    parts = t.split(5)
    assert len(parts) == 1
    check(parts[0], a)


def test_split_pieces_are_views():
    t = ng.arange(6.0)
    a, b = t.split(3)
    b.fill_(0.0)
    check(t, [0, 1, 2, 0, 0, 0])


def test_unbind():
    a = np.arange(6).reshape(2, 3)
    t = ng.tensor(a)
    rows = t.unbind()
    assert isinstance(rows, tuple) and len(rows) == 2
    check(rows[1], a[1])
    cols = ng.unbind(t, 1)
    assert len(cols) == 3
    for j, c in enumerate(cols):
        check(c, a[:, j])
    cols = t.unbind(-1)
    check(cols[2], a[:, 2])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    a = np.arange(6.0).reshape(2, 3)
    b = -np.arange(6.0).reshape(2, 3)
    out = ng.cat([ng.tensor(a), ng.tensor(b), ng.tensor(a)], dim)
    check(out, np.concatenate([a, b, a], dim), ng.float64)
    out = ng.cat([ng.tensor(a, dtype=ng.float32), ng.tensor(b, dtype=ng.float32)], dim)
    check(out, np.concatenate([a, b], dim), ng.float32)


def test_cat_uneven_and_promotes():
    a = np.arange(6.0).reshape(2, 3)
    out = ng.cat([ng.tensor(a), ng.tensor([[1.0, 2.0, 3.0]])])
    check(out, np.concatenate([a, [[1, 2, 3]]]))
    out = ng.cat((ng.tensor([1, 2]), ng.tensor([0.5])))
    check(out, [1.0, 2.0, 0.5], ng.float32)
    out = ng.cat([ng.tensor([1, 2], dtype=ng.int32), ng.tensor([3])])
    check(out, [1, 2, 3], ng.int64)


def test_cat_result_does_not_share():
    x = ng.zeros(2)
    out = ng.cat([x, x])
    out.fill_(1.0)
    check(out, [1.0] * 4)
    check(x, [0.0, 0.0])


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dim):
    a = np.arange(6.0).reshape(2, 3)
    b = a + 10
    out = ng.stack([ng.tensor(a), ng.tensor(b)], dim)
    check(out, np.stack([a, b], dim))


def test_stack_of_scalars_and_vectors():
    check(ng.stack([ng.full((), 1.0), ng.full((), 2.0)]), [1.0, 2.0])
    check(ng.stack((ng.tensor([1, 2]), ng.tensor([3, 4])), 1), [[1, 3], [2, 4]], ng.int64)


def test_matmul_values():
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    check(ng.tensor(a) @ ng.tensor(b), a @ b)
    check(ng.tensor(a) @ ng.tensor([1.0, 2.0, 3.0], dtype=ng.float64), a @ [1.0, 2.0, 3.0])
    check(ng.tensor([1, 2]) @ ng.tensor([[1, 2], [3, 4]]), [7, 10], ng.int64)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("make", [
    lambda: ng.tensor([1, 2], requires_grad=True),
    lambda: ng.tensor([True], requires_grad=True),
    lambda: ng.zeros(2, dtype=ng.int64, requires_grad=True),
    lambda: ng.ones(2, dtype=ng.int32, requires_grad=True),
    lambda: ng.arange(3, requires_grad=True),
    lambda: ng.tensor([1, 2]).requires_grad_(),
])
def test_requires_grad_on_integer_tensor_raises(make):
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        make()


def test_requires_grad_setter_on_integer_tensor_raises():
    t = ng.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        t.requires_grad = True
    assert not t.requires_grad


def test_numpy_on_tensor_requiring_grad_raises():
    w = ng.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        w.numpy()
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        (w * 2).numpy()
    np.testing.assert_array_equal(w.detach().numpy(), [1.0])


def test_item_of_multi_element_raises():
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to "
                                           "Scalar"):
        ng.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        ng.zeros(0).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ng.tensor([1, 2]))
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        float(ng.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        int(ng.tensor([1, 2]))


def test_len_and_iter_of_zero_dim_raise():
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ng.zeros(()))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ng.zeros(()))


@pytest.mark.parametrize("op", [
    lambda w: w.add_(1),
    lambda w: w.sub_(1),
    lambda w: w.mul_(2),
    lambda w: w.div_(2),
    lambda w: w.zero_(),
    lambda w: w.fill_(3.0),
    lambda w: w.copy_(ng.ones(2)),
    lambda w: w.__iadd__(1),
    lambda w: w.__setitem__(0, 1.0),
    lambda w: w.__setitem__(ng.tensor([True, False]), 1.0),
])
def test_inplace_on_leaf_requiring_grad_raises(op):
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        op(w)
    np.testing.assert_array_equal(arr(w), [1.0, 2.0])


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w[0].add_(1)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w.view(2, 1).mul_(2)
    np.testing.assert_array_equal(arr(w), [1.0, 2.0])


def test_inplace_broadcast_shape_mismatch_raises():
    x = ng.zeros(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast "
                                           r"shape \[2, 3\]"):
        x.add_(ng.ones(2, 3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ng.zeros(2, 1).mul_(ng.ones(2, 3))
    check(x, [0, 0, 0])


@pytest.mark.parametrize("op, match", [
    (lambda t: t.add_(1.5), "result type Float can't be cast to the desired output type Long"),
    (lambda t: t.mul_(ng.tensor([0.5])), "can't be cast"),
    (lambda t: t.sub_(ng.tensor([1.0, 2.0, 3.0])), "can't be cast"),
    (lambda t: t.div_(2), "can't be cast"),
    (lambda t: t.__iadd__(0.5), "can't be cast"),
])
def test_inplace_int_with_float_raises(op, match):
    t = ng.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match=match):
        op(t)
    check(t, [1, 2, 3], ng.int64)


def test_inplace_bool_with_int_raises():
    with pytest.raises(RuntimeError, match="can't be cast"):
        ng.tensor([True, False]).add_(2)


def test_view_of_incompatible_layout_raises():
    t = ng.arange(6).reshape(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view(6)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view(-1)
    check(t.reshape(6), [0, 3, 1, 4, 2, 5])


def test_view_wrong_numel_raises():
    with pytest.raises(RuntimeError, match=r"shape '\[4\]' is invalid for input of size 6"):
        ng.zeros(6).view(4)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        ng.zeros(6).reshape(4, -1)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        ng.zeros(6).view(-1, -1)


@pytest.mark.parametrize("idx", [
    3, -4, (0, 3), (slice(None), 5), [0, 3], ([0], [9]), (0, 0, 0),
])
def test_out_of_range_index_raises(idx):
    t = ng.zeros(3, 3)
    with pytest.raises(IndexError):
        t[idx]


def test_out_of_range_index_message():
    t = ng.zeros(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 4"):
        t[0, 5]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        ng.tensor(1.0)[0]
    with pytest.raises(IndexError):
        t[ng.tensor([0, 7])]
    with pytest.raises(IndexError):
        t[3] = 1.0


def test_size_dim_out_of_range_raises():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.zeros(2, 3).size(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.zeros(2, 3).unsqueeze(3)


def test_index_with_float_tensor_raises():
    t = ng.zeros(3)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or "
                                         "bool"):
        t[ng.tensor([0.0, 1.0])]


@pytest.mark.parametrize("idx", [
    slice(None, None, -1), slice(3, 0, -1), (slice(None), slice(None, None, -2)),
])
def test_negative_or_zero_slice_step_raises(idx):
    t = ng.zeros(4, 4)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[idx]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[idx] = 1.0


def test_zero_slice_step_raises():
    with pytest.raises(ValueError, match="step"):
        ng.zeros(4)[::0]


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"),
    (lambda a, b: a * b, "mul"),
    (lambda a, b: a - b, "sub"),
    (lambda a, b: a / b, "div"),
    (lambda a, b: a == b, "eq"),
    (lambda a, b: ng.maximum(a, b), "maximum"),
])
def test_non_broadcastable_shapes_raise(op, name):
    a, b = ng.ones(2, 3), ng.ones(4)
    with pytest.raises(RuntimeError, match="must match the size of tensor b") as e:
        op(a, b)
    msg = str(e.value)
    assert name in msg
    assert "[2, 3]" in msg and "[4]" in msg


@pytest.mark.parametrize("sa, sb, shapes", [
    ((2, 3), (4, 5), "2x3 and 4x5"),
    ((2, 3), (2, 3), "2x3 and 2x3"),
    ((5, 2, 3), (4, 2), "10x3 and 4x2|5x2x3 and 4x2"),
])
def test_matmul_shape_mismatch_raises(sa, sb, shapes):
    with pytest.raises(RuntimeError, match=f"cannot be multiplied \\(({shapes})\\)"):
        ng.ones(*sa) @ ng.ones(*sb)


def test_mm_and_vector_matmul_mismatch_raise():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x5\)"):
        ng.mm(ng.ones(2, 3), ng.ones(4, 5))
    with pytest.raises(RuntimeError, match="3 and 4"):
        ng.ones(3) @ ng.ones(4)


def test_cat_mismatch_raises():
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        ng.cat([ng.ones(2, 3), ng.ones(2, 4)])
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        ng.cat([ng.ones(2, 3), ng.ones(3, 3)], dim=1)
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions"):
        ng.cat([ng.ones(2, 3), ng.ones(3)])
    with pytest.raises(RuntimeError, match="zero-dimensional tensor"):
        ng.cat([ng.zeros(()), ng.zeros(())])
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.cat([ng.ones(2), ng.ones(2)], dim=1)


def test_stack_and_split_mismatch_raise():
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        ng.stack([ng.ones(2), ng.ones(3)])
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly"):
        ng.ones(5).split([2, 2])


@pytest.mark.parametrize("make", [
    lambda: ng.zeros(2, device="cuda"),
    lambda: ng.tensor([1.0], device="cuda"),
    lambda: ng.ones(2, device=ng.device("cuda")),
    lambda: ng.randn(2, device="cuda:0"),
    lambda: ng.zeros(2).to("cuda"),
    lambda: ng.zeros(2).cuda(),
])
def test_cuda_without_backend_raises(make):
    with pytest.raises(RuntimeError, match="cuda") as e:
        make()
    assert "not available" in str(e.value) or "no kernels" in str(e.value) \
        or "CUDA" in str(e.value)


def test_unknown_device_raises():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type"):
        ng.zeros(2, device="tpu")


def test_ragged_data_raises():
    with pytest.raises((ValueError, TypeError)):
        ng.tensor([[1, 2], [3]])


def test_expand_incompatible_raises():
    with pytest.raises(RuntimeError, match="must match the existing size"):
        ng.zeros(2, 3).expand(4, 3)


def test_inplace_on_expanded_tensor_raises():
    e = ng.zeros(2, 1).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(1)


def test_setitem_shape_mismatch_raises():
    t = ng.zeros(2, 3)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        t[0] = ng.ones(4)
    check(t, np.zeros((2, 3)))
