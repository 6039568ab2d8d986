"""Quantized models and fake quantization on ``"cuda"`` against the CPU (tiny shapes: the
simulator runs every GPU thread in Python)."""
from __future__ import annotations

import copy

import numpy as np

import numbagrad as ng
import numbagrad.quantization as Q
from numbagrad import nn

rng = np.random.default_rng(0)


def host(t):
    return t.detach().cpu().numpy()


def test_dynamic_quantized_linear_on_cuda_matches_cpu():
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    q_cpu = Q.quantize_dynamic(model)
    q_gpu = copy.deepcopy(q_cpu).to("cuda")
    x = rng.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(host(q_gpu(ng.tensor(x, device="cuda"))),
                               host(q_cpu(ng.tensor(x))), rtol=1e-5, atol=1e-6)
    assert q_gpu[0].weight.device.type == "cuda" and q_gpu[0].weight.dtype is ng.int8


def test_static_quantized_conv_on_cuda_matches_cpu():
    conv = nn.Sequential(nn.Conv2d(2, 3, 2, padding=1))
    x = ng.tensor(rng.uniform(0, 1, (1, 2, 3, 3)).astype(np.float32))
    prepared = Q.prepare(conv)
    prepared(x)
    q_cpu = Q.convert(prepared)
    q_gpu = copy.deepcopy(q_cpu).to("cuda")
    np.testing.assert_allclose(host(q_gpu(x.to("cuda"))), host(q_cpu(x)), rtol=1e-5,
                               atol=1e-6)


def test_fake_quantize_and_its_gradient_on_cuda_match_cpu():
    x = (rng.standard_normal((3, 4)) * 2).astype(np.float32)
    scale = np.array([0.05, 0.1, 0.2], np.float32)
    zero = np.array([1, 0, -2], np.int32)
    out = []
    for dev in ("cpu", "cuda"):
        t = ng.tensor(x, device=dev, requires_grad=True)
        y = Q.fake_quantize_per_channel_affine(t, scale, zero, 0)
        (y * y).sum().backward()
        out.append((host(y), host(t.grad)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6)
