"""Tensors on ``"cuda"``: creation, moves between devices, errors, the memory pool,
checkpoints across devices, interop, and a small MLP that trains the same on both devices.
Tiny shapes: under the simulator every thread is a Python thread."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import numbagrad as ng
from numbagrad import nn

CUDA = "cuda"


def host(t):
    return t.detach().cpu().numpy()


def test_is_available_and_device_count():
    assert ng.cuda.is_available()
    assert ng.cuda.device_count() >= 1
    assert isinstance(ng.cuda.get_device_name(), str)
    ng.cuda.synchronize()


@pytest.mark.parametrize("make", [
    lambda d: ng.tensor([[1.0, 2.0], [3.0, 4.0]], device=d),
    lambda d: ng.zeros(2, 3, device=d),
    lambda d: ng.ones(3, dtype=ng.float64, device=d),
    lambda d: ng.full((2, 2), 7, device=d),
    lambda d: ng.arange(5, device=d),
    lambda d: ng.arange(0.0, 1.0, 0.25, device=d),
    lambda d: ng.linspace(0, 1, 5, device=d),
    lambda d: ng.eye(3, 2, device=d),
    lambda d: ng.zeros_like(ng.ones(2, 2), device=d),
    lambda d: ng.ones(2, device=d).new_full((3,), 2.5),
], ids=["tensor", "zeros", "ones64", "full", "arange", "arange_f", "linspace", "eye",
        "zeros_like", "new_full"])
def test_creation_matches_cpu(make):
    g, c = make(CUDA), make("cpu")
    assert g.device == ng.device("cuda:0") and g.is_cuda and c.device.type == "cpu"
    assert g.dtype is c.dtype and g.shape == c.shape
    np.testing.assert_array_equal(host(g), host(c))


def test_random_creation_on_device():
    ng.manual_seed(0)
    r = ng.rand(64, device=CUDA)
    n = ng.randn(64, device=CUDA, dtype=ng.float64)
    i = ng.randint(0, 5, (64,), device=CUDA)
    p = ng.randperm(10, device=CUDA)
    assert r.device.type == n.device.type == i.device.type == p.device.type == "cuda"
    assert 0 <= host(r).min() and host(r).max() < 1 and host(r).std() > 0.1
    assert abs(host(n).mean()) < 0.6 and 0.5 < host(n).std() < 1.5
    assert set(host(i).tolist()) <= set(range(5))
    assert sorted(host(p).tolist()) == list(range(10))
    ng.manual_seed(3)
    a = host(ng.rand(8, device=CUDA))
    ng.manual_seed(3)
    np.testing.assert_array_equal(a, host(ng.rand(8, device=CUDA)))


def test_moves_and_gradient_across_devices():
    x = ng.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.cuda()
    assert y.is_cuda and y.grad_fn is not None
    z = (y * y).sum().cpu()
    z.backward()
    np.testing.assert_allclose(host(x.grad), [2.0, -4.0, 6.0])
    assert x.to(CUDA).to("cpu").device.type == "cpu"
    w = ng.ones(2).to(y)  # to(other tensor): its device and dtype
    assert w.is_cuda
    assert y.to(CUDA) is y


def test_mixing_devices_is_an_error():
    a, b = ng.ones(2), ng.ones(2, device=CUDA)
    with pytest.raises(RuntimeError, match="same device"):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        ng.matmul(ng.ones(2, 2), ng.ones(2, 2, device=CUDA))


def test_numpy_of_a_cuda_tensor_says_use_cpu():
    with pytest.raises(TypeError, match=r"cpu\(\)"):
        ng.ones(2, device=CUDA).numpy()
    t = ng.tensor([1.5, 2.5], device=CUDA)
    assert t.tolist() == [1.5, 2.5] and t[1].item() == 2.5
    assert "device='cuda:0'" in repr(t)


def test_host_array_never_reaches_a_launch():
    from numbagrad.kernels import cuda as G

    with pytest.raises(TypeError, match="host numpy array reached a CUDA launch"):
        G.exp_forward(np.ones(3, np.float32))
    from numbagrad.kernels.cuda._jit import CudaKernel

    k = CudaKernel.registry["numbagrad.kernels.cuda.elementwise._fill"]
    with pytest.raises(TypeError, match="host numpy array reached a CUDA launch"):
        k.launch(1, 1, np.zeros(3), 1.0)


def test_views_share_device_memory():
    x = ng.arange(12.0, device=CUDA).reshape(3, 4)
    v = x.t()[1:, ::2]
    assert not v.is_contiguous()
    np.testing.assert_array_equal(host(v), np.arange(12.0).reshape(3, 4).T[1:, ::2])
    x[0].fill_(-1.0)
    assert host(v)[0, 0] == -1.0
    np.testing.assert_array_equal(host(v.contiguous().view(-1)), host(v).reshape(-1))


def _mlp(seed):
    ng.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def test_module_to_cuda_and_training_matches_cpu():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 6)).astype(np.float32)
    y = rng.integers(0, 3, 10)
    cpu_m, gpu_m = _mlp(1), _mlp(1).to(CUDA)
    assert all(p.is_cuda for p in gpu_m.parameters())
    opts = [ng.optim.Adam(cpu_m.parameters(), lr=0.05),
            ng.optim.Adam(gpu_m.parameters(), lr=0.05)]
    losses = {"cpu": [], CUDA: []}
    for _ in range(4):
        for m, opt, d in ((cpu_m, opts[0], "cpu"), (gpu_m, opts[1], CUDA)):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(ng.tensor(X, device=d)),
                                               ng.tensor(y, device=d))
            loss.backward()
            opt.step()
            losses[d].append(loss.item())
    np.testing.assert_allclose(losses[CUDA], losses["cpu"], rtol=1e-4, atol=1e-5)
    assert losses["cpu"][-1] < losses["cpu"][0]
    for pc, pg in zip(cpu_m.parameters(), gpu_m.parameters()):
        np.testing.assert_allclose(host(pg), host(pc), rtol=1e-4, atol=1e-5)


def test_training_step_allocates_no_device_memory_after_warm_up():
    m = _mlp(2).to(CUDA)
    opt = ng.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    X = ng.randn(4, 6, device=CUDA)
    y = ng.tensor([0, 1, 2, 1], device=CUDA)

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(m(X), y).backward()
        opt.step()

    for _ in range(2):
        step()
    gc.collect()
    before = ng.cuda.memory_stats()["num_device_alloc"]
    for _ in range(3):
        step()
    assert ng.cuda.memory_stats()["num_device_alloc"] == before
    assert ng.cuda.memory_allocated() > 0
    assert ng.cuda.memory_reserved() >= ng.cuda.memory_allocated()


def test_empty_cache_returns_free_blocks():
    x = ng.empty(1000, device=CUDA)
    del x
    gc.collect()
    assert ng.cuda.memory_stats()["cached_blocks"] > 0
    ng.cuda.empty_cache()
    assert ng.cuda.memory_stats()["cached_blocks"] == 0
    assert ng.cuda.memory_reserved() == ng.cuda.memory_allocated()


def test_checkpoint_moves_between_devices(tmp_path):
    m = _mlp(3).to(CUDA)
    path = tmp_path / "m.ckpt"
    ng.save(m.state_dict(), path)
    sd = ng.load(path)
    assert all(t.is_cuda for t in sd.values())
    on_cpu = ng.load(path, map_location="cpu")
    assert all(t.device.type == "cpu" for t in on_cpu.values())
    m2 = _mlp(4)
    m2.load_state_dict(on_cpu)
    for a, b in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(host(a), host(b))
    ng.save(m2.state_dict(), tmp_path / "c.ckpt")
    back = ng.load(tmp_path / "c.ckpt", map_location=CUDA)
    assert all(t.is_cuda for t in back.values())
    m3 = _mlp(5).to(CUDA)
    m3.load_state_dict(ng.load(tmp_path / "c.ckpt"))  # cpu tensors into cuda parameters
    assert all(p.is_cuda for p in m3.parameters())
    for a, b in zip(m.parameters(), m3.parameters()):
        np.testing.assert_array_equal(host(a), host(b))


def test_dlpack_round_trip_shares_memory():
    x = ng.arange(6.0, device=CUDA).reshape(2, 3)
    assert x.__dlpack_device__() == (2, 0)
    y = ng.from_dlpack(x.__dlpack__())
    y.add_(10)
    np.testing.assert_array_equal(host(x), np.arange(6.0).reshape(2, 3) + 10)
    z = ng.from_dlpack(x.t())  # a strided view, through __cuda_array_interface__
    np.testing.assert_array_equal(host(z), host(x).T)
    with pytest.raises(RuntimeError, match="require gradient"):
        ng.ones(2, device=CUDA, requires_grad=True).__dlpack__()


def test_cuda_array_interface():
    x = ng.arange(6, device=CUDA, dtype=ng.float32).reshape(2, 3)
    cai = x.__cuda_array_interface__
    assert cai["shape"] == (2, 3) and cai["typestr"] == "<f4" and cai["version"] == 3
    assert x.t().__cuda_array_interface__["strides"] == (4, 12)
    with pytest.raises(AttributeError):
        ng.ones(2).__cuda_array_interface__  # noqa: B018
